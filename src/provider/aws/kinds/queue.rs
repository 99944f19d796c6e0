//! SQS queues from the manifest's `resources.Resources` (`Type: AWS::SQS::Queue`). `Ref` gives
//! the queue URL, `Fn::GetAtt [Q, Arn]` the ARN, `Fn::GetAtt [Q, QueueName]` the name. Other
//! resource types go into the service's stack ([`super::stack`]).
//!
//! Each attribute the manifest sets is a property of its own (snake_case of the SQS attribute:
//! `VisibilityTimeout` is `visibility_timeout`), as SQS reports it (a string; redrive policies
//! as JSON with string leaves). An attribute removed from the manifest keeps its value.
//!
//! Live: the tagging index names our queues; GetQueueUrl and GetQueueAttributes per queue (a
//! service has a few).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_sqs::types::QueueAttributeName;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::{props, ResourceKind, TagChange, Typed};
use crate::plan::{Action, Desired, DesiredState, Live, Properties, Step};
use crate::provider::aws::call;
use crate::provider::aws::clients::Aws;
use crate::provider::aws::context::{text, Context};
use crate::provider::aws::intrinsic::{unsupported, Place};
use crate::provider::aws::live::LiveContext;
use crate::provider::aws::naming::{self, kind};
use crate::provider::{ProviderError, StepContext};

pub struct Queues;

/// A queue's properties: the SQS attributes the manifest sets, by snake_case name (as SQS
/// reports them: text, and redrive policies as JSON with text leaves), and its tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueProperties {
    #[serde(flatten)]
    pub attributes: BTreeMap<String, Json>,
    pub tags: BTreeMap<String, String>,
}

impl Typed for QueueProperties {}

/// CloudFormation properties that are SQS attributes of the same name.
const ATTRIBUTES: &[&str] = &[
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
];

/// The queues' names by logical id, as the context's logical map needs them.
pub fn queue_names(context: &Context<'_>) -> Vec<(String, String)> {
    resources(context)
        .filter(|(_, resource)| {
            resource.get("Type").and_then(Json::as_str) == Some("AWS::SQS::Queue")
        })
        .map(|(logical, resource)| (logical.clone(), queue_name(context, logical, resource)))
        .collect()
}

fn resources<'c>(context: &'c Context<'_>) -> impl Iterator<Item = (&'c String, &'c Json)> {
    context
        .service
        .resources
        .as_ref()
        .and_then(|r| r.get("Resources"))
        .and_then(Json::as_object)
        .into_iter()
        .flatten()
}

fn queue_name(context: &Context<'_>, logical: &str, resource: &Json) -> String {
    let properties = resource.get("Properties");
    match properties
        .and_then(|p| p.get("QueueName"))
        .and_then(Json::as_str)
    {
        Some(name) => name.to_string(),
        None => {
            let fifo = properties
                .and_then(|p| p.get("FifoQueue"))
                .is_some_and(|f| f == &json!(true) || f == &json!("true"));
            let suffix = if fifo { ".fifo" } else { "" };
            format!(
                "{}{suffix}",
                naming::fit(format!("{}-{logical}", context.prefix), 80 - suffix.len())
            )
        }
    }
}

/// `VisibilityTimeout` to `visibility_timeout`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (index, character) in name.chars().enumerate() {
        if character.is_ascii_uppercase() && index > 0 {
            out.push('_');
        }
        out.push(character.to_ascii_lowercase());
    }
    out
}

/// JSON with every scalar leaf as a string, as SQS stores policies.
fn string_leaves(value: &Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), string_leaves(v)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(string_leaves).collect()),
        other => json!(text(other)),
    }
}

