use serde_json::json;

use super::*;
use crate::manifest::node::Node;

fn service(provider: Json, functions: Json) -> Service {
    let mut base = json!({"name": "azure", "runtime": "nodejs20", "region": "West US 2"});
    if let (Some(base), Some(extra)) = (base.as_object_mut(), provider.as_object()) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
    }
    let manifest = json!({"service": "shop", "provider": base, "functions": functions});
    Service::from_tree(&Node::from_json(&manifest, Span::default()))
        .unwrap_or_else(|error| panic!("{error}"))
}

fn error_of(provider: Json, functions: Json) -> String {
    let error = read(&service(provider, functions))
        .map(|_| ())
        .expect_err("refused");
    let help = miette::Diagnostic::help(&error)
        .map(|h| h.to_string())
        .unwrap_or_default();
    format!("{error} / {help}")
}

#[test]
fn a_service_is_one_function_app_named_and_placed_as_azure_wants() {
    let reading = read(&service(
        json!({"prefix": "acme", "tags": {"team": "web"}, "environment": {"STAGE": "dev"}}),
        json!({"hello": {"handler": "src/hello.handler", "events": [{"http": true, "methods": ["GET"], "authLevel": "function"}]}}),
    ))
    .expect("reads");
    let app = reading.app;
    assert_eq!(app.name, "acme-shop-dev");
    assert_eq!(app.region, "westus2");
    assert_eq!(app.resource_group, "acme-shop-dev-rg");
    assert!(app.owns_resource_group);
    assert_eq!(
        app.runtime,
        Runtime {
            name: "node",
            version: "20"
        }
    );
    assert_eq!(app.instance_memory_mb, 2048);
    assert_eq!(
        app.app_settings.get("STAGE").map(String::as_str),
        Some("dev")
    );
    assert_eq!(
        app.tags.get("updraft-service").map(String::as_str),
        Some("shop")
    );
    assert_eq!(app.tags.get("team").map(String::as_str), Some("web"));
    assert_eq!(
        app.functions[0].bindings,
        vec![
            json!({"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "function", "methods": ["get"]}),
            json!({"type": "http", "direction": "out", "name": "res"}),
        ]
    );
}

#[test]
fn the_provider_neutral_events_become_azure_triggers() {
    let reading = read(&service(
        json!({"resourceGroup": "shared-rg"}),
        json!({
            "api": {"handler": "a.h", "events": [{"http": {"path": "/items/{id}", "method": "post"}}]},
            "any": {"handler": "a.h", "events": [{"httpApi": "*"}]},
            "tick": {"handler": "a.h", "events": [{"schedule": "cron(0 12 ? * 2 *)"}]},
        }),
    ))
    .expect("reads");
    assert!(
        !reading.app.owns_resource_group,
        "a group updraft did not make is never its own"
    );
    let api = &reading.app.functions[0].bindings[0];
    assert_eq!(api["route"], "items/{id}");
    assert_eq!(api["methods"], json!(["post"]));
    assert_eq!(api["authLevel"], "anonymous");
    assert!(
        reading.app.functions[1].bindings[0]
            .get("methods")
            .is_none(),
        "any method"
    );
    assert_eq!(
        reading.app.functions[2].bindings[0],
        json!({"type": "timerTrigger", "direction": "in", "name": "timer", "schedule": "0 0 12 * * 1"})
    );
}

#[test]
fn the_azure_plugins_events_become_bindings() {
    let reading = read(&service(
        json!({}),
        json!({
            "q": {"handler": "a.h", "events": [{"queue": "orders", "x-azure-settings": {"name": "order", "connection": "Storage"}}]},
            "b": {"handler": "a.h", "events": [{"blob": true, "path": "uploads/{name}"}]},
            "s": {"handler": "a.h", "events": [{"serviceBus": true, "topicName": "t", "subscriptionName": "s"}]},
            "e": {"handler": "a.h", "events": [{"eventHub": true, "eventHubName": "hub"}]},
            "c": {"handler": "a.h", "events": [{"cosmosDB": true, "databaseName": "db", "collectionName": "items"}]},
            "t": {"handler": "a.h", "events": [{"timer": true, "schedule": "0 */5 * * * *"}]},
        }),
    ))
    .expect("reads");
    let first: Vec<&Json> = reading
        .app
        .functions
        .iter()
        .map(|f| &f.bindings[0])
        .collect();
    assert_eq!(first[0]["type"], "queueTrigger");
    assert_eq!(first[0]["queueName"], "orders");
    assert_eq!(first[0]["name"], "order");
    assert_eq!(first[0]["connection"], "Storage");
    assert_eq!(first[1]["path"], "uploads/{name}");
    assert_eq!(first[2]["topicName"], "t");
    assert_eq!(first[3]["consumerGroup"], "$Default");
    assert_eq!(
        first[4]["containerName"], "items",
        "the old collectionName is read"
    );
    assert_eq!(first[5]["schedule"], "0 */5 * * * *");
}

#[test]
fn settings_azure_keeps_per_app_must_agree_between_functions() {
    let message = error_of(
        json!({}),
        json!({
            "a": {"handler": "a.h", "memorySize": 512, "events": [{"http": true}]},
            "b": {"handler": "b.h", "memorySize": 4096, "events": [{"http": true}]},
        }),
    );
    assert!(
        message.contains("functions `a` and `b` ask for different `memorySize`"),
        "{message}"
    );
    let message = error_of(
        json!({}),
        json!({
            "a": {"handler": "a.h", "environment": {"MODE": "fast"}, "events": [{"http": true}]},
            "b": {"handler": "b.h", "environment": {"MODE": "slow"}, "events": [{"http": true}]},
        }),
    );
    assert!(
        message.contains("`a` and `b` give the variable `MODE` different values"),
        "{message}"
    );
    let reading = read(&service(
        json!({}),
        json!({
            "a": {"handler": "a.h", "environment": {"ONLY_A": "1"}, "events": [{"http": true}]},
            "b": {"handler": "b.h", "events": [{"http": true}]},
        }),
    ))
    .expect("one function's own variable is shared");
    assert_eq!(
        reading.app.app_settings.get("ONLY_A").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        reading.warnings.len(),
        1,
        "and a warning says every function sees it"
    );
}

#[test]
fn what_azure_cannot_run_is_refused_with_the_alternative() {
    let message = error_of(
        json!({}),
        json!({"w": {"handler": "a.h", "events": [{"sqs": "arn:aws:sqs:us-east-1:1:q"}]}}),
    );
    assert!(
        message.contains("`sqs` event has no Azure Functions trigger"),
        "{message}"
    );
    assert!(message.contains("`queue`"), "{message}");
    let message = error_of(
        json!({"memorySize": 1024}),
        json!({"f": {"handler": "a.h", "events": [{"http": true}]}}),
    );
    assert!(message.contains("512, 2048 or 4096"), "{message}");
    let message = error_of(
        json!({"runtime": "nodejs12"}),
        json!({"f": {"handler": "a.h", "events": [{"http": true}]}}),
    );
    assert!(message.contains("nodejs20, nodejs22"), "{message}");
    let message = error_of(json!({}), json!({"f": {"handler": "a.h"}}));
    assert!(message.contains("no trigger"), "{message}");
}

#[test]
fn runtimes_are_read_in_the_spellings_people_use() {
    for (written, name, version) in [
        ("nodejs20.x", "node", "20"),
        ("node22", "node", "22"),
        ("python3.11", "python", "3.11"),
        ("python312", "python", "3.12"),
        ("dotnet8", "dotnet-isolated", "8.0"),
    ] {
        assert_eq!(
            runtime_of(written),
            Some(Runtime { name, version }),
            "{written}"
        );
    }
    assert_eq!(runtime_of("nodejs12"), None);
    let reading = read(&service(
        json!({"timeout": 300}),
        json!({"f": {"handler": "a.h", "events": [{"http": true}]}}),
    ))
    .expect("reads");
    assert_eq!(reading.app.function_timeout.as_deref(), Some("00:05:00"));
}

#[test]
fn an_http_event_with_several_methods_is_one_trigger() {
    let reading = read(&service(
        json!({}),
        json!({"items": {"handler": "src/items.handler", "events": [{"http": true, "route": "items", "methods": ["GET", "POST"]}]}}),
    ))
    .expect("reads");
    let bindings = &reading.app.functions[0].bindings;
    assert_eq!(
        bindings,
        &vec![
            json!({"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "anonymous", "methods": ["get", "post"], "route": "items"}),
            json!({"type": "http", "direction": "out", "name": "res"}),
        ]
    );
}

#[test]
fn the_plugins_http_output_event_and_location_are_read_as_the_plugin_meant() {
    let reading = read(&service(
        json!({"region": null, "location": "West US"}),
        json!({"hello": {"handler": "handler.hello", "events": [
            {"http": true, "x-azure-settings": {"authLevel": "function"}},
            {"http": true, "x-azure-settings": {"direction": "out", "name": "res"}}
        ]}}),
    ))
    .expect("reads");
    assert_eq!(reading.app.region, "westus");
    let bindings = &reading.app.functions[0].bindings;
    assert_eq!(bindings.len(), 2, "{bindings:?}");
    assert_eq!(bindings[0]["type"], "httpTrigger");
    assert_eq!(bindings[0]["authLevel"], "function");
    assert_eq!(
        bindings[1],
        json!({"type": "http", "direction": "out", "name": "res"})
    );
}
