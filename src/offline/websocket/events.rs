//! The events API Gateway hands a WebSocket route's function (Lambda proxy integration):
//! `CONNECT` with the upgrade request's headers and query, `MESSAGE` with the frame's text, and
//! `DISCONNECT` with the close code and reason.

use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::offline::events::apigw::single_and_multi;
use crate::offline::events::Meta;

/// What every event of one connection shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionContext {
    pub connection_id: String,
    /// Milliseconds since the epoch.
    pub connected_at: i64,
    /// The host the client connected to, without the port (as API Gateway's own domain is).
    pub domain_name: String,
    pub stage: String,
    pub api_id: String,
    pub source_ip: String,
    pub user_agent: Option<String>,
}

/// A message frame as the event carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

fn request_context(
    connection: &ConnectionContext,
    route_key: &str,
    event_type: &str,
    meta: &Meta,
) -> Map<String, Value> {
    let request_id = meta.id();
    let context = json!({
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": meta.clf(),
        "messageDirection": "IN",
        "stage": connection.stage,
        "connectedAt": connection.connected_at,
        "requestTimeEpoch": meta.epoch_ms,
        "identity": {
            "sourceIp": connection.source_ip,
            "userAgent": connection.user_agent,
        },
        "requestId": request_id,
        "domainName": connection.domain_name,
        "connectionId": connection.connection_id,
        "apiId": connection.api_id,
    });
    match context {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `$connect`: the upgrade request's headers and query string.
pub fn connect(
    connection: &ConnectionContext,
    headers: &[(String, String)],
    query: &[(String, String)],
    meta: &Meta,
) -> Value {
    let (headers, multi_headers) = single_and_multi(headers);
    let (query, multi_query) = single_and_multi(query);
    let mut event = Map::new();
    event.insert("headers".into(), headers);
    event.insert("multiValueHeaders".into(), multi_headers);
    // API Gateway leaves the query keys out when there is no query string.
    if !query.is_null() {
        event.insert("queryStringParameters".into(), query);
        event.insert("multiValueQueryStringParameters".into(), multi_query);
    }
    event.insert(
        "requestContext".into(),
        Value::Object(request_context(connection, CONNECT_KEY, "CONNECT", meta)),
    );
    event.insert("isBase64Encoded".into(), json!(false));
    Value::Object(event)
}

const CONNECT_KEY: &str = super::routes::CONNECT;

/// A message routed to `route_key`; binary frames come base64-encoded.
pub fn message(
    connection: &ConnectionContext,
    route_key: &str,
    frame: &Frame,
    meta: &Meta,
) -> Value {
    let mut context = request_context(connection, route_key, "MESSAGE", meta);
    context.insert("messageId".into(), json!(meta.id()));
    let (body, base64) = match frame {
        Frame::Text(text) => (text.clone(), false),
        Frame::Binary(bytes) => (
            base64::engine::general_purpose::STANDARD.encode(bytes),
            true,
        ),
    };
    json!({
        "requestContext": context,
        "body": body,
        "isBase64Encoded": base64,
    })
}

/// `$disconnect`, with the close code and reason (the client's, or the server's when it closed).
pub fn disconnect(
    connection: &ConnectionContext,
    status_code: u16,
    reason: &str,
    meta: &Meta,
) -> Value {
    let mut context = request_context(connection, super::routes::DISCONNECT, "DISCONNECT", meta);
    context.insert("disconnectStatusCode".into(), json!(status_code));
    context.insert("disconnectReason".into(), json!(reason));
    let host = connection.domain_name.clone();
    json!({
        "headers": {"Host": host, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""},
        "multiValueHeaders": {
            "Host": [host], "x-api-key": [""], "X-Forwarded-For": [""], "x-restapi": [""],
        },
        "requestContext": context,
        "isBase64Encoded": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> ConnectionContext {
        ConnectionContext {
            connection_id: "abc=".into(),
            connected_at: 1_700_000_000_000,
            domain_name: "localhost".into(),
            stage: "dev".into(),
            api_id: "api".into(),
            source_ip: "127.0.0.1".into(),
            user_agent: None,
        }
    }

    #[test]
    fn connect_event_leaves_out_the_query_when_there_is_none() {
        let meta = Meta::fixed(1_700_000_000_000, "us-east-1");
        let event = connect(&connection(), &[("Host".into(), "x".into())], &[], &meta);
        assert!(event.get("queryStringParameters").is_none());
        assert_eq!(event["requestContext"]["eventType"], "CONNECT");
        assert_eq!(event["multiValueHeaders"]["Host"], json!(["x"]));
    }

    #[test]
    fn binary_messages_are_base64() {
        let meta = Meta::fixed(1_700_000_000_000, "us-east-1");
        let event = message(&connection(), "$default", &Frame::Binary(vec![0, 1]), &meta);
        assert_eq!(event["body"], "AAE=");
        assert_eq!(event["isBase64Encoded"], true);
    }
}
