//! `eventBridge` and `cloudwatchEvent` events: one EventBridge rule per event with the function
//! as its one target, plus the permission for EventBridge to invoke the function; and for an
//! `eventBridge` event whose `eventBus` is a name, the bus itself, created and deleted with the
//! service as the Framework does (a bus given by ARN is someone else's and only used).
//!
//! Rules are named as the Framework names them: `{function name}-rule-{n}` for `eventBridge`
//! (numbered per function), or the event's `name`; a `cloudwatchEvent` rule, which the Framework
//! leaves to CloudFormation to name, is `{function name}-cloudwatch-event-{n}`. Names are cut to
//! EventBridge's 64 characters with a hash. The rule kind itself is [`super::rule`]'s.

use std::collections::BTreeSet;

use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use aws_sdk_eventbridge::Client;
use serde_json::{json, Map, Value as Json};

use super::super::kinds::{TagChange, TagsOnly, Typed};
use super::super::naming::{self, kind, RULE_NAME_LIMIT};
use super::permission::{self, Grant};
use super::rule::{self, RuleProperties, RuleTarget};
use super::{call_error, invalid, settings, unsupported_setting, EventContext, FunctionEvent};
use crate::manifest::model::{Event, Function};
use crate::plan::{Action, Desired, Live, Properties, Reference, Step};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

/// The settings of each event type that updraft deploys; any other is refused.
const EVENT_BRIDGE_SETTINGS: &[&str] = &[
    "eventBus",
    "schedule",
    "pattern",
    "input",
    "inputPath",
    "inputTransformer",
    "name",
    "description",
    "enabled",
    "retryPolicy",
    "deadLetterQueueArn",
];
const CLOUDWATCH_EVENT_SETTINGS: &[&str] = &[
    "event",
    "input",
    "inputPath",
    "inputTransformer",
    "name",
    "description",
    "enabled",
];

