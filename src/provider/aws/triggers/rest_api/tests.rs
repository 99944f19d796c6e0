//! What an `http` event turns into.

use serde_json::json;

use crate::plan::Reference;
use crate::provider::aws::naming::{self, kind};
use crate::provider::aws::triggers::test_support::{find, names, Fixture};

fn fixture(events: serde_json::Value) -> Fixture {
    Fixture::new(json!({
        "service": "shop",
        "provider": { "name": "aws" },
        "functions": {
            "hello": { "handler": "h.hello", "events": events },
            "other": { "handler": "h.other", "events": [{"http": "GET users/{id}/orders"}] },
        },
    }))
}

#[test]
fn every_path_segment_is_a_resource_under_its_parent_and_every_event_a_proxy_method() {
    let resources = fixture(json!([{"http": {"path": "users/{id}", "method": "post"}}]))
        .desired()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names(&resources, kind::REST_API), ["dev-shop"]);
    assert_eq!(
        names(&resources, kind::REST_API_RESOURCE),
        ["/users", "/users/{id}", "/users/{id}/orders"]
    );
    let api = naming::id(kind::REST_API, "dev-shop");
    let users = find(&resources, kind::REST_API_RESOURCE, "/users");
    assert_eq!(
        users.properties["parent_id"],
        Reference::new(api.clone(), "root_resource_id").to_json()
    );
    let orders = find(&resources, kind::REST_API_RESOURCE, "/users/{id}/orders");
    assert_eq!(orders.properties["path_part"], json!("orders"));
    assert_eq!(
        orders.properties["parent_id"],
        Reference::new(naming::id(kind::REST_API_RESOURCE, "/users/{id}"), "id").to_json()
    );
    let method = find(&resources, kind::REST_API_METHOD, "POST /users/{id}");
    assert_eq!(method.properties["integration"]["type"], json!("AWS_PROXY"));
    let deployment = find(&resources, kind::REST_API_DEPLOYMENT, "dev");
    assert!(deployment.depends_on.contains(&method.id));
    assert_eq!(
        names(&resources, kind::PERMISSION),
        [
            "shop-dev-hello/updraft-event-rest-api",
            "shop-dev-other/updraft-event-rest-api"
        ]
    );
}

#[test]
fn cors_true_adds_an_options_method_answering_with_the_framework_headers() {
    let resources = fixture(json!([{"http": {"path": "hello", "method": "get", "cors": true}}]))
        .desired()
        .unwrap_or_else(|e| panic!("{e}"));
    let options = find(&resources, kind::REST_API_METHOD, "OPTIONS /hello");
    let headers = &options.properties["integration"]["response_headers"];
    assert_eq!(headers["Access-Control-Allow-Origin"], json!("'*'"));
    assert_eq!(
        headers["Access-Control-Allow-Methods"],
        json!("'OPTIONS,GET'")
    );
    assert!(headers["Access-Control-Allow-Headers"]
        .as_str()
        .is_some_and(|h| h.contains("X-Amz-Date")));
    assert!(!names(&resources, kind::REST_API_METHOD)
        .contains(&"OPTIONS /users/{id}/orders".to_string()));
}

#[test]
fn the_routes_hash_changes_with_a_path_and_not_with_anything_else() {
    let hash = |events: serde_json::Value, memory: u32| {
        let mut fixture = fixture(events);
        if let Some(function) = fixture.service.functions.get_mut("hello") {
            function.memory_size = memory;
        }
        let resources = fixture.desired().unwrap_or_else(|e| panic!("{e}"));
        find(&resources, kind::REST_API_DEPLOYMENT, "dev").properties["routes_hash"].clone()
    };
    let before = hash(json!([{"http": "GET hello"}]), 128);
    assert_eq!(before, hash(json!([{"http": "GET hello"}]), 1024));
    assert_ne!(before, hash(json!([{"http": "GET hi"}]), 128));
}

