//! Reading a stream's shards, shared by DynamoDB Streams and Kinesis: one iterator per shard,
//! taken in turn; a batch the function fails on is read again (the shard does not advance) up
//! to the allowed retries, then skipped with a warning, as an event source mapping with
//! `maximumRetryAttempts` does. With `ReportBatchItemFailures`, the shard moves up to the first
//! record the function names, and the batch from there is the one tried again.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::poll::{Batch, Next, Source};
use super::{Described, Outcome, PollerWarning, Polling, StartingPosition, StreamSettings};

/// How often an idle stream is read again: Lambda polls each shard about once a second.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// One read of a shard.
pub(super) struct Read {
    pub event: Value,
    pub records: usize,
    /// Every record's sequence number, in order.
    pub sequences: Vec<String>,
    /// None once the shard is closed (split or merged) and read to its end.
    pub next_iterator: Option<String>,
}

/// The calls of one stream service.
#[async_trait]
pub(super) trait ShardService: Send {
    /// The stream's ARN and its shards' ids.
    async fn describe(&mut self) -> Result<(String, Vec<String>), PollerWarning>;
    /// An iterator after `after` (a sequence number), else at `position`.
    async fn iterator(
        &mut self,
        stream_arn: &str,
        shard: &str,
        position: StartingPosition,
        after: Option<&str>,
    ) -> Result<Option<String>, PollerWarning>;
    async fn read(
        &mut self,
        stream_arn: &str,
        shard: &str,
        iterator: &str,
        limit: u32,
    ) -> Result<Read, PollerWarning>;
}

struct Shard {
    id: String,
    /// None: closed and read to its end.
    iterator: Option<String>,
    last_sequence: Option<String>,
}

/// A batch handed to the function and not yet settled.
struct Pending {
    shard: usize,
    read: Read,
    attempts: u32,
}

pub(super) struct StreamSource<S: ShardService> {
    service: S,
    described: Described,
    batch_size: u32,
    settings: StreamSettings,
    stream_arn: Option<String>,
    shards: Vec<Shard>,
    turn: usize,
    pending: Option<Pending>,
}

impl<S: ShardService> StreamSource<S> {
    pub fn new(
        service: S,
        described: Described,
        batch_size: u32,
        settings: StreamSettings,
    ) -> Self {
        StreamSource {
            service,
            described,
            batch_size,
            settings,
            stream_arn: None,
            shards: Vec::new(),
            turn: 0,
            pending: None,
        }
    }

    async fn connect(&mut self) -> Result<Polling, PollerWarning> {
        let (arn, ids) = self.service.describe().await?;
        let mut shards = Vec::new();
        for id in ids {
            // A shard read before (reconnecting) resumes after its last record.
            let last_sequence = self
                .shards
                .iter()
                .find(|shard| shard.id == id)
                .and_then(|shard| shard.last_sequence.clone());
            let iterator = self
                .service
                .iterator(&arn, &id, self.settings.position, last_sequence.as_deref())
                .await?;
            shards.push(Shard {
                id,
                iterator,
                last_sequence,
            });
        }
        self.shards = shards;
        self.stream_arn = Some(arn);
        Ok(Polling {
            function: self.described.function.clone(),
            source: self.described.source_name.clone(),
            batch_size: self.batch_size,
            position: Some(self.settings.position.as_str().to_string()),
        })
    }

    /// Forgets the stream after trouble, so the next poll describes it again.
    fn disconnect(&mut self) {
        self.stream_arn = None;
    }
}

