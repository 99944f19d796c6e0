//! The events the emulator builds against AWS's own shapes: each deserialises into the
//! `aws_lambda_events` types and has the same keys, recursively, as the matching fixture shipped
//! with that crate (copied into `tests/fixtures/aws_lambda_events/`; less the differences listed
//! with their reasons). The sample events in
//! `templates/events/` must be what the emulator's code builds: `UPDRAFT_BLESS=1` rewrites them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use updraft::offline::events::{self, apigw, streams, Meta};

/// Maps whose keys are data (header names, attribute names), not part of the shape.
const DATA_MAPS: &[&str] = &[
    ".headers",
    ".multiValueHeaders",
    ".queryStringParameters",
    ".multiValueQueryStringParameters",
    ".pathParameters",
    ".stageVariables",
    ".requestContext.authorizer",
    ".Records[].messageAttributes",
    ".Records[].Sns.MessageAttributes",
    ".detail",
    ".Records[].dynamodb.Keys",
    ".Records[].dynamodb.NewImage",
    ".Records[].dynamodb.OldImage",
];

struct Expectation {
    fixture: &'static str,
    /// Keys the service sends that the fixture leaves out.
    extra: &'static [&'static str],
    /// Keys (and everything under them) the fixture has that the emulator never sends.
    missing: &'static [&'static str],
}

fn expectation(name: &str) -> Expectation {
    match name {
        "apigw-v1" => Expectation {
            fixture: "example-apigw-request.json",
            // REST APIs send both; this fixture predates them.
            extra: &[".isBase64Encoded", ".requestContext.extendedRequestId"],
            // No authorizer runs offline, and API Gateway sends none without one.
            missing: &[".requestContext.authorizer"],
        },
        "apigw-http-v1" => Expectation {
            fixture: "example-apigw-request.json",
            extra: &[
                ".version",
                ".isBase64Encoded",
                ".requestContext.extendedRequestId",
            ],
            missing: &[".requestContext.authorizer"],
        },
        "apigw-v2" => Expectation {
            fixture: "example-apigw-v2-request-no-authorizer.json",
            // Present when the request has cookies, a query, a body or path parameters; the
            // fixture's request has none of them.
            extra: &[
                ".cookies",
                ".queryStringParameters",
                ".body",
                ".pathParameters",
            ],
            // Sent only with mutual TLS.
            missing: &[".requestContext.authentication"],
        },
        "sqs" => Expectation {
            fixture: "example-sqs-event.json",
            extra: &[],
            missing: &[],
        },
        "sns" => Expectation {
            fixture: "example-sns-event.json",
            // SNS sends `MessageAttributes` (empty when none); this fixture leaves it out.
            extra: &[".Records[].Sns.MessageAttributes"],
            missing: &[],
        },
        "s3" => Expectation {
            fixture: "example-s3-event.json",
            extra: &[],
            // Only for versioned buckets.
            missing: &[".Records[].s3.object.versionId"],
        },
        "schedule" => Expectation {
            fixture: "example-eventbridge-schedule.json",
            extra: &[],
            missing: &[],
        },
        "eventbridge" => Expectation {
            fixture: "example-eventbridge-event-obj.json",
            // Every EventBridge event has `version` ("0"); this fixture leaves it out.
            extra: &[".version"],
            missing: &[],
        },
        "dynamodb" => Expectation {
            fixture: "example-dynamodb-event.json",
            extra: &[],
            // Sent only for deletions by TTL.
            missing: &[".Records[].userIdentity"],
        },
        "kinesis" => Expectation {
            fixture: "example-kinesis-event.json",
            extra: &[],
            missing: &[],
        },
        other => panic!("no fixture chosen for `{other}`"),
    }
}

