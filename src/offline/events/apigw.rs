//! API Gateway proxy events: a REST API's (payload 1.0), and an HTTP API's (payload 2.0, or 1.0
//! when the API or the route asks for it), built from one HTTP request and the route it matched.
//!
//! Header names arrive lower-cased (HTTP/1.1 servers normalise them; HTTP APIs lower-case them
//! too). A body is passed as text when its `Content-Type` is textual (or absent) and it is valid
//! UTF-8; otherwise it is base64-encoded with `isBase64Encoded: true`, as HTTP APIs do.

use base64::Engine as _;
use indexmap::IndexMap;
use serde_json::{json, Map, Value};

use super::{Meta, ACCOUNT_ID};

/// One HTTP request as the emulator received it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    /// The path as received (with the stage prefix, if any), not decoded.
    pub path: String,
    /// The query string without `?`, not decoded.
    pub raw_query: String,
    /// In arrival order, names lower-cased; a name may repeat.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub source_ip: String,
}

/// Which event a route gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadVersion {
    /// An `http` event: a REST API, payload 1.0.
    Rest,
    /// An `httpApi` event with payload 1.0.
    HttpApiV1,
    /// An `httpApi` event with payload 2.0 (the default).
    V2,
}

/// The route a request matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    pub version: PayloadVersion,
    /// The route's method (`ANY` for every method).
    pub method: String,
    /// The route's path as declared: `/users/{id}`, `/{proxy+}`, or `*` (an HTTP API's default).
    pub resource: String,
    /// The request path as the API sees it: without the stage for a REST API.
    pub path: String,
    pub stage: String,
    /// Decoded.
    pub path_parameters: IndexMap<String, String>,
    pub api_id: String,
}

impl RouteMatch {
    /// An HTTP API's route key: `GET /users/{id}`, `ANY /x`, or `$default`.
    pub fn route_key(&self) -> String {
        if self.resource == "*" {
            "$default".to_string()
        } else {
            format!("{} {}", self.method, self.resource)
        }
    }
}

/// The event for a request on a route, in the route's payload version.
pub fn event(request: &HttpRequest, route: &RouteMatch, meta: &Meta) -> Value {
    match route.version {
        PayloadVersion::Rest | PayloadVersion::HttpApiV1 => version_1(request, route, meta),
        PayloadVersion::V2 => version_2(request, route, meta),
    }
}

/// What an authorizer let through, for `requestContext.authorizer`.
#[derive(Debug, Clone, PartialEq)]
pub enum Authorization {
    /// A Lambda authorizer's `context`, and the `principalId` of an IAM policy answer.
    Lambda {
        principal_id: Option<String>,
        context: Map<String, Value>,
    },
    /// A JWT authorizer's verified claims and the token's scopes.
    Jwt {
        claims: Map<String, Value>,
        scopes: Option<Vec<String>>,
    },
}

/// Puts what the authorizer and the API key check let through into a proxy event:
/// `requestContext.authorizer` (flat for payload 1.0, under `lambda` or `jwt` for 2.0) and a
/// REST API's `requestContext.identity.apiKey`.
pub fn authorize(
    event: &mut Value,
    version: PayloadVersion,
    authorization: Option<&Authorization>,
    api_key: Option<&str>,
) {
    let Some(context) = event
        .get_mut("requestContext")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if let Some(authorization) = authorization {
        let authorizer = match (version, authorization) {
            (PayloadVersion::V2, Authorization::Lambda { context, .. }) => {
                json!({ "lambda": context })
            }
            (PayloadVersion::V2, Authorization::Jwt { claims, scopes }) => {
                json!({ "jwt": { "claims": claims, "scopes": scopes } })
            }
            (
                _,
                Authorization::Lambda {
                    principal_id,
                    context,
                },
            ) => {
                let mut flat = Map::new();
                if let Some(principal_id) = principal_id {
                    flat.insert("principalId".into(), json!(principal_id));
                }
                flat.extend(context.clone());
                flat.insert("integrationLatency".into(), json!(0));
                Value::Object(flat)
            }
            (_, Authorization::Jwt { claims, scopes }) => {
                json!({ "claims": claims, "scopes": scopes })
            }
        };
        context.insert("authorizer".into(), authorizer);
    }
    if let (Some(key), Some(identity)) = (
        api_key,
        context.get_mut("identity").and_then(Value::as_object_mut),
    ) {
        identity.insert("apiKey".into(), json!(key));
        identity.insert("apiKeyId".into(), json!("offlineApiKeyId"));
    }
}

