//! The desired state of `alb` events: names, conditions, and what is refused at plan time.

use md5::{Digest, Md5};
use serde_json::{json, Value as Json};

use super::*;
use crate::provider::aws::triggers::test_support::{find, names, Fixture};

const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/\
                        50dc6c495c0c9188/f2f7dc8efc522ab2";

fn service(functions: Json) -> Fixture {
    Fixture::new(json!({
        "service": "shop",
        "provider": {"name": "aws", "region": "us-east-1"},
        "functions": functions,
    }))
}

fn alb(priority: Json, conditions: Json) -> Json {
    json!({"alb": {"listenerArn": LISTENER, "priority": priority, "conditions": conditions}})
}

fn refusal(fixture: &Fixture) -> String {
    match fixture.desired() {
        Err(ProviderError::Invalid { message, span, .. }) => {
            assert!(span.is_some(), "the error points at the event");
            message
        }
        Err(ProviderError::Unsupported { what, span, .. }) => {
            assert!(span.is_some(), "the error points at the event");
            what
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_target_group_is_named_by_the_frameworks_hash_of_service_function_balancer_and_stage() {
    let resources = service(json!({
        "hello": {"handler": "h.handler", "events": [alb(json!(1), json!({"path": "/hello"}))]},
        "multi": {"handler": "h.handler", "events": [{"alb": {
            "listenerArn": LISTENER, "priority": 2, "conditions": {"path": "/multi"},
            "multiValueHeaders": true}}]},
    }))
    .desired()
    .unwrap_or_else(|e| panic!("{e}"));
    let expected = |tag: &str| hex::encode(Md5::digest(tag.as_bytes()));
    let groups = names(&resources, kind::TARGET_GROUP);
    assert!(groups.contains(&expected("shop-hello-50dc6c495c0c9188-dev")));
    assert!(groups.contains(&expected("shop-multi-50dc6c495c0c9188-multi-value-dev")));
    assert!(groups.iter().all(|name| name.len() == 32));
    let multi = find(
        &resources,
        kind::TARGET_GROUP,
        &expected("shop-multi-50dc6c495c0c9188-multi-value-dev"),
    );
    assert_eq!(multi.properties["multi_value_headers"], json!(true));
    assert_eq!(multi.properties["target_type"], json!("lambda"));
    assert_eq!(multi.properties["health_check"]["enabled"], json!(false));
    assert_eq!(
        multi.properties["tags"]["updraft:service"],
        json!("shop"),
        "the group carries the ownership tags"
    );
}

#[test]
fn a_prefix_or_a_given_name_names_the_target_group() {
    let resources = Fixture::new(json!({
        "service": "shop",
        "provider": {"name": "aws", "region": "us-east-1", "alb": {"targetGroupPrefix": "web-"}},
        "functions": {
            "hello": {"handler": "h.handler", "events": [alb(json!(1), json!({"path": "/"}))]},
            "named": {"handler": "h.handler", "events": [{"alb": {
                "listenerArn": LISTENER, "priority": 2, "conditions": {"path": "/n"},
                "targetGroupName": "my-own-group"}}]},
        },
    }))
    .desired()
    .unwrap_or_else(|e| panic!("{e}"));
    let groups = names(&resources, kind::TARGET_GROUP);
    assert!(groups.contains(&"my-own-group".to_string()));
    let prefixed: Vec<&String> = groups.iter().filter(|n| n.starts_with("web-")).collect();
    assert_eq!(prefixed.len(), 1, "{groups:?}");
    assert_eq!(prefixed[0].len(), 32, "the prefixed name is cut to 32");
}

#[test]
fn each_event_is_a_rule_with_its_conditions_forwarding_to_the_functions_target_group() {
    let resources = service(json!({"hello": {"handler": "h.handler", "events": [
        alb(json!(1), json!({
            "path": ["/hello", "/hi"], "host": "example.com", "method": ["get", "POST"],
            "header": {"name": "X-Env", "values": ["prod"]},
            "query": {"lang": "en"}, "ip": ["10.0.0.0/8"],
        })),
        alb(json!("2"), json!({"path": "/other"})),
    ]}}))
    .desired()
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names(&resources, kind::TARGET_GROUP).len(), 1);
    let group = names(&resources, kind::TARGET_GROUP).remove(0);
    let first = find(&resources, kind::LISTENER_RULE, "shop-dev-hello/alb-1");
    assert_eq!(first.properties["listener_arn"], json!(LISTENER));
    assert_eq!(first.properties["priority"], json!(1));
    assert_eq!(
        first.properties["conditions"],
        json!({
            "path": ["/hello", "/hi"], "host": ["example.com"], "method": ["GET", "POST"],
            "header": {"name": "X-Env", "values": ["prod"]},
            "query": {"lang": "en"}, "ip": ["10.0.0.0/8"],
        })
    );
    assert_eq!(
        first.properties["tags"][NAME_TAG],
        json!("shop-dev-hello/alb-1")
    );
    let group_id = naming::id(kind::TARGET_GROUP, &group);
    assert!(first.depends_on.contains(&group_id));
    let second = find(&resources, kind::LISTENER_RULE, "shop-dev-hello/alb-2");
    assert_eq!(second.properties["priority"], json!(2));
    let rules = Conditions::from_rule(
        &Conditions::read(Some(&json!({"path": "/a", "query": {"k": "v"}})))
            .unwrap_or_default()
            .to_rule(),
    );
    assert_eq!(rules.path, ["/a"], "conditions read back as written");
    assert_eq!(rules.query.get("k").map(String::as_str), Some("v"));
}

#[test]
fn the_function_is_registered_after_the_load_balancer_may_invoke_it_from_its_group() {
    let resources = service(json!({
        "hello": {"handler": "h.handler", "events": [alb(json!(1), json!({"path": "/"}))]},
    }))
    .desired()
    .unwrap_or_else(|e| panic!("{e}"));
    let group = names(&resources, kind::TARGET_GROUP).remove(0);
    let group_id = naming::id(kind::TARGET_GROUP, &group);
    let grant = find(
        &resources,
        kind::PERMISSION,
        &format!("shop-dev-hello/updraft-event-alb-{group}"),
    );
    assert_eq!(
        grant.properties["principal"],
        json!("elasticloadbalancing.amazonaws.com")
    );
    assert_eq!(
        grant.properties["source_arn"],
        Reference::new(group_id.clone(), "arn").to_json()
    );
    let target = find(
        &resources,
        kind::TARGET,
        &target_name(&group, "shop-dev-hello"),
    );
    assert!(
        target.depends_on.contains(&grant.id),
        "registered after the grant"
    );
    assert!(target.depends_on.contains(&group_id));
}

#[test]
fn a_health_check_takes_the_frameworks_defaults_for_what_it_leaves_out() {
    let resources = service(
        json!({"hello": {"handler": "h.handler", "events": [{"alb": {
        "listenerArn": LISTENER, "priority": 1, "conditions": {"path": "/"},
        "healthCheck": {"path": "/health", "intervalSeconds": 60}}}]}}),
    )
    .desired()
    .unwrap_or_else(|e| panic!("{e}"));
    let group = names(&resources, kind::TARGET_GROUP).remove(0);
    let group = find(&resources, kind::TARGET_GROUP, &group);
    assert_eq!(
        group.properties["health_check"],
        json!({"enabled": true, "path": "/health", "interval_seconds": 60,
               "timeout_seconds": 30, "healthy_threshold": 5, "unhealthy_threshold": 5,
               "matcher": "200"})
    );
}

#[test]
fn a_priority_used_twice_on_one_listener_is_refused_naming_both_events() {
    let message = refusal(&service(json!({
        "first": {"handler": "h.handler", "events": [alb(json!(7), json!({"path": "/a"}))]},
        "second": {"handler": "h.handler", "events": [alb(json!(7), json!({"path": "/b"}))]},
    })));
    assert!(message.contains("priority 7"), "{message}");
    assert!(
        message.contains("`first`") && message.contains("`second`"),
        "{message}"
    );
}

#[test]
fn the_same_priority_on_two_listeners_is_allowed() {
    let other = LISTENER.replace("f2f7dc8efc522ab2", "0000000000000000");
    let resources = service(json!({"hello": {"handler": "h.handler", "events": [
        alb(json!(1), json!({"path": "/"})),
        {"alb": {"listenerArn": other, "priority": 1, "conditions": {"path": "/"}}},
    ]}}))
    .desired()
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names(&resources, kind::LISTENER_RULE).len(), 2);
}

#[test]
fn an_event_without_priority_conditions_or_listener_is_refused() {
    for (event, word) in [
        (
            json!({"alb": {"listenerArn": LISTENER, "conditions": {"path": "/"}}}),
            "priority",
        ),
        (
            json!({"alb": {"listenerArn": LISTENER, "priority": 1}}),
            "conditions",
        ),
        (
            json!({"alb": {"listenerArn": LISTENER, "priority": 1, "conditions": {}}}),
            "conditions",
        ),
        (
            json!({"alb": {"priority": 1, "conditions": {"path": "/"}}}),
            "listenerArn",
        ),
        (
            json!({"alb": {"listenerArn": "arn:aws:sqs:us-east-1:1:q", "priority": 1,
                           "conditions": {"path": "/"}}}),
            "arn:aws:sqs",
        ),
        (
            json!({"alb": {"listenerArn": LISTENER, "priority": 1, "conditions": {"path": "/"},
                           "authorizer": "cognito"}}),
            "authorizer",
        ),
    ] {
        let message = refusal(&service(
            json!({"hello": {"handler": "h.handler", "events": [event]}}),
        ));
        assert!(
            message.contains(word) && message.contains("hello"),
            "{word}: {message}"
        );
    }
}

#[test]
fn a_listener_of_the_services_resources_is_referred_to_and_names_the_group_by_its_logical_id() {
    let desired = Fixture::new(json!({
        "service": "shop",
        "provider": {"name": "aws", "region": "us-east-1"},
        "functions": {"hello": {"handler": "h.handler", "events": [{"alb": {
            "listenerArn": {"Ref": "HttpListener"}, "priority": 1,
            "conditions": {"path": "/"}}}]}},
        "resources": {"Resources": {"HttpListener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/a/b",
                "Port": 80, "Protocol": "HTTP", "DefaultActions": []}}}},
    }))
    .desired()
    .unwrap_or_else(|e| panic!("{e}"));
    let expected = hex::encode(Md5::digest(b"shop-hello-HttpListener-dev"));
    assert_eq!(names(&desired, kind::TARGET_GROUP), [expected]);
    let rule = find(&desired, kind::LISTENER_RULE, "shop-dev-hello/alb-1");
    assert!(
        rule.properties["listener_arn"].is_object(),
        "a reference until the stack is applied: {}",
        rule.properties["listener_arn"]
    );
}

#[test]
fn one_target_group_name_for_two_functions_is_refused() {
    let named = |priority: u32| {
        json!({"alb": {"listenerArn": LISTENER, "priority": priority,
                       "conditions": {"path": "/"}, "targetGroupName": "shared"}})
    };
    let message = refusal(&service(json!({
        "first": {"handler": "h.handler", "events": [named(1)]},
        "second": {"handler": "h.handler", "events": [named(2)]},
    })));
    assert!(
        message.contains("`shared`") && message.contains("`first`"),
        "{message}"
    );
}
