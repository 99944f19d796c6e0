//! An SQS queue as Lambda's event source mapping reads it: long-polled receives of up to the
//! batch size, the batch deleted when the function succeeds and left to come back after its
//! visibility timeout when it fails; with `ReportBatchItemFailures`, only the messages the
//! function names stay.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName,
};
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::poll::{Batch, Next, Source};
use super::{Described, Outcome, PollerWarning, Polling};
use crate::offline::events::records::{self, ReceivedMessage};

/// How long a receive waits for messages: long polling, short enough that a stop (which
/// cancels the call anyway) leaves no receive behind for long.
const WAIT_SECONDS: i32 = 1;

pub(super) struct QueueSource {
    client: aws_sdk_sqs::Client,
    name: String,
    batch_size: u32,
    report_failures: bool,
    region: String,
    described: Described,
    /// The queue's URL and ARN on the endpoint, once found.
    queue: Option<(String, String)>,
    /// The batch handed to the function: message id and receipt handle.
    in_flight: Vec<(String, String)>,
}

impl QueueSource {
    pub fn new(
        config: &SdkConfig,
        name: &str,
        batch_size: u32,
        report_failures: bool,
        region: &str,
        described: Described,
    ) -> QueueSource {
        QueueSource {
            client: aws_sdk_sqs::Client::new(config),
            name: name.to_string(),
            batch_size,
            report_failures,
            region: region.to_string(),
            described,
            queue: None,
            in_flight: Vec::new(),
        }
    }

    fn fix(&self) -> String {
        format!(
            "create it on the endpoint (`aws --endpoint-url {} sqs create-queue --queue-name {}`)",
            self.described.endpoint, self.name
        )
    }

    async fn connect(&mut self) -> Result<Polling, PollerWarning> {
        let url = self
            .client
            .get_queue_url()
            .queue_name(&self.name)
            .send()
            .await
            .map_err(|error| self.described.warning(&error, &self.fix()))?
            .queue_url
            .unwrap_or_default();
        let arn = self
            .client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .ok()
            .and_then(|answer| {
                answer
                    .attributes()
                    .and_then(|attributes| attributes.get(&QueueAttributeName::QueueArn).cloned())
            })
            .unwrap_or_else(|| records::sqs_queue_arn(&self.region, &self.name));
        self.queue = Some((url, arn));
        Ok(Polling {
            function: self.described.function.clone(),
            source: self.described.source_name.clone(),
            batch_size: self.batch_size,
            position: None,
        })
    }

