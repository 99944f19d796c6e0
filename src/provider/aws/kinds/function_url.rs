//! Lambda function URLs (`url: true` or `url: {authorizer: aws_iam, cors, invokeMode}`), with
//! the public-invoke permission an unauthenticated URL needs.
//!
//! Lambda has no call that lists URLs for many functions, so updraft records on the function,
//! in [`URL_TAG`] and [`URL_CONFIG_TAG`], the URL and what it configured (auth type, invoke
//! mode and a fingerprint of the CORS settings): the live state comes from the tags the
//! function listing already has, and a no-op deploy costs no call per URL. A change made to a
//! URL in the console alone is therefore not seen as drift; CORS shows in plans as its
//! fingerprint.

use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_lambda::types::{Cors, FunctionUrlAuthType, InvokeMode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use super::{props, ResourceKind, Typed};
use crate::plan::{Action, Desired, DesiredState, Live, Properties, Step};
use crate::provider::aws::call::{self, lambda_transient, retrying};
use crate::provider::aws::clients::Aws;
use crate::provider::aws::context::Context;
use crate::provider::aws::live::LiveContext;
use crate::provider::aws::naming::{self, kind};
use crate::provider::{Endpoint, ProviderError, StepContext};

pub const URL_TAG: &str = "updraft:url";
pub const URL_CONFIG_TAG: &str = "updraft:url-config";
const PERMISSION_ID: &str = "updraft-function-url";

pub struct FunctionUrls;

fn cors_of(settings: &Json) -> Json {
    let cors = settings.get("cors");
    let list = |value: Option<&Json>| -> Json {
        match value {
            Some(Json::Array(items)) => json!(items),
            Some(Json::String(one)) => json!([one]),
            _ => Json::Null,
        }
    };
    match cors {
        None | Some(Json::Null) | Some(Json::Bool(false)) => Json::Null,
        Some(Json::Bool(true)) => json!({
            "allow_origins": ["*"],
            "allow_headers": ["Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key", "X-Amz-Security-Token"],
            "allow_methods": ["*"],
        }),
        Some(object) => json!({
            "allow_origins": list(object.get("allowedOrigins")).as_array().map_or(json!(["*"]), |a| json!(a)),
            "allow_headers": list(object.get("allowedHeaders")),
            "allow_methods": list(object.get("allowedMethods")).as_array().map_or(json!(["*"]), |a| json!(a)),
            "allow_credentials": object.get("allowCredentials"),
            "expose_headers": list(object.get("exposedResponseHeaders")),
            "max_age": object.get("maxAge"),
        }),
    }
}

/// A function URL's properties. Its CORS settings are compared by fingerprint (the whole
/// settings go to apply as an input).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionUrlProperties {
    /// `NONE` or `AWS_IAM`.
    pub auth_type: String,
    /// `BUFFERED` or `RESPONSE_STREAM`.
    pub invoke_mode: String,
    pub cors_fingerprint: String,
}

impl Typed for FunctionUrlProperties {}

fn fingerprint(cors: &Json) -> String {
    if cors.is_null() {
        return "none".into();
    }
    hex::encode(&Sha256::digest(cors.to_string().as_bytes())[..6])
}

