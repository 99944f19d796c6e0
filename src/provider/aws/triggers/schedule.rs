//! `schedule` events (and `eventBridge` events with a `schedule`): one EventBridge rule per
//! expression, named `{service}-{stage}-{function}-schedule-{n}` (cut to EventBridge's 64
//! characters), with the function as its one target and `input` as the target's input, plus
//! the permission for EventBridge to invoke the function.
//!
//! Rules are found by their name prefix (`ListRules`), and kept only when their tags say they
//! are this service's: EventBridge rules are not in every Resource Groups Tagging API, and the
//! name alone could match another service whose name continues ours.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use aws_sdk_eventbridge::types::{RuleState, Tag, Target};
use aws_sdk_eventbridge::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::kinds::{TagChange, Typed};
use super::super::naming::{self, kind, rule_name, RULE_NAME_LIMIT};
use super::permission::{self, Grant};
use super::{
    attribute, call_error, concurrently, owned, refuse_settings, settings, EventContext,
    FunctionEvent, Site,
};
use crate::manifest::model::Trigger;
use crate::plan::{Action, Desired, Live, Properties, Reference, Step};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

/// The prefix every rule of the service starts with (as far as [`naming::fit`] keeps it).
fn name_prefix(service: &str, stage: &str) -> String {
    let prefix = format!("{}-", naming::prefix(service, stage));
    prefix.chars().take(RULE_NAME_LIMIT - 9).collect()
}

/// Settings of a schedule updraft does not deploy yet.
const UNSUPPORTED: &[&str] = &[
    "inputPath",
    "inputTransformer",
    "name",
    "method",
    "timezone",
];

pub fn desired(
    context: &Context<'_>,
    events: &[FunctionEvent],
) -> Result<Vec<Desired>, ProviderError> {
    let mut resources = Vec::new();
    for FunctionEvent {
        function,
        event,
        number,
    } in events
    {
        let Trigger::Schedule {
            expression,
            input,
            enabled,
        } = &event.trigger
        else {
            continue;
        };
        let event_settings = settings(event);
        refuse_settings(
            function,
            event,
            UNSUPPORTED,
            "updraft deploys a schedule's `rate`, `input`, `enabled` and `description`; \
             remove this setting or deploy the function with the Serverless Framework",
        )?;
        let name = rule_name(
            &context.service.name,
            &context.stage,
            &function.key,
            *number,
        );
        let function_id = context.function_id(function)?;
        let input = match input {
            None | Some(Json::Null) => Json::Null,
            Some(Json::String(text)) => json!(text),
            Some(other) => json!(other.to_string()),
        };
        let target_id = target_id(&function.key, *number);
        let id = naming::id(kind::RULE, &name);
        let properties = RuleProperties {
            schedule_expression: Some(expression.clone()),
            state: Some(if *enabled { "ENABLED" } else { "DISABLED" }.to_string()),
            description: event_settings
                .and_then(|s| s.get("description"))
                .cloned()
                .unwrap_or(Json::Null),
            targets: vec![RuleTarget {
                id: Some(target_id),
                arn: context.function_arn(function)?,
                input,
            }],
            tags: context.tags.clone(),
        };
        resources.push(Desired {
            id: id.clone(),
            properties: properties.to_properties(),
            inputs: Properties::new(),
            depends_on: BTreeSet::from([function_id.clone()]),
            replace_when: BTreeSet::new(),
        });
        resources.push(permission::desired(Grant {
            function: function_id,
            statement_id: permission::statement_id(&format!("schedule-{number}")),
            principal: "events.amazonaws.com",
            source_arn: Reference::new(id.clone(), "arn").to_json(),
            source: Some(id),
        }));
    }
    Ok(resources)
}

/// A target id: at most 64 of `[.-_A-Za-z0-9]`.
fn target_id(function_key: &str, number: usize) -> String {
    let cleaned: String = format!("{function_key}-schedule-{number}")
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

/// The service's rules with their targets.
pub async fn live(client: &Client, site: &Site) -> Result<Vec<Live>, ProviderError> {
    let prefix = name_prefix(&site.service, &site.stage);
    let mut candidates = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_rules()
            .name_prefix(&prefix)
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
    let reads = candidates.into_iter().map(|rule| {
        let client = client.clone();
        let site = site.clone();
        async move {
            let (Some(name), Some(arn)) = (rule.name(), rule.arn()) else {
                return Ok::<_, ProviderError>(None);
            };
            let (tags, targets) = tokio::join!(
                client.list_tags_for_resource().resource_arn(arn).send(),
                client.list_targets_by_rule().rule(name).send(),
            );
            let tags = tags.map_err(|e| call_error("events:ListTagsForResource", name, &e))?;
            let tags: Vec<(String, String)> = tags
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            if !owned(tags.iter().map(|(k, v)| (k, v)), &site.service, &site.stage) {
                return Ok(None);
            }
            let targets = targets.map_err(|e| call_error("events:ListTargetsByRule", name, &e))?;
            let mut depends_on = BTreeSet::new();
            let targets: Vec<RuleTarget> = targets
                .targets()
                .iter()
                .map(|target| {
                    if let Some(function) = super::function_name_of(target.arn()) {
                        depends_on.insert(naming::id(kind::FUNCTION, function));
                    }
                    RuleTarget {
                        id: Some(target.id().to_string()),
                        arn: json!(target.arn()),
                        input: json!(target.input()),
                    }
                })
                .collect();
            let properties = RuleProperties {
                schedule_expression: rule.schedule_expression().map(str::to_string),
                state: rule.state().map(|s| s.as_str().to_string()),
                description: json!(rule.description()),
                targets,
                tags: tags.into_iter().collect(),
            };
            Ok(Some(Live {
                id: naming::id(kind::RULE, name),
                properties: properties.to_properties(),
                attributes: Properties::from([("arn".to_string(), json!(arn))]),
                depends_on,
            }))
        }
    });
    let mut found = Vec::new();
    for result in concurrently(reads).await {
        found.extend(result?);
    }
    Ok(found)
}

/// A schedule rule's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleProperties {
    pub schedule_expression: Option<String>,
    /// `ENABLED` or `DISABLED`.
    pub state: Option<String>,
    pub description: Json,
    pub targets: Vec<RuleTarget>,
    pub tags: BTreeMap<String, String>,
}

