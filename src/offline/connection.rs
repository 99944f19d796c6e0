//! How the emulator's ports (HTTP routes, the Invoke API and `emit`) serve connections, and how
//! a request body is read, so that a hostile or broken client costs a bounded amount.
//!
//! A connection that sends no complete request header within [`Timeouts::header_read`] is closed,
//! whether it never sent a byte, sends one a minute, or sits idle after its last response (the
//! keep-alive wait is a header read too). A body that stalls for [`Timeouts::body_idle`] ends its
//! request with an error. Without these, every half-open connection kept a task and a socket
//! until the emulator stopped.
//!
//! The Runtime API of each function instance is left out on purpose: its only client is the
//! instance's own runtime, which legitimately leaves a connection silent for as long as a
//! handler runs.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::connect_info::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long a client may take; see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the moment the server waits for a request (a new connection, or one kept alive
    /// after a response) until its header is complete.
    pub header_read: Duration,
    /// The longest pause between two parts of a request body.
    pub body_idle: Duration,
}

impl Default for Timeouts {
    /// The header timeout is Node.js's keep-alive timeout doubled, so clients that reuse
    /// connections (browsers, SDKs) are not cut mid-reuse; the body timeout allows a slow
    /// upload, not a stalled one.
    fn default() -> Timeouts {
        Timeouts {
            header_read: Duration::from_secs(10),
            body_idle: Duration::from_secs(10),
        }
    }
}

/// How long requests in flight may take to finish once the emulator stops.
const GRACE: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `stop`; then refuses new connections, lets requests in
/// flight finish (up to [`GRACE`]) and returns. Requests carry the peer's address as
/// [`ConnectInfo`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    timeouts: Timeouts,
    stop: CancellationToken,
) {
    serve_with(listener, router, timeouts, stop, None).await;
}

/// [`serve`] over TLS (`--httpsProtocol`): a client that does not finish its handshake within
/// [`Timeouts::header_read`] is dropped like one that sends no request.
pub async fn serve_tls(
    listener: TcpListener,
    router: Router,
    timeouts: Timeouts,
    stop: CancellationToken,
    acceptor: tokio_rustls::TlsAcceptor,
) {
    serve_with(listener, router, timeouts, stop, Some(acceptor)).await;
}

async fn serve_with(
    listener: TcpListener,
    router: Router,
    timeouts: Timeouts,
    stop: CancellationToken,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of descriptors, say: wait rather than spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // Small responses go out at once: with Nagle's algorithm one written while the peer
        // delays its acknowledgement of the previous one would wait for it (up to 40 ms).
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let stop = stop.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            match tls {
                None => serve_connection(stream, peer, router, timeouts, stop).await,
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(timeouts.header_read, acceptor.accept(stream));
                    let secured = tokio::select! {
                        secured = handshake => secured,
                        () = stop.cancelled() => return,
                    };
                    if let Ok(Ok(stream)) = secured {
                        serve_connection(stream, peer, router, timeouts, stop).await;
                    }
                }
            }
        });
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    router: Router,
    timeouts: Timeouts,
    stop: CancellationToken,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
        request
            .extensions_mut()
            .insert(ConnectInfo::<SocketAddr>(peer));
        let mut router = router.clone();
        async move {
            let request = request.map(Body::new);
            tower_service::Service::call(&mut router, request).await
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read)
        // A client may close its sending side once its request is out (`nc -N`, a
        // script's `shutdown(SHUT_WR)`); it still gets its answer.
        .half_close(true)
        .serve_connection(TokioIo::new(stream), service)
        // The WebSocket port hands upgraded connections over; no other route upgrades.
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(GRACE, connection).await;
        }
    }
}

/// Why a body could not be read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// It declares, or has sent, more than the limit.
    TooLarge { size: usize, limit: usize },
    /// Its framing is broken: a bad chunk size, a chunked body with no end, a short body.
    Broken(String),
    /// Nothing came for [`Timeouts::body_idle`].
    Stalled(Duration),
}

/// Reads a request body of at most `limit` bytes, refusing by its declared length before
/// keeping anything when that is already too much.
///
/// A refused body is still read (and dropped) up to [`DRAIN_FACTOR`] times the limit: a
/// client that is still sending when the server answers and closes gets a reset, and loses the
/// answer that says why (an SDK sending 7 MB would report "connection reset" instead of Lambda's
/// `RequestTooLargeException`).
pub async fn read_body(
    declared: Option<usize>,
    mut body: Body,
    limit: usize,
    idle: Duration,
) -> Result<Vec<u8>, BodyError> {
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    let drain_until = limit.saturating_mul(DRAIN_FACTOR);
    let mut refused = None;
    match declared {
        // Too much to be worth draining: answer at once.
        Some(size) if size > drain_until => return Err(BodyError::TooLarge { size, limit }),
        Some(size) if size > limit => refused = Some(BodyError::TooLarge { size, limit }),
        Some(size) => bytes.reserve(size),
        None => {}
    }
    loop {
        if refused.is_some() && seen > drain_until {
            break;
        }
        let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx));
        let Ok(frame) = tokio::time::timeout(idle, next).await else {
            return Err(refused.unwrap_or(BodyError::Stalled(idle)));
        };
        match frame {
            None => break,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    seen += data.len();
                    if refused.is_none() && seen > limit {
                        refused = Some(BodyError::TooLarge { size: seen, limit });
                        bytes = Vec::new();
                    }
                    if refused.is_none() {
                        bytes.extend_from_slice(&data);
                    }
                }
            }
            Some(Err(error)) => {
                return Err(refused.unwrap_or(BodyError::Broken(error.to_string())));
            }
        }
    }
    match refused {
        Some(error) => Err(error),
        None => Ok(bytes),
    }
}

/// How much of a refused body is read and dropped, in multiples of the limit.
const DRAIN_FACTOR: usize = 4;
