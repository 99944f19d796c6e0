//! `alb` events: an Application Load Balancer listener rule per event, forwarding to a target
//! group of type `lambda` that has the function as its one target. The listener (and its load
//! balancer) is the user's: given by ARN, or as a `Ref` to a `resources:` listener, and never
//! changed or deleted.
//!
//! Per function and load balancer there is one target group, named as the Framework names it:
//! the MD5 of `{service}-{function}-{load balancer id}-{stage}` (`multi-value-` before the stage
//! when `multiValueHeaders` is on), after `provider.alb.targetGroupPrefix`, cut to 32
//! characters; or the event's `targetGroupName`. The load balancer id is the one in the
//! listener's ARN, or the `Ref`'s logical id.
//!
//! A target must be allowed to be invoked before it is registered, so the registration is a
//! resource of its own ([`kind::TARGET`]) that comes after the Lambda permission (whose source
//! is the target group's ARN), which comes after the target group. Target groups and rules
//! carry the ownership tags, and rules also [`NAME_TAG`], their resource name, so the live
//! reader finds both through the tagging index ([`cloud`]).

use std::collections::{BTreeMap, BTreeSet};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::super::kinds::Typed;
use super::super::naming::{self, kind};
use super::permission::{self, Grant};
use super::{invalid, refuse_settings, settings, unsupported_setting, EventContext};
use super::{string_map, FunctionEvent};
use crate::manifest::model::{Event, Function};
use crate::plan::{Desired, Properties, Reference};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

mod cloud;
mod conditions;

pub use cloud::{apply, live};
pub use conditions::Conditions;

/// The tag that names a listener rule's resource (`{function name}/alb-{n}`).
pub const NAME_TAG: &str = "updraft:name";

/// Target group names are at most 32 characters.
const TARGET_GROUP_NAME_LIMIT: usize = 32;

/// A target group's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetGroupProperties {
    /// Always `lambda`.
    pub target_type: String,
    /// The `lambda.multi_value_headers.enabled` attribute.
    pub multi_value_headers: bool,
    pub health_check: HealthCheck,
    pub tags: BTreeMap<String, String>,
}

impl Typed for TargetGroupProperties {}

/// A target group's health check. When it is off, its settings are not compared (AWS keeps
/// its own defaults for them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub enabled: bool,
    pub path: Option<String>,
    pub interval_seconds: Option<i32>,
    pub timeout_seconds: Option<i32>,
    pub healthy_threshold: Option<i32>,
    pub unhealthy_threshold: Option<i32>,
    /// The HTTP codes that count as healthy (`200`, `200-299`).
    pub matcher: Option<String>,
}

impl HealthCheck {
    pub fn off() -> HealthCheck {
        HealthCheck {
            enabled: false,
            path: None,
            interval_seconds: None,
            timeout_seconds: None,
            healthy_threshold: None,
            unhealthy_threshold: None,
            matcher: None,
        }
    }
}

/// A function registered as a target group's target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetProperties {
    /// A reference to the target group until apply.
    pub target_group_arn: Json,
    /// A reference to the function until apply.
    pub function_arn: Json,
}

impl Typed for TargetProperties {}

/// A listener rule that forwards to a target group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerRuleProperties {
    /// The user's listener; a reference when it is a `resources:` listener.
    pub listener_arn: Json,
    pub priority: i64,
    pub conditions: Conditions,
    /// A reference to the target group until apply.
    pub target_group_arn: Json,
    pub tags: BTreeMap<String, String>,
}

impl Typed for ListenerRuleProperties {}

/// The resource name of a target's registration.
pub fn target_name(target_group: &str, function: &str) -> String {
    format!("{target_group}/{function}")
}

/// What the settings of one event say, before the resources are made.
struct AlbEvent<'a> {
    source: &'a FunctionEvent<'a>,
    /// What identifies the listener when comparing priorities.
    listener_key: String,
    listener: Json,
    depends_on: BTreeSet<crate::plan::ResourceId>,
    priority: i64,
    conditions: Conditions,
    multi_value_headers: bool,
    target_group: String,
}

