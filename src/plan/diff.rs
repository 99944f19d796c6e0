//! Pairs desired and live resources by id and compares their properties, field by field.
//!
//! Only the properties a desired resource sets are compared: a live resource may report more
//! (what the cloud fills in, what updraft does not manage) and those never show as changes. A
//! desired `null` and a live property that is absent or `null` are equal: both mean "not set".

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::reference::{resolve, Attributes, Unresolved};
use super::state::{Desired, DesiredState, Live, LiveState, ResourceId};
use super::{order, Action, FieldChange, Planned, Step};

/// One step per desired resource (in dependency order, so a resource knows whether what it
/// refers to is being created), then one delete per live resource that is no longer desired,
/// unless it is retained (see [`super::state::RETAINED`]).
pub fn steps(desired: &DesiredState, live: &LiveState) -> Vec<Step> {
    let attributes: Attributes = live
        .resources
        .iter()
        .map(|resource| (resource.id.clone(), resource.attributes.clone()))
        .collect();
    let mut pending: BTreeSet<ResourceId> = BTreeSet::new();
    let mut steps = Vec::new();
    for id in order::desired_order(desired) {
        let Some(resource) = desired.get(&id) else {
            continue;
        };
        let step = match live.get(&id) {
            None => create(resource, &attributes, &pending),
            Some(current) => compare(resource, current, &attributes, &pending),
        };
        if matches!(step.action, Action::Create | Action::Replace) {
            pending.insert(id);
        }
        steps.push(step);
    }
    let wanted: BTreeSet<&ResourceId> = desired.resources.iter().map(|r| &r.id).collect();
    for resource in &live.resources {
        if !wanted.contains(&resource.id) && !resource.is_retained() {
            steps.push(delete(resource, live));
        }
    }
    steps
}

fn planned(value: &Json, attributes: &Attributes, pending: &BTreeSet<ResourceId>) -> Planned {
    match resolve(value, attributes, &|id| pending.contains(id)) {
        Ok(Json::Null) => Planned::Absent,
        Ok(value) => Planned::Known(value),
        Err(Unresolved::AfterApply(_) | Unresolved::MissingAttribute(_)) => Planned::AfterApply,
    }
}

fn create(resource: &Desired, attributes: &Attributes, pending: &BTreeSet<ResourceId>) -> Step {
    let changes = resource
        .properties
        .iter()
        .filter_map(|(field, value)| {
            let new = planned(value, attributes, pending);
            (new != Planned::Absent).then(|| FieldChange {
                field: field.clone(),
                old: Planned::Absent,
                new,
                forces_replace: false,
            })
        })
        .collect();
    Step {
        id: resource.id.clone(),
        action: Action::Create,
        changes,
        depends_on: resource.depends_on.clone(),
        desired: Some(resource.clone()),
        live: None,
    }
}

fn compare(
    resource: &Desired,
    current: &Live,
    attributes: &Attributes,
    pending: &BTreeSet<ResourceId>,
) -> Step {
    let mut changes = Vec::new();
    for (field, value) in &resource.properties {
        let new = planned(value, attributes, pending);
        let old = match current.properties.get(field) {
            None | Some(Json::Null) => Planned::Absent,
            Some(value) => Planned::Known(value.clone()),
        };
        if new != old {
            changes.push(FieldChange {
                field: field.clone(),
                forces_replace: resource.replace_when.contains(field),
                old,
                new,
            });
        }
    }
    let action = if changes.iter().any(|change| change.forces_replace) {
        Action::Replace
    } else if changes.is_empty() {
        Action::NoOp
    } else {
        Action::Update
    };
    Step {
        id: resource.id.clone(),
        action,
        changes,
        depends_on: resource.depends_on.clone(),
        desired: Some(resource.clone()),
        live: Some(current.clone()),
    }
}

/// A delete waits for the deletes of the live resources that use this one.
fn delete(resource: &Live, live: &LiveState) -> Step {
    let dependents = live
        .resources
        .iter()
        .filter(|other| other.depends_on.contains(&resource.id))
        .map(|other| other.id.clone())
        .collect();
    Step {
        id: resource.id.clone(),
        action: Action::Delete,
        changes: Vec::new(),
        depends_on: dependents,
        desired: None,
        live: Some(resource.clone()),
    }
}
