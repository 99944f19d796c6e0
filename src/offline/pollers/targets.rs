//! What to poll: the service's enabled `sqs` and `stream` events read into queue, table and
//! stream names on the endpoint, with their batch settings.
//!
//! ARNs and CloudFormation references both come down to a name, because the emulator's
//! resources have the emulator's account and, for a table's stream, a label of its own: a
//! table's stream is always its latest one, found with DescribeTable. A reference to a resource
//! of the service names what its `QueueName`, `TableName` or `Name` says, else its logical id.

use serde_json::Value;

use super::PollerWarning;
use crate::manifest::model::{Service, Trigger};
use crate::offline::emit::reference;

/// Lambda's largest SQS batch without a batching window, and SQS's largest receive.
const SQS_MAX_BATCH: u32 = 10;
/// Lambda's default batch size for streams.
const STREAM_DEFAULT_BATCH: u32 = 100;
/// DynamoDB Streams' largest GetRecords.
const DYNAMODB_MAX_BATCH: u32 = 1000;
/// Kinesis' largest GetRecords.
const KINESIS_MAX_BATCH: u32 = 10_000;
/// Retries of a failing stream batch when the event sets no `maximumRetryAttempts` (AWS retries
/// until the records expire, which would stop a shard for a day offline).
pub const DEFAULT_STREAM_RETRIES: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    Latest,
    TrimHorizon,
}

impl StartingPosition {
    pub fn as_str(self) -> &'static str {
        match self {
            StartingPosition::Latest => "LATEST",
            StartingPosition::TrimHorizon => "TRIM_HORIZON",
        }
    }
}

/// How a stream event reads its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    pub position: StartingPosition,
    /// Retries of a failing batch before it is skipped.
    pub retries: u32,
    /// `functionResponseType: ReportBatchItemFailures`.
    pub report_failures: bool,
}

/// One event to poll for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The function's key under `functions:`.
    pub function: String,
    pub batch_size: u32,
    pub kind: TargetKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    Queue {
        name: String,
        /// `functionResponseType: ReportBatchItemFailures`.
        report_failures: bool,
    },
    /// A DynamoDB table, whose latest stream is read.
    Table {
        name: String,
        settings: StreamSettings,
    },
    /// A Kinesis data stream.
    Stream {
        name: String,
        settings: StreamSettings,
    },
}

impl Target {
    /// How the source is named in messages: `sqs queue jobs`.
    pub fn describe(&self) -> String {
        match &self.kind {
            TargetKind::Queue { name, .. } => format!("sqs queue {name}"),
            TargetKind::Table { name, .. } => format!("the stream of dynamodb table {name}"),
            TargetKind::Stream { name, .. } => format!("kinesis stream {name}"),
        }
    }
}

/// The targets of every enabled `sqs` and `stream` event, and the events that name nothing
/// updraft can find.
pub fn sources(service: &Service) -> (Vec<Target>, Vec<PollerWarning>) {
    let mut targets = Vec::new();
    let mut unresolvable = Vec::new();
    let resources = service
        .resources
        .as_ref()
        .and_then(|resources| resources.get("Resources"))
        .unwrap_or(&Value::Null);
    for (key, function) in &service.functions {
        for event in &function.events {
            let settings = event.raw.get(&event.kind).unwrap_or(&Value::Null);
            match &event.trigger {
                Trigger::Queue {
                    queue,
                    batch_size,
                    enabled: true,
                } if event.kind == "sqs" => match queue_name(queue, resources) {
                    Some(name) => targets.push(Target {
                        function: key.clone(),
                        batch_size: batch_size.unwrap_or(SQS_MAX_BATCH).clamp(1, SQS_MAX_BATCH),
                        kind: TargetKind::Queue {
                            name,
                            report_failures: settings
                                .get("functionResponseType")
                                .and_then(Value::as_str)
                                == Some("ReportBatchItemFailures"),
                        },
                    }),
                    None => unresolvable.push(PollerWarning::Unresolvable {
                        kind: "sqs",
                        function: key.clone(),
                        value: queue.to_string(),
                    }),
                },
                Trigger::Stream {
                    source,
                    kind,
                    batch_size,
                    starting_position,
                    enabled: true,
                } if event.kind == "stream" => {
                    let position = match starting_position.as_deref() {
                        Some("TRIM_HORIZON") => StartingPosition::TrimHorizon,
                        _ => StartingPosition::Latest,
                    };
                    let retries = match settings.get("maximumRetryAttempts").and_then(Value::as_i64)
                    {
                        // -1 is AWS's "until the records expire".
                        Some(-1) => u32::MAX,
                        Some(count) => u32::try_from(count).unwrap_or(0),
                        None => DEFAULT_STREAM_RETRIES,
                    };
                    let settings = StreamSettings {
                        position,
                        retries,
                        report_failures: settings
                            .get("functionResponseType")
                            .and_then(Value::as_str)
                            == Some("ReportBatchItemFailures"),
                    };
                    let batch = batch_size.unwrap_or(STREAM_DEFAULT_BATCH).max(1);
                    match stream_target(source, kind.as_deref(), resources) {
                        Some((true, name)) => targets.push(Target {
                            function: key.clone(),
                            batch_size: batch.min(DYNAMODB_MAX_BATCH),
                            kind: TargetKind::Table { name, settings },
                        }),
                        Some((false, name)) => targets.push(Target {
                            function: key.clone(),
                            batch_size: batch.min(KINESIS_MAX_BATCH),
                            kind: TargetKind::Stream { name, settings },
                        }),
                        None => unresolvable.push(PollerWarning::Unresolvable {
                            kind: "stream",
                            function: key.clone(),
                            value: source.to_string(),
                        }),
                    }
                }
                _ => {}
            }
        }
    }
    (targets, unresolvable)
}

