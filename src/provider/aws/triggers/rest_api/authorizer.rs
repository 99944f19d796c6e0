//! The `authorizer` of an `http` event: a Lambda authorizer (`TOKEN` or `REQUEST`) that is one
//! of the service's functions or a function given by ARN, a Cognito user pool authorizer (an
//! `arn` of a user pool, or `type: COGNITO_USER_POOLS`), or `aws_iam`.
//!
//! One API Gateway authorizer per name, shared by every event that names it, as the Framework
//! makes one `AWS::ApiGateway::Authorizer` per name. Its defaults are the Framework's: the
//! identity source `method.request.header.Authorization`, a result cached for 300 seconds, and
//! the type `TOKEN`. An authorizer that is a function of the service gets a Lambda permission
//! for the API's authorizers.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::super::kinds::Typed;
use super::super::super::naming::{self, kind};
use super::super::permission::{self, Grant};
use super::super::{invalid, settings, unsupported_setting, EventContext, FunctionEvent};
use crate::plan::{Desired, Properties, Reference, ResourceId};
use crate::provider::aws::context::{Context, FunctionTarget};
use crate::provider::ProviderError;

/// An authorizer of the REST API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizerProperties {
    pub rest_api_id: Json,
    pub name: String,
    /// `TOKEN`, `REQUEST` or `COGNITO_USER_POOLS`.
    pub authorizer_type: String,
    /// The Lambda function's ARN (a reference to a function of the service until apply); null
    /// for a Cognito authorizer.
    pub function_arn: Json,
    /// The user pools of a Cognito authorizer.
    pub provider_arns: Vec<String>,
    pub identity_source: Option<String>,
    pub identity_validation_expression: Option<String>,
    pub result_ttl_in_seconds: i64,
}

impl Typed for AuthorizerProperties {}

/// How one method is authorized.
pub struct MethodAuthorization {
    /// `NONE`, `AWS_IAM`, `CUSTOM` or `COGNITO_USER_POOLS`.
    pub authorization_type: &'static str,
    /// The authorizer's resource, when there is one.
    pub authorizer: Option<ResourceId>,
    /// OAuth scopes of a Cognito authorizer.
    pub scopes: Vec<String>,
}

impl MethodAuthorization {
    pub const NONE: MethodAuthorization = MethodAuthorization {
        authorization_type: "NONE",
        authorizer: None,
        scopes: Vec::new(),
    };

    /// What the method's `authorizer_id` property holds.
    pub fn authorizer_id(&self) -> Json {
        self.authorizer
            .as_ref()
            .map(|id| Reference::new(id.clone(), "id").to_json())
            .unwrap_or(Json::Null)
    }

    /// What a deployment serves differently when this changes.
    pub fn shape(&self) -> Json {
        json!([
            self.authorization_type,
            self.authorizer.as_ref().map(|id| id.name.clone()),
            self.scopes
        ])
    }
}

/// The authorizers of the events, by name, with the permissions their functions need.
#[derive(Default)]
pub struct Authorizers {
    pub resources: BTreeMap<String, Desired>,
    pub permissions: Vec<Desired>,
    permitted: BTreeSet<String>,
}

