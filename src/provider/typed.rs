//! One typed property struct per resource kind, for every cloud: see [`Typed`].

use crate::plan::{Properties, Step};
use crate::provider::ProviderError;

/// A kind's properties as one Rust type. The desired builder makes a value of it, the live
/// reader makes one, and apply reads the resolved properties back into one: each field name is
/// written once (by serde), so a misspelled field is a compile error, not a permanent drift.
/// The planner still compares the generic view ([`Properties`]) made from it. A field that may
/// hold a reference to another resource's attribute until apply is typed as JSON.
pub trait Typed: serde::Serialize + serde::de::DeserializeOwned {
    /// The generic view the planner compares.
    fn to_properties(&self) -> Properties {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map.into_iter().collect(),
            _ => Properties::new(),
        }
    }

    /// Reads a step's properties (desired and resolved, or live) back.
    fn from_properties(
        properties: &Properties,
        resource: &crate::plan::ResourceId,
    ) -> Result<Self, ProviderError> {
        let object: serde_json::Map<String, serde_json::Value> = properties
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        serde_json::from_value(serde_json::Value::Object(object)).map_err(|error| {
            ProviderError::Internal {
                resource: resource.clone(),
                message: format!(
                    "its properties do not read as {}: {error}",
                    std::any::type_name::<Self>()
                ),
            }
        })
    }

    /// The live resource's properties of a step, when there is a live resource.
    fn live_of(step: &Step) -> Result<Option<Self>, ProviderError> {
        step.live
            .as_ref()
            .map(|live| Self::from_properties(&live.properties, &step.id))
            .transpose()
    }
}
