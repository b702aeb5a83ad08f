//! The channels' kept-alive connections: HTTP/1.1 connections per origin (scheme, host and
//! port), each driven by hyper's own connection type (`hyper::client::conn::http1`), made by
//! the same connector as before (hyper-util's TCP connector, rustls through hyper-rustls).
//!
//! Not hyper-util's pooled client: on the send path its pool (a checkout racing a lazy
//! connect, a task spawned per request to return the connection) cost about 4 µs of the
//! client's 33 µs of CPU a request (BENCHMARKS.md, "The channels' HTTP client"). What this
//! keeps of it: a request never written on a kept-alive connection the server had closed
//! goes again on another, and a connection idle for [`IDLE`] is not used again.

use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::client::legacy::connect::HttpConnector;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
type Sender = SendRequest<Full<Bytes>>;

/// How long a connection may stay unused and still be used again (as hyper-util's pool).
pub(super) const IDLE: Duration = Duration::from_secs(90);

/// Where a connection goes.
type Origin = (Scheme, Authority);

/// Connections per origin, shared by every clone of the client.
#[derive(Clone)]
pub(super) struct Pool {
    connector: Connector,
    idle: Idles,
}

/// The connections not in use, per origin: the oldest at the front.
type Idles = Arc<Mutex<HashMap<Origin, VecDeque<Idle>>>>;

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").finish_non_exhaustive()
    }
}

struct Idle {
    sender: Sender,
    since: Instant,
}

/// Why a request got no answer.
#[derive(Debug)]
pub(super) enum PoolError {
    /// The URL is not `http://` or `https://` with a host: nothing was sent.
    Unsupported(String),
    /// No connection could be made (TLS included): nothing was sent.
    Connect(Box<dyn std::error::Error + Send + Sync>),
    /// The connection failed after the request may have been written.
    Transport(hyper::Error),
}

impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PoolError::Unsupported(why) => f.write_str(why),
            PoolError::Connect(e) => write!(f, "cannot connect: {e}"),
            PoolError::Transport(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PoolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PoolError::Unsupported(_) => None,
            PoolError::Connect(e) => Some(e.as_ref()),
            PoolError::Transport(e) => Some(e),
        }
    }
}

/// A connection in use: [`Lease::release`] gives it back once its answer is read whole;
/// dropped instead, the connection closes.
pub(super) struct Lease {
    idle: Idles,
    origin: Origin,
    sender: Sender,
}

impl Lease {
    pub(super) fn release(self) {
        if self.sender.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.entry(self.origin).or_default().push_back(Idle {
                sender: self.sender,
                since: Instant::now(),
            });
        }
    }
}

impl Pool {
    pub(super) fn new(connector: Connector) -> Pool {
        Pool {
            connector,
            idle: Arc::default(),
        }
    }

    /// Sends `request` (its URI absolute) on a kept-alive connection to its origin, or a new
    /// one; the answer's head, and the connection to give back once its body is read.
    pub(super) async fn send(
        &self,
        mut request: http::Request<Full<Bytes>>,
    ) -> Result<(http::Response<Incoming>, Lease), PoolError> {
        let uri = request.uri().clone();
        let origin = match (uri.scheme(), uri.authority()) {
            (Some(scheme), Some(authority))
                if *scheme == Scheme::HTTP || *scheme == Scheme::HTTPS =>
            {
                (scheme.clone(), authority.clone())
            }
            _ => {
                return Err(PoolError::Unsupported(format!(
                    "not an http:// or https:// URL with a host: {}",
                    uri.scheme_str().unwrap_or("no scheme")
                )));
            }
        };
        let host = match origin.1.port_u16() {
            Some(port) if port != default_port(&origin.0) => {
                format!("{}:{port}", origin.1.host())
            }
            _ => origin.1.host().to_string(),
        };
        let host = http::HeaderValue::from_str(&host)
            .map_err(|e| PoolError::Unsupported(format!("the host {host}: {e}")))?;
        request
            .headers_mut()
            .entry(http::header::HOST)
            .or_insert(host);
        *request.uri_mut() = origin_form(&uri);
        loop {
            let (mut sender, reused) = match self.checkout(&origin).await {
                Some(sender) => (sender, true),
                // Boxed: rare, and its future (TCP, TLS) would make every send's larger.
                None => (Box::pin(self.connect(&uri)).await?, false),
            };
            match sender.try_send_request(request).await {
                Ok(response) => {
                    let lease = Lease {
                        idle: self.idle.clone(),
                        origin,
                        sender,
                    };
                    return Ok((response, lease));
                }
                Err(mut e) => match e.take_message() {
                    // Never written, on a connection the server had closed meanwhile: the
                    // same request goes on another (a new one makes no such race).
                    Some(unsent) if reused => request = unsent,
                    // Never written on a new connection: nothing was sent.
                    Some(_) => return Err(PoolError::Connect(e.into_error().into())),
                    None => return Err(PoolError::Transport(e.into_error())),
                },
            }
        }
    }

    /// The most recently used connection to `origin` that is still open and was not idle
    /// too long; `None` when there is none.
    async fn checkout(&self, origin: &Origin) -> Option<Sender> {
        loop {
            let mut found = {
                let mut idle = self.idle.lock().ok()?;
                let queue = idle.get_mut(origin)?;
                // The oldest are at the front: those idle too long go.
                while queue.front().is_some_and(|i| i.since.elapsed() > IDLE) {
                    queue.pop_front();
                }
                queue.pop_back()?.sender
            };
            if found.is_closed() {
                continue;
            }
            // An answer read whole leaves its connection ready at once or nearly (hyper's
            // connection task marks it so); a closed one says so here.
            if found.ready().await.is_ok() {
                return Some(found);
            }
        }
    }

    /// A new connection to `uri`'s origin, its hyper task running.
    async fn connect(&self, uri: &http::Uri) -> Result<Sender, PoolError> {
        use tower_service::Service;
        let mut connector = self.connector.clone();
        std::future::poll_fn(|cx| connector.poll_ready(cx))
            .await
            .map_err(PoolError::Connect)?;
        let io = connector
            .call(uri.clone())
            .await
            .map_err(PoolError::Connect)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| PoolError::Connect(e.into()))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a channel connection ended");
            }
        });
        Ok(sender)
    }
}

/// The port a URL of `scheme` (`http` or `https`: `send` takes no other) means when it
/// names none.
fn default_port(scheme: &Scheme) -> u16 {
    if *scheme == Scheme::HTTPS { 443 } else { 80 }
}

/// `uri` as a request line names it to the origin: path and query.
fn origin_form(uri: &http::Uri) -> http::Uri {
    match uri.path_and_query() {
        Some(path) if path.as_str() != "/" => {
            let mut parts = http::uri::Parts::default();
            parts.path_and_query = Some(path.clone());
            http::Uri::from_parts(parts).unwrap_or_default()
        }
        _ => http::Uri::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_line_carries_path_and_query_only() {
        let uri: http::Uri = "https://graph.facebook.com/v23.0/1/messages?a=b"
            .parse()
            .unwrap();
        assert_eq!(origin_form(&uri).to_string(), "/v23.0/1/messages?a=b");
        let root: http::Uri = "http://127.0.0.1:9/".parse().unwrap();
        assert_eq!(origin_form(&root).to_string(), "/");
        assert_eq!(default_port(&Scheme::HTTPS), 443);
    }
}