#[async_trait]
impl<S: ShardService> Source for StreamSource<S> {
    async fn next(&mut self) -> Result<Next, PollerWarning> {
        if let Some(pending) = &self.pending {
            return Ok(Next::Batch(Batch {
                event: pending.read.event.clone(),
                records: pending.read.records,
            }));
        }
        let Some(arn) = self.stream_arn.clone() else {
            return self.connect().await.map(Next::Connected);
        };
        if self.shards.iter().all(|shard| shard.iterator.is_none()) {
            // Every shard closed (resharding): its children are new shards.
            self.disconnect();
            return Ok(Next::Idle(IDLE_POLL));
        }
        for _ in 0..self.shards.len() {
            let index = self.turn % self.shards.len();
            self.turn = self.turn.wrapping_add(1);
            let shard = &self.shards[index];
            let Some(iterator) = shard.iterator.clone() else {
                continue;
            };
            let id = shard.id.clone();
            let read = match self
                .service
                .read(&arn, &id, &iterator, self.batch_size)
                .await
            {
                Ok(read) => read,
                Err(warning) => {
                    self.disconnect();
                    return Err(warning);
                }
            };
            if read.records == 0 {
                self.shards[index].iterator = read.next_iterator;
                continue;
            }
            let event = read.event.clone();
            let records = read.records;
            self.pending = Some(Pending {
                shard: index,
                read,
                attempts: 0,
            });
            return Ok(Next::Batch(Batch { event, records }));
        }
        Ok(Next::Idle(IDLE_POLL))
    }

    async fn succeeded(&mut self, response: &[u8]) -> Result<Outcome, PollerWarning> {
        if !self.settings.report_failures {
            self.advance();
            return Ok(Outcome::Succeeded);
        }
        let Some(pending) = &self.pending else {
            return Ok(Outcome::Succeeded);
        };
        match first_failure(response, &pending.read.sequences) {
            Some(None) => {
                self.advance();
                Ok(Outcome::Succeeded)
            }
            // The first record failed, or the answer names records not in the batch: as on
            // AWS, the whole batch failed.
            Some(Some(0)) | None => self.failed().await,
            Some(Some(index)) => {
                let failed = pending.read.sequences.len() - index;
                let checkpoint = pending.read.sequences[index - 1].clone();
                let shard = pending.shard;
                self.pending = None;
                let (Some(arn), Some(entry)) = (self.stream_arn.clone(), self.shards.get(shard))
                else {
                    return Ok(Outcome::ReadAgainFrom { failed });
                };
                let id = entry.id.clone();
                // Resumes right after the last record that succeeded.
                let iterator = self
                    .service
                    .iterator(&arn, &id, self.settings.position, Some(&checkpoint))
                    .await;
                let entry = &mut self.shards[shard];
                entry.last_sequence = Some(checkpoint);
                match iterator {
                    Ok(iterator) => entry.iterator = iterator,
                    Err(warning) => {
                        self.disconnect();
                        return Err(warning);
                    }
                }
                Ok(Outcome::ReadAgainFrom { failed })
            }
        }
    }

    async fn failed(&mut self) -> Result<Outcome, PollerWarning> {
        let Some(pending) = &mut self.pending else {
            return Ok(Outcome::Failed { attempt: 1 });
        };
        pending.attempts += 1;
        let attempts = pending.attempts;
        // The first attempt is not a retry: `retries` retries make `retries + 1` attempts.
        if attempts <= self.settings.retries {
            return Ok(Outcome::Failed { attempt: attempts });
        }
        self.advance();
        Ok(Outcome::Skipped { attempts })
    }
}

impl<S: ShardService> StreamSource<S> {
    /// Moves the shard of the pending batch past it.
    fn advance(&mut self) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        if let Some(shard) = self.shards.get_mut(pending.shard) {
            shard.iterator = pending.read.next_iterator;
            if let Some(last) = pending.read.sequences.last() {
                shard.last_sequence = Some(last.clone());
            }
        }
    }
}

