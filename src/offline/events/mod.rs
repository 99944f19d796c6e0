//! The events the emulator hands to functions, in the shape each AWS service sends them: API
//! Gateway REST (payload 1.0), HTTP API (payload 2.0 and 1.0), SQS batches, SNS, S3, EventBridge
//! scheduled events, custom EventBridge events, and DynamoDB Streams and Kinesis batches.
//!
//! Every front end (HTTP triggers, schedules, `offline emit`) and the sample events in
//! `templates/events/` are built by the functions here, so what `invoke local --event sqs` feeds
//! a handler is what `updraft offline` would. Builders take a [`Meta`] for the clock and the ids,
//! so the samples are reproducible and live events get fresh ids.

pub mod apigw;
pub mod records;
pub mod scheduled;
pub mod streams;

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

pub use apigw::{HttpRequest, PayloadVersion, RouteMatch};

/// The account id in every ARN the emulator makes (the one AWS documents for examples).
pub const ACCOUNT_ID: &str = "123456789012";

/// The clock, the region and the ids an event is stamped with.
#[derive(Debug)]
pub struct Meta {
    pub epoch_ms: i64,
    pub region: String,
    /// `None`: random v4 UUIDs; `Some`: a counter, for reproducible samples.
    counter: Option<AtomicU64>,
}

impl Meta {
    /// Now, with random ids.
    pub fn now(region: &str) -> Meta {
        Meta {
            epoch_ms: Utc::now().timestamp_millis(),
            region: region.to_string(),
            counter: None,
        }
    }

    /// A fixed time and counted ids: the same event every time.
    pub fn fixed(epoch_ms: i64, region: &str) -> Meta {
        Meta {
            epoch_ms,
            region: region.to_string(),
            counter: Some(AtomicU64::new(0)),
        }
    }

    /// A fresh id in UUID form.
    pub fn id(&self) -> String {
        match &self.counter {
            Some(counter) => {
                let next = counter.fetch_add(1, Ordering::Relaxed) + 1;
                format!("c0ffee00-0000-4000-8000-{next:012x}")
            }
            None => crate::offline::ids::request_id(),
        }
    }

    fn time(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.epoch_ms).unwrap_or_default()
    }

    /// `2015-10-08T16:53:06Z` (EventBridge).
    pub fn iso_seconds(&self) -> String {
        self.time().format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// `2015-08-18T18:02:32.111Z` (SNS, S3).
    pub fn iso_millis(&self) -> String {
        self.time().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }

    /// `15/May/2020:06:01:09 +0000` (API Gateway's `requestTime`).
    pub fn clf(&self) -> String {
        self.time().format("%d/%b/%Y:%H:%M:%S +0000").to_string()
    }
}

/// The sample event names, as `invoke local --event NAME` takes them.
pub fn sample_names() -> &'static [&'static str] {
    &[
        "apigw-v1",
        "apigw-v2",
        "sqs",
        "sns",
        "s3",
        "schedule",
        "eventbridge",
    ]
}

/// A sample event: `apigw-v1` (alias `apigw-rest`: a REST API proxy request), `apigw-v2` (an
/// HTTP API request, payload 2.0), `sqs` (a batch of two messages), `sns`, `s3` (an object
/// created), `schedule` (an EventBridge "Scheduled Event"), `eventbridge` (a custom event).
/// Fixed clock and ids, so the files in `templates/events/` can be checked against this.
pub fn sample(name: &str) -> Option<Value> {
    // 2024-01-15T12:00:00.000Z
    let meta = Meta::fixed(1_705_320_000_000, "us-east-1");
    let event = match name {
        "apigw-v1" | "apigw-rest" => {
            let request = sample_request();
            let route = sample_route(PayloadVersion::Rest);
            apigw::event(&request, &route, &meta)
        }
        "apigw-v2" => {
            let request = sample_request();
            let route = sample_route(PayloadVersion::V2);
            apigw::event(&request, &route, &meta)
        }
        "sqs" => records::sqs(
            &[1, 2].map(|id| records::SqsMessage {
                body: format!(r#"{{"job":"resize","id":{id}}}"#),
                attributes: vec![("priority".into(), "String".into(), "high".into())],
            }),
            &records::sqs_queue_arn(&meta.region, "jobs"),
            &meta,
        ),
        "sns" => records::sns(
            &records::SnsMessage {
                message: r#"{"order":42,"state":"shipped"}"#.to_string(),
                subject: Some("Order shipped".to_string()),
                attributes: serde_json::Map::new(),
            },
            &records::sns_topic_arn(&meta.region, "orders"),
            &meta,
        ),
        "s3" => records::s3(
            &records::S3Object {
                bucket: "uploads".to_string(),
                key: "images/photo 1.jpg".to_string(),
                size: 2048,
                event_name: "ObjectCreated:Put".to_string(),
            },
            &meta,
        ),
        "schedule" => scheduled::scheduled(
            &scheduled::rule_arn(&meta.region, "updraft-example-dev-report-rule-1"),
            None,
            &meta,
        ),
        "eventbridge" => scheduled::custom(
            &scheduled::CustomEvent {
                source: "com.example.orders".to_string(),
                detail_type: "Order Placed".to_string(),
                detail: json!({"orderId": "42", "total": 19.5}),
            },
            &meta,
        ),
        _ => return None,
    };
    Some(event)
}

fn sample_request() -> HttpRequest {
    HttpRequest {
        method: "POST".to_string(),
        path: "/dev/users/42".to_string(),
        raw_query: "verbose=1&tag=a&tag=b".to_string(),
        headers: vec![
            ("host".to_string(), "127.0.0.1:3000".to_string()),
            ("user-agent".to_string(), "curl/8.5.0".to_string()),
            ("accept".to_string(), "*/*".to_string()),
            ("content-type".to_string(), "application/json".to_string()),
            ("cookie".to_string(), "session=abc; theme=dark".to_string()),
        ],
        body: br#"{"name":"Ada"}"#.to_vec(),
        source_ip: "127.0.0.1".to_string(),
    }
}

fn sample_route(version: PayloadVersion) -> RouteMatch {
    let (stage, path) = match version {
        PayloadVersion::Rest => ("dev", "/users/42"),
        _ => ("$default", "/dev/users/42"),
    };
    RouteMatch {
        version,
        method: "POST".to_string(),
        resource: "/users/{id}".to_string(),
        path: path.to_string(),
        stage: stage.to_string(),
        path_parameters: [("id".to_string(), "42".to_string())].into_iter().collect(),
        api_id: "offlineapi".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_name_builds_an_event_and_unknown_names_none() {
        for name in sample_names() {
            assert!(sample(name).is_some(), "{name}");
        }
        assert_eq!(sample("apigw-rest"), sample("apigw-v1"));
        assert!(sample("kinesis").is_none());
    }

    #[test]
    fn samples_are_the_same_every_time() {
        assert_eq!(sample("sqs"), sample("sqs"));
        assert_eq!(sample("apigw-v2"), sample("apigw-v2"));
    }

    #[test]
    fn times_use_each_services_format() {
        let meta = Meta::fixed(1_589_522_469_693, "us-east-1");
        assert_eq!(meta.iso_seconds(), "2020-05-15T06:01:09Z");
        assert_eq!(meta.iso_millis(), "2020-05-15T06:01:09.693Z");
        assert_eq!(meta.clf(), "15/May/2020:06:01:09 +0000");
    }
}
