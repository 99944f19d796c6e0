//! The Lambda Invoke API on the emulator's lambda port, so the AWS SDKs and CLI call local
//! functions with `--endpoint-url`: `POST /2015-03-31/functions/{name}/invocations`.
//!
//! `X-Amz-Invocation-Type` `RequestResponse` (the default) answers 200 with the payload (a
//! function error adds `X-Amz-Function-Error: Unhandled`), `Event` answers 202 at once and runs
//! the function in the background, `DryRun` answers 204. `X-Amz-Client-Context` (base64 JSON)
//! reaches the function's context; `X-Amz-Log-Type: Tail` returns the last 4 KB of the log in
//! `X-Amz-Log-Result`. The function may be named by its key under `functions:`, its deployed
//! name or its ARN. Errors carry the `x-amzn-ErrorType` header and JSON body the SDKs parse.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine as _;
use serde_json::json;

use super::connection::{self, BodyError};
use super::http::into_axum;
use super::http::response::HttpResponse;
use super::invoke::{Invocation, InvocationResult, InvokeError, Invoker, MAX_PAYLOAD_BYTES};
use super::server::Observer;

/// Lambda's limit on an asynchronous (`Event`) payload.
pub const MAX_EVENT_PAYLOAD_BYTES: usize = 256 * 1024;

/// How much of the log `X-Amz-Log-Type: Tail` returns.
const LOG_TAIL_BYTES: usize = 4096;

/// The functions the API serves: key, deployed name.
#[derive(Debug, Clone, Default)]
pub struct FunctionNames {
    pub names: Vec<(String, String)>,
    pub region: String,
}

impl FunctionNames {
    /// The key for a name as a caller gives it: key, deployed name, or ARN (with or without a
    /// qualifier).
    pub fn resolve(&self, given: &str) -> Option<String> {
        let name = match given.strip_prefix("arn:") {
            Some(_) => given.split(':').nth(6).unwrap_or_default(),
            None => given.split(':').next().unwrap_or_default(),
        };
        self.names
            .iter()
            .find(|(key, deployed)| key == name || deployed == name)
            .map(|(key, _)| key.clone())
    }

    fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.region,
            crate::offline::events::ACCOUNT_ID
        )
    }
}

pub struct InvokeApiState {
    pub functions: FunctionNames,
    pub invoker: Arc<dyn Invoker>,
    pub observer: Arc<dyn Observer>,
    /// The longest pause allowed within a request body.
    pub body_idle: std::time::Duration,
}

/// The Invoke API's routes (merged into the lambda port's router).
pub fn router(state: Arc<InvokeApiState>) -> Router {
    Router::new()
        .route("/2015-03-31/functions/{name}/invocations", post(invoke))
        .with_state(state)
}

/// An error in the shape the SDKs read: `x-amzn-ErrorType` and `{"Type", "Message"}`.
pub fn aws_error(status: u16, error_type: &str, kind: &str, message: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-amzn-errortype".into(), error_type.to_string()),
        ],
        body: json!({ "Type": kind, "Message": message })
            .to_string()
            .into_bytes(),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn invoke(
    State(state): State<Arc<InvokeApiState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response<Body> {
    let payload = match read_body(&headers, body, MAX_PAYLOAD_BYTES, state.body_idle).await {
        Ok(payload) => payload,
        Err(refused) => return into_axum(refused),
    };
    into_axum(answer(&state, &name, &headers, payload).await)
}

/// A request body of at most `limit` bytes, as Lambda takes it: past the limit (by its
/// `Content-Length`, or as it streams in) Lambda's 413 `RequestTooLargeException`, read no
/// further; a body whose framing is broken (a bad chunk size, a chunked body with no end, one
/// shorter than its `Content-Length`) a 400, not a 413.
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    idle: std::time::Duration,
) -> Result<Vec<u8>, HttpResponse> {
    let declared = header(headers, "content-length").and_then(|v| v.trim().parse::<usize>().ok());
    match connection::read_body(declared, body, limit, idle).await {
        Ok(bytes) => Ok(bytes),
        Err(BodyError::TooLarge { size, limit }) => Err(too_large(size, limit)),
        Err(BodyError::Broken(reason)) => Err(aws_error(
            400,
            "InvalidRequestContentException",
            "User",
            &format!("The request body could not be read: {reason}"),
        )),
        Err(BodyError::Stalled(idle)) => Err(aws_error(
            408,
            "RequestTimeoutException",
            "User",
            &format!(
                "The request body stopped arriving: nothing came for {} s",
                idle.as_secs()
            ),
        )),
    }
}

