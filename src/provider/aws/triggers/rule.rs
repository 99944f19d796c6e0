//! EventBridge rules, whichever event asks for them (`schedule`, `eventBridge`,
//! `cloudwatchEvent`): one typed property struct, the live reader and apply, written once.
//!
//! A rule on the default bus is named by its rule name alone; a rule on another bus by
//! `{bus}/{rule}` (rule names cannot hold a `/`). Rules are found three ways, and kept only when
//! their tags say they are this service's (rules are not in every Resource Groups Tagging API,
//! and a name alone could match another service whose name continues ours):
//!
//! - by the service's name prefix on the default bus (`ListRules`), as schedules are named;
//! - by the same prefix on each event bus the service created (found by its tags);
//! - by name, for the rules the deploy state records (a rule with its own `name`, or on a bus
//!   the service does not own, has neither the prefix nor a bus of ours).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use aws_sdk_eventbridge::types::{
    DeadLetterConfig, InputTransformer, RetryPolicy, Rule, RuleState, Tag, Target,
};
use aws_sdk_eventbridge::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::kinds::{TagChange, Typed};
use super::super::naming::{self, kind, RULE_NAME_LIMIT};
use super::{attribute, call_error, concurrently, owned, Site};
use crate::plan::{Action, Live, Properties, ResourceId, Step};
use crate::provider::ProviderError;

/// The prefix every rule of the service starts with (as far as [`naming::fit`] keeps it).
pub fn name_prefix(service: &str, stage: &str) -> String {
    let prefix = format!("{}-", naming::prefix(service, stage));
    prefix.chars().take(RULE_NAME_LIMIT - 9).collect()
}

/// The resource id of rule `name` on `bus` (`None` for the default bus).
pub fn rule_id(bus: Option<&str>, name: &str) -> ResourceId {
    match bus {
        Some(bus) => naming::id(kind::RULE, format!("{bus}/{name}")),
        None => naming::id(kind::RULE, name),
    }
}

/// The bus and the rule name of a rule resource's name.
pub fn split_rule_name(resource: &str) -> (Option<&str>, &str) {
    match resource.split_once('/') {
        Some((bus, name)) => (Some(bus), name),
        None => (None, resource),
    }
}

/// A bus as AWS names it in a rule: `None` for the default bus.
fn bus_of(name: Option<&str>) -> Option<String> {
    name.filter(|n| !n.is_empty() && *n != "default")
        .map(str::to_string)
}

/// A rule's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleProperties {
    /// The bus's name; null for the default bus.
    pub event_bus: Option<String>,
    pub schedule_expression: Option<String>,
    /// The event pattern as JSON (not text, so key order and spacing do not count).
    pub event_pattern: Json,
    /// `ENABLED` or `DISABLED`.
    pub state: Option<String>,
    pub description: Json,
    pub targets: Vec<RuleTarget>,
    pub tags: BTreeMap<String, String>,
}

impl Typed for RuleProperties {}

/// One target of a rule: the function it invokes, with what the event says it gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleTarget {
    pub id: Option<String>,
    /// The function's ARN; a reference to the function until apply.
    pub arn: Json,
    /// The JSON text the function gets, null for EventBridge's own event.
    pub input: Json,
    /// The JSON path of the part of the event the function gets.
    pub input_path: Json,
    /// `{input_paths_map, input_template}`, or null.
    pub input_transformer: Json,
    /// `{maximum_retry_attempts, maximum_event_age_in_seconds}`, or null.
    pub retry_policy: Json,
    /// The queue that gets the events the function could not take.
    pub dead_letter_arn: Json,
}

impl RuleTarget {
    /// A target that invokes `arn` with EventBridge's own event.
    pub fn plain(id: String, arn: Json) -> RuleTarget {
        RuleTarget {
            id: Some(id),
            arn,
            input: Json::Null,
            input_path: Json::Null,
            input_transformer: Json::Null,
            retry_policy: Json::Null,
            dead_letter_arn: Json::Null,
        }
    }
}

