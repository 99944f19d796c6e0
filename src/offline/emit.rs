//! Delivering queue, topic, storage, bus and schedule events to a running emulator:
//! `POST /updraft/emit/{function}/{kind}` on the lambda port, which `updraft offline emit` calls.
//!
//! `kind` is `sqs`, `sns`, `s3`, `eventbridge` or `schedule`. The body is a JSON array of items
//! (or one item); each item is:
//! - `sqs`: a message body (a string as is, other JSON as its text); all items form one batch,
//!   as the event source mapping sends them;
//! - `sns`: a message (a string, or other JSON as its text); one invocation per item;
//! - `s3`: an object key, or `{"key", "bucket", "size", "eventName"}`; one invocation per item;
//! - `eventbridge`: `{"source", "detail-type", "detail"}`, or any JSON as the `detail`;
//! - `schedule`: ignored; the function's schedule fires once, with its `input` if it has one.
//!
//! ARNs, buckets and the schedule's input come from the function's own events when it has one
//! of that kind. The answer is `{"invocations": [{"requestId", "error", "payload"}]}`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::Response;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use super::events::{records, scheduled, Meta};
use super::http::into_axum;
use super::http::response::HttpResponse;
use super::invoke::{Invocation, InvocationResult, Invoker};
use super::invoke_api::{aws_error, FunctionNames};
use super::server::Observer;
use crate::manifest::model::{Function, Trigger};

/// The kinds `emit` delivers.
pub const KINDS: &[&str] = &["sqs", "sns", "s3", "eventbridge", "schedule"];

pub struct EmitState {
    pub functions: FunctionNames,
    /// What each function's events say about their sources, by key.
    pub sources: Vec<(String, Sources)>,
    pub invoker: Arc<dyn Invoker>,
    pub observer: Arc<dyn Observer>,
    pub region: String,
    /// The longest pause allowed within a request body.
    pub body_idle: std::time::Duration,
}

/// A function's event sources, as far as emitted events need them.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub queue_arn: Option<String>,
    pub topic_arn: Option<String>,
    pub bucket: Option<String>,
    /// The first schedule: rule name and input.
    pub schedule: Option<(String, Option<Value>)>,
}

impl Sources {
    pub fn of(service_name: &str, stage: &str, region: &str, function: &Function) -> Sources {
        let mut sources = Sources::default();
        let mut schedules = 0;
        for event in &function.events {
            match &event.trigger {
                Trigger::Queue { queue, .. } => {
                    sources
                        .queue_arn
                        .get_or_insert_with(|| match queue.as_str() {
                            Some(arn) if arn.starts_with("arn:") => arn.to_string(),
                            Some(name) => records::sqs_queue_arn(region, name),
                            // A CloudFormation reference: name the queue after its logical id.
                            None => records::sqs_queue_arn(region, &reference_name(queue)),
                        });
                }
                Trigger::Topic { topic, .. } => {
                    sources
                        .topic_arn
                        .get_or_insert_with(|| match topic.as_str() {
                            Some(arn) if arn.starts_with("arn:") => arn.to_string(),
                            Some(name) => records::sns_topic_arn(region, name),
                            None => records::sns_topic_arn(region, &reference_name(topic)),
                        });
                }
                Trigger::Storage { bucket, .. } => {
                    sources.bucket.get_or_insert_with(|| {
                        bucket
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| reference_name(bucket))
                    });
                }
                Trigger::Schedule { input, .. } => {
                    schedules += 1;
                    if sources.schedule.is_none() {
                        let rule =
                            format!("{service_name}-{stage}-{}-rule-{schedules}", function.key);
                        sources.schedule = Some((rule, input.clone()));
                    }
                }
                _ => {}
            }
        }
        sources
    }
}

/// `Ref: JobsQueue` or `Fn::GetAtt: [JobsQueue, Arn]` -> `JobsQueue`.
fn reference_name(value: &Value) -> String {
    reference(value)
        .map(|(name, _)| name)
        .unwrap_or("offline")
        .to_string()
}

/// A CloudFormation reference to a resource of the service: `Ref: Name` gives `(Name, None)`,
/// `Fn::GetAtt: [Name, Attribute]` (or `Name.Attribute`) gives `(Name, Some(Attribute))`.
pub(crate) fn reference(value: &Value) -> Option<(&str, Option<&str>)> {
    if let Some(name) = value.get("Ref").and_then(Value::as_str) {
        return Some((name, None));
    }
    match value.get("Fn::GetAtt")? {
        Value::Array(parts) => Some((
            parts.first()?.as_str()?,
            parts.get(1).and_then(Value::as_str),
        )),
        Value::String(dotted) => Some(match dotted.split_once('.') {
            Some((name, attribute)) => (name, Some(attribute)),
            None => (dotted.as_str(), None),
        }),
        _ => None,
    }
}

