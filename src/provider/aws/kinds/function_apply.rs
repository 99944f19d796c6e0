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
    Architecture, DeadLetterConfig, Environment, EphemeralStorage, FileSystemConfig, FunctionCode,
    ImageConfig, LastUpdateStatus, PackageType, Runtime, State, TracingConfig, TracingMode,
    VpcConfig,
};

use super::function::{FunctionProperties, BOOKKEEPING_TAGS, RESERVED_CONCURRENCY_TAG};
use super::{props, TagChange, Typed};
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
    if step.action == Action::Delete {
        delete(aws, step).await?;
        return Ok(Properties::new());
    }
    let wanted = FunctionProperties::from_properties(properties, &step.id)?;
    match step.action {
        Action::Replace => {
            delete(aws, step).await?;
            create(aws, step, &wanted, context).await
        }
        Action::Create => create(aws, step, &wanted, context).await,
        _ => {
            let current = FunctionProperties::live_of(step)?;
            let changes = Changes::between(current.as_ref(), &wanted);
            let live_tags = current.map(|c| c.tags).unwrap_or_default();
            update(aws, step, &wanted, context, changes, &live_tags).await?;
            Ok(attributes(aws, name))
        }
    }
}

/// What an update has to send.
#[derive(Debug, Clone, Copy)]
struct Changes {
    configuration: bool,
    code: bool,
    reserved: bool,
    tags: bool,
}

impl Changes {
    /// Everything, for a function whose live state is not known.
    const ALL: Changes = Changes {
        configuration: true,
        code: true,
        reserved: true,
        tags: true,
    };

