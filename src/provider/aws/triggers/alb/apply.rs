//! Creating, changing and deleting the `alb` resources. The listener and its load balancer are
//! never changed: a rule is created on, changed on and deleted from the listener it names. A
//! function is registered only once the load balancer may invoke it (the registration step
//! comes after the permission's), and a new permission may take a moment to reach ELB.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata;
use aws_sdk_elasticloadbalancingv2::types::{
    Action as RuleAction, ActionTypeEnum, Matcher, Rule, RulePriorityPair, Tag, TargetDescription,
    TargetGroupAttribute, TargetTypeEnum,
};
use aws_sdk_elasticloadbalancingv2::Client;
use serde_json::json;

use super::super::super::kinds::{TagChange, Typed};
use super::super::super::naming::kind;
use super::super::{attribute, call_error};
use super::conditions::RuleConditions;
use super::live::MULTI_VALUE_HEADERS;
use super::{ListenerRuleProperties, TargetGroupProperties, TargetProperties};
use crate::plan::{Action, Properties, Step};
use crate::provider::ProviderError;

pub async fn apply(
    client: &Client,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    match step.id.kind.as_str() {
        kind::TARGET_GROUP => apply_group(client, step, properties).await,
        kind::TARGET => apply_target(client, step, properties).await,
        _ => apply_rule(client, step, properties).await,
    }
}

async fn apply_group(
    client: &Client,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let name = step.id.name.as_str();
    let mut live_arn = attribute(step.live.as_ref(), "arn");
    // A replaced group is deleted first: the new one takes its name.
    if let Some(arn) = live_arn.take_if(|_| matches!(step.action, Action::Delete | Action::Replace))
    {
        match client
            .delete_target_group()
            .target_group_arn(&arn)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if e.code() == Some("TargetGroupNotFound") => {}
            Err(e) => {
                return Err(call_error(
                    "elasticloadbalancing:DeleteTargetGroup",
                    name,
                    &e,
                ))
            }
        }
    }
    if step.action == Action::Delete {
        return Ok(Properties::new());
    }
    let wanted = TargetGroupProperties::from_properties(properties, &step.id)?;
    let check = &wanted.health_check;
    let matcher = check
        .matcher
        .as_ref()
        .map(|code| Matcher::builder().http_code(code).build());
    let arn = match live_arn {
        Some(arn) => arn,
        None => {
            let created = client
                .create_target_group()
                .name(name)
                .target_type(TargetTypeEnum::Lambda)
                .health_check_enabled(check.enabled)
                .set_health_check_path(check.path.clone())
                .set_health_check_interval_seconds(check.interval_seconds)
                .set_health_check_timeout_seconds(check.timeout_seconds)
                .set_healthy_threshold_count(check.healthy_threshold)
                .set_unhealthy_threshold_count(check.unhealthy_threshold)
                .set_matcher(matcher.clone())
                .set_tags(Some(tags(&wanted.tags)))
                .send()
                .await;
            match created {
                Ok(answer) => answer
                    .target_groups()
                    .first()
                    .and_then(|g| g.target_group_arn())
                    .map(str::to_string)
                    .unwrap_or_default(),
                // Left by a deploy that stopped before it read the group back: the tagged
                // group is the service's, adopted below.
                Err(e) if e.code() == Some("DuplicateTargetGroupName") => {
                    let found = client
                        .describe_target_groups()
                        .names(name)
                        .send()
                        .await
                        .map_err(|e| {
                            call_error("elasticloadbalancing:DescribeTargetGroups", name, &e)
                        })?;
                    let arn = found
                        .target_groups()
                        .first()
                        .and_then(|g| g.target_group_arn())
                        .map(str::to_string)
                        .unwrap_or_default();
                    retag(client, &arn, &BTreeMap::new(), &wanted.tags, name).await?;
                    arn
                }
                Err(e) => {
                    return Err(call_error(
                        "elasticloadbalancing:CreateTargetGroup",
                        name,
                        &e,
                    ))
                }
            }
        }
    };
    let current = TargetGroupProperties::live_of(step)?.filter(|_| step.action == Action::Update);
    if let Some(current) = current {
        if current.health_check != wanted.health_check {
            client
                .modify_target_group()
                .target_group_arn(&arn)
                .health_check_enabled(check.enabled)
                .set_health_check_path(check.path.clone())
                .set_health_check_interval_seconds(check.interval_seconds)
                .set_health_check_timeout_seconds(check.timeout_seconds)
                .set_healthy_threshold_count(check.healthy_threshold)
                .set_unhealthy_threshold_count(check.unhealthy_threshold)
                .set_matcher(matcher)
                .send()
                .await
                .map_err(|e| call_error("elasticloadbalancing:ModifyTargetGroup", name, &e))?;
        }
        retag(client, &arn, &current.tags, &wanted.tags, name).await?;
    }
    client
        .modify_target_group_attributes()
        .target_group_arn(&arn)
        .attributes(
            TargetGroupAttribute::builder()
                .key(MULTI_VALUE_HEADERS)
                .value(wanted.multi_value_headers.to_string())
                .build(),
        )
        .send()
        .await
        .map_err(|e| call_error("elasticloadbalancing:ModifyTargetGroupAttributes", name, &e))?;
    Ok(Properties::from([("arn".to_string(), json!(arn))]))
}

