//! `stream` events: one Lambda event source mapping per function and DynamoDB or Kinesis
//! stream, with the Framework's settings (`batchSize` 100 unless set, `startingPosition`
//! `TRIM_HORIZON` unless set, `batchWindow`, `maximumRetryAttempts`,
//! `bisectBatchOnFunctionError`, `maximumRecordAgeInSeconds`, `parallelizationFactor`,
//! `tumblingWindowInSeconds`, `functionResponseType`, `filterPatterns`,
//! `destinations.onFailure`, `enabled`).
//!
//! The stream is an ARN, or a value of the service's stack (`Fn::GetAtt: [Table,
//! StreamArn]`), which the mapping then waits for. A mapping is named
//! `{function}/{stream}`, where the stream is the stack output that gives its ARN, or the
//! table or stream name of a literal ARN, so the live reader (which knows the stack's outputs)
//! names it the same way. Lambda reads the stream with the function's role:
//! [`role_statements`] gives what that role must allow.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::types::{
    DestinationConfig, EventSourceMappingConfiguration, EventSourcePosition, Filter,
    FilterCriteria, FunctionResponseType, OnFailure,
};
use aws_sdk_lambda::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::kinds::Typed;
use super::super::naming::{self, kind};
use super::{
    attribute, call_error, function_name_of, invalid, refuse_settings, setting_value, settings,
    string_map, EventContext, FunctionEvent,
};
use crate::manifest::model::Trigger;
use crate::plan::{Action, Desired, Live, Properties, Reference, Step};
use crate::provider::aws::context::Context;
use crate::provider::aws::stack_template::STACK;
use crate::provider::ProviderError;

/// Settings of a `stream` event updraft does not deploy yet.
const UNSUPPORTED: &[&str] = &["consumer", "startingPositionTimestamp"];

/// A stream event source mapping's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamMappingProperties {
    pub function_name: String,
    /// The stream's ARN; a reference to a stack output until apply.
    pub event_source_arn: Json,
    pub starting_position: String,
    pub batch_size: u64,
    /// Seconds.
    pub maximum_batching_window: u64,
    pub maximum_retry_attempts: Option<i64>,
    pub bisect_batch_on_function_error: Option<bool>,
    pub maximum_record_age: Option<i64>,
    pub parallelization_factor: Option<i64>,
    pub tumbling_window: Option<i64>,
    pub function_response_types: Vec<String>,
    /// Lambda's filter patterns, each as the JSON text Lambda stores.
    pub filter_patterns: Vec<String>,
    /// The ARN records that failed every retry are sent to.
    pub on_failure: Json,
    pub enabled: bool,
}

impl Typed for StreamMappingProperties {}

/// Whether an event source ARN is a DynamoDB or Kinesis stream.
pub fn is_stream_arn(arn: &str) -> bool {
    arn.contains(":dynamodb:") || arn.contains(":kinesis:")
}

