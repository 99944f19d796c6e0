//! The Lambda `REQUEST` authorizer a `$connect` route names, as the Framework reads it: a
//! function of the service by name (`authorizer: auth`), a function by ARN, or `{name, arn,
//! identitySource}`, identity sources `route.request.header.Auth` unless given. A function of
//! the service gets the permission API Gateway needs to call it; a function given by ARN is
//! called with the permission its owner grants (updraft does not change another's function).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value as Json};

use super::super::super::kinds::Typed;
use super::super::super::naming::{self, kind};
use super::super::permission::{self, Grant};
use super::super::{invalid, FunctionEvent};
use super::{authorizer_statement_id, AuthorizerProperties, DEFAULT_IDENTITY_SOURCE};
use crate::plan::{Desired, Properties, Reference, ResourceId};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

/// The authorizer an event names, as the Framework reads it: a name (a function of the service),
/// an ARN, or `{name, arn, identitySource}`.
struct AuthorizerSetting {
    name: String,
    /// `None` for a function of the service, named `name`.
    arn: Option<String>,
    identity_source: Vec<String>,
}

fn authorizer_setting(setting: &Json) -> Result<AuthorizerSetting, String> {
    let from_text = |text: &str| match text.contains(':') {
        true => AuthorizerSetting {
            name: arn_function_name(text).to_string(),
            arn: Some(text.to_string()),
            identity_source: vec![DEFAULT_IDENTITY_SOURCE.to_string()],
        },
        false => AuthorizerSetting {
            name: text.to_string(),
            arn: None,
            identity_source: vec![DEFAULT_IDENTITY_SOURCE.to_string()],
        },
    };
    match setting {
        Json::String(text) => Ok(from_text(text)),
        Json::Object(map) => {
            let arn = map.get("arn").and_then(Json::as_str);
            let name = map.get("name").and_then(Json::as_str);
            let mut found = match (name, arn) {
                (Some(name), Some(arn)) => AuthorizerSetting {
                    name: name.to_string(),
                    arn: Some(arn.to_string()),
                    identity_source: Vec::new(),
                },
                (None, Some(arn)) => from_text(arn),
                (Some(name), None) => from_text(name),
                (None, None) => {
                    return Err("the authorizer has neither `name` nor `arn` (as text)".into())
                }
            };
            found.identity_source = match map.get("identitySource") {
                Some(Json::Array(items)) => items
                    .iter()
                    .filter_map(Json::as_str)
                    .map(str::to_string)
                    .collect(),
                Some(Json::String(text)) => text
                    .split(',')
                    .map(|source| source.trim().to_string())
                    .filter(|source| !source.is_empty())
                    .collect(),
                _ => vec![DEFAULT_IDENTITY_SOURCE.to_string()],
            };
            Ok(found)
        }
        other => Err(format!(
            "the authorizer {other} is neither a name, an ARN nor a map"
        )),
    }
}

/// `arn:aws:lambda:{region}:{account}:function:{name}[:qualifier]` -> `name`.
fn arn_function_name(arn: &str) -> &str {
    arn.split(':').nth(6).unwrap_or(arn)
}

const AUTHORIZER_HELP: &str = "name a function of this service (`authorizer: auth`), or give \
     `authorizer: {name: auth, arn: arn:aws:lambda:...:function:auth, identitySource: \
     [route.request.header.Auth]}`";

/// The authorizers by name, with the permissions their functions need.
#[derive(Default)]
pub struct Authorizers {
    pub resources: BTreeMap<String, Desired>,
    pub permissions: Vec<Desired>,
}

impl Authorizers {
    /// The authorizer of a `$connect` route, made on first use.
    pub fn attach(
        &mut self,
        context: &Context<'_>,
        function_event: &FunctionEvent,
        setting: &Json,
        api: &ResourceId,
        api_id: &Json,
    ) -> Result<ResourceId, ProviderError> {
        let FunctionEvent {
            function, event, ..
        } = function_event;
        let wrong = |message: String| invalid(function, event, message, AUTHORIZER_HELP);
        let setting = authorizer_setting(setting).map_err(wrong)?;
        let id = naming::id(kind::WEBSOCKET_AUTHORIZER, &setting.name);
        let mut depends_on = BTreeSet::from([api.clone()]);
        let function_arn = match &setting.arn {
            Some(arn) => json!(arn),
            None => {
                let Some(target) = context.functions.get(&setting.name) else {
                    return Err(wrong(format!(
                        "the authorizer `{}` is not a function of this service",
                        setting.name
                    )));
                };
                depends_on.insert(target.id.clone());
                self.permissions.push(permission::desired(Grant {
                    function: target.id.clone(),
                    statement_id: authorizer_statement_id(&setting.name),
                    principal: "apigateway.amazonaws.com".to_string(),
                    source_arn: Reference::new(api.clone(), "authorizers_source_arn").to_json(),
                    source: Some(api.clone()),
                }));
                target.arn_reference()
            }
        };
        self.resources.insert(
            setting.name.clone(),
            Desired {
                id: id.clone(),
                properties: AuthorizerProperties {
                    api_id: api_id.clone(),
                    name: setting.name.clone(),
                    authorizer_type: Some("REQUEST".to_string()),
                    identity_source: setting.identity_source,
                    function_arn,
                }
                .to_properties(),
                inputs: Properties::new(),
                depends_on,
                replace_when: BTreeSet::from(["api_id".to_string()]),
            },
        );
        Ok(id)
    }
}