#[async_trait]
impl ResourceKind for Queues {
    fn kinds(&self) -> &'static [&'static str] {
        &[kind::QUEUE]
    }

    fn desired(
        &self,
        context: &Context<'_>,
        state: &mut DesiredState,
    ) -> Result<(), ProviderError> {
        for (logical, resource) in resources(context) {
            let path = format!("resources.Resources.{logical}");
            match resource.get("Type").and_then(Json::as_str) {
                Some("AWS::SQS::Queue") => {}
                // The stack deploys every other type.
                Some(_) => continue,
                None => {
                    return Err(ProviderError::Invalid {
                        message: format!("`{path}` has no `Type`"),
                        span: None,
                        help: "give the resource its CloudFormation type, such as `Type: AWS::DynamoDB::Table`".into(),
                    })
                }
            }
            let name = queue_name(context, logical, resource);
            let mut depends_on = BTreeSet::new();
            let mut attributes = BTreeMap::new();
            let mut tags = context.tags.clone();
            for (key, value) in resource
                .get("Properties")
                .and_then(Json::as_object)
                .into_iter()
                .flatten()
            {
                let path = format!("{path}.Properties.{key}");
                let place = Place {
                    path: &path,
                    span: None,
                };
                if key == "QueueName" {
                    continue;
                }
                if key == "Tags" {
                    for tag in value.as_array().into_iter().flatten() {
                        let (Some(k), Some(v)) =
                            (tag.get("Key").and_then(Json::as_str), tag.get("Value"))
                        else {
                            continue;
                        };
                        let resolved = context.resolve_text(v, place)?;
                        depends_on.extend(resolved.depends_on);
                        tags.insert(k.to_string(), text(&resolved.value));
                    }
                    continue;
                }
                if !ATTRIBUTES.contains(&key.as_str()) {
                    return Err(unsupported(place, &format!("the queue property `{key}`")));
                }
                let resolved = if key.starts_with("Redrive") {
                    let resolved = match value {
                        Json::String(json_text) => {
                            serde_json::from_str(json_text).unwrap_or(Json::Null)
                        }
                        other => other.clone(),
                    };
                    let mut found = BTreeSet::new();
                    let mut object = serde_json::Map::new();
                    for (k, v) in resolved.as_object().into_iter().flatten() {
                        let r = context.resolve_text(v, place)?;
                        found.extend(r.depends_on);
                        object.insert(k.clone(), r.value);
                    }
                    depends_on.extend(found);
                    string_leaves(&Json::Object(object))
                } else {
                    let r = context.resolve_text(value, place)?;
                    depends_on.extend(r.depends_on);
                    r.value
                };
                attributes.insert(snake_case(key), resolved);
            }
            state.resources.push(Desired {
                id: naming::id(kind::QUEUE, name),
                properties: QueueProperties { attributes, tags }.to_properties(),
                depends_on,
                replace_when: BTreeSet::from(["fifo_queue".to_string()]),
                ..Desired::default()
            });
        }
        Ok(())
    }

    async fn live(&self, live: &LiveContext) -> Result<Vec<Live>, ProviderError> {
        let aws = &live.aws;
        let mut found = Vec::new();
        for tagged in live.tagged_of("sqs", "").await? {
            let Some(name) = tagged.arn.rsplit(':').next() else {
                continue;
            };
            let url = match aws.sqs.get_queue_url().queue_name(name).send().await {
                Ok(answer) => answer.queue_url().unwrap_or_default().to_string(),
                Err(error)
                    if call::is(
                        &error,
                        &[
                            "AWS.SimpleQueueService.NonExistentQueue",
                            "QueueDoesNotExist",
                        ],
                    ) =>
                {
                    continue
                }
                Err(error) => return Err(call::failed("sqs:GetQueueUrl", name, &error)),
            };
            let answer = aws
                .sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::All)
                .send()
                .await
                .map_err(|e| call::failed("sqs:GetQueueAttributes", name, &e))?;
            let mut settings = BTreeMap::new();
            for (attribute, value) in answer.attributes().into_iter().flatten() {
                let value = if attribute.as_str().starts_with("Redrive") {
                    string_leaves(&serde_json::from_str(value).unwrap_or(Json::Null))
                } else {
                    json!(value)
                };
                settings.insert(snake_case(attribute.as_str()), value);
            }
            let properties = QueueProperties {
                attributes: settings,
                tags: tagged.tags.clone(),
            };
            found.push(Live {
                id: naming::id(kind::QUEUE, name),
                properties: properties.to_properties(),
                attributes: attributes(&url, &tagged.arn, name),
                ..Live::default()
            });
        }
        Ok(found)
    }

    async fn apply(
        &self,
        aws: &Aws,
        step: &Step,
        properties: &Properties,
        _context: &StepContext<'_>,
    ) -> Result<Properties, ProviderError> {
        let name = step.id.name.as_str();
        let arn = aws.arn("sqs", name);
        if matches!(step.action, Action::Delete | Action::Replace) {
            if let Some(url) = props::live_attribute(step, "url") {
                match aws.sqs.delete_queue().queue_url(&url).send().await {
                    Ok(_) => {}
                    Err(error)
                        if call::is(
                            &error,
                            &[
                                "AWS.SimpleQueueService.NonExistentQueue",
                                "QueueDoesNotExist",
                            ],
                        ) => {}
                    Err(error) => return Err(call::failed("sqs:DeleteQueue", &step.id, &error)),
                }
            }
            if step.action == Action::Delete {
                return Ok(Properties::new());
            }
        }
        let QueueProperties {
            attributes: wanted_attributes,
            tags,
        } = QueueProperties::from_properties(properties, &step.id)?;
        let current = QueueProperties::live_of(step)?;
        let creating = matches!(step.action, Action::Create | Action::Replace);
        // An attribute the manifest no longer sets keeps its value: only the wanted ones count.
        let wanted: HashMap<QueueAttributeName, String> = wanted_attributes
            .iter()
            .filter(|(key, value)| {
                creating
                    || current
                        .as_ref()
                        .is_none_or(|c| c.attributes.get(*key) != Some(*value))
            })
            .filter_map(|(key, value)| {
                let attribute = ATTRIBUTES.iter().find(|a| snake_case(a) == *key)?;
                let value = match value {
                    Json::Object(_) => value.to_string(),
                    other => text(other),
                };
                Some((QueueAttributeName::from(*attribute), value))
            })
            .collect();
        let url = if creating {
            let create = aws
                .sqs
                .create_queue()
                .queue_name(name)
                .set_attributes(Some(wanted.clone()))
                .set_tags(Some(tags.clone().into_iter().collect()));
            match create.send().await {
                Ok(answer) => answer.queue_url().unwrap_or_default().to_string(),
                Err(error) if call::is(&error, &["QueueAlreadyExists", "QueueNameExists"]) => {
                    // Made by a deploy that stopped, with other attributes: set them.
                    let url = queue_url(aws, step).await?;
                    set(aws, step, &url, wanted, &tags, &BTreeMap::new()).await?;
                    url
                }
                Err(error) => return Err(call::failed("sqs:CreateQueue", &step.id, &error)),
            }
        } else {
            let url = match props::live_attribute(step, "url") {
                Some(url) => url,
                None => queue_url(aws, step).await?,
            };
            let live_tags = current.map(|c| c.tags).unwrap_or_default();
            set(aws, step, &url, wanted, &tags, &live_tags).await?;
            url
        };
        Ok(attributes(&url, &arn, name))
    }
}

