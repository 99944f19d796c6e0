//! The service's CloudFormation stack: which parts of `resources:` it holds, how the rest of the
//! service refers to them, and the template it is deployed from. Pure: no calls.
//!
//! Functions, roles, log groups, triggers and SQS queues are deployed through their own APIs;
//! every other CloudFormation type under `resources.Resources`, and the `Outputs`,
//! `Conditions`, `Parameters`, `Mappings` and `Metadata` sections, go into one stack per
//! service and stage (`{service}-{stage}`, or `provider.stackName`), so CloudFormation creates,
//! updates and deletes whatever type the user wrote (see `docs/deploy.md` for why).
//!
//! A function (or role, or trigger) that refers to a stack resource gets its value from the
//! stack's outputs: updraft adds one output per value it needs (`UpdraftRef{Id}` for a `Ref`,
//! `UpdraftAtt{Id}{Attribute}` for an `Fn::GetAtt`, `UpdraftValue{hash}` for an expression
//! such as `Fn::Join`, `Fn::Sub`, `Fn::ImportValue` or `Fn::If` that CloudFormation evaluates)
//! and the value becomes a plan reference to that output. The other way round, a stack
//! resource that refers to a function or a queue gets its name or ARN written into the
//! template.
//!
//! The plan compares the template piece by piece: one property per resource property
//! (`Resources.UsersTable.Properties.BillingMode`), per output, condition, parameter and
//! mapping, so a changed table property shows as that one change.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value as Json};
use sha2::{Digest, Sha256};

use super::naming;
use crate::manifest::model::Service;
use crate::plan::{Properties, ResourceId};

/// The resource type the stack has in plans.
pub const STACK: &str = "aws.cloudformation.stack";

/// Resource types updraft deploys itself rather than through the stack.
pub const DIRECT_TYPES: &[&str] = &["AWS::SQS::Queue"];

/// Template sections copied into the stack as written.
pub const SECTIONS: &[&str] = &[
    "Resources",
    "Outputs",
    "Conditions",
    "Parameters",
    "Mappings",
    "Metadata",
    "Description",
    "AWSTemplateFormatVersion",
    "Transform",
];

/// A resource that stands in for an empty `Resources` section: a stack that only evaluates
/// outputs (an `Fn::ImportValue` in a function's environment) still needs one resource.
pub const PLACEHOLDER: &str = "UpdraftPlaceholder";

/// What the stack holds, known before anything is built.
#[derive(Debug, Clone)]
pub struct StackPlan {
    pub name: String,
    pub id: ResourceId,
    /// Logical id to resource type, for the resources the stack holds.
    pub resources: BTreeMap<String, String>,
    /// Parameter names (a `Ref` to one is the stack's too).
    pub parameters: BTreeSet<String>,
    /// The user's sections other than `Resources` (`Outputs`, `Conditions`, ...).
    pub has_sections: bool,
}

impl StackPlan {
    pub fn new(service: &Service, prefix: &str) -> StackPlan {
        let name = service
            .provider
            .raw
            .get("stackName")
            .and_then(Json::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| prefix.to_string());
        let sections = service.resources.as_ref().and_then(Json::as_object);
        let resources = sections
            .and_then(|s| s.get("Resources"))
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(logical, resource)| {
                let kind = resource.get("Type").and_then(Json::as_str)?;
                (!DIRECT_TYPES.contains(&kind)).then(|| (logical.clone(), kind.to_string()))
            })
            .collect();
        let parameters = sections
            .and_then(|s| s.get("Parameters"))
            .and_then(Json::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let has_sections = sections.is_some_and(|s| {
            s.iter().any(|(key, value)| {
                key != "Resources" && !value.as_object().is_some_and(Map::is_empty)
            })
        });
        StackPlan {
            id: naming::id(STACK, name.clone()),
            name,
            resources,
            parameters,
            has_sections,
        }
    }

    /// Whether `name` is a resource or parameter of the stack.
    pub fn holds(&self, name: &str) -> bool {
        self.resources.contains_key(name) || self.parameters.contains(name)
    }
}

/// The output that gives `Ref` of a stack resource or parameter.
pub fn ref_output(logical: &str) -> String {
    format!("UpdraftRef{}", alphanumeric(logical))
}

/// The output that gives `Fn::GetAtt [logical, attribute]`.
pub fn attribute_output(logical: &str, attribute: &str) -> String {
    format!(
        "UpdraftAtt{}{}",
        alphanumeric(logical),
        alphanumeric(attribute)
    )
}

/// The output that gives an expression CloudFormation evaluates.
pub fn value_output(expression: &Json) -> String {
    let digest = Sha256::digest(expression.to_string().as_bytes());
    format!("UpdraftValue{}", &hex::encode(digest)[..12])
}