#[test]
fn a_function_authorizer_is_one_token_authorizer_with_the_framework_defaults_and_a_permission() {
    let mut fixture = fixture(json!([
        {"http": {"path": "me", "method": "get", "authorizer": "other"}},
        {"http": {"path": "you", "method": "get", "authorizer": {"name": "other"}}},
    ]));
    fixture
        .service
        .functions
        .get_mut("other")
        .unwrap()
        .events
        .clear();
    let resources = fixture.desired().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names(&resources, kind::REST_API_AUTHORIZER), ["other"]);
    let authorizer = find(&resources, kind::REST_API_AUTHORIZER, "other");
    assert_eq!(authorizer.properties["authorizer_type"], json!("TOKEN"));
    assert_eq!(
        authorizer.properties["identity_source"],
        json!("method.request.header.Authorization")
    );
    assert_eq!(authorizer.properties["result_ttl_in_seconds"], json!(300));
    let function = naming::id(kind::FUNCTION, "shop-dev-other");
    assert_eq!(
        authorizer.properties["function_arn"],
        Reference::new(function.clone(), "arn").to_json()
    );
    let method = find(&resources, kind::REST_API_METHOD, "GET /me");
    assert_eq!(method.properties["authorization_type"], json!("CUSTOM"));
    assert_eq!(
        method.properties["authorizer_id"],
        Reference::new(authorizer.id.clone(), "id").to_json()
    );
    assert!(method.depends_on.contains(&authorizer.id));
    // The authorizer's function has no http event of its own, yet API Gateway may call it.
    let permission = find(
        &resources,
        kind::PERMISSION,
        "shop-dev-other/updraft-event-rest-api-authorizer",
    );
    assert_eq!(
        permission.properties["source_arn"],
        Reference::new(
            naming::id(kind::REST_API, "dev-shop"),
            "authorizers_source_arn"
        )
        .to_json()
    );
}

#[test]
fn request_and_cognito_authorizers_and_aws_iam_set_the_method_authorization() {
    let pool = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc";
    let resources = fixture(json!([
        {"http": {"path": "a", "method": "get", "authorizer": {
            "name": "other", "type": "request", "resultTtlInSeconds": 0,
            "identitySource": "method.request.header.Auth, method.request.querystring.key",
        }}},
        {"http": {"path": "b", "method": "get", "authorizer": {"arn": pool, "scopes": ["email"]}}},
        {"http": {"path": "c", "method": "get", "authorizer": "aws_iam"}},
    ]))
    .desired()
    .unwrap_or_else(|e| panic!("{e}"));
    let request = find(&resources, kind::REST_API_AUTHORIZER, "other");
    assert_eq!(request.properties["authorizer_type"], json!("REQUEST"));
    assert_eq!(request.properties["result_ttl_in_seconds"], json!(0));
    let cognito = find(&resources, kind::REST_API_AUTHORIZER, "us-east-1_abc");
    assert_eq!(cognito.properties["provider_arns"], json!([pool]));
    assert_eq!(cognito.properties["function_arn"], json!(null));
    let b = find(&resources, kind::REST_API_METHOD, "GET /b");
    assert_eq!(
        b.properties["authorization_type"],
        json!("COGNITO_USER_POOLS")
    );
    assert_eq!(b.properties["authorization_scopes"], json!(["email"]));
    let c = find(&resources, kind::REST_API_METHOD, "GET /c");
    assert_eq!(c.properties["authorization_type"], json!("AWS_IAM"));
    assert_eq!(c.properties["authorizer_id"], json!(null));
}

#[test]
fn an_authorizer_that_is_no_function_of_the_service_is_an_error_naming_it() {
    let error = fixture(json!([{"http": {"path": "me", "method": "get", "authorizer": "auth"}}]))
        .desired()
        .expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("`auth` is not a function of this service"),
        "{error}"
    );
}

