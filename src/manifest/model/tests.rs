//! The model a user's manifest turns into: defaults, effective settings, and every event form.

use serde_json::json;

use super::*;
use crate::manifest::source::Span;

fn service(json: serde_json::Value) -> Service {
    let root = Node::from_json(&json, Span::default());
    match Service::from_tree(&root) {
        Ok(service) => service,
        Err(error) => panic!("{error}"),
    }
}

fn aws_events(events: serde_json::Value) -> Vec<Event> {
    let service = service(json!({
        "service": "shop",
        "provider": { "name": "aws" },
        "functions": { "hello": { "handler": "h.f", "events": events } }
    }));
    service.functions["hello"].events.clone()
}

fn http(method: &str, path: &str, api: Api) -> Trigger {
    Trigger::Http(HttpTrigger {
        method: method.into(),
        path: path.into(),
        api,
        cors: None,
        authorizer: None,
        auth_level: None,
    })
}

fn triggers(events: &[Event]) -> Vec<Trigger> {
    events.iter().map(|e| e.trigger.clone()).collect()
}

#[test]
fn framework_defaults_fill_what_is_not_written() {
    let service = service(json!({
        "service": "shop",
        "provider": { "name": "aws", "runtime": "nodejs20.x" },
        "functions": { "hello": { "handler": "handler.hello" } }
    }));
    assert_eq!(service.provider.stage, "dev");
    assert_eq!(service.provider.region, "us-east-1");
    let hello = &service.functions["hello"];
    assert_eq!(hello.memory_size, 1024);
    assert_eq!(hello.timeout, 6);
    assert_eq!(hello.name, "shop-dev-hello");
    assert_eq!(hello.runtime.as_deref(), Some("nodejs20.x"));
    assert!(hello.events.is_empty());
}

#[test]
fn function_settings_override_the_provider_and_environment_merges() {
    let service = service(json!({
        "service": "shop",
        "provider": { "name": "aws", "stage": "prod", "memorySize": 512, "timeout": "20",
                      "environment": { "A": "provider", "B": "provider" } },
        "functions": {
            "hello": { "handler": "h.f", "memorySize": 2048, "environment": { "B": "function" } },
            "named": { "handler": "h.g", "name": "custom-name" }
        }
    }));
    let hello = &service.functions["hello"];
    assert_eq!((hello.memory_size, hello.timeout), (2048, 20));
    assert_eq!(hello.name, "shop-prod-hello");
    assert_eq!(hello.environment["A"], json!("provider"));
    assert_eq!(hello.environment["B"], json!("function"));
    assert_eq!(service.functions["named"].name, "custom-name");
}

#[test]
fn deprecated_iam_keys_fold_into_the_v3_places() {
    let service = service(json!({
        "service": "shop",
        "provider": {
            "name": "aws",
            "iamRoleStatements": [{ "Effect": "Allow", "Action": "s3:*", "Resource": "*" }],
            "iam": { "role": { "statements": [{ "Effect": "Allow", "Action": "sqs:*", "Resource": "*" }],
                               "managedPolicies": ["arn:aws:iam::aws:policy/X"] } }
        }
    }));
    assert_eq!(service.provider.iam.statements.len(), 2);
    assert_eq!(
        service.provider.iam.managed_policies,
        vec![json!("arn:aws:iam::aws:policy/X")]
    );
    let existing = service_with_role(json!({ "Fn::GetAtt": ["Role", "Arn"] }));
    assert_eq!(
        existing.provider.iam.role,
        Some(json!({ "Fn::GetAtt": ["Role", "Arn"] }))
    );
}

fn service_with_role(role: serde_json::Value) -> Service {
    service(json!({ "service": "s", "provider": { "name": "aws", "iam": { "role": role } } }))
}

#[test]
fn http_short_and_long_forms_give_the_same_route() {
    let events = aws_events(json!([
        { "http": "GET users/{id}" },
        { "http": { "method": "get", "path": "/users/{id}", "cors": true } },
        { "http": "ANY /{proxy+}" }
    ]));
    assert_eq!(events[0].trigger, http("GET", "/users/{id}", Api::Rest));
    let Trigger::Http(long) = &events[1].trigger else {
        panic!("not http")
    };
    assert_eq!(
        (long.method.as_str(), long.path.as_str()),
        ("GET", "/users/{id}")
    );
    assert_eq!(long.cors, Some(json!(true)));
    assert_eq!(events[2].trigger, http("ANY", "/{proxy+}", Api::Rest));
}