/// Media types whose bodies stay text; anything else (images, octet-stream...) is base64.
pub fn is_textual(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return true;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.is_empty()
        || essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-www-form-urlencoded"
                | "application/graphql"
                | "application/x-ndjson"
        )
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as the event carries it, and whether it is base64.
    pub fn event_body(&self) -> (Option<String>, bool) {
        if self.body.is_empty() {
            return (None, false);
        }
        match std::str::from_utf8(&self.body) {
            Ok(text) if is_textual(self.header("content-type")) => (Some(text.to_string()), false),
            _ => (
                Some(base64::engine::general_purpose::STANDARD.encode(&self.body)),
                true,
            ),
        }
    }

    /// Decoded query pairs in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.raw_query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

fn grouped(pairs: &[(String, String)]) -> IndexMap<String, Vec<String>> {
    let mut map: IndexMap<String, Vec<String>> = IndexMap::new();
    for (key, value) in pairs {
        map.entry(key.clone()).or_default().push(value.clone());
    }
    map
}

/// `{key: last}` and `{key: [all]}`, or nulls when empty, as payload 1.0 has them.
pub(crate) fn single_and_multi(pairs: &[(String, String)]) -> (Value, Value) {
    if pairs.is_empty() {
        return (Value::Null, Value::Null);
    }
    let groups = grouped(pairs);
    let single: Map<String, Value> = groups
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), Value::String(v.last()?.clone()))))
        .collect();
    let multi: Map<String, Value> = groups.into_iter().map(|(k, v)| (k, json!(v))).collect();
    (Value::Object(single), Value::Object(multi))
}

fn path_parameters(route: &RouteMatch) -> Value {
    if route.path_parameters.is_empty() {
        Value::Null
    } else {
        json!(route.path_parameters)
    }
}

fn domain(request: &HttpRequest) -> String {
    request.header("host").unwrap_or("localhost").to_string()
}

fn version_1(request: &HttpRequest, route: &RouteMatch, meta: &Meta) -> Value {
    let (headers, multi_headers) = single_and_multi(&request.headers);
    let (query, multi_query) = single_and_multi(&request.query_pairs());
    let (body, base64) = request.event_body();
    let request_id = meta.id();
    let resource = if route.resource == "*" {
        "$default".to_string()
    } else {
        route.resource.clone()
    };
    let mut event = Map::new();
    if route.version == PayloadVersion::HttpApiV1 {
        event.insert("version".into(), json!("1.0"));
    }
    event.insert("resource".into(), json!(resource));
    event.insert("path".into(), json!(route.path));
    event.insert("httpMethod".into(), json!(request.method));
    event.insert("headers".into(), headers);
    event.insert("multiValueHeaders".into(), multi_headers);
    event.insert("queryStringParameters".into(), query);
    event.insert("multiValueQueryStringParameters".into(), multi_query);
    event.insert("pathParameters".into(), path_parameters(route));
    event.insert("stageVariables".into(), Value::Null);
    event.insert(
        "requestContext".into(),
        json!({
            "accountId": ACCOUNT_ID,
            "apiId": route.api_id,
            "domainName": domain(request),
            "domainPrefix": route.api_id,
            "extendedRequestId": request_id,
            "httpMethod": request.method,
            "identity": {
                "accessKey": null,
                "accountId": null,
                "apiKey": null,
                "apiKeyId": null,
                "caller": null,
                "cognitoAuthenticationProvider": null,
                "cognitoAuthenticationType": null,
                "cognitoIdentityId": null,
                "cognitoIdentityPoolId": null,
                "sourceIp": request.source_ip,
                "user": null,
                "userAgent": request.header("user-agent"),
                "userArn": null,
            },
            "path": request.path,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": meta.clf(),
            "requestTimeEpoch": meta.epoch_ms,
            "resourceId": "offline",
            "resourcePath": resource,
            "stage": route.stage,
        }),
    );
    event.insert(
        "body".into(),
        body.map(Value::String).unwrap_or(Value::Null),
    );
    event.insert("isBase64Encoded".into(), json!(base64));
    Value::Object(event)
}

