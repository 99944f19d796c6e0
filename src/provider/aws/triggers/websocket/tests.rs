//! What `websocket` events turn into.

use serde_json::json;

use crate::plan::Reference;
use crate::provider::aws::naming::{self, kind};
use crate::provider::aws::triggers::test_support::{find, names, Fixture};
use crate::provider::ProviderError;

fn fixture(provider: serde_json::Value, functions: serde_json::Value) -> Fixture {
    let mut provider_settings = json!({ "name": "aws", "region": "us-east-1" });
    if let (Some(target), Some(extra)) = (provider_settings.as_object_mut(), provider.as_object()) {
        target.extend(extra.clone());
    }
    Fixture::new(json!({
        "service": "chat",
        "provider": provider_settings,
        "functions": functions,
    }))
}

/// `$connect` with an authorizer `auth`, `$disconnect`, `$default` and `sendMessage`.
fn chat_functions() -> serde_json::Value {
    json!({
        "connect": { "handler": "h.connect", "events": [
            {"websocket": {"route": "$connect", "authorizer": {"name": "auth", "identitySource": ["route.request.header.Auth", "route.request.querystring.token"]}}},
            {"websocket": "$disconnect"},
        ]},
        "default": { "handler": "h.default", "events": [{"websocket": {"route": "$default"}}] },
        "message": { "handler": "h.message", "events": [
            {"websocket": {"route": "sendMessage", "routeResponseSelectionExpression": "$default"}},
        ]},
        "auth": { "handler": "h.auth" },
    })
}

#[test]
fn one_api_with_the_framework_defaults_a_route_per_event_and_an_integration_per_function() {
    let resources = fixture(json!({}), chat_functions())
        .desired()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        names(&resources, kind::WEBSOCKET_API),
        ["dev-chat-websockets"]
    );
    let api = find(&resources, kind::WEBSOCKET_API, "dev-chat-websockets");
    assert_eq!(api.properties["protocol_type"], json!("WEBSOCKET"));
    assert_eq!(
        api.properties["route_selection_expression"],
        json!("$request.body.action")
    );
    assert_eq!(
        api.properties["description"],
        json!("Serverless Websockets")
    );
    assert_eq!(api.properties["tags"][naming::SERVICE_TAG], json!("chat"));
    let mut routes = names(&resources, kind::WEBSOCKET_ROUTE);
    routes.sort();
    assert_eq!(
        routes,
        ["$connect", "$default", "$disconnect", "sendMessage"]
    );
    let mut integrations = names(&resources, kind::WEBSOCKET_INTEGRATION);
    integrations.sort();
    assert_eq!(
        integrations,
        ["chat-dev-connect", "chat-dev-default", "chat-dev-message"],
        "one integration per function, none for the authorizer"
    );
    let integration = find(&resources, kind::WEBSOCKET_INTEGRATION, "chat-dev-connect");
    assert_eq!(
        integration.properties["integration_type"],
        json!("AWS_PROXY")
    );
    let function = naming::id(kind::FUNCTION, "chat-dev-connect");
    assert_eq!(
        integration.properties["function_arn"],
        Reference::new(function.clone(), "arn").to_json()
    );
    let disconnect = find(&resources, kind::WEBSOCKET_ROUTE, "$disconnect");
    assert_eq!(
        disconnect.properties["integration_id"],
        Reference::new(integration.id.clone(), "id").to_json(),
        "two routes of one function share its integration"
    );
    let permission = find(
        &resources,
        kind::PERMISSION,
        "chat-dev-connect/updraft-event-websocket-api",
    );
    assert_eq!(
        permission.properties["principal"],
        json!("apigateway.amazonaws.com")
    );
    let api_id = naming::id(kind::WEBSOCKET_API, "dev-chat-websockets");
    assert_eq!(
        permission.properties["source_arn"],
        Reference::new(api_id, "source_arn").to_json()
    );
}