pub fn router(state: Arc<EmitState>) -> Router {
    Router::new()
        .route("/updraft/emit/{function}/{kind}", post(emit))
        .with_state(state)
}

async fn emit(
    State(state): State<Arc<EmitState>>,
    Path((function, kind)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Response<Body> {
    let limit = crate::offline::invoke::MAX_PAYLOAD_BYTES;
    let body = match super::invoke_api::read_body(&headers, body, limit, state.body_idle).await {
        Ok(body) => body,
        Err(refused) => return into_axum(refused),
    };
    into_axum(answer(&state, &function, &kind, &body).await)
}

fn item_text(item: &Value) -> String {
    match item {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The events an emit asks for, one per invocation.
pub fn build(
    kind: &str,
    items: &[Value],
    sources: &Sources,
    meta: &Meta,
) -> Result<Vec<Value>, String> {
    let region = meta.region.clone();
    let events = match kind {
        "sqs" => {
            let messages: Vec<records::SqsMessage> = items
                .iter()
                .map(|item| records::SqsMessage::text(&item_text(item)))
                .collect();
            let arn = sources
                .queue_arn
                .clone()
                .unwrap_or_else(|| records::sqs_queue_arn(&region, "offline"));
            vec![records::sqs(&messages, &arn, meta)]
        }
        "sns" => {
            let arn = sources
                .topic_arn
                .clone()
                .unwrap_or_else(|| records::sns_topic_arn(&region, "offline"));
            items
                .iter()
                .map(|item| {
                    let message = records::SnsMessage {
                        message: item_text(item),
                        subject: None,
                        attributes: serde_json::Map::new(),
                    };
                    records::sns(&message, &arn, meta)
                })
                .collect()
        }
        "s3" => items
            .iter()
            .map(|item| {
                let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_string);
                let object = records::S3Object {
                    bucket: text("bucket")
                        .or_else(|| sources.bucket.clone())
                        .unwrap_or_else(|| "offline".to_string()),
                    key: item
                        .as_str()
                        .map(str::to_string)
                        .or_else(|| text("key"))
                        .unwrap_or_else(|| "object".to_string()),
                    size: item.get("size").and_then(Value::as_u64).unwrap_or(0),
                    event_name: text("eventName").unwrap_or_else(|| "ObjectCreated:Put".into()),
                };
                records::s3(&object, meta)
            })
            .collect(),
        "eventbridge" => items
            .iter()
            .map(|item| {
                let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_string);
                let event = match (text("source"), item.get("detail")) {
                    (Some(source), detail) => scheduled::CustomEvent {
                        source,
                        detail_type: text("detail-type")
                            .or_else(|| text("detailType"))
                            .unwrap_or_else(|| "Custom Event".into()),
                        detail: detail.cloned().unwrap_or_else(|| json!({})),
                    },
                    (None, _) => scheduled::CustomEvent {
                        source: "updraft.offline".into(),
                        detail_type: "Custom Event".into(),
                        detail: item.clone(),
                    },
                };
                scheduled::custom(&event, meta)
            })
            .collect(),
        "schedule" => {
            let (rule, input) = sources
                .schedule
                .clone()
                .unwrap_or_else(|| ("offline-rule".to_string(), None));
            vec![scheduled::scheduled(
                &scheduled::rule_arn(&region, &rule),
                input.as_ref(),
                meta,
            )]
        }
        other => {
            return Err(format!(
                "unknown event kind `{other}`: use one of {}",
                KINDS.join(", ")
            ))
        }
    };
    Ok(events)
}

async fn answer(state: &EmitState, function: &str, kind: &str, body: &[u8]) -> HttpResponse {
    let Some(key) = state.functions.resolve(function) else {
        return aws_error(
            404,
            "ResourceNotFoundException",
            "User",
            &format!("Function not found: {function}"),
        );
    };
    let items = match serde_json::from_slice::<Value>(body) {
        _ if body.iter().all(u8::is_ascii_whitespace) => vec![json!({})],
        Ok(Value::Array(items)) if !items.is_empty() => items,
        Ok(Value::Array(_)) => vec![json!({})],
        Ok(item) => vec![item],
        // Not JSON: one text item (a message body, a key).
        Err(_) => vec![Value::String(String::from_utf8_lossy(body).into_owned())],
    };
    let sources = state
        .sources
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, s)| s.clone())
        .unwrap_or_default();
    let events = match build(kind, &items, &sources, &Meta::now(&state.region)) {
        Ok(events) => events,
        Err(message) => return aws_error(400, "InvalidParameterValueException", "User", &message),
    };
    let mut invocations = Vec::new();
    for event in events {
        let invocation = Invocation {
            payload: event.to_string().into_bytes(),
            ..Invocation::default()
        };
        match state.invoker.invoke(&key, invocation).await {
            Ok(completed) => {
                state.observer.invocation(&key, &completed);
                let (error, payload) = match &completed.result {
                    InvocationResult::Success(payload) => (false, payload),
                    InvocationResult::Error { payload, .. } => (true, payload),
                };
                let payload = serde_json::from_slice::<Value>(payload)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into()));
                invocations.push(json!({
                    "requestId": completed.request_id,
                    "error": error,
                    "payload": payload,
                }));
            }
            Err(error) => {
                return aws_error(500, "ServiceException", "Service", &error.to_string());
            }
        }
    }
    HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: json!({ "invocations": invocations })
            .to_string()
            .into_bytes(),
    }
}

