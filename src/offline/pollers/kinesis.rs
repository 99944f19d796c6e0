//! A Kinesis data stream: its shards (ListShards) and their records (GetRecords), turned into
//! the Kinesis event with each record's data in base64.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_kinesis::types::{Record, ShardIteratorType};

use super::poll::Source;
use super::stream::{Read, ShardService, StreamSource};
use super::{Described, PollerWarning, StartingPosition, StreamSettings, Target, TargetKind};
use crate::offline::events::streams::{self, StreamRecord};

pub(super) struct KinesisService {
    client: aws_sdk_kinesis::Client,
    stream: String,
    region: String,
    described: Described,
}

/// A poller of `target`'s Kinesis stream.
pub(super) fn source(
    config: &SdkConfig,
    stream: &str,
    target: &Target,
    region: &str,
    described: Described,
) -> Box<dyn Source> {
    let settings = match &target.kind {
        TargetKind::Stream { settings, .. } => *settings,
        _ => StreamSettings {
            position: StartingPosition::Latest,
            retries: 0,
            report_failures: false,
        },
    };
    let service = KinesisService {
        client: aws_sdk_kinesis::Client::new(config),
        stream: stream.to_string(),
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

impl KinesisService {
    fn fix(&self) -> String {
        format!(
            "create it on the endpoint (`aws --endpoint-url {} kinesis create-stream \
             --stream-name {} --shard-count 1`)",
            self.described.endpoint, self.stream
        )
    }
}

#[async_trait]
impl ShardService for KinesisService {
    async fn describe(&mut self) -> Result<(String, Vec<String>), PollerWarning> {
        let summary = self
            .client
            .describe_stream_summary()
            .stream_name(&self.stream)
            .send()
            .await
            .map_err(|error| self.described.warning(&error, &self.fix()))?;
        let arn = summary
            .stream_description_summary()
            .map(|s| s.stream_arn().to_string())
            .unwrap_or_default();
        let mut shards = Vec::new();
        let mut token: Option<String> = None;
        loop {
            // ListShards takes either the stream or a continuation token, never both.
            let request = match &token {
                Some(token) => self.client.list_shards().next_token(token),
                None => self.client.list_shards().stream_name(&self.stream),
            };
            let answer = request
                .send()
                .await
                .map_err(|error| self.described.warning(&error, &self.fix()))?;
            shards.extend(
                answer
                    .shards()
                    .iter()
                    .map(|shard| shard.shard_id().to_string()),
            );
            token = answer.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok((arn, shards))
    }

    async fn iterator(
        &mut self,
        _stream_arn: &str,
        shard: &str,
        position: StartingPosition,
        after: Option<&str>,
    ) -> Result<Option<String>, PollerWarning> {
        let request = self
            .client
            .get_shard_iterator()
            .stream_name(&self.stream)
            .shard_id(shard);
        let request = match (after, position) {
            (Some(sequence), _) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(sequence),
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
        shard: &str,
        iterator: &str,
        limit: u32,
    ) -> Result<Read, PollerWarning> {
        let answer = self
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(limit as i32)
            .send()
            .await
            .map_err(|error| self.described.warning(&error, &self.fix()))?;
        let records: Vec<StreamRecord> = answer
            .records()
            .iter()
            .map(|record| stream_record(shard, record))
            .collect();
        Ok(Read {
            event: streams::kinesis(&records, stream_arn, &self.region),
            records: records.len(),
            sequences: records.iter().map(|r| r.sequence_number.clone()).collect(),
            next_iterator: answer.next_shard_iterator().map(str::to_string),
        })
    }
}

fn stream_record(shard: &str, record: &Record) -> StreamRecord {
    StreamRecord {
        shard_id: shard.to_string(),
        data: record.data().as_ref().to_vec(),
        partition_key: record.partition_key().unwrap_or_default().to_string(),
        sequence_number: record.sequence_number().to_string(),
        approximate_arrival_ms: record
            .approximate_arrival_timestamp()
            .and_then(|time| time.to_millis().ok())
            .unwrap_or_else(|| chrono::Utc::now().timestamp_millis()),
    }
}
