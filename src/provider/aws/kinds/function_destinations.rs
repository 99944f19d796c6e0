//! A function's `destinations` (`onSuccess`, `onFailure`): where Lambda sends the result of an
//! asynchronous invocation, with `maximumRetryAttempts` (0 to 2) and `maximumEventAge` (60 to
//! 21600 seconds), as the function's event invoke configuration
//! (PutFunctionEventInvokeConfig, DeleteFunctionEventInvokeConfig). A destination is a function
//! of the service (by its key), an ARN, a `Ref` or `Fn::GetAtt` of a resource, or
//! `{type, arn}`; the execution role may send to it (`lambda:InvokeFunction`,
//! `sqs:SendMessage`, `sns:Publish` or `events:PutEvents`, by the destination's service).
//!
//! Live: the configuration is read back with GetFunctionEventInvokeConfig, for the functions
//! that carry [`DESTINATIONS_TAG`] (set when updraft puts one), so a plan costs no call for a
//! function without destinations.

use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_lambda::types::{DestinationConfig, OnFailure, OnSuccess};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::{props, ResourceKind, Typed};
use crate::manifest::model::Function;
use crate::plan::{Action, Desired, DesiredState, Live, Properties, Reference, ResourceId, Step};
use crate::provider::aws::call::{self, lambda_transient, retrying};
use crate::provider::aws::clients::Aws;
use crate::provider::aws::context::Context;
use crate::provider::aws::intrinsic::Place;
use crate::provider::aws::live::LiveContext;
use crate::provider::aws::naming::{self, kind};
use crate::provider::{ProviderError, StepContext};

/// Marks a function whose event invoke configuration updraft put.
pub const DESTINATIONS_TAG: &str = "updraft:destinations";

pub struct FunctionDestinations;

/// A function's destinations: ARNs, or references to them until apply; null for none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestinationsProperties {
    pub on_success: Json,
    pub on_failure: Json,
    /// `maximumRetryAttempts`; Lambda's default (2) when none.
    #[serde(default)]
    pub maximum_retry_attempts: Option<i64>,
    /// `maximumEventAge`, seconds; Lambda's default (6 hours) when none.
    #[serde(default)]
    pub maximum_event_age_in_seconds: Option<i64>,
}

impl Typed for DestinationsProperties {}

/// One resolved destination: its ARN (or a reference to it), the service it belongs to, and
/// the resources the ARN refers to.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    pub arn: Json,
    /// `lambda`, `sqs`, `sns` or `events`.
    pub service: String,
    pub depends_on: BTreeSet<ResourceId>,
}

impl Destination {
    /// The statement that lets the execution role send to the destination.
    pub fn role_statement(&self) -> Json {
        let action = match self.service.as_str() {
            "lambda" => "lambda:InvokeFunction",
            "sqs" => "sqs:SendMessage",
            "sns" => "sns:Publish",
            _ => "events:PutEvents",
        };
        json!({"Effect": "Allow", "Action": [action], "Resource": [self.arn]})
    }
}

/// A function's `onSuccess` and `onFailure` destinations (at least one).
#[derive(Debug, Clone, PartialEq)]
pub struct Destinations {
    pub on_success: Option<Destination>,
    pub on_failure: Option<Destination>,
}

/// The destinations of function `key`, when it has any.
pub fn destinations(
    context: &Context<'_>,
    key: &str,
    function: &Function,
) -> Result<Option<Destinations>, ProviderError> {
    let Some(settings) = function.raw.get("destinations").filter(|d| !d.is_null()) else {
        return Ok(None);
    };
    let path = format!("functions.{key}.destinations");
    let span = Some(function.span);
    let Some(settings) = settings.as_object() else {
        return Err(ProviderError::Invalid {
            message: format!("`{path}` of function `{key}` is not a map"),
            span,
            help: "write `destinations: {onSuccess: ..., onFailure: ...}`".into(),
        });
    };
    if let Some(other) = settings
        .keys()
        .find(|k| !matches!(k.as_str(), "onSuccess" | "onFailure"))
    {
        return Err(crate::provider::aws::intrinsic::unsupported(
            Place {
                path: &format!("{path}.{other}"),
                span,
            },
            &format!("the destinations setting `{other}`"),
        ));
    }
    let read = |name: &str| -> Result<Option<Destination>, ProviderError> {
        match settings.get(name).filter(|d| !d.is_null()) {
            None => Ok(None),
            Some(value) => {
                destination(context, key, function, value, &format!("{path}.{name}")).map(Some)
            }
        }
    };
    let (on_success, on_failure) = (read("onSuccess")?, read("onFailure")?);
    if on_success.is_none() && on_failure.is_none() {
        return Ok(None);
    }
    Ok(Some(Destinations {
        on_success,
        on_failure,
    }))
}

