//! Record events: an SQS batch, an SNS notification and an S3 object notification, each as
//! Lambda's event source mapping or the service's push delivers it.

use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

use super::{Meta, ACCOUNT_ID};

/// One SQS message to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsMessage {
    pub body: String,
    /// Message attributes: name to (data type, string value).
    pub attributes: Vec<(String, String, String)>,
}

impl SqsMessage {
    pub fn text(body: &str) -> SqsMessage {
        SqsMessage {
            body: body.to_string(),
            attributes: Vec::new(),
        }
    }
}

pub fn sqs_queue_arn(region: &str, queue: &str) -> String {
    format!("arn:aws:sqs:{region}:{ACCOUNT_ID}:{queue}")
}

pub fn sns_topic_arn(region: &str, topic: &str) -> String {
    format!("arn:aws:sns:{region}:{ACCOUNT_ID}:{topic}")
}

/// A message as SQS handed it out: its ids, digests and attributes are SQS's own.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    /// System attributes (`SentTimestamp`, `ApproximateReceiveCount`...), name to value.
    pub attributes: Map<String, Value>,
    /// Message attributes in Lambda's shape: `{"stringValue", "binaryValue", "dataType"...}`.
    pub message_attributes: Map<String, Value>,
    pub md5_of_body: String,
    pub md5_of_message_attributes: Option<String>,
}

/// An SQS batch of made-up messages (`offline emit`, samples), as Lambda's event source mapping
/// would send them.
pub fn sqs(messages: &[SqsMessage], queue_arn: &str, meta: &Meta) -> Value {
    let received: Vec<ReceivedMessage> = messages
        .iter()
        .map(|message| ReceivedMessage {
            message_id: meta.id(),
            receipt_handle: format!("AQEB{}", meta.id()),
            body: message.body.clone(),
            attributes: json!({
                "ApproximateReceiveCount": "1",
                "SentTimestamp": meta.epoch_ms.to_string(),
                "SenderId": ACCOUNT_ID,
                "ApproximateFirstReceiveTimestamp": meta.epoch_ms.to_string(),
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
            message_attributes: message
                .attributes
                .iter()
                .map(|(name, data_type, value)| {
                    (
                        name.clone(),
                        json!({
                            "stringValue": value,
                            "stringListValues": [],
                            "binaryListValues": [],
                            "dataType": data_type,
                        }),
                    )
                })
                .collect(),
            md5_of_body: hex::encode(Md5::digest(message.body.as_bytes())),
            md5_of_message_attributes: (!message.attributes.is_empty())
                .then(|| md5_of_attributes(&message.attributes)),
        })
        .collect();
    sqs_received(&received, queue_arn, &meta.region)
}

/// An SQS batch of received messages: one record per message, as Lambda's event source mapping
/// sends them.
pub fn sqs_received(messages: &[ReceivedMessage], queue_arn: &str, region: &str) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|message| {
            let mut record = Map::new();
            record.insert("messageId".into(), json!(message.message_id));
            record.insert("receiptHandle".into(), json!(message.receipt_handle));
            record.insert("body".into(), json!(message.body));
            record.insert(
                "attributes".into(),
                Value::Object(message.attributes.clone()),
            );
            record.insert(
                "messageAttributes".into(),
                Value::Object(message.message_attributes.clone()),
            );
            record.insert("md5OfBody".into(), json!(message.md5_of_body));
            if let Some(digest) = &message.md5_of_message_attributes {
                record.insert("md5OfMessageAttributes".into(), json!(digest));
            }
            record.insert("eventSource".into(), json!("aws:sqs"));
            record.insert("eventSourceARN".into(), json!(queue_arn));
            record.insert("awsRegion".into(), json!(region));
            Value::Object(record)
        })
        .collect();
    json!({ "Records": records })
}

