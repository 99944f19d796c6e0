//! EventBridge events: the "Scheduled Event" a `schedule` rule sends (or the rule's constant
//! `input` in its place, as EventBridge does), and custom events put on a bus.

use serde_json::{json, Value};

use super::{Meta, ACCOUNT_ID};

pub fn rule_arn(region: &str, rule: &str) -> String {
    format!("arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule}")
}

/// What a schedule rule delivers: its `input` when it has one (the event is replaced whole),
/// else the "Scheduled Event".
pub fn scheduled(rule_arn: &str, input: Option<&Value>, meta: &Meta) -> Value {
    if let Some(input) = input {
        return input.clone();
    }
    json!({
        "version": "0",
        "id": meta.id(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": meta.iso_seconds(),
        "region": meta.region,
        "resources": [rule_arn],
        "detail": {},
    })
}

/// An event put on a bus (`PutEvents`).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomEvent {
    pub source: String,
    pub detail_type: String,
    pub detail: Value,
}

pub fn custom(event: &CustomEvent, meta: &Meta) -> Value {
    json!({
        "version": "0",
        "id": meta.id(),
        "detail-type": event.detail_type,
        "source": event.source,
        "account": ACCOUNT_ID,
        "time": meta.iso_seconds(),
        "region": meta.region,
        "resources": [],
        "detail": event.detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_input_replaces_the_scheduled_event() {
        let meta = Meta::fixed(0, "us-east-1");
        let input = json!({"source": "schedule"});
        assert_eq!(scheduled("arn", Some(&input), &meta), input);
        let event = scheduled("arn:rule", None, &meta);
        assert_eq!(event["detail-type"], "Scheduled Event");
        assert_eq!(event["resources"], json!(["arn:rule"]));
        assert_eq!(event["time"], "1970-01-01T00:00:00Z");
    }
}
