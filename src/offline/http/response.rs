//! What API Gateway makes of a function's result: the proxy response formats (payload 1.0's
//! `statusCode`/`headers`/`multiValueHeaders`/`body`/`isBase64Encoded`, payload 2.0's with
//! `cookies`, and 2.0's simple response when the handler returns no `statusCode`), and the
//! answers API Gateway gives on its own (404, 502, 504).

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::offline::events::PayloadVersion;
use crate::offline::invoke::{ErrorCause, InvocationResult};

/// A response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Names lower-cased; a name may repeat (`set-cookie`).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A JSON `{"message": ...}` answer, as API Gateway writes its own errors.
    pub fn message(status: u16, message: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::json!({ "message": message })
                .to_string()
                .into_bytes(),
        }
    }

    pub fn not_found() -> HttpResponse {
        HttpResponse::message(404, "Not Found")
    }

    /// A handler error, a crash, or a response API Gateway cannot read.
    pub fn internal_error() -> HttpResponse {
        HttpResponse::message(502, "Internal server error")
    }

    pub fn timeout() -> HttpResponse {
        HttpResponse::message(504, "Endpoint request timed out")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn default_content_type(mut self) -> HttpResponse {
        if self.header("content-type").is_none() {
            self.headers
                .push(("content-type".into(), "application/json".into()));
        }
        self
    }
}

/// The response for a proxy integration's invocation result.
pub fn from_result(version: PayloadVersion, result: &InvocationResult) -> HttpResponse {
    match result {
        InvocationResult::Error {
            cause: ErrorCause::Timeout,
            ..
        } => HttpResponse::timeout(),
        InvocationResult::Error { .. } => HttpResponse::internal_error(),
        InvocationResult::Success(payload) => match version {
            PayloadVersion::Rest | PayloadVersion::HttpApiV1 => version_1(payload),
            PayloadVersion::V2 => version_2(payload),
        }
        .unwrap_or_else(HttpResponse::internal_error),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn status(value: Option<&Value>) -> Option<u16> {
    let status = match value? {
        Value::Number(number) => number.as_u64()?,
        Value::String(text) => text.trim().parse().ok()?,
        _ => return None,
    };
    u16::try_from(status)
        .ok()
        .filter(|s| (100..=599).contains(s))
}

fn body(map: &Map<String, Value>) -> Option<Vec<u8>> {
    let body = match map.get("body") {
        None | Some(Value::Null) => return Some(Vec::new()),
        Some(Value::String(text)) => text.clone(),
        // API Gateway wants a string; a handler that returns an object body gets it as JSON,
        // as serverless-offline does, rather than a 502 that hides what it sent.
        Some(other) => other.to_string(),
    };
    if map.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .ok()
    } else {
        Some(body.into_bytes())
    }
}

fn single_headers(map: &Map<String, Value>) -> Vec<(String, String)> {
    map.get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(name, value)| Some((name.to_ascii_lowercase(), text(value)?)))
        .collect()
}

/// Payload 1.0: `statusCode` is required; `multiValueHeaders` win over `headers` for a name
/// both give.
fn version_1(payload: &[u8]) -> Option<HttpResponse> {
    let value: Value = serde_json::from_slice(payload).ok()?;
    let map = value.as_object()?;
    let status = status(map.get("statusCode"))?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, values) in map
        .get("multiValueHeaders")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for value in values.as_array().into_iter().flatten() {
            if let Some(value) = text(value) {
                headers.push((name.to_ascii_lowercase(), value));
            }
        }
    }
    for (name, value) in single_headers(map) {
        if !headers.iter().any(|(existing, _)| *existing == name) {
            headers.push((name, value));
        }
    }
    Some(
        HttpResponse {
            status,
            headers,
            body: body(map)?,
        }
        .default_content_type(),
    )
}