impl Typed for RuleProperties {}

/// One target of a rule: the function it invokes, with the event's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleTarget {
    pub id: Option<String>,
    /// The function's ARN; a reference to the function until apply.
    pub arn: Json,
    /// The JSON text the function gets, null for EventBridge's own event.
    pub input: Json,
}

pub async fn apply(
    client: &Client,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let name = step.id.name.clone();
    let live = step.live.as_ref();
    let current = RuleProperties::live_of(step)?;
    let live_target_ids: Vec<String> = current
        .as_ref()
        .map(|c| c.targets.iter().filter_map(|t| t.id.clone()).collect())
        .unwrap_or_default();
    if step.action == Action::Delete {
        remove_targets(client, &name, live_target_ids).await?;
        return match client.delete_rule().name(&name).send().await {
            Ok(_) => Ok(Properties::new()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(Properties::new()),
            Err(e) => Err(call_error("events:DeleteRule", &name, &e)),
        };
    }
    let wanted = RuleProperties::from_properties(properties, &step.id)?;
    let state = RuleState::from(wanted.state.as_deref().unwrap_or("ENABLED"));
    let mut put = client
        .put_rule()
        .name(&name)
        .set_schedule_expression(wanted.schedule_expression.clone())
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
    let mut targets = Vec::new();
    for target in &wanted.targets {
        let built = Target::builder()
            .set_id(target.id.clone())
            .set_arn(target.arn.as_str().map(str::to_string))
            .set_input(target.input.as_str().map(str::to_string))
            .build()
            .map_err(|e| ProviderError::Internal {
                resource: step.id.clone(),
                message: e.to_string(),
            })?;
        targets.push(built);
    }
    let wanted_ids: BTreeSet<&str> = wanted
        .targets
        .iter()
        .filter_map(|t| t.id.as_deref())
        .collect();
    let stale = live_target_ids
        .into_iter()
        .filter(|id| !wanted_ids.contains(id.as_str()))
        .collect();
    remove_targets(client, &name, stale).await?;
    let put = client
        .put_targets()
        .rule(&name)
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
    rule: &str,
    ids: Vec<String>,
) -> Result<(), ProviderError> {
    if ids.is_empty() {
        return Ok(());
    }
    match client
        .remove_targets()
        .rule(rule)
        .set_ids(Some(ids))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(()),
        Err(e) => Err(call_error("events:RemoveTargets", rule, &e)),
    }
}

fn tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aws::triggers::test_support::{find, names, Fixture};

    #[test]
    fn each_rate_is_a_rule_numbered_per_function_with_its_input_as_json_text() {
        let fixture = Fixture::new(json!({
            "service": "shop",
            "provider": {"name": "aws"},
            "functions": {"report": {"handler": "h.report", "events": [
                {"schedule": {"rate": ["rate(5 minutes)", "cron(0 12 * * ? *)"],
                              "input": {"source": "schedule"}}},
                {"schedule": {"rate": "rate(1 hour)", "enabled": false}},
            ]}},
        }));
        let resources = fixture.desired().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            names(&resources, kind::RULE),
            [
                "shop-dev-report-schedule-1",
                "shop-dev-report-schedule-2",
                "shop-dev-report-schedule-3"
            ]
        );
        let first = find(&resources, kind::RULE, "shop-dev-report-schedule-1");
        assert_eq!(
            first.properties["schedule_expression"],
            json!("rate(5 minutes)")
        );
        assert_eq!(
            first.properties["targets"][0]["input"],
            json!(r#"{"source":"schedule"}"#)
        );
        let third = find(&resources, kind::RULE, "shop-dev-report-schedule-3");
        assert_eq!(third.properties["state"], json!("DISABLED"));
        let permission = find(
            &resources,
            kind::PERMISSION,
            "shop-dev-report/updraft-event-schedule-2",
        );
        assert_eq!(
            permission.properties["principal"],
            json!("events.amazonaws.com")
        );
    }

    #[test]
    fn a_long_rule_name_is_cut_to_64_characters_and_stays_unique() {
        let long = "f".repeat(70);
        let a = rule_name("shop", "dev", &long, 1);
        let b = rule_name("shop", "dev", &long, 2);
        assert!(a.len() <= 64 && b.len() <= 64);
        assert_ne!(a, b);
        assert!(a.starts_with(&name_prefix("shop", "dev")));
    }

    #[test]
    fn an_input_transformer_is_refused_with_the_event_place() {
        let fixture = Fixture::new(json!({
            "service": "shop",
            "provider": {"name": "aws"},
            "functions": {"report": {"handler": "h.report", "events": [
                {"schedule": {"rate": "rate(1 hour)", "inputTransformer": {"inputTemplate": "x"}}},
            ]}},
        }));
        match fixture.desired() {
            Err(ProviderError::Unsupported { what, span, .. }) => {
                assert!(
                    what.contains("inputTransformer") && what.contains("report"),
                    "{what}"
                );
                assert!(span.is_some());
            }
            other => panic!("expected unsupported, got {other:?}"),
        }
    }
}
