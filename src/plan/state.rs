//! The two inputs of the planner as plain data: the resources a service should have
//! ([`DesiredState`], built by a provider from the manifest and the artifact hashes) and the
//! resources it has ([`LiveState`], read from the cloud). Neither knows any SDK: a resource is a
//! type name, a name, and JSON properties.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value as Json;

/// A resource's identity within one service and stage: its type (`aws.lambda.function`) and its
/// name. The planner pairs desired and live resources by this alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ResourceId {
    pub kind: String,
    pub name: String,
}

impl ResourceId {
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> Self {
        ResourceId {
            kind: kind.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

/// Properties by name. Sorted, so a plan lists fields in the same order every time.
pub type Properties = BTreeMap<String, Json>;

/// One resource as the manifest wants it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Desired {
    pub id: ResourceId,
    /// Compared with the live resource's properties. A value may hold references to other
    /// resources' attributes (see [`super::reference`]); `null` means "not set".
    pub properties: Properties,
    /// Given to the provider when applying but never compared: local file paths, content that
    /// the properties identify by hash.
    pub inputs: Properties,
    /// Resources that must exist before this one. References imply dependencies; list them here
    /// too (the planner checks that every reference is covered).
    pub depends_on: BTreeSet<ResourceId>,
    /// Properties that cannot change in place: a change to one replaces the resource.
    pub replace_when: BTreeSet<String>,
}

impl Default for ResourceId {
    fn default() -> Self {
        ResourceId::new("", "")
    }
}

/// One resource as the cloud has it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Live {
    pub id: ResourceId,
    /// The same property names a desired resource of this type uses.
    pub properties: Properties,
    /// What other resources may refer to (`arn`, `url`, ...), and what the provider needs to
    /// change or delete it.
    pub attributes: Properties,
    /// Live resources that use this one: a delete waits for theirs.
    pub depends_on: BTreeSet<ResourceId>,
}

/// The attribute that marks a live resource the service keeps when the manifest no longer asks
/// for it (a Lambda layer with `retain: true`, kept as CloudFormation's `DeletionPolicy: Retain`
/// keeps a resource): no delete is planned for it, and a remove lets it go.
pub const RETAINED: &str = "updraft:retained";

impl Live {
    /// Whether the resource is kept when it is no longer desired (see [`RETAINED`]).
    pub fn is_retained(&self) -> bool {
        self.attributes.get(RETAINED) == Some(&Json::Bool(true))
    }
}

/// Everything a service and stage should have.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct DesiredState {
    pub resources: Vec<Desired>,
}

/// Everything a service and stage has: only resources that carry its ownership marks, so a plan
/// never deletes what it does not own.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct LiveState {
    pub resources: Vec<Live>,
    /// Parts that could not be read, with what the cloud answered. A deploy cannot be planned
    /// from a partial state; a remove deletes what it could read and reports these as left.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<Unread>,
}

/// A part of the live state that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unread {
    /// What was being read: `aws.s3.notification legacy-uploads`, `aws.iam.role`.
    pub part: String,
    /// What the cloud answered, as a user can act on it.
    pub cause: String,
}

impl DesiredState {
    pub fn get(&self, id: &ResourceId) -> Option<&Desired> {
        self.resources.iter().find(|r| &r.id == id)
    }
}

impl LiveState {
    /// One line per unread part: `part: cause`.
    pub fn unread_lines(&self) -> Vec<String> {
        self.unread
            .iter()
            .map(|unread| format!("{}: {}", unread.part, unread.cause))
            .collect()
    }

    pub fn get(&self, id: &ResourceId) -> Option<&Live> {
        self.resources.iter().find(|r| &r.id == id)
    }
}