fn version_2(request: &HttpRequest, route: &RouteMatch, meta: &Meta) -> Value {
    let mut cookies = Vec::new();
    let mut headers: IndexMap<String, String> = IndexMap::new();
    for (name, value) in &request.headers {
        if name.eq_ignore_ascii_case("cookie") {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
            );
            continue;
        }
        headers
            .entry(name.to_ascii_lowercase())
            .and_modify(|joined| {
                joined.push(',');
                joined.push_str(value);
            })
            .or_insert_with(|| value.clone());
    }
    let query: Map<String, Value> = grouped(&request.query_pairs())
        .into_iter()
        .map(|(k, v)| (k, json!(v.join(","))))
        .collect();
    let (body, base64) = request.event_body();
    let route_key = route.route_key();
    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.insert("routeKey".into(), json!(route_key));
    event.insert("rawPath".into(), json!(request.path));
    event.insert("rawQueryString".into(), json!(request.raw_query));
    if !cookies.is_empty() {
        event.insert("cookies".into(), json!(cookies));
    }
    event.insert("headers".into(), json!(headers));
    if !query.is_empty() {
        event.insert("queryStringParameters".into(), Value::Object(query));
    }
    event.insert(
        "requestContext".into(),
        json!({
            "accountId": ACCOUNT_ID,
            "apiId": route.api_id,
            "domainName": domain(request),
            "domainPrefix": route.api_id,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": request.header("user-agent").unwrap_or_default(),
            },
            "requestId": meta.id(),
            "routeKey": route_key,
            "stage": route.stage,
            "time": meta.clf(),
            "timeEpoch": meta.epoch_ms,
        }),
    );
    if let Some(body) = body {
        event.insert("body".into(), json!(body));
    }
    if !route.path_parameters.is_empty() {
        event.insert("pathParameters".into(), json!(route.path_parameters));
    }
    event.insert("isBase64Encoded".into(), json!(base64));
    Value::Object(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)], query: &str, body: &[u8]) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            path: "/dev/items/a%20b".into(),
            raw_query: query.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_vec(),
            source_ip: "127.0.0.1".into(),
        }
    }

    fn route(version: PayloadVersion) -> RouteMatch {
        RouteMatch {
            version,
            method: "GET".into(),
            resource: "/items/{id}".into(),
            path: "/items/a%20b".into(),
            stage: "dev".into(),
            path_parameters: [("id".to_string(), "a b".to_string())]
                .into_iter()
                .collect(),
            api_id: "api".into(),
        }
    }

    #[test]
    fn rest_event_keeps_repeated_headers_and_queries_in_multi_value_maps() {
        let meta = Meta::fixed(0, "us-east-1");
        let req = request(&[("x-tag", "a"), ("x-tag", "b")], "q=1&q=2&s=a%2Bb", b"");
        let event = event(&req, &route(PayloadVersion::Rest), &meta);
        assert_eq!(event["headers"]["x-tag"], "b");
        assert_eq!(event["multiValueHeaders"]["x-tag"], json!(["a", "b"]));
        assert_eq!(event["queryStringParameters"]["q"], "2");
        assert_eq!(event["queryStringParameters"]["s"], "a+b");
        assert_eq!(
            event["multiValueQueryStringParameters"]["q"],
            json!(["1", "2"])
        );
        assert_eq!(event["pathParameters"]["id"], "a b");
        assert_eq!(event["path"], "/items/a%20b");
        assert_eq!(event["requestContext"]["path"], "/dev/items/a%20b");
        assert_eq!(event["body"], Value::Null);
        assert!(event.get("version").is_none());
    }

    #[test]
    fn rest_event_without_query_has_null_maps() {
        let meta = Meta::fixed(0, "us-east-1");
        let event = event(&request(&[], "", b""), &route(PayloadVersion::Rest), &meta);
        assert_eq!(event["queryStringParameters"], Value::Null);
        assert_eq!(event["multiValueQueryStringParameters"], Value::Null);
    }

    #[test]
    fn v2_event_moves_cookies_out_of_headers_and_joins_repeats() {
        let meta = Meta::fixed(0, "us-east-1");
        let req = request(
            &[("cookie", "a=1; b=2"), ("x-tag", "a"), ("x-tag", "b")],
            "q=1&q=2",
            b"",
        );
        let event = event(&req, &route(PayloadVersion::V2), &meta);
        assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
        assert!(event["headers"].get("cookie").is_none());
        assert_eq!(event["headers"]["x-tag"], "a,b");
        assert_eq!(event["queryStringParameters"]["q"], "1,2");
        assert_eq!(event["routeKey"], "GET /items/{id}");
        assert_eq!(event["rawQueryString"], "q=1&q=2");
    }

    #[test]
    fn binary_body_is_base64_and_json_body_is_text() {
        let meta = Meta::fixed(0, "us-east-1");
        let png = request(&[("content-type", "image/png")], "", &[0x89, b'P', 0, 255]);
        let event = event(&png, &route(PayloadVersion::V2), &meta);
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], "iVAA/w==");
        let text = request(&[("content-type", "application/json")], "", b"{\"a\":1}");
        let event = super::event(&text, &route(PayloadVersion::Rest), &meta);
        assert_eq!(event["isBase64Encoded"], false);
        assert_eq!(event["body"], "{\"a\":1}");
    }

    #[test]
    fn http_api_payload_1_has_a_version_and_default_route_resource() {
        let meta = Meta::fixed(0, "us-east-1");
        let mut default_route = route(PayloadVersion::HttpApiV1);
        default_route.resource = "*".into();
        let event = event(&request(&[], "", b""), &default_route, &meta);
        assert_eq!(event["version"], "1.0");
        assert_eq!(event["resource"], "$default");
    }
}
