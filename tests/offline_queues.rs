//! `updraft offline --endpoint` reading queues and streams on moto, as a user runs it: the
//! binary on `tests/fixtures/offline-queues` (Python handlers that write down every event they
//! get), with the queue, table and stream made and fed through the AWS SDK for Rust.
//!
//! These tests need `UPDRAFT_TEST_MOTO_URL` (set by `bash scripts/test.sh`, which starts moto).

mod common;
#[path = "support/moto.rs"]
mod moto;
#[path = "support/offline_process.rs"]
mod offline_process;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use base64::Engine as _;
use offline_process::Offline;
use serde_json::Value;

const REGION: &str = "us-east-1";
/// Long enough for a slow machine; the waits end as soon as the outcome is there.
const PATIENCE: Duration = Duration::from_secs(60);

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/offline-queues")
}

/// A running `updraft offline` on tests/fixtures/offline-queues, whose functions record the
/// events they receive in a scratch file; stopped with SIGINT when dropped.
struct Queues {
    offline: Offline,
    received: PathBuf,
    _scratch: tempfile::TempDir,
}

impl std::ops::Deref for Queues {
    type Target = Offline;
    fn deref(&self) -> &Offline {
        &self.offline
    }
}

impl std::ops::DerefMut for Queues {
    fn deref_mut(&mut self) -> &mut Offline {
        &mut self.offline
    }
}

impl Queues {
    fn start(endpoint: &str) -> Queues {
        Queues::start_with(&["--endpoint", endpoint], &[])
    }

    fn start_with(args: &[&str], env: &[(&str, &str)]) -> Queues {
        let scratch = tempfile::tempdir().expect("a scratch directory");
        let received = scratch.path().join("received.jsonl");
        let record = format!("RECEIVED_FILE={}", received.display());
        let mut extra = args.to_vec();
        extra.extend(["--env", record.as_str()]);
        let mut environment = vec![
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ];
        environment.extend_from_slice(env);
        let offline = Offline::launch(
            &fixture(),
            &["offline"],
            "serverless.yml",
            &extra,
            &environment,
        );
        Queues {
            offline,
            received,
            _scratch: scratch,
        }
    }

    /// Waits for a stderr line containing `text`; panics with the output so far when none comes.
    fn wait_for(&mut self, text: &str) {
        if !self.offline.wait_for_within(text, PATIENCE) {
            panic!(
                "no line with `{text}`; stderr:\n{}",
                self.offline.seen.join("\n")
            );
        }
    }

