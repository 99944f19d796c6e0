//! The `alb` resources as they are: target groups are found by their ownership tags in the
//! tagging index, then described in batches (ELB takes at most 20 ARNs a call); a target
//! group's attributes and targets are read one group at a time, as ELB offers no listing of
//! them. Listener rules are found on the listeners of the load balancers that route to the
//! service's target groups (the tagging index does not hold listener rules everywhere), and
//! kept when they carry the ownership tags.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata;
use aws_sdk_elasticloadbalancingv2::types::{Matcher, Rule, TargetDescription};
use aws_sdk_elasticloadbalancingv2::Client;
use serde_json::json;

use super::super::super::kinds::Typed;
use super::super::super::naming::{self, kind};
use super::super::{call_error, concurrently, owned, Site};
use super::conditions::RuleConditions;
use super::{
    target_name, Conditions, HealthCheck, ListenerRuleProperties, TargetGroupProperties,
    TargetProperties, NAME_TAG,
};
use crate::plan::{Live, Properties};
use crate::provider::ProviderError;

pub const MULTI_VALUE_HEADERS: &str = "lambda.multi_value_headers.enabled";

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