fn destination(
    context: &Context<'_>,
    key: &str,
    function: &Function,
    value: &Json,
    path: &str,
) -> Result<Destination, ProviderError> {
    let span = Some(function.span);
    let unknown = |what: String| {
        ProviderError::Invalid {
        message: format!("`{path}` of function `{key}` {what}"),
        span,
        help: "give a function of the service by its key, an ARN, a `Ref` or `Fn::GetAtt` of a resource, or `{type: function|sqs|sns|eventBus, arn: ...}`".into(),
    }
    };
    // `{type, arn}`: the type says which service the ARN is of.
    let (written, given_type) = match value.as_object() {
        Some(object) if object.contains_key("arn") => {
            let service = match object.get("type").and_then(Json::as_str) {
                None => None,
                Some("function") => Some("lambda"),
                Some("sqs") => Some("sqs"),
                Some("sns") => Some("sns"),
                Some("eventBus") => Some("events"),
                Some(other) => return Err(unknown(format!("has type `{other}`"))),
            };
            (object.get("arn").unwrap_or(&Json::Null), service)
        }
        _ => (value, None),
    };
    if let Some(text) = written.as_str() {
        if text.starts_with("arn:") {
            let service = given_type
                .map(str::to_string)
                .or_else(|| arn_service(text))
                .ok_or_else(|| {
                    unknown(format!(
                        "is `{text}`, not an ARN of a function, queue, topic or event bus"
                    ))
                })?;
            return Ok(Destination {
                arn: json!(text),
                service,
                depends_on: BTreeSet::new(),
            });
        }
        // A function of the service, by its key (or its deployed name).
        let target = context.functions.get(text).or_else(|| {
            context
                .functions
                .values()
                .find(|target| target.name == text)
        });
        return match target {
            Some(target) => Ok(Destination {
                arn: json!(target.arn),
                service: "lambda".into(),
                depends_on: BTreeSet::from([target.id.clone()]),
            }),
            None => Err(unknown(format!(
                "names `{text}`, which is neither a function of the service nor an ARN"
            ))),
        };
    }
    let resolved = context.resolve(written, Place { path, span })?;
    let service = match given_type {
        Some(service) => Some(service.to_string()),
        None => match &resolved.value {
            Json::String(text) => arn_service(text),
            _ => referred_service(context, written),
        },
    };
    let Some(service) = service else {
        return Err(unknown(
            "refers to a resource whose kind updraft cannot tell: write it as `{type, arn}`".into(),
        ));
    };
    if !resolved.value.is_string() && Reference::from_json(&resolved.value).is_none() {
        return Err(unknown("is not an ARN".into()));
    }
    Ok(Destination {
        arn: resolved.value,
        service,
        depends_on: resolved.depends_on,
    })
}

/// A function's `maximumRetryAttempts` and `maximumEventAge`, checked against Lambda's limits.
fn asynchronous_limits(
    key: &str,
    function: &Function,
) -> Result<(Option<i64>, Option<i64>), ProviderError> {
    let read = |name: &str, low: i64, high: i64| -> Result<Option<i64>, ProviderError> {
        let Some(value) = function.raw.get(name).filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        match value.as_i64() {
            Some(number) if (low..=high).contains(&number) => Ok(Some(number)),
            _ => Err(ProviderError::Invalid {
                message: format!(
                    "`functions.{key}.{name}` is {value}; Lambda takes {low} to {high}"
                ),
                span: Some(function.span),
                help: format!("give `{name}` a whole number from {low} to {high}"),
            }),
        }
    };
    Ok((
        read("maximumRetryAttempts", 0, 2)?,
        read("maximumEventAge", 60, 21600)?,
    ))
}

/// The service of an ARN, when it is one a destination can be.
fn arn_service(arn: &str) -> Option<String> {
    let service = arn.split(':').nth(2)?;
    matches!(service, "lambda" | "sqs" | "sns" | "events").then(|| service.to_string())
}

