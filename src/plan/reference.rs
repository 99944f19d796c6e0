//! References from one resource's properties to another's attributes (a function's role ARN, a
//! queue's URL in an environment variable), and their resolution.
//!
//! A reference is a JSON object with the single key [`REFERENCE_KEY`], so it can sit anywhere in
//! a property value (inside a policy document, in one environment variable) and the state stays
//! plain JSON. The planner resolves references against live attributes when it can; a reference
//! to a resource that is being created or replaced is "known after apply", as in Terraform, and
//! the apply engine resolves it from the attributes the earlier step returned.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use super::state::{Properties, ResourceId};

/// The key that marks a reference object.
pub const REFERENCE_KEY: &str = "updraft:reference";

/// A reference to an attribute of another resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    pub resource: ResourceId,
    pub attribute: String,
}

impl Reference {
    pub fn new(resource: ResourceId, attribute: impl Into<String>) -> Self {
        Reference {
            resource,
            attribute: attribute.into(),
        }
    }

    /// The JSON that stands for this reference inside a property value.
    pub fn to_json(&self) -> Json {
        json!({ REFERENCE_KEY: {
            "kind": self.resource.kind,
            "name": self.resource.name,
            "attribute": self.attribute,
        }})
    }

    /// Reads a reference object; `None` for any other value.
    pub fn from_json(value: &Json) -> Option<Reference> {
        let object = value.as_object()?;
        if object.len() != 1 {
            return None;
        }
        let inner = object.get(REFERENCE_KEY)?.as_object()?;
        let text = |key: &str| inner.get(key).and_then(Json::as_str).map(str::to_string);
        Some(Reference {
            resource: ResourceId::new(text("kind")?, text("name")?),
            attribute: text("attribute")?,
        })
    }
}

/// Every reference inside a value, in document order.
pub fn references(value: &Json) -> Vec<Reference> {
    let mut found = Vec::new();
    collect(value, &mut found);
    found
}

fn collect(value: &Json, found: &mut Vec<Reference>) {
    if let Some(reference) = Reference::from_json(value) {
        found.push(reference);
        return;
    }
    match value {
        Json::Array(items) => items.iter().for_each(|item| collect(item, found)),
        Json::Object(map) => map.values().for_each(|item| collect(item, found)),
        _ => {}
    }
}

/// Attributes of resources, by resource.
pub type Attributes = BTreeMap<ResourceId, Properties>;

/// Why a value could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// The resource does not exist yet or is being replaced: its attributes come from apply.
    AfterApply(Reference),
    /// The resource exists but has no such attribute: a provider bug, reported as one.
    MissingAttribute(Reference),
}

/// Replaces every reference in `value` with the attribute it names. `pending` resources (being
/// created or replaced) resolve to [`Unresolved::AfterApply`] even when old attributes exist.
pub fn resolve(
    value: &Json,
    attributes: &Attributes,
    pending: &dyn Fn(&ResourceId) -> bool,
) -> Result<Json, Unresolved> {
    if let Some(reference) = Reference::from_json(value) {
        if pending(&reference.resource) {
            return Err(Unresolved::AfterApply(reference));
        }
        return match attributes.get(&reference.resource) {
            None => Err(Unresolved::AfterApply(reference)),
            Some(found) => match found.get(&reference.attribute) {
                Some(attribute) => Ok(attribute.clone()),
                None => Err(Unresolved::MissingAttribute(reference)),
            },
        };
    }
    Ok(match value {
        Json::Array(items) => Json::Array(
            items
                .iter()
                .map(|item| resolve(item, attributes, pending))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(key, item)| Ok((key.clone(), resolve(item, attributes, pending)?)))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role() -> ResourceId {
        ResourceId::new("aws.iam.role", "service-dev")
    }

    #[test]
    fn a_reference_survives_the_round_trip_through_json() {
        let reference = Reference::new(role(), "arn");
        assert_eq!(Reference::from_json(&reference.to_json()), Some(reference));
        assert_eq!(Reference::from_json(&json!({"arn": "x"})), None);
    }

    #[test]
    fn references_nested_in_a_policy_document_are_found_and_resolved() {
        let reference = Reference::new(role(), "arn");
        let value = json!({"Statement": [{"Resource": reference.to_json(), "Effect": "Allow"}]});
        assert_eq!(references(&value), vec![reference]);
        let attributes = Attributes::from([(
            role(),
            Properties::from([("arn".to_string(), json!("arn:aws:iam::1:role/r"))]),
        )]);
        let resolved = resolve(&value, &attributes, &|_| false);
        assert_eq!(
            resolved,
            Ok(json!({"Statement": [{"Resource": "arn:aws:iam::1:role/r", "Effect": "Allow"}]}))
        );
    }

    #[test]
    fn a_pending_resource_resolves_after_apply_even_with_old_attributes() {
        let reference = Reference::new(role(), "arn");
        let attributes = Attributes::from([(
            role(),
            Properties::from([("arn".to_string(), json!("old"))]),
        )]);
        let resolved = resolve(&reference.to_json(), &attributes, &|_| true);
        assert_eq!(resolved, Err(Unresolved::AfterApply(reference)));
    }
}
