//! The service's CloudFormation stack: the `resources:` that updraft does not deploy itself
//! (tables, buckets, policies, any type CloudFormation knows), rendered by
//! [`crate::provider::aws::stack_template`].
//!
//! Live: DescribeStacks and GetTemplate for the stack's name (`{service}-{stage}`, and any
//! other name the deploy state recorded); a stack counts as the service's only with its
//! `updraft:stack` tag, so a Serverless Framework stack of the same name is never adopted.
//! The stack is tagged with that one marker rather than the ownership pair because
//! CloudFormation copies stack tags onto what it creates, and the stack's resources belong to
//! the stack, not to updraft's own kinds.
//!
//! Apply: CreateStack or UpdateStack with the whole template, waited for; an update that
//! CloudFormation finds holds no change is done. The plan itself comes from comparing the
//! template with GetTemplate's, resource property by resource property, so it needs no call
//! and a no-op deploy touches nothing. A stack left in a failed state is brought back first (a failed create is
//! deleted, a stuck rollback continued), so running `deploy` again converges; a failure names
//! each resource CloudFormation gave a reason for.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{Capability, Parameter, Stack, Tag};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use super::{ResourceKind, Typed};
use crate::plan::{Action, Desired, DesiredState, Live, Properties, Step};
use crate::provider::aws::call;
use crate::provider::aws::clients::Aws;
use crate::provider::aws::context::{text, Context};
use crate::provider::aws::deploy_state::DeployState;
use crate::provider::aws::intrinsic::{unsupported, Place};
use crate::provider::aws::live::LiveContext;
use crate::provider::aws::naming;
use crate::provider::aws::stack_template::{
    flatten, status_property, unflatten, PLACEHOLDER, READY, SECTIONS, STACK,
};
use crate::provider::{ProviderError, StepContext};

pub struct Stacks;

/// The tag that marks a stack as the service's: `{service}/{stage}`.
pub const STACK_TAG: &str = "updraft:stack";

/// The stack's properties: the template, flattened ([`flatten`]), its tags and its status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackProperties {
    #[serde(flatten)]
    pub template: BTreeMap<String, Json>,
    pub tags: BTreeMap<String, String>,
    pub status: String,
}

impl Typed for StackProperties {}

fn marker(service: &str, stage: &str) -> String {
    format!("{service}/{stage}")
}

