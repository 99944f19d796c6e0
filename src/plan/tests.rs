//! The planner's behaviour, with hand-made states (no provider, no SDK).

use std::collections::BTreeSet;

use serde_json::json;

use super::*;

fn function(name: &str, memory: u32) -> Desired {
    Desired {
        id: ResourceId::new("aws.lambda.function", name),
        properties: Properties::from([
            ("memory".to_string(), json!(memory)),
            ("handler".to_string(), json!("handler.main")),
            (
                "role".to_string(),
                Reference::new(role_id(), "arn").to_json(),
            ),
        ]),
        depends_on: BTreeSet::from([role_id()]),
        replace_when: BTreeSet::from(["architecture".to_string()]),
        ..Desired::default()
    }
}

fn role_id() -> ResourceId {
    ResourceId::new("aws.iam.role", "svc-dev")
}

fn role() -> Desired {
    Desired {
        id: role_id(),
        properties: Properties::from([("policy".to_string(), json!({"Version": "2012-10-17"}))]),
        ..Desired::default()
    }
}

/// What the cloud reports for a desired resource that was applied as is.
fn live_of(desired: &Desired) -> Live {
    let mut properties = desired.properties.clone();
    if properties.contains_key("role") {
        properties.insert("role".into(), json!("arn:aws:iam::1:role/svc-dev"));
    }
    Live {
        id: desired.id.clone(),
        properties,
        attributes: Properties::from([(
            "arn".to_string(),
            json!(format!("arn:aws:iam::1:role/{}", desired.id.name)),
        )]),
        depends_on: desired.depends_on.clone(),
    }
}

fn state(resources: Vec<Desired>) -> DesiredState {
    DesiredState { resources }
}

fn deployed(desired: &DesiredState) -> LiveState {
    LiveState {
        resources: desired.resources.iter().map(live_of).collect(),
        ..LiveState::default()
    }
}

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.steps
        .iter()
        .map(|s| (s.id.name.clone(), s.action))
        .collect()
}

#[test]
fn a_first_deploy_creates_the_role_before_the_functions() {
    let desired = state(vec![
        function("svc-dev-b", 128),
        function("svc-dev-a", 256),
        role(),
    ]);
    let plan = plan(&desired, &LiveState::default()).unwrap();
    assert_eq!(
        actions(&plan),
        vec![
            ("svc-dev".into(), Action::Create),
            ("svc-dev-a".into(), Action::Create),
            ("svc-dev-b".into(), Action::Create),
        ]
    );
    let a = plan
        .step(&ResourceId::new("aws.lambda.function", "svc-dev-a"))
        .unwrap();
    let role_change = a.changes.iter().find(|c| c.field == "role").unwrap();
    assert_eq!(
        role_change.new,
        Planned::AfterApply,
        "the role's ARN is not known before it exists"
    );
    assert_eq!(plan.counts().create, 3);
}

#[test]
fn an_unchanged_service_plans_no_op_everywhere() {
    let desired = state(vec![role(), function("svc-dev-a", 256)]);
    let plan = plan(&desired, &deployed(&desired)).unwrap();
    assert!(!plan.has_changes());
    assert!(plan.steps.iter().all(|s| s.changes.is_empty()));
    assert_eq!(plan.counts().no_op, 2);
}

#[test]
fn a_memory_change_updates_only_that_function_and_shows_old_and_new() {
    let before = state(vec![
        role(),
        function("svc-dev-a", 256),
        function("svc-dev-b", 256),
    ]);
    let after = state(vec![
        role(),
        function("svc-dev-a", 512),
        function("svc-dev-b", 256),
    ]);
    let plan = plan(&after, &deployed(&before)).unwrap();
    let changed: Vec<_> = plan.steps.iter().filter(|s| s.action.is_change()).collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].id.name, "svc-dev-a");
    assert_eq!(changed[0].action, Action::Update);
    assert_eq!(
        changed[0].changes,
        vec![FieldChange {
            field: "memory".into(),
            old: Planned::Known(json!(256)),
            new: Planned::Known(json!(512)),
            forces_replace: false,
        }]
    );
}

#[test]
fn drift_made_in_the_console_shows_as_an_update_from_the_live_value() {
    let desired = state(vec![role(), function("svc-dev-a", 256)]);
    let mut live = deployed(&desired);
    live.resources[1]
        .properties
        .insert("handler".into(), json!("edited.in.console"));
    let plan = plan(&desired, &live).unwrap();
    let step = plan
        .step(&ResourceId::new("aws.lambda.function", "svc-dev-a"))
        .unwrap();
    assert_eq!(step.action, Action::Update);
    assert_eq!(
        step.changes[0].old,
        Planned::Known(json!("edited.in.console"))
    );
    assert_eq!(step.changes[0].new, Planned::Known(json!("handler.main")));
}

