//! What an `http` event turns into.

use serde_json::json;

use crate::plan::Reference;
use crate::provider::aws::naming::{self, kind};
use crate::provider::aws::triggers::test_support::{find, names, Fixture};
use crate::provider::ProviderError;

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
fn an_authorizer_on_an_http_event_is_refused_naming_the_function() {
    let result =
        fixture(json!([{"http": {"path": "me", "method": "get", "authorizer": "aws_iam"}}]))
            .desired();
    match result {
        Err(ProviderError::Unsupported { what, span, .. }) => {
            assert!(
                what.contains("authorizer") && what.contains("hello"),
                "{what}"
            );
            assert!(span.is_some());
        }
        other => panic!("expected unsupported, got {other:?}"),
    }
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
fn request_schemas_are_refused_naming_the_setting() {
    let error = fixture(
        json!([{"http": {"path": "geo", "method": "post", "request": {
            "schemas": {"application/json": {"type": "object"}},
        }}}]),
    )
    .desired()
    .expect_err("refused");
    assert!(error.to_string().contains("request.schemas"), "{error}");
}
