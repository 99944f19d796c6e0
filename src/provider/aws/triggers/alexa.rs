//! `alexaSkill` and `alexaSmartHome` events: a statement in the function's policy that lets
//! the Alexa service invoke it, limited to the skill's id (`appId`) as the event source token,
//! as the Framework writes it. `alexaSkill` without an id (the Framework's first form) allows
//! any skill; `enabled: false` leaves the statement out.
//!
//! The skill id is part of the statement id (`alexa-skill-{hash}`), so changing it replaces the
//! statement: Lambda's policy shows the token in a condition, which not every emulator keeps, and
//! the statement id is what the live reader always sees.

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::permission::{self, Grant};
use super::{invalid, EventContext, FunctionEvent};
use crate::manifest::model::Trigger;
use crate::plan::Desired;
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

/// The principal of each event type.
fn principal(kind: &str) -> Option<&'static str> {
    match kind {
        "alexaSkill" => Some("alexa-appkit.amazon.com"),
        "alexaSmartHome" => Some("alexa-connectedhome.amazon.com"),
        _ => None,
    }
}

pub fn desired(
    context: &Context<'_>,
    events: &[FunctionEvent],
) -> Result<Vec<Desired>, ProviderError> {
    let mut resources = Vec::new();
    for FunctionEvent {
        function, event, ..
    } in events
    {
        let Trigger::Other { kind, .. } = &event.trigger else {
            continue;
        };
        let Some(principal) = principal(kind) else {
            continue;
        };
        // The event as written: `alexaSkill` alone, or `alexaSkill: <id or settings>`.
        let settings = event.raw.get(kind.as_str()).unwrap_or(&Json::Null);
        let (app_id, enabled) = match settings {
            Json::Null => (None, true),
            Json::String(id) => (Some(id.clone()), true),
            Json::Object(map) => (
                map.get("appId").and_then(Json::as_str).map(str::to_string),
                map.get("enabled").and_then(Json::as_bool).unwrap_or(true),
            ),
            _ => {
                return Err(invalid(
                    function,
                    event,
                    "the event takes a skill id or `{appId, enabled}`".into(),
                    "write `alexaSkill: amzn1.ask.skill.<id>`",
                ))
            }
        };
        if app_id.is_none() && kind == "alexaSmartHome" {
            return Err(invalid(
                function,
                event,
                "an `alexaSmartHome` event needs the skill's `appId`".into(),
                "write `alexaSmartHome: amzn1.ask.skill.<id>`",
            ));
        }
        if !enabled {
            continue;
        }
        let kebab = if kind == "alexaSkill" {
            "alexa-skill"
        } else {
            "alexa-smart-home"
        };
        let statement = match &app_id {
            Some(id) => {
                let digest = hex::encode(Sha256::digest(id.as_bytes()));
                permission::statement_id(&format!("{kebab}-{}", &digest[..12]))
            }
            None => permission::statement_id(kebab),
        };
        let mut permission = permission::desired(Grant {
            function: context.function_id(function)?,
            statement_id: statement,
            principal: principal.into(),
            source_arn: Json::Null,
            source: None,
        });
        if let Some(id) = app_id {
            permission
                .inputs
                .insert("event_source_token".into(), Json::String(id));
        }
        resources.push(permission);
    }
    Ok(resources)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::provider::aws::naming::kind;
    use crate::provider::aws::triggers::test_support::{names, Fixture};

    #[test]
    fn a_skill_id_limits_the_permission_and_names_its_statement() {
        let resources = Fixture::new(json!({
            "service": "shop",
            "provider": {"name": "aws"},
            "functions": {"skill": {"handler": "h.skill", "events": [
                "alexaSkill",
                {"alexaSkill": {"appId": "amzn1.ask.skill.one", "enabled": true}},
                {"alexaSkill": {"appId": "amzn1.ask.skill.off", "enabled": false}},
                {"alexaSmartHome": "amzn1.ask.skill.home"},
            ]}},
        }))
        .desired()
        .unwrap_or_else(|e| panic!("{e}"));
        let permissions = names(&resources, kind::PERMISSION);
        assert_eq!(permissions.len(), 3, "{permissions:?}");
        assert!(permissions.contains(&"shop-dev-skill/updraft-event-alexa-skill".to_string()));
        let keyed: Vec<_> = resources
            .iter()
            .filter(|r| r.inputs.contains_key("event_source_token"))
            .map(|r| {
                (
                    r.properties["principal"].clone(),
                    r.inputs["event_source_token"].clone(),
                )
            })
            .collect();
        assert_eq!(
            keyed,
            [
                (
                    json!("alexa-appkit.amazon.com"),
                    json!("amzn1.ask.skill.one")
                ),
                (
                    json!("alexa-connectedhome.amazon.com"),
                    json!("amzn1.ask.skill.home")
                ),
            ]
        );
    }
}
