//! A WebSub callback server for `scripts/bench-websub`: many subscribers (one per
//! callback path) in one process on 127.0.0.1. Verification GETs get their challenge
//! back; every delivery is recorded as `path unix_ms newest_marker bytes`, where the
//! marker is the largest `burst-NNNN` in the body (the newest burst post it carries).
//! `GET /stats` returns the records, one per line.
//!
//!   cargo run --release --example websub_receiver -- 127.0.0.1:0

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};

type Log = Arc<Mutex<Vec<String>>>;

fn newest_marker(body: &[u8]) -> i64 {
    let needle = b"burst-";
    let mut best = -1;
    let mut i = 0;
    while i + needle.len() < body.len() {
        if &body[i..i + needle.len()] == needle {
            let digits: Vec<u8> = body[i + needle.len()..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .copied()
                .collect();
            if let Ok(n) = String::from_utf8_lossy(&digits).parse::<i64>() {
                best = best.max(n);
            }
            i += needle.len();
        } else {
            i += 1;
        }
    }
    best
}

async fn answer(req: Request<hyper::body::Incoming>, log: Log) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    if req.method() == Method::GET && path == "/stats" {
        let text = log.lock().map(|l| l.join("\n")).unwrap_or_default();
        return Response::new(Full::new(Bytes::from(text + "\n")));
    }
    if req.method() == Method::GET {
        let challenge = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "hub.challenge")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        return Response::new(Full::new(Bytes::from(challenge)));
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let line = format!("{path} {ms} {} {}", newest_marker(&body), body.len());
    if let Ok(mut l) = log.lock() {
        l.push(line);
    }
    Response::new(Full::new(Bytes::new()))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening {}", listener.local_addr()?.port());
    let log: Log = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let log = log.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let log = log.clone();
                async move { Ok::<_, Infallible>(answer(req, log).await) }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
