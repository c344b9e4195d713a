//! A WebSub subscriber's callback server for the tests: on 127.0.0.1, one thread per
//! connection, plain HTTP/1.1. It answers verification GETs by echoing `hub.challenge`
//! and records every request; what it answers can be set per callback path.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: std::time::Instant,
}

impl Received {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

/// How a callback path answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Echo the challenge; 200 to deliveries.
    Ok,
    /// 200 to verification, but with the wrong body.
    WrongChallenge,
    /// This status to everything.
    Status(u16),
    /// Echo the challenge, but answer deliveries with this status.
    Deliveries(u16),
    /// Echo the challenge; hold deliveries without an answer (for a minute).
    HangDeliveries,
    /// Hold every request without an answer (for a minute).
    Hang,
}

#[derive(Clone)]
pub struct Receiver {
    pub port: u16,
    log: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        Receiver::start_on(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    pub fn start_on(listener: TcpListener) -> Receiver {
        let port = listener.local_addr().unwrap().port();
        let r = Receiver {
            port,
            log: Arc::default(),
            answers: Arc::default(),
        };
        let shared = r.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || shared.serve(stream));
            }
        });
        r
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn answer(&self, path: &str, answer: Answer) {
        self.answers
            .lock()
            .unwrap()
            .insert(path.to_string(), answer);
    }

    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    /// Requests of one method to one callback path.
    pub fn to(&self, method: &str, path: &str) -> Vec<Received> {
        (self.received().into_iter())
            .filter(|r| r.method == method && r.path() == path)
            .collect()
    }

    fn serve(&self, stream: std::net::TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        let _ = reader.read_exact(&mut body);
        let got = Received {
            method,
            target,
            headers,
            body,
            at: std::time::Instant::now(),
        };
        let answer = (self.answers.lock().unwrap().get(got.path()).copied()).unwrap_or(Answer::Ok);
        let challenge = got.query("hub.challenge").unwrap_or_default();
        let verifying = got.method == "GET";
        let hang = match answer {
            Answer::Hang => true,
            Answer::HangDeliveries => !verifying,
            _ => false,
        };
        if hang {
            self.log.lock().unwrap().push(got);
            std::thread::sleep(std::time::Duration::from_secs(60));
            return;
        }
        let (status, text) = match answer {
            Answer::Ok | Answer::HangDeliveries if verifying => (200, challenge),
            Answer::Deliveries(_) if verifying => (200, challenge),
            Answer::WrongChallenge if verifying => (200, "not it".to_string()),
            Answer::Ok | Answer::WrongChallenge | Answer::HangDeliveries | Answer::Hang => {
                (200, String::new())
            }
            Answer::Deliveries(status) | Answer::Status(status) => (status, String::new()),
        };
        self.log.lock().unwrap().push(got);
        let mut out = stream;
        let _ = write!(
            out,
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
            text.len()
        );
        let _ = out.flush();
    }
}