#[async_trait]
impl ResourceKind for Stacks {
    fn kinds(&self) -> &'static [&'static str] {
        &[STACK]
    }

    fn desired(
        &self,
        context: &Context<'_>,
        state: &mut DesiredState,
    ) -> Result<(), ProviderError> {
        let mut depends_on = BTreeSet::new();
        let mut template = Map::new();
        let sections = context.service.resources.as_ref().and_then(Json::as_object);
        for (section, value) in sections.into_iter().flatten() {
            let path = format!("resources.{section}");
            let place = Place {
                path: &path,
                span: None,
            };
            if !SECTIONS.contains(&section.as_str()) {
                let what = if section == "extensions" {
                    "`resources.extensions` (it changes resources the Serverless Framework generates; updraft generates none)".to_string()
                } else {
                    format!("the template section `{section}`")
                };
                return Err(unsupported(place, &what));
            }
            if section != "Resources" {
                let resolved = context.stack_expression(value, place)?;
                depends_on.extend(resolved.depends_on);
                template.insert(section.clone(), resolved.value);
                continue;
            }
            let mut resources = Map::new();
            for (logical, resource) in value.as_object().into_iter().flatten() {
                if !context.stack.resources.contains_key(logical) {
                    continue;
                }
                let path = format!("resources.Resources.{logical}");
                let place = Place {
                    path: &path,
                    span: None,
                };
                let mut resource = resource.as_object().cloned().unwrap_or_default();
                // `DependsOn` a resource outside the stack orders the stack after it.
                if let Some(named) = resource.remove("DependsOn") {
                    let named: Vec<String> = match named {
                        Json::String(one) => vec![one],
                        Json::Array(many) => many
                            .iter()
                            .filter_map(Json::as_str)
                            .map(str::to_string)
                            .collect(),
                        _ => Vec::new(),
                    };
                    let (inside, outside): (Vec<String>, Vec<String>) = named
                        .into_iter()
                        .partition(|name| context.stack.resources.contains_key(name));
                    for name in outside {
                        match context.logical.get(&name) {
                            Some(found) => {
                                depends_on.insert(found.id.clone());
                            }
                            None => {
                                return Err(ProviderError::Invalid {
                                    message: format!("`{path}.DependsOn` names `{name}`, which the service does not define"),
                                    span: None,
                                    help: "name a resource under `resources.Resources` or a function as `{Key}LambdaFunction`".into(),
                                })
                            }
                        }
                    }
                    if !inside.is_empty() {
                        resource.insert("DependsOn".into(), json!(inside));
                    }
                }
                let resolved = context.stack_expression(&Json::Object(resource), place)?;
                depends_on.extend(resolved.depends_on);
                resources.insert(logical.clone(), resolved.value);
            }
            if !resources.is_empty() {
                template.insert("Resources".into(), Json::Object(resources));
            }
        }
        let generated = context.stack_outputs.borrow();
        if !generated.is_empty() {
            let outputs = template
                .entry("Outputs".to_string())
                .or_insert_with(|| json!({}));
            if let Some(outputs) = outputs.as_object_mut() {
                for (key, output) in generated.iter() {
                    depends_on.extend(output.depends_on.iter().cloned());
                    outputs.insert(key.clone(), json!({ "Value": output.value }));
                }
            }
        }
        if template.is_empty() {
            return Ok(());
        }
        // A stack needs one resource, even one that only evaluates outputs.
        if !template.contains_key("Resources") {
            template.insert(
                "Resources".into(),
                json!({ PLACEHOLDER: {"Type": "AWS::CloudFormation::WaitConditionHandle"} }),
            );
        }
        depends_on.remove(&context.stack.id);
        let mut tags: BTreeMap<String, String> = context
            .service
            .provider
            .raw
            .get("stackTags")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
            .map(|(key, value)| (key.clone(), text(value)))
            .collect();
        tags.insert(STACK_TAG.into(), marker(&context.name, &context.stage));
        let properties = StackProperties {
            template: flatten(&template).into_iter().collect(),
            tags,
            status: READY.into(),
        };
        let mut inputs = Properties::new();
        if let Some(parameters) = context.service.provider.raw.get("stackParameters") {
            inputs.insert("parameters".into(), parameters.clone());
        }
        if let Some(role) = context.service.provider.raw.get("cfnRole") {
            let resolved = context.resolve_text(
                role,
                Place {
                    path: "provider.cfnRole",
                    span: None,
                },
            )?;
            inputs.insert("role_arn".into(), resolved.value);
        }
        state.resources.push(Desired {
            id: context.stack.id.clone(),
            properties: properties.to_properties(),
            depends_on,
            inputs,
            replace_when: BTreeSet::new(),
        });
        Ok(())
    }

    async fn live(&self, live: &LiveContext) -> Result<Vec<Live>, ProviderError> {
        let mut found = Vec::new();
        for stack in live.stacks().await? {
            let name = stack.stack_name().unwrap_or_default().to_string();
            if let Some(only) = &live.only {
                if !only.contains(&naming::id(STACK, name.clone())) {
                    continue;
                }
            }
            let tags = tags_of(stack);
            let body = live
                .aws
                .cloudformation
                .get_template()
                .stack_name(&name)
                .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
                .send()
                .await
                .map_err(|e| call::failed("cloudformation:GetTemplate", &name, &e))?;
            let template: Map<String, Json> = body
                .template_body()
                .and_then(|text| serde_json::from_str(text).ok())
                .unwrap_or_default();
            let status = stack
                .stack_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            let properties = StackProperties {
                template: flatten(&template).into_iter().collect(),
                tags,
                status: status_property(&status),
            };
            found.push(Live {
                id: naming::id(STACK, name.clone()),
                properties: properties.to_properties(),
                attributes: outputs_of(stack),
                depends_on: BTreeSet::new(),
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
        let name = step.id.name.clone();
        if step.action == Action::Delete {
            delete(aws, step, &name, context).await?;
            return Ok(Properties::new());
        }
        let wanted = StackProperties::from_properties(properties, &step.id)?;
        let template = unflatten(&wanted.template.clone().into_iter().collect());
        let inputs = step.desired.as_ref().map(|d| &d.inputs);
        let parameters = parameters(inputs.and_then(|i| i.get("parameters")));
        let role_arn = inputs
            .and_then(|i| i.get("role_arn"))
            .and_then(Json::as_str)
            .map(str::to_string);
        // Bring a stack in a state that takes no change set back first.
        let mut current = settle(aws, step, &name, context).await?;
        if current
            .as_ref()
            .and_then(Stack::stack_status)
            .is_some_and(|s| s.as_str() == "REVIEW_IN_PROGRESS")
        {
            // A change set made elsewhere was never executed: the stack has nothing yet.
            delete(aws, step, &name, context).await?;
            current = None;
        }
        match current
            .as_ref()
            .and_then(Stack::stack_status)
            .map(|s| s.as_str())
        {
            Some("ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "DELETE_FAILED") => {
                context.progress.waiting(
                    &step.id,
                    "the stack's first create failed: deleting it to create it again",
                );
                delete(aws, step, &name, context).await?;
                current = None;
            }
            Some("UPDATE_ROLLBACK_FAILED") => {
                context
                    .progress
                    .waiting(&step.id, "continuing the stack's stuck rollback");
                aws.cloudformation
                    .continue_update_rollback()
                    .stack_name(&name)
                    .send()
                    .await
                    .map_err(|e| {
                        call::failed("cloudformation:ContinueUpdateRollback", &name, &e)
                    })?;
                current = settle(aws, step, &name, context).await?;
            }
            _ => {}
        }
        let body = serde_json::to_string(&Json::Object(template)).map_err(|e| {
            ProviderError::Internal {
                resource: step.id.clone(),
                message: e.to_string(),
            }
        })?;
        let tags: Vec<Tag> = wanted
            .tags
            .iter()
            .map(|(key, value)| Tag::builder().key(key).value(value).build())
            .collect();
        let capabilities = [
            Capability::CapabilityIam,
            Capability::CapabilityNamedIam,
            Capability::CapabilityAutoExpand,
        ];
        let operation = if current.is_none() {
            "cloudformation:CreateStack"
        } else {
            "cloudformation:UpdateStack"
        };
        let sent = match current {
            None => aws
                .cloudformation
                .create_stack()
                .stack_name(&name)
                .template_body(body)
                .set_parameters(Some(parameters))
                .set_role_arn(role_arn)
                .set_capabilities(Some(capabilities.to_vec()))
                .set_tags(Some(tags))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| refusal(operation, &name, &e)),
            Some(_) => aws
                .cloudformation
                .update_stack()
                .stack_name(&name)
                .template_body(body)
                .set_parameters(Some(parameters))
                .set_role_arn(role_arn)
                .set_capabilities(Some(capabilities.to_vec()))
                .set_tags(Some(tags))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| refusal(operation, &name, &e)),
        };
        match sent {
            Ok(()) => {}
            // The template and tags are what the stack has (the plan saw another status).
            Err((_, message, _)) if message.contains("No updates are to be performed") => {
                let stack = describe(aws, &name).await?;
                return Ok(stack.as_ref().map(outputs_of).unwrap_or_default());
            }
            Err((code, _, _)) if code == "AlreadyExistsException" => {
                return Err(ProviderError::Call {
                    operation: operation.into(),
                    resource: name.clone(),
                    message: format!("a stack named {name} exists that updraft did not create (it has no `{STACK_TAG}` tag): the Serverless Framework's stack for this service?"),
                    help: "remove that stack (`serverless remove`), or give updraft's stack another name with `provider.stackName`".into(),
                })
            }
            Err((_, _, error)) => return Err(error),
        }
        let stack = settle(aws, step, &name, context).await?;
        let status = stack
            .as_ref()
            .and_then(Stack::stack_status)
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "gone".into());
        if !matches!(status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE") {
            return Err(failure(aws, &name, operation, &status).await);
        }
        Ok(stack.as_ref().map(outputs_of).unwrap_or_default())
    }
}