fn attributes(url: &str, arn: &str, name: &str) -> Properties {
    props::attributes([
        ("url", json!(url)),
        ("arn", json!(arn)),
        ("name", json!(name)),
    ])
}

async fn queue_url(aws: &Aws, step: &Step) -> Result<String, ProviderError> {
    let answer = aws
        .sqs
        .get_queue_url()
        .queue_name(&step.id.name)
        .send()
        .await
        .map_err(|e| call::failed("sqs:GetQueueUrl", &step.id, &e))?;
    Ok(answer.queue_url().unwrap_or_default().to_string())
}

async fn set(
    aws: &Aws,
    step: &Step,
    url: &str,
    attributes: HashMap<QueueAttributeName, String>,
    tags: &BTreeMap<String, String>,
    live_tags: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    if !attributes.is_empty() {
        aws.sqs
            .set_queue_attributes()
            .queue_url(url)
            .set_attributes(Some(attributes))
            .send()
            .await
            .map_err(|e| call::failed("sqs:SetQueueAttributes", &step.id, &e))?;
    }
    if tags != live_tags {
        TagChange::between(live_tags, tags)
            .send(
                |remove| async move {
                    aws.sqs
                        .untag_queue()
                        .queue_url(url)
                        .set_tag_keys(Some(remove))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| call::failed("sqs:UntagQueue", &step.id, &e))
                },
                |set| async move {
                    aws.sqs
                        .tag_queue()
                        .queue_url(url)
                        .set_tags(Some(set.into_iter().collect()))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| call::failed("sqs:TagQueue", &step.id, &e))
                },
            )
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ResourceId;

    #[test]
    fn queue_attributes_sit_beside_the_tags_in_the_generic_view() {
        let properties = QueueProperties {
            attributes: BTreeMap::from([("visibility_timeout".to_string(), json!("60"))]),
            tags: BTreeMap::from([("team".to_string(), "jobs".to_string())]),
        };
        let generic = properties.to_properties();
        assert_eq!(generic["visibility_timeout"], json!("60"));
        assert_eq!(generic["tags"], json!({"team": "jobs"}));
        let id = ResourceId::new(kind::QUEUE, "jobs");
        assert_eq!(
            QueueProperties::from_properties(&generic, &id).expect("it reads back"),
            properties
        );
    }
}
