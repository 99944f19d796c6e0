//! `sqs` events: one Lambda event source mapping per function and queue, with `batchSize`
//! (10 unless set), `maximumBatchingWindow`, `functionResponseType` and `enabled`. The queue is
//! an ARN or a reference to a queue of the service's `resources:` (`Fn::GetAtt: [Queue, Arn]`),
//! which the mapping then waits for.
//!
//! Mappings are named `{function}/{queue}` and found with one `ListEventSourceMappings`
//! listing, kept when their function is one of the service's. Lambda polls the queue with the
//! function's role: [`role_statements`] gives what that role must allow.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::types::FunctionResponseType;
use aws_sdk_lambda::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::kinds::Typed;
use super::super::naming::{self, kind};
use super::{
    arn_name, attribute, call_error, function_name_of, invalid, refuse_settings, setting_value,
    settings, string_map, EventContext, FunctionEvent,
};
use crate::manifest::model::Trigger;
use crate::plan::{Action, Desired, Live, Properties, Reference, Step};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

/// Settings of an `sqs` event updraft does not deploy yet.
const UNSUPPORTED: &[&str] = &["filterPatterns", "maximumConcurrency"];

pub fn name(function_name: &str, queue_name: &str) -> String {
    format!("{function_name}/{queue_name}")
}

pub fn desired(
    context: &Context<'_>,
    events: &[FunctionEvent],
) -> Result<Vec<Desired>, ProviderError> {
    let mut resources = Vec::new();
    for FunctionEvent {
        function, event, ..
    } in events
    {
        let Trigger::Queue {
            queue,
            batch_size,
            enabled,
        } = &event.trigger
        else {
            continue;
        };
        let event_settings = settings(event);
        refuse_settings(
            function,
            event,
            UNSUPPORTED,
            "updraft deploys an sqs event's `arn`, `batchSize`, `maximumBatchingWindow`, \
             `functionResponseType` and `enabled`; remove this setting for now",
        )?;
        let function_id = context.function_id(function)?;
        let mut depends_on = BTreeSet::from([function_id.clone()]);
        let (source, refers_to) = context.resolve_event(queue, function, event)?;
        depends_on.extend(refers_to);
        let queue_name = match (&source, Reference::from_json(&source)) {
            (_, Some(reference)) => {
                depends_on.insert(reference.resource.clone());
                reference.resource.name
            }
            (Json::String(arn), None) if arn.starts_with("arn:") && arn.contains(":sqs:") => {
                arn_name(arn).to_string()
            }
            _ => {
                return Err(invalid(
                    function,
                    event,
                    format!("the queue {queue} is not an SQS queue ARN"),
                    "give the queue's ARN, or `Fn::GetAtt: [QueueResource, Arn]` for a queue \
                     under `resources:`",
                ))
            }
        };
        let response_types = match event_settings.and_then(|s| s.get("functionResponseType")) {
            Some(Json::String(kind)) => vec![kind.clone()],
            _ => Vec::new(),
        };
        let properties = MappingProperties {
            function_name: function_id.name.clone(),
            event_source_arn: source,
            batch_size: u64::from(batch_size.unwrap_or(10)),
            maximum_batching_window: setting_value(event, "maximumBatchingWindow").unwrap_or(0),
            function_response_types: response_types,
            enabled: *enabled,
        };
        resources.push(Desired {
            id: naming::id(
                kind::EVENT_SOURCE_MAPPING,
                name(&function_id.name, &queue_name),
            ),
            properties: properties.to_properties(),
            inputs: Properties::from([("tags".to_string(), context.tags_json())]),
            depends_on,
            replace_when: BTreeSet::from([
                "function_name".to_string(),
                "event_source_arn".to_string(),
            ]),
        });
    }
    Ok(resources)
}

/// An SQS event source mapping's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingProperties {
    /// The deployed function's name.
    pub function_name: String,
    /// The queue's ARN; a reference to a queue of the service until apply.
    pub event_source_arn: Json,
    pub batch_size: u64,
    /// Seconds.
    pub maximum_batching_window: u64,
    pub function_response_types: Vec<String>,
    pub enabled: bool,
}

impl Typed for MappingProperties {}

/// What the functions' role must allow so Lambda can read the queues of `resources` (the
/// desired trigger resources): one statement, or none without `sqs` events.
pub fn role_statements(resources: &[Desired]) -> Vec<Json> {
    let queues: Vec<Json> = resources
        .iter()
        .filter(|r| r.id.kind == kind::EVENT_SOURCE_MAPPING)
        .filter(|r| !super::stream::is_stream_step(&r.properties))
        .filter_map(|r| MappingProperties::from_properties(&r.properties, &r.id).ok())
        .map(|mapping| mapping.event_source_arn)
        .collect();
    if queues.is_empty() {
        return Vec::new();
    }
    vec![json!({
        "Effect": "Allow",
        "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        "Resource": queues,
    })]
}