/// SQS's digest of string message attributes: sorted by name, each as length-prefixed name,
/// data type, transport type 1 (string) and length-prefixed value.
fn md5_of_attributes(attributes: &[(String, String, String)]) -> String {
    let mut sorted: Vec<_> = attributes.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut hasher = Md5::new();
    for (name, data_type, value) in sorted {
        for part in [name.as_bytes(), data_type.as_bytes()] {
            hasher.update((part.len() as u32).to_be_bytes());
            hasher.update(part);
        }
        hasher.update([1u8]);
        hasher.update((value.len() as u32).to_be_bytes());
        hasher.update(value.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// One SNS message to deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct SnsMessage {
    pub message: String,
    pub subject: Option<String>,
    /// `{name: {"Type": "String", "Value": "..."}}`, as SNS delivers message attributes.
    pub attributes: Map<String, Value>,
}

/// An SNS notification, as SNS delivers it to a subscribed function (one record).
pub fn sns(message: &SnsMessage, topic_arn: &str, meta: &Meta) -> Value {
    let message_id = meta.id();
    let subscription = meta.id();
    json!({
        "Records": [{
            "EventVersion": "1.0",
            "EventSubscriptionArn": format!("{topic_arn}:{subscription}"),
            "EventSource": "aws:sns",
            "Sns": {
                "Type": "Notification",
                "MessageId": message_id,
                "TopicArn": topic_arn,
                "Subject": message.subject,
                "Message": message.message,
                "Timestamp": meta.iso_millis(),
                "SignatureVersion": "1",
                "Signature": "EXAMPLE",
                "SigningCertURL": format!("https://sns.{}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem", meta.region),
                "UnsubscribeURL": format!("https://sns.{}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic_arn}:{subscription}", meta.region),
                "MessageAttributes": message.attributes,
            }
        }]
    })
}

/// One S3 object notification to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub bucket: String,
    /// The object key, unencoded.
    pub key: String,
    pub size: u64,
    /// Without the `s3:` prefix: `ObjectCreated:Put`, `ObjectRemoved:Delete`...
    pub event_name: String,
}

/// An S3 event notification (one record). The key is URL-encoded with `+` for spaces, as S3
/// sends it; the ETag is a digest of the key, since no object content exists offline.
pub fn s3(object: &S3Object, meta: &Meta) -> Value {
    let key: Vec<String> = object
        .key
        .split('/')
        .map(|segment| form_urlencoded::byte_serialize(segment.as_bytes()).collect())
        .collect();
    let event_name = object
        .event_name
        .strip_prefix("s3:")
        .unwrap_or(&object.event_name);
    json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": meta.region,
            "eventTime": meta.iso_millis(),
            "eventName": event_name,
            "userIdentity": { "principalId": "AWS:OFFLINE" },
            "requestParameters": { "sourceIPAddress": "127.0.0.1" },
            "responseElements": {
                "x-amz-request-id": meta.id().replace('-', "").to_ascii_uppercase().chars().take(16).collect::<String>(),
                "x-amz-id-2": meta.id(),
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "updraft-offline",
                "bucket": {
                    "name": object.bucket,
                    "ownerIdentity": { "principalId": "OFFLINE" },
                    "arn": format!("arn:aws:s3:::{}", object.bucket),
                },
                "object": {
                    "key": key.join("/"),
                    "size": object.size,
                    "eTag": hex::encode(Md5::digest(object.key.as_bytes())),
                    "sequencer": format!("{:016X}", meta.epoch_ms),
                }
            }
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqs_batch_has_one_record_per_message_with_the_body_digest() {
        let meta = Meta::fixed(0, "eu-west-1");
        let event = sqs(
            &[SqsMessage::text("a"), SqsMessage::text("b")],
            &sqs_queue_arn("eu-west-1", "q"),
            &meta,
        );
        let records = event["Records"].as_array().cloned().unwrap_or_default();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1]["body"], "b");
        // md5("a")
        assert_eq!(records[0]["md5OfBody"], "0cc175b9c0f1b6a831c399e269772661");
        assert_eq!(
            records[0]["eventSourceARN"],
            "arn:aws:sqs:eu-west-1:123456789012:q"
        );
        assert_ne!(records[0]["messageId"], records[1]["messageId"]);
    }

    #[test]
    fn sqs_attribute_digest_matches_the_one_sqs_documents() {
        // Computed by SQS for a message with attribute `a` (String) = `b`.
        let digest = md5_of_attributes(&[("a".into(), "String".into(), "b".into())]);
        let mut expected = Md5::new();
        expected.update([0, 0, 0, 1, b'a', 0, 0, 0, 6]);
        expected.update(b"String");
        expected.update([1, 0, 0, 0, 1, b'b']);
        assert_eq!(digest, hex::encode(expected.finalize()));
    }

    #[test]
    fn s3_key_is_url_encoded_like_s3_sends_it() {
        let meta = Meta::fixed(0, "us-east-1");
        let object = S3Object {
            bucket: "b".into(),
            key: "dir/a b+c.txt".into(),
            size: 1,
            event_name: "s3:ObjectCreated:Put".into(),
        };
        let event = s3(&object, &meta);
        assert_eq!(
            event["Records"][0]["s3"]["object"]["key"],
            "dir/a+b%2Bc.txt"
        );
        assert_eq!(event["Records"][0]["eventName"], "ObjectCreated:Put");
    }
}