async fn apply_target(
    client: &Client,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let name = step.id.name.as_str();
    if let Some(current) =
        TargetProperties::live_of(step)?.filter(|_| step.action != Action::Create)
    {
        let (Some(group), Some(function)) = (
            current.target_group_arn.as_str(),
            current.function_arn.as_str(),
        ) else {
            return Ok(Properties::new());
        };
        match client
            .deregister_targets()
            .target_group_arn(group)
            .targets(TargetDescription::builder().id(function).build())
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if matches!(e.code(), Some("TargetGroupNotFound" | "InvalidTarget")) => {}
            Err(e) => {
                return Err(call_error(
                    "elasticloadbalancing:DeregisterTargets",
                    name,
                    &e,
                ))
            }
        }
    }
    if step.action == Action::Delete {
        return Ok(Properties::new());
    }
    let wanted = TargetProperties::from_properties(properties, &step.id)?;
    let group = wanted.target_group_arn.as_str().unwrap_or_default();
    let function = wanted.function_arn.as_str().unwrap_or_default();
    // A new permission takes a moment to reach ELB, which checks it on registration.
    let mut attempt = 0;
    loop {
        attempt += 1;
        match client
            .register_targets()
            .target_group_arn(group)
            .targets(TargetDescription::builder().id(function).build())
            .send()
            .await
        {
            Ok(_) => return Ok(Properties::new()),
            Err(e) if e.code() == Some("AccessDenied") && attempt < 6 => {
                tokio::time::sleep(Duration::from_secs(2)).await
            }
            Err(e) => return Err(call_error("elasticloadbalancing:RegisterTargets", name, &e)),
        }
    }
}

async fn apply_rule(
    client: &Client,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let name = step.id.name.as_str();
    let live_arn = attribute(step.live.as_ref(), "arn");
    if let Some(arn) = live_arn
        .as_ref()
        .filter(|_| matches!(step.action, Action::Delete | Action::Replace))
    {
        match client.delete_rule().rule_arn(arn).send().await {
            Ok(_) => {}
            Err(e) if e.code() == Some("RuleNotFound") => {}
            Err(e) => return Err(call_error("elasticloadbalancing:DeleteRule", name, &e)),
        }
    }
    if step.action == Action::Delete {
        return Ok(Properties::new());
    }
    let wanted = ListenerRuleProperties::from_properties(properties, &step.id)?;
    let forward = RuleAction::builder()
        .r#type(ActionTypeEnum::Forward)
        .set_target_group_arn(wanted.target_group_arn.as_str().map(str::to_string))
        .build();
    let priority = i32::try_from(wanted.priority).unwrap_or(i32::MAX);
    let current = ListenerRuleProperties::live_of(step)?;
    let (Some(arn), Some(current)) = (live_arn.filter(|_| step.action == Action::Update), current)
    else {
        let created = client
            .create_rule()
            .listener_arn(wanted.listener_arn.as_str().unwrap_or_default())
            .priority(priority)
            .set_conditions(Some(wanted.conditions.to_rule()))
            .actions(forward)
            .set_tags(Some(tags(&wanted.tags)))
            .send()
            .await
            .map_err(|e| call_error("elasticloadbalancing:CreateRule", name, &e))?;
        let arn = created
            .rules()
            .first()
            .and_then(Rule::rule_arn)
            .unwrap_or_default();
        return Ok(Properties::from([("arn".to_string(), json!(arn))]));
    };
    if current.conditions != wanted.conditions
        || current.target_group_arn != wanted.target_group_arn
    {
        client
            .modify_rule()
            .rule_arn(&arn)
            .set_conditions(Some(wanted.conditions.to_rule()))
            .actions(forward)
            .send()
            .await
            .map_err(|e| call_error("elasticloadbalancing:ModifyRule", name, &e))?;
    }
    if current.priority != wanted.priority {
        client
            .set_rule_priorities()
            .rule_priorities(
                RulePriorityPair::builder()
                    .rule_arn(&arn)
                    .priority(priority)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| call_error("elasticloadbalancing:SetRulePriorities", name, &e))?;
    }
    retag(client, &arn, &current.tags, &wanted.tags, name).await?;
    Ok(Properties::from([("arn".to_string(), json!(arn))]))
}

async fn retag(
    client: &Client,
    arn: &str,
    live: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
    name: &str,
) -> Result<(), ProviderError> {
    TagChange::between(live, wanted)
        .send(
            |remove| async move {
                client
                    .remove_tags()
                    .resource_arns(arn)
                    .set_tag_keys(Some(remove))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| call_error("elasticloadbalancing:RemoveTags", name, &e))
            },
            |set| async move {
                client
                    .add_tags()
                    .resource_arns(arn)
                    .set_tags(Some(tags(&set)))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| call_error("elasticloadbalancing:AddTags", name, &e))
            },
        )
        .await
}

fn tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect()
}