impl Authorizers {
    /// The authorization of one event's method, adding its authorizer when it is new.
    pub fn attach(
        &mut self,
        context: &Context<'_>,
        event: &FunctionEvent,
        api: &ResourceId,
    ) -> Result<MethodAuthorization, ProviderError> {
        let Some(setting) = settings(event.event).and_then(|s| s.get("authorizer")) else {
            return Ok(MethodAuthorization::NONE);
        };
        let refuse = |setting: &str, help: &str| {
            unsupported_setting(event.function, event.event, setting, help)
        };
        let parsed = parse(context, event, setting)?;
        let (name, kind_name, function, pool) = match parsed {
            Parsed::Iam => {
                return Ok(MethodAuthorization {
                    authorization_type: "AWS_IAM",
                    authorizer: None,
                    scopes: Vec::new(),
                })
            }
            Parsed::Lambda {
                name,
                kind_name,
                function,
            } => (name, kind_name, Some(function), None),
            Parsed::Cognito { name, pool } => {
                (name, "COGNITO_USER_POOLS".to_string(), None, Some(pool))
            }
        };
        let fields = setting.as_object();
        let text = |key: &str| {
            fields
                .and_then(|f| f.get(key))
                .and_then(Json::as_str)
                .map(str::to_string)
        };
        if fields.is_some_and(|f| f.contains_key("authorizerId")) {
            return Err(refuse(
                "authorizer.authorizerId",
                "updraft creates the authorizers of the service's REST API; name a function or a \
                 user pool `arn` instead",
            ));
        }
        let ttl = match fields.and_then(|f| f.get("resultTtlInSeconds")) {
            None | Some(Json::Null) => 300,
            Some(value) => value
                .as_i64()
                .or_else(|| value.as_str().and_then(|v| v.parse().ok()))
                .filter(|ttl| (0..=3600).contains(ttl))
                .ok_or_else(|| {
                    invalid(
                        event.function,
                        event.event,
                        format!("authorizer.resultTtlInSeconds {value} is not 0 to 3600 seconds"),
                        "give the seconds API Gateway caches the answer, 0 to turn caching off",
                    )
                })?,
        };
        let function_arn = match &function {
            Some(Target::Service(target)) => {
                if self.permitted.insert(target.id.name.clone()) {
                    self.permissions.push(permission::desired(Grant {
                        function: target.id.clone(),
                        statement_id: permission::statement_id("rest-api-authorizer"),
                        principal: "apigateway.amazonaws.com".to_string(),
                        source_arn: Reference::new(api.clone(), "authorizers_source_arn").to_json(),
                        source: Some(api.clone()),
                    }));
                }
                target.arn_reference()
            }
            Some(Target::Arn(arn)) => json!(arn),
            None => Json::Null,
        };
        let id = naming::id(kind::REST_API_AUTHORIZER, &name);
        let mut depends_on = BTreeSet::from([api.clone()]);
        if let Some(Target::Service(target)) = &function {
            depends_on.insert(target.id.clone());
        }
        let properties = AuthorizerProperties {
            rest_api_id: Reference::new(api.clone(), "id").to_json(),
            name: name.clone(),
            authorizer_type: kind_name.clone(),
            function_arn,
            provider_arns: pool.into_iter().collect(),
            identity_source: Some(
                text("identitySource")
                    .unwrap_or_else(|| "method.request.header.Authorization".to_string()),
            ),
            identity_validation_expression: text("identityValidationExpression")
                .filter(|_| kind_name != "REQUEST"),
            result_ttl_in_seconds: ttl,
        };
        let desired = Desired {
            id: id.clone(),
            properties: properties.to_properties(),
            inputs: Properties::new(),
            depends_on,
            replace_when: BTreeSet::from([
                "rest_api_id".to_string(),
                "authorizer_type".to_string(),
                "provider_arns".to_string(),
            ]),
        };
        match self.resources.get(&name) {
            Some(existing) if existing.properties != desired.properties => {
                return Err(invalid(
                    event.function,
                    event.event,
                    format!("the authorizer `{name}` is given twice with different settings"),
                    "give each authorizer its settings once, or name the second one differently",
                ));
            }
            Some(_) => {}
            None => {
                self.resources.insert(name, desired);
            }
        }
        let scopes = match fields.and_then(|f| f.get("scopes")) {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        if !scopes.is_empty() && kind_name != "COGNITO_USER_POOLS" {
            return Err(refuse(
                "authorizer.scopes",
                "scopes apply to Cognito user pool authorizers only",
            ));
        }
        Ok(MethodAuthorization {
            authorization_type: if kind_name == "COGNITO_USER_POOLS" {
                "COGNITO_USER_POOLS"
            } else {
                "CUSTOM"
            },
            authorizer: Some(id),
            scopes,
        })
    }
}

/// Where a Lambda authorizer runs.
enum Target {
    /// A function of the service.
    Service(FunctionTarget),
    /// Any function, by ARN.
    Arn(String),
}

enum Parsed {
    Iam,
    Lambda {
        name: String,
        kind_name: String,
        function: Target,
    },
    Cognito {
        name: String,
        pool: String,
    },
}

/// Reads the `authorizer` setting: a function key, an ARN, `aws_iam`, or a map with `name`,
/// `arn`, `type` and the cache and identity settings.
fn parse(
    context: &Context<'_>,
    event: &FunctionEvent,
    setting: &Json,
) -> Result<Parsed, ProviderError> {
    let wrong = |message: String, help: &str| invalid(event.function, event.event, message, help);
    let (name, arn, kind_setting) = match setting {
        Json::String(text) if text.starts_with("arn:") => (None, Some(text.clone()), None),
        Json::String(text) => (Some(text.clone()), None, None),
        Json::Object(fields) => {
            let arn = match fields.get("arn") {
                None | Some(Json::Null) => None,
                Some(Json::String(arn)) => Some(arn.clone()),
                Some(value) => {
                    let (resolved, _) =
                        context.resolve_event(value, event.function, event.event)?;
                    match resolved {
                        Json::String(arn) => Some(arn),
                        _ => {
                            return Err(unsupported_setting(
                                event.function,
                                event.event,
                                "authorizer.arn",
                                "give the ARN as text, or name a function of the service with \
                                 `name`",
                            ))
                        }
                    }
                }
            };
            (
                fields
                    .get("name")
                    .and_then(Json::as_str)
                    .map(str::to_string),
                arn,
                fields
                    .get("type")
                    .and_then(Json::as_str)
                    .map(str::to_ascii_uppercase),
            )
        }
        other => {
            return Err(wrong(
                format!("the authorizer {other} is neither a name nor a map"),
                "give a function's name, an ARN, `aws_iam`, or a map with `name` or `arn`",
            ))
        }
    };
    if kind_setting.as_deref() == Some("AWS_IAM")
        || name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case("aws_iam"))
    {
        return Ok(Parsed::Iam);
    }
    let is_pool = arn.as_deref().is_some_and(|a| a.contains(":cognito-idp:"));
    if is_pool || kind_setting.as_deref() == Some("COGNITO_USER_POOLS") {
        let Some(pool) = arn else {
            return Err(wrong(
                "a Cognito authorizer needs the user pool's `arn`".into(),
                "set `arn: arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID`",
            ));
        };
        let name = name.unwrap_or_else(|| last_part(&pool));
        return Ok(Parsed::Cognito { name, pool });
    }
    let kind_name = match kind_setting.as_deref() {
        None | Some("TOKEN") => "TOKEN",
        Some("REQUEST") => "REQUEST",
        Some(other) => {
            return Err(wrong(
                format!("the authorizer type `{other}` is not one API Gateway has"),
                "use `token`, `request`, `COGNITO_USER_POOLS` or `aws_iam`",
            ))
        }
    }
    .to_string();
    match (name, arn) {
        (name, Some(arn)) => Ok(Parsed::Lambda {
            name: name.unwrap_or_else(|| last_part(&arn)),
            kind_name,
            function: Target::Arn(arn),
        }),
        (Some(name), None) => match context.functions.get(&name) {
            Some(target) => Ok(Parsed::Lambda {
                name,
                kind_name,
                function: Target::Service(target.clone()),
            }),
            None => Err(wrong(
                format!("the authorizer `{name}` is not a function of this service"),
                "name one of the service's functions, or give the authorizer's `arn`",
            )),
        },
        (None, None) => Err(wrong(
            "the authorizer has neither `name` nor `arn`".into(),
            "name one of the service's functions, or give the authorizer's `arn`",
        )),
    }
}

/// The last part of an ARN (`...:function:auth` -> `auth`, `.../userpool/eu-west-1_x` ->
/// `eu-west-1_x`).
fn last_part(arn: &str) -> String {
    arn.rsplit([':', '/']).next().unwrap_or(arn).to_string()
}