/// The service's stacks: `{service}-{stage}` and the names the deploy state recorded, each
/// only when it carries the service's [`STACK_TAG`].
pub async fn owned(aws: &Aws, state: &DeployState) -> Result<Vec<Stack>, ProviderError> {
    let scope = &aws.scope;
    let mut names: BTreeSet<String> = state.stacks.clone();
    names.insert(naming::prefix(&scope.service, &scope.stage));
    let wanted = marker(&scope.service, &scope.stage);
    let mut found = Vec::new();
    for name in names {
        let Some(stack) = describe(aws, &name).await? else {
            continue;
        };
        if tags_of(&stack).get(STACK_TAG) == Some(&wanted) {
            found.push(stack);
        }
    }
    Ok(found)
}

/// A refused CreateStack or UpdateStack: its code, its message and the error to report.
fn refusal<E, R>(
    operation: &str,
    name: &str,
    error: &aws_sdk_cloudformation::error::SdkError<E, R>,
) -> (String, String, ProviderError)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    (
        error.code().unwrap_or_default().to_string(),
        error.message().unwrap_or_default().to_string(),
        call::failed(operation, name, error),
    )
}

/// The stack, or `None` when there is none by that name.
async fn describe(aws: &Aws, name: &str) -> Result<Option<Stack>, ProviderError> {
    match aws
        .cloudformation
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
    {
        Ok(answer) => Ok(answer
            .stacks()
            .iter()
            .find(|s| s.stack_status().map(|s| s.as_str()) != Some("DELETE_COMPLETE"))
            .cloned()),
        Err(e)
            if e.code() == Some("ValidationError")
                && e.message().is_some_and(|m| m.contains("does not exist")) =>
        {
            Ok(None)
        }
        Err(e) => Err(call::failed("cloudformation:DescribeStacks", name, &e)),
    }
}

