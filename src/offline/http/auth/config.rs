//! Which authorizer guards a route, read from the manifest: an `http` event's `authorizer`
//! (a function of the service, by name or ARN, TOKEN or REQUEST) and an `httpApi` event's
//! `authorizer: {name, scopes}` resolved through `provider.httpApi.authorizers` (a Lambda
//! `request` authorizer or a `jwt` one).
//!
//! Authorizers the emulator cannot run (`aws_iam`, Cognito user pools, functions outside the
//! service, authorizers by id) resolve to `None`: the route is served without a check, as
//! serverless-offline does.

use serde_json::Value;

use crate::manifest::model::{Api, HttpTrigger, Service};
use crate::offline::http::routes::scalar_text;

/// Seconds an authorizer's answer is reused when `resultTtlInSeconds` is not set.
pub const DEFAULT_TTL_SECONDS: u64 = 300;

/// The authorizer of one route.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteAuthorizer {
    Lambda(LambdaAuthorizer),
    Jwt(JwtAuthorizer),
}

/// What a Lambda authorizer is sent and what it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizerPayload {
    /// A REST API's `TOKEN` authorizer: `{type, authorizationToken, methodArn}`.
    Token,
    /// A REST API's `REQUEST` authorizer: the 1.0 request with `type` and `methodArn`.
    RestRequest,
    /// An HTTP API's authorizer with `payloadVersion: '1.0'`.
    HttpApiV1,
    /// An HTTP API's authorizer with `payloadVersion: '2.0'` (the default).
    HttpApiV2,
}

impl AuthorizerPayload {
    pub fn is_rest(self) -> bool {
        matches!(
            self,
            AuthorizerPayload::Token | AuthorizerPayload::RestRequest
        )
    }
}

/// Where an identity is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// Lower-cased header name.
    Header(String),
    Query(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LambdaAuthorizer {
    /// The authorizer's name: its cache is its own.
    pub name: String,
    /// The key under `functions:` of the function that decides.
    pub function: String,
    pub payload: AuthorizerPayload,
    /// Every one must be present, or the request is refused without calling the function.
    pub identity_sources: Vec<IdentitySource>,
    /// 0 turns the cache off.
    pub ttl_seconds: u64,
    /// `enableSimpleResponses`: `{isAuthorized, context}` instead of an IAM policy.
    pub simple_responses: bool,
    /// A TOKEN authorizer's `identityValidationExpression`: a token that does not match is
    /// refused without calling the function.
    pub validation_expression: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JwtAuthorizer {
    pub name: String,
    /// Lower-cased header name carrying the token.
    pub header: String,
    pub issuer: String,
    pub audience: Vec<String>,
    /// The route's `scopes`: the token needs one of them (none: no scope check).
    pub scopes: Vec<String>,
}

/// An authorizer the emulator cannot run: its route is served without a check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error(
    "{method} {path} (function `{function}`): authorizer {authorizer} is not emulated; the route \
     is served without a check"
)]
#[diagnostic(help(
    "updraft offline runs Lambda authorizers that are functions of this service (by name or \
     ARN) and JWT authorizers of provider.httpApi.authorizers; check the authorizer's name"
))]
pub struct UnemulatedAuthorizer {
    pub function: String,
    pub method: String,
    pub path: String,
    /// The `authorizer` setting as written.
    pub authorizer: String,
}

/// Every route whose authorizer the emulator cannot run, to warn about at start.
pub fn unemulated(service: &Service) -> Vec<UnemulatedAuthorizer> {
    let mut found = Vec::new();
    for (key, function) in &service.functions {
        for event in &function.events {
            let crate::manifest::model::Trigger::Http(trigger) = &event.trigger else {
                continue;
            };
            let Some(setting) = &trigger.authorizer else {
                continue;
            };
            if route_authorizer(service, trigger).is_none() {
                found.push(UnemulatedAuthorizer {
                    function: key.clone(),
                    method: trigger.method.clone(),
                    path: trigger.path.clone(),
                    authorizer: setting.to_string(),
                });
            }
        }
    }
    found
}

/// The authorizer of an `http` or `httpApi` event, if it is one the emulator runs.
pub fn route_authorizer(service: &Service, trigger: &HttpTrigger) -> Option<RouteAuthorizer> {
    let setting = trigger.authorizer.as_ref()?;
    match trigger.api {
        Api::Rest => rest_authorizer(service, setting).map(RouteAuthorizer::Lambda),
        Api::HttpApi => http_api_authorizer(service, setting),
    }
}

