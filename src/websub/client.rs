//! Outgoing HTTP for the hub: verification GETs, content deliveries and announcements.
//! One connection per request (HTTP/1.1, TLS through rustls with the Mozilla roots of
//! `webpki-roots`, so no system store is needed inside the sandbox). The host is
//! resolved here and every address is checked before connecting (`address::is_public`),
//! so a name that resolves to a private address — now or after a DNS rebinding — is
//! refused. Redirects are never followed: a 3xx is a failed delivery like any non-2xx.
//! Everything, from resolving to the last byte read, is bounded by the total timeout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, HeaderValue};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("cannot resolve {0}")]
    Resolve(String),
    #[error("{host} is a private or special address ({ip}); refused")]
    Private { host: String, ip: std::net::IpAddr },
    #[error("cannot connect to {0}")]
    Connect(String),
    #[error("TLS with {0} failed")]
    Tls(String),
    #[error("HTTP exchange failed: {0}")]
    Http(String),
    #[error("no complete answer within {0} ms")]
    Timeout(u128),
}

/// An answer: its status and the first bytes of its body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

#[derive(Clone)]
pub struct Client {
    tls: tokio_rustls::TlsConnector,
    allow_private: bool,
    connect_timeout: Duration,
    timeout: Duration,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl Client {
    pub fn new(allow_private: bool, connect_timeout: Duration, timeout: Duration) -> Client {
        let roots: rustls::RootCertStore = webpki_roots::TLS_SERVER_ROOTS.iter().cloned().collect();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth())
            .unwrap_or_else(|_| {
                // The ring provider supports the default versions; this cannot fail, and
                // if it did, plain rustls defaults are as good.
                rustls::ClientConfig::builder()
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth()
            });
        Client {
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            allow_private,
            connect_timeout,
            timeout,
        }
    }

    /// The same client with another total timeout: the hub gives hosts that keep failing
    /// a shorter one.
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        Client {
            timeout,
            ..self.clone()
        }
    }

    /// Sends one request and reads at most `keep` bytes of the answer's body.
    pub async fn call(
        &self,
        method: hyper::Method,
        url: &url::Url,
        headers: HeaderMap,
        body: Bytes,
        keep: usize,
    ) -> Result<Answer, CallError> {
        let exchange = self.exchange(method, url, headers, body, keep);
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(CallError::Timeout(self.timeout.as_millis())),
        }
    }

    async fn exchange(
        &self,
        method: hyper::Method,
        url: &url::Url,
        mut headers: HeaderMap,
        body: Bytes,
        keep: usize,
    ) -> Result<Answer, CallError> {
        let host = url.host_str().unwrap_or("").to_string();
        let stream = self.connect(url).await?;
        let io: Box<dyn Io> = if url.scheme() == "https" {
            let name =
                rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
                    .map_err(|_| CallError::Tls(host.clone()))?;
            let tls = self.tls.connect(name, stream).await;
            Box::new(tls.map_err(|e| CallError::Tls(format!("{host}: {e}")))?)
        } else {
            Box::new(stream)
        };
        let http = |e: hyper::Error| CallError::Http(e.to_string());
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(http)?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        let authority = &url[url::Position::BeforeHost..url::Position::AfterPort];
        let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let mut request = hyper::Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = target
            .parse()
            .map_err(|_| CallError::Http(format!("bad request target {target}")))?;
        if let Ok(v) = HeaderValue::from_str(authority) {
            headers.insert(hyper::header::HOST, v);
        }
        headers.insert(
            hyper::header::USER_AGENT,
            HeaderValue::from_static(concat!(
                "feedd/",
                env!("CARGO_PKG_VERSION"),
                " (WebSub hub)"
            )),
        );
        *request.headers_mut() = headers;
        let response = sender.send_request(request).await.map_err(http)?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut kept = Vec::new();
        while kept.len() <= keep {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        let room = (keep + 1).saturating_sub(kept.len());
                        kept.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
                Some(Err(e)) => return Err(http(e)),
                None => break,
            }
        }
        drop(body);
        driver.abort();
        Ok(Answer {
            status,
            body: Bytes::from(kept),
        })
    }

    /// Resolves the callback's host and connects to the first address that may be
    /// reached; the check is on the resolved addresses themselves.
    async fn connect(&self, url: &url::Url) -> Result<TcpStream, CallError> {
        let host = url.host_str().unwrap_or("").to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<SocketAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::from((ip, port))],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::from((ip, port))],
            Some(url::Host::Domain(name)) => tokio::net::lookup_host((name, port))
                .await
                .map_err(|_| CallError::Resolve(host.clone()))?
                .collect(),
            None => Vec::new(),
        };
        let Some(first) = addrs.first() else {
            return Err(CallError::Resolve(host));
        };
        let allowed: Vec<SocketAddr> = (addrs.iter())
            .filter(|a| self.allow_private || super::address::is_public(a.ip()))
            .copied()
            .collect();
        if allowed.is_empty() {
            return Err(CallError::Private {
                host,
                ip: first.ip(),
            });
        }
        for addr in &allowed {
            if let Ok(Ok(stream)) =
                tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr)).await
            {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
        }
        Err(CallError::Connect(host))
    }
}
