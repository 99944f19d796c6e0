//! Applying one planned step on Google Cloud.
//!
//! - A function's zip goes up through `generateUploadUrl` and a PUT carrying exactly the header
//!   the URL was signed with; the function is created with its id, or PATCHed with an
//!   `updateMask` naming only the fields that changed (a PATCH without one resets every other
//!   field). Each change is a long-running operation, polled until done with its stages shown.
//! - A scheduler job is created or updated whole; its OIDC token is the function's account.
//! - The public-invoker binding adds or removes `allUsers` in the `roles/run.invoker` binding of
//!   the function's Cloud Run service, leaving every other member as it is.
//!
//! Another operation in progress on the same resource (409) is waited out until the step's
//! deadline.

use std::time::Duration;

use google_cloud_functions_v2::model::{Function, OperationMetadata};
use google_cloud_longrunning::model::operation::Result as OperationResult;
use google_cloud_longrunning::model::Operation;
use google_cloud_scheduler_v1::model::Job;
use serde_json::{json, Value as Json};

use super::backend::GcpBackend;
use super::call::{self, Api, Failure};
use super::desired::{
    FunctionProperties, PublicInvokerProperties, SchedulerJobProperties, ALL_USERS, CODE_LABEL,
    FUNCTION, INVOKER_ROLE, PUBLIC_INVOKER, SCHEDULER_JOB,
};
use super::request::{self, StorageSource};
use crate::plan::{Action, Properties, Step};
use crate::provider::typed::Typed;
use crate::provider::{ProviderError, StepContext};

/// Applies `step` with its resolved `properties`; returns the resource's attributes.
pub async fn apply(
    backend: &GcpBackend,
    step: &Step,
    properties: &Properties,
    context: &StepContext<'_>,
) -> Result<Properties, ProviderError> {
    match step.id.kind.as_str() {
        FUNCTION => function(backend, step, properties, context).await,
        SCHEDULER_JOB => job(backend, step, properties, context).await,
        PUBLIC_INVOKER => invoker(backend, step, properties).await,
        other => Err(ProviderError::Internal {
            resource: step.id.clone(),
            message: format!("no Google Cloud resource kind `{other}`"),
        }),
    }
}

async fn function(
    backend: &GcpBackend,
    step: &Step,
    properties: &Properties,
    context: &StepContext<'_>,
) -> Result<Properties, ProviderError> {
    let name = format!("{}/functions/{}", backend.parent(), step.id.name);
    if matches!(step.action, Action::Delete | Action::Replace) {
        delete_function(backend, step, &name, context).await?;
        if step.action == Action::Delete {
            return Ok(Properties::new());
        }
    }
    let wanted = FunctionProperties::from_properties(properties, &step.id)?;
    let current = FunctionProperties::live_of(step)?.filter(|_| step.action == Action::Update);
    let operation = match current {
        None => {
            let source = upload(backend, step, context).await?;
            let body = request::function_body(&name, &wanted, Some(&source));
            let function = typed::<Function>(&step.id, body)?;
            retrying(context, step, || {
                backend
                    .clients
                    .functions
                    .create_function()
                    .set_parent(backend.parent())
                    .set_function_id(&step.id.name)
                    .set_function(function.clone())
                    .send()
            })
            .await
            .map_err(|e| call::failed(Api::Functions, "functions.create", &name, &e))?
        }
        Some(current) => {
            let code_changed =
                context.force || current.labels.get(CODE_LABEL) != wanted.labels.get(CODE_LABEL);
            let changed: Vec<&str> = step.changes.iter().map(|c| c.field.as_str()).collect();
            let mask = request::update_mask(changed, code_changed);
            if mask.is_empty() {
                // Nothing to send: a PATCH without a mask would replace the whole function.
                return Ok(current_attributes(step));
            }
            let source = if code_changed {
                Some(upload(backend, step, context).await?)
            } else {
                None
            };
            let body = request::function_body(&name, &wanted, source.as_ref());
            let function = typed::<Function>(&step.id, body)?;
            let paths: Vec<String> = mask.split(',').map(str::to_string).collect();
            retrying(context, step, || {
                backend
                    .clients
                    .functions
                    .update_function()
                    .set_function(function.clone())
                    .set_update_mask(
                        google_cloud_wkt::FieldMask::default().set_paths(paths.clone()),
                    )
                    .send()
            })
            .await
            .map_err(|e| call::failed(Api::Functions, "functions.patch", &name, &e))?
        }
    };
    let done = wait(backend, step, operation, context).await?;
    let function = match done.and_then(|any| any.to_msg::<Function>().ok()) {
        Some(function) => function,
        None => backend
            .clients
            .functions
            .get_function()
            .set_name(&name)
            .send()
            .await
            .map_err(|e| call::failed(Api::Functions, "functions.get", &name, &e))?,
    };
    Ok(function_attributes(&function))
}

