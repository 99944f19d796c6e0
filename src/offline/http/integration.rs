//! `integration: lambda` (API Gateway's non-proxy integration) with the Framework's default
//! request template and default responses.
//!
//! The event is the template's object (`body`, `method`, `headers`, `query`, `path`, `identity`,
//! `stageVariables`, `requestPath`...), not the proxy event. The result is the 200 response's
//! JSON body. A function error picks its status the way the Framework's default response
//! patterns do: an `errorMessage` containing `[400]`, `[401]`, `[403]`, `[404]`, `[422]`,
//! `[500]` or `[502]` gives that status, a timeout 504, and anything else falls to the default
//! 200 with the error object as the body, as API Gateway does.

use serde_json::{json, Map, Value};

use super::response::HttpResponse;
use crate::offline::events::{HttpRequest, RouteMatch};
use crate::offline::invoke::{ErrorCause, InvocationResult};

const ERROR_STATUSES: &[u16] = &[400, 401, 403, 404, 422, 500, 502, 504];

/// The default request template's event.
pub fn request_event(request: &HttpRequest, route: &RouteMatch) -> Value {
    let content_type = request.header("content-type").unwrap_or_default();
    let body = if request.body.is_empty() {
        json!({})
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let fields: Map<String, Value> = form_urlencoded::parse(&request.body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        Value::Object(fields)
    } else {
        serde_json::from_slice(&request.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&request.body).into()))
    };
    let headers: Map<String, Value> = request
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let query: Map<String, Value> = request
        .query_pairs()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    json!({
        "body": body,
        "method": request.method,
        "principalId": "",
        "stage": route.stage,
        "cognitoPoolClaims": { "sub": "" },
        "enhancedAuthContext": {},
        "headers": headers,
        "query": query,
        "path": route.path_parameters,
        "identity": {
            "cognitoIdentityPoolId": "",
            "accountId": "",
            "cognitoIdentityId": "",
            "caller": "",
            "sourceIp": request.source_ip,
            "accessKey": "",
            "cognitoAuthenticationType": "",
            "cognitoAuthenticationProvider": "",
            "userArn": "",
            "userAgent": request.header("user-agent").unwrap_or_default(),
            "user": "",
        },
        "stageVariables": {},
        "requestPath": route.resource,
    })
}

/// The response for a non-proxy invocation's result.
pub fn response(result: &InvocationResult) -> HttpResponse {
    let (status, body) = match result {
        InvocationResult::Success(payload) => (200, payload.clone()),
        InvocationResult::Error {
            cause: ErrorCause::Timeout,
            payload,
        } => (504, payload.clone()),
        InvocationResult::Error { payload, .. } => {
            let message = serde_json::from_slice::<Value>(payload)
                .ok()
                .and_then(|v| {
                    v.get("errorMessage")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_default();
            let status = ERROR_STATUSES
                .iter()
                .copied()
                .find(|code| message.contains(&format!("[{code}]")))
                .unwrap_or(200);
            (status, payload.clone())
        }
    };
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body,
    }
}

#[cfg(test)]
mod tests {
    use crate::offline::events::PayloadVersion;

    use super::*;

    #[test]
    fn template_parses_json_and_form_bodies() {
        let route = RouteMatch {
            version: PayloadVersion::Rest,
            method: "POST".into(),
            resource: "/items/{id}".into(),
            path: "/items/7".into(),
            stage: "dev".into(),
            path_parameters: [("id".to_string(), "7".to_string())].into_iter().collect(),
            api_id: "api".into(),
        };
        let mut request = HttpRequest {
            method: "POST".into(),
            path: "/dev/items/7".into(),
            raw_query: "q=1".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"a":1}"#.to_vec(),
            source_ip: "127.0.0.1".into(),
        };
        let event = request_event(&request, &route);
        assert_eq!(event["body"], json!({"a": 1}));
        assert_eq!(event["path"], json!({"id": "7"}));
        assert_eq!(event["query"], json!({"q": "1"}));
        assert_eq!(event["requestPath"], "/items/{id}");
        request.headers = vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )];
        request.body = b"name=Ada+L".to_vec();
        assert_eq!(
            request_event(&request, &route)["body"],
            json!({"name": "Ada L"})
        );
    }

    #[test]
    fn error_status_follows_the_default_response_patterns() {
        let error = |message: &str, cause| InvocationResult::Error {
            cause,
            payload: json!({"errorMessage": message}).to_string().into_bytes(),
        };
        assert_eq!(
            response(&error("[404] no such item", ErrorCause::Handler)).status,
            404
        );
        assert_eq!(response(&error("boom", ErrorCause::Handler)).status, 200);
        assert_eq!(response(&error("", ErrorCause::Timeout)).status, 504);
        assert_eq!(
            response(&InvocationResult::Success(b"{}".to_vec())).status,
            200
        );
    }
}
