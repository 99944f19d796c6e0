//! The `alb` resources as they are, and the calls that change them: target groups are found by
//! their ownership tags in the tagging index, then described in batches (ELB takes at most 20
//! ARNs a call); a target group's attributes and targets are read one group at a time, as ELB
//! offers no listing of them. Listener rules are found on the listeners of the load balancers
//! that route to the service's target groups, and kept when they carry the ownership tags.
//!
//! The listener and its load balancer are never changed: a rule is created on, changed on and
//! deleted from the listener it names.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata;
use aws_sdk_elasticloadbalancingv2::types::{
    Action as RuleAction, ActionTypeEnum, Matcher, Rule, RulePriorityPair, Tag, TargetDescription,
    TargetGroupAttribute, TargetTypeEnum,
};
use aws_sdk_elasticloadbalancingv2::Client;
use serde_json::json;

use super::super::super::kinds::{TagChange, Typed};
use super::super::super::naming::{self, kind};
use super::super::{attribute, call_error, concurrently, owned, Site};
use super::{
    target_name, Conditions, HealthCheck, ListenerRuleProperties, TargetGroupProperties,
    TargetProperties, NAME_TAG,
};
use crate::plan::{Action, Live, Properties, Step};
use crate::provider::ProviderError;

const MULTI_VALUE_HEADERS: &str = "lambda.multi_value_headers.enabled";

/// ELB describes at most 20 resources a call.
const BATCH: usize = 20;