/// The error for the first setting of the event that is not in `allowed`.
fn refuse_others(
    function: &Function,
    event: &Event,
    event_settings: &Map<String, Json>,
    allowed: &[&str],
) -> Result<(), ProviderError> {
    match event_settings
        .keys()
        .find(|key| !allowed.contains(&key.as_str()))
    {
        Some(key) => Err(unsupported_setting(
            function,
            event,
            key,
            &format!(
                "updraft deploys these settings of a `{}` event: {}; remove this one or \
                 deploy the function with the Serverless Framework",
                event.kind,
                allowed.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

pub fn desired(
    context: &Context<'_>,
    events: &[FunctionEvent],
) -> Result<Vec<Desired>, ProviderError> {
    let mut resources = Vec::new();
    let mut buses = BTreeSet::new();
    for one in events {
        let FunctionEvent {
            function,
            event,
            number,
        } = one;
        let cloudwatch = event.kind == "cloudwatchEvent";
        let Some(written) = settings(event) else {
            return Err(invalid(
                function,
                event,
                "the event takes a map of settings".into(),
                "write the rule's `pattern` (or `event` for `cloudwatchEvent`) under the event",
            ));
        };
        let allowed = if cloudwatch {
            CLOUDWATCH_EVENT_SETTINGS
        } else {
            EVENT_BRIDGE_SETTINGS
        };
        refuse_others(function, event, written, allowed)?;
        let (resolved, mut depends_on) =
            context.resolve_event(&Json::Object(written.clone()), function, event)?;
        let get = |key: &str| resolved.get(key).filter(|v| !v.is_null());
        let bus = if cloudwatch {
            None
        } else {
            event_bus(context, function, event, get("eventBus"))?
        };
        if let Some(Bus {
            name,
            created: true,
        }) = &bus
        {
            let bus_id = naming::id(kind::EVENT_BUS, name);
            depends_on.insert(bus_id.clone());
            if buses.insert(name.clone()) {
                resources.push(Desired {
                    id: bus_id,
                    properties: TagsOnly {
                        tags: context.tags.clone(),
                    }
                    .to_properties(),
                    inputs: Properties::new(),
                    depends_on: BTreeSet::new(),
                    replace_when: BTreeSet::new(),
                });
            }
        }
        let pattern = get(if cloudwatch { "event" } else { "pattern" }).cloned();
        let schedule = get("schedule").and_then(Json::as_str).map(str::to_string);
        match (&pattern, &schedule) {
            (None, None) => {
                return Err(invalid(
                    function,
                    event,
                    "the rule has neither a pattern nor a schedule".into(),
                    if cloudwatch {
                        "write the event pattern under `event`"
                    } else {
                        "write `pattern` (the events to match) or `schedule` (rate or cron)"
                    },
                ))
            }
            (Some(_), Some(_)) => {
                return Err(invalid(
                    function,
                    event,
                    "the rule has both a `pattern` and a `schedule`".into(),
                    "write one of them; make a second event for the other",
                ))
            }
            (None, Some(_)) if bus.is_some() => {
                return Err(invalid(
                    function,
                    event,
                    "a `schedule` runs only on the default event bus".into(),
                    "remove `eventBus`, or match events with a `pattern` on that bus",
                ))
            }
            _ => {}
        }
        let given_inputs: Vec<&str> = ["input", "inputPath", "inputTransformer"]
            .into_iter()
            .filter(|key| get(key).is_some())
            .collect();
        if given_inputs.len() > 1 {
            return Err(invalid(
                function,
                event,
                format!("it sets {} together", given_inputs.join(" and ")),
                "EventBridge gives the function one of them: keep one",
            ));
        }
        let target = target(
            function,
            event,
            &resolved,
            if cloudwatch {
                format!("{}-cloudwatch-event-{number}", function.key)
            } else {
                format!("{}-rule-{number}", function.key)
            },
            context.function_arn(function)?,
        )?;
        let function_id = context.function_id(function)?;
        let name = match get("name") {
            Some(Json::String(name)) => name.clone(),
            Some(_) => {
                return Err(invalid(
                    function,
                    event,
                    "`name` is not a text".into(),
                    "write the rule's name as a text",
                ))
            }
            None if cloudwatch => naming::fit(
                format!("{}-cloudwatch-event-{number}", function_id.name),
                RULE_NAME_LIMIT,
            ),
            None => naming::fit(
                format!("{}-rule-{number}", function_id.name),
                RULE_NAME_LIMIT,
            ),
        };
        let enabled = super::setting_value::<bool>(event, "enabled").unwrap_or(true);
        let id = rule::rule_id(bus.as_ref().map(|b| b.name.as_str()), &name);
        depends_on.insert(function_id.clone());
        resources.push(Desired {
            id: id.clone(),
            properties: RuleProperties {
                event_bus: bus.map(|b| b.name),
                schedule_expression: schedule,
                event_pattern: pattern.unwrap_or(Json::Null),
                state: Some(if enabled { "ENABLED" } else { "DISABLED" }.to_string()),
                description: get("description").cloned().unwrap_or(Json::Null),
                targets: vec![target],
                tags: context.tags.clone(),
            }
            .to_properties(),
            inputs: Properties::new(),
            depends_on,
            replace_when: BTreeSet::from(["event_bus".to_string()]),
        });
        let statement = if cloudwatch {
            format!("cloudwatch-event-{number}")
        } else {
            format!("event-bridge-{number}")
        };
        resources.push(permission::desired(Grant {
            function: function_id,
            statement_id: permission::statement_id(&statement),
            principal: "events.amazonaws.com".into(),
            source_arn: Reference::new(id.clone(), "arn").to_json(),
            source: Some(id),
        }));
    }
    Ok(resources)
}

/// The bus a rule goes on, and whether the service creates it.
struct Bus {
    name: String,
    created: bool,
}

/// `eventBus`: absent or `default` for the default bus; a name for a bus the service creates;
/// an ARN of a bus in this account and region for one that exists.
fn event_bus(
    context: &Context<'_>,
    function: &Function,
    event: &Event,
    value: Option<&Json>,
) -> Result<Option<Bus>, ProviderError> {
    let text = match value {
        None => return Ok(None),
        Some(Json::String(text)) => text.as_str(),
        Some(_) => {
            return Err(unsupported_setting(
                function,
                event,
                "eventBus",
                "write the bus's name (updraft creates it) or its ARN; a reference to a \
                 `resources:` bus is not deployed yet",
            ))
        }
    };
    if text == "default" || text.ends_with(":event-bus/default") {
        return Ok(None);
    }
    match text.strip_prefix("arn:") {
        None => {
            let valid = !text.is_empty()
                && text.len() <= 256
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            if !valid {
                return Err(invalid(
                    function,
                    event,
                    format!("`eventBus: {text}` is not an event bus name"),
                    "a bus name is at most 256 of letters, digits, `.`, `-` and `_`",
                ));
            }
            Ok(Some(Bus {
                name: text.to_string(),
                created: true,
            }))
        }
        Some(rest) => {
            // partition:events:region:account:event-bus/name
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let name = parts
                .get(4)
                .and_then(|resource| resource.strip_prefix("event-bus/"));
            match (parts.get(2), parts.get(3), name) {
                (Some(region), Some(account), Some(name))
                    if *region == context.region && *account == context.account =>
                {
                    Ok(Some(Bus {
                        name: name.to_string(),
                        created: false,
                    }))
                }
                (_, _, Some(_)) => Err(unsupported_setting(
                    function,
                    event,
                    "eventBus",
                    "updraft puts rules on buses of the account and region it deploys to; \
                     this ARN names another",
                )),
                _ => Err(invalid(
                    function,
                    event,
                    format!("`eventBus: {text}` is not an event bus ARN"),
                    "write arn:aws:events:{region}:{account}:event-bus/{name}, or the bus's name",
                )),
            }
        }
    }
}

/// The rule's one target, with the event's input, retry policy and dead-letter queue.
fn target(
    function: &Function,
    event: &Event,
    resolved: &Json,
    id: String,
    arn: Json,
) -> Result<RuleTarget, ProviderError> {
    let get = |key: &str| resolved.get(key).filter(|v| !v.is_null());
    let input = match get("input") {
        None => Json::Null,
        Some(Json::String(text)) => json!(text),
        Some(other) => json!(other.to_string()),
    };
    let input_transformer = match get("inputTransformer") {
        None => Json::Null,
        Some(transformer) => {
            let template = match transformer.get("inputTemplate") {
                Some(Json::String(text)) => json!(text),
                Some(other @ Json::Object(_)) => json!(other.to_string()),
                _ => {
                    return Err(invalid(
                        function,
                        event,
                        "`inputTransformer` has no `inputTemplate`".into(),
                        "write the text the function gets as `inputTemplate`",
                    ))
                }
            };
            let paths = transformer
                .get("inputPathsMap")
                .and_then(Json::as_object)
                .filter(|map| !map.is_empty())
                .map(|map| Json::Object(map.clone()))
                .unwrap_or(Json::Null);
            json!({"input_paths_map": paths, "input_template": template})
        }
    };
    let retry_policy = match get("retryPolicy") {
        None => Json::Null,
        Some(policy) => {
            let number = |key: &str| {
                policy.get(key).and_then(|value| {
                    value
                        .as_i64()
                        .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
                })
            };
            json!({
                "maximum_retry_attempts": number("maximumRetryAttempts"),
                "maximum_event_age_in_seconds": number("maximumEventAge"),
            })
        }
    };
    Ok(RuleTarget {
        input,
        input_path: get("inputPath").cloned().unwrap_or(Json::Null),
        input_transformer,
        retry_policy,
        dead_letter_arn: get("deadLetterQueueArn").cloned().unwrap_or(Json::Null),
        ..RuleTarget::plain(rule::target_id(&id), arn)
    })
}

/// The event buses the service created, found by their tags.
pub fn bus_lives(tagged: &[(String, std::collections::BTreeMap<String, String>)]) -> Vec<Live> {
    tagged
        .iter()
        .filter_map(|(arn, tags)| {
            let name = arn.split_once(":event-bus/")?.1;
            Some(Live {
                id: naming::id(kind::EVENT_BUS, name),
                properties: TagsOnly { tags: tags.clone() }.to_properties(),
                attributes: Properties::from([("arn".to_string(), json!(arn))]),
                depends_on: BTreeSet::new(),
            })
        })
        .collect()
}

/// Creates (adopting a bus of the same name), retags or deletes an event bus.
pub async fn apply_bus(
    client: &Client,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let name = step.id.name.as_str();
    if step.action == Action::Delete {
        return match client.delete_event_bus().name(name).send().await {
            Ok(_) => Ok(Properties::new()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(Properties::new()),
            Err(e) => Err(call_error("events:DeleteEventBus", name, &e)),
        };
    }
    let wanted = TagsOnly::from_properties(properties, &step.id)?;
    let current = TagsOnly::live_of(step)?;
    let arn = match step.live.as_ref() {
        Some(live) => super::attribute(Some(live), "arn").unwrap_or_default(),
        None => match client
            .create_event_bus()
            .name(name)
            .set_tags(Some(rule::tags(&wanted.tags)?))
            .send()
            .await
        {
            Ok(created) => created.event_bus_arn().unwrap_or_default().to_string(),
            Err(e) if e.code() == Some("ResourceAlreadyExistsException") => {
                // Left by a deploy that stopped before it read the bus back: adopt it.
                retag_bus(client, name, &wanted, None).await?
            }
            Err(e) => return Err(call_error("events:CreateEventBus", name, &e)),
        },
    };
    if let Some(current) = current {
        retag_bus(client, name, &wanted, Some(&current)).await?;
    }
    Ok(Properties::from([("arn".to_string(), json!(arn))]))
}

/// Brings the bus's tags to `wanted`; returns its ARN.
async fn retag_bus(
    client: &Client,
    name: &str,
    wanted: &TagsOnly,
    current: Option<&TagsOnly>,
) -> Result<String, ProviderError> {
    let arn = client
        .describe_event_bus()
        .name(name)
        .send()
        .await
        .map_err(|e| call_error("events:DescribeEventBus", name, &e))?
        .arn()
        .unwrap_or_default()
        .to_string();
    let empty = std::collections::BTreeMap::new();
    let live_tags = current.map(|c| &c.tags).unwrap_or(&empty);
    let arn_ref = &arn;
    TagChange::between(live_tags, &wanted.tags)
        .send(
            |remove| async move {
                client
                    .untag_resource()
                    .resource_arn(arn_ref)
                    .set_tag_keys(Some(remove))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| call_error("events:UntagResource", name, &e))
            },
            |set| async move {
                client
                    .tag_resource()
                    .resource_arn(arn_ref)
                    .set_tags(Some(rule::tags(&set)?))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| call_error("events:TagResource", name, &e))
            },
        )
        .await?;
    Ok(arn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aws::triggers::test_support::{find, names, Fixture};

    fn service(events: Json) -> Fixture {
        Fixture::one_function("orders", events)
    }

    #[test]
    fn an_event_bridge_pattern_on_a_named_bus_is_a_rule_on_a_bus_the_service_creates() {
        let resources = service(json!([
            {"eventBridge": {
                "eventBus": "shop-bus",
                "pattern": {"source": ["shop.orders"]},
                "inputTransformer": {
                    "inputPathsMap": {"id": "$.detail.id"},
                    "inputTemplate": "{\"id\": <id>}",
                },
                "retryPolicy": {"maximumRetryAttempts": 3, "maximumEventAge": 3600},
                "deadLetterQueueArn": "arn:aws:sqs:us-east-1:123456789012:dead",
            }},
            {"eventBridge": {"schedule": "rate(1 hour)", "input": {"a": 1}, "enabled": false}},
            {"eventBridge": {"eventBus": "shop-bus", "name": "own-name",
                             "pattern": {"source": ["other"]}, "inputPath": "$.detail"}},
        ]))
        .desired()
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(names(&resources, kind::EVENT_BUS), ["shop-bus"]);
        assert_eq!(
            names(&resources, kind::RULE),
            [
                "shop-bus/shop-dev-orders-rule-1",
                "shop-dev-orders-rule-2",
                "shop-bus/own-name"
            ]
        );
        let first = find(&resources, kind::RULE, "shop-bus/shop-dev-orders-rule-1");
        assert_eq!(first.properties["event_bus"], json!("shop-bus"));
        assert_eq!(
            first.properties["event_pattern"],
            json!({"source": ["shop.orders"]})
        );
        let target = &first.properties["targets"][0];
        assert_eq!(
            target["input_transformer"],
            json!({"input_paths_map": {"id": "$.detail.id"}, "input_template": "{\"id\": <id>}"})
        );
        assert_eq!(
            target["retry_policy"],
            json!({"maximum_retry_attempts": 3, "maximum_event_age_in_seconds": 3600})
        );
        assert_eq!(
            target["dead_letter_arn"],
            json!("arn:aws:sqs:us-east-1:123456789012:dead")
        );
        assert!(first
            .depends_on
            .contains(&naming::id(kind::EVENT_BUS, "shop-bus")));
        let second = find(&resources, kind::RULE, "shop-dev-orders-rule-2");
        assert_eq!(second.properties["state"], json!("DISABLED"));
        assert_eq!(
            second.properties["schedule_expression"],
            json!("rate(1 hour)")
        );
        assert_eq!(
            second.properties["targets"][0]["input"],
            json!(r#"{"a":1}"#)
        );
        let permission = find(
            &resources,
            kind::PERMISSION,
            "shop-dev-orders/updraft-event-event-bridge-1",
        );
        assert_eq!(
            permission.properties["principal"],
            json!("events.amazonaws.com")
        );
    }

    #[test]
    fn a_bus_given_by_arn_is_used_and_not_created() {
        let resources = service(json!([{"eventBridge": {
            "eventBus": "arn:aws:events:us-east-1:123456789012:event-bus/theirs",
            "pattern": {"source": ["a"]},
        }}]))
        .desired()
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(names(&resources, kind::EVENT_BUS).is_empty());
        assert_eq!(
            names(&resources, kind::RULE),
            ["theirs/shop-dev-orders-rule-1"]
        );
    }

    #[test]
    fn a_cloudwatch_event_is_a_rule_on_the_default_bus_with_its_pattern() {
        let resources = service(json!([{"cloudwatchEvent": {
            "event": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
            "description": "instances",
            "input": "{\"key\": \"value\"}",
        }}]))
        .desired()
        .unwrap_or_else(|e| panic!("{e}"));
        let rule = find(&resources, kind::RULE, "shop-dev-orders-cloudwatch-event-1");
        assert_eq!(rule.properties["event_bus"], Json::Null);
        assert_eq!(
            rule.properties["event_pattern"]["source"],
            json!(["aws.ec2"])
        );
        assert_eq!(rule.properties["description"], json!("instances"));
        assert_eq!(
            rule.properties["targets"][0]["input"],
            json!("{\"key\": \"value\"}")
        );
        find(
            &resources,
            kind::PERMISSION,
            "shop-dev-orders/updraft-event-cloudwatch-event-1",
        );
    }

    fn refused(events: Json) -> (String, String) {
        match service(events).desired() {
            Err(ProviderError::Unsupported { what, span, help }) => {
                assert!(span.is_some(), "the error points at the event");
                (what, help)
            }
            Err(ProviderError::Invalid {
                message,
                span,
                help,
            }) => {
                assert!(span.is_some(), "the error points at the event");
                (message, help)
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn settings_and_combinations_eventbridge_cannot_take_are_refused_at_plan_time() {
        let (what, help) = refused(json!([{"eventBridge": {
            "pattern": {"source": ["a"]}, "method": "scheduler"}}]));
        assert!(
            what.contains("`method`") && what.contains("orders"),
            "{what}"
        );
        assert!(help.contains("pattern"), "{help}");
        let (what, _) = refused(json!([{"eventBridge": {
            "eventBus": "bus", "schedule": "rate(1 hour)"}}]));
        assert!(what.contains("default event bus"), "{what}");
        let (what, _) = refused(json!([{"eventBridge": {
            "pattern": {"source": ["a"]}, "input": {"a": 1}, "inputPath": "$.detail"}}]));
        assert!(what.contains("input and inputPath"), "{what}");
        let (what, _) = refused(json!([{"eventBridge": {"description": "nothing"}}]));
        assert!(what.contains("neither"), "{what}");
        let (what, _) = refused(json!([{"eventBridge": {
            "eventBus": "arn:aws:events:eu-west-1:999999999999:event-bus/far",
            "pattern": {"source": ["a"]}}}]));
        assert!(what.contains("eventBus"), "{what}");
        let (what, _) = refused(json!([{"cloudwatchEvent": {
            "event": {"source": ["a"]}, "eventBus": "bus"}}]));
        assert!(
            what.contains("`eventBus`") && what.contains("cloudwatchEvent"),
            "{what}"
        );
    }
}