pub fn desired(
    context: &Context<'_>,
    events: &[FunctionEvent],
) -> Result<Vec<Desired>, ProviderError> {
    let prefix = target_group_prefix(context)?;
    let mut parsed: Vec<AlbEvent> = Vec::new();
    for source in events {
        let event = read_event(context, source, &prefix)?;
        if let Some(taken) = parsed
            .iter()
            .find(|p| p.listener_key == event.listener_key && p.priority == event.priority)
        {
            return Err(invalid(
                source.function,
                source.event,
                format!(
                    "priority {} on listener `{}` is already the priority of the `alb` event {} \
                     of function `{}`",
                    event.priority,
                    event.listener_key,
                    taken.source.number,
                    taken.source.function.key
                ),
                "give each rule of a listener its own priority",
            ));
        }
        parsed.push(event);
    }
    let mut resources = Vec::new();
    let mut made: BTreeSet<String> = BTreeSet::new();
    for event in &parsed {
        let function = event.source.function;
        let function_id = context.function_id(function)?;
        let group_id = naming::id(kind::TARGET_GROUP, &event.target_group);
        let group_arn = Reference::new(group_id.clone(), "arn").to_json();
        if made.insert(event.target_group.clone()) {
            resources.extend(target_group_resources(context, event, &parsed)?);
        }
        let name = format!("{}/alb-{}", function_id.name, event.source.number);
        let mut tags = string_map(Some(&context.tags_json()));
        tags.insert(NAME_TAG.to_string(), name.clone());
        let mut depends_on = event.depends_on.clone();
        depends_on.insert(group_id);
        resources.push(Desired {
            id: naming::id(kind::LISTENER_RULE, name),
            properties: ListenerRuleProperties {
                listener_arn: event.listener.clone(),
                priority: event.priority,
                conditions: event.conditions.clone(),
                target_group_arn: group_arn,
                tags,
            }
            .to_properties(),
            inputs: Properties::new(),
            depends_on,
            replace_when: BTreeSet::from(["listener_arn".to_string()]),
        });
    }
    Ok(resources)
}

/// The target group of `event`, the permission for the load balancer to invoke the function
/// from it, and the function's registration.
fn target_group_resources(
    context: &Context<'_>,
    event: &AlbEvent,
    all: &[AlbEvent],
) -> Result<Vec<Desired>, ProviderError> {
    let source = event.source;
    let function_id = context.function_id(source.function)?;
    let group_id = naming::id(kind::TARGET_GROUP, &event.target_group);
    let group_arn = Reference::new(group_id.clone(), "arn").to_json();
    // The first event of the group that sets a health check decides it.
    let health_check = all
        .iter()
        .filter(|other| other.target_group == event.target_group)
        .find_map(|other| health_check(other.source).transpose())
        .transpose()?
        .unwrap_or_else(HealthCheck::off);
    let group = Desired {
        id: group_id.clone(),
        properties: TargetGroupProperties {
            target_type: "lambda".into(),
            multi_value_headers: event.multi_value_headers,
            health_check,
            tags: string_map(Some(&context.tags_json())),
        }
        .to_properties(),
        inputs: Properties::new(),
        depends_on: BTreeSet::new(),
        replace_when: BTreeSet::from(["target_type".to_string()]),
    };
    let grant = permission::desired(Grant {
        function: function_id.clone(),
        statement_id: permission::statement_id(&format!("alb-{}", event.target_group)),
        principal: "elasticloadbalancing.amazonaws.com".into(),
        source_arn: group_arn.clone(),
        source: Some(group_id.clone()),
    });
    let target_properties = TargetProperties {
        target_group_arn: group_arn,
        function_arn: context.function_arn(source.function)?,
    }
    .to_properties();
    let target = Desired {
        id: naming::id(
            kind::TARGET,
            target_name(&event.target_group, &function_id.name),
        ),
        replace_when: target_properties.keys().cloned().collect(),
        properties: target_properties,
        inputs: Properties::new(),
        // Registering a function needs the permission already in place.
        depends_on: BTreeSet::from([group_id, function_id, grant.id.clone()]),
    };
    Ok(vec![group, grant, target])
}

