//! The order of a plan: dependencies first, ties broken by resource id so the same input always
//! gives the same plan. Creates, updates and replaces follow the desired dependencies; deletes
//! come after all of them, each after the deletes of the resources that used it.

use std::collections::{BTreeMap, BTreeSet};

use super::reference::references;
use super::state::{DesiredState, ResourceId};
use super::{Action, PlanError, Step};

/// Checks that ids are unique, every dependency and reference names a desired resource and is
/// declared, and the dependencies have no cycle.
pub fn check(desired: &DesiredState) -> Result<(), PlanError> {
    let mut seen = BTreeSet::new();
    for resource in &desired.resources {
        if !seen.insert(&resource.id) {
            return Err(PlanError::Duplicate(resource.id.clone()));
        }
    }
    for resource in &desired.resources {
        for dependency in &resource.depends_on {
            if !seen.contains(dependency) {
                return Err(PlanError::MissingDependency {
                    resource: resource.id.clone(),
                    missing: dependency.clone(),
                });
            }
        }
        for value in resource.properties.values() {
            for reference in references(value) {
                if !seen.contains(&reference.resource) {
                    return Err(PlanError::MissingDependency {
                        resource: resource.id.clone(),
                        missing: reference.resource,
                    });
                }
                if !resource.depends_on.contains(&reference.resource) {
                    return Err(PlanError::UndeclaredReference {
                        resource: resource.id.clone(),
                        missing: reference.resource,
                    });
                }
            }
        }
    }
    let edges: BTreeMap<ResourceId, BTreeSet<ResourceId>> = desired
        .resources
        .iter()
        .map(|r| (r.id.clone(), r.depends_on.clone()))
        .collect();
    match topological(&edges) {
        Ok(_) => Ok(()),
        Err(cycle) => Err(PlanError::Cycle { cycle }),
    }
}

/// Desired resources in dependency order (after [`check`], which rules out cycles).
pub fn desired_order(desired: &DesiredState) -> Vec<ResourceId> {
    let edges: BTreeMap<ResourceId, BTreeSet<ResourceId>> = desired
        .resources
        .iter()
        .map(|r| (r.id.clone(), r.depends_on.clone()))
        .collect();
    topological(&edges).unwrap_or_else(|_| edges.keys().cloned().collect())
}

/// Puts the steps in apply order: the non-delete steps in dependency order, then the deletes.
pub fn sort(steps: &mut Vec<Step>) -> Result<(), PlanError> {
    let (deletes, mut others): (Vec<Step>, Vec<Step>) = std::mem::take(steps)
        .into_iter()
        .partition(|step| step.action == Action::Delete);
    let delete_ids: BTreeSet<ResourceId> = deletes.iter().map(|s| s.id.clone()).collect();
    let edges: BTreeMap<ResourceId, BTreeSet<ResourceId>> = deletes
        .iter()
        .map(|step| {
            let within = step
                .depends_on
                .iter()
                .filter(|id| delete_ids.contains(id) && *id != &step.id)
                .cloned()
                .collect();
            (step.id.clone(), within)
        })
        .collect();
    let delete_order = topological(&edges).map_err(|cycle| PlanError::Cycle { cycle })?;
    let mut by_id: BTreeMap<ResourceId, Step> = deletes
        .into_iter()
        .map(|mut step| {
            if let Some(within) = edges.get(&step.id) {
                step.depends_on = within.clone();
            }
            (step.id.clone(), step)
        })
        .collect();
    steps.append(&mut others);
    steps.extend(delete_order.into_iter().filter_map(|id| by_id.remove(&id)));
    Ok(())
}

/// Kahn's algorithm with a sorted ready set; dependencies outside the map are ignored. On a
/// cycle, returns one cycle's members in order.
fn topological(
    edges: &BTreeMap<ResourceId, BTreeSet<ResourceId>>,
) -> Result<Vec<ResourceId>, Vec<ResourceId>> {
    let mut waiting: BTreeMap<&ResourceId, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&ResourceId, Vec<&ResourceId>> = BTreeMap::new();
    for (id, needs) in edges {
        let needs: Vec<&ResourceId> = needs.iter().filter(|n| edges.contains_key(*n)).collect();
        waiting.insert(id, needs.len());
        for need in needs {
            dependents.entry(need).or_default().push(id);
        }
    }
    let mut ready: BTreeSet<&ResourceId> = waiting
        .iter()
        .filter(|(_, count)| **count == 0)
        .map(|(id, _)| *id)
        .collect();
    let mut order = Vec::with_capacity(edges.len());
    while let Some(id) = ready.pop_first() {
        order.push(id.clone());
        for dependent in dependents.get(id).into_iter().flatten() {
            if let Some(count) = waiting.get_mut(dependent) {
                *count -= 1;
                if *count == 0 {
                    ready.insert(dependent);
                }
            }
        }
    }
    if order.len() == edges.len() {
        return Ok(order);
    }
    let done: BTreeSet<&ResourceId> = order.iter().collect();
    Err(find_cycle(edges, &done))
}

/// Walks from a resource that never became ready, following unfinished dependencies until one
/// repeats: what lies between the two visits is a cycle.
fn find_cycle(
    edges: &BTreeMap<ResourceId, BTreeSet<ResourceId>>,
    done: &BTreeSet<&ResourceId>,
) -> Vec<ResourceId> {
    let Some(mut current) = edges.keys().find(|id| !done.contains(id)) else {
        return Vec::new();
    };
    let mut path: Vec<&ResourceId> = Vec::new();
    loop {
        if let Some(position) = path.iter().position(|id| *id == current) {
            let mut cycle: Vec<ResourceId> =
                path[position..].iter().map(|id| (*id).clone()).collect();
            cycle.push(current.clone());
            return cycle;
        }
        path.push(current);
        let next = edges
            .get(current)
            .into_iter()
            .flatten()
            .find(|id| edges.contains_key(*id) && !done.contains(id));
        match next {
            Some(next) => current = next,
            None => return path.into_iter().cloned().collect(),
        }
    }
}
