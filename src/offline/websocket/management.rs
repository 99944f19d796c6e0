//! The `@connections` management API (`apigatewaymanagementapi` in the AWS SDKs) on the
//! WebSocket port: `POST` sends data to a client, `GET` describes its connection, `DELETE`
//! closes it. The SDKs reach it through an endpoint override, with or without the stage in it
//! (`http://localhost:3001` or `http://localhost:3001/dev`), so both paths are served. Requests
//! are not authenticated: any signature is accepted.
//!
//! Errors carry `x-amzn-errortype` and a JSON body, which is how the SDKs tell a
//! `GoneException` (the connection is not open) from other failures.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, Method, Request, Response, StatusCode};
use axum::routing::{on, MethodFilter};
use axum::Router;
use serde_json::json;

use super::connections::{Connection, Outgoing};
use super::events::Frame;
use super::WebSocketState;
use crate::offline::connection::{read_body, BodyError};
use crate::offline::http::RequestLog;

/// API Gateway's limit on one message (128 KB).
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;

/// The routes, with and without a stage before `@connections`.
pub fn routes() -> Router<Arc<WebSocketState>> {
    let methods = MethodFilter::POST
        .or(MethodFilter::GET)
        .or(MethodFilter::DELETE);
    Router::new()
        .route("/@connections/{connection_id}", on(methods, handle))
        .route("/{stage}/@connections/{connection_id}", on(methods, handle))
}

async fn handle(
    State(state): State<Arc<WebSocketState>>,
    Path(parameters): Path<HashMap<String, String>>,
    request: Request<Body>,
) -> Response<Body> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let id = parameters.get("connection_id").cloned().unwrap_or_default();
    let response = match state.connections.get(&id) {
        None => gone(),
        Some(connection) if method == Method::POST => post(&state, &connection, request).await,
        Some(connection) if method == Method::DELETE => {
            connection
                .send(Outgoing::Close {
                    code: 1000,
                    reason: "",
                })
                .await;
            empty(StatusCode::NO_CONTENT)
        }
        Some(connection) => describe(&connection),
    };
    state.observer.request(&RequestLog {
        method: method.as_str().to_string(),
        path,
        function: None,
        invocation_log: None,
        status: response.status().as_u16(),
        duration_ms: started.elapsed().as_millis(),
    });
    response
}

async fn post(
    state: &WebSocketState,
    connection: &Connection,
    request: Request<Body>,
) -> Response<Body> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    let bytes = match read_body(
        declared,
        request.into_body(),
        MAX_MESSAGE_BYTES,
        state.body_idle,
    )
    .await
    {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge { .. }) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLargeException",
                "Request must be smaller than 131072 bytes for the PostToConnection operation",
            )
        }
        Err(BodyError::Broken(reason)) => {
            return error(StatusCode::BAD_REQUEST, "BadRequestException", &reason)
        }
        Err(BodyError::Stalled(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                "the request body stalled",
            )
        }
    };
    let frame = match String::from_utf8(bytes) {
        Ok(text) => Frame::Text(text),
        Err(not_text) => Frame::Binary(not_text.into_bytes()),
    };
    if connection.send(Outgoing::Frame(frame)).await {
        empty(StatusCode::OK)
    } else {
        gone()
    }
}

/// `GetConnection`'s answer.
fn describe(connection: &Connection) -> Response<Body> {
    // The wire names are camelCase; the SDKs show them as `ConnectedAt`, `Identity`, ...
    let body = json!({
        "connectedAt": iso(connection.context.connected_at),
        "identity": {
            "sourceIp": connection.context.source_ip,
            "userAgent": connection.context.user_agent.clone().unwrap_or_default(),
        },
        "lastActiveAt": iso(connection.last_active()),
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

fn iso(epoch_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(epoch_ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn empty(status: StatusCode) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::empty())
        .unwrap_or_default()
}

fn gone() -> Response<Body> {
    error(
        StatusCode::GONE,
        "GoneException",
        "the connection is not open",
    )
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-amzn-errortype", kind)
        .body(Body::from(json!({ "message": message }).to_string()))
        .unwrap_or_default()
}