/// The live attributes of a step's resource, unchanged.
fn current_attributes(step: &Step) -> Properties {
    step.live
        .as_ref()
        .map(|live| live.attributes.clone())
        .unwrap_or_default()
}

/// What other resources refer to: the URL, the Cloud Run service, the runtime account.
fn function_attributes(function: &Function) -> Properties {
    let config = function.service_config.clone().unwrap_or_default();
    let mut attributes = Properties::new();
    attributes.insert("url".into(), json!(config.uri));
    attributes.insert("service".into(), json!(config.service));
    attributes.insert(
        "serviceAccountEmail".into(),
        json!(config.service_account_email),
    );
    attributes.insert(
        "state".into(),
        json!(function.state.name().unwrap_or_default()),
    );
    attributes
}

async fn delete_function(
    backend: &GcpBackend,
    step: &Step,
    name: &str,
    context: &StepContext<'_>,
) -> Result<(), ProviderError> {
    let deleted = retrying(context, step, || {
        backend
            .clients
            .functions
            .delete_function()
            .set_name(name)
            .send()
    })
    .await;
    match deleted {
        Ok(operation) => wait(backend, step, operation, context).await.map(|_| ()),
        Err(error) if call::failure(&error) == Failure::NotFound => Ok(()),
        Err(error) => Err(call::failed(
            Api::Functions,
            "functions.delete",
            name,
            &error,
        )),
    }
}

/// Uploads the step's zip through a signed upload URL; returns where it went.
async fn upload(
    backend: &GcpBackend,
    step: &Step,
    context: &StepContext<'_>,
) -> Result<StorageSource, ProviderError> {
    let path = step
        .desired
        .as_ref()
        .and_then(|d| d.inputs.get("source"))
        .and_then(Json::as_str)
        .ok_or_else(|| ProviderError::Internal {
            resource: step.id.clone(),
            message: "the function has no packaged source".into(),
        })?;
    let zip = tokio::fs::read(path)
        .await
        .map_err(|error| ProviderError::Call {
            operation: "upload".into(),
            resource: path.to_string(),
            message: format!("the package cannot be read: {error}"),
            help: "run `updraft package` again".into(),
        })?;
    context.progress.waiting(&step.id, "uploading the code");
    let parent = backend.parent();
    let answer = backend
        .clients
        .functions
        .generate_upload_url()
        .set_parent(&parent)
        .send()
        .await
        .map_err(|e| call::failed(Api::Functions, "functions.generateUploadUrl", &parent, &e))?;
    // The URL is signed for this one header: another header (or none) is refused.
    let put = backend
        .clients
        .http
        .put(&answer.upload_url)
        .header("content-type", "application/zip")
        .body(zip)
        .send()
        .await
        .map_err(|error| ProviderError::Call {
            operation: "upload".into(),
            resource: step.id.to_string(),
            message: format!("the code upload failed: {error}"),
            help: "check the network and run the command again".into(),
        })?;
    if !put.status().is_success() {
        let status = put.status();
        let text = put.text().await.unwrap_or_default();
        return Err(ProviderError::Call {
            operation: "upload".into(),
            resource: step.id.to_string(),
            message: format!("the upload URL answered {status}: {}", text.trim()),
            help: "run the command again; an upload URL is valid for a few minutes".into(),
        });
    }
    let source = answer.storage_source.unwrap_or_default();
    Ok(StorageSource {
        bucket: source.bucket,
        object: source.object,
    })
}

