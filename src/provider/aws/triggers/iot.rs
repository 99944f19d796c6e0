//! `iot` events: an AWS IoT topic rule whose one action invokes the function, plus the
//! permission for IoT (`iot.amazonaws.com`) to invoke it from that rule.
//!
//! A rule is named by the event's `name`, or `{function name}_iot_{n}` with every character IoT
//! does not allow in a rule name (`[A-Za-z0-9_]`) written as `_`. The SQL version is always
//! sent (`2015-10-08`, IoT's own default, unless `sqlVersion` says otherwise), so what is read
//! back is what was written whichever default the endpoint assumes.
//!
//! Topic rules are read by name, from the deploy state and from the service's IoT permissions
//! (whose source ARN names the rule), and kept when their action invokes one of the service's
//! functions: IoT lists rules without their actions, and not every IoT endpoint keeps a topic
//! rule's tags.

use std::collections::BTreeSet;

use aws_sdk_iot::error::ProvideErrorMetadata;
use aws_sdk_iot::types::{Action as IotAction, LambdaAction, TopicRulePayload};
use aws_sdk_iot::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::kinds::Typed;
use super::super::naming::{self, kind};
use super::permission::{self, Grant};
use super::{call_error, concurrently, invalid, refuse_settings, EventContext, FunctionEvent};
use crate::plan::{Action, Desired, Live, Properties, Step};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

/// IoT's SQL version when a rule names none.
const DEFAULT_SQL_VERSION: &str = "2015-10-08";

/// A topic rule's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicRuleProperties {
    pub sql: String,
    pub sql_version: String,
    /// Null when none.
    pub description: Json,
    pub enabled: bool,
    /// The function's ARN; a reference to the function until apply.
    pub function_arn: Json,
}

impl Typed for TopicRuleProperties {}