/// The name a literal stream ARN gives its mapping: the table (DynamoDB) or the stream.
pub fn stream_name(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    let mut parts = resource.split('/');
    match (parts.next(), parts.next()) {
        (Some("table" | "stream"), Some(name)) => name.to_string(),
        _ => resource.to_string(),
    }
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
        let Trigger::Stream {
            source,
            batch_size,
            starting_position,
            enabled,
            ..
        } = &event.trigger
        else {
            continue;
        };
        let event_settings = settings(event);
        refuse_settings(
            function,
            event,
            UNSUPPORTED,
            "updraft deploys a stream event's mapping settings but not enhanced fan-out \
             consumers or timestamps; remove this setting for now",
        )?;
        let function_id = context.function_id(function)?;
        let mut depends_on = BTreeSet::from([function_id.clone()]);
        let (arn, refers_to) = context.resolve_event(source, function, event)?;
        depends_on.extend(refers_to);
        let stream = match (&arn, Reference::from_json(&arn)) {
            (_, Some(reference)) if reference.resource.kind == STACK => reference.attribute,
            (_, Some(reference)) => reference.resource.name,
            (Json::String(text), None) if is_stream_arn(text) => {
                let name = stream_name(text);
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                {
                    return Err(invalid(
                        function,
                        event,
                        format!("`{name}` in {text} is not a table or stream name"),
                        "names are letters, digits, `_`, `.` and `-`: replace the placeholder                          with the stream's name, or use `Fn::GetAtt: [Stream, Arn]`",
                    ));
                }
                name
            }
            _ => {
                return Err(invalid(
                    function,
                    event,
                    format!("the stream {source} is not a DynamoDB or Kinesis stream ARN"),
                    "give the stream's ARN, or `Fn::GetAtt: [Table, StreamArn]` for a table \
                     under `resources:`",
                ))
            }
        };
        let filter_patterns = event_settings
            .and_then(|s| s.get("filterPatterns"))
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|pattern| match pattern {
                Json::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect();
        let on_failure = match event_settings
            .and_then(|s| s.get("destinations"))
            .and_then(|d| d.get("onFailure"))
        {
            None => Json::Null,
            Some(target) => {
                let target = target.get("arn").unwrap_or(target);
                let (value, refers_to) = context.resolve_event(target, function, event)?;
                depends_on.extend(refers_to);
                value
            }
        };
        let properties = StreamMappingProperties {
            function_name: function_id.name.clone(),
            event_source_arn: arn,
            starting_position: starting_position
                .clone()
                .unwrap_or_else(|| "TRIM_HORIZON".into())
                .to_ascii_uppercase(),
            batch_size: u64::from(batch_size.unwrap_or(100)),
            maximum_batching_window: setting_value(event, "batchWindow").unwrap_or(0),
            maximum_retry_attempts: setting_value(event, "maximumRetryAttempts"),
            bisect_batch_on_function_error: setting_value(event, "bisectBatchOnFunctionError"),
            maximum_record_age: setting_value(event, "maximumRecordAgeInSeconds"),
            parallelization_factor: setting_value(event, "parallelizationFactor"),
            tumbling_window: setting_value(event, "tumblingWindowInSeconds"),
            function_response_types: match event_settings
                .and_then(|s| s.get("functionResponseType"))
            {
                Some(Json::String(kind)) => vec![kind.clone()],
                _ => Vec::new(),
            },
            filter_patterns,
            on_failure,
            enabled: *enabled,
        };
        resources.push(Desired {
            id: naming::id(
                kind::EVENT_SOURCE_MAPPING,
                format!("{}/{stream}", function_id.name),
            ),
            properties: properties.to_properties(),
            inputs: Properties::from([("tags".to_string(), context.tags_json())]),
            depends_on,
            replace_when: BTreeSet::from([
                "function_name".to_string(),
                "event_source_arn".to_string(),
                "starting_position".to_string(),
            ]),
        });
    }
    Ok(resources)
}

/// What the functions' role must allow so Lambda can read the streams of `resources` and send
/// failed batches to their destinations.
pub fn role_statements(resources: &[Desired]) -> Vec<Json> {
    let mappings: Vec<StreamMappingProperties> = resources
        .iter()
        .filter(|r| r.id.kind == kind::EVENT_SOURCE_MAPPING)
        .filter_map(|r| StreamMappingProperties::from_properties(&r.properties, &r.id).ok())
        .collect();
    if mappings.is_empty() {
        return Vec::new();
    }
    let streams: Vec<Json> = mappings
        .iter()
        .map(|m| m.event_source_arn.clone())
        .collect();
    let mut statements = vec![json!({
        "Effect": "Allow",
        "Action": [
            "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream",
            "dynamodb:ListStreams", "kinesis:GetRecords", "kinesis:GetShardIterator",
            "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards",
            "kinesis:ListStreams",
        ],
        "Resource": streams,
    })];
    let destinations: Vec<Json> = mappings
        .iter()
        .map(|m| m.on_failure.clone())
        .filter(|d| !d.is_null())
        .collect();
    if !destinations.is_empty() {
        statements.push(json!({
            "Effect": "Allow",
            "Action": ["sqs:SendMessage", "sns:Publish"],
            "Resource": destinations,
        }));
    }
    statements
}