fn read_event<'a>(
    context: &Context<'_>,
    source: &'a FunctionEvent<'a>,
    prefix: &str,
) -> Result<AlbEvent<'a>, ProviderError> {
    let FunctionEvent {
        function, event, ..
    } = source;
    let written = settings(event);
    if written.is_some_and(|map| {
        map.contains_key("authorizer")
            || map.contains_key("authenticateCognito")
            || map.contains_key("authenticateOidc")
    }) {
        return Err(unsupported_setting(
            function,
            event,
            "authorizer",
            "updraft does not deploy ALB authentication (Cognito or OIDC) yet: remove the \
             authorizer, or deploy the function with the Serverless Framework",
        ));
    }
    let unknown: Vec<&str> = written
        .map(|map| {
            map.keys()
                .map(String::as_str)
                .filter(|key| {
                    !matches!(
                        *key,
                        "listenerArn"
                            | "priority"
                            | "conditions"
                            | "multiValueHeaders"
                            | "healthCheck"
                            | "targetGroupName"
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    refuse_settings(
        function,
        event,
        &unknown,
        "updraft deploys an alb event's `listenerArn`, `priority`, `conditions`, \
         `multiValueHeaders`, `healthCheck` and `targetGroupName`",
    )?;
    let value = |key: &str| written.and_then(|map| map.get(key));
    let (balancer, listener_key) = listener_of(function, event, value("listenerArn"))?;
    let (listener, depends_on) = match value("listenerArn") {
        Some(written @ Json::Object(_)) => context.resolve_event(written, function, event)?,
        Some(other) => (other.clone(), BTreeSet::new()),
        None => (Json::Null, BTreeSet::new()),
    };
    let Some(priority) = super::setting_value::<i64>(event, "priority") else {
        return Err(invalid(
            function,
            event,
            "it has no `priority`".into(),
            "give the rule its priority on the listener, a number from 1 to 50000",
        ));
    };
    if !(1..=50_000).contains(&priority) {
        return Err(invalid(
            function,
            event,
            format!("priority {priority} is not from 1 to 50000"),
            "give the rule its priority on the listener, a number from 1 to 50000",
        ));
    }
    let conditions = Conditions::read(value("conditions"))
        .map_err(|problem| invalid(function, event, problem, conditions::HELP))?;
    let multi_value_headers =
        super::setting_value::<bool>(event, "multiValueHeaders").unwrap_or(false);
    let target_group = match value("targetGroupName").and_then(Json::as_str) {
        Some(name) => name.to_string(),
        None => generated_name(context, function, &balancer, multi_value_headers, prefix),
    };
    check_target_group_name(&target_group)
        .map_err(|problem| invalid(function, event, problem, "a target group name is at most 32 letters, digits and `-`, not starting or ending with `-`"))?;
    Ok(AlbEvent {
        source,
        listener_key,
        listener,
        depends_on,
        priority,
        conditions,
        multi_value_headers,
        target_group,
    })
}

/// The load balancer id and the listener's identity, from an ARN
/// (`arn:aws:elasticloadbalancing:{region}:{account}:listener/app/{name}/{id}/{listener}`) or a
/// `Ref` to a `resources:` listener (both its logical id).
fn listener_of(
    function: &Function,
    event: &Event,
    written: Option<&Json>,
) -> Result<(String, String), ProviderError> {
    const HELP: &str = "give the listener's ARN (`arn:aws:elasticloadbalancing:...:listener/app/\
                        {name}/{id}/{listener}`) or `Ref: {logical id}` of a `resources:` listener";
    match written {
        None => Err(invalid(
            function,
            event,
            "it has no `listenerArn`".into(),
            HELP,
        )),
        Some(Json::Object(map)) => match map.get("Ref").and_then(Json::as_str) {
            Some(name) if map.len() == 1 => Ok((name.to_string(), name.to_string())),
            _ => Err(invalid(
                function,
                event,
                "its `listenerArn` is neither an ARN nor a `Ref`".into(),
                HELP,
            )),
        },
        Some(Json::String(arn)) => {
            let parts: Option<Vec<&str>> = arn
                .split_once(":elasticloadbalancing:")
                .and_then(|(_, rest)| rest.split_once(":listener/app/"))
                .map(|(_, path)| path.split('/').collect());
            match parts.as_deref() {
                Some([_, balancer, _]) if arn.starts_with("arn:") => {
                    Ok((balancer.to_string(), arn.clone()))
                }
                _ => Err(invalid(
                    function,
                    event,
                    format!("`{arn}` is not an Application Load Balancer listener's ARN"),
                    HELP,
                )),
            }
        }
        Some(other) => Err(invalid(
            function,
            event,
            format!("`listenerArn: {other}` is not a listener"),
            HELP,
        )),
    }
}

/// The Framework's target group name: the prefix and the MD5 of the name tag value, cut to 32.
fn generated_name(
    context: &Context<'_>,
    function: &Function,
    balancer: &str,
    multi_value_headers: bool,
    prefix: &str,
) -> String {
    let multi = if multi_value_headers {
        "multi-value-"
    } else {
        ""
    };
    let tag_value = format!(
        "{}-{}-{balancer}-{multi}{}",
        context.name, function.key, context.stage
    );
    let hash = hex::encode(Md5::digest(tag_value.as_bytes()));
    format!("{prefix}{hash}")
        .chars()
        .take(TARGET_GROUP_NAME_LIMIT)
        .collect()
}

/// `provider.alb.targetGroupPrefix`, or nothing.
fn target_group_prefix(context: &Context<'_>) -> Result<String, ProviderError> {
    let written = context
        .service
        .provider
        .raw
        .get("alb")
        .and_then(|alb| alb.get("targetGroupPrefix"));
    match written {
        None => Ok(String::new()),
        Some(Json::String(prefix))
            if prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !prefix.starts_with('-') =>
        {
            Ok(prefix.clone())
        }
        Some(other) => Err(ProviderError::Invalid {
            message: format!(
                "`provider.alb.targetGroupPrefix: {other}` cannot start a target group name"
            ),
            span: None,
            help: "a target group name is letters, digits and `-`, not starting with `-`".into(),
        }),
    }
}

fn check_target_group_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= TARGET_GROUP_NAME_LIMIT
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(format!("`{name}` is not a target group name"))
    }
}

/// The event's `healthCheck`: `true`, or settings that turn it on unless `enabled: false`;
/// unset settings take the Framework's defaults.
fn health_check(source: &FunctionEvent) -> Result<Option<HealthCheck>, ProviderError> {
    let Some(written) = settings(source.event).and_then(|map| map.get("healthCheck")) else {
        return Ok(None);
    };
    let on = |enabled: bool, map: Option<&serde_json::Map<String, Json>>| {
        if !enabled {
            return HealthCheck::off();
        }
        let number = |key: &str, default: i32| {
            map.and_then(|m| m.get(key))
                .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or(default)
        };
        HealthCheck {
            enabled: true,
            path: Some(
                map.and_then(|m| m.get("path"))
                    .and_then(Json::as_str)
                    .unwrap_or("/")
                    .to_string(),
            ),
            interval_seconds: Some(number("intervalSeconds", 35)),
            timeout_seconds: Some(number("timeoutSeconds", 30)),
            healthy_threshold: Some(number("healthyThresholdCount", 5)),
            unhealthy_threshold: Some(number("unhealthyThresholdCount", 5)),
            matcher: Some(
                map.and_then(|m| m.get("matcher"))
                    .and_then(|m| m.get("httpCode"))
                    .and_then(|c| c.as_str().map(str::to_string).or(Some(c.to_string())))
                    .unwrap_or_else(|| "200".into()),
            ),
        }
    };
    match written {
        Json::Bool(enabled) => Ok(Some(on(*enabled, None))),
        Json::Object(map) => {
            let enabled = map.get("enabled").and_then(Json::as_bool).unwrap_or(true);
            Ok(Some(on(enabled, Some(map))))
        }
        other => Err(invalid(
            source.function,
            source.event,
            format!("`healthCheck: {other}` is neither a flag nor settings"),
            "write `healthCheck: true`, or its `path`, `intervalSeconds`, `timeoutSeconds`, \
             `healthyThresholdCount`, `unhealthyThresholdCount` and `matcher.httpCode`",
        )),
    }
}

#[cfg(test)]
mod tests;