    fn between(current: Option<&FunctionProperties>, wanted: &FunctionProperties) -> Changes {
        let Some(current) = current else {
            return Changes::ALL;
        };
        Changes {
            configuration: current.configuration_differs(wanted),
            code: current.code_differs(wanted),
            reserved: current.reserved_concurrency != wanted.reserved_concurrency,
            tags: current.tags != wanted.tags,
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

/// A resolved JSON value as the text Lambda takes.
fn text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn environment(wanted: &FunctionProperties) -> Environment {
    let variables: HashMap<String, String> = wanted
        .environment
        .iter()
        .map(|(key, value)| (key.clone(), text(value).unwrap_or_default()))
        .collect();
    Environment::builder()
        .set_variables(Some(variables))
        .build()
}

fn layers(wanted: &FunctionProperties) -> Vec<String> {
    wanted.layers.iter().filter_map(text).collect()
}

fn int(value: Option<i64>) -> Option<i32> {
    value.and_then(|n| i32::try_from(n).ok())
}

fn reserved(wanted: &FunctionProperties) -> Option<i32> {
    wanted
        .reserved_concurrency
        .and_then(|n| i32::try_from(n).ok())
}

/// The tags to set: the desired ones plus the bookkeeping of reserved concurrency.
fn tags_to_set(wanted: &FunctionProperties) -> BTreeMap<String, String> {
    let mut tags = wanted.tags.clone();
    if let Some(reserved) = wanted.reserved_concurrency {
        tags.insert(RESERVED_CONCURRENCY_TAG.into(), reserved.to_string());
    }
    tags
}

fn ephemeral_storage(
    wanted: &FunctionProperties,
    id: &ResourceId,
) -> Result<Option<EphemeralStorage>, ProviderError> {
    let Some(size) = int(wanted.ephemeral_storage) else {
        return Ok(None);
    };
    EphemeralStorage::builder()
        .size(size)
        .build()
        .map(Some)
        .map_err(|error| ProviderError::Internal {
            resource: id.clone(),
            message: format!("ephemeral storage: {error}"),
        })
}

fn tracing(wanted: &FunctionProperties) -> Option<TracingConfig> {
    wanted.tracing.as_deref().map(|mode| {
        TracingConfig::builder()
            .mode(TracingMode::from(mode))
            .build()
    })
}

/// The VPC to set; empty lists take the function out of its VPC.
fn vpc(wanted: &FunctionProperties) -> VpcConfig {
    let ids = |list: Option<&Vec<serde_json::Value>>| -> Vec<String> {
        list.map(|ids| ids.iter().filter_map(text).collect())
            .unwrap_or_default()
    };
    let vpc = wanted.vpc.as_ref();
    VpcConfig::builder()
        .set_security_group_ids(Some(ids(vpc.map(|v| &v.security_group_ids))))
        .set_subnet_ids(Some(ids(vpc.map(|v| &v.subnet_ids))))
        .build()
}

/// The file systems to mount; an empty list unmounts.
fn file_systems(
    wanted: &FunctionProperties,
    id: &ResourceId,
) -> Result<Vec<FileSystemConfig>, ProviderError> {
    wanted
        .file_system
        .iter()
        .map(|file_system| {
            FileSystemConfig::builder()
                .set_arn(text(&file_system.arn))
                .local_mount_path(&file_system.local_mount_path)
                .build()
                .map_err(|error| ProviderError::Internal {
                    resource: id.clone(),
                    message: format!("file system: {error}"),
                })
        })
        .collect()
}

/// The image's overrides; empty ones put back the image's own.
fn image_config(wanted: &FunctionProperties) -> ImageConfig {
    let image = wanted.image.as_ref();
    ImageConfig::builder()
        .set_command(Some(image.map(|i| i.command.clone()).unwrap_or_default()))
        .set_entry_point(Some(
            image.map(|i| i.entry_point.clone()).unwrap_or_default(),
        ))
        .set_working_directory(image.and_then(|i| i.working_directory.clone()))
        .build()
}

fn is_image(wanted: &FunctionProperties) -> bool {
    wanted.package_type.as_deref() == Some("Image")
}

/// Where the code comes from: the artifact in the deployment bucket, or the image.
fn code(step: &Step, wanted: &FunctionProperties) -> Result<FunctionCode, ProviderError> {
    if is_image(wanted) {
        return Ok(FunctionCode::builder()
            .set_image_uri(wanted.image_uri.clone())
            .build());
    }
    Ok(FunctionCode::builder()
        .s3_bucket(props::input(step, "s3_bucket")?)
        .s3_key(props::input(step, "s3_key")?)
        .build())
}

fn architectures(wanted: &FunctionProperties) -> Vec<Architecture> {
    vec![Architecture::from(wanted.architecture.as_str())]
}

async fn create(
    aws: &Aws,
    step: &Step,
    wanted: &FunctionProperties,
    context: &StepContext<'_>,
) -> Result<Properties, ProviderError> {
    let name = step.id.name.as_str();
    let request = aws
        .lambda
        .create_function()
        .function_name(name)
        .set_role(text(&wanted.role))
        .set_handler(wanted.handler.clone())
        .set_runtime(wanted.runtime.as_deref().map(Runtime::from))
        .set_memory_size(int(wanted.memory_size))
        .set_timeout(int(wanted.timeout))
        .environment(environment(wanted))
        .set_layers(Some(layers(wanted)))
        .set_description(wanted.description.clone())
        .set_architectures(Some(architectures(wanted)))
        .set_ephemeral_storage(ephemeral_storage(wanted, &step.id)?)
        .set_tracing_config(tracing(wanted))
        .set_kms_key_arn(text(&wanted.kms_key_arn))
        .set_dead_letter_config(
            text(&wanted.dead_letter_target)
                .map(|arn| DeadLetterConfig::builder().target_arn(arn).build()),
        )
        .set_vpc_config(wanted.vpc.is_some().then(|| vpc(wanted)))
        .set_file_system_configs(Some(file_systems(wanted, &step.id)?))
        .package_type(if is_image(wanted) {
            PackageType::Image
        } else {
            PackageType::Zip
        })
        .set_image_config(is_image(wanted).then(|| image_config(wanted)))
        .code(code(step, wanted)?)
        .set_tags(Some(tags_to_set(wanted).into_iter().collect()))
        .publish(false);
    let created = retrying(context, &step.id, role_not_yet_assumable, || {
        request.clone().send()
    })
    .await;
    match created {
        Ok(_) => {}
        Err(error) if call::is(&error, &["ResourceConflictException"]) => {
            // It exists: a deploy stopped after creating it. Adopt it if it is ours.
            adopt(aws, step, wanted, context).await?;
            return Ok(attributes(aws, name));
        }
        Err(error) => return Err(call::failed("lambda:CreateFunction", &step.id, &error)),
    }
    if let Some(reserved) = reserved(wanted) {
        wait_idle(aws, &step.id, context).await?;
        set_reserved(aws, step, Some(reserved), context).await?;
    }
    Ok(attributes(aws, name))
}

async fn adopt(
    aws: &Aws,
    step: &Step,
    wanted: &FunctionProperties,
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
    // What a stopped deploy left is not known field by field: set everything.
    update(aws, step, wanted, context, Changes::ALL, &live_tags).await
}

async fn update(
    aws: &Aws,
    step: &Step,
    wanted: &FunctionProperties,
    context: &StepContext<'_>,
    changes: Changes,
    live_tags: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    let name = step.id.name.as_str();
    if changes.configuration {
        wait_idle(aws, &step.id, context).await?;
        let request = aws
            .lambda
            .update_function_configuration()
            .function_name(name)
            .set_role(text(&wanted.role))
            .set_handler(wanted.handler.clone())
            .set_runtime(wanted.runtime.as_deref().map(Runtime::from))
            .set_memory_size(int(wanted.memory_size))
            .set_timeout(int(wanted.timeout))
            .environment(environment(wanted))
            .set_layers(Some(layers(wanted)))
            .description(wanted.description.clone().unwrap_or_default())
            .set_ephemeral_storage(ephemeral_storage(wanted, &step.id)?)
            .set_tracing_config(tracing(wanted))
            // An empty key ARN goes back to Lambda's own key.
            .kms_key_arn(text(&wanted.kms_key_arn).unwrap_or_default())
            // An empty target ARN takes the dead-letter target away.
            .dead_letter_config(
                DeadLetterConfig::builder()
                    .target_arn(text(&wanted.dead_letter_target).unwrap_or_default())
                    .build(),
            )
            .vpc_config(vpc(wanted))
            .set_file_system_configs(Some(file_systems(wanted, &step.id)?))
            .set_image_config(is_image(wanted).then(|| image_config(wanted)));
        retrying(
            context,
            &step.id,
            |error| lambda_transient(error).or_else(|| role_not_yet_assumable(error)),
            || request.clone().send(),
        )
        .await
        .map_err(|e| call::failed("lambda:UpdateFunctionConfiguration", &step.id, &e))?;
    }
    if changes.code || context.force {
        wait_idle(aws, &step.id, context).await?;
        let request = aws.lambda.update_function_code().function_name(name);
        let request = if is_image(wanted) {
            request.set_image_uri(wanted.image_uri.clone())
        } else {
            request
                .s3_bucket(props::input(step, "s3_bucket")?)
                .s3_key(props::input(step, "s3_key")?)
        }
        .set_architectures(Some(architectures(wanted)));
        retrying(context, &step.id, lambda_transient, || {
            request.clone().send()
        })
        .await
        .map_err(|e| call::failed("lambda:UpdateFunctionCode", &step.id, &e))?;
    }
    if changes.reserved {
        set_reserved(aws, step, reserved(wanted), context).await?;
    }
    if changes.tags || changes.reserved {
        let arn = aws.arn("lambda", &format!("function:{name}"));
        let wanted = tags_to_set(wanted);
        let mut change = TagChange::between(live_tags, &wanted);
        if !wanted.contains_key(RESERVED_CONCURRENCY_TAG) {
            change.remove.push(RESERVED_CONCURRENCY_TAG.into());
        }
        let arn = &arn;
        change
            .send(
                |remove| async move {
                    aws.lambda
                        .untag_resource()
                        .resource(arn)
                        .set_tag_keys(Some(remove))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| call::failed("lambda:UntagResource", &step.id, &e))
                },
                |set| async move {
                    aws.lambda
                        .tag_resource()
                        .resource(arn)
                        .set_tags(Some(set.into_iter().collect()))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| call::failed("lambda:TagResource", &step.id, &e))
                },
            )
            .await?;
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