/// Where `{"batchItemFailures": [{"itemIdentifier": sequenceNumber}]}` puts the first failed
/// record: `Some(None)` when none failed, `None` when it names a record not in the batch.
fn first_failure(response: &[u8], sequences: &[String]) -> Option<Option<usize>> {
    let answer: Value = serde_json::from_slice(response).unwrap_or(Value::Null);
    let failures = match answer.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(None),
        Some(Value::Array(failures)) => failures,
        Some(_) => return None,
    };
    let mut first: Option<usize> = None;
    for failure in failures {
        let id = failure.get("itemIdentifier").and_then(Value::as_str)?;
        let index = sequences.iter().position(|sequence| sequence == id)?;
        first = Some(first.map_or(index, |earlier| earlier.min(index)));
    }
    Some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// One shard holding `records`, read one at a time.
    struct FakeShard {
        records: Vec<&'static str>,
    }

    #[async_trait]
    impl ShardService for FakeShard {
        async fn describe(&mut self) -> Result<(String, Vec<String>), PollerWarning> {
            Ok(("arn:stream".into(), vec!["shard-0".into()]))
        }

        async fn iterator(
            &mut self,
            _stream_arn: &str,
            _shard: &str,
            _position: StartingPosition,
            after: Option<&str>,
        ) -> Result<Option<String>, PollerWarning> {
            let next = after
                .and_then(|sequence| sequence.parse::<usize>().ok())
                .map_or(0, |sequence| sequence + 1);
            Ok(Some(next.to_string()))
        }

        async fn read(
            &mut self,
            _stream_arn: &str,
            _shard: &str,
            iterator: &str,
            limit: u32,
        ) -> Result<Read, PollerWarning> {
            let start: usize = iterator.parse().unwrap_or(0).min(self.records.len());
            let end = (start + limit as usize).min(self.records.len());
            Ok(Read {
                event: json!({ "Records": self.records[start..end] }),
                records: end - start,
                sequences: (start..end).map(|index| index.to_string()).collect(),
                next_iterator: Some(end.to_string()),
            })
        }
    }

    fn source(retries: u32) -> StreamSource<FakeShard> {
        source_with(1, retries, false)
    }

    fn source_with(
        batch_size: u32,
        retries: u32,
        report_failures: bool,
    ) -> StreamSource<FakeShard> {
        let described = Described {
            endpoint: "http://127.0.0.1:4566".into(),
            source_name: "kinesis stream s".into(),
            function: "f".into(),
        };
        StreamSource::new(
            FakeShard {
                records: vec!["a", "b"],
            },
            described,
            batch_size,
            StreamSettings {
                position: StartingPosition::TrimHorizon,
                retries,
                report_failures,
            },
        )
    }

    async fn next_record(source: &mut StreamSource<FakeShard>) -> Option<Value> {
        match source.next().await {
            Ok(Next::Batch(batch)) => Some(batch.event["Records"][0].clone()),
            _ => None,
        }
    }

    #[tokio::test]
    async fn a_failing_batch_is_read_again_until_its_retries_are_spent_then_skipped() {
        let mut source = source(1);
        assert!(matches!(source.next().await, Ok(Next::Connected(_))));
        assert_eq!(next_record(&mut source).await, Some(json!("a")));
        assert_eq!(
            source.failed().await.ok(),
            Some(Outcome::Failed { attempt: 1 })
        );
        assert_eq!(next_record(&mut source).await, Some(json!("a")));
        assert_eq!(
            source.failed().await.ok(),
            Some(Outcome::Skipped { attempts: 2 })
        );
        assert_eq!(next_record(&mut source).await, Some(json!("b")));
        assert_eq!(source.succeeded(b"{}").await.ok(), Some(Outcome::Succeeded));
        assert!(matches!(source.next().await, Ok(Next::Idle(_))));
    }

    #[tokio::test]
    async fn a_reported_failure_moves_the_shard_up_to_it_and_retries_from_there() {
        let mut source = source_with(2, 2, true);
        assert!(matches!(source.next().await, Ok(Next::Connected(_))));
        assert!(matches!(source.next().await, Ok(Next::Batch(batch)) if batch.records == 2));
        let answer = br#"{"batchItemFailures": [{"itemIdentifier": "1"}]}"#;
        assert_eq!(
            source.succeeded(answer).await.ok(),
            Some(Outcome::ReadAgainFrom { failed: 1 })
        );
        match source.next().await {
            Ok(Next::Batch(batch)) => assert_eq!(batch.event["Records"], json!(["b"])),
            _ => panic!("the failed record is read again"),
        }
    }

    #[test]
    fn the_first_reported_failure_is_where_the_shard_stops() {
        let sequences: Vec<String> = ["1", "2", "3"].into_iter().map(String::from).collect();
        let first = |text: &str| first_failure(text.as_bytes(), &sequences);
        assert_eq!(first("{}"), Some(None));
        assert_eq!(first(r#"{"batchItemFailures": []}"#), Some(None));
        assert_eq!(
            first(r#"{"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]}"#),
            Some(Some(1))
        );
        assert_eq!(
            first(r#"{"batchItemFailures": [{"itemIdentifier": "9"}]}"#),
            None
        );
    }
}