/// The service's target groups (with their registered functions) and listener rules, from the
/// tagged ARNs of the service.
pub async fn live(
    client: &Client,
    site: &Site,
    tagged: &[(String, BTreeMap<String, String>)],
) -> Result<Vec<Live>, ProviderError> {
    let mine = |part: &str| -> Vec<(String, BTreeMap<String, String>)> {
        tagged
            .iter()
            .filter(|(arn, tags)| arn.contains(part) && owned(tags, &site.service, &site.stage))
            .cloned()
            .collect()
    };
    let groups = mine(":targetgroup/");
    let mut found = Vec::new();
    let mut balancers: Vec<String> = Vec::new();
    let mut group_names: BTreeMap<String, String> = BTreeMap::new();
    for batch in groups.chunks(BATCH) {
        let arns: Vec<String> = batch.iter().map(|(arn, _)| arn.clone()).collect();
        let described = match client
            .describe_target_groups()
            .set_target_group_arns(Some(arns))
            .send()
            .await
        {
            Ok(answer) => answer.target_groups().to_vec(),
            // One of the batch is gone since the index was read: describe them one by one.
            Err(e) if e.code() == Some("TargetGroupNotFound") => {
                one_by_one_groups(client, batch).await?
            }
            Err(e) => {
                return Err(call_error(
                    "elasticloadbalancing:DescribeTargetGroups",
                    "",
                    &e,
                ))
            }
        };
        let reads = described.into_iter().filter_map(|group| {
            let arn = group.target_group_arn()?.to_string();
            let name = group.target_group_name()?.to_string();
            let tags = batch
                .iter()
                .find(|(tagged, _)| *tagged == arn)
                .map(|(_, tags)| tags.clone())
                .unwrap_or_default();
            group_names.insert(arn.clone(), name.clone());
            balancers.extend(group.load_balancer_arns().iter().cloned());
            let client = client.clone();
            Some(async move { read_group(&client, group, arn, name, tags).await })
        });
        for result in concurrently(reads.collect::<Vec<_>>()).await {
            found.extend(result?);
        }
    }
    let balancers: BTreeSet<String> = balancers.into_iter().collect();
    let rules = listener_rules(client, &balancers, &group_names).await?;
    for batch in rules.chunks(BATCH) {
        let arns: Vec<String> = batch
            .iter()
            .filter_map(|r| r.rule_arn())
            .map(str::to_string)
            .collect();
        let described = client
            .describe_tags()
            .set_resource_arns(Some(arns))
            .send()
            .await
            .map_err(|e| call_error("elasticloadbalancing:DescribeTags", "", &e))?;
        for rule in batch {
            let tags: BTreeMap<String, String> = described
                .tag_descriptions()
                .iter()
                .find(|d| d.resource_arn() == rule.rule_arn())
                .map(|d| {
                    d.tags()
                        .iter()
                        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            if owned(&tags, &site.service, &site.stage) {
                found.extend(live_rule(rule, tags, &group_names));
            }
        }
    }
    Ok(found)
}

async fn one_by_one_groups(
    client: &Client,
    batch: &[(String, BTreeMap<String, String>)],
) -> Result<Vec<aws_sdk_elasticloadbalancingv2::types::TargetGroup>, ProviderError> {
    let mut found = Vec::new();
    for (arn, _) in batch {
        match client
            .describe_target_groups()
            .target_group_arns(arn)
            .send()
            .await
        {
            Ok(answer) => found.extend(answer.target_groups().iter().cloned()),
            Err(e) if e.code() == Some("TargetGroupNotFound") => {}
            Err(e) => {
                return Err(call_error(
                    "elasticloadbalancing:DescribeTargetGroups",
                    arn,
                    &e,
                ))
            }
        }
    }
    Ok(found)
}

/// The rules, on every listener of `balancers`, that forward to one of the service's target
/// groups (`groups`, by ARN): the tagging index does not hold listener rules everywhere, and a
/// target group knows the load balancers that route to it.
async fn listener_rules(
    client: &Client,
    balancers: &BTreeSet<String>,
    groups: &BTreeMap<String, String>,
) -> Result<Vec<Rule>, ProviderError> {
    let mut found = Vec::new();
    for balancer in balancers {
        let mut listeners = Vec::new();
        let mut marker = None;
        loop {
            let page = match client
                .describe_listeners()
                .load_balancer_arn(balancer)
                .set_marker(marker)
                .send()
                .await
            {
                Ok(page) => page,
                Err(e) if e.code() == Some("LoadBalancerNotFound") => break,
                Err(e) => {
                    return Err(call_error(
                        "elasticloadbalancing:DescribeListeners",
                        balancer,
                        &e,
                    ))
                }
            };
            listeners.extend(
                page.listeners()
                    .iter()
                    .filter_map(|l| l.listener_arn())
                    .map(str::to_string),
            );
            marker = page.next_marker().map(str::to_string);
            if marker.is_none() {
                break;
            }
        }
        for listener in listeners {
            let mut marker = None;
            loop {
                let page = match client
                    .describe_rules()
                    .listener_arn(&listener)
                    .set_marker(marker)
                    .send()
                    .await
                {
                    Ok(page) => page,
                    Err(e) if e.code() == Some("ListenerNotFound") => break,
                    Err(e) => {
                        return Err(call_error(
                            "elasticloadbalancing:DescribeRules",
                            &listener,
                            &e,
                        ))
                    }
                };
                found.extend(
                    page.rules()
                        .iter()
                        .filter(|rule| !rule.is_default().unwrap_or(false))
                        .filter(|rule| {
                            forwarded_to(rule).is_some_and(|group| groups.contains_key(&group))
                        })
                        .cloned(),
                );
                marker = page.next_marker().map(str::to_string);
                if marker.is_none() {
                    break;
                }
            }
        }
    }
    Ok(found)
}

/// The target group a rule forwards to.
fn forwarded_to(rule: &Rule) -> Option<String> {
    rule.actions().iter().find_map(|action| {
        action.target_group_arn().map(str::to_string).or_else(|| {
            action
                .forward_config()?
                .target_groups()
                .first()?
                .target_group_arn()
                .map(str::to_string)
        })
    })
}

/// One target group with its attributes, and its registered functions.
async fn read_group(
    client: &Client,
    group: aws_sdk_elasticloadbalancingv2::types::TargetGroup,
    arn: String,
    name: String,
    tags: BTreeMap<String, String>,
) -> Result<Vec<Live>, ProviderError> {
    let (attributes, health) = tokio::join!(
        client
            .describe_target_group_attributes()
            .target_group_arn(&arn)
            .send(),
        client
            .describe_target_health()
            .target_group_arn(&arn)
            .send(),
    );
    let attributes = attributes.map_err(|e| {
        call_error(
            "elasticloadbalancing:DescribeTargetGroupAttributes",
            &name,
            &e,
        )
    })?;
    let multi_value_headers = attributes
        .attributes()
        .iter()
        .any(|a| a.key() == Some(MULTI_VALUE_HEADERS) && a.value() == Some("true"));
    let health_check = if group.health_check_enabled().unwrap_or(false) {
        HealthCheck {
            enabled: true,
            path: group.health_check_path().map(str::to_string),
            interval_seconds: group.health_check_interval_seconds(),
            timeout_seconds: group.health_check_timeout_seconds(),
            healthy_threshold: group.healthy_threshold_count(),
            unhealthy_threshold: group.unhealthy_threshold_count(),
            matcher: group
                .matcher()
                .and_then(Matcher::http_code)
                .map(str::to_string),
        }
    } else {
        HealthCheck::off()
    };
    let group_id = naming::id(kind::TARGET_GROUP, &name);
    let mut found = vec![Live {
        id: group_id.clone(),
        properties: TargetGroupProperties {
            target_type: group
                .target_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            multi_value_headers,
            health_check,
            tags,
        }
        .to_properties(),
        attributes: Properties::from([("arn".to_string(), json!(arn))]),
        depends_on: BTreeSet::new(),
    }];
    let health =
        health.map_err(|e| call_error("elasticloadbalancing:DescribeTargetHealth", &name, &e))?;
    for target in health.target_health_descriptions() {
        let Some(id) = target.target().and_then(TargetDescription::id) else {
            continue;
        };
        let Some(function) = super::super::function_name_of(id) else {
            continue;
        };
        found.push(Live {
            id: naming::id(kind::TARGET, target_name(&name, function)),
            properties: TargetProperties {
                target_group_arn: json!(arn),
                function_arn: json!(id),
            }
            .to_properties(),
            attributes: Properties::new(),
            depends_on: BTreeSet::from([group_id.clone(), naming::id(kind::FUNCTION, function)]),
        });
    }
    Ok(found)
}

/// A listener rule of the service, named by its [`NAME_TAG`].
fn live_rule(
    rule: &Rule,
    tags: BTreeMap<String, String>,
    group_names: &BTreeMap<String, String>,
) -> Option<Live> {
    let arn = rule.rule_arn()?;
    let name = tags.get(NAME_TAG)?.clone();
    let target_group = forwarded_to(rule);
    let mut depends_on = BTreeSet::new();
    if let Some(group) = target_group.as_ref().and_then(|arn| group_names.get(arn)) {
        depends_on.insert(naming::id(kind::TARGET_GROUP, group));
    }
    Some(Live {
        id: naming::id(kind::LISTENER_RULE, name),
        properties: ListenerRuleProperties {
            listener_arn: json!(listener_of_rule(arn)),
            priority: rule.priority().and_then(|p| p.parse().ok()).unwrap_or(0),
            conditions: Conditions::from_rule(rule.conditions()),
            target_group_arn: json!(target_group),
            tags,
        }
        .to_properties(),
        attributes: Properties::from([("arn".to_string(), json!(arn))]),
        depends_on,
    })
}

/// The listener a rule is on: its ARN without the rule's id
/// (`...:listener-rule/app/{lb}/{id}/{listener}/{rule}`).
pub fn listener_of_rule(rule_arn: &str) -> String {
    let listener = rule_arn.replacen(":listener-rule/", ":listener/", 1);
    match listener.rsplit_once('/') {
        Some((listener, _)) => listener.to_string(),
        None => listener,
    }
}

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
    let live_arn = attribute(step.live.as_ref(), "arn");
    if step.action == Action::Delete {
        let Some(arn) = live_arn else {
            return Ok(Properties::new());
        };
        return match client
            .delete_target_group()
            .target_group_arn(&arn)
            .send()
            .await
        {
            Ok(_) => Ok(Properties::new()),
            Err(e) if e.code() == Some("TargetGroupNotFound") => Ok(Properties::new()),
            Err(e) => Err(call_error(
                "elasticloadbalancing:DeleteTargetGroup",
                name,
                &e,
            )),
        };
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
    if let Some(current) = TargetGroupProperties::live_of(step)? {
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
