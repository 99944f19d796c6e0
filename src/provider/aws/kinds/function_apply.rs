//! Creating, updating and deleting Lambda functions, and waiting for them.
//!
//! Lambda takes one change at a time per function: an update sent while `LastUpdateStatus` is
//! `InProgress` fails with `ResourceConflictException`. So every update first waits until the
//! function is idle, and a create or update is followed by a wait until it is `Active` and
//! `Successful` (up to the step's deadline, telling the user). Conflicts and throttling are
//! retried; a create is also retried while IAM propagates a new role. A create that finds the
//! function (a deploy stopped after the create was sent) adopts it if it carries the ownership
//! tags, and updates it to the desired state.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_lambda::types::{
    Architecture, Environment, FunctionCode, LastUpdateStatus, Runtime, State,
};

use super::function::{BOOKKEEPING_TAGS, CONFIGURATION, RESERVED_CONCURRENCY_TAG};
use super::{props, TagChange};
use crate::plan::{Action, Properties, ResourceId, Step};
use crate::provider::aws::call::{self, lambda_transient, retrying, role_not_yet_assumable};
use crate::provider::aws::clients::Aws;
use crate::provider::{ProviderError, StepContext};

pub async fn apply(
    aws: &Aws,
    step: &Step,
    properties: &Properties,
    context: &StepContext<'_>,
) -> Result<Properties, ProviderError> {
    let name = step.id.name.as_str();
    match step.action {
        Action::Delete => {
            delete(aws, step).await?;
            Ok(Properties::new())
        }
        Action::Replace => {
            delete(aws, step).await?;
            create(aws, step, properties, context).await
        }
        Action::Create => create(aws, step, properties, context).await,
        Action::Update | Action::NoOp => {
            let changed: Vec<&str> = step.changes.iter().map(|c| c.field.as_str()).collect();
            let live_tags = step
                .live
                .as_ref()
                .map(|live| props::strings(&live.properties, "tags"))
                .unwrap_or_default();
            update(aws, step, properties, context, &changed, &live_tags).await?;
            Ok(attributes(aws, name))
        }
    }
}

fn attributes(aws: &Aws, name: &str) -> Properties {
    props::attributes([
        (
            "arn",
            serde_json::json!(aws.arn("lambda", &format!("function:{name}"))),
        ),
        ("name", serde_json::json!(name)),
    ])
}

fn environment(properties: &Properties) -> Environment {
    let variables: HashMap<String, String> = props::strings(properties, "environment")
        .into_iter()
        .collect();
    Environment::builder()
        .set_variables(Some(variables))
        .build()
}