/// Polls `operation` until it is done or the step's deadline passes, showing its stages;
/// returns its response.
async fn wait(
    backend: &GcpBackend,
    step: &Step,
    mut operation: Operation,
    context: &StepContext<'_>,
) -> Result<Option<google_cloud_wkt::Any>, ProviderError> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(100);
    let mut shown = String::new();
    loop {
        if operation.done {
            return match operation.result {
                Some(OperationResult::Error(status)) => Err(ProviderError::Call {
                    operation: "functions operation".into(),
                    resource: step.id.to_string(),
                    message: status.message.clone(),
                    help: "the build or deployment failed on Google's side: the message above \
                           says why (the function's build log is linked in the console)"
                        .into(),
                }),
                Some(OperationResult::Response(response)) => Ok(Some(*response)),
                _ => Ok(None),
            };
        }
        let stages = operation
            .metadata
            .as_ref()
            .and_then(|any| any.to_msg::<OperationMetadata>().ok())
            .map(|metadata| stages(&metadata))
            .unwrap_or_default();
        if !stages.is_empty() && stages != shown {
            context.progress.waiting(&step.id, &stages);
            shown = stages;
        }
        let left = context.remaining();
        if left.is_zero() {
            return Err(ProviderError::Timeout {
                resource: step.id.clone(),
                seconds: started.elapsed().as_secs(),
                state: format!("operation {} still running ({shown})", operation.name),
            });
        }
        tokio::time::sleep(pause.min(left)).await;
        pause = (pause * 2).min(Duration::from_secs(5));
        operation = backend
            .clients
            .functions
            .get_operation()
            .set_name(&operation.name)
            .send()
            .await
            .map_err(|e| call::failed(Api::Functions, "operations.get", &operation.name, &e))?;
    }
}