#[test]
fn a_function_removed_from_the_manifest_is_deleted_after_its_dependents() {
    let before = state(vec![
        role(),
        function("svc-dev-a", 256),
        function("svc-dev-b", 256),
    ]);
    let mut live = deployed(&before);
    let permission = Live {
        id: ResourceId::new("aws.lambda.permission", "svc-dev-b/http"),
        depends_on: BTreeSet::from([ResourceId::new("aws.lambda.function", "svc-dev-b")]),
        ..Live::default()
    };
    live.resources.push(permission);
    let after = state(vec![role(), function("svc-dev-a", 256)]);
    let plan = plan(&after, &live).unwrap();
    let deletes: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.action == Action::Delete)
        .map(|s| s.id.name.as_str())
        .collect();
    assert_eq!(deletes, vec!["svc-dev-b/http", "svc-dev-b"]);
    assert!(plan.is_destructive());
    let function_delete = plan.steps.last().unwrap();
    assert!(function_delete
        .depends_on
        .contains(&ResourceId::new("aws.lambda.permission", "svc-dev-b/http")));
}

#[test]
fn a_retained_resource_no_longer_desired_is_kept_not_deleted() {
    let retained = Live {
        id: ResourceId::new("aws.lambda.layer", "ffmpeg"),
        attributes: Properties::from([(super::RETAINED.to_string(), json!(true))]),
        ..Live::default()
    };
    let dropped = Live {
        id: ResourceId::new("aws.lambda.layer", "old"),
        ..Live::default()
    };
    let live = LiveState {
        resources: vec![retained, dropped],
        ..LiveState::default()
    };
    let plan = plan(&DesiredState::default(), &live).unwrap();
    let deletes: Vec<_> = plan.steps.iter().map(|s| s.id.name.as_str()).collect();
    assert_eq!(deletes, vec!["old"]);
}

#[test]
fn a_change_to_a_property_that_cannot_change_in_place_replaces() {
    let mut desired = function("svc-dev-a", 256);
    let mut live = live_of(&desired);
    live.properties
        .insert("architecture".into(), json!("x86_64"));
    desired
        .properties
        .insert("architecture".into(), json!("arm64"));
    let plan = plan(
        &state(vec![role(), desired]),
        &LiveState {
            resources: vec![live_of(&role()), live],
            ..LiveState::default()
        },
    )
    .unwrap();
    let step = plan
        .step(&ResourceId::new("aws.lambda.function", "svc-dev-a"))
        .unwrap();
    assert_eq!(step.action, Action::Replace);
    assert!(step.changes.iter().any(|c| c.forces_replace));
}

#[test]
fn a_null_desired_value_matches_an_absent_live_one() {
    let mut desired = function("svc-dev-a", 256);
    desired.properties.insert("layers".into(), json!(null));
    let live = LiveState {
        resources: vec![live_of(&role()), live_of(&function("svc-dev-a", 256))],
        ..LiveState::default()
    };
    let plan = plan(&state(vec![role(), desired]), &live).unwrap();
    assert!(!plan.has_changes());
}

#[test]
fn the_same_input_in_any_order_gives_the_same_plan() {
    let forward = state(vec![
        role(),
        function("svc-dev-a", 1),
        function("svc-dev-b", 2),
    ]);
    let mut backward = forward.clone();
    backward.resources.reverse();
    let live = LiveState {
        resources: vec![live_of(&function("svc-dev-c", 3))],
        ..LiveState::default()
    };
    let mut live_reversed = live.clone();
    live_reversed.resources.reverse();
    assert_eq!(
        plan(&forward, &live).unwrap(),
        plan(&backward, &live_reversed).unwrap()
    );
}

#[test]
fn a_dependency_cycle_is_an_error_naming_the_resources() {
    let mut a = function("svc-dev-a", 1);
    let mut b = function("svc-dev-b", 1);
    a.depends_on.insert(b.id.clone());
    b.depends_on.insert(a.id.clone());
    let error = plan(&state(vec![role(), a, b]), &LiveState::default()).unwrap_err();
    let PlanError::Cycle { cycle } = &error else {
        panic!("expected a cycle, got {error}");
    };
    assert!(cycle.len() >= 3, "{error}");
    assert!(error.to_string().contains("svc-dev-a"));
}

#[test]
fn a_reference_to_an_undefined_resource_is_an_error() {
    let a = function("svc-dev-a", 1);
    let error = plan(&state(vec![a]), &LiveState::default()).unwrap_err();
    assert!(
        matches!(error, PlanError::MissingDependency { .. }),
        "{error}"
    );
}

#[test]
fn a_replaced_dependency_makes_references_to_it_known_after_apply() {
    let mut new_role = role();
    new_role.replace_when.insert("path".into());
    new_role.properties.insert("path".into(), json!("/new/"));
    let desired = state(vec![new_role, function("svc-dev-a", 256)]);
    let mut live = deployed(&state(vec![role(), function("svc-dev-a", 256)]));
    live.resources[0]
        .properties
        .insert("path".into(), json!("/"));
    let plan = plan(&desired, &live).unwrap();
    assert_eq!(plan.steps[0].action, Action::Replace);
    let function = &plan.steps[1];
    assert_eq!(function.action, Action::Update);
    assert_eq!(function.changes[0].new, Planned::AfterApply);
}