/// `text` with every character a rule name cannot hold written as `_`.
fn rule_name_of(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    naming::fit(cleaned, 128)
}

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
        let written = super::settings(event);
        let unknown: Vec<&str> = written
            .map(|map| {
                map.keys()
                    .map(String::as_str)
                    .filter(|key| {
                        !matches!(
                            *key,
                            "sql" | "sqlVersion" | "name" | "enabled" | "description"
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        refuse_settings(
            function,
            event,
            &unknown,
            "updraft deploys an iot event's `sql`, `sqlVersion`, `name`, `enabled` and \
             `description`; remove this setting or deploy the function with the Serverless \
             Framework",
        )?;
        let text = |key: &str| {
            written
                .and_then(|map| map.get(key))
                .and_then(Json::as_str)
                .map(str::to_string)
        };
        let Some(sql) = text("sql") else {
            return Err(invalid(
                function,
                event,
                "it has no `sql`".into(),
                "write the rule's query, e.g. `sql: \"SELECT * FROM 'topic'\"`",
            ));
        };
        let function_id = context.function_id(function)?;
        let name = match text("name") {
            Some(name) => {
                let valid = !name.is_empty()
                    && name.len() <= 128
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(invalid(
                        function,
                        event,
                        format!("`name: {name}` is not a topic rule name"),
                        "a topic rule name is at most 128 of letters, digits and `_`",
                    ));
                }
                name
            }
            None => rule_name_of(&format!("{}_iot_{number}", function_id.name)),
        };
        let id = naming::id(kind::TOPIC_RULE, &name);
        resources.push(Desired {
            id: id.clone(),
            properties: TopicRuleProperties {
                sql,
                sql_version: text("sqlVersion").unwrap_or_else(|| DEFAULT_SQL_VERSION.into()),
                description: text("description")
                    .filter(|d| !d.is_empty())
                    .map(Json::String)
                    .unwrap_or(Json::Null),
                enabled: super::setting_value::<bool>(event, "enabled").unwrap_or(true),
                function_arn: context.function_arn(function)?,
            }
            .to_properties(),
            inputs: Properties::new(),
            depends_on: BTreeSet::from([function_id.clone()]),
            replace_when: BTreeSet::new(),
        });
        resources.push(permission::desired(Grant {
            function: function_id,
            statement_id: permission::statement_id(&format!("iot-{number}")),
            principal: "iot.amazonaws.com".into(),
            source_arn: json!(format!(
                "arn:{}:iot:{}:{}:rule/{name}",
                context.partition, context.region, context.account
            )),
            source: Some(id),
        }));
    }
    Ok(resources)
}

/// The topic rule a permission's source ARN names (`arn:...:iot:...:rule/{name}`).
pub fn rule_of(source_arn: &str) -> Option<&str> {
    source_arn
        .split_once(":iot:")
        .and_then(|(_, rest)| rest.split_once(":rule/"))
        .map(|(_, name)| name)
}

/// The topic rules `names` (those the deploy state records and those the service's
/// permissions name), each kept only when its action invokes one of `functions` (deployed
/// names).
pub async fn live(
    client: &Client,
    functions: &BTreeSet<String>,
    names: BTreeSet<String>,
) -> Result<Vec<Live>, ProviderError> {
    let reads = names.into_iter().map(|name| {
        let client = client.clone();
        async move {
            match client.get_topic_rule().rule_name(&name).send().await {
                Ok(found) => Ok(found.rule().cloned().map(|rule| (name, rule))),
                Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
                Err(e) => Err(call_error("iot:GetTopicRule", &name, &e)),
            }
        }
    });
    let mut found = Vec::new();
    for result in concurrently(reads).await {
        let Some((name, rule)) = result? else {
            continue;
        };
        let arns: Vec<&str> = rule
            .actions()
            .iter()
            .filter_map(|action| action.lambda().map(LambdaAction::function_arn))
            .collect();
        let function = arns.first().and_then(|arn| super::function_name_of(arn));
        let Some(function) = function.filter(|f| functions.contains(*f)) else {
            continue;
        };
        found.push(Live {
            id: naming::id(kind::TOPIC_RULE, &name),
            properties: TopicRuleProperties {
                sql: rule.sql().unwrap_or_default().to_string(),
                sql_version: rule
                    .aws_iot_sql_version()
                    .unwrap_or(DEFAULT_SQL_VERSION)
                    .to_string(),
                description: rule
                    .description()
                    .filter(|d| !d.is_empty())
                    .map(|d| json!(d))
                    .unwrap_or(Json::Null),
                enabled: !rule.rule_disabled().unwrap_or(false),
                function_arn: if arns.len() == 1 {
                    json!(arns[0])
                } else {
                    json!(arns)
                },
            }
            .to_properties(),
            attributes: Properties::new(),
            depends_on: BTreeSet::from([naming::id(kind::FUNCTION, function)]),
        });
    }
    Ok(found)
}

pub async fn apply(
    client: &Client,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let name = step.id.name.as_str();
    if step.action == Action::Delete {
        return match client.delete_topic_rule().rule_name(name).send().await {
            Ok(_) => Ok(Properties::new()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(Properties::new()),
            Err(e) => Err(call_error("iot:DeleteTopicRule", name, &e)),
        };
    }
    let wanted = TopicRuleProperties::from_properties(properties, &step.id)?;
    let internal = |message: String| ProviderError::Internal {
        resource: step.id.clone(),
        message,
    };
    let action = IotAction::builder()
        .lambda(
            LambdaAction::builder()
                .function_arn(wanted.function_arn.as_str().unwrap_or_default())
                .build()
                .map_err(|e| internal(e.to_string()))?,
        )
        .build();
    let payload = TopicRulePayload::builder()
        .sql(&wanted.sql)
        .aws_iot_sql_version(&wanted.sql_version)
        .set_description(wanted.description.as_str().map(str::to_string))
        .rule_disabled(!wanted.enabled)
        .actions(action)
        .build()
        .map_err(|e| internal(e.to_string()))?;
    let replace = || async {
        client
            .replace_topic_rule()
            .rule_name(name)
            .topic_rule_payload(payload.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| call_error("iot:ReplaceTopicRule", name, &e))
    };
    if step.live.is_some() {
        replace().await?;
        return Ok(Properties::new());
    }
    match client
        .create_topic_rule()
        .rule_name(name)
        .topic_rule_payload(payload.clone())
        .send()
        .await
    {
        Ok(_) => {}
        // Left by a deploy that stopped before it read the rule back.
        Err(e) if e.code() == Some("ResourceAlreadyExistsException") => replace().await?,
        Err(e) => return Err(call_error("iot:CreateTopicRule", name, &e)),
    }
    Ok(Properties::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aws::triggers::test_support::{find, Fixture};

    fn service(events: Json) -> Fixture {
        Fixture::one_function("sensor-in", events)
    }

    #[test]
    fn an_iot_event_is_a_topic_rule_invoking_the_function_with_iots_permission() {
        let resources = service(json!([
            {"iot": {"sql": "SELECT * FROM 'sensors/+'", "description": "readings"}},
            {"iot": {"sql": "SELECT 1 FROM 'a'", "sqlVersion": "2016-03-23",
                     "name": "own_rule", "enabled": false}},
        ]))
        .desired()
        .unwrap_or_else(|e| panic!("{e}"));
        let first = find(&resources, kind::TOPIC_RULE, "shop_dev_sensor_in_iot_1");
        assert_eq!(first.properties["sql"], json!("SELECT * FROM 'sensors/+'"));
        assert_eq!(first.properties["sql_version"], json!("2015-10-08"));
        assert_eq!(first.properties["enabled"], json!(true));
        let second = find(&resources, kind::TOPIC_RULE, "own_rule");
        assert_eq!(second.properties["enabled"], json!(false));
        assert_eq!(second.properties["sql_version"], json!("2016-03-23"));
        let permission = find(
            &resources,
            kind::PERMISSION,
            "shop-dev-sensor-in/updraft-event-iot-2",
        );
        assert_eq!(
            permission.properties["principal"],
            json!("iot.amazonaws.com")
        );
        assert_eq!(
            permission.properties["source_arn"],
            json!("arn:aws:iot:us-east-1:123456789012:rule/own_rule")
        );
        assert_eq!(
            rule_of("arn:aws:iot:us-east-1:123456789012:rule/own_rule"),
            Some("own_rule")
        );
    }

    #[test]
    fn an_iot_event_without_sql_or_with_other_settings_is_refused() {
        for (events, word) in [
            (json!([{"iot": {"description": "none"}}]), "sql"),
            (
                json!([{"iot": {"sql": "SELECT 1 FROM 'a'", "errorAction": {}}}]),
                "errorAction",
            ),
            (
                json!([{"iot": {"sql": "SELECT 1 FROM 'a'", "name": "has-dash"}}]),
                "has-dash",
            ),
        ] {
            match service(events).desired() {
                Err(ProviderError::Unsupported {
                    what: text, span, ..
                })
                | Err(ProviderError::Invalid {
                    message: text,
                    span,
                    ..
                }) => {
                    assert!(text.contains(word) && text.contains("sensor-in"), "{text}");
                    assert!(span.is_some());
                }
                other => panic!("expected a refusal naming {word}, got {other:?}"),
            }
        }
    }
}