/// The SQS and stream mappings of `functions` (the service's deployed function names), from
/// one listing; `stream_names` names streams by the stack output that holds their ARN.
pub async fn live(
    client: &Client,
    functions: &BTreeSet<String>,
    stream_names: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<Live>, ProviderError> {
    let mut found = Vec::new();
    let mut marker = None;
    loop {
        let page = client
            .list_event_source_mappings()
            .set_marker(marker)
            .max_items(100)
            .send()
            .await
            .map_err(|e| {
                call_error(
                    "lambda:ListEventSourceMappings",
                    "event source mappings",
                    &e,
                )
            })?;
        for mapping in page.event_source_mappings() {
            let (Some(uuid), Some(source), Some(function_arn)) = (
                mapping.uuid(),
                mapping.event_source_arn(),
                mapping.function_arn(),
            ) else {
                continue;
            };
            let Some(function) = function_name_of(function_arn) else {
                continue;
            };
            if !functions.contains(function) {
                continue;
            }
            if let Some(stream) = super::stream::from_mapping(mapping, function, stream_names) {
                found.push(stream);
                continue;
            }
            if !source.contains(":sqs:") {
                continue;
            }
            let queue = arn_name(source);
            let enabled = matches!(
                mapping.state(),
                Some("Enabled" | "Enabling" | "Creating" | "Updating")
            );
            let properties = MappingProperties {
                function_name: function.to_string(),
                event_source_arn: json!(source),
                batch_size: mapping
                    .batch_size()
                    .and_then(|b| u64::try_from(b).ok())
                    .unwrap_or(10),
                maximum_batching_window: mapping
                    .maximum_batching_window_in_seconds()
                    .and_then(|w| u64::try_from(w).ok())
                    .unwrap_or(0),
                function_response_types: mapping
                    .function_response_types()
                    .iter()
                    .map(|t| t.as_str().to_string())
                    .collect(),
                enabled,
            };
            found.push(Live {
                id: naming::id(kind::EVENT_SOURCE_MAPPING, name(function, queue)),
                properties: properties.to_properties(),
                attributes: Properties::from([("uuid".to_string(), json!(uuid))]),
                depends_on: BTreeSet::from([
                    naming::id(kind::FUNCTION, function),
                    naming::id(kind::QUEUE, queue),
                ]),
            });
        }
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    Ok(found)
}

/// How often a call on a mapping that is still being created or changed is tried.
const IN_USE_ATTEMPTS: u32 = 20;

pub async fn apply(
    client: &Client,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let resource = step.id.to_string();
    let live_uuid = attribute(step.live.as_ref(), "uuid");
    if matches!(step.action, Action::Delete | Action::Replace) {
        if let Some(uuid) = &live_uuid {
            delete_mapping(client, uuid, &resource).await?;
        }
        if step.action == Action::Delete {
            return Ok(Properties::new());
        }
    }
    let wanted = MappingProperties::from_properties(properties, &step.id)?;
    let batch_size = i32::try_from(wanted.batch_size).ok();
    let window = i32::try_from(wanted.maximum_batching_window).ok();
    let response_types: Vec<FunctionResponseType> = wanted
        .function_response_types
        .iter()
        .map(|t| FunctionResponseType::from(t.as_str()))
        .collect();
    let enabled = wanted.enabled;
    let uuid = match (step.action, live_uuid) {
        (Action::Update, Some(uuid)) => Some(uuid),
        _ => {
            let created = client
                .create_event_source_mapping()
                .function_name(&wanted.function_name)
                .set_event_source_arn(wanted.event_source_arn.as_str().map(str::to_string))
                .set_batch_size(batch_size)
                .set_maximum_batching_window_in_seconds(window)
                .set_function_response_types(Some(response_types.clone()))
                .enabled(enabled)
                .set_tags(Some(
                    string_map(step.desired.as_ref().and_then(|d| d.inputs.get("tags")))
                        .into_iter()
                        .collect(),
                ))
                .send()
                .await;
            match created {
                Ok(output) => {
                    return Ok(Properties::from([(
                        "uuid".to_string(),
                        json!(output.uuid()),
                    )]))
                }
                // Left by an interrupted deploy: update it instead.
                Err(e) if e.code() == Some("ResourceConflictException") => {
                    existing(client, &wanted).await?
                }
                Err(e) => return Err(call_error("lambda:CreateEventSourceMapping", &resource, &e)),
            }
        }
    };
    let Some(uuid) = uuid else {
        return Err(ProviderError::Internal {
            resource: step.id.clone(),
            message: "the mapping exists but could not be found".to_string(),
        });
    };
    let mut attempt = 0;
    loop {
        let updated = client
            .update_event_source_mapping()
            .uuid(&uuid)
            .set_batch_size(batch_size)
            .set_maximum_batching_window_in_seconds(window)
            .set_function_response_types(Some(response_types.clone()))
            .enabled(enabled)
            .send()
            .await;
        match updated {
            Ok(_) => break,
            Err(e) if e.code() == Some("ResourceInUseException") && attempt < IN_USE_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            Err(e) => return Err(call_error("lambda:UpdateEventSourceMapping", &resource, &e)),
        }
    }
    Ok(Properties::from([("uuid".to_string(), json!(uuid))]))
}

/// Deletes a mapping (gone is deleted), waiting while Lambda still creates or changes it.
pub async fn delete_mapping(
    client: &Client,
    uuid: &str,
    resource: &str,
) -> Result<(), ProviderError> {
    let mut attempt = 0;
    loop {
        match client.delete_event_source_mapping().uuid(uuid).send().await {
            Ok(_) => return Ok(()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(()),
            Err(e) if e.code() == Some("ResourceInUseException") && attempt < IN_USE_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            Err(e) => return Err(call_error("lambda:DeleteEventSourceMapping", resource, &e)),
        }
    }
}

/// The mapping from the queue to the function, when one exists.
async fn existing(
    client: &Client,
    wanted: &MappingProperties,
) -> Result<Option<String>, ProviderError> {
    let function = &wanted.function_name;
    let output = client
        .list_event_source_mappings()
        .function_name(function)
        .set_event_source_arn(wanted.event_source_arn.as_str().map(str::to_string))
        .send()
        .await
        .map_err(|e| call_error("lambda:ListEventSourceMappings", function, &e))?;
    Ok(output
        .event_source_mappings()
        .first()
        .and_then(|m| m.uuid())
        .map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aws::triggers::test_support::{find, Fixture};

    #[test]
    fn a_queue_of_the_resources_section_is_a_reference_the_mapping_waits_for() {
        let fixture = Fixture::new(json!({
            "service": "shop",
            "provider": {"name": "aws"},
            "functions": {"worker": {"handler": "h.work", "events": [
                {"sqs": {"arn": {"Fn::GetAtt": ["JobsQueue", "Arn"]}, "batchSize": 5,
                         "maximumBatchingWindow": 2,
                         "functionResponseType": "ReportBatchItemFailures"}},
                {"sqs": "arn:aws:sqs:us-east-1:123456789012:other"},
            ]}},
            "resources": {"Resources": {"JobsQueue": {
                "Type": "AWS::SQS::Queue", "Properties": {"QueueName": "shop-dev-jobs"}
            }}},
        }));
        let resources = fixture.desired().unwrap_or_else(|e| panic!("{e}"));
        let mapping = find(
            &resources,
            kind::EVENT_SOURCE_MAPPING,
            "shop-dev-worker/shop-dev-jobs",
        );
        let queue = naming::id(kind::QUEUE, "shop-dev-jobs");
        assert_eq!(
            mapping.properties["event_source_arn"],
            Reference::new(queue.clone(), "arn").to_json()
        );
        assert!(mapping.depends_on.contains(&queue));
        assert_eq!(mapping.properties["batch_size"], json!(5));
        assert_eq!(mapping.properties["maximum_batching_window"], json!(2));
        assert_eq!(
            mapping.properties["function_response_types"],
            json!(["ReportBatchItemFailures"])
        );
        let plain = find(
            &resources,
            kind::EVENT_SOURCE_MAPPING,
            "shop-dev-worker/other",
        );
        assert_eq!(plain.properties["batch_size"], json!(10));
        assert_eq!(plain.properties["enabled"], json!(true));
        assert_eq!(role_statements(&resources).len(), 1);
    }

    #[test]
    fn a_queue_that_is_not_an_arn_is_refused() {
        let fixture = Fixture::new(json!({
            "service": "shop",
            "provider": {"name": "aws"},
            "functions": {"worker": {"handler": "h.work", "events": [{"sqs": "jobs"}]}},
        }));
        assert!(matches!(
            fixture.desired(),
            Err(ProviderError::Invalid { .. })
        ));
    }
}