fn rest_authorizer(service: &Service, setting: &Value) -> Option<LambdaAuthorizer> {
    let (name, function, settings) = match setting {
        Value::String(text) if text.eq_ignore_ascii_case("aws_iam") => return None,
        Value::String(text) => {
            let function = function_key(service, text)?;
            (function.clone(), function, None)
        }
        Value::Object(map) => {
            let kind = map.get("type").and_then(Value::as_str).unwrap_or("token");
            if !matches!(kind.to_ascii_lowercase().as_str(), "token" | "request") {
                return None;
            }
            let reference = map
                .get("arn")
                .and_then(Value::as_str)
                .or_else(|| map.get("name").and_then(Value::as_str))?;
            let function = function_key(service, reference)?;
            let name = map
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| function.clone());
            (name, function, Some(map))
        }
        _ => return None,
    };
    let text = |key: &str| settings.and_then(|s| s.get(key)).and_then(Value::as_str);
    let request = text("type").is_some_and(|t| t.eq_ignore_ascii_case("request"));
    let ttl_seconds = settings
        .and_then(|s| s.get("resultTtlInSeconds"))
        .and_then(number)
        .unwrap_or(DEFAULT_TTL_SECONDS);
    let declared = settings.and_then(|s| s.get("identitySource"));
    let identity_sources = match declared {
        Some(value) => identity_sources(value),
        // A REQUEST authorizer without a cache needs no identity source; a TOKEN one reads
        // `Authorization` unless told otherwise.
        None if request && ttl_seconds == 0 => Vec::new(),
        None => vec![IdentitySource::Header("authorization".to_string())],
    };
    Some(LambdaAuthorizer {
        name,
        function,
        payload: if request {
            AuthorizerPayload::RestRequest
        } else {
            AuthorizerPayload::Token
        },
        identity_sources,
        ttl_seconds,
        simple_responses: false,
        validation_expression: text("identityValidationExpression")
            .filter(|_| !request)
            .map(str::to_string),
    })
}

fn http_api_authorizer(service: &Service, setting: &Value) -> Option<RouteAuthorizer> {
    let (name, scopes) = match setting {
        Value::String(name) => (name.clone(), Vec::new()),
        Value::Object(map) => (
            map.get("name").and_then(Value::as_str)?.to_string(),
            strings(map.get("scopes")),
        ),
        _ => return None,
    };
    let declared = service.provider.http_api.authorizers.get(&name)?;
    let kind = declared
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    let identity = declared.get("identitySource");
    if kind.as_deref() == Some("request") {
        let reference = declared
            .get("functionName")
            .or_else(|| declared.get("functionArn"))
            .and_then(Value::as_str)?;
        let payload = match declared.get("payloadVersion").and_then(scalar_text) {
            Some(version) if version.starts_with('1') => AuthorizerPayload::HttpApiV1,
            _ => AuthorizerPayload::HttpApiV2,
        };
        return Some(RouteAuthorizer::Lambda(LambdaAuthorizer {
            name,
            function: function_key(service, reference)?,
            payload,
            identity_sources: identity.map(identity_sources).unwrap_or_default(),
            ttl_seconds: declared
                .get("resultTtlInSeconds")
                .and_then(number)
                .unwrap_or(DEFAULT_TTL_SECONDS),
            simple_responses: declared
                .get("enableSimpleResponses")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            validation_expression: None,
        }));
    }
    let is_jwt =
        kind.as_deref() == Some("jwt") || (kind.is_none() && declared.get("issuerUrl").is_some());
    if !is_jwt {
        return None;
    }
    let header = match identity.map(identity_sources).as_deref() {
        Some([IdentitySource::Header(header), ..]) => header.clone(),
        _ => "authorization".to_string(),
    };
    Some(RouteAuthorizer::Jwt(JwtAuthorizer {
        name,
        header,
        issuer: declared
            .get("issuerUrl")
            .and_then(Value::as_str)?
            .to_string(),
        audience: strings(declared.get("audience")),
        scopes,
    }))
}

/// A function of the service named by its key, its deployed name, or a Lambda ARN ending in
/// either.
fn function_key(service: &Service, reference: &str) -> Option<String> {
    let name = if reference.starts_with("arn:") {
        reference.split_once(":function:")?.1
    } else {
        reference
    };
    // An ARN may end in a version or alias: `...:function:name:live`.
    let name = name.split(':').next().unwrap_or(name);
    service
        .functions
        .iter()
        .find(|(key, function)| key.as_str() == name || function.name == name)
        .map(|(key, _)| key.clone())
}

/// The Lambda authorizer of a WebSocket `$connect` route: a function of the service, named as
/// a string, `{name}` or `{arn}`; its identity is the `Auth` header unless `identitySource`
/// says otherwise, as the Framework writes it. `None` for an authorizer that is not a function
/// of the service.
pub fn websocket_authorizer(service: &Service, setting: &Value) -> Option<LambdaAuthorizer> {
    let (reference, settings) = match setting {
        Value::String(text) => (text.as_str(), None),
        Value::Object(map) => (
            map.get("arn")
                .and_then(Value::as_str)
                .or_else(|| map.get("name").and_then(Value::as_str))?,
            Some(map),
        ),
        _ => return None,
    };
    let function = function_key(service, reference)?;
    let name = settings
        .and_then(|s| s.get("name"))
        .and_then(Value::as_str)
        .map_or_else(|| function.clone(), str::to_string);
    let identity_sources = match settings.and_then(|s| s.get("identitySource")) {
        Some(value) => identity_sources(value),
        None => vec![IdentitySource::Header("auth".to_string())],
    };
    Some(LambdaAuthorizer {
        name,
        function,
        payload: AuthorizerPayload::RestRequest,
        identity_sources,
        // WebSocket APIs do not cache authorizer answers.
        ttl_seconds: 0,
        simple_responses: false,
        validation_expression: None,
    })
}