/// A target id: at most 64 of `[.-_A-Za-z0-9]`.
pub fn target_id(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    naming::fit(cleaned, RULE_NAME_LIMIT)
}

/// The service's rules with their targets: on the default bus and on `buses` (the service's
/// own) by the name prefix, and the `recorded` rule resources by name.
pub async fn live(
    client: &Client,
    site: &Site,
    buses: &[String],
    recorded: &BTreeSet<String>,
) -> Result<Vec<Live>, ProviderError> {
    let prefix = name_prefix(&site.service, &site.stage);
    let mut candidates: Vec<Rule> = Vec::new();
    let mut places: Vec<Option<&str>> = vec![None];
    places.extend(buses.iter().map(|b| Some(b.as_str())));
    for bus in places {
        let mut token = None;
        loop {
            let page = client
                .list_rules()
                .name_prefix(&prefix)
                .set_event_bus_name(bus.map(str::to_string))
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| call_error("events:ListRules", &prefix, &e))?;
            candidates.extend(page.rules().iter().cloned());
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    let listed: BTreeSet<String> = candidates
        .iter()
        .filter_map(|rule| {
            let id = rule_id(bus_of(rule.event_bus_name()).as_deref(), rule.name()?);
            Some(id.name)
        })
        .collect();
    for resource in recorded.difference(&listed) {
        let (bus, name) = split_rule_name(resource);
        match client
            .describe_rule()
            .name(name)
            .set_event_bus_name(bus.map(str::to_string))
            .send()
            .await
        {
            Ok(found) => candidates.push(
                Rule::builder()
                    .set_name(found.name().map(str::to_string))
                    .set_arn(found.arn().map(str::to_string))
                    .set_event_bus_name(found.event_bus_name().map(str::to_string))
                    .set_event_pattern(found.event_pattern().map(str::to_string))
                    .set_schedule_expression(found.schedule_expression().map(str::to_string))
                    .set_state(found.state().cloned())
                    .set_description(found.description().map(str::to_string))
                    .build(),
            ),
            Err(e) if e.code() == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(call_error("events:DescribeRule", resource, &e)),
        }
    }
    let reads = candidates
        .into_iter()
        .map(|rule| read_rule(client.clone(), site.clone(), rule));
    let mut found = Vec::new();
    for result in concurrently(reads).await {
        found.extend(result?);
    }
    Ok(found)
}

/// One listed rule with its tags and targets, when it is the service's.
async fn read_rule(client: Client, site: Site, rule: Rule) -> Result<Option<Live>, ProviderError> {
    let (Some(name), Some(arn)) = (rule.name(), rule.arn()) else {
        return Ok(None);
    };
    let bus = bus_of(rule.event_bus_name());
    let (tags, targets) = tokio::join!(
        client.list_tags_for_resource().resource_arn(arn).send(),
        client
            .list_targets_by_rule()
            .rule(name)
            .set_event_bus_name(bus.clone())
            .send(),
    );
    let tags = tags.map_err(|e| call_error("events:ListTagsForResource", name, &e))?;
    let tags: BTreeMap<String, String> = tags
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    if !owned(&tags, &site.service, &site.stage) {
        return Ok(None);
    }
    let targets = targets.map_err(|e| call_error("events:ListTargetsByRule", name, &e))?;
    let mut depends_on = BTreeSet::new();
    if let Some(bus) = &bus {
        depends_on.insert(naming::id(kind::EVENT_BUS, bus));
    }
    let targets: Vec<RuleTarget> = targets
        .targets()
        .iter()
        .map(|target| {
            if let Some(function) = super::function_name_of(target.arn()) {
                depends_on.insert(naming::id(kind::FUNCTION, function));
            }
            live_target(target)
        })
        .collect();
    let properties = RuleProperties {
        event_bus: bus.clone(),
        schedule_expression: rule.schedule_expression().map(str::to_string),
        event_pattern: rule
            .event_pattern()
            .map(|text| serde_json::from_str(text).unwrap_or_else(|_| json!(text)))
            .unwrap_or(Json::Null),
        state: rule.state().map(|s| s.as_str().to_string()),
        description: json!(rule.description()),
        targets,
        tags,
    };
    Ok(Some(Live {
        id: rule_id(bus.as_deref(), name),
        properties: properties.to_properties(),
        attributes: Properties::from([("arn".to_string(), json!(arn))]),
        depends_on,
    }))
}

fn live_target(target: &Target) -> RuleTarget {
    let input_transformer = target.input_transformer().map(|transformer| {
        let paths = transformer
            .input_paths_map()
            .filter(|map| !map.is_empty())
            .map(|map| json!(map.iter().collect::<BTreeMap<_, _>>()))
            .unwrap_or(Json::Null);
        json!({"input_paths_map": paths, "input_template": transformer.input_template()})
    });
    let retry_policy = target.retry_policy().map(|policy| {
        json!({
            "maximum_retry_attempts": policy.maximum_retry_attempts(),
            "maximum_event_age_in_seconds": policy.maximum_event_age_in_seconds(),
        })
    });
    RuleTarget {
        id: Some(target.id().to_string()),
        arn: json!(target.arn()),
        input: json!(target.input()),
        input_path: json!(target.input_path()),
        input_transformer: input_transformer.unwrap_or(Json::Null),
        retry_policy: retry_policy.unwrap_or(Json::Null),
        dead_letter_arn: json!(target.dead_letter_config().and_then(DeadLetterConfig::arn)),
    }
}

fn built_target(target: &RuleTarget, id: &ResourceId) -> Result<Target, ProviderError> {
    let internal = |message: String| ProviderError::Internal {
        resource: id.clone(),
        message,
    };
    let text = |value: &Json| value.as_str().map(str::to_string);
    let transformer = match &target.input_transformer {
        Json::Object(settings) => {
            let paths = settings
                .get("input_paths_map")
                .and_then(Json::as_object)
                .map(|map| {
                    map.iter()
                        .map(|(key, value)| (key.clone(), value.as_str().unwrap_or("").to_string()))
                        .collect()
                });
            Some(
                InputTransformer::builder()
                    .set_input_paths_map(paths)
                    .set_input_template(settings.get("input_template").and_then(text))
                    .build()
                    .map_err(|e| internal(e.to_string()))?,
            )
        }
        _ => None,
    };
    let number = |value: &Json, key: &str| {
        value
            .get(key)
            .and_then(Json::as_i64)
            .and_then(|n| i32::try_from(n).ok())
    };
    let retry = match &target.retry_policy {
        policy @ Json::Object(_) => Some(
            RetryPolicy::builder()
                .set_maximum_retry_attempts(number(policy, "maximum_retry_attempts"))
                .set_maximum_event_age_in_seconds(number(policy, "maximum_event_age_in_seconds"))
                .build(),
        ),
        _ => None,
    };
    Target::builder()
        .set_id(target.id.clone())
        .set_arn(text(&target.arn))
        .set_input(text(&target.input))
        .set_input_path(text(&target.input_path))
        .set_input_transformer(transformer)
        .set_retry_policy(retry)
        .set_dead_letter_config(
            text(&target.dead_letter_arn).map(|arn| DeadLetterConfig::builder().arn(arn).build()),
        )
        .build()
        .map_err(|e| internal(e.to_string()))
}

pub async fn apply(
    client: &Client,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let (bus, name) = split_rule_name(&step.id.name);
    let (bus, name) = (bus.map(str::to_string), name.to_string());
    let live = step.live.as_ref();
    let current = RuleProperties::live_of(step)?;
    let live_target_ids: Vec<String> = current
        .as_ref()
        .map(|c| c.targets.iter().filter_map(|t| t.id.clone()).collect())
        .unwrap_or_default();
    if step.action == Action::Delete {
        remove_targets(client, bus.as_deref(), &name, live_target_ids).await?;
        return match client
            .delete_rule()
            .name(&name)
            .set_event_bus_name(bus)
            .send()
            .await
        {
            Ok(_) => Ok(Properties::new()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(Properties::new()),
            Err(e) => Err(call_error("events:DeleteRule", &name, &e)),
        };
    }
    let wanted = RuleProperties::from_properties(properties, &step.id)?;
    let state = RuleState::from(wanted.state.as_deref().unwrap_or("ENABLED"));
    let pattern = match &wanted.event_pattern {
        Json::Null => None,
        Json::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    };
    let mut put = client
        .put_rule()
        .name(&name)
        .set_event_bus_name(bus.clone())
        .set_schedule_expression(wanted.schedule_expression.clone())
        .set_event_pattern(pattern)
        .state(state)
        .set_description(wanted.description.as_str().map(str::to_string));
    let creating = live.is_none();
    if creating {
        put = put.set_tags(Some(tags(&wanted.tags)?));
    }
    let arn = put
        .send()
        .await
        .map_err(|e| call_error("events:PutRule", &name, &e))?
        .rule_arn()
        .map(str::to_string)
        .or_else(|| attribute(live, "arn"))
        .unwrap_or_default();
    if let Some(current) = &current {
        let (arn, name) = (&arn, &name);
        TagChange::between(&current.tags, &wanted.tags)
            .send(
                |remove| async move {
                    client
                        .untag_resource()
                        .resource_arn(arn)
                        .set_tag_keys(Some(remove))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| call_error("events:UntagResource", name, &e))
                },
                |set| async move {
                    client
                        .tag_resource()
                        .resource_arn(arn)
                        .set_tags(Some(tags(&set)?))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| call_error("events:TagResource", name, &e))
                },
            )
            .await?;
    }
    let targets = wanted
        .targets
        .iter()
        .map(|target| built_target(target, &step.id))
        .collect::<Result<Vec<_>, _>>()?;
    let wanted_ids: BTreeSet<&str> = wanted
        .targets
        .iter()
        .filter_map(|t| t.id.as_deref())
        .collect();
    let stale = live_target_ids
        .into_iter()
        .filter(|id| !wanted_ids.contains(id.as_str()))
        .collect();
    remove_targets(client, bus.as_deref(), &name, stale).await?;
    let put = client
        .put_targets()
        .rule(&name)
        .set_event_bus_name(bus)
        .set_targets(Some(targets))
        .send()
        .await
        .map_err(|e| call_error("events:PutTargets", &name, &e))?;
    if put.failed_entry_count() > 0 {
        let reasons: Vec<String> = put
            .failed_entries()
            .iter()
            .map(|f| f.error_message().unwrap_or_default().to_string())
            .collect();
        return Err(ProviderError::Call {
            operation: "events:PutTargets".to_string(),
            resource: name,
            message: reasons.join("; "),
            help: "run the command again: it continues from where it stopped".to_string(),
        });
    }
    Ok(Properties::from([("arn".to_string(), json!(arn))]))
}

async fn remove_targets(
    client: &Client,
    bus: Option<&str>,
    rule: &str,
    ids: Vec<String>,
) -> Result<(), ProviderError> {
    if ids.is_empty() {
        return Ok(());
    }
    match client
        .remove_targets()
        .rule(rule)
        .set_event_bus_name(bus.map(str::to_string))
        .set_ids(Some(ids))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(()),
        Err(e) => Err(call_error("events:RemoveTargets", rule, &e)),
    }
}

/// Tags as EventBridge takes them.
pub fn tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    tags.iter()
        .map(|(key, value)| {
            Tag::builder()
                .key(key)
                .value(value)
                .build()
                .map_err(|e| ProviderError::Internal {
                    resource: naming::id(kind::RULE, ""),
                    message: e.to_string(),
                })
        })
        .collect()
}