/// The service of the resource a `Ref` or `Fn::GetAtt` names.
pub(super) fn referred_service(context: &Context<'_>, written: &Json) -> Option<String> {
    let name = match written.get("Fn::GetAtt") {
        Some(Json::Array(parts)) => parts.first().and_then(Json::as_str)?.to_string(),
        Some(Json::String(dotted)) => dotted.split('.').next()?.to_string(),
        _ => written.get("Ref").and_then(Json::as_str)?.to_string(),
    };
    if let Some(kind_name) = context.stack.resources.get(&name) {
        return match kind_name.as_str() {
            "AWS::Lambda::Function" => Some("lambda".into()),
            "AWS::SQS::Queue" => Some("sqs".into()),
            "AWS::SNS::Topic" => Some("sns".into()),
            "AWS::Events::EventBus" => Some("events".into()),
            _ => None,
        };
    }
    let logical = context.logical.get(&name)?;
    match logical.id.kind.as_str() {
        kind::FUNCTION => Some("lambda".into()),
        kind::QUEUE => Some("sqs".into()),
        kind::TOPIC => Some("sns".into()),
        _ => None,
    }
}

/// What the execution role needs to send to the destinations of the functions that run with
/// it.
pub fn role_statements(
    context: &Context<'_>,
) -> Result<(Vec<Json>, BTreeSet<ResourceId>), ProviderError> {
    let mut statements = Vec::new();
    let mut depends_on = BTreeSet::new();
    for (key, function) in &context.service.functions {
        if function.role.is_some() {
            continue;
        }
        let Some(found) = destinations(context, key, function)? else {
            continue;
        };
        for destination in [found.on_success, found.on_failure].into_iter().flatten() {
            let statement = destination.role_statement();
            // A function of the service is named by its known ARN: the role is made before
            // the functions, not after.
            depends_on.extend(
                destination
                    .depends_on
                    .into_iter()
                    .filter(|id| id.kind != kind::FUNCTION),
            );
            if !statements.contains(&statement) {
                statements.push(statement);
            }
        }
    }
    Ok((statements, depends_on))
}

