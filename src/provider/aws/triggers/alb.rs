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
//! reader finds them ([`live`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::super::kinds::Typed;
use super::super::naming::{self, kind};
use super::permission::{self, Grant};
use super::{invalid, EventContext, FunctionEvent};
use crate::plan::{Desired, Properties, Reference};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

mod apply;
mod conditions;
mod event;
mod live;

use event::{health_check, read_event, target_group_prefix, AlbEvent};

pub use apply::apply;
pub use conditions::{Conditions, RuleConditions};
pub use live::live;

/// The tag that names a listener rule's resource (`{function name}/alb-{n}`).
pub const NAME_TAG: &str = "updraft:name";

/// Target group names are at most 32 characters.
pub const TARGET_GROUP_NAME_LIMIT: usize = 32;

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
        // A target group has one function as its target.
        if let Some(other) = parsed.iter().find(|p| {
            p.target_group == event.target_group && p.source.function.key != source.function.key
        }) {
            return Err(invalid(
                source.function,
                source.event,
                format!(
                    "the target group `{}` is already the target group of function `{}`",
                    event.target_group, other.source.function.key
                ),
                "give each function's `alb` events their own `targetGroupName`",
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
        let mut tags = context.tags.clone();
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
            tags: context.tags.clone(),
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

#[cfg(test)]
mod tests;