/// "build: succeeded, service: in progress".
fn stages(metadata: &OperationMetadata) -> String {
    metadata
        .stages
        .iter()
        .filter_map(|stage| {
            let name = stage.name.name()?.to_lowercase();
            let state = stage.state.name()?.to_lowercase().replace('_', " ");
            Some(format!("{name}: {state}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn job(
    backend: &GcpBackend,
    step: &Step,
    properties: &Properties,
    context: &StepContext<'_>,
) -> Result<Properties, ProviderError> {
    let name = format!("{}/jobs/{}", backend.parent(), step.id.name);
    let scheduler = &backend.clients.scheduler;
    if matches!(step.action, Action::Delete | Action::Replace) {
        match scheduler.delete_job().set_name(&name).send().await {
            Ok(_) => {}
            Err(error) if call::failure(&error) == Failure::NotFound => {}
            Err(error) => return Err(call::failed(Api::Scheduler, "jobs.delete", &name, &error)),
        }
        if step.action == Action::Delete {
            return Ok(Properties::new());
        }
    }
    let wanted = SchedulerJobProperties::from_properties(properties, &step.id)?;
    let job = typed::<Job>(&step.id, request::scheduler_job_body(&name, &wanted))?;
    let created = if step.action == Action::Update {
        None
    } else {
        Some(
            retrying(context, step, || {
                scheduler
                    .create_job()
                    .set_parent(backend.parent())
                    .set_job(job.clone())
                    .send()
            })
            .await,
        )
    };
    match created {
        Some(Ok(_)) => {}
        // Made by a deploy that stopped before recording it: make it match instead.
        Some(Err(error)) if call::failure(&error) == Failure::Conflict => {
            update_job(backend, &name, job, step, context).await?
        }
        Some(Err(error)) => return Err(call::failed(Api::Scheduler, "jobs.create", &name, &error)),
        None => update_job(backend, &name, job, step, context).await?,
    }
    Ok([("name".to_string(), json!(name))].into())
}

async fn update_job(
    backend: &GcpBackend,
    name: &str,
    job: Job,
    step: &Step,
    context: &StepContext<'_>,
) -> Result<(), ProviderError> {
    let mask =
        google_cloud_wkt::FieldMask::default().set_paths(["schedule", "time_zone", "http_target"]);
    retrying(context, step, || {
        backend
            .clients
            .scheduler
            .update_job()
            .set_job(job.clone())
            .set_update_mask(mask.clone())
            .send()
    })
    .await
    .map(|_| ())
    .map_err(|e| call::failed(Api::Scheduler, "jobs.patch", name, &e))
}

async fn invoker(
    backend: &GcpBackend,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let service = match step.action {
        Action::Delete => step
            .live
            .as_ref()
            .and_then(|live| live.properties.get("service"))
            .and_then(Json::as_str)
            .map(str::to_string),
        _ => PublicInvokerProperties::from_properties(properties, &step.id)?
            .service
            .as_str()
            .map(str::to_string),
    }
    .unwrap_or_default();
    let run = &backend.clients.run;
    let policy = match run.get_iam_policy().set_resource(&service).send().await {
        Ok(policy) => policy,
        Err(error)
            if step.action == Action::Delete && call::failure(&error) == Failure::NotFound =>
        {
            return Ok(Properties::new())
        }
        Err(error) => {
            return Err(call::failed(
                Api::Run,
                "services.getIamPolicy",
                &service,
                &error,
            ))
        }
    };
    let mut policy = policy;
    let public = step.action != Action::Delete;
    let mut bindings = std::mem::take(&mut policy.bindings);
    match bindings.iter_mut().find(|b| b.role == INVOKER_ROLE) {
        Some(binding) => {
            binding.members.retain(|member| member != ALL_USERS);
            if public {
                binding.members.push(ALL_USERS.into());
            }
        }
        None if public => bindings.push(
            google_cloud_iam_v1::model::Binding::default()
                .set_role(INVOKER_ROLE)
                .set_members([ALL_USERS]),
        ),
        None => {}
    }
    bindings.retain(|binding| !binding.members.is_empty());
    policy.bindings = bindings;
    run.set_iam_policy()
        .set_resource(&service)
        .set_policy(policy)
        .send()
        .await
        .map_err(|e| call::failed(Api::Run, "services.setIamPolicy", &service, &e))?;
    Ok(Properties::new())
}

/// Runs `call` again while Google answers that another operation on the resource is in
/// progress, until the step's deadline.
async fn retrying<T, F, Fut>(
    context: &StepContext<'_>,
    step: &Step,
    mut call: F,
) -> Result<T, google_cloud_gax::error::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, google_cloud_gax::error::Error>>,
{
    let mut pause = Duration::from_millis(500);
    loop {
        match call().await {
            Err(error)
                if call::failure(&error) == Failure::Conflict
                    && in_progress(&error)
                    && context.remaining() > pause =>
            {
                context
                    .progress
                    .waiting(&step.id, "another operation on it is in progress; waiting");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(10));
            }
            other => return other,
        }
    }
}

/// A 409 that says an operation is running (not "already exists").
fn in_progress(error: &google_cloud_gax::error::Error) -> bool {
    let message = error
        .status()
        .map(|s| s.message.to_lowercase())
        .unwrap_or_default();
    message.contains("in progress") || message.contains("operation")
}

/// A request body updraft built (and tests check against the discovery documents) as the
/// client library's type.
fn typed<T: serde::de::DeserializeOwned>(
    resource: &crate::plan::ResourceId,
    body: Json,
) -> Result<T, ProviderError> {
    serde_json::from_value(body).map_err(|error| ProviderError::Internal {
        resource: resource.clone(),
        message: format!("the request body does not read as the client's type: {error}"),
    })
}