#[async_trait]
impl ResourceKind for FunctionDestinations {
    fn kinds(&self) -> &'static [&'static str] {
        &[kind::EVENT_INVOKE_CONFIG]
    }

    fn desired(
        &self,
        context: &Context<'_>,
        state: &mut DesiredState,
    ) -> Result<(), ProviderError> {
        for (key, function) in &context.service.functions {
            let (retries, age) = asynchronous_limits(key, function)?;
            let found = match destinations(context, key, function)? {
                Some(found) => found,
                None if retries.is_some() || age.is_some() => Destinations {
                    on_success: None,
                    on_failure: None,
                },
                None => continue,
            };
            let Some(target) = context.functions.get(key) else {
                continue;
            };
            let mut depends_on = BTreeSet::from([target.id.clone()]);
            let mut arn = |destination: Option<Destination>| match destination {
                Some(destination) => {
                    depends_on.extend(destination.depends_on);
                    destination.arn
                }
                None => Json::Null,
            };
            let properties = DestinationsProperties {
                on_success: arn(found.on_success),
                on_failure: arn(found.on_failure),
                maximum_retry_attempts: retries,
                maximum_event_age_in_seconds: age,
            };
            // Lambda checks that the role may send to the destinations.
            if function.role.is_none() {
                depends_on.extend(context.role.clone());
            }
            state.resources.push(Desired {
                id: naming::id(kind::EVENT_INVOKE_CONFIG, function.name.clone()),
                properties: properties.to_properties(),
                depends_on,
                ..Desired::default()
            });
        }
        Ok(())
    }

    async fn live(&self, live: &LiveContext) -> Result<Vec<Live>, ProviderError> {
        let marked: Vec<String> = live
            .functions()
            .await?
            .iter()
            .filter(|owned| owned.tags.contains_key(DESTINATIONS_TAG))
            .filter_map(|owned| owned.configuration.function_name().map(str::to_string))
            .collect();
        let reads = marked.into_iter().map(|name| {
            let lambda = live.aws.lambda.clone();
            async move {
                match lambda
                    .get_function_event_invoke_config()
                    .function_name(&name)
                    .send()
                    .await
                {
                    Ok(answer) => {
                        let limits = (
                            answer.maximum_retry_attempts().map(i64::from),
                            answer.maximum_event_age_in_seconds().map(i64::from),
                        );
                        let config = answer.destination_config();
                        let on_success = config
                            .and_then(|c| c.on_success())
                            .and_then(|d| d.destination())
                            .map_or(Json::Null, |arn| json!(arn));
                        let on_failure = config
                            .and_then(|c| c.on_failure())
                            .and_then(|d| d.destination())
                            .map_or(Json::Null, |arn| json!(arn));
                        Ok(Some((name, on_success, on_failure, limits)))
                    }
                    Err(error) if call::is(&error, &["ResourceNotFoundException"]) => Ok(None),
                    Err(error) => Err(call::failed(
                        "lambda:GetFunctionEventInvokeConfig",
                        &name,
                        &error,
                    )),
                }
            }
        });
        let mut found = Vec::new();
        for read in crate::provider::aws::triggers::concurrently(reads).await {
            let Some((name, on_success, on_failure, (retries, age))) = read? else {
                continue;
            };
            found.push(Live {
                id: naming::id(kind::EVENT_INVOKE_CONFIG, name.clone()),
                properties: DestinationsProperties {
                    on_success,
                    on_failure,
                    maximum_retry_attempts: retries,
                    maximum_event_age_in_seconds: age,
                }
                .to_properties(),
                attributes: props::attributes([("function_name", json!(name))]),
                depends_on: BTreeSet::from([naming::id(kind::FUNCTION, name)]),
            });
        }
        Ok(found)
    }

    async fn apply(
        &self,
        aws: &Aws,
        step: &Step,
        properties: &Properties,
        context: &StepContext<'_>,
    ) -> Result<Properties, ProviderError> {
        let name = step.id.name.as_str();
        let function_arn = aws.arn("lambda", &format!("function:{name}"));
        if step.action == Action::Delete {
            match aws
                .lambda
                .delete_function_event_invoke_config()
                .function_name(name)
                .send()
                .await
            {
                Ok(_) => {}
                Err(error) if call::is(&error, &["ResourceNotFoundException"]) => {}
                Err(error) => {
                    return Err(call::failed(
                        "lambda:DeleteFunctionEventInvokeConfig",
                        &step.id,
                        &error,
                    ))
                }
            }
            match aws
                .lambda
                .untag_resource()
                .resource(&function_arn)
                .tag_keys(DESTINATIONS_TAG)
                .send()
                .await
            {
                Ok(_) => {}
                Err(error) if call::is(&error, &["ResourceNotFoundException"]) => {}
                Err(error) => return Err(call::failed("lambda:UntagResource", &step.id, &error)),
            }
            return Ok(Properties::new());
        }
        let wanted = DestinationsProperties::from_properties(properties, &step.id)?;
        let text = |value: &Json| value.as_str().map(str::to_string);
        let config = DestinationConfig::builder()
            .set_on_success(
                text(&wanted.on_success).map(|arn| OnSuccess::builder().destination(arn).build()),
            )
            .set_on_failure(
                text(&wanted.on_failure).map(|arn| OnFailure::builder().destination(arn).build()),
            )
            .build();
        // Put replaces the whole configuration, so create and update are the same call.
        let put = aws
            .lambda
            .put_function_event_invoke_config()
            .function_name(name)
            .destination_config(config)
            .set_maximum_retry_attempts(
                wanted
                    .maximum_retry_attempts
                    .and_then(|n| i32::try_from(n).ok()),
            )
            .set_maximum_event_age_in_seconds(
                wanted
                    .maximum_event_age_in_seconds
                    .and_then(|n| i32::try_from(n).ok()),
            );
        retrying(context, &step.id, lambda_transient, || put.clone().send())
            .await
            .map_err(|e| call::failed("lambda:PutFunctionEventInvokeConfig", &step.id, &e))?;
        let tag = aws
            .lambda
            .tag_resource()
            .resource(&function_arn)
            .tags(DESTINATIONS_TAG, "1");
        retrying(context, &step.id, lambda_transient, || tag.clone().send())
            .await
            .map_err(|e| call::failed("lambda:TagResource", &step.id, &e))?;
        Ok(props::attributes([("function_name", json!(name))]))
    }
}