/// Why `offline emit` could not deliver.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum EmitError {
    #[error("cannot reach the emulator at {address}: {source}")]
    #[diagnostic(help(
        "start it with `updraft offline` first, or point at it with --lambdaPort and --host"
    ))]
    Connect {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the emulator refused the event ({status}): {message}")]
    #[diagnostic(help("check the function name (`-f`) and the event kind (`--event`)"))]
    Refused { status: u16, message: String },
}

/// Sends an emit to a running emulator: `POST /updraft/emit/{function}/{kind}` over plain
/// HTTP/1.1 on loopback, and gives its JSON answer.
pub async fn send(
    address: std::net::SocketAddr,
    function: &str,
    kind: &str,
    items: &[Value],
) -> Result<Value, EmitError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let connect = |source| EmitError::Connect { address, source };
    let body = Value::Array(items.to_vec()).to_string();
    let path: String = [function, kind]
        .iter()
        .map(|part| {
            percent_encoding::utf8_percent_encode(part, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("/");
    let request = format!(
        "POST /updraft/emit/{path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(connect)?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(connect)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.map_err(connect)?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let answer: Value = serde_json::from_str(body).unwrap_or(Value::String(body.to_string()));
    if status != 200 {
        let message = answer
            .get("Message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| body.to_string());
        return Err(EmitError::Refused { status, message });
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqs_items_form_one_batch_and_sns_items_one_event_each() {
        let meta = Meta::fixed(0, "us-east-1");
        let sources = Sources {
            queue_arn: Some("arn:aws:sqs:us-east-1:123456789012:jobs".into()),
            ..Sources::default()
        };
        let items = [json!("a"), json!({"b": 1})];
        let events = build("sqs", &items, &sources, &meta).unwrap_or_default();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["Records"][1]["body"], r#"{"b":1}"#);
        assert_eq!(
            events[0]["Records"][0]["eventSourceARN"],
            "arn:aws:sqs:us-east-1:123456789012:jobs"
        );
        assert_eq!(
            build("sns", &items, &sources, &meta).map(|e| e.len()),
            Ok(2)
        );
    }

    #[test]
    fn schedule_emit_uses_the_functions_input() {
        let meta = Meta::fixed(0, "us-east-1");
        let sources = Sources {
            schedule: Some(("rule".into(), Some(json!({"source": "schedule"})))),
            ..Sources::default()
        };
        let events = build("schedule", &[json!({})], &sources, &meta).unwrap_or_default();
        assert_eq!(events, [json!({"source": "schedule"})]);
    }

    #[test]
    fn eventbridge_items_with_a_source_are_whole_events() {
        let meta = Meta::fixed(0, "us-east-1");
        let item = json!({"source": "shop", "detail-type": "Placed", "detail": {"id": 1}});
        let events = build("eventbridge", &[item], &Sources::default(), &meta).unwrap_or_default();
        assert_eq!(events[0]["source"], "shop");
        assert_eq!(events[0]["detail"], json!({"id": 1}));
        assert!(build("kinesis", &[], &Sources::default(), &meta).is_err());
    }
}
