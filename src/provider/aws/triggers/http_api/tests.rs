//! What an `httpApi` event turns into.

use serde_json::json;

use crate::plan::Reference;
use crate::provider::aws::naming::{self, kind};
use crate::provider::aws::triggers::test_support::{find, names, Fixture};
use crate::provider::ProviderError;

fn fixture(provider_http_api: serde_json::Value, functions: serde_json::Value) -> Fixture {
    Fixture::new(json!({
        "service": "shop",
        "provider": { "name": "aws", "httpApi": provider_http_api },
        "functions": functions,
    }))
}

#[test]
fn one_api_named_stage_then_service_with_a_route_per_event_and_an_integration_per_function() {
    let fixture = fixture(
        json!({}),
        json!({
            "hello": { "handler": "h.hello", "events": [
                {"httpApi": {"path": "/hello/{name}", "method": "get"}},
                {"httpApi": "POST /hello"},
            ]},
            "fallback": { "handler": "h.any", "events": [{"httpApi": "*"}] },
        }),
    );
    let resources = fixture.desired().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names(&resources, kind::HTTP_API), ["dev-shop"]);
    assert_eq!(
        names(&resources, kind::HTTP_API_ROUTE),
        ["GET /hello/{name}", "POST /hello", "$default"]
    );
    assert_eq!(
        names(&resources, kind::HTTP_API_INTEGRATION),
        ["shop-dev-hello", "shop-dev-fallback"]
    );
    let integration = find(&resources, kind::HTTP_API_INTEGRATION, "shop-dev-hello");
    assert_eq!(
        integration.properties["payload_format_version"],
        json!("2.0")
    );
    assert_eq!(
        integration.properties["integration_type"],
        json!("AWS_PROXY")
    );
    let function = naming::id(kind::FUNCTION, "shop-dev-hello");
    assert_eq!(
        integration.properties["integration_uri"],
        Reference::new(function.clone(), "arn").to_json()
    );
    let route = find(&resources, kind::HTTP_API_ROUTE, "POST /hello");
    assert_eq!(
        route.properties["integration_id"],
        Reference::new(integration.id.clone(), "id").to_json()
    );
    let stage = find(&resources, kind::HTTP_API_STAGE, "$default");
    assert_eq!(stage.properties["auto_deploy"], json!(true));
    let permission = find(
        &resources,
        kind::PERMISSION,
        "shop-dev-hello/updraft-event-http-api",
    );
    assert_eq!(
        permission.properties["principal"],
        json!("apigateway.amazonaws.com")
    );
    assert!(permission.depends_on.contains(&function));
    let api = find(&resources, kind::HTTP_API, "dev-shop");
    assert_eq!(api.properties["tags"][naming::SERVICE_TAG], json!("shop"));
    assert_eq!(api.properties["cors"], json!(null));
}

#[test]
fn cors_true_gives_the_framework_defaults_with_the_route_methods() {
    let fixture = fixture(
        json!({"cors": true, "payload": "1.0"}),
        json!({"hello": { "handler": "h.hello", "events": [
            {"httpApi": "GET /a"}, {"httpApi": "POST /b"}
        ]}}),
    );
    let resources = fixture.desired().unwrap_or_else(|e| panic!("{e}"));
    let cors = &find(&resources, kind::HTTP_API, "dev-shop").properties["cors"];
    assert_eq!(cors["allow_origins"], json!(["*"]));
    assert_eq!(cors["allow_methods"], json!(["GET", "OPTIONS", "POST"]));
    assert!(cors["allow_headers"]
        .as_array()
        .is_some_and(|h| h.contains(&json!("x-amzn-trace-id"))));
    let integration = find(&resources, kind::HTTP_API_INTEGRATION, "shop-dev-hello");
    assert_eq!(
        integration.properties["payload_format_version"],
        json!("1.0")
    );
}

