//! One `alb` event's settings read and checked: the listener (an ARN, or a `Ref` to a
//! `resources:` listener), the priority, the conditions, the target group's name (the
//! Framework's hash, or `targetGroupName`) and its health check. Anything updraft does not
//! deploy (the `authorizer`, Cognito or OIDC authentication) is refused naming the event.

use std::collections::BTreeSet;

use md5::{Digest, Md5};
use serde_json::Value as Json;

use super::super::FunctionEvent;
use super::super::{invalid, refuse_settings, settings, unsupported_setting, EventContext};
use super::conditions::{self, Conditions};
use super::{HealthCheck, TARGET_GROUP_NAME_LIMIT};
use crate::manifest::model::{Event, Function};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

/// What the settings of one event say, before the resources are made.
pub struct AlbEvent<'a> {
    pub source: &'a FunctionEvent<'a>,
    /// What identifies the listener when comparing priorities.
    pub listener_key: String,
    pub listener: Json,
    pub depends_on: BTreeSet<crate::plan::ResourceId>,
    pub priority: i64,
    pub conditions: Conditions,
    pub multi_value_headers: bool,
    pub target_group: String,
}

pub fn read_event<'a>(
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
    let Some(priority) = super::super::setting_value::<i64>(event, "priority") else {
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
        super::super::setting_value::<bool>(event, "multiValueHeaders").unwrap_or(false);
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
pub fn target_group_prefix(context: &Context<'_>) -> Result<String, ProviderError> {
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
pub fn health_check(source: &FunctionEvent) -> Result<Option<HealthCheck>, ProviderError> {
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