#[test]
fn http_api_forms_including_the_catch_all() {
    let events = aws_events(json!([
        { "httpApi": "GET /x" },
        { "httpApi": "*" },
        { "httpApi": { "path": "/y" } },
        { "httpApi": { "method": "post", "path": "/z" } }
    ]));
    assert_eq!(
        triggers(&events),
        vec![
            http("GET", "/x", Api::HttpApi),
            http("ANY", "*", Api::HttpApi),
            http("ANY", "/y", Api::HttpApi),
            http("POST", "/z", Api::HttpApi),
        ]
    );
}

#[test]
fn schedule_short_long_and_several_rates() {
    let events = aws_events(json!([
        { "schedule": "rate(5 minutes)" },
        { "schedule": { "rate": ["cron(0 12 * * ? *)", "rate(1 hour)"], "enabled": false, "input": { "a": 1 } } }
    ]));
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[0].trigger,
        Trigger::Schedule {
            expression: "rate(5 minutes)".into(),
            input: None,
            enabled: true
        }
    );
    assert_eq!(
        events[2].trigger,
        Trigger::Schedule {
            expression: "rate(1 hour)".into(),
            input: Some(json!({ "a": 1 })),
            enabled: false
        }
    );
}

#[test]
fn queue_storage_topic_and_stream_short_and_long_forms() {
    let arn = "arn:aws:sqs:us-east-1:123456789012:jobs";
    let events = aws_events(json!([
        { "sqs": arn },
        { "sqs": { "arn": { "Fn::GetAtt": ["Jobs", "Arn"] }, "batchSize": 5 } },
        { "s3": "photos" },
        { "s3": { "bucket": "photos", "event": "s3:ObjectRemoved:*", "existing": true } },
        { "sns": "orders" },
        { "sns": { "arn": "arn:aws:sns:us-east-1:1:orders", "filterPolicy": { "kind": ["a"] } } },
        { "stream": "arn:aws:dynamodb:us-east-1:1:table/T/stream/2020" },
        { "stream": { "arn": "arn:aws:kinesis:us-east-1:1:stream/S", "batchSize": 100, "startingPosition": "LATEST" } }
    ]));
    assert_eq!(
        events[0].trigger,
        Trigger::Queue {
            queue: json!(arn),
            batch_size: None,
            enabled: true
        }
    );
    assert_eq!(
        events[1].trigger,
        Trigger::Queue {
            queue: json!({ "Fn::GetAtt": ["Jobs", "Arn"] }),
            batch_size: Some(5),
            enabled: true
        }
    );
    assert!(
        matches!(&events[2].trigger, Trigger::Storage { bucket, existing: false, .. } if bucket == "photos")
    );
    assert!(
        matches!(&events[3].trigger, Trigger::Storage { events, existing: true, .. } if events == &["s3:ObjectRemoved:*"])
    );
    assert_eq!(
        events[4].trigger,
        Trigger::Topic {
            topic: json!("orders"),
            filter_policy: None
        }
    );
    assert!(matches!(
        &events[5].trigger,
        Trigger::Topic {
            filter_policy: Some(_),
            ..
        }
    ));
    assert!(matches!(&events[6].trigger, Trigger::Stream { kind: Some(k), .. } if k == "dynamodb"));
    assert!(
        matches!(&events[7].trigger, Trigger::Stream { kind: Some(k), batch_size: Some(100), .. } if k == "kinesis")
    );
}

#[test]
fn other_events_are_kept_with_their_settings() {
    let events = aws_events(json!([
        { "websocket": { "route": "$connect" } },
        { "cloudwatchLog": "/aws/lambda/x" },
        { "eventBridge": { "schedule": "rate(1 day)" } },
        { "eventBridge": { "pattern": { "source": ["a"] } } },
        "alexaSkill"
    ]));
    assert_eq!(
        events[0].trigger,
        Trigger::Other {
            kind: "websocket".into(),
            raw: json!({ "route": "$connect" })
        }
    );
    assert_eq!(events[1].kind, "cloudwatchLog");
    assert!(
        matches!(&events[2].trigger, Trigger::Schedule { expression, .. } if expression == "rate(1 day)")
    );
    assert!(matches!(&events[3].trigger, Trigger::Other { kind, .. } if kind == "eventBridge"));
    assert!(matches!(&events[4].trigger, Trigger::Other { kind, .. } if kind == "alexaSkill"));
}