    /// Deletes the in-flight messages but those in `keep`.
    async fn delete(&mut self, keep: &HashSet<String>) -> Result<(), PollerWarning> {
        let Some((url, _)) = &self.queue else {
            return Ok(());
        };
        let entries: Vec<DeleteMessageBatchRequestEntry> = self
            .in_flight
            .iter()
            .enumerate()
            .filter(|(_, (id, _))| !keep.contains(id))
            .filter_map(|(index, (_, handle))| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .receipt_handle(handle)
                    .build()
                    .ok()
            })
            .collect();
        self.in_flight.clear();
        if entries.is_empty() {
            return Ok(());
        }
        let answer = self
            .client
            .delete_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|error| self.described.warning(&error, &self.fix()))?;
        if let Some(failed) = answer.failed().first() {
            return Err(self.described.refused(format!(
                "deleting a delivered message failed: {}",
                failed.message().unwrap_or(failed.code())
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl Source for QueueSource {
    async fn next(&mut self) -> Result<Next, PollerWarning> {
        let Some((url, arn)) = self.queue.clone() else {
            return self.connect().await.map(Next::Connected);
        };
        let answer = self
            .client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(self.batch_size as i32)
            .wait_time_seconds(WAIT_SECONDS)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|error| {
                // Deleted or recreated: find it again.
                self.queue = None;
                self.described.warning(&error, &self.fix())
            })?;
        let messages = answer.messages();
        if messages.is_empty() {
            return Ok(Next::Idle(Duration::ZERO));
        }
        let received: Vec<ReceivedMessage> = messages.iter().map(received).collect();
        self.in_flight = received
            .iter()
            .map(|m| (m.message_id.clone(), m.receipt_handle.clone()))
            .collect();
        Ok(Next::Batch(Batch {
            event: records::sqs_received(&received, &arn, &self.region),
            records: received.len(),
        }))
    }

    async fn succeeded(&mut self, response: &[u8]) -> Result<Outcome, PollerWarning> {
        if !self.report_failures {
            self.delete(&HashSet::new()).await?;
            return Ok(Outcome::Succeeded);
        }
        let known: HashSet<String> = self.in_flight.iter().map(|(id, _)| id.clone()).collect();
        match batch_item_failures(response, &known) {
            Some(failed) if failed.is_empty() => {
                self.delete(&failed).await?;
                Ok(Outcome::Succeeded)
            }
            Some(failed) => {
                let count = failed.len();
                self.delete(&failed).await?;
                Ok(Outcome::PartlyFailed { failed: count })
            }
            // As on AWS, an answer that names no valid message fails the whole batch.
            None => self.failed().await,
        }
    }

    async fn failed(&mut self) -> Result<Outcome, PollerWarning> {
        // The messages stay: SQS makes them visible again after the visibility timeout.
        self.in_flight.clear();
        Ok(Outcome::LeftOnQueue)
    }
}

/// The ids in `{"batchItemFailures": [{"itemIdentifier": id}]}`; `None` when the answer names
/// an id that is empty or not in the batch. An answer without the key (or `null`) fails nothing.
fn batch_item_failures(response: &[u8], known: &HashSet<String>) -> Option<HashSet<String>> {
    let answer: Value = serde_json::from_slice(response).unwrap_or(Value::Null);
    let Some(failures) = answer.get("batchItemFailures") else {
        return Some(HashSet::new());
    };
    match failures {
        Value::Null => Some(HashSet::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.get("itemIdentifier")
                    .and_then(Value::as_str)
                    .filter(|id| known.contains(*id))
                    .map(str::to_string)
            })
            .collect(),
        _ => None,
    }
}

/// A received message in the event's terms.
fn received(message: &Message) -> ReceivedMessage {
    let attributes: Map<String, Value> = message
        .attributes()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| (name.as_str().to_string(), json!(value)))
                .collect()
        })
        .unwrap_or_default();
    let message_attributes: Map<String, Value> = message
        .message_attributes()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| {
                    let mut attribute = Map::new();
                    if let Some(text) = value.string_value() {
                        attribute.insert("stringValue".into(), json!(text));
                    }
                    if let Some(binary) = value.binary_value() {
                        attribute.insert(
                            "binaryValue".into(),
                            json!(base64::engine::general_purpose::STANDARD
                                .encode(binary.as_ref())),
                        );
                    }
                    attribute.insert("stringListValues".into(), json!([]));
                    attribute.insert("binaryListValues".into(), json!([]));
                    attribute.insert("dataType".into(), json!(value.data_type()));
                    (name.clone(), Value::Object(attribute))
                })
                .collect()
        })
        .unwrap_or_default();
    let body = message.body().unwrap_or_default().to_string();
    ReceivedMessage {
        message_id: message.message_id().unwrap_or_default().to_string(),
        receipt_handle: message.receipt_handle().unwrap_or_default().to_string(),
        md5_of_body: message
            .md5_of_body()
            .map(str::to_string)
            .unwrap_or_else(|| hex::encode(<md5::Md5 as md5::Digest>::digest(body.as_bytes()))),
        body,
        attributes,
        message_attributes,
        md5_of_message_attributes: message.md5_of_message_attributes().map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_item_failures_keep_the_named_messages_and_reject_unknown_ids() {
        let known: HashSet<String> = ["a", "b"].into_iter().map(String::from).collect();
        let failed = |text: &str| batch_item_failures(text.as_bytes(), &known);
        assert_eq!(failed("null"), Some(HashSet::new()));
        assert_eq!(failed(r#"{"batchItemFailures": []}"#), Some(HashSet::new()));
        assert_eq!(
            failed(r#"{"batchItemFailures": [{"itemIdentifier": "b"}]}"#),
            Some(["b".to_string()].into_iter().collect())
        );
        assert_eq!(
            failed(r#"{"batchItemFailures": [{"itemIdentifier": "z"}]}"#),
            None
        );
        assert_eq!(failed(r#"{"batchItemFailures": [{}]}"#), None);
    }
}
