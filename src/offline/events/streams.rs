//! Stream events: a batch of DynamoDB Streams changes and a batch of Kinesis records, each as
//! Lambda's event source mapping sends them (one record per change, oldest first).

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::ACCOUNT_ID;

/// One item change read from a DynamoDB stream. Keys and images are in DynamoDB JSON
/// (`{"id": {"S": "1"}}`), as the stream gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct TableChange {
    pub event_id: String,
    /// `INSERT`, `MODIFY` or `REMOVE`.
    pub event_name: String,
    pub keys: Map<String, Value>,
    pub new_image: Option<Map<String, Value>>,
    pub old_image: Option<Map<String, Value>>,
    pub sequence_number: String,
    pub size_bytes: i64,
    /// `KEYS_ONLY`, `NEW_IMAGE`, `OLD_IMAGE` or `NEW_AND_OLD_IMAGES`.
    pub stream_view_type: String,
    /// Seconds since the epoch, whole as DynamoDB Streams sends them to Lambda.
    pub approximate_creation_seconds: i64,
}

/// A DynamoDB Streams batch.
pub fn dynamodb(changes: &[TableChange], stream_arn: &str, region: &str) -> Value {
    let records: Vec<Value> = changes
        .iter()
        .map(|change| {
            let mut dynamodb = Map::new();
            dynamodb.insert(
                "ApproximateCreationDateTime".into(),
                json!(change.approximate_creation_seconds),
            );
            dynamodb.insert("Keys".into(), Value::Object(change.keys.clone()));
            // Which images are present follows the stream's view type, as on AWS.
            if let Some(image) = &change.new_image {
                dynamodb.insert("NewImage".into(), Value::Object(image.clone()));
            }
            if let Some(image) = &change.old_image {
                dynamodb.insert("OldImage".into(), Value::Object(image.clone()));
            }
            dynamodb.insert("SequenceNumber".into(), json!(change.sequence_number));
            dynamodb.insert("SizeBytes".into(), json!(change.size_bytes));
            dynamodb.insert("StreamViewType".into(), json!(change.stream_view_type));
            json!({
                "eventID": change.event_id,
                "eventName": change.event_name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": region,
                "dynamodb": Value::Object(dynamodb),
                "eventSourceARN": stream_arn,
            })
        })
        .collect();
    json!({ "Records": records })
}

/// One record read from a Kinesis shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    pub shard_id: String,
    pub data: Vec<u8>,
    pub partition_key: String,
    pub sequence_number: String,
    /// Milliseconds since the epoch.
    pub approximate_arrival_ms: i64,
}

/// A Kinesis batch: the data base64-encoded, the event id `shardId:sequenceNumber`.
pub fn kinesis(records: &[StreamRecord], stream_arn: &str, region: &str) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|record| {
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record.partition_key,
                    "sequenceNumber": record.sequence_number,
                    "data": base64::engine::general_purpose::STANDARD.encode(&record.data),
                    "approximateArrivalTimestamp": record.approximate_arrival_ms as f64 / 1000.0,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("{}:{}", record.shard_id, record.sequence_number),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": format!("arn:aws:iam::{ACCOUNT_ID}:role/offline"),
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            })
        })
        .collect();
    json!({ "Records": records })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinesis_data_is_base64_and_the_event_id_names_shard_and_sequence() {
        let record = StreamRecord {
            shard_id: "shardId-000000000000".into(),
            data: b"Hello World".to_vec(),
            partition_key: "p".into(),
            sequence_number: "49".into(),
            approximate_arrival_ms: 1_480_641_523_477,
        };
        let event = kinesis(
            &[record],
            "arn:aws:kinesis:us-east-1:123456789012:stream/s",
            "us-east-1",
        );
        let first = &event["Records"][0];
        assert_eq!(first["kinesis"]["data"], "SGVsbG8gV29ybGQ=");
        assert_eq!(first["eventID"], "shardId-000000000000:49");
        assert_eq!(
            first["kinesis"]["approximateArrivalTimestamp"],
            1480641523.477
        );
    }

    #[test]
    fn dynamodb_images_follow_what_the_stream_gave() {
        let keys = json!({"id": {"S": "1"}})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let change = TableChange {
            event_id: "e".into(),
            event_name: "REMOVE".into(),
            keys: keys.clone(),
            new_image: None,
            old_image: Some(keys),
            sequence_number: "1".into(),
            size_bytes: 10,
            stream_view_type: "NEW_AND_OLD_IMAGES".into(),
            approximate_creation_seconds: 0,
        };
        let event = dynamodb(&[change], "arn", "us-east-1");
        let dynamodb = &event["Records"][0]["dynamodb"];
        assert!(dynamodb.get("NewImage").is_none());
        assert_eq!(dynamodb["OldImage"]["id"]["S"], "1");
        assert_eq!(event["Records"][0]["eventSource"], "aws:dynamodb");
    }
}