#[test]
fn azure_plugin_shapes_map_onto_the_same_triggers() {
    let service = service(json!({
        "service": "app",
        "provider": { "name": "azure", "runtime": "nodejs18" },
        "functions": {
            "hello": { "handler": "src/hello.handler", "events": [
                { "http": true, "methods": ["GET", "POST"], "route": "greet/{name}", "authLevel": "anonymous" },
                { "http": true, "x-azure-settings": { "direction": "out", "name": "res" } }
            ] },
            "tick": { "handler": "src/tick.handler", "events": [{ "timer": { "schedule": "0 */5 * * * *" } }] },
            "work": { "handler": "src/work.handler", "events": [{ "queue": "jobs" }] },
            "file": { "handler": "src/file.handler", "events": [
                { "blob": null, "x-azure-settings": { "path": "uploads/{name}", "connection": "Storage" } }
            ] }
        }
    }));
    assert_eq!(service.provider.cloud, Cloud::Azure);
    let hello = &service.functions["hello"].events;
    assert_eq!(hello.len(), 3);
    let Trigger::Http(get) = &hello[0].trigger else {
        panic!("not http")
    };
    assert_eq!(
        (get.method.as_str(), get.path.as_str()),
        ("GET", "/greet/{name}")
    );
    assert_eq!(get.auth_level.as_deref(), Some("anonymous"));
    assert!(matches!(&hello[1].trigger, Trigger::Http(post) if post.method == "POST"));
    assert!(matches!(&hello[2].trigger, Trigger::Other { .. }));
    assert_eq!(
        service.functions["tick"].events[0].trigger,
        Trigger::Schedule {
            expression: "0 */5 * * * *".into(),
            input: None,
            enabled: true
        }
    );
    assert!(
        matches!(&service.functions["work"].events[0].trigger, Trigger::Queue { queue, .. } if queue == "jobs")
    );
    assert!(
        matches!(&service.functions["file"].events[0].trigger, Trigger::Storage { bucket, .. } if bucket == "uploads/{name}")
    );
}

#[test]
fn google_plugin_shapes_map_onto_the_same_triggers() {
    let service = service(json!({
        "service": "app",
        "provider": { "name": "google", "project": "p" },
        "functions": {
            "first": { "handler": "http", "events": [{ "http": "path" }] },
            "second": { "handler": "event", "events": [
                { "event": { "eventType": "providers/cloud.pubsub/eventTypes/topic.publish", "resource": "projects/p/topics/t" } },
                { "event": { "eventType": "google.storage.object.finalize", "resource": "projects/p/buckets/b" } }
            ] }
        }
    }));
    assert_eq!(service.provider.region, "us-central1");
    assert_eq!(
        service.functions["first"].events[0].trigger,
        http("ANY", "/path", Api::Rest)
    );
    let second = &service.functions["second"].events;
    assert!(
        matches!(&second[0].trigger, Trigger::Topic { topic, .. } if topic == "projects/p/topics/t")
    );
    assert!(
        matches!(&second[1].trigger, Trigger::Storage { bucket, .. } if bucket == "projects/p/buckets/b")
    );
}

#[test]
fn a_tree_validation_would_refuse_is_an_error_not_a_panic() {
    for json in [
        json!({ "provider": { "name": "aws" } }),
        json!({ "service": "s" }),
        json!({ "service": "s", "provider": { "name": "azurex" } }),
        json!({ "service": "s", "provider": { "name": "aws" }, "functions": ["a"] }),
        json!({ "service": "s", "provider": { "name": "aws" }, "functions": { "a": { "events": { "http": 1 } } } }),
        json!([1, 2]),
    ] {
        let root = Node::from_json(&json, Span::default());
        assert!(Service::from_tree(&root).is_err(), "{json}");
    }
}

#[test]
fn stage_and_region_options_win_over_the_manifest() {
    let json = json!({
        "service": "shop",
        "provider": { "name": "aws", "stage": "dev", "region": "eu-west-1" },
        "functions": { "hello": { "handler": "h.f" } }
    });
    let root = Node::from_json(&json, Span::default());
    let mut options = IndexMap::new();
    options.insert("stage".to_string(), json!("prod"));
    options.insert("region".to_string(), json!("us-west-2"));
    let service = Service::from_tree_with_options(&root, &options).expect("a service");
    assert_eq!(service.provider.stage, "prod");
    assert_eq!(service.provider.region, "us-west-2");
    assert_eq!(service.functions["hello"].name, "shop-prod-hello");
    let plain = Service::from_tree(&root).expect("a service");
    assert_eq!(
        (
            plain.provider.stage.as_str(),
            plain.provider.region.as_str()
        ),
        ("dev", "eu-west-1")
    );
}
