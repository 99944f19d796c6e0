//! `cloudwatchLog` events: a subscription filter on the log group that sends the matching log
//! events to the function, plus the permission for CloudWatch Logs
//! (`logs.{region}.amazonaws.com`) to invoke it, limited to that log group.
//!
//! A filter is named `{function name}-cloudwatch-log-{n}` (numbered per function) and is the
//! resource `{log group}:{filter name}` (log group names cannot hold a `:`). Subscription
//! filters carry no tags and CloudWatch Logs lists them only per log group, so the live reader
//! looks at the log groups the deploy state records and those the service's permissions name,
//! and keeps the filters that send to one of the service's functions under the name it gives.

use std::collections::BTreeSet;

use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sdk_cloudwatchlogs::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::kinds::Typed;
use super::super::naming::{self, kind};
use super::permission::{self, Grant};
use super::{call_error, concurrently, invalid, refuse_settings, EventContext, FunctionEvent};
use crate::plan::{Action, Desired, Live, Properties, Step};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

/// What separates a filter's name from its function's name.
const NAME_PART: &str = "-cloudwatch-log-";

/// A subscription filter's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionFilterProperties {
    pub log_group: String,
    pub filter_name: String,
    /// CloudWatch Logs' filter pattern; empty for every event.
    pub filter_pattern: String,
    /// The function's ARN; a reference to the function until apply.
    pub destination_arn: Json,
}

impl Typed for SubscriptionFilterProperties {}

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
        refuse_settings(
            function,
            event,
            &unknown_settings(event),
            "updraft deploys a cloudwatchLog event's `logGroup` and `filter`; remove this \
             setting or deploy the function with the Serverless Framework",
        )?;
        let written = event.raw.get(event.kind.as_str()).unwrap_or(&Json::Null);
        let (log_group, filter) = match written {
            Json::String(group) => (group.clone(), String::new()),
            Json::Object(map) => {
                let group = match map.get("logGroup") {
                    Some(Json::String(group)) => group.clone(),
                    _ => {
                        return Err(invalid(
                            function,
                            event,
                            "it names no `logGroup`".into(),
                            "write the log group's name as `logGroup`",
                        ))
                    }
                };
                let filter = match map.get("filter") {
                    None | Some(Json::Null) => String::new(),
                    Some(Json::String(filter)) => filter.clone(),
                    Some(other) => other.to_string(),
                };
                (group, filter)
            }
            _ => {
                return Err(invalid(
                    function,
                    event,
                    "the event takes a log group's name or `{logGroup, filter}`".into(),
                    "write `cloudwatchLog: /aws/lambda/other-function`",
                ))
            }
        };
        let valid_group = !log_group.is_empty()
            && log_group.len() <= 512
            && log_group
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#'));
        if !valid_group {
            return Err(invalid(
                function,
                event,
                format!("`{log_group}` is not a log group name"),
                "a log group name is at most 512 of letters, digits, `.`, `-`, `_`, `/` and `#`",
            ));
        }
        let function_id = context.function_id(function)?;
        let filter_name = format!("{}{NAME_PART}{number}", function_id.name);
        let statement = permission::statement_id(&format!("cloudwatch-log-{number}"));
        let grant = permission::desired(Grant {
            function: function_id.clone(),
            statement_id: statement,
            principal: format!("logs.{}.amazonaws.com", context.region),
            source_arn: json!(format!(
                "arn:{}:logs:{}:{}:log-group:{log_group}:*",
                context.partition, context.region, context.account
            )),
            source: None,
        });
        let mut depends_on = BTreeSet::from([function_id, grant.id.clone()]);
        // A log group of the service's own functions is created before its filter.
        let own_groups: BTreeSet<String> = context
            .functions
            .values()
            .map(|target| naming::log_group_name(&target.name))
            .collect();
        if own_groups.contains(&log_group) {
            depends_on.insert(naming::id(kind::LOG_GROUP, &log_group));
        }
        resources.push(Desired {
            id: naming::id(
                kind::SUBSCRIPTION_FILTER,
                format!("{log_group}:{filter_name}"),
            ),
            properties: SubscriptionFilterProperties {
                log_group,
                filter_name,
                filter_pattern: filter,
                destination_arn: context.function_arn(function)?,
            }
            .to_properties(),
            inputs: Properties::new(),
            depends_on,
            replace_when: BTreeSet::new(),
        });
        resources.push(grant);
    }
    Ok(resources)
}