fn layers(properties: &Properties) -> Vec<String> {
    properties
        .get("layers")
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|l| l.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn int(properties: &Properties, name: &str) -> Option<i32> {
    props::number(properties, name).and_then(|n| i32::try_from(n).ok())
}

/// The tags to set: the desired ones plus the bookkeeping of reserved concurrency.
fn tags_to_set(properties: &Properties) -> BTreeMap<String, String> {
    let mut tags = props::strings(properties, "tags");
    if let Some(reserved) = props::number(properties, "reserved_concurrency") {
        tags.insert(RESERVED_CONCURRENCY_TAG.into(), reserved.to_string());
    }
    tags
}

async fn create(
    aws: &Aws,
    step: &Step,
    properties: &Properties,
    context: &StepContext<'_>,
) -> Result<Properties, ProviderError> {
    let name = step.id.name.as_str();
    let request = aws
        .lambda
        .create_function()
        .function_name(name)
        .set_role(props::string(properties, "role"))
        .set_handler(props::string(properties, "handler"))
        .set_runtime(props::string(properties, "runtime").map(|r| Runtime::from(r.as_str())))
        .set_memory_size(int(properties, "memory_size"))
        .set_timeout(int(properties, "timeout"))
        .environment(environment(properties))
        .set_layers(Some(layers(properties)))
        .set_description(props::string(properties, "description"))
        .set_architectures(
            props::string(properties, "architecture").map(|a| vec![Architecture::from(a.as_str())]),
        )
        .code(
            FunctionCode::builder()
                .s3_bucket(props::input(step, "s3_bucket")?)
                .s3_key(props::input(step, "s3_key")?)
                .build(),
        )
        .set_tags(Some(tags_to_set(properties).into_iter().collect()))
        .publish(false);
    let created = retrying(context, &step.id, role_not_yet_assumable, || {
        request.clone().send()
    })
    .await;
    match created {
        Ok(_) => {}
        Err(error) if call::is(&error, &["ResourceConflictException"]) => {
            // It exists: a deploy stopped after creating it. Adopt it if it is ours.
            adopt(aws, step, properties, context).await?;
            return Ok(attributes(aws, name));
        }
        Err(error) => return Err(call::failed("lambda:CreateFunction", &step.id, &error)),
    }
    if let Some(reserved) = int(properties, "reserved_concurrency") {
        wait_idle(aws, &step.id, context).await?;
        set_reserved(aws, step, Some(reserved), context).await?;
    }
    Ok(attributes(aws, name))
}

async fn adopt(
    aws: &Aws,
    step: &Step,
    properties: &Properties,
    context: &StepContext<'_>,
) -> Result<(), ProviderError> {
    let found = aws
        .lambda
        .get_function()
        .function_name(&step.id.name)
        .send()
        .await
        .map_err(|e| call::failed("lambda:GetFunction", &step.id, &e))?;
    let tags: BTreeMap<String, String> = found
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    if !aws.owns(&tags) {
        return Err(ProviderError::Call {
            operation: "lambda:CreateFunction".into(),
            resource: step.id.to_string(),
            message: format!(
                "a function named {} exists and does not belong to {} stage {}",
                step.id.name, aws.scope.service, aws.scope.stage
            ),
            help: "delete or rename that function, or give this one another `name`".into(),
        });
    }
    let live_tags: BTreeMap<String, String> = tags
        .into_iter()
        .filter(|(k, _)| !BOOKKEEPING_TAGS.contains(&k.as_str()))
        .collect();
    let everything: Vec<&str> = CONFIGURATION
        .iter()
        .copied()
        .chain([
            "code_sha256",
            "architecture",
            "tags",
            "reserved_concurrency",
        ])
        .collect();
    update(aws, step, properties, context, &everything, &live_tags).await
}

async fn update(
    aws: &Aws,
    step: &Step,
    properties: &Properties,
    context: &StepContext<'_>,
    changed: &[&str],
    live_tags: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    let name = step.id.name.as_str();
    let touches = |fields: &[&str]| changed.iter().any(|c| fields.contains(c));
    if touches(CONFIGURATION) {
        wait_idle(aws, &step.id, context).await?;
        let request = aws
            .lambda
            .update_function_configuration()
            .function_name(name)
            .set_role(props::string(properties, "role"))
            .set_handler(props::string(properties, "handler"))
            .set_runtime(props::string(properties, "runtime").map(|r| Runtime::from(r.as_str())))
            .set_memory_size(int(properties, "memory_size"))
            .set_timeout(int(properties, "timeout"))
            .environment(environment(properties))
            .set_layers(Some(layers(properties)))
            .description(props::string(properties, "description").unwrap_or_default());
        retrying(
            context,
            &step.id,
            |error| lambda_transient(error).or_else(|| role_not_yet_assumable(error)),
            || request.clone().send(),
        )
        .await
        .map_err(|e| call::failed("lambda:UpdateFunctionConfiguration", &step.id, &e))?;
    }
    if touches(&["code_sha256", "architecture"]) || context.force {
        wait_idle(aws, &step.id, context).await?;
        let request = aws
            .lambda
            .update_function_code()
            .function_name(name)
            .s3_bucket(props::input(step, "s3_bucket")?)
            .s3_key(props::input(step, "s3_key")?)
            .set_architectures(
                props::string(properties, "architecture")
                    .map(|a| vec![Architecture::from(a.as_str())]),
            );
        retrying(context, &step.id, lambda_transient, || {
            request.clone().send()
        })
        .await
        .map_err(|e| call::failed("lambda:UpdateFunctionCode", &step.id, &e))?;
    }
    if touches(&["reserved_concurrency"]) {
        set_reserved(aws, step, int(properties, "reserved_concurrency"), context).await?;
    }
    if touches(&["tags", "reserved_concurrency"]) {
        let arn = aws.arn("lambda", &format!("function:{name}"));
        let wanted = tags_to_set(properties);
        let mut change = TagChange::between(live_tags, &wanted);
        if !wanted.contains_key(RESERVED_CONCURRENCY_TAG) {
            change.remove.push(RESERVED_CONCURRENCY_TAG.into());
        }
        if !change.remove.is_empty() {
            let untag = aws
                .lambda
                .untag_resource()
                .resource(&arn)
                .set_tag_keys(Some(change.remove));
            untag
                .send()
                .await
                .map_err(|e| call::failed("lambda:UntagResource", &step.id, &e))?;
        }
        if !change.set.is_empty() {
            let tag = aws
                .lambda
                .tag_resource()
                .resource(&arn)
                .set_tags(Some(change.set.into_iter().collect()));
            tag.send()
                .await
                .map_err(|e| call::failed("lambda:TagResource", &step.id, &e))?;
        }
    }
    Ok(())
}

async fn set_reserved(
    aws: &Aws,
    step: &Step,
    reserved: Option<i32>,
    context: &StepContext<'_>,
) -> Result<(), ProviderError> {
    match reserved {
        Some(count) => {
            let request = aws
                .lambda
                .put_function_concurrency()
                .function_name(&step.id.name)
                .reserved_concurrent_executions(count);
            retrying(context, &step.id, lambda_transient, || {
                request.clone().send()
            })
            .await
            .map(|_| ())
            .map_err(|e| call::failed("lambda:PutFunctionConcurrency", &step.id, &e))
        }
        None => {
            let request = aws
                .lambda
                .delete_function_concurrency()
                .function_name(&step.id.name);
            retrying(context, &step.id, lambda_transient, || {
                request.clone().send()
            })
            .await
            .map(|_| ())
            .map_err(|e| call::failed("lambda:DeleteFunctionConcurrency", &step.id, &e))
        }
    }
}

async fn delete(aws: &Aws, step: &Step) -> Result<(), ProviderError> {
    match aws
        .lambda
        .delete_function()
        .function_name(&step.id.name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if call::is(&error, &["ResourceNotFoundException"]) => Ok(()),
        Err(error) => Err(call::failed("lambda:DeleteFunction", &step.id, &error)),
    }
}

/// Waits until the function is `Active` and no update is `InProgress`, telling the user while
/// it waits; an error when it failed or the deadline passed.
pub async fn wait_idle(
    aws: &Aws,
    id: &ResourceId,
    context: &StepContext<'_>,
) -> Result<(), ProviderError> {
    let mut pause = Duration::from_millis(250);
    let started = std::time::Instant::now();
    loop {
        let configuration = aws
            .lambda
            .get_function_configuration()
            .function_name(&id.name)
            .send()
            .await
            .map_err(|e| call::failed("lambda:GetFunctionConfiguration", id, &e))?;
        let state = configuration.state().cloned();
        let update = configuration.last_update_status().cloned();
        if matches!(state, Some(State::Failed)) || matches!(update, Some(LastUpdateStatus::Failed))
        {
            let reason = configuration
                .last_update_status_reason()
                .or(configuration.state_reason())
                .unwrap_or("no reason given");
            return Err(ProviderError::Call {
                operation: "lambda:GetFunctionConfiguration".into(),
                resource: id.to_string(),
                message: format!("the function's last change failed: {reason}"),
                help: "fix what the reason says (often the role or the code), then deploy again"
                    .into(),
            });
        }
        let busy = matches!(state, Some(State::Pending))
            || matches!(update, Some(LastUpdateStatus::InProgress));
        if !busy {
            return Ok(());
        }
        if context.remaining() <= pause {
            return Err(ProviderError::Timeout {
                resource: id.clone(),
                seconds: started.elapsed().as_secs(),
                state: format!(
                    "state {}, last update {}",
                    state.as_ref().map_or("unknown", |s| s.as_str()),
                    update.as_ref().map_or("unknown", |u| u.as_str())
                ),
            });
        }
        context
            .progress
            .waiting(id, "waiting for the function to finish updating");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}