#[test]
fn the_authorizer_is_a_request_authorizer_on_connect_only_and_its_function_may_be_called() {
    let resources = fixture(json!({}), chat_functions())
        .desired()
        .unwrap_or_else(|e| panic!("{e}"));
    let authorizer = find(&resources, kind::WEBSOCKET_AUTHORIZER, "auth");
    assert_eq!(authorizer.properties["authorizer_type"], json!("REQUEST"));
    assert_eq!(
        authorizer.properties["identity_source"],
        json!([
            "route.request.header.Auth",
            "route.request.querystring.token"
        ])
    );
    assert_eq!(
        authorizer.properties["function_arn"],
        Reference::new(naming::id(kind::FUNCTION, "chat-dev-auth"), "arn").to_json()
    );
    let connect = find(&resources, kind::WEBSOCKET_ROUTE, "$connect");
    assert_eq!(connect.properties["authorization_type"], json!("CUSTOM"));
    assert_eq!(
        connect.properties["authorizer_id"],
        Reference::new(authorizer.id.clone(), "id").to_json()
    );
    for other in ["$disconnect", "$default", "sendMessage"] {
        let route = find(&resources, kind::WEBSOCKET_ROUTE, other);
        assert_eq!(route.properties["authorization_type"], json!("NONE"));
        assert_eq!(route.properties["authorizer_id"], json!(null));
    }
    let permission = find(
        &resources,
        kind::PERMISSION,
        "chat-dev-auth/updraft-event-websocket-authorizer-auth",
    );
    let api = naming::id(kind::WEBSOCKET_API, "dev-chat-websockets");
    assert_eq!(
        permission.properties["source_arn"],
        Reference::new(api, "authorizers_source_arn").to_json()
    );
}

#[test]
fn an_authorizer_by_arn_gets_the_default_identity_source_and_no_permission() {
    let resources = fixture(
        json!({}),
        json!({"connect": {"handler": "h.connect", "events": [
            {"websocket": {"route": "$connect",
                "authorizer": {"arn": "arn:aws:lambda:us-east-1:123456789012:function:shared-auth"}}},
        ]}}),
    )
    .desired()
    .unwrap_or_else(|e| panic!("{e}"));
    let authorizer = find(&resources, kind::WEBSOCKET_AUTHORIZER, "shared-auth");
    assert_eq!(
        authorizer.properties["identity_source"],
        json!(["route.request.header.Auth"])
    );
    assert_eq!(
        authorizer.properties["function_arn"],
        json!("arn:aws:lambda:us-east-1:123456789012:function:shared-auth")
    );
    assert!(
        !resources
            .iter()
            .any(|r| r.id.name.contains("websocket-authorizer")),
        "a function the service does not own is granted by its owner"
    );
}

#[test]
fn an_authorizer_on_a_route_other_than_connect_is_refused_with_its_place_and_fix() {
    let error = fixture(
        json!({}),
        json!({"send": {"handler": "h.send", "events": [
            {"websocket": {"route": "sendMessage", "authorizer": "auth"}},
        ]}, "auth": {"handler": "h.auth"}}),
    )
    .desired()
    .err();
    match error {
        Some(ProviderError::Invalid {
            message,
            span,
            help,
        }) => {
            assert!(message.contains("sendMessage"), "{message}");
            assert!(message.contains("function `send`"), "{message}");
            assert!(span.is_some(), "the error points at the event");
            assert!(help.contains("$connect"), "{help}");
        }
        other => panic!("expected the authorizer to be refused, got {other:?}"),
    }
}

#[test]
fn an_authorizer_that_is_no_function_of_the_service_is_refused() {
    let error = fixture(
        json!({}),
        json!({"connect": {"handler": "h.connect", "events": [
            {"websocket": {"route": "$connect", "authorizer": "missing"}},
        ]}}),
    )
    .desired()
    .err();
    assert!(
        matches!(&error, Some(ProviderError::Invalid { message, .. }) if message.contains("`missing`")),
        "{error:?}"
    );
}