/// A live stream mapping of one of the service's functions; `names` gives the stack output
/// key for a stream ARN the stack's outputs hold.
pub fn from_mapping(
    mapping: &EventSourceMappingConfiguration,
    function: &str,
    names: &BTreeMap<String, String>,
) -> Option<Live> {
    let (uuid, source) = (mapping.uuid()?, mapping.event_source_arn()?);
    if !is_stream_arn(source) {
        return None;
    }
    let stream = names
        .get(source)
        .cloned()
        .unwrap_or_else(|| stream_name(source));
    let properties = StreamMappingProperties {
        function_name: function.to_string(),
        event_source_arn: json!(source),
        starting_position: mapping
            .starting_position()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        batch_size: mapping
            .batch_size()
            .and_then(|b| u64::try_from(b).ok())
            .unwrap_or(100),
        maximum_batching_window: mapping
            .maximum_batching_window_in_seconds()
            .and_then(|w| u64::try_from(w).ok())
            .unwrap_or(0),
        maximum_retry_attempts: mapping.maximum_retry_attempts().map(i64::from),
        bisect_batch_on_function_error: mapping.bisect_batch_on_function_error(),
        maximum_record_age: mapping.maximum_record_age_in_seconds().map(i64::from),
        parallelization_factor: mapping.parallelization_factor().map(i64::from),
        tumbling_window: mapping.tumbling_window_in_seconds().map(i64::from),
        function_response_types: mapping
            .function_response_types()
            .iter()
            .map(|t| t.as_str().to_string())
            .collect(),
        filter_patterns: mapping
            .filter_criteria()
            .map(|c| c.filters())
            .unwrap_or_default()
            .iter()
            .filter_map(|f| f.pattern().map(str::to_string))
            .collect(),
        on_failure: mapping
            .destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination())
            .map_or(Json::Null, |d| json!(d)),
        enabled: matches!(
            mapping.state(),
            Some("Enabled" | "Enabling" | "Creating" | "Updating")
        ),
    };
    Some(Live {
        id: naming::id(kind::EVENT_SOURCE_MAPPING, format!("{function}/{stream}")),
        properties: properties.to_properties(),
        attributes: Properties::from([("uuid".to_string(), json!(uuid))]),
        depends_on: BTreeSet::from([naming::id(kind::FUNCTION, function)]),
    })
}

/// Whether a mapping step is a stream's (its source ARN, once resolved, says so).
pub fn is_stream_step(properties: &Properties) -> bool {
    properties.contains_key("starting_position")
        || properties
            .get("event_source_arn")
            .and_then(Json::as_str)
            .is_some_and(is_stream_arn)
}

