use serde_json::json;

use super::*;
use crate::manifest::node::Node;
use crate::manifest::source::Span;
use crate::plan::{Action, Live, LiveState};

fn service(functions: serde_json::Value) -> Service {
    let manifest = json!({
        "service": "shop",
        "provider": {"name": "google", "project": "demo", "runtime": "python312"},
        "functions": functions,
    });
    Service::from_tree(&Node::from_json(&manifest, Span::default()))
        .unwrap_or_else(|error| panic!("{error}"))
}

fn artifact(keys: &[&str], sha256: &str) -> Artifact {
    Artifact {
        path: "/tmp/shop.zip".into(),
        name: "shop.zip".into(),
        functions: keys.iter().map(|k| k.to_string()).collect(),
        layer: None,
        sha256: sha256.into(),
        bytes: 1,
        unzipped_bytes: Some(1),
        files: vec![],
        prebuilt: false,
        rewritten: true,
        secrets_left_out: vec![],
        milliseconds: 0,
    }
}

fn two_functions(memory_of_b: u32) -> Service {
    service(json!({
        "a": {"handler": "a", "events": [{"schedule": "rate(5 minutes)"}]},
        "b": {"handler": "b", "memorySize": memory_of_b, "events": [{"event": {
            "eventType": "google.pubsub.topic.publish", "resource": "projects/demo/topics/t"}}]},
    }))
}

/// What the cloud would show after a deploy of `desired`: the same properties, and a URL.
fn live_after(desired: &DesiredState) -> LiveState {
    LiveState {
        resources: desired
            .resources
            .iter()
            .map(|resource| Live {
                id: resource.id.clone(),
                properties: resource
                    .properties
                    .iter()
                    .map(|(key, value)| {
                        let value = if key == "uri" {
                            json!("https://shop-dev-a-xyz.a.run.app")
                        } else if key == "serviceAccountEmail" && resource.id.kind == SCHEDULER_JOB
                        {
                            json!("runner@demo.iam.gserviceaccount.com")
                        } else {
                            value.clone()
                        };
                        (key.clone(), value)
                    })
                    .collect(),
                attributes: [
                    ("url".to_string(), json!("https://shop-dev-a-xyz.a.run.app")),
                    (
                        "serviceAccountEmail".to_string(),
                        json!("runner@demo.iam.gserviceaccount.com"),
                    ),
                ]
                .into(),
                depends_on: Default::default(),
            })
            .collect(),
        unread: vec![],
    }
}

#[test]
fn functions_and_schedules_become_resources_with_typed_properties() {
    let reading = desired(
        &two_functions(512),
        &[artifact(&["a", "b"], &"f".repeat(64))],
    )
    .expect("desired");
    let ids: Vec<String> = reading
        .state
        .resources
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(
        ids,
        vec![
            "gcp.functions.function shop-dev-a",
            "gcp.scheduler.job updraft_shop_dev_shop-dev-a_1",
            "gcp.functions.function shop-dev-b",
        ]
    );
    let b = &reading.state.resources[2];
    let properties = FunctionProperties::from_properties(&b.properties, &b.id).expect("typed");
    assert_eq!(properties.available_memory, "512Mi");
    assert_eq!(properties.labels.get(CODE_LABEL).map(String::len), Some(32));
    assert_eq!(
        properties.event_trigger.map(|t| t.pubsub_topic),
        Some(Some("projects/demo/topics/t".into()))
    );
    let job = &reading.state.resources[1];
    assert!(job.depends_on.contains(&reading.state.resources[0].id));
    assert_eq!(job.properties["schedule"], json!("*/5 * * * *"));
}

#[test]
fn changing_one_functions_memory_updates_only_that_function() {
    let code = [artifact(&["a", "b"], &"f".repeat(64))];
    let before = desired(&two_functions(512), &code).expect("desired").state;
    let live = live_after(&before);
    let unchanged = crate::plan::plan(&before, &live).expect("plans");
    assert!(
        unchanged
            .steps
            .iter()
            .all(|step| step.action == Action::NoOp),
        "{:?}",
        unchanged.steps
    );
    let after = desired(&two_functions(1024), &code).expect("desired").state;
    let plan = crate::plan::plan(&after, &live).expect("plans");
    let changed: Vec<(String, Action)> = plan
        .steps
        .iter()
        .filter(|step| step.action != Action::NoOp)
        .map(|step| (step.id.to_string(), step.action))
        .collect();
    assert_eq!(
        changed,
        vec![(
            "gcp.functions.function shop-dev-b".to_string(),
            Action::Update
        )]
    );
    let fields: Vec<&str> = plan
        .steps
        .iter()
        .flat_map(|step| step.changes.iter().map(|change| change.field.as_str()))
        .collect();
    assert_eq!(fields, vec!["availableMemory"]);
}

#[test]
fn new_code_updates_the_code_label_and_nothing_else() {
    let before = desired(
        &two_functions(512),
        &[artifact(&["a", "b"], &"a".repeat(64))],
    )
    .expect("desired")
    .state;
    let after = desired(
        &two_functions(512),
        &[artifact(&["a", "b"], &"b".repeat(64))],
    )
    .expect("desired")
    .state;
    let plan = crate::plan::plan(&after, &live_after(&before)).expect("plans");
    let updated: Vec<String> = plan
        .steps
        .iter()
        .filter(|step| step.action == Action::Update)
        .map(|step| step.id.to_string())
        .collect();
    assert_eq!(updated.len(), 2, "both functions share the artifact");
}

#[test]
fn a_function_without_code_is_an_error() {
    let error = desired(&two_functions(512), &[artifact(&["a"], "0")])
        .map(|_| ())
        .expect_err("b has no artifact");
    assert!(
        error.to_string().contains("`b` has no packaged code"),
        "{error}"
    );
}
