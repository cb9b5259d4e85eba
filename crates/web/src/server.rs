//! The connection layer: accepting sockets, holding each to its time limits, capping how
//! many are open, and stopping within a deadline.
//!
//! `axum::serve` has no header-read timeout, so connections are served here over hyper's
//! HTTP/1 server directly:
//!
//! - **header read** ([`Limits::header_read`]): from the first byte a connection may send
//!   (or the end of the previous response, on a kept-alive connection) to the end of a
//!   request head. An idle socket, a slowloris head and an idle keep-alive all end here.
//! - **body read** ([`Limits::body_read`]): reading a request body (see `input.rs`).
//! - **request total** ([`Limits::request_total`]): from the parsed head to the response.
//! - **connections** ([`Limits::max_connections`]): when one more is accepted past the cap,
//!   the oldest connections with no request in progress are closed to make room, so the
//!   newest client (a health check, say) is served and a flood of idle sockets costs its
//!   senders their own sockets. When every connection is busy the newcomer gets a 503.
//! - **shutdown** ([`Limits::shutdown`]): on the shutdown signal the listener closes,
//!   connections without a request in progress close at once, requests in progress may
//!   finish, and whatever is left when the deadline passes is dropped.
//!
//! hyper answers requests it cannot parse (400, 414, 431) by itself with an empty body;
//! [`JsonProtocolErrors`] gives those answers the API's JSON error body as well.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::Response;
use axum::middleware::Next;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tower::Service;

use crate::error::ApiError;

/// Time and size limits of the connection layer. [`Limits::default`] is what `serve` uses
/// unless told otherwise; every field is a flag of `expedite serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest wait for a complete request head, and for the next one on a kept-alive
    /// connection (default 10 s).
    pub header_read: Duration,
    /// Longest time to receive a whole request body (default 15 s).
    pub body_read: Duration,
    /// Longest time from a parsed head to the response (default 60 s; a forecast within its
    /// budget takes a few seconds).
    pub request_total: Duration,
    /// Most connections open at once (default 512).
    pub max_connections: usize,
    /// How long requests in progress may run on after the shutdown signal (default 10 s).
    pub shutdown: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(15),
            request_total: Duration::from_secs(60),
            max_connections: 512,
            shutdown: Duration::from_secs(10),
        }
    }
}

/// The body-read limit, handed to the body extractor through the request's extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyDeadline(pub(crate) Duration);

/// Request-level limits: the total time, and the body-read time made known to extractors.
pub(crate) async fn request_limits(
    limits: Limits,
    mut request: Request,
    next: Next,
) -> Response<Body> {
    use axum::response::IntoResponse;
    request
        .extensions_mut()
        .insert(BodyDeadline(limits.body_read));
    match tokio::time::timeout(limits.request_total, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout("the request took too long").into_response(),
    }
}

/// One open connection, as the accept loop sees it.
struct Tracked {
    /// Requests in progress (a response counts until its body is sent).
    in_flight: Arc<AtomicUsize>,
    /// Tells the connection to close as soon as it has no request in progress.
    close: Arc<Notify>,
}

/// Open connections, oldest first.
#[derive(Default)]
struct Registry {
    next_id: u64,
    open: BTreeMap<u64, Tracked>,
}