    /// The events `function` received so far, in order.
    fn received(&self, function: &str) -> Vec<Value> {
        std::fs::read_to_string(&self.received)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|entry| entry["function"] == function)
            .map(|entry| entry["event"].clone())
            .collect()
    }

    /// Waits until `done` holds for what `function` received.
    fn wait_received(&mut self, function: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let events = self.received(function);
            if done(&events) {
                return events;
            }
            if Instant::now() > deadline {
                self.offline.take_pending();
                panic!(
                    "`{function}` received {events:?}; stderr:\n{}",
                    self.offline.seen.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn records(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .flat_map(|event| event["Records"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn config(runtime: &tokio::runtime::Runtime, taken: &moto::Taken) -> SdkConfig {
    moto::sdk_config(runtime, &taken.url, REGION)
}

/// Messages on the queue, visible or in flight.
fn queue_depth(runtime: &tokio::runtime::Runtime, sqs: &aws_sdk_sqs::Client, url: &str) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName as Name;
    let answer = runtime
        .block_on(
            sqs.get_queue_attributes()
                .queue_url(url)
                .attribute_names(Name::ApproximateNumberOfMessages)
                .attribute_names(Name::ApproximateNumberOfMessagesNotVisible)
                .send(),
        )
        .expect("moto gives the queue's attributes");
    let attributes = answer.attributes().cloned().unwrap_or_default();
    [
        Name::ApproximateNumberOfMessages,
        Name::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .map(|name| {
        attributes
            .get(name)
            .and_then(|count| count.parse::<u64>().ok())
            .unwrap_or(0)
    })
    .sum()
}

#[test]
#[ignore = "needs moto: scripts/test.sh starts it"]
fn sqs_batches_of_at_most_batch_size_are_deleted_and_a_reported_failure_stays_on_the_queue() {
    let taken = moto::take("sqs_batches_are_deleted");
    let _serial = &taken.serial;
    let runtime = moto::runtime();
    let sqs = aws_sdk_sqs::Client::new(&config(&runtime, &taken));

    // The queue does not exist yet: a warning, and the emulator keeps looking for it.
    let mut offline = Queues::start(&taken.url);
    offline.wait_for("sqs queue JobsQueue does not exist");
    let url = runtime
        .block_on(sqs.create_queue().queue_name("JobsQueue").send())
        .expect("moto creates the queue")
        .queue_url
        .unwrap_or_default();
    offline.wait_for("polling sqs queue JobsQueue (batch size 2) -> jobs");

    let bodies = ["one", "two", "three", "four", "five"];
    for body in bodies {
        let attribute = aws_sdk_sqs::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(format!("{body}-tag"))
            .build()
            .expect("a message attribute");
        runtime
            .block_on(
                sqs.send_message()
                    .queue_url(&url)
                    .message_body(body)
                    .message_attributes("tag", attribute)
                    .send(),
            )
            .expect("moto takes the message");
    }
    let events = offline.wait_received("jobs", |events| records(events).len() >= bodies.len());
    assert!(
        events
            .iter()
            .all(|event| event["Records"].as_array().map_or(0, Vec::len) <= 2),
        "a batch over batchSize 2: {events:?}"
    );
    let received = records(&events);
    let mut got: Vec<&str> = received
        .iter()
        .filter_map(|record| record["body"].as_str())
        .collect();
    got.sort_unstable();
    let mut sent = bodies.to_vec();
    sent.sort_unstable();
    assert_eq!(got, sent);
    let first = &received[0];
    assert_eq!(first["eventSource"], "aws:sqs");
    assert_eq!(
        first["eventSourceARN"],
        "arn:aws:sqs:us-east-1:123456789012:JobsQueue"
    );
    let body = first["body"].as_str().unwrap_or_default();
    assert_eq!(
        first["messageAttributes"]["tag"]["stringValue"],
        format!("{body}-tag")
    );
    assert_eq!(
        first["md5OfBody"],
        hex::encode(<md5::Md5 as md5::Digest>::digest(body.as_bytes()))
    );
    assert!(first["receiptHandle"]
        .as_str()
        .is_some_and(|h| !h.is_empty()));
    assert!(first["attributes"]["SentTimestamp"].is_string());

    // Every message the function took is deleted.
    let deadline = Instant::now() + PATIENCE;
    while queue_depth(&runtime, &sqs, &url) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(queue_depth(&runtime, &sqs, &url), 0, "the queue ends empty");

    // A message the function reports as failed stays; its batch-mate is deleted.
    for body in ["fail", "fine"] {
        runtime
            .block_on(sqs.send_message().queue_url(&url).message_body(body).send())
            .expect("moto takes the message");
    }
    offline.wait_received("jobs", |events| {
        let bodies: Vec<Value> = records(events).iter().map(|r| r["body"].clone()).collect();
        bodies.contains(&"fail".into()) && bodies.contains(&"fine".into())
    });
    offline.wait_for("1 reported as failed stay on the queue");
    let deadline = Instant::now() + PATIENCE;
    while queue_depth(&runtime, &sqs, &url) > 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        queue_depth(&runtime, &sqs, &url),
        1,
        "the failed message stays on the queue"
    );
    assert_eq!(
        offline.interrupt(),
        Some(0),
        "stderr:\n{}",
        offline.seen.join("\n")
    );
}

#[test]
#[ignore = "needs moto: scripts/test.sh starts it"]
fn dynamodb_stream_delivers_inserts_modifies_and_removes_with_keys_and_images() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let taken = moto::take("dynamodb_stream_delivers");
    let _serial = &taken.serial;
    let runtime = moto::runtime();
    let dynamodb = aws_sdk_dynamodb::Client::new(&config(&runtime, &taken));
    create_table(&runtime, &dynamodb);

    let mut offline = Queues::start(&taken.url);
    offline.wait_for("polling the stream of dynamodb table offline-queues-items from TRIM_HORIZON");
    let put = |version: &str| {
        runtime
            .block_on(
                dynamodb
                    .put_item()
                    .table_name("offline-queues-items")
                    .item("id", AttributeValue::S("a".into()))
                    .item("version", AttributeValue::N(version.into()))
                    .send(),
            )
            .expect("moto stores the item");
    };
    put("1");
    put("2");
    let events = offline.wait_received("items", |events| records(events).len() >= 2);
    let changes = records(&events);
    assert_eq!(changes[0]["eventName"], "INSERT");
    assert_eq!(changes[1]["eventName"], "MODIFY");
    let insert = &changes[0];
    assert_eq!(insert["eventSource"], "aws:dynamodb");
    assert_eq!(insert["awsRegion"], REGION);
    assert!(insert["eventID"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(insert["eventSourceARN"]
        .as_str()
        .is_some_and(|arn| arn.contains(":table/offline-queues-items/stream/")));
    assert_eq!(insert["dynamodb"]["Keys"]["id"]["S"], "a");
    assert_eq!(insert["dynamodb"]["NewImage"]["version"]["N"], "1");
    assert_eq!(insert["dynamodb"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
    assert!(insert["dynamodb"]["SequenceNumber"].is_string());
    assert!(insert["dynamodb"]["SizeBytes"].is_number());
    let modify = &changes[1]["dynamodb"];
    assert_eq!(modify["OldImage"]["version"]["N"], "1");
    assert_eq!(modify["NewImage"]["version"]["N"], "2");

    runtime
        .block_on(
            dynamodb
                .delete_item()
                .table_name("offline-queues-items")
                .key("id", AttributeValue::S("a".into()))
                .send(),
        )
        .expect("moto deletes the item");
    let events = offline.wait_received("items", |events| records(events).len() >= 3);
    let remove = &records(&events)[2];
    assert_eq!(remove["eventName"], "REMOVE");
    assert_eq!(remove["dynamodb"]["OldImage"]["version"]["N"], "2");
    assert!(remove["dynamodb"].get("NewImage").is_none());
    assert_eq!(
        offline.interrupt(),
        Some(0),
        "stderr:\n{}",
        offline.seen.join("\n")
    );
}

#[test]
#[ignore = "needs moto: scripts/test.sh starts it"]
fn kinesis_stream_delivers_records_and_skips_a_batch_after_its_retries() {
    let taken = moto::take("kinesis_stream_delivers");
    let _serial = &taken.serial;
    let runtime = moto::runtime();
    let kinesis = aws_sdk_kinesis::Client::new(&config(&runtime, &taken));
    runtime
        .block_on(
            kinesis
                .create_stream()
                .stream_name("offline-queues-events")
                .shard_count(1)
                .send(),
        )
        .expect("moto creates the stream");

    let mut offline = Queues::start(&taken.url);
    offline.wait_for("polling kinesis stream offline-queues-events from LATEST");
    let put = |data: &str, key: &str| {
        runtime
            .block_on(
                kinesis
                    .put_record()
                    .stream_name("offline-queues-events")
                    .data(aws_smithy_types::Blob::new(data.as_bytes().to_vec()))
                    .partition_key(key)
                    .send(),
            )
            .expect("moto takes the record")
            .sequence_number
    };
    let sequence = put("hello", "p1");
    let events = offline.wait_received("events", |events| !records(events).is_empty());
    let record = &records(&events)[0];
    assert_eq!(record["eventSource"], "aws:kinesis");
    assert_eq!(record["eventName"], "aws:kinesis:record");
    assert_eq!(
        record["eventSourceARN"],
        "arn:aws:kinesis:us-east-1:123456789012:stream/offline-queues-events"
    );
    assert_eq!(record["kinesis"]["partitionKey"], "p1");
    assert_eq!(record["kinesis"]["kinesisSchemaVersion"], "1.0");
    assert_eq!(record["kinesis"]["sequenceNumber"], sequence.as_str());
    assert_eq!(
        record["eventID"],
        format!("shardId-000000000000:{sequence}")
    );
    let data = base64::engine::general_purpose::STANDARD
        .decode(record["kinesis"]["data"].as_str().unwrap_or_default())
        .expect("the data is base64");
    assert_eq!(data, b"hello");

    // A failing record is tried twice (maximumRetryAttempts: 1), then skipped; the next
    // record still arrives.
    put("fail", "p2");
    offline.wait_for("skipped");
    put("after", "p3");
    let events = offline.wait_received("events", |events| {
        records(events)
            .iter()
            .any(|r| r["kinesis"]["partitionKey"] == "p3")
    });
    let attempts = records(&events)
        .iter()
        .filter(|r| r["kinesis"]["partitionKey"] == "p2")
        .count();
    assert_eq!(attempts, 2, "one try and one retry of the failing record");
    assert_eq!(
        offline.interrupt(),
        Some(0),
        "stderr:\n{}",
        offline.seen.join("\n")
    );
}

#[test]
fn an_unreachable_endpoint_is_a_warning_and_the_emulator_runs_until_stopped() {
    // Port 9 (discard) on loopback: nothing listens there in a test environment. Given by
    // AWS_ENDPOINT_URL, which stands in for a missing --endpoint.
    let mut offline = Queues::start_with(&[], &[("AWS_ENDPOINT_URL", "http://127.0.0.1:9")]);
    offline.wait_for("cannot reach http://127.0.0.1:9");
    assert!(
        matches!(offline.child.try_wait(), Ok(None)),
        "the emulator keeps running; stderr:\n{}",
        offline.seen.join("\n")
    );
    assert_eq!(
        offline.interrupt(),
        Some(0),
        "stderr:\n{}",
        offline.seen.join("\n")
    );
}

#[test]
fn without_an_endpoint_queues_and_streams_are_not_polled_and_the_output_says_how() {
    let mut offline = Queues::start_with(&[], &[]);
    offline.wait_for("sqs and stream events are not polled: give --endpoint URL");
    assert!(
        !offline.seen.iter().any(|line| line.contains("polling")),
        "stderr:\n{}",
        offline.seen.join("\n")
    );
    assert_eq!(
        offline.interrupt(),
        Some(0),
        "stderr:\n{}",
        offline.seen.join("\n")
    );
}

/// The fixture's table, with a stream of new and old images.
fn create_table(runtime: &tokio::runtime::Runtime, dynamodb: &aws_sdk_dynamodb::Client) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        StreamSpecification, StreamViewType,
    };
    runtime
        .block_on(
            dynamodb
                .create_table()
                .table_name("offline-queues-items")
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name("id")
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .expect("an attribute definition"),
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("id")
                        .key_type(KeyType::Hash)
                        .build()
                        .expect("a key"),
                )
                .stream_specification(
                    StreamSpecification::builder()
                        .stream_enabled(true)
                        .stream_view_type(StreamViewType::NewAndOldImages)
                        .build()
                        .expect("a stream specification"),
                )
                .send(),
        )
        .expect("moto creates the table");
}

fn put_item(
    runtime: &tokio::runtime::Runtime,
    dynamodb: &aws_sdk_dynamodb::Client,
    id: &str,
    flag: Option<&str>,
) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let mut request = dynamodb
        .put_item()
        .table_name("offline-queues-items")
        .item("id", AttributeValue::S(id.into()));
    if let Some(flag) = flag {
        request = request.item(flag, AttributeValue::Bool(true));
    }
    runtime
        .block_on(request.send())
        .expect("moto stores the item");
}

#[test]
#[ignore = "needs moto: scripts/test.sh starts it"]
fn dynamodb_stream_reported_failure_is_read_again_without_the_records_before_it() {
    let taken = moto::take("dynamodb_stream_reported_failure");
    let _serial = &taken.serial;
    let runtime = moto::runtime();
    let dynamodb = aws_sdk_dynamodb::Client::new(&config(&runtime, &taken));
    create_table(&runtime, &dynamodb);
    // Written before the emulator starts: TRIM_HORIZON reads both in one batch.
    put_item(&runtime, &dynamodb, "ok", None);
    put_item(&runtime, &dynamodb, "reported", Some("report"));

    let mut offline = Queues::start(&taken.url);
    offline.wait_for("skipped");
    put_item(&runtime, &dynamodb, "after", None);
    let events = offline.wait_received("items", |events| {
        records(events)
            .iter()
            .any(|r| r["dynamodb"]["Keys"]["id"]["S"] == "after")
    });
    let ids = |event: &Value| -> Vec<String> {
        event["Records"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["dynamodb"]["Keys"]["id"]["S"].as_str().map(String::from))
            .collect()
    };
    let batches: Vec<Vec<String>> = events.iter().map(ids).collect();
    // The first batch has both; the reported record is then read alone: once, and twice more
    // (the default two retries), then skipped.
    assert_eq!(
        batches,
        [
            vec!["ok".to_string(), "reported".to_string()],
            vec!["reported".to_string()],
            vec!["reported".to_string()],
            vec!["reported".to_string()],
            vec!["after".to_string()],
        ],
        "stderr:\n{}",
        offline.seen.join("\n")
    );
    assert_eq!(
        offline.interrupt(),
        Some(0),
        "stderr:\n{}",
        offline.seen.join("\n")
    );
}
