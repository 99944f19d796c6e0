//! The Lambda Runtime API of one instance: the HTTP endpoints a runtime client polls for events
//! and posts results to, served at the root path of a loopback address so that real clients
//! (`awslambdaric`, the `lambda_runtime` crate, a shell `bootstrap` with curl) work unchanged.
//!
//! The server knows nothing of processes or timeouts. It hands the pending event to whoever
//! calls `next`, checks request ids, and reports what the runtime said as [`ApiEvent`]s on a
//! channel that the instance's owner reads.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::{mpsc, oneshot};

use crate::offline::invoke::MAX_PAYLOAD_BYTES;

/// An event waiting for the runtime's next `next` call.
#[derive(Debug)]
pub struct PendingEvent {
    pub request_id: String,
    pub payload: Vec<u8>,
    pub client_context: Option<String>,
    /// The function's timeout: the deadline is counted from the moment the runtime takes the
    /// event, as Lambda does not count the init phase against it.
    pub timeout: Duration,
}

/// Told by the instance's owner once the result it came with is dealt with: the runtime's
/// `/response` or `/error` call is answered only then (see [`response`]).
#[derive(Debug)]
pub struct Handover(pub oneshot::Sender<()>);

impl Handover {
    pub fn done(self) {
        let _ = self.0.send(());
    }
}

/// What the runtime did, in the order it did it.
#[derive(Debug)]
pub enum ApiEvent {
    /// The runtime took the event (its `next` call returned it).
    Delivered { request_id: String },
    Response {
        request_id: String,
        body: Vec<u8>,
        handover: Handover,
    },
    Error {
        request_id: String,
        body: Vec<u8>,
        error_type: Option<String>,
        handover: Handover,
    },
    /// The response was over the 6 MB limit and was refused.
    ResponseTooLarge { request_id: String },
    InitError {
        body: Vec<u8>,
        error_type: Option<String>,
    },
}

struct ApiState {
    inbox: tokio::sync::Mutex<mpsc::UnboundedReceiver<PendingEvent>>,
    events: mpsc::UnboundedSender<ApiEvent>,
    /// The request id of the event the runtime holds; results for any other are refused.
    current: Mutex<Option<String>>,
    function_arn: String,
}

/// A running Runtime API; the server stops when this is dropped.
pub struct RuntimeApi {
    pub address: SocketAddr,
    pub inbox: mpsc::UnboundedSender<PendingEvent>,
    pub events: mpsc::UnboundedReceiver<ApiEvent>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Binds 127.0.0.1 on a free port and serves the API for the function with this ARN.
    pub async fn start(function_arn: String) -> std::io::Result<RuntimeApi> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let (inbox_sender, inbox) = mpsc::unbounded_channel();
        let (events_sender, events) = mpsc::unbounded_channel();
        let state = Arc::new(ApiState {
            inbox: tokio::sync::Mutex::new(inbox),
            events: events_sender,
            current: Mutex::new(None),
            function_arn,
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            // Bodies are read with our own limit so that the refusal has Lambda's shape.
            .layer(DefaultBodyLimit::disable())
            .with_state(state);
        let server = tokio::spawn(serve(listener, router));
        Ok(RuntimeApi {
            address,
            inbox: inbox_sender,
            events,
            server,
        })
    }
}

/// Serves each connection with HTTP/1.1 pipelining in mind: a runtime that sends its result and
/// its next `next` in one write gets both answers in one write when the event is ready (hyper's
/// `pipeline_flush`), and, with TCP_NODELAY, at once when it is not (with Nagle's algorithm the
/// event would wait for the delayed acknowledgement of the first answer, up to 40 ms).
/// Connections end with this task: they are its children.
async fn serve(listener: tokio::net::TcpListener, router: Router) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors, say: wait rather than spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        connections.spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .pipeline_flush(true)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Lambda's error object, as its Runtime API answers a client's mistakes.
fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [("content-type", "application/json")],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

fn epoch_millis(time: SystemTime) -> u128 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

async fn next(State(state): State<Arc<ApiState>>) -> Response {
    let pending = {
        let mut inbox = state.inbox.lock().await;
        inbox.recv().await
    };
    let Some(pending) = pending else {
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "the instance is shutting down",
        );
    };
    let deadline = epoch_millis(SystemTime::now() + pending.timeout);
    if let Ok(mut current) = state.current.lock() {
        *current = Some(pending.request_id.clone());
    }
    let _ = state.events.send(ApiEvent::Delivered {
        request_id: pending.request_id.clone(),
    });
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("content-type", "application/json");
    set("lambda-runtime-aws-request-id", &pending.request_id);
    set("lambda-runtime-deadline-ms", &deadline.to_string());
    set("lambda-runtime-invoked-function-arn", &state.function_arn);
    set("lambda-runtime-trace-id", &crate::offline::ids::trace_id());
    if let Some(context) = &pending.client_context {
        set("lambda-runtime-client-context", context);
    }
    (StatusCode::OK, headers, Body::from(pending.payload)).into_response()
}

/// Reads a result body, or `None` when it is over Lambda's limit.
async fn read_limited(body: Body) -> Option<Bytes> {
    axum::body::to_bytes(body, MAX_PAYLOAD_BYTES).await.ok()
}

/// Takes the current request id if it is `id`: each event gets one result.
fn take_current(state: &ApiState, id: &str) -> bool {
    match state.current.lock() {
        Ok(mut current) if current.as_deref() == Some(id) => {
            *current = None;
            true
        }
        _ => false,
    }
}

fn invalid_request_id(id: &str) -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        &format!("Invalid request ID: {id} is not the event this runtime holds"),
    )
}

async fn response(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let Some(bytes) = read_limited(body).await else {
        if take_current(&state, &id) {
            let _ = state
                .events
                .send(ApiEvent::ResponseTooLarge { request_id: id });
        }
        return api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &format!("Exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."),
        );
    };
    if !take_current(&state, &id) {
        return invalid_request_id(&id);
    }
    let (handover, handed) = oneshot::channel();
    let _ = state.events.send(ApiEvent::Response {
        request_id: id,
        body: bytes.to_vec(),
        handover: Handover(handover),
    });
    // The answer waits until the pool has given the instance its next event, if a call is
    // waiting for one: a runtime that pipelined `next` behind this call then finds that event
    // ready, and both answers leave in one write.
    let _ = handed.await;
    accepted()
}

fn error_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get("lambda-runtime-function-error-type")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

async fn error(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = read_limited(body).await.unwrap_or_default();
    if !take_current(&state, &id) {
        return invalid_request_id(&id);
    }
    let (handover, handed) = oneshot::channel();
    let _ = state.events.send(ApiEvent::Error {
        request_id: id,
        body: bytes.to_vec(),
        error_type: error_type(&headers),
        handover: Handover(handover),
    });
    let _ = handed.await;
    accepted()
}

async fn init_error(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = read_limited(body).await.unwrap_or_default();
    let _ = state.events.send(ApiEvent::InitError {
        body: bytes.to_vec(),
        error_type: error_type(&headers),
    });
    accepted()
}