pub async fn apply(
    client: &Client,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let resource = step.id.to_string();
    let live_uuid = attribute(step.live.as_ref(), "uuid");
    if matches!(step.action, Action::Delete | Action::Replace) {
        if let Some(uuid) = &live_uuid {
            super::sqs::delete_mapping(client, uuid, &resource).await?;
        }
        if step.action == Action::Delete {
            return Ok(Properties::new());
        }
    }
    let wanted = StreamMappingProperties::from_properties(properties, &step.id)?;
    let int = |value: Option<i64>| value.and_then(|v| i32::try_from(v).ok());
    let filters = (!wanted.filter_patterns.is_empty()).then(|| {
        FilterCriteria::builder()
            .set_filters(Some(
                wanted
                    .filter_patterns
                    .iter()
                    .map(|p| Filter::builder().pattern(p).build())
                    .collect(),
            ))
            .build()
    });
    let destination = wanted.on_failure.as_str().map(|arn| {
        DestinationConfig::builder()
            .on_failure(OnFailure::builder().destination(arn).build())
            .build()
    });
    let response_types: Vec<FunctionResponseType> = wanted
        .function_response_types
        .iter()
        .map(|t| FunctionResponseType::from(t.as_str()))
        .collect();
    let batch_size = i32::try_from(wanted.batch_size).ok();
    let window = i32::try_from(wanted.maximum_batching_window).ok();
    if let (Action::Update, Some(uuid)) = (step.action, &live_uuid) {
        client
            .update_event_source_mapping()
            .uuid(uuid)
            .set_batch_size(batch_size)
            .set_maximum_batching_window_in_seconds(window)
            .set_maximum_retry_attempts(int(wanted.maximum_retry_attempts))
            .set_bisect_batch_on_function_error(wanted.bisect_batch_on_function_error)
            .set_maximum_record_age_in_seconds(int(wanted.maximum_record_age))
            .set_parallelization_factor(int(wanted.parallelization_factor))
            .set_tumbling_window_in_seconds(int(wanted.tumbling_window))
            .set_function_response_types(Some(response_types))
            .set_filter_criteria(filters)
            .set_destination_config(destination)
            .enabled(wanted.enabled)
            .send()
            .await
            .map_err(|e| call_error("lambda:UpdateEventSourceMapping", &resource, &e))?;
        return Ok(Properties::from([("uuid".to_string(), json!(uuid))]));
    }
    let created = client
        .create_event_source_mapping()
        .function_name(&wanted.function_name)
        .set_event_source_arn(wanted.event_source_arn.as_str().map(str::to_string))
        .starting_position(EventSourcePosition::from(wanted.starting_position.as_str()))
        .set_batch_size(batch_size)
        .set_maximum_batching_window_in_seconds(window)
        .set_maximum_retry_attempts(int(wanted.maximum_retry_attempts))
        .set_bisect_batch_on_function_error(wanted.bisect_batch_on_function_error)
        .set_maximum_record_age_in_seconds(int(wanted.maximum_record_age))
        .set_parallelization_factor(int(wanted.parallelization_factor))
        .set_tumbling_window_in_seconds(int(wanted.tumbling_window))
        .set_function_response_types(Some(response_types))
        .set_filter_criteria(filters)
        .set_destination_config(destination)
        .enabled(wanted.enabled)
        .set_tags(Some(
            string_map(step.desired.as_ref().and_then(|d| d.inputs.get("tags")))
                .into_iter()
                .collect(),
        ))
        .send()
        .await;
    match created {
        Ok(output) => Ok(Properties::from([(
            "uuid".to_string(),
            json!(output.uuid()),
        )])),
        Err(e) if e.code() == Some("ResourceConflictException") => Err(ProviderError::Call {
            operation: "lambda:CreateEventSourceMapping".into(),
            resource,
            message: "a mapping from this stream to the function exists already".into(),
            help: "delete the mapping updraft does not know (`aws lambda list-event-source-mappings`), then deploy again".into(),
        }),
        Err(e) => Err(call_error("lambda:CreateEventSourceMapping", &resource, &e)),
    }
}

/// The function a mapping calls, by name.
pub fn function_of(mapping: &EventSourceMappingConfiguration) -> Option<&str> {
    function_name_of(mapping.function_arn()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_stream_arn_names_its_table_or_stream() {
        assert_eq!(
            stream_name("arn:aws:dynamodb:us-east-1:1:table/Todos/stream/2024-01-01T00:00:00.000"),
            "Todos"
        );
        assert_eq!(
            stream_name("arn:aws:kinesis:us-east-1:1:stream/clicks"),
            "clicks"
        );
        assert!(is_stream_arn("arn:aws:kinesis:us-east-1:1:stream/clicks"));
        assert_eq!(
            stream_name("arn:aws:kinesis:us-east-1:1:stream/<streamname>"),
            "<streamname>"
        );
        assert!(!is_stream_arn("arn:aws:sqs:us-east-1:1:jobs"));
    }
}