/// The settings of the event other than the two it takes.
fn unknown_settings(event: &crate::manifest::model::Event) -> Vec<&str> {
    super::settings(event)
        .map(|map| {
            map.keys()
                .map(String::as_str)
                .filter(|key| !matches!(*key, "logGroup" | "filter"))
                .collect()
        })
        .unwrap_or_default()
}

/// The log group a permission's source ARN names (`arn:...:log-group:{name}:*`).
pub fn log_group_of(source_arn: &str) -> Option<&str> {
    let rest = source_arn.split_once(":log-group:")?.1;
    Some(rest.strip_suffix(":*").unwrap_or(rest))
}

/// The service's filters on `log_groups`: those that send to one of `functions` (deployed
/// names) under the name updraft gives them.
pub async fn live(
    client: &Client,
    log_groups: &BTreeSet<String>,
    functions: &BTreeSet<String>,
) -> Result<Vec<Live>, ProviderError> {
    let reads = log_groups.iter().map(|group| {
        let client = client.clone();
        let group = group.clone();
        async move {
            let mut filters = Vec::new();
            let mut token = None;
            loop {
                let page = match client
                    .describe_subscription_filters()
                    .log_group_name(&group)
                    .set_next_token(token)
                    .send()
                    .await
                {
                    Ok(page) => page,
                    Err(e) if e.code() == Some("ResourceNotFoundException") => break,
                    Err(e) => {
                        return Err(call_error("logs:DescribeSubscriptionFilters", &group, &e))
                    }
                };
                filters.extend(page.subscription_filters().iter().cloned());
                token = page.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
            Ok(filters)
        }
    });
    let mut found = Vec::new();
    for result in concurrently(reads).await {
        for filter in result? {
            let (Some(group), Some(name), Some(destination)) = (
                filter.log_group_name(),
                filter.filter_name(),
                filter.destination_arn(),
            ) else {
                continue;
            };
            let Some(function) = super::function_name_of(destination) else {
                continue;
            };
            let ours = functions.contains(function)
                && name
                    .strip_prefix(function)
                    .and_then(|rest| rest.strip_prefix(NAME_PART))
                    .is_some_and(|number| number.parse::<usize>().is_ok());
            if !ours {
                continue;
            }
            found.push(Live {
                id: naming::id(kind::SUBSCRIPTION_FILTER, format!("{group}:{name}")),
                properties: SubscriptionFilterProperties {
                    log_group: group.to_string(),
                    filter_name: name.to_string(),
                    filter_pattern: filter.filter_pattern().unwrap_or_default().to_string(),
                    destination_arn: json!(destination),
                }
                .to_properties(),
                attributes: Properties::new(),
                depends_on: BTreeSet::from([naming::id(kind::FUNCTION, function)]),
            });
        }
    }
    Ok(found)
}

pub async fn apply(
    client: &Client,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    if step.action == Action::Delete {
        let Some(current) = SubscriptionFilterProperties::live_of(step)? else {
            return Ok(Properties::new());
        };
        return match client
            .delete_subscription_filter()
            .log_group_name(&current.log_group)
            .filter_name(&current.filter_name)
            .send()
            .await
        {
            Ok(_) => Ok(Properties::new()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(Properties::new()),
            Err(e) => Err(call_error(
                "logs:DeleteSubscriptionFilter",
                &step.id.name,
                &e,
            )),
        };
    }
    let wanted = SubscriptionFilterProperties::from_properties(properties, &step.id)?;
    client
        .put_subscription_filter()
        .log_group_name(&wanted.log_group)
        .filter_name(&wanted.filter_name)
        .filter_pattern(&wanted.filter_pattern)
        .destination_arn(wanted.destination_arn.as_str().unwrap_or_default())
        .send()
        .await
        .map_err(|e| call_error("logs:PutSubscriptionFilter", &step.id.name, &e))?;
    Ok(Properties::new())
}