#[test]
fn a_route_with_a_jwt_authorizer_points_at_the_authorizer_with_its_scopes() {
    let fixture = fixture(
        json!({"authorizers": {"auth": {
            "identitySource": "$request.header.Authorization",
            "issuerUrl": "https://issuer.example.com",
            "audience": ["shop"],
        }}}),
        json!({"hello": { "handler": "h.hello", "events": [
            {"httpApi": {"path": "/me", "method": "get",
                         "authorizer": {"name": "auth", "scopes": ["read"]}}}
        ]}}),
    );
    let resources = fixture.desired().unwrap_or_else(|e| panic!("{e}"));
    let authorizer = find(&resources, kind::HTTP_API_AUTHORIZER, "auth");
    assert_eq!(
        authorizer.properties["jwt_configuration"],
        json!({"audience": ["shop"], "issuer": "https://issuer.example.com"})
    );
    let route = find(&resources, kind::HTTP_API_ROUTE, "GET /me");
    assert_eq!(route.properties["authorization_type"], json!("JWT"));
    assert_eq!(route.properties["authorization_scopes"], json!(["read"]));
    assert!(route.depends_on.contains(&authorizer.id));
}

#[test]
fn an_authorizer_that_is_not_defined_is_refused_naming_the_function() {
    let fixture = fixture(
        json!({}),
        json!({"hello": { "handler": "h.hello", "events": [
            {"httpApi": {"path": "/me", "method": "get", "authorizer": "missing"}}
        ]}}),
    );
    match fixture.desired() {
        Err(ProviderError::Invalid { message, span, .. }) => {
            assert!(
                message.contains("hello") && message.contains("missing"),
                "{message}"
            );
            assert!(span.is_some());
        }
        other => panic!("expected an invalid event, got {other:?}"),
    }
}

#[test]
fn a_duplicate_route_is_refused() {
    let fixture = fixture(
        json!({}),
        json!({"hello": { "handler": "h.hello", "events": [
            {"httpApi": "GET /a"}, {"httpApi": "GET /a"}
        ]}}),
    );
    assert!(matches!(
        fixture.desired(),
        Err(ProviderError::Invalid { .. })
    ));
}

#[test]
fn a_lambda_request_authorizer_calls_the_function_with_its_settings_and_permission() {
    let fixture = fixture(
        json!({"authorizers": {"custom": {
            "type": "request",
            "functionName": "auth",
            "resultTtlInSeconds": 60,
            "identitySource": ["$request.header.Authorization"],
            "enableSimpleResponses": true,
        }}}),
        json!({
            "auth": { "handler": "h.auth" },
            "hello": { "handler": "h.hello", "events": [
                {"httpApi": {"path": "/me", "method": "get", "authorizer": {"name": "custom"}}}
            ]},
        }),
    );
    let resources = fixture.desired().unwrap_or_else(|e| panic!("{e}"));
    let authorizer = find(&resources, kind::HTTP_API_AUTHORIZER, "custom");
    assert_eq!(authorizer.properties["authorizer_type"], json!("REQUEST"));
    assert_eq!(
        authorizer.properties["function_arn"],
        Reference::new(naming::id(kind::FUNCTION, "shop-dev-auth"), "arn").to_json()
    );
    assert_eq!(authorizer.properties["result_ttl_in_seconds"], json!(60));
    assert_eq!(
        authorizer.properties["enable_simple_responses"],
        json!(true)
    );
    assert_eq!(
        authorizer.properties["payload_format_version"],
        json!("2.0")
    );
    let route = find(&resources, kind::HTTP_API_ROUTE, "GET /me");
    assert_eq!(route.properties["authorization_type"], json!("CUSTOM"));
    let permission = find(
        &resources,
        kind::PERMISSION,
        "shop-dev-auth/updraft-event-http-api-authorizer-custom",
    );
    assert_eq!(
        permission.properties["source_arn"],
        Reference::new(
            naming::id(kind::HTTP_API, "dev-shop"),
            "authorizers_source_arn"
        )
        .to_json()
    );
}

#[test]
fn a_request_authorizer_without_a_function_is_refused_naming_it() {
    let fixture = fixture(
        json!({"authorizers": {"custom": {"type": "request", "functionName": "nobody"}}}),
        json!({"hello": { "handler": "h.hello", "events": [{"httpApi": "GET /me"}]}}),
    );
    let error = fixture.desired().expect_err("refused");
    assert!(error.to_string().contains("functionName"), "{error}");
}
