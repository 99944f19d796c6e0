//! Running a route's function and acting on its answer as API Gateway does: `$connect`
//! accepts or refuses the upgrade, a message's route may answer the client (two-way routes),
//! and a missing route or a failed function is reported to the client in API Gateway's words.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

use super::authorizer::{self, Upgrade, Verdict};
use super::connections::{Connection, Outgoing};
use super::events::{self, ConnectionContext, Frame};
use super::routes::{CONNECT, DISCONNECT};
use super::{WebSocketLog, WebSocketState};
use crate::offline::events::Meta;
use crate::offline::invoke::{Invocation, InvocationResult};

/// What `$connect` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Accept,
    /// Refuse the upgrade with this HTTP status.
    Refuse(u16),
}

/// What running one route's function gave.
enum Outcome {
    /// The handler's response, parsed when it is JSON.
    Answered(Value),
    Failed,
}

/// Runs `route_key`'s function with `event` and tells the observer.
async fn run(
    state: &WebSocketState,
    route_key: &str,
    function: &str,
    connection_id: &str,
    event: Value,
) -> Outcome {
    let started = Instant::now();
    let invocation = Invocation {
        payload: event.to_string().into_bytes(),
        ..Invocation::default()
    };
    let (outcome, invocation_log) = match state.invoker.invoke(function, invocation).await {
        Ok(completed) => {
            let outcome = match &completed.result {
                InvocationResult::Success(bytes) => {
                    Outcome::Answered(serde_json::from_slice(bytes).unwrap_or(Value::Null))
                }
                InvocationResult::Error { .. } => Outcome::Failed,
            };
            (outcome, Some(completed.log))
        }
        Err(error) => {
            state.observer.refused(function, &error);
            (Outcome::Failed, None)
        }
    };
    state.observer.websocket(&WebSocketLog {
        route_key: route_key.to_string(),
        connection_id: connection_id.to_string(),
        function: Some(function.to_string()),
        invocation_log,
        outcome: match outcome {
            Outcome::Answered(_) => "ok",
            Outcome::Failed => "error",
        }
        .to_string(),
        duration_ms: started.elapsed().as_millis(),
    });
    outcome
}

/// Runs `$connect` (when there is one) for a connection being upgraded.
pub async fn connect(
    state: &WebSocketState,
    connection: &ConnectionContext,
    headers: &[(String, String)],
    query: &[(String, String)],
) -> Admission {
    let Some(route) = state.routes.get(CONNECT) else {
        return Admission::Accept;
    };
    let mut event = events::connect(connection, headers, query, &Meta::now(&state.region));
    if let Some(authorizer) = route.authorizer.as_ref().filter(|_| !state.no_auth) {
        let upgrade = Upgrade {
            connection,
            headers,
            query,
        };
        match authorizer::authorize(state, authorizer, &upgrade).await {
            Verdict::Refuse(status) => return Admission::Refuse(status),
            Verdict::Allow(context) => {
                if let Some(request_context) = event
                    .get_mut("requestContext")
                    .and_then(Value::as_object_mut)
                {
                    request_context.insert("authorizer".into(), context);
                }
            }
        }
    }
    let answer = run(
        state,
        CONNECT,
        &route.function,
        &connection.connection_id,
        event,
    )
    .await;
    match answer {
        Outcome::Failed => Admission::Refuse(502),
        Outcome::Answered(response) => match response.get("statusCode").map(status_code) {
            // A handler that returns no status code has not refused.
            None => Admission::Accept,
            Some(Some(status)) if (200..300).contains(&status) => Admission::Accept,
            Some(Some(status)) => Admission::Refuse(status),
            Some(None) => Admission::Refuse(502),
        },
    }
}

/// `statusCode` as a number or a numeric string, within HTTP's range.
fn status_code(value: &Value) -> Option<u16> {
    let number = match value {
        Value::Number(number) => number.as_u64()?,
        Value::String(text) => text.trim().parse().ok()?,
        _ => return None,
    };
    u16::try_from(number)
        .ok()
        .filter(|status| (100..600).contains(status))
}

/// Routes one message and runs its function.
pub async fn message(state: &WebSocketState, connection: &Arc<Connection>, frame: Frame) {
    let id = &connection.context.connection_id;
    let text = match &frame {
        Frame::Text(text) => text.as_str(),
        Frame::Binary(_) => "",
    };
    let meta = Meta::now(&state.region);
    let Some(route) = state.routes.route_for(text) else {
        let request_id = meta.id();
        state.observer.websocket(&WebSocketLog {
            route_key: state
                .routes
                .selected_key(text)
                .unwrap_or_else(|| "$default".to_string()),
            connection_id: id.clone(),
            function: None,
            invocation_log: None,
            outcome: "Forbidden: no such route and no $default".to_string(),
            duration_ms: 0,
        });
        reply_error(connection, "Forbidden", &request_id).await;
        return;
    };
    let event = events::message(&connection.context, &route.key, &frame, &meta);
    let request_id = event["requestContext"]["requestId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    match run(state, &route.key, &route.function, id, event).await {
        Outcome::Failed => reply_error(connection, "Internal server error", &request_id).await,
        Outcome::Answered(response) if route.two_way => {
            let body = match response.get("body") {
                None | Some(Value::Null) => return,
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
            };
            connection.send(Outgoing::Frame(Frame::Text(body))).await;
        }
        Outcome::Answered(_) => {}
    }
}

/// API Gateway's error message to the client: `{"message", "connectionId", "requestId"}`.
async fn reply_error(connection: &Connection, message: &str, request_id: &str) {
    let text = json!({
        "message": message,
        "connectionId": connection.context.connection_id,
        "requestId": request_id,
    })
    .to_string();
    connection.send(Outgoing::Frame(Frame::Text(text))).await;
}

/// Runs `$disconnect` (when there is one) for a connection that has closed.
pub async fn disconnect(
    state: &WebSocketState,
    connection: &ConnectionContext,
    code: u16,
    reason: &str,
) {
    let Some(route) = state.routes.get(DISCONNECT) else {
        return;
    };
    let event = events::disconnect(connection, code, reason, &Meta::now(&state.region));
    run(
        state,
        DISCONNECT,
        &route.function,
        &connection.connection_id,
        event,
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_numbers_or_numeric_strings_in_range() {
        assert_eq!(status_code(&json!(401)), Some(401));
        assert_eq!(status_code(&json!("200")), Some(200));
        assert_eq!(status_code(&json!(70000)), None);
        assert_eq!(status_code(&json!(true)), None);
    }
}