impl Registry {
    /// Asks the oldest idle connections to close until at most `keep` remain open; returns
    /// whether any room was made.
    fn make_room(&mut self, keep: usize) -> bool {
        let excess = self.open.len().saturating_sub(keep);
        let idle: Vec<u64> = self
            .open
            .iter()
            .filter(|(_, tracked)| tracked.in_flight.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id)
            .take(excess)
            .collect();
        for id in &idle {
            if let Some(tracked) = self.open.remove(id) {
                tracked.close.notify_one();
            }
        }
        !idle.is_empty() || excess == 0
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` completes, then stops
/// within `limits.shutdown`.
///
/// # Errors
/// None in practice: accept errors (such as running out of file descriptors) are logged
/// and retried.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let registry = Arc::new(Mutex::new(Registry::default()));
    let stopping = Arc::new(Notify::new());
    let mut connections = JoinSet::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, usually: close the oldest tenth of the idle
                    // connections and retry.
                    tracing::warn!(%error, "accept failed");
                    {
                        let mut registry = lock(&registry);
                        let keep = registry.open.len().saturating_mul(9) / 10;
                        registry.make_room(keep);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let tracked = {
            let mut registry = lock(&registry);
            if !registry.make_room(limits.max_connections.saturating_sub(1)) {
                drop(registry);
                connections.spawn(refuse_busy(stream));
                continue;
            }
            let id = registry.next_id;
            registry.next_id += 1;
            let tracked = Tracked {
                in_flight: Arc::new(AtomicUsize::new(0)),
                close: Arc::new(Notify::new()),
            };
            let handles = (id, tracked.in_flight.clone(), tracked.close.clone());
            registry.open.insert(id, tracked);
            handles
        };
        let (id, in_flight, close) = tracked;
        tracing::debug!(%peer, id, "connection");
        let connection = serve_connection(
            &http,
            stream,
            router.clone(),
            in_flight,
            close,
            stopping.clone(),
        );
        let registry = registry.clone();
        connections.spawn(async move {
            connection.await;
            lock(&registry).open.remove(&id);
        });
    }
    drop(listener);
    tracing::info!(
        open = connections.len(),
        "stopped accepting; closing idle connections"
    );
    stopping.notify_waiters();
    let drained = tokio::time::timeout(limits.shutdown, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = connections.len(),
            "shutdown deadline passed: dropping the connections left"
        );
        connections.shutdown().await;
    }
    Ok(())
}

fn lock(registry: &Mutex<Registry>) -> std::sync::MutexGuard<'_, Registry> {
    registry
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Serves one connection until it ends, is told to close, or the server stops.
fn serve_connection(
    http: &hyper::server::conn::http1::Builder,
    stream: TcpStream,
    router: Router,
    in_flight: Arc<AtomicUsize>,
    close: Arc<Notify>,
    stopping: Arc<Notify>,
) -> impl Future<Output = ()> + Send + 'static {
    let counter = in_flight.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut router = router.clone();
        let guard = InFlight::enter(counter.clone());
        async move {
            let response = router.call(request.map(Body::new)).await?;
            // The request stays in progress until its response body is sent (or dropped).
            Ok::<_, std::convert::Infallible>(response.map(|body| {
                Body::new(http_body_util::BodyExt::map_frame(body, move |frame| {
                    let _still_sending = &guard;
                    frame
                }))
            }))
        }
    });
    let io = TokioIo::new(JsonProtocolErrors::new(stream));
    let connection = http.serve_connection(io, service);
    async move {
        tokio::pin!(connection);
        let stop = async {
            tokio::select! {
                () = close.notified() => {}
                () = stopping.notified() => {}
            }
        };
        tokio::select! {
            result = connection.as_mut() => {
                log_connection_end(result);
                return;
            }
            () = stop => {}
        }
        if in_flight.load(Ordering::Acquire) == 0 {
            return;
        }
        // A request is in progress: let it finish, then close.
        connection.as_mut().graceful_shutdown();
        log_connection_end(connection.await);
    }
}

fn log_connection_end(result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        tracing::debug!(%error, "connection ended");
    }
}

/// Counts a request as in progress from its head until its response is sent.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(counter: Arc<AtomicUsize>) -> InFlight {
        counter.fetch_add(1, Ordering::AcqRel);
        InFlight(counter)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Answers a connection that finds every slot busy with a 503 and closes it.
async fn refuse_busy(mut stream: TcpStream) {
    let body = ApiError::Busy.json_body().to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// A socket that gives hyper's own error answers (a request it cannot parse: 400, 414, 431)
/// the API's JSON error body. hyper writes those as a bare head with `content-length: 0`,
/// which no handler of this API ever does: every error it sends has a body.
struct JsonProtocolErrors {
    inner: TcpStream,
    /// Bytes of a rewritten answer still to be sent.
    pending: Vec<u8>,
}

impl JsonProtocolErrors {
    fn new(inner: TcpStream) -> JsonProtocolErrors {
        JsonProtocolErrors {
            inner,
            pending: Vec::new(),
        }
    }

    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let written =
                std::task::ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.drain(..written);
        }
        Poll::Ready(Ok(()))
    }
}

/// hyper's answer to a request it could not parse, with a JSON body added; `None` for
/// anything else.
fn with_json_body(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let status = text.strip_prefix("HTTP/1.1 4")?;
    let end = text.find("\r\n\r\n")?;
    if end + 4 != text.len()
        || !text
            .to_ascii_lowercase()
            .contains("\r\ncontent-length: 0\r\n")
    {
        return None;
    }
    let code: u16 = format!("4{}", status.get(..2)?).parse().ok()?;
    let error = match code {
        414 => ApiError::Protocol("the request target is too long"),
        431 => ApiError::Protocol("the request's header fields are too large or too many"),
        _ => ApiError::Protocol("the request is not valid HTTP/1.1"),
    };
    let body = error.json_body().to_string();
    let lower = text.to_ascii_lowercase();
    let at = lower.find("\r\ncontent-length: 0\r\n")?;
    let mut rewritten = String::with_capacity(text.len() + body.len() + 64);
    rewritten.push_str(&text[..at]);
    rewritten.push_str(&format!(
        "\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    ));
    rewritten.push_str(&text[at + "\r\ncontent-length: 0\r\n".len()..]);
    rewritten.push_str(&body);
    Some(rewritten.into_bytes())
}

impl AsyncRead for JsonProtocolErrors {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for JsonProtocolErrors {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.poll_pending(cx))?;
        if let Some(rewritten) = with_json_body(buf) {
            self.pending = rewritten;
            // The rewritten answer stands for all of `buf`; flushing sends the rest.
            let _ = self.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_bare_error_answers_get_the_json_error_body() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Mon, 30 Nov 2026 12:00:00 GMT\r\n\r\n";
        let rewritten = String::from_utf8(with_json_body(bare).expect("rewritten")).expect("utf-8");
        let (head, body) = rewritten.split_once("\r\n\r\n").expect("head and body");
        assert!(head.starts_with("HTTP/1.1 431 "));
        assert!(head.contains("content-type: application/json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(body["error"]["code"], "protocol");
        // Answers of the API itself, which always have a body, are left alone.
        assert!(with_json_body(b"HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n").is_none());
        assert!(with_json_body(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
    }
}
