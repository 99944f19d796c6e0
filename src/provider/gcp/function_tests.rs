use serde_json::json;

use super::*;
use crate::manifest::node::Node;

fn service(provider: Json, functions: Json) -> Service {
    let mut provider_map = json!({"name": "google", "project": "demo", "runtime": "nodejs20"});
    if let (Some(base), Some(extra)) = (provider_map.as_object_mut(), provider.as_object()) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
    }
    let manifest = json!({"service": "shop", "provider": provider_map, "functions": functions});
    Service::from_tree(&Node::from_json(&manifest, Span::default()))
        .unwrap_or_else(|error| panic!("{error}"))
}

fn read_one(provider: Json, function: Json) -> Result<FunctionSpec, ProviderError> {
    read(&service(provider, json!({ "placeOrder": function })))
        .map(|reading| reading.functions.into_iter().next().expect("one function"))
}

fn message(result: Result<FunctionSpec, ProviderError>) -> String {
    match result {
        Ok(spec) => panic!("expected an error, got {spec:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn the_plugins_defaults_and_ownership_labels() {
    let reading = read(&service(
        json!({"labels": {"Team": "Payments"}}),
        json!({"placeOrder": {"handler": "placeOrder", "events": [{"http": "orders"}]}}),
    ))
    .expect("reads");
    let spec = &reading.functions[0];
    assert_eq!(spec.function_id, "shop-dev-placeorder");
    assert_eq!(spec.entry_point, "placeOrder");
    assert_eq!(spec.memory, "256Mi");
    assert_eq!(spec.timeout_seconds, 60);
    assert_eq!(spec.trigger, FunctionTrigger::Http);
    assert_eq!(
        spec.labels.get("team").map(String::as_str),
        Some("payments")
    );
    assert_eq!(
        spec.labels.get("updraft-service").map(String::as_str),
        Some("shop")
    );
    assert_eq!(
        spec.labels.get("updraft-stage").map(String::as_str),
        Some("dev")
    );
    assert_eq!(reading.warnings.len(), 1, "the path is not routed");
    assert!(reading.warnings[0].to_string().contains("`orders`"));
}

#[test]
fn first_gen_events_become_eventarc_triggers() {
    let spec = read_one(
        json!({}),
        json!({"handler": "h", "events": [{"event": {
            "eventType": "providers/cloud.pubsub/eventTypes/topic.publish",
            "resource": "projects/demo/topics/orders"}}]}),
    )
    .expect("reads");
    assert_eq!(
        spec.trigger,
        FunctionTrigger::Event {
            event_type: "google.cloud.pubsub.topic.v1.messagePublished".into(),
            pubsub_topic: Some("projects/demo/topics/orders".into()),
            filters: vec![],
        }
    );
    let spec = read_one(
        json!({}),
        json!({"handler": "h", "events": [{"event": {
            "eventType": "google.storage.object.finalize",
            "resource": "projects/_/buckets/uploads"}}]}),
    )
    .expect("reads");
    assert_eq!(
        spec.trigger,
        FunctionTrigger::Event {
            event_type: "google.cloud.storage.object.v1.finalized".into(),
            pubsub_topic: None,
            filters: vec![("bucket".into(), "uploads".into())],
        }
    );
    let error = message(read_one(
        json!({}),
        json!({"handler": "h", "events": [{"event": {
            "eventType": "providers/cloud.storage/eventTypes/object.change",
            "resource": "b"}}]}),
    ));
    assert!(
        error.contains("has no Cloud Functions 2nd gen trigger"),
        "{error}"
    );
}

#[test]
fn memory_must_be_a_tier_and_timeouts_fit_the_trigger() {
    let spec = read_one(json!({"memorySize": 2048}), json!({"handler": "h"})).expect("reads");
    assert_eq!(spec.memory, "2Gi");
    let error = message(read_one(
        json!({}),
        json!({"handler": "h", "memorySize": 300}),
    ));
    assert!(error.contains("memorySize 300"), "{error}");
    let spec = read_one(json!({"timeout": "600s"}), json!({"handler": "h"})).expect("reads");
    assert_eq!(
        spec.timeout_seconds, 600,
        "HTTP functions run up to an hour"
    );
    let error = message(read_one(
        json!({"timeout": "600s"}),
        json!({"handler": "h", "events": [{"event": {
            "eventType": "google.pubsub.topic.publish", "resource": "projects/p/topics/t"}}]}),
    ));
    assert!(error.contains("1 to 540 s"), "{error}");
}

#[test]
fn events_without_a_google_equivalent_name_the_portable_one() {
    let error = message(read_one(
        json!({}),
        json!({"handler": "h", "events": [{"sqs": "arn:aws:sqs:us-east-1:1:q"}]}),
    ));
    assert!(
        error.contains("`sqs` event has no Google Cloud equivalent"),
        "{error}"
    );
    let error = message(read_one(
        json!({}),
        json!({"handler": "h", "events": [{"http": "a"}, {"event": {
            "eventType": "google.pubsub.topic.publish", "resource": "projects/p/topics/t"}}]}),
    ));
    assert!(error.contains("second trigger"), "{error}");
}

#[test]
fn runtimes_and_ids_are_checked() {
    let error = message(read_one(
        json!({"runtime": "nodejs20.x"}),
        json!({"handler": "h"}),
    ));
    assert!(error.contains("runtime `nodejs20.x`"), "{error}");
    let error = message(read_one(
        json!({}),
        json!({"handler": "h", "name": "x".repeat(64)}),
    ));
    assert!(error.contains("at most 63 characters"), "{error}");
    let error = read(&service(
        json!({}),
        json!({"a_b": {"handler": "h", "name": "same"}, "c": {"handler": "h", "name": "SAME"}}),
    ))
    .map(|_| ())
    .expect_err("two functions, one id");
    assert!(error.to_string().contains("both become"), "{error}");
}

#[test]
fn a_runtime_in_aws_spelling_is_refused_with_googles_spelling() {
    for (written, wanted) in [("nodejs18.x", "`nodejs18`"), ("python3.12", "`python312`")] {
        let error = read(&service(
            json!({}),
            json!({"f": {"handler": "f", "runtime": written}}),
        ))
        .map(|_| ())
        .expect_err("an AWS runtime name");
        let help = miette::Diagnostic::help(&error)
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(help.contains(wanted), "{written}: {help}");
    }
}
