//! One module per AWS resource kind, each with the three parts a kind has: a pure desired-state
//! builder, a live reader, and apply (create, update, replace, delete).
//!
//! # Adding a kind
//!
//! 1. Add its type name to [`super::naming::kind`] (if it is not there yet).
//! 2. Give it one properties type (`#[derive(Serialize, Deserialize)]`, implementing
//!    [`Typed`]): the builder, the reader and apply all go through it, so each field name is
//!    written once; its tags sync through [`TagChange`].
//! 3. Write a module with a unit struct that implements [`ResourceKind`]:
//!    - `kinds()`: the type names it applies;
//!    - `desired(context, state)`: push the resources the manifest asks for, their properties
//!      made from the properties type, references (via
//!      [`super::context::Context::resolve`] or [`crate::plan::Reference`]) listed in
//!      `depends_on`, and an `Unsupported` error for anything it cannot deploy;
//!    - `live(live)`: read what exists with list calls and the tagging index
//!      ([`super::live::LiveContext::tagged`]), keeping only resources with both ownership tags;
//!    - `apply(aws, step, properties, context)`: make it so, idempotently (a create that finds
//!      the resource adopts it; a delete of something gone succeeds); return the attributes
//!      other resources refer to;
//!    - optionally `wait_ready`, and `endpoints` (what `info` shows for a live resource).
//! 4. Add one line to [`ALL`]. The order there is the order builders run and plans list kinds.

pub mod artifact;
pub mod function;
pub mod function_apply;
pub mod function_destinations;
pub mod function_settings;
pub mod function_url;
pub mod layer;
pub mod layer_apply;
pub mod log_group;
pub mod queue;
pub mod role;
pub mod stack;

use async_trait::async_trait;

use super::clients::Aws;
use super::context::Context;
use super::live::LiveContext;
use crate::plan::{DesiredState, Live, Properties, Step};
use crate::provider::{Endpoint, ProviderError, StepContext};

/// One kind (or a few closely tied kinds) of AWS resource.
#[async_trait]
pub trait ResourceKind: Send + Sync {
    /// The resource types (`naming::kind::*`) this module reads and applies.
    fn kinds(&self) -> &'static [&'static str];

    /// Adds the resources the service should have. Pure: no calls.
    fn desired(&self, context: &Context<'_>, state: &mut DesiredState)
        -> Result<(), ProviderError>;

    /// The live resources of these kinds that carry the ownership tags.
    async fn live(&self, live: &LiveContext) -> Result<Vec<Live>, ProviderError>;

    /// Applies one step; `properties` are resolved. Returns the attributes after the change.
    async fn apply(
        &self,
        aws: &Aws,
        step: &Step,
        properties: &Properties,
        context: &StepContext<'_>,
    ) -> Result<Properties, ProviderError>;

    /// The ways to call the service that one of its live resources offers (`info`).
    fn endpoints(&self, _live: &Live) -> Vec<Endpoint> {
        Vec::new()
    }

    /// Waits until a created or updated resource can be used by the steps after it.
    async fn wait_ready(
        &self,
        _aws: &Aws,
        _step: &Step,
        _attributes: &Properties,
        _context: &StepContext<'_>,
    ) -> Result<(), ProviderError> {
        Ok(())
    }
}

/// Every kind, in the order builders run.
pub static ALL: &[&dyn ResourceKind] = &[
    &artifact::Artifacts,
    // Before functions: a function's `layers` refer to the version a layer publishes.
    &layer::Layers,
    &queue::Queues,
    &role::Roles,
    &log_group::LogGroups,
    &function::Functions,
    &function_url::FunctionUrls,
    &function_destinations::FunctionDestinations,
    &crate::provider::aws::triggers::Triggers,
    // Last: the stack's outputs are the values the builders before it asked for.
    &stack::Stacks,
];

/// The module that applies resources of this type.
pub fn for_kind(kind: &str) -> Option<&'static dyn ResourceKind> {
    ALL.iter()
        .copied()
        .find(|module| module.kinds().contains(&kind))
}

pub use crate::provider::typed::Typed;

/// The properties of a resource whose only compared properties are its tags (an SNS topic, an
/// S3 bucket the service creates).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TagsOnly {
    pub tags: std::collections::BTreeMap<String, String>,
}

impl Typed for TagsOnly {}

/// What changes the tags of a resource from `live` to `wanted`: the keys to remove, and the
/// tags that are new or have another value. Every kind syncs its tags through this.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagChange {
    pub remove: Vec<String>,
    pub set: std::collections::BTreeMap<String, String>,
}

impl TagChange {
    pub fn between(
        live: &std::collections::BTreeMap<String, String>,
        wanted: &std::collections::BTreeMap<String, String>,
    ) -> TagChange {
        TagChange {
            remove: live
                .keys()
                .filter(|key| !wanted.contains_key(*key))
                .cloned()
                .collect(),
            set: wanted
                .iter()
                .filter(|(key, value)| live.get(*key) != Some(value))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        }
    }
}

impl TagChange {
    /// Sends the change: `remove` with the keys to remove, then `set` with the tags to set, each
    /// only when there is something to send. The two calls are the service's own.
    pub async fn send<R, S>(
        self,
        remove: impl FnOnce(Vec<String>) -> R,
        set: impl FnOnce(std::collections::BTreeMap<String, String>) -> S,
    ) -> Result<(), ProviderError>
    where
        R: std::future::Future<Output = Result<(), ProviderError>>,
        S: std::future::Future<Output = Result<(), ProviderError>>,
    {
        if !self.remove.is_empty() {
            remove(self.remove).await?;
        }
        if !self.set.is_empty() {
            set(self.set).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::TagChange;

    #[test]
    fn a_tag_change_removes_dropped_keys_and_sets_only_new_values() {
        let live = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
        ]);
        let wanted = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("c".to_string(), "3".to_string()),
        ]);
        let change = TagChange::between(&live, &wanted);
        assert_eq!(change.remove, vec!["b".to_string()]);
        assert_eq!(
            change.set,
            BTreeMap::from([("c".to_string(), "3".to_string())])
        );
        assert_eq!(TagChange::between(&wanted, &wanted), TagChange::default());
    }
}

/// Helpers for what is not a compared property: a step's inputs and a resource's attributes.
pub mod props {
    use serde_json::Value as Json;

    use crate::plan::{Properties, Step};
    use crate::provider::ProviderError;

    /// An input the builder put on the desired resource (not compared, not resolved).
    pub fn input(step: &Step, name: &str) -> Result<String, ProviderError> {
        step.desired
            .as_ref()
            .and_then(|desired| desired.inputs.get(name))
            .and_then(Json::as_str)
            .map(str::to_string)
            .ok_or_else(|| ProviderError::Internal {
                resource: step.id.clone(),
                message: format!("the step has no `{name}` input"),
            })
    }

    /// A live attribute of the resource the step changes.
    pub fn live_attribute(step: &Step, name: &str) -> Option<String> {
        step.live
            .as_ref()
            .and_then(|live| live.attributes.get(name))
            .and_then(Json::as_str)
            .map(str::to_string)
    }

    pub fn attributes<const N: usize>(pairs: [(&str, Json); N]) -> Properties {
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}
