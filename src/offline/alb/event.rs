//! The event an Application Load Balancer sends a Lambda target, and what it makes of the
//! function's result.
//!
//! The load balancer passes the path and the query as they arrived (not URL-decoded), header
//! names in lower case, and the body as text, or base64 when it is binary. With the target
//! group's multi-value headers on, headers and query parameters come as
//! `multiValueHeaders`/`multiValueQueryStringParameters` instead, and the response is read
//! from `multiValueHeaders` too. A result the load balancer cannot read, a function error or a
//! timeout is a `502 Bad Gateway` page, as the load balancer gives.

use base64::Engine as _;
use indexmap::IndexMap;
use serde_json::{json, Map, Value};

use super::rules::Rule;
use crate::offline::events::HttpRequest;
use crate::offline::http::response::HttpResponse;
use crate::offline::invoke::InvocationResult;

pub fn event(request: &HttpRequest, rule: &Rule) -> Value {
    let (body, is_base64) = request.event_body();
    let mut event = json!({
        "requestContext": { "elb": { "targetGroupArn": rule.target_group_arn } },
        "httpMethod": request.method,
        "path": request.path,
        "isBase64Encoded": is_base64,
        "body": body.unwrap_or_default(),
    });
    let mut headers: IndexMap<String, Vec<String>> = IndexMap::new();
    for (name, value) in &request.headers {
        headers
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(value.clone());
    }
    let mut query: IndexMap<String, Vec<String>> = IndexMap::new();
    for pair in request.raw_query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        query
            .entry(name.to_string())
            .or_default()
            .push(value.to_string());
    }
    if rule.multi_value_headers {
        event["multiValueHeaders"] = json!(headers);
        event["multiValueQueryStringParameters"] = json!(query);
    } else {
        let last = |map: IndexMap<String, Vec<String>>| -> Map<String, Value> {
            map.into_iter()
                .filter_map(|(name, mut values)| Some((name, Value::String(values.pop()?))))
                .collect()
        };
        event["headers"] = Value::Object(last(headers));
        event["queryStringParameters"] = Value::Object(last(query));
    }
    event
}

/// The load balancer's own error page.
pub fn bad_gateway() -> HttpResponse {
    HttpResponse {
        status: 502,
        headers: vec![("content-type".into(), "text/html".into())],
        body: b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n".to_vec(),
    }
}

pub fn response(result: &InvocationResult, multi_value_headers: bool) -> HttpResponse {
    let InvocationResult::Success(payload) = result else {
        return bad_gateway();
    };
    read_response(payload, multi_value_headers).unwrap_or_else(bad_gateway)
}

fn read_response(payload: &[u8], multi_value_headers: bool) -> Option<HttpResponse> {
    let value: Value = serde_json::from_slice(payload).ok()?;
    let map = value.as_object()?;
    let status = match map.get("statusCode")? {
        Value::Number(number) => u16::try_from(number.as_u64()?).ok()?,
        Value::String(text) => text.trim().parse().ok()?,
        _ => return None,
    };
    if !(100..=599).contains(&status) {
        return None;
    }
    let text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut headers = Vec::new();
    let key = if multi_value_headers {
        "multiValueHeaders"
    } else {
        "headers"
    };
    if let Some(Value::Object(given)) = map.get(key) {
        for (name, value) in given {
            match value {
                Value::Array(values) if multi_value_headers => {
                    for value in values {
                        headers.push((name.to_ascii_lowercase(), text(value)));
                    }
                }
                Value::Null => {}
                value => headers.push((name.to_ascii_lowercase(), text(value))),
            }
        }
    }
    let body = match map.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(body)) if map.get("isBase64Encoded") == Some(&Value::Bool(true)) => {
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .ok()?
        }
        Some(body) => text(body).into_bytes(),
    };
    Some(HttpResponse {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(multi_value_headers: bool) -> Rule {
        Rule {
            function: "f".into(),
            priority: 1,
            conditions: Default::default(),
            multi_value_headers,
            target_group_arn: "arn:tg".into(),
        }
    }

    fn request() -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            path: "/a%20b".into(),
            raw_query: "q=x%20y&q=z".into(),
            headers: vec![("Accept".into(), "a".into()), ("accept".into(), "b".into())],
            body: Vec::new(),
            source_ip: "127.0.0.1".into(),
        }
    }

    #[test]
    fn the_query_and_path_arrive_as_sent_and_repeats_keep_the_last_value() {
        let event = event(&request(), &rule(false));
        assert_eq!(event["path"], "/a%20b");
        assert_eq!(event["queryStringParameters"], json!({"q": "z"}));
        assert_eq!(event["headers"], json!({"accept": "b"}));
        assert_eq!(event["body"], "");
        assert!(event.get("multiValueHeaders").is_none());
    }

    #[test]
    fn multi_value_headers_give_every_value() {
        let event = event(&request(), &rule(true));
        assert_eq!(
            event["multiValueQueryStringParameters"],
            json!({"q": ["x%20y", "z"]})
        );
        assert_eq!(event["multiValueHeaders"], json!({"accept": ["a", "b"]}));
        assert!(event.get("headers").is_none());
    }

    #[test]
    fn a_result_without_status_code_or_an_error_is_a_502_page() {
        let success = |v: Value| InvocationResult::Success(v.to_string().into_bytes());
        assert_eq!(response(&success(json!({"body": "x"})), false).status, 502);
        let answered = response(
            &success(json!({"statusCode": 201, "headers": {"X-A": "1"}, "body": "made"})),
            false,
        );
        assert_eq!(answered.status, 201);
        assert_eq!(answered.headers, vec![("x-a".to_string(), "1".to_string())]);
        assert_eq!(answered.body, b"made");
        let multi = response(
            &success(
                json!({"statusCode": 200, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}}),
            ),
            true,
        );
        assert_eq!(multi.headers.len(), 2);
    }
}
