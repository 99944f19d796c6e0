//! A DynamoDB table's stream: the table's latest stream (DescribeTable), its shards
//! (DescribeStream) and their records (GetRecords), turned into the DynamoDB Streams event with
//! keys and images in DynamoDB JSON.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::poll::Source;
use super::stream::{Read, ShardService, StreamSource};
use super::{Described, PollerWarning, StartingPosition, StreamSettings, Target, TargetKind};
use crate::offline::events::streams::{self, TableChange};

pub(super) struct TableService {
    tables: aws_sdk_dynamodb::Client,
    streams: aws_sdk_dynamodbstreams::Client,
    table: String,
    region: String,
    described: Described,
}

/// A poller of `target`'s table stream.
pub(super) fn source(
    config: &SdkConfig,
    table: &str,
    target: &Target,
    region: &str,
    described: Described,
) -> Box<dyn Source> {
    let settings = match &target.kind {
        TargetKind::Table { settings, .. } => *settings,
        _ => StreamSettings {
            position: StartingPosition::Latest,
            retries: 0,
            report_failures: false,
        },
    };
    let service = TableService {
        tables: aws_sdk_dynamodb::Client::new(config),
        streams: aws_sdk_dynamodbstreams::Client::new(config),
        table: table.to_string(),
        region: region.to_string(),
        described: described.clone(),
    };
    Box::new(StreamSource::new(
        service,
        described,
        target.batch_size,
        settings,
    ))
}

impl TableService {
    fn fix(&self) -> String {
        format!(
            "create table `{}` on the endpoint with a stream (`StreamSpecification`: \
             `StreamEnabled: true`)",
            self.table
        )
    }
}

#[async_trait]
impl ShardService for TableService {
    async fn describe(&mut self) -> Result<(String, Vec<String>), PollerWarning> {
        let table = self
            .tables
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|error| self.described.warning(&error, &self.fix()))?;
        let Some(arn) = table
            .table()
            .and_then(|t| t.latest_stream_arn())
            .map(str::to_string)
        else {
            return Err(self.described.missing(self.fix()));
        };
        let mut shards = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let answer = self
                .streams
                .describe_stream()
                .stream_arn(&arn)
                .set_exclusive_start_shard_id(start.clone())
                .send()
                .await
                .map_err(|error| self.described.warning(&error, &self.fix()))?;
            let Some(description) = answer.stream_description() else {
                break;
            };
            shards.extend(
                description
                    .shards()
                    .iter()
                    .filter_map(|shard| shard.shard_id().map(str::to_string)),
            );
            start = description.last_evaluated_shard_id().map(str::to_string);
            if start.is_none() {
                break;
            }
        }
        Ok((arn, shards))
    }

    async fn iterator(
        &mut self,
        stream_arn: &str,
        shard: &str,
        position: StartingPosition,
        after: Option<&str>,
    ) -> Result<Option<String>, PollerWarning> {
        let request = self
            .streams
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(shard);
        let request = match (after, position) {
            (Some(sequence), _) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(sequence),
            (None, StartingPosition::Latest) => {
                request.shard_iterator_type(ShardIteratorType::Latest)
            }
            (None, StartingPosition::TrimHorizon) => {
                request.shard_iterator_type(ShardIteratorType::TrimHorizon)
            }
        };
        let answer = request
            .send()
            .await
            .map_err(|error| self.described.warning(&error, &self.fix()))?;
        Ok(answer.shard_iterator().map(str::to_string))
    }

    async fn read(
        &mut self,
        stream_arn: &str,
        _shard: &str,
        iterator: &str,
        limit: u32,
    ) -> Result<Read, PollerWarning> {
        let answer = self
            .streams
            .get_records()
            .shard_iterator(iterator)
            .limit(limit as i32)
            .send()
            .await
            .map_err(|error| self.described.warning(&error, &self.fix()))?;
        let changes: Vec<TableChange> = answer.records().iter().map(change).collect();
        Ok(Read {
            event: streams::dynamodb(&changes, stream_arn, &self.region),
            records: changes.len(),
            sequences: changes.iter().map(|c| c.sequence_number.clone()).collect(),
            next_iterator: answer.next_shard_iterator().map(str::to_string),
        })
    }
}

fn change(record: &Record) -> TableChange {
    let stream = record.dynamodb();
    let image = |map: Option<&std::collections::HashMap<String, AttributeValue>>| {
        map.map(|map| {
            map.iter()
                .map(|(name, value)| (name.clone(), dynamodb_json(value)))
                .collect::<Map<String, Value>>()
        })
    };
    TableChange {
        event_id: record.event_id().unwrap_or_default().to_string(),
        event_name: record
            .event_name()
            .map(|name| name.as_str().to_string())
            .unwrap_or_default(),
        keys: image(stream.and_then(|s| s.keys())).unwrap_or_default(),
        new_image: image(stream.and_then(|s| s.new_image())),
        old_image: image(stream.and_then(|s| s.old_image())),
        sequence_number: stream
            .and_then(|s| s.sequence_number())
            .unwrap_or_default()
            .to_string(),
        size_bytes: stream.and_then(|s| s.size_bytes()).unwrap_or(0),
        stream_view_type: stream
            .and_then(|s| s.stream_view_type())
            .map(|view| view.as_str().to_string())
            .unwrap_or_default(),
        approximate_creation_seconds: stream
            .and_then(|s| s.approximate_creation_date_time())
            .map(|time| time.secs())
            .unwrap_or_else(|| chrono::Utc::now().timestamp()),
    }
}

/// An attribute value in DynamoDB JSON: `{"S": "text"}`, `{"N": "1"}`, binary as base64.
fn dynamodb_json(value: &AttributeValue) -> Value {
    let base64 = |blob: &aws_smithy_types::Blob| {
        base64::engine::general_purpose::STANDARD.encode(blob.as_ref())
    };
    match value {
        AttributeValue::S(text) => json!({ "S": text }),
        AttributeValue::N(number) => json!({ "N": number }),
        AttributeValue::B(blob) => json!({ "B": base64(blob) }),
        AttributeValue::Ss(texts) => json!({ "SS": texts }),
        AttributeValue::Ns(numbers) => json!({ "NS": numbers }),
        AttributeValue::Bs(blobs) => json!({ "BS": blobs.iter().map(base64).collect::<Vec<_>>() }),
        AttributeValue::Bool(flag) => json!({ "BOOL": flag }),
        AttributeValue::Null(flag) => json!({ "NULL": flag }),
        AttributeValue::L(items) => {
            json!({ "L": items.iter().map(dynamodb_json).collect::<Vec<_>>() })
        }
        AttributeValue::M(map) => json!({
            "M": map
                .iter()
                .map(|(name, value)| (name.clone(), dynamodb_json(value)))
                .collect::<Map<String, Value>>()
        }),
        // A type newer than this SDK: nothing to say about it.
        _ => json!({ "NULL": true }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_are_dynamodb_json() {
        let value = AttributeValue::M(
            [
                ("n".to_string(), AttributeValue::N("1.5".into())),
                (
                    "l".to_string(),
                    AttributeValue::L(vec![AttributeValue::Bool(true)]),
                ),
                (
                    "b".to_string(),
                    AttributeValue::B(aws_smithy_types::Blob::new(b"hi".to_vec())),
                ),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(
            dynamodb_json(&value),
            json!({"M": {"n": {"N": "1.5"}, "l": {"L": [{"BOOL": true}]}, "b": {"B": "aGk="}}})
        );
    }
}