/// The name a resource of the service is given by `property` (a plain string), else its
/// logical id.
fn resource_name(resources: &Value, logical_id: &str, property: &str) -> String {
    resources
        .get(logical_id)
        .and_then(|resource| resource.get("Properties"))
        .and_then(|properties| properties.get(property))
        .and_then(Value::as_str)
        .unwrap_or(logical_id)
        .to_string()
}

/// A queue ARN, URL, name or reference -> the queue's name.
fn queue_name(queue: &Value, resources: &Value) -> Option<String> {
    let name = match queue.as_str() {
        Some(arn) if arn.starts_with("arn:") => arn.rsplit(':').next()?,
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            url.trim_end_matches('/').rsplit('/').next()?
        }
        Some(name) => name,
        None => return Some(resource_name(resources, reference(queue)?.0, "QueueName")),
    };
    (!name.is_empty()).then(|| name.to_string())
}

/// A stream source -> (is a DynamoDB table, the table or stream name).
fn stream_target(source: &Value, kind: Option<&str>, resources: &Value) -> Option<(bool, String)> {
    if let Some(text) = source.as_str() {
        // arn:aws:dynamodb:region:account:table/T/stream/label, arn:aws:kinesis:...:stream/S
        let resource = text.splitn(6, ':').nth(5);
        if text.starts_with("arn:") {
            let resource = resource?;
            let table = resource
                .strip_prefix("table/")
                .map(|rest| rest.split('/').next().unwrap_or_default().to_string());
            let stream = resource.strip_prefix("stream/").map(str::to_string);
            return match (table, stream) {
                (Some(table), _) if !table.is_empty() => Some((true, table)),
                (_, Some(stream)) if !stream.is_empty() => Some((false, stream)),
                _ => None,
            };
        }
        return match kind {
            Some("dynamodb") => Some((true, text.to_string())),
            Some("kinesis") => Some((false, text.to_string())),
            _ => None,
        };
    }
    let (name, attribute) = reference(source)?;
    let table = match (kind, attribute) {
        (Some("dynamodb"), _) | (_, Some("StreamArn")) => true,
        (Some("kinesis"), _) => false,
        // `Fn::GetAtt: [X, Arn]` without a type: the Framework's stream events on a resource's
        // `Arn` are Kinesis streams (a table's stream is its `StreamArn`).
        _ => false,
    };
    let property = if table { "TableName" } else { "Name" };
    Some((table, resource_name(resources, name, property)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queues_are_named_by_arn_url_name_or_reference() {
        let resources = json!({"Named": {"Properties": {"QueueName": "jobs-dev"}}});
        let name = |value: Value| queue_name(&value, &resources);
        assert_eq!(
            name(json!("arn:aws:sqs:us-east-1:123456789012:jobs")),
            Some("jobs".into())
        );
        assert_eq!(
            name(json!("http://localhost:9324/000000000000/jobs")),
            Some("jobs".into())
        );
        assert_eq!(
            name(json!({"Fn::GetAtt": ["JobsQueue", "Arn"]})),
            Some("JobsQueue".into())
        );
        assert_eq!(name(json!({"Ref": "Named"})), Some("jobs-dev".into()));
        assert_eq!(name(json!({"Fn::ImportValue": "x"})), None);
    }

    #[test]
    fn streams_are_tables_or_kinesis_streams_by_arn_reference_or_type() {
        let resources = json!({"Orders": {"Properties": {"TableName": "orders-dev"}}});
        let target = |value: Value, kind: Option<&str>| stream_target(&value, kind, &resources);
        assert_eq!(
            target(
                json!("arn:aws:dynamodb:us-east-1:123456789012:table/Items/stream/2020-01-01T00:00:00.000"),
                None
            ),
            Some((true, "Items".into()))
        );
        assert_eq!(
            target(
                json!("arn:aws:kinesis:us-east-1:123456789012:stream/Events"),
                None
            ),
            Some((false, "Events".into()))
        );
        assert_eq!(
            target(json!({"Fn::GetAtt": ["Items", "StreamArn"]}), None),
            Some((true, "Items".into()))
        );
        assert_eq!(
            target(json!({"Fn::GetAtt": ["Events", "Arn"]}), Some("kinesis")),
            Some((false, "Events".into()))
        );
        assert_eq!(
            target(json!({"Fn::GetAtt": ["Orders", "StreamArn"]}), None),
            Some((true, "orders-dev".into()))
        );
        assert_eq!(target(json!("Events"), None), None);
    }
}