#[test]
fn a_response_selection_expression_is_set_on_the_route_with_a_default_route_response() {
    let resources = fixture(json!({}), chat_functions())
        .desired()
        .unwrap_or_else(|e| panic!("{e}"));
    let send = find(&resources, kind::WEBSOCKET_ROUTE, "sendMessage");
    assert_eq!(
        send.properties["route_response_selection_expression"],
        json!("$default")
    );
    assert!(
        send.replace_when
            .contains("route_response_selection_expression"),
        "API Gateway cannot take it off a route in place"
    );
    assert_eq!(
        names(&resources, kind::WEBSOCKET_ROUTE_RESPONSE),
        ["sendMessage"]
    );
    let response = find(&resources, kind::WEBSOCKET_ROUTE_RESPONSE, "sendMessage");
    assert_eq!(response.properties["route_response_key"], json!("$default"));
    assert_eq!(
        response.properties["route_id"],
        Reference::new(send.id.clone(), "id").to_json()
    );
}

#[test]
fn the_provider_names_the_api_its_route_selection_and_description() {
    let resources = fixture(
        json!({
            "websocketsApiName": "chat-sockets",
            "websocketsApiRouteSelectionExpression": "$request.body.route",
            "websocketsDescription": "Chat",
        }),
        json!({"connect": {"handler": "h.connect", "events": [{"websocket": "$connect"}]}}),
    )
    .desired()
    .unwrap_or_else(|e| panic!("{e}"));
    let api = find(&resources, kind::WEBSOCKET_API, "chat-sockets");
    assert_eq!(
        api.properties["route_selection_expression"],
        json!("$request.body.route")
    );
    assert_eq!(api.properties["description"], json!("Chat"));
}

#[test]
fn the_stage_is_named_after_the_stage_and_serves_a_deployment_that_hashes_the_routes() {
    let deployment_hash = |functions: serde_json::Value| {
        let resources = fixture(json!({}), functions)
            .desired()
            .unwrap_or_else(|e| panic!("{e}"));
        let stage = find(&resources, kind::WEBSOCKET_STAGE, "dev");
        let deployment = find(&resources, kind::WEBSOCKET_DEPLOYMENT, "dev");
        assert_eq!(
            stage.properties["deployment_id"],
            Reference::new(deployment.id.clone(), "id").to_json()
        );
        assert_eq!(stage.properties["stage_name"], json!("dev"));
        assert!(
            deployment
                .depends_on
                .contains(&naming::id(kind::WEBSOCKET_ROUTE, "$connect")),
            "the deployment is made once the routes are"
        );
        deployment.properties["routes_hash"].clone()
    };
    let first = deployment_hash(chat_functions());
    assert_eq!(first, deployment_hash(chat_functions()), "stable");
    let mut moved = chat_functions();
    moved["default"]["events"] = json!([{"websocket": "$default"}, {"websocket": "ping"}]);
    assert_ne!(first, deployment_hash(moved), "a new route is deployed");
}

#[test]
fn two_events_with_one_route_are_refused() {
    let error = fixture(
        json!({}),
        json!({
            "a": {"handler": "h.a", "events": [{"websocket": "$default"}]},
            "b": {"handler": "h.b", "events": [{"websocket": {"route": "$default"}}]},
        }),
    )
    .desired()
    .err();
    assert!(
        matches!(&error, Some(ProviderError::Invalid { message, .. }) if message.contains("defined twice")),
        "{error:?}"
    );
}

#[test]
fn an_api_of_another_service_is_refused_before_anything_changes() {
    let error = fixture(
        json!({"apiGateway": {"websocketApiId": "abc123"}}),
        json!({"connect": {"handler": "h.connect", "events": [{"websocket": "$connect"}]}}),
    )
    .desired()
    .err();
    match error {
        Some(ProviderError::Unsupported { what, help, .. }) => {
            assert!(what.contains("websocketApiId"), "{what}");
            assert!(help.contains("remove"), "{help}");
        }
        other => panic!("expected websocketApiId to be refused, got {other:?}"),
    }
}

#[test]
fn a_service_without_websocket_events_has_no_websocket_api() {
    let resources = Fixture::one_function("hello", json!([{"httpApi": "GET /hello"}]))
        .desired()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(names(&resources, kind::WEBSOCKET_API).is_empty());
    assert!(names(&resources, kind::WEBSOCKET_STAGE).is_empty());
}
