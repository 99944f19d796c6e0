//! `schedule` events: one EventBridge rule per expression, named
//! `{service}-{stage}-{function}-schedule-{n}` (cut to EventBridge's 64 characters), with the
//! function as its one target and `input` as the target's input, plus the permission for
//! EventBridge to invoke the function. The rule itself (reader, apply) is [`super::rule`]'s.

use std::collections::BTreeSet;

use serde_json::{json, Value as Json};

use super::super::kinds::Typed;
use super::super::naming::rule_name;
use super::permission::{self, Grant};
use super::rule::{self, RuleProperties, RuleTarget};
use super::{refuse_settings, settings, EventContext, FunctionEvent};
use crate::manifest::model::Trigger;
use crate::plan::{Desired, Properties, Reference};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

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
        let target_id = rule::target_id(&format!("{}-schedule-{number}", function.key));
        let id = rule::rule_id(None, &name);
        let properties = RuleProperties {
            event_bus: None,
            schedule_expression: Some(expression.clone()),
            event_pattern: Json::Null,
            state: Some(if *enabled { "ENABLED" } else { "DISABLED" }.to_string()),
            description: event_settings
                .and_then(|s| s.get("description"))
                .cloned()
                .unwrap_or(Json::Null),
            targets: vec![RuleTarget {
                input,
                ..RuleTarget::plain(target_id, context.function_arn(function)?)
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
            principal: "events.amazonaws.com".into(),
            source_arn: Reference::new(id.clone(), "arn").to_json(),
            source: Some(id),
        }));
    }
    Ok(resources)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aws::naming::kind;
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
        assert!(a.starts_with(&rule::name_prefix("shop", "dev")));
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