fn key_paths(value: &Value, path: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = format!("{path}.{key}");
                out.insert(child_path.clone());
                if !DATA_MAPS.contains(&child_path.as_str()) {
                    key_paths(child, &child_path, out);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                key_paths(item, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

fn paths_of(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    key_paths(value, "", &mut out);
    out
}

/// The fixtures of the `aws_lambda_events` crate (version 1.2.1, the dev-dependency), copied
/// with their MIT licence into `tests/fixtures/aws_lambda_events/`. A copy, not the crate's own
/// folder: finding that folder means asking cargo about the registry cache, which on a fresh
/// machine holds only the crates built for this platform.
fn fixtures_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws_lambda_events");
    assert!(
        dir.join("LICENSE").is_file(),
        "the aws_lambda_events fixtures are missing from {}",
        dir.display()
    );
    dir
}

fn read_fixture(dir: &Path, name: &str) -> Value {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {name} is not JSON: {e}"))
}

fn assert_same_keys(name: &str, event: &Value, dir: &Path) {
    let expect = expectation(name);
    let fixture = read_fixture(dir, expect.fixture);
    let ours = paths_of(event);
    let theirs = paths_of(&fixture);
    let extra: Vec<&String> = ours
        .difference(&theirs)
        .filter(|p| !expect.extra.contains(&p.as_str()))
        .collect();
    let missing: Vec<&String> = theirs
        .difference(&ours)
        .filter(|p| !expect.missing.iter().any(|m| p.starts_with(m)))
        .collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "`{name}` differs from {}:\n  keys only in ours: {extra:?}\n  keys only in the fixture: {missing:?}",
        expect.fixture
    );
    // An allowed difference that no longer happens is a stale list.
    for key in expect.extra {
        assert!(
            ours.contains(*key),
            "`{name}`: listed extra key {key} is not sent any more"
        );
    }
}

fn http_api_payload_1_event() -> Value {
    let request = apigw::HttpRequest {
        method: "GET".into(),
        path: "/report".into(),
        raw_query: "a=1".into(),
        headers: vec![("host".into(), "127.0.0.1:3000".into())],
        body: Vec::new(),
        source_ip: "127.0.0.1".into(),
    };
    let route = apigw::RouteMatch {
        version: apigw::PayloadVersion::HttpApiV1,
        method: "GET".into(),
        resource: "/report".into(),
        path: "/report".into(),
        stage: "$default".into(),
        path_parameters: Default::default(),
        api_id: "offlineapi".into(),
    };
    apigw::event(&request, &route, &Meta::fixed(0, "us-east-1"))
}

fn object(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// A DynamoDB Streams batch as a table's poller builds it: an INSERT, then a MODIFY when
/// `modify` is set.
fn dynamodb_event(modify: bool) -> Value {
    let insert = streams::TableChange {
        event_id: "f07f8ca4b0b26cb9c4e5e77e69f274ee".into(),
        event_name: "INSERT".into(),
        keys: object(json!({"id": {"S": "a"}})),
        new_image: Some(object(
            json!({"id": {"S": "a"}, "version": {"N": "1"}, "tags": {"SS": ["x"]}}),
        )),
        old_image: None,
        sequence_number: "1100000000017454423009".into(),
        size_bytes: 54,
        stream_view_type: "NEW_AND_OLD_IMAGES".into(),
        approximate_creation_seconds: 1_480_642_020,
    };
    let mut changes = vec![insert.clone()];
    if modify {
        changes.push(streams::TableChange {
            event_name: "MODIFY".into(),
            old_image: insert.new_image.clone(),
            new_image: Some(object(json!({"id": {"S": "a"}, "version": {"N": "2"}}))),
            ..insert
        });
    }
    streams::dynamodb(
        &changes,
        "arn:aws:dynamodb:us-east-1:123456789012:table/Items/stream/2016-12-01T00:00:00.000",
        "us-east-1",
    )
}

/// A Kinesis batch as a stream's poller builds it.
fn kinesis_event() -> Value {
    streams::kinesis(
        &[streams::StreamRecord {
            shard_id: "shardId-000000000000".into(),
            data: b"Hello World".to_vec(),
            partition_key: "s1".into(),
            sequence_number: "49568167373333333333333333333333333333333333333333333333".into(),
            approximate_arrival_ms: 1_480_641_523_477,
        }],
        "arn:aws:kinesis:us-east-1:123456789012:stream/simple-stream",
        "us-east-1",
    )
}

fn sample(name: &str) -> Value {
    events::sample(name).unwrap_or_else(|| panic!("no sample `{name}`"))
}

#[test]
fn every_event_has_the_keys_of_the_aws_lambda_events_fixture() {
    let dir = fixtures_dir();
    for name in events::sample_names() {
        assert_same_keys(name, &sample(name), &dir);
    }
    assert_same_keys("apigw-http-v1", &http_api_payload_1_event(), &dir);
    assert_same_keys("dynamodb", &dynamodb_event(false), &dir);
    assert_same_keys("kinesis", &kinesis_event(), &dir);
}

#[test]
fn stream_events_deserialise_into_the_aws_lambda_events_types() {
    use aws_lambda_events::{dynamodb, kinesis};

    let table: dynamodb::Event = serde_json::from_value(dynamodb_event(true)).unwrap();
    assert_eq!(table.records.len(), 2);
    let modify = &table.records[1];
    assert_eq!(modify.event_name, "MODIFY");
    assert_eq!(
        modify.change.stream_view_type,
        Some(dynamodb::StreamViewType::NewAndOldImages)
    );
    assert_eq!(modify.change.size_bytes, 54);
    assert_eq!(modify.change.old_image.len(), 3);
    assert_eq!(
        table.records[0]
            .change
            .approximate_creation_date_time
            .timestamp(),
        1_480_642_020
    );

    let stream: kinesis::KinesisEvent = serde_json::from_value(kinesis_event()).unwrap();
    let record = &stream.records[0];
    assert_eq!(record.kinesis.data.0, b"Hello World");
    assert_eq!(record.kinesis.partition_key, "s1");
    assert_eq!(
        record.event_id.as_deref(),
        Some("shardId-000000000000:49568167373333333333333333333333333333333333333333333333")
    );
}

#[test]
fn every_event_deserialises_into_the_aws_lambda_events_types() {
    use aws_lambda_events::{apigw as types, eventbridge, s3, sns, sqs};

    let v1: types::ApiGatewayProxyRequest = serde_json::from_value(sample("apigw-v1")).unwrap();
    assert_eq!(v1.path_parameters.get("id").map(String::as_str), Some("42"));
    assert_eq!(v1.request_context.stage.as_deref(), Some("dev"));
    let http_v1: types::ApiGatewayProxyRequest =
        serde_json::from_value(http_api_payload_1_event()).unwrap();
    assert_eq!(http_v1.path.as_deref(), Some("/report"));
    let v2: types::ApiGatewayV2httpRequest = serde_json::from_value(sample("apigw-v2")).unwrap();
    assert_eq!(v2.route_key.as_deref(), Some("POST /users/{id}"));
    assert_eq!(v2.cookies.map(|c| c.len()), Some(2));

    let sqs: sqs::SqsEvent = serde_json::from_value(sample("sqs")).unwrap();
    assert_eq!(sqs.records.len(), 2);
    let sns: sns::SnsEvent = serde_json::from_value(sample("sns")).unwrap();
    assert_eq!(sns.records.len(), 1);
    let s3: s3::S3Event = serde_json::from_value(sample("s3")).unwrap();
    assert_eq!(s3.records[0].s3.object.size, Some(2048));
    let schedule: eventbridge::EventBridgeEvent =
        serde_json::from_value(sample("schedule")).unwrap();
    assert_eq!(schedule.detail_type, "Scheduled Event");
    let custom: eventbridge::EventBridgeEvent =
        serde_json::from_value(sample("eventbridge")).unwrap();
    assert_eq!(custom.source, "com.example.orders");
}

fn rendered(name: &str) -> String {
    let mut text = serde_json::to_string_pretty(&sample(name)).expect("JSON value serialises");
    text.push('\n');
    text
}

#[test]
fn template_events_are_what_the_emulator_builds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/events");
    let bless = std::env::var_os("UPDRAFT_BLESS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for name in events::sample_names() {
        let path = dir.join(format!("{name}.json"));
        let expected = rendered(name);
        if bless {
            std::fs::create_dir_all(&dir).expect("create templates/events");
            std::fs::write(&path, &expected).expect("write sample event");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(actual) if actual == expected => {}
            Ok(_) => stale.push(format!("{} differs", path.display())),
            Err(e) => stale.push(format!("{} cannot be read: {e}", path.display())),
        }
    }
    let known: BTreeSet<String> = events::sample_names()
        .iter()
        .map(|n| format!("{n}.json"))
        .collect();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if !known.contains(&file) {
            stale.push(format!("{file} is not a sample the emulator builds"));
        }
    }
    assert!(
        stale.is_empty(),
        "templates/events/ is out of date with src/offline/events:\n  {}\n\
         Regenerate with: UPDRAFT_BLESS=1 cargo test --test offline_events",
        stale.join("\n  ")
    );
}