/// `method.request.header.Authorization`, `$request.header.Authorization`,
/// `route.request.header.Auth` (WebSocket APIs),
/// `$request.querystring.token`, comma-separated or as a list. Context and stage variables are
/// always present offline, so they are not checked.
fn identity_sources(value: &Value) -> Vec<IdentitySource> {
    let texts: Vec<String> = match value {
        Value::String(text) => text.split(',').map(|t| t.trim().to_string()).collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|t| t.trim().to_string())
            .collect(),
        _ => Vec::new(),
    };
    texts
        .iter()
        .filter_map(|text| {
            let rest = text
                .strip_prefix("method.request.")
                .or_else(|| text.strip_prefix("$request."))
                .or_else(|| text.strip_prefix("route.request."))?;
            if let Some(header) = rest.strip_prefix("header.") {
                Some(IdentitySource::Header(header.to_ascii_lowercase()))
            } else {
                rest.strip_prefix("querystring.")
                    .map(|name| IdentitySource::Query(name.to_string()))
            }
        })
        .collect()
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::manifest::model::Trigger;
    use crate::manifest::source::Span;
    use crate::manifest::Node;

    fn authorizers(functions: Value, http_api: Value) -> Vec<Option<RouteAuthorizer>> {
        let manifest = json!({
            "service": "shop",
            "provider": {"name": "aws", "runtime": "nodejs20.x", "httpApi": http_api},
            "functions": functions,
        });
        let service = Service::from_tree(&Node::from_json(&manifest, Span::default()))
            .unwrap_or_else(|e| panic!("{e}"));
        service
            .functions
            .values()
            .flat_map(|f| &f.events)
            .filter_map(|event| match &event.trigger {
                Trigger::Http(trigger) => Some(route_authorizer(&service, trigger)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn rest_authorizers_default_to_token_on_authorization_for_300_seconds() {
        let found = authorizers(
            json!({
                "auth": {"handler": "a.handler"},
                "api": {"handler": "h.handler", "events": [
                    {"http": {"path": "a", "method": "get", "authorizer": "auth"}},
                    {"http": {"path": "b", "method": "get", "authorizer": {
                        "arn": "arn:aws:lambda:us-east-1:123456789012:function:shop-dev-auth",
                        "type": "request", "resultTtlInSeconds": 0}}},
                    {"http": {"path": "c", "method": "get", "authorizer": "missing"}},
                    {"http": {"path": "d", "method": "get", "authorizer": "aws_iam"}},
                ]},
            }),
            json!({}),
        );
        let Some(RouteAuthorizer::Lambda(token)) = &found[0] else {
            panic!("{found:?}")
        };
        assert_eq!(token.function, "auth");
        assert_eq!(token.payload, AuthorizerPayload::Token);
        assert_eq!(
            token.identity_sources,
            [IdentitySource::Header("authorization".into())]
        );
        assert_eq!(token.ttl_seconds, DEFAULT_TTL_SECONDS);
        let Some(RouteAuthorizer::Lambda(request)) = &found[1] else {
            panic!("{found:?}")
        };
        assert_eq!(request.function, "auth");
        assert_eq!(request.payload, AuthorizerPayload::RestRequest);
        assert!(request.identity_sources.is_empty());
        assert_eq!(found[2], None);
        assert_eq!(found[3], None);
    }

    #[test]
    fn http_api_authorizers_resolve_through_the_provider() {
        let found = authorizers(
            json!({
                "auth": {"handler": "a.handler"},
                "api": {"handler": "h.handler", "events": [
                    {"httpApi": {"path": "/a", "method": "get", "authorizer": {"name": "lambda"}}},
                    {"httpApi": {"path": "/b", "method": "get",
                        "authorizer": {"name": "jwt", "scopes": ["read"]}}},
                ]},
            }),
            json!({"authorizers": {
                "lambda": {"type": "request", "functionName": "auth",
                    "identitySource": ["$request.header.X-Token", "$request.querystring.t"],
                    "payloadVersion": "1.0"},
                "jwt": {"identitySource": "$request.header.X-Jwt",
                    "issuerUrl": "https://issuer.test", "audience": "app"},
            }}),
        );
        let Some(RouteAuthorizer::Lambda(lambda)) = &found[0] else {
            panic!("{found:?}")
        };
        assert_eq!(lambda.payload, AuthorizerPayload::HttpApiV1);
        assert_eq!(
            lambda.identity_sources,
            [
                IdentitySource::Header("x-token".into()),
                IdentitySource::Query("t".into())
            ]
        );
        let Some(RouteAuthorizer::Jwt(jwt)) = &found[1] else {
            panic!("{found:?}")
        };
        assert_eq!(jwt.header, "x-jwt");
        assert_eq!(jwt.audience, ["app"]);
        assert_eq!(jwt.scopes, ["read"]);
    }
}