#[test]
fn the_routes_hash_of_a_route_without_an_authorizer_stays_as_it_was() {
    // Deployments made before authorizers existed must not be redeployed by an upgrade: the
    // shape of `GET /hello` on `shop-dev-hello` without CORS is what it always was.
    let hash = |events: serde_json::Value| {
        let resources = fixture(events).desired().unwrap_or_else(|e| panic!("{e}"));
        find(&resources, kind::REST_API_DEPLOYMENT, "dev").properties["routes_hash"].clone()
    };
    let other = json!(["GET /users/{id}/orders", "shop-dev-other", null]);
    let before = super::routes_hash(&[json!(["GET /hello", "shop-dev-hello", null]), other]);
    assert_eq!(hash(json!([{"http": "GET hello"}])), json!(before));
    assert_ne!(
        hash(json!([{"http": {"path": "hello", "method": "get", "authorizer": "aws_iam"}}])),
        json!(before)
    );
}

#[test]
fn request_parameters_become_the_methods_required_and_optional_parameters() {
    let resources = fixture(
        json!([{"http": {"path": "geo/{id}", "method": "get", "request": {
            "parameters": {
                "querystrings": {"address": true, "name": false},
                "paths": {"id": true},
                "headers": {"x-trace": {"required": true}},
            },
        }}}]),
    )
    .desired()
    .unwrap_or_else(|e| panic!("{e}"));
    let method = find(&resources, kind::REST_API_METHOD, "GET /geo/{id}");
    assert_eq!(
        method.properties["request_parameters"],
        json!({
            "method.request.header.x-trace": true,
            "method.request.path.id": true,
            "method.request.querystring.address": true,
            "method.request.querystring.name": false,
        })
    );
}

#[test]
fn request_schemas_become_models_of_the_method_checked_by_the_api_validator() {
    let mut fixture = fixture(json!([
        {"http": {"path": "geo", "method": "post", "request": {
            "schemas": {"application/json": {"type": "object", "required": ["name"]}},
        }}},
        {"http": {"path": "geo", "method": "put", "request": {
            "schemas": {"application/json": "place"},
        }}},
    ]));
    fixture.service.provider.api_gateway = Some(json!({"request": {"schemas": {
        "place": {"name": "PlaceModel", "schema": {"type": "object"}},
    }}}));
    let resources = fixture.desired().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        names(&resources, kind::REST_API_MODEL),
        ["HelloPostGeoApplicationJsonModel", "PlaceModel"]
    );
    let model = find(
        &resources,
        kind::REST_API_MODEL,
        "HelloPostGeoApplicationJsonModel",
    );
    assert_eq!(model.properties["schema"]["required"], json!(["name"]));
    assert_eq!(
        names(&resources, kind::REST_API_VALIDATOR),
        ["shop-dev | Validate request body and querystring parameters"]
    );
    let post = find(&resources, kind::REST_API_METHOD, "POST /geo");
    assert_eq!(
        post.properties["request_models"],
        json!({"application/json": "HelloPostGeoApplicationJsonModel"})
    );
    assert!(post.properties["request_validator_id"].is_object());
    let put = find(&resources, kind::REST_API_METHOD, "PUT /geo");
    assert_eq!(
        put.properties["request_models"],
        json!({"application/json": "PlaceModel"})
    );
    assert!(put
        .depends_on
        .contains(&naming::id(kind::REST_API_MODEL, "PlaceModel")));
}

#[test]
fn a_request_template_on_a_proxy_integration_is_an_error_and_other_integrations_are_refused() {
    let error = fixture(json!([{"http": {"path": "a", "method": "post", "request": {
        "template": {"application/json": "{}"},
    }}}]))
    .desired()
    .expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("`request.template` applies to `integration: lambda` only"),
        "{error}"
    );
    let error =
        fixture(json!([{"http": {"path": "a", "method": "get", "integration": "http-proxy"}}]))
            .desired()
            .expect_err("refused");
    assert!(
        error.to_string().contains("integration: http-proxy"),
        "{error}"
    );
}

#[test]
fn an_api_gateway_setting_updraft_does_not_deploy_is_refused_naming_it() {
    let mut fixture = fixture(json!([{"http": "GET a"}]));
    fixture.service.provider.api_gateway = Some(json!({"resourcePolicy": []}));
    let error = fixture.desired().expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("provider.apiGateway.resourcePolicy"),
        "{error}"
    );
}