/// Waits while the stack is in a state that ends by itself (`..._IN_PROGRESS`), with progress
/// messages, until the step's deadline. Returns the stack as it settled.
async fn settle(
    aws: &Aws,
    step: &Step,
    name: &str,
    context: &StepContext<'_>,
) -> Result<Option<Stack>, ProviderError> {
    let mut pause = Duration::from_millis(250);
    loop {
        let stack = describe(aws, name).await?;
        let status = stack
            .as_ref()
            .and_then(Stack::stack_status)
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if !status.ends_with("_IN_PROGRESS") || status == "REVIEW_IN_PROGRESS" {
            return Ok(stack);
        }
        if context.remaining() <= pause {
            return Err(ProviderError::Timeout {
                resource: step.id.clone(),
                seconds: context.remaining().as_secs(),
                state: format!("the stack is still {status}"),
            });
        }
        context
            .progress
            .waiting(&step.id, &format!("the stack is {status}"));
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

async fn delete(
    aws: &Aws,
    step: &Step,
    name: &str,
    context: &StepContext<'_>,
) -> Result<(), ProviderError> {
    if describe(aws, name).await?.is_none() {
        return Ok(());
    }
    aws.cloudformation
        .delete_stack()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| call::failed("cloudformation:DeleteStack", name, &e))?;
    match settle(aws, step, name, context).await? {
        None => Ok(()),
        Some(stack) => {
            let status = stack
                .stack_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            Err(failure(aws, name, "cloudformation:DeleteStack", &status).await)
        }
    }
}

/// An error for a stack that ended in `status`, with the reasons CloudFormation gave for each
/// resource that failed in the last operation.
async fn failure(aws: &Aws, name: &str, operation: &str, status: &str) -> ProviderError {
    let mut reasons = Vec::new();
    if let Ok(answer) = aws
        .cloudformation
        .describe_stack_events()
        .stack_name(name)
        .send()
        .await
    {
        for event in answer.stack_events() {
            let state = event
                .resource_status()
                .map(|s| s.as_str())
                .unwrap_or_default();
            let is_stack = event.resource_type() == Some("AWS::CloudFormation::Stack");
            if is_stack && state.ends_with("_IN_PROGRESS") && reasons.is_empty() {
                continue;
            }
            if is_stack && state.ends_with("_IN_PROGRESS") {
                break;
            }
            if state.ends_with("_FAILED") {
                if let Some(reason) = event.resource_status_reason() {
                    reasons.push(format!(
                        "{}: {reason}",
                        event.logical_resource_id().unwrap_or(name)
                    ));
                }
            }
        }
    }
    reasons.dedup();
    let message = if reasons.is_empty() {
        format!("the stack ended in {status}")
    } else {
        format!("the stack ended in {status}: {}", reasons.join("; "))
    };
    ProviderError::Call {
        operation: operation.into(),
        resource: name.to_string(),
        message,
        help: "fix what CloudFormation says about the resources it names under `resources:`, then run the command again: the stack is brought back first".into(),
    }
}

fn tags_of(stack: &Stack) -> BTreeMap<String, String> {
    stack
        .tags()
        .iter()
        .filter_map(|tag| Some((tag.key()?.to_string(), tag.value()?.to_string())))
        .collect()
}

fn outputs_of(stack: &Stack) -> Properties {
    stack
        .outputs()
        .iter()
        .filter_map(|output| {
            Some((
                output.output_key()?.to_string(),
                json!(output.output_value()?),
            ))
        })
        .collect()
}

/// `provider.stackParameters`: `[{ParameterKey, ParameterValue}]`.
fn parameters(given: Option<&Json>) -> Vec<Parameter> {
    given
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            Some(
                Parameter::builder()
                    .parameter_key(entry.get("ParameterKey")?.as_str()?)
                    .parameter_value(text(entry.get("ParameterValue")?))
                    .build(),
            )
        })
        .collect()
}