fn alphanumeric(text: &str) -> String {
    text.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Whether an output key is one updraft generated (not the user's).
pub fn is_generated_output(key: &str) -> bool {
    ["UpdraftRef", "UpdraftAtt", "UpdraftValue"]
        .iter()
        .any(|prefix| key.starts_with(prefix))
}

/// The template as plan properties: `Resources.{Id}.Properties.{Key}` for each resource
/// property, `Resources.{Id}.{Key}` for the rest of a resource (`Type`, `DependsOn`, ...),
/// `{Section}.{Key}` for each entry of the other sections, `{Section}` for scalar sections.
pub fn flatten(template: &Map<String, Json>) -> Properties {
    let mut properties = Properties::new();
    for (section, value) in template {
        match (section.as_str(), value) {
            ("Resources", Json::Object(resources)) => {
                for (logical, resource) in resources {
                    let Some(resource) = resource.as_object() else {
                        properties.insert(format!("Resources.{logical}"), resource.clone());
                        continue;
                    };
                    for (key, part) in resource {
                        match (key.as_str(), part) {
                            ("Properties", Json::Object(settings)) => {
                                for (name, setting) in settings {
                                    properties.insert(
                                        format!("Resources.{logical}.Properties.{name}"),
                                        setting.clone(),
                                    );
                                }
                            }
                            _ => {
                                properties
                                    .insert(format!("Resources.{logical}.{key}"), part.clone());
                            }
                        }
                    }
                }
            }
            (_, Json::Object(entries)) => {
                for (key, entry) in entries {
                    properties.insert(format!("{section}.{key}"), entry.clone());
                }
            }
            _ => {
                properties.insert(section.clone(), value.clone());
            }
        }
    }
    properties
}

/// The template again from [`flatten`]'s properties (other properties, such as `tags`, are
/// left out). A resource whose every property was removed keeps an empty `Properties`.
pub fn unflatten(properties: &Properties) -> Map<String, Json> {
    let mut template = Map::new();
    for (field, value) in properties {
        let Some((section, rest)) = field.split_once('.') else {
            if SECTIONS.contains(&field.as_str()) {
                template.insert(field.clone(), value.clone());
            }
            continue;
        };
        if !SECTIONS.contains(&section) || value.is_null() {
            continue;
        }
        let entries = template
            .entry(section.to_string())
            .or_insert_with(|| json!({}));
        let Some(entries) = entries.as_object_mut() else {
            continue;
        };
        if section != "Resources" {
            entries.insert(rest.to_string(), value.clone());
            continue;
        }
        let (logical, part) = rest.split_once('.').unwrap_or((rest, ""));
        let resource = entries
            .entry(logical.to_string())
            .or_insert_with(|| json!({}));
        let Some(resource) = resource.as_object_mut() else {
            continue;
        };
        match part.split_once('.') {
            Some(("Properties", name)) => {
                let settings = resource
                    .entry("Properties".to_string())
                    .or_insert_with(|| json!({}));
                if let Some(settings) = settings.as_object_mut() {
                    settings.insert(name.to_string(), value.clone());
                }
            }
            _ if part.is_empty() => {
                *resource = value.as_object().cloned().unwrap_or_default();
            }
            _ => {
                resource.insert(part.to_string(), value.clone());
            }
        }
    }
    template
}

/// What a stack status means for the plan: settled states are `ready`; anything else (a
/// failed create, a stuck rollback, a change in progress) shows as itself, so the plan says
/// the stack will be brought back.
pub fn status_property(status: &str) -> String {
    match status {
        "CREATE_COMPLETE"
        | "UPDATE_COMPLETE"
        | "UPDATE_ROLLBACK_COMPLETE"
        | "IMPORT_COMPLETE"
        | "IMPORT_ROLLBACK_COMPLETE" => READY.to_string(),
        other => other.to_string(),
    }
}

/// The status a desired stack has.
pub const READY: &str = "ready";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_flattens_to_one_property_per_resource_property_and_back() {
        let template = json!({
            "Resources": {
                "UsersTable": {
                    "Type": "AWS::DynamoDB::Table",
                    "DeletionPolicy": "Retain",
                    "Properties": {"BillingMode": "PAY_PER_REQUEST", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}
                },
                "Bare": {"Type": "AWS::SNS::Topic"}
            },
            "Outputs": {"TableName": {"Value": {"Ref": "UsersTable"}}},
            "Description": "shop"
        });
        let properties = flatten(template.as_object().unwrap());
        assert_eq!(
            properties.keys().collect::<Vec<_>>(),
            [
                "Description",
                "Outputs.TableName",
                "Resources.Bare.Type",
                "Resources.UsersTable.DeletionPolicy",
                "Resources.UsersTable.Properties.BillingMode",
                "Resources.UsersTable.Properties.KeySchema",
                "Resources.UsersTable.Type",
            ]
        );
        assert_eq!(Json::Object(unflatten(&properties)), template);
    }

    #[test]
    fn unflatten_ignores_properties_that_are_not_template_parts() {
        let mut properties = Properties::new();
        properties.insert("tags".into(), json!({"a": "b"}));
        properties.insert("status".into(), json!("ready"));
        properties.insert("Resources.T.Type".into(), json!("AWS::SNS::Topic"));
        assert_eq!(
            Json::Object(unflatten(&properties)),
            json!({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}})
        );
    }

    #[test]
    fn generated_output_names_are_alphanumeric_and_stable() {
        assert_eq!(ref_output("UsersTable"), "UpdraftRefUsersTable");
        assert_eq!(
            attribute_output("Db", "Endpoint.Address"),
            "UpdraftAttDbEndpointAddress"
        );
        let expression = json!({"Fn::ImportValue": "shared-api-id"});
        assert_eq!(value_output(&expression), value_output(&expression));
        assert!(value_output(&expression).starts_with("UpdraftValue"));
        assert!(is_generated_output(&value_output(&expression)));
        assert!(!is_generated_output("TableName"));
    }

    #[test]
    fn failed_and_busy_stacks_are_not_ready() {
        assert_eq!(status_property("UPDATE_COMPLETE"), READY);
        assert_eq!(status_property("ROLLBACK_COMPLETE"), "ROLLBACK_COMPLETE");
        assert_eq!(status_property("UPDATE_IN_PROGRESS"), "UPDATE_IN_PROGRESS");
    }
}