async fn answer(
    state: &Arc<InvokeApiState>,
    name: &str,
    headers: &HeaderMap,
    payload: Vec<u8>,
) -> HttpResponse {
    let Some(function) = state.functions.resolve(name) else {
        return aws_error(
            404,
            "ResourceNotFoundException",
            "User",
            &format!("Function not found: {}", state.functions.arn(name)),
        );
    };
    let client_context = match header(headers, "x-amz-client-context") {
        None => None,
        Some(encoded) => match base64::engine::general_purpose::STANDARD.decode(encoded.trim()) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(_) => {
                return aws_error(
                    400,
                    "InvalidRequestContentException",
                    "User",
                    "Client context must be a valid Base64-encoded JSON object.",
                )
            }
        },
    };
    let payload = if payload.is_empty() {
        b"{}".to_vec()
    } else {
        payload
    };
    if serde_json::from_slice::<serde_json::Value>(&payload).is_err() {
        return aws_error(
            400,
            "InvalidRequestContentException",
            "User",
            "Could not parse request body into json: the payload is not valid JSON",
        );
    }
    let invocation = Invocation {
        payload,
        client_context,
        request_id: None,
    };
    match header(headers, "x-amz-invocation-type").unwrap_or("RequestResponse") {
        "DryRun" => HttpResponse {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        },
        "Event" => {
            if invocation.payload.len() > MAX_EVENT_PAYLOAD_BYTES {
                return too_large(invocation.payload.len(), MAX_EVENT_PAYLOAD_BYTES);
            }
            let state = Arc::clone(state);
            tokio::spawn(async move {
                if let Ok(completed) = state.invoker.invoke(&function, invocation).await {
                    state.observer.invocation(&function, &completed);
                }
            });
            HttpResponse {
                status: 202,
                headers: Vec::new(),
                body: Vec::new(),
            }
        }
        "RequestResponse" => {
            let tail = header(headers, "x-amz-log-type") == Some("Tail");
            match state.invoker.invoke(&function, invocation).await {
                Ok(completed) => {
                    state.observer.invocation(&function, &completed);
                    let mut response_headers = vec![
                        ("content-type".into(), "application/json".into()),
                        ("x-amz-executed-version".into(), "$LATEST".into()),
                        ("x-amzn-requestid".into(), completed.request_id.clone()),
                    ];
                    if tail {
                        response_headers
                            .push(("x-amz-log-result".into(), log_tail(&completed.log)));
                    }
                    let body = match completed.result {
                        InvocationResult::Success(payload) => payload,
                        InvocationResult::Error { payload, .. } => {
                            response_headers
                                .push(("x-amz-function-error".into(), "Unhandled".into()));
                            payload
                        }
                    };
                    HttpResponse {
                        status: 200,
                        headers: response_headers,
                        body,
                    }
                }
                Err(error) => refused(&error),
            }
        }
        other => aws_error(
            400,
            "InvalidParameterValueException",
            "User",
            &format!("Invalid invocation type `{other}`: use RequestResponse, Event or DryRun"),
        ),
    }
}

fn too_large(size: usize, limit: usize) -> HttpResponse {
    aws_error(
        413,
        "RequestTooLargeException",
        "User",
        &format!("Request must be smaller than {limit} bytes for the InvokeFunction operation (got {size})"),
    )
}

fn refused(error: &InvokeError) -> HttpResponse {
    match error {
        InvokeError::PayloadTooLarge { size, limit } => too_large(*size, *limit),
        InvokeError::TooManyRequests { .. } => {
            aws_error(429, "TooManyRequestsException", "User", &error.to_string())
        }
        InvokeError::UnknownFunction { name, .. } => aws_error(
            404,
            "ResourceNotFoundException",
            "User",
            &format!("Function not found: {name}"),
        ),
        InvokeError::ShuttingDown | InvokeError::Start { .. } => {
            aws_error(500, "ServiceException", "Service", &error.to_string())
        }
    }
}

/// The last 4 KB of a log, base64, starting at a character boundary.
fn log_tail(log: &str) -> String {
    let mut start = log.len().saturating_sub(LOG_TAIL_BYTES);
    while !log.is_char_boundary(start) {
        start += 1;
    }
    base64::engine::general_purpose::STANDARD.encode(&log.as_bytes()[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> FunctionNames {
        FunctionNames {
            names: vec![("hello".into(), "svc-dev-hello".into())],
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn functions_resolve_by_key_deployed_name_and_arn() {
        let names = names();
        assert_eq!(names.resolve("hello").as_deref(), Some("hello"));
        assert_eq!(names.resolve("svc-dev-hello").as_deref(), Some("hello"));
        assert_eq!(
            names
                .resolve("arn:aws:lambda:us-east-1:123456789012:function:svc-dev-hello:$LATEST")
                .as_deref(),
            Some("hello")
        );
        assert_eq!(names.resolve("hello:prod").as_deref(), Some("hello"));
        assert_eq!(names.resolve("other"), None);
    }

    #[test]
    fn log_tail_keeps_the_end_of_a_long_log() {
        let log = format!("{}END", "é".repeat(3000));
        let tail = base64::engine::general_purpose::STANDARD
            .decode(log_tail(&log))
            .unwrap_or_default();
        assert!(tail.len() <= LOG_TAIL_BYTES);
        assert!(String::from_utf8(tail).is_ok_and(|t| t.ends_with("END")));
    }
}