/// Payload 2.0: an object with `statusCode` is a full response; anything else is the body of
/// a 200 `application/json` response (a string as is, other JSON as written).
fn version_2(payload: &[u8]) -> Option<HttpResponse> {
    let value: Value = match serde_json::from_slice(payload) {
        Ok(value) => value,
        Err(_) => return Some(simple(payload.to_vec())),
    };
    let Some(map) = value.as_object().filter(|m| m.contains_key("statusCode")) else {
        let body = match value {
            Value::String(text) => text.into_bytes(),
            other => other.to_string().into_bytes(),
        };
        return Some(simple(body));
    };
    let status = status(map.get("statusCode"))?;
    let mut headers = single_headers(map);
    for cookie in map
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        headers.push(("set-cookie".into(), cookie.to_string()));
    }
    Some(
        HttpResponse {
            status,
            headers,
            body: body(map)?,
        }
        .default_content_type(),
    )
}

fn simple(body: Vec<u8>) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn success(value: Value) -> InvocationResult {
        InvocationResult::Success(value.to_string().into_bytes())
    }

    #[test]
    fn rest_response_merges_headers_with_multi_value_ones_winning() {
        let response = from_result(
            PayloadVersion::Rest,
            &success(json!({
                "statusCode": 201,
                "headers": {"X-One": "1", "X-Both": "single", "Content-Type": "text/plain"},
                "multiValueHeaders": {"X-Both": ["a", "b"]},
                "body": "made",
            })),
        );
        assert_eq!(response.status, 201);
        assert_eq!(response.body, b"made");
        let both: Vec<&str> = response
            .headers
            .iter()
            .filter(|(k, _)| k == "x-both")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(both, ["a", "b"]);
        assert_eq!(response.header("x-one"), Some("1"));
        assert_eq!(response.header("content-type"), Some("text/plain"));
    }

    #[test]
    fn rest_response_without_status_code_is_a_502() {
        let response = from_result(PayloadVersion::Rest, &success(json!({"body": "x"})));
        assert_eq!(response.status, 502);
        assert_eq!(response.body, br#"{"message":"Internal server error"}"#);
        let response = from_result(PayloadVersion::Rest, &success(json!("just text")));
        assert_eq!(response.status, 502);
    }

    #[test]
    fn base64_bodies_are_decoded() {
        let response = from_result(
            PayloadVersion::V2,
            &success(
                json!({"statusCode": 200, "body": "iVAA/w==", "isBase64Encoded": true,
                "headers": {"content-type": "image/png"}}),
            ),
        );
        assert_eq!(response.body, [0x89, b'P', 0, 255]);
        assert_eq!(response.header("content-type"), Some("image/png"));
    }

    #[test]
    fn v2_simple_response_for_values_without_status_code() {
        let response = from_result(PayloadVersion::V2, &success(json!({"hello": "world"})));
        assert_eq!(response.status, 200);
        assert_eq!(response.body, br#"{"hello":"world"}"#);
        assert_eq!(response.header("content-type"), Some("application/json"));
        let response = from_result(PayloadVersion::V2, &success(json!("plain")));
        assert_eq!(response.body, b"plain");
    }

    #[test]
    fn v2_cookies_become_set_cookie_headers() {
        let response = from_result(
            PayloadVersion::V2,
            &success(json!({"statusCode": 200, "cookies": ["a=1", "b=2; Path=/"]})),
        );
        let cookies: Vec<&str> = response
            .headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(cookies, ["a=1", "b=2; Path=/"]);
    }

    #[test]
    fn handler_error_is_502_and_timeout_504() {
        let error = |cause| InvocationResult::Error {
            cause,
            payload: b"{}".to_vec(),
        };
        assert_eq!(
            from_result(PayloadVersion::V2, &error(ErrorCause::Handler)).status,
            502
        );
        assert_eq!(
            from_result(PayloadVersion::Rest, &error(ErrorCause::Crash)).status,
            502
        );
        assert_eq!(
            from_result(PayloadVersion::Rest, &error(ErrorCause::Timeout)).status,
            504
        );
    }
}
