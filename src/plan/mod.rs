//! The planner: desired state against live state gives a [`Plan`], a sorted list of steps, one
//! per resource, each with a closed [`Action`] (create, update with the changed fields old ->
//! new, replace, delete, no-op) and the resources it waits for.
//!
//! Pure and synchronous: no IO, no async, no SDK types. Same input, same plan: steps are ordered
//! by dependencies and then by resource id, fields by name. Providers build the desired state
//! (see [`state`]) and apply the steps; the command line renders them.

pub mod diff;
pub mod order;
pub mod reference;
pub mod state;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value as Json;

pub use reference::{Attributes, Reference};
pub use state::{Desired, DesiredState, Live, LiveState, Properties, ResourceId, Unread, RETAINED};

/// What a step does to its resource. Closed: every renderer and provider handles each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    /// Delete and create again: a property that cannot change in place changed.
    Replace,
    Delete,
    NoOp,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
        }
    }

    /// Whether applying the step changes anything.
    pub fn is_change(self) -> bool {
        self != Action::NoOp
    }
}

/// A property's planned value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", content = "value", rename_all = "kebab-case")]
pub enum Planned {
    /// Not set (the property is removed or was never there).
    Absent,
    Known(Json),
    /// Depends on an attribute of a resource that is being created or replaced.
    AfterApply,
}

/// One changed property.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Planned,
    pub new: Planned,
    /// This change alone forces a replacement.
    pub forces_replace: bool,
}

/// One resource's step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub id: ResourceId,
    pub action: Action,
    /// For updates and replaces: what changes. For creates: every property set. Empty otherwise.
    pub changes: Vec<FieldChange>,
    /// Steps that must finish first (only steps of this plan).
    pub depends_on: BTreeSet<ResourceId>,
    /// What to apply; `None` for a delete.
    #[serde(skip)]
    pub desired: Option<Desired>,
    /// What is there now; `None` for a create.
    #[serde(skip)]
    pub live: Option<Live>,
}

/// The whole plan, in an order that can be applied one step at a time.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
}

/// How many steps of each action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub no_op: usize,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        self.steps.iter().any(|step| step.action.is_change())
    }

    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for step in &self.steps {
            *match step.action {
                Action::Create => &mut counts.create,
                Action::Update => &mut counts.update,
                Action::Replace => &mut counts.replace,
                Action::Delete => &mut counts.delete,
                Action::NoOp => &mut counts.no_op,
            } += 1;
        }
        counts
    }

    /// Whether the plan destroys anything (a terminal user confirms these).
    pub fn is_destructive(&self) -> bool {
        self.steps
            .iter()
            .any(|step| matches!(step.action, Action::Delete | Action::Replace))
    }

    pub fn step(&self, id: &ResourceId) -> Option<&Step> {
        self.steps.iter().find(|step| &step.id == id)
    }
}

/// Why no plan could be made. These are provider bugs or impossible manifests, never cloud
/// failures (the planner does no IO).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum PlanError {
    #[error("two desired resources are both {0}")]
    #[diagnostic(help("give the functions or resources different names"))]
    Duplicate(ResourceId),
    #[error("{resource} depends on {missing}, which the service does not define")]
    #[diagnostic(help("define {missing} in the manifest, or remove the reference to it"))]
    MissingDependency {
        resource: ResourceId,
        missing: ResourceId,
    },
    #[error("{resource} refers to {missing} without depending on it")]
    #[diagnostic(help("this is a bug in updraft: please report it with the manifest"))]
    UndeclaredReference {
        resource: ResourceId,
        missing: ResourceId,
    },
    #[error("the resources depend on each other in a cycle: {}", cycle.iter().map(ToString::to_string).collect::<Vec<_>>().join(" -> "))]
    #[diagnostic(help("break the cycle: one of these references must go"))]
    Cycle { cycle: Vec<ResourceId> },
}

/// Plans the change from `live` to `desired`.
pub fn plan(desired: &DesiredState, live: &LiveState) -> Result<Plan, PlanError> {
    order::check(desired)?;
    let mut steps = diff::steps(desired, live);
    order::sort(&mut steps)?;
    Ok(Plan { steps })
}