#[async_trait]
impl ResourceKind for FunctionUrls {
    fn kinds(&self) -> &'static [&'static str] {
        &[kind::FUNCTION_URL]
    }

    fn desired(
        &self,
        context: &Context<'_>,
        state: &mut DesiredState,
    ) -> Result<(), ProviderError> {
        for (key, function) in &context.service.functions {
            let Some(settings) = &function.url else {
                continue;
            };
            let Some(target) = context.functions.get(key) else {
                continue;
            };
            let auth = match settings.get("authorizer").and_then(Json::as_str) {
                Some("aws_iam") => "AWS_IAM",
                Some(other) => {
                    return Err(ProviderError::Invalid {
                        message: format!("`functions.{key}.url.authorizer` is `{other}`"),
                        span: Some(function.span),
                        help: "a function URL's authorizer is `aws_iam`, or none for a public URL"
                            .into(),
                    })
                }
                None => "NONE",
            };
            let invoke_mode = settings
                .get("invokeMode")
                .and_then(Json::as_str)
                .unwrap_or("BUFFERED");
            let cors = cors_of(settings);
            state.resources.push(Desired {
                id: naming::id(kind::FUNCTION_URL, function.name.clone()),
                properties: FunctionUrlProperties {
                    auth_type: auth.to_string(),
                    invoke_mode: invoke_mode.to_string(),
                    cors_fingerprint: fingerprint(&cors),
                }
                .to_properties(),
                inputs: Properties::from([("cors".into(), cors)]),
                depends_on: BTreeSet::from([target.id.clone()]),
                ..Desired::default()
            });
        }
        Ok(())
    }

    async fn live(&self, live: &LiveContext) -> Result<Vec<Live>, ProviderError> {
        Ok(live
            .functions()
            .await?
            .iter()
            .filter_map(|owned| {
                let name = owned.configuration.function_name()?;
                let config = owned.tags.get(URL_CONFIG_TAG)?;
                let mut parts = config.split(' ');
                let (auth, mode, cors) = (parts.next()?, parts.next()?, parts.next()?);
                Some(Live {
                    id: naming::id(kind::FUNCTION_URL, name),
                    properties: FunctionUrlProperties {
                        auth_type: auth.to_string(),
                        invoke_mode: mode.to_string(),
                        cors_fingerprint: cors.to_string(),
                    }
                    .to_properties(),
                    attributes: props::attributes([
                        ("url", json!(owned.tags.get(URL_TAG))),
                        ("function_name", json!(name)),
                    ]),
                    depends_on: BTreeSet::from([naming::id(kind::FUNCTION, name)]),
                })
            })
            .collect())
    }

    fn endpoints(&self, live: &Live) -> Vec<Endpoint> {
        let Some(url) = live.attributes.get("url").and_then(Json::as_str) else {
            return Vec::new();
        };
        vec![Endpoint {
            kind: "url".into(),
            method: None,
            url: url.to_string(),
            function: Some(live.id.name.clone()),
        }]
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
                .delete_function_url_config()
                .function_name(name)
                .send()
                .await
            {
                Ok(_) => {}
                Err(error) if call::is(&error, &["ResourceNotFoundException"]) => {
                    return Ok(Properties::new())
                }
                Err(error) => {
                    return Err(call::failed(
                        "lambda:DeleteFunctionUrlConfig",
                        &step.id,
                        &error,
                    ))
                }
            }
            let _ = aws
                .lambda
                .remove_permission()
                .function_name(name)
                .statement_id(PERMISSION_ID)
                .send()
                .await;
            let untag = aws
                .lambda
                .untag_resource()
                .resource(&function_arn)
                .tag_keys(URL_TAG)
                .tag_keys(URL_CONFIG_TAG);
            match untag.send().await {
                Ok(_) => {}
                Err(error) if call::is(&error, &["ResourceNotFoundException"]) => {}
                Err(error) => return Err(call::failed("lambda:UntagResource", &step.id, &error)),
            }
            return Ok(Properties::new());
        }
        let wanted = FunctionUrlProperties::from_properties(properties, &step.id)?;
        let (auth, mode) = (wanted.auth_type.clone(), wanted.invoke_mode.clone());
        let cors = step
            .desired
            .as_ref()
            .and_then(|d| d.inputs.get("cors"))
            .cloned()
            .unwrap_or(Json::Null);
        let cors_config = lambda_cors(&cors);
        let create = aws
            .lambda
            .create_function_url_config()
            .function_name(name)
            .auth_type(FunctionUrlAuthType::from(auth.as_str()))
            .invoke_mode(InvokeMode::from(mode.as_str()))
            .set_cors(cors_config.clone());
        let url = match create.send().await {
            Ok(answer) => answer.function_url().to_string(),
            Err(error) if call::is(&error, &["ResourceConflictException"]) => {
                let update = aws
                    .lambda
                    .update_function_url_config()
                    .function_name(name)
                    .auth_type(FunctionUrlAuthType::from(auth.as_str()))
                    .invoke_mode(InvokeMode::from(mode.as_str()))
                    .cors(cors_config.unwrap_or_else(|| Cors::builder().build()));
                retrying(context, &step.id, lambda_transient, || {
                    update.clone().send()
                })
                .await
                .map_err(|e| call::failed("lambda:UpdateFunctionUrlConfig", &step.id, &e))?
                .function_url()
                .to_string()
            }
            Err(error) => {
                return Err(call::failed(
                    "lambda:CreateFunctionUrlConfig",
                    &step.id,
                    &error,
                ))
            }
        };
        if auth == "NONE" {
            let permission = aws
                .lambda
                .add_permission()
                .function_name(name)
                .statement_id(PERMISSION_ID)
                .action("lambda:InvokeFunctionUrl")
                .principal("*")
                .function_url_auth_type(FunctionUrlAuthType::None);
            match permission.send().await {
                Ok(_) => {}
                Err(error) if call::is(&error, &["ResourceConflictException"]) => {}
                Err(error) => return Err(call::failed("lambda:AddPermission", &step.id, &error)),
            }
        } else {
            let _ = aws
                .lambda
                .remove_permission()
                .function_name(name)
                .statement_id(PERMISSION_ID)
                .send()
                .await;
        }
        let config = format!("{auth} {mode} {}", wanted.cors_fingerprint);
        let tag = aws
            .lambda
            .tag_resource()
            .resource(&function_arn)
            .tags(URL_TAG, &url)
            .tags(URL_CONFIG_TAG, config);
        retrying(context, &step.id, lambda_transient, || tag.clone().send())
            .await
            .map_err(|e| call::failed("lambda:TagResource", &step.id, &e))?;
        Ok(props::attributes([
            ("url", json!(url)),
            ("function_name", json!(name)),
        ]))
    }
}

fn lambda_cors(cors: &Json) -> Option<Cors> {
    if cors.is_null() {
        return None;
    }
    let strings = |key: &str| -> Option<Vec<String>> {
        cors.get(key)?.as_array().map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
    };
    Some(
        Cors::builder()
            .set_allow_origins(strings("allow_origins"))
            .set_allow_headers(strings("allow_headers"))
            .set_allow_methods(strings("allow_methods"))
            .set_expose_headers(strings("expose_headers"))
            .set_allow_credentials(cors.get("allow_credentials").and_then(Json::as_bool))
            .set_max_age(
                cors.get("max_age")
                    .and_then(Json::as_i64)
                    .and_then(|n| i32::try_from(n).ok()),
            )
            .build(),
    )
}
