//! Applying one planned step on Azure.
//!
//! - The resource group, storage account, plan and Application Insights component are created
//!   with a PUT of their whole body; a change of tags alone goes through the tags API (`Replace`),
//!   which touches nothing else.
//! - The Function App is created with a PUT carrying its settings and its Flex Consumption
//!   configuration (runtime, instance memory, deployment container). An update sends only what
//!   changed: a PATCH of `functionAppConfig` for the runtime or scale, the tags API for tags, and
//!   the settings as one map, which Azure replaces whole: the map sent is what the app holds now,
//!   without what updraft wrote before, plus what it writes now.
//! - The code is zipped with its `host.json` and `function.json` files and sent with OneDeploy
//!   (`POST /api/publish`), then the deployment's status is polled; its hash is then written to
//!   the app's `updraft-code` tag. A deployment already in progress (409) is waited out.
//!
//! Every change that Azure runs as a long-running operation is followed to its end (see
//! [`super::arm`]), with the step's deadline.

use std::collections::BTreeMap;
use std::time::Duration;

use azure_core::http::Method;
use serde_json::{json, Value as Json};

use super::arm::{ArmError, Wait};
use super::backend::AzureBackend;
use super::blob;
use super::resources::{
    CodeProperties, FunctionAppProperties, InsightsProperties, PlanProperties,
    ResourceGroupProperties, StorageAccountProperties, CODE, CODE_TAG, DEPLOYMENT_CONTAINER,
    FUNCTION_APP, INSIGHTS, INSIGHTS_API, OWNED_SETTINGS, PLAN, RESOURCES_API, RESOURCE_GROUP,
    STORAGE_ACCOUNT, STORAGE_API, WEB_API,
};
use crate::plan::{Action, Properties, Step};
use crate::provider::typed::Typed;
use crate::provider::{ProviderError, StepContext};

/// The tags API's version.
const TAGS_API: &str = "2021-04-01";
/// Settings updraft writes from what Azure answers (they hold keys); never in a plan.
const CONNECTION_SETTINGS: &[&str] = &[
    "AzureWebJobsStorage",
    "DEPLOYMENT_STORAGE_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
];
/// How long to wait before trying a change refused as conflicting again.
const CONFLICT_PAUSE: Duration = Duration::from_secs(2);

/// Applies `step` with its resolved `properties`; returns the resource's attributes.
pub async fn apply(
    backend: &AzureBackend,
    step: &Step,
    properties: &Properties,
    context: &StepContext<'_>,
) -> Result<Properties, ProviderError> {
    let report = |message: &str| context.progress.waiting(&step.id, message);
    let wait = Wait {
        deadline: context.deadline,
        report: &report,
        longest_pause: backend.longest_pause,
    };
    let kind = step.id.kind.as_str();
    if matches!(step.action, Action::Delete | Action::Replace) {
        delete(backend, step, &wait).await?;
        if step.action == Action::Delete {
            return Ok(Properties::new());
        }
    }
    let creating = step.action != Action::Update;
    let failed = |operation: &str, error: ArmError| backend.failed(operation, &step.id, error);
    match kind {
        RESOURCE_GROUP => {
            let wanted = ResourceGroupProperties::from_properties(properties, &step.id)?;
            let path = backend.names.group_path();
            if creating || changed(step, "location") {
                create_group(backend, &wanted, &wait)
                    .await
                    .map_err(|e| failed("create the resource group", e))?;
            } else {
                set_tags(backend, &path, &wanted.tags, &wait)
                    .await
                    .map_err(|e| failed("tag the resource group", e))?;
            }
            Ok(Properties::new())
        }
        STORAGE_ACCOUNT => {
            let wanted = StorageAccountProperties::from_properties(properties, &step.id)?;
            // A PUT on an existing account updates it; the PATCH body (another definition)
            // would save nothing, as only the SKU and tags can change here.
            if creating || changed(step, "sku") || changed(step, "tags") {
                create_storage(backend, &wanted, &wait)
                    .await
                    .map_err(|e| failed("write the storage account", e))?;
            }
            let account = backend.storage_account().await?;
            Ok([("blobEndpoint".to_string(), json!(account.blob_endpoint))].into())
        }
        PLAN => {
            let wanted = PlanProperties::from_properties(properties, &step.id)?;
            let path = backend.names.plan_path();
            if creating {
                let body = json!({
                    "location": wanted.location,
                    "kind": "functionapp",
                    "sku": {"name": wanted.sku, "tier": "FlexConsumption"},
                    "properties": {"reserved": true},
                    "tags": wanted.tags,
                });
                put(backend, &path, WEB_API, &body, &wait)
                    .await
                    .map_err(|e| failed("create the Flex Consumption plan", e))?;
            } else {
                set_tags(backend, &path, &wanted.tags, &wait)
                    .await
                    .map_err(|e| failed("tag the plan", e))?;
            }
            Ok(Properties::new())
        }
        INSIGHTS => {
            let wanted = InsightsProperties::from_properties(properties, &step.id)?;
            let path = backend.names.insights_path();
            if creating {
                let body = json!({
                    "location": wanted.location,
                    "kind": "web",
                    "properties": {"Application_Type": wanted.application_type},
                    "tags": wanted.tags,
                });
                put(backend, &path, INSIGHTS_API, &body, &wait)
                    .await
                    .map_err(|e| failed("create the Application Insights component", e))?;
            } else {
                set_tags(backend, &path, &wanted.tags, &wait)
                    .await
                    .map_err(|e| failed("tag the Application Insights component", e))?;
            }
            Ok(Properties::new())
        }
        FUNCTION_APP => function_app(backend, step, properties, &wait).await,
        CODE => code(backend, step, properties, context, &wait).await,
        other => Err(ProviderError::Internal {
            resource: step.id.clone(),
            message: format!("no Azure resource kind `{other}`"),
        }),
    }
}

/// Creates (or updates whole) the resource group.
pub async fn create_group(
    backend: &AzureBackend,
    wanted: &ResourceGroupProperties,
    wait: &Wait<'_>,
) -> Result<Json, ArmError> {
    let body = json!({"location": wanted.location, "tags": wanted.tags});
    put(
        backend,
        &backend.names.group_path(),
        RESOURCES_API,
        &body,
        wait,
    )
    .await
}

/// Creates (or updates whole) the storage account: key access on, public blobs off, TLS 1.2.
pub async fn create_storage(
    backend: &AzureBackend,
    wanted: &StorageAccountProperties,
    wait: &Wait<'_>,
) -> Result<Json, ArmError> {
    let body = json!({
        "location": wanted.location,
        "kind": wanted.kind,
        "sku": {"name": wanted.sku},
        "tags": wanted.tags,
        "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": false},
    });
    put(
        backend,
        &backend.names.storage_path(),
        STORAGE_API,
        &body,
        wait,
    )
    .await
}

fn changed(step: &Step, field: &str) -> bool {
    step.changes
        .iter()
        .any(|change| change.field == field || change.field.starts_with(&format!("{field}.")))
}

async fn put(
    backend: &AzureBackend,
    path: &str,
    api_version: &str,
    body: &Json,
    wait: &Wait<'_>,
) -> Result<Json, ArmError> {
    retrying(wait, || {
        backend
            .arm
            .change(Method::Put, path, api_version, Some(body), wait)
    })
    .await
}

/// Replaces the tags of the resource at `path`, leaving everything else as it is.
async fn set_tags(
    backend: &AzureBackend,
    path: &str,
    tags: &BTreeMap<String, String>,
    wait: &Wait<'_>,
) -> Result<(), ArmError> {
    let body = json!({"operation": "Replace", "properties": {"tags": tags}});
    let tags_path = format!("{path}/providers/Microsoft.Resources/tags/default");
    retrying(wait, || {
        backend
            .arm
            .change(Method::Patch, &tags_path, TAGS_API, Some(&body), wait)
    })
    .await
    .map(|_| ())
}

/// Runs `call` again while Azure answers 409 (another operation on the resource), until the
/// deadline.
async fn retrying<T, F, Fut>(wait: &Wait<'_>, mut call: F) -> Result<T, ArmError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ArmError>>,
{
    loop {
        match call().await {
            Err(error) if error.is_conflict() => {
                if std::time::Instant::now() + CONFLICT_PAUSE > wait.deadline {
                    return Err(error);
                }
                (wait.report)(&format!("waiting: {}", error.message));
                tokio::time::sleep(CONFLICT_PAUSE.min(wait.longest_pause)).await;
            }
            other => return other,
        }
    }
}

async fn delete(backend: &AzureBackend, step: &Step, wait: &Wait<'_>) -> Result<(), ProviderError> {
    let names = &backend.names;
    let (path, api_version) = match step.id.kind.as_str() {
        RESOURCE_GROUP => (names.group_path(), RESOURCES_API),
        STORAGE_ACCOUNT => (names.storage_path(), STORAGE_API),
        PLAN => (names.plan_path(), WEB_API),
        INSIGHTS => (names.insights_path(), INSIGHTS_API),
        FUNCTION_APP => (names.app_path(), WEB_API),
        // The code goes with its app.
        _ => return Ok(()),
    };
    if step.id.kind == STORAGE_ACCOUNT && step.action == Action::Delete {
        super::deploy_lock::release_before_account_delete(backend).await?;
    }
    retrying(wait, || backend.arm.delete(&path, api_version, wait))
        .await
        .map_err(|error| backend.failed("delete", &step.id, error))
}

/// The whole settings map the app should hold: what it holds now without what updraft wrote
/// before, plus the connection settings and the manifest's settings.
fn merged_settings(
    current: &BTreeMap<String, String>,
    connections: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let before = super::read::owned_settings(current);
    let mut settings: BTreeMap<String, String> = current
        .iter()
        .filter(|(key, _)| {
            !before.contains_key(*key)
                && key.as_str() != OWNED_SETTINGS
                && !CONNECTION_SETTINGS.contains(&key.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    settings.extend(connections.iter().map(|(k, v)| (k.clone(), v.clone())));
    settings.extend(wanted.iter().map(|(k, v)| (k.clone(), v.clone())));
    settings.insert(
        OWNED_SETTINGS.into(),
        wanted.keys().cloned().collect::<Vec<_>>().join(","),
    );
    settings
}

async fn function_app(
    backend: &AzureBackend,
    step: &Step,
    properties: &Properties,
    wait: &Wait<'_>,
) -> Result<Properties, ProviderError> {
    let wanted = FunctionAppProperties::from_properties(properties, &step.id)?;
    let path = backend.names.app_path();
    let failed = |operation: &str, error: ArmError| backend.failed(operation, &step.id, error);
    let account = backend.storage_account().await?;
    let deployment_container = format!(
        "{}/{DEPLOYMENT_CONTAINER}",
        account.blob_endpoint.trim_end_matches('/')
    );
    let function_app_config = json!({
        "deployment": {"storage": {
            "type": "blobContainer",
            "value": deployment_container,
            "authentication": {
                "type": "StorageAccountConnectionString",
                "storageAccountConnectionStringName": "DEPLOYMENT_STORAGE_CONNECTION_STRING",
            },
        }},
        "runtime": {"name": wanted.runtime_name, "version": wanted.runtime_version},
        "scaleAndConcurrency": {
            "instanceMemoryMB": wanted.instance_memory_mb,
            "maximumInstanceCount": wanted.maximum_instance_count,
        },
    });
    let mut connections: BTreeMap<String, String> = [
        (
            "AzureWebJobsStorage".to_string(),
            account.connection_string(),
        ),
        (
            "DEPLOYMENT_STORAGE_CONNECTION_STRING".to_string(),
            account.connection_string(),
        ),
    ]
    .into();
    if wanted.insights {
        connections.insert(
            "APPLICATIONINSIGHTS_CONNECTION_STRING".into(),
            backend.insights_connection_string().await?,
        );
    }
    let site_body = |settings: &BTreeMap<String, String>, tags: &BTreeMap<String, String>| {
        json!({
            "location": wanted.location,
            "kind": "functionapp,linux",
            "tags": tags,
            "properties": {
                "serverFarmId": backend.names.plan_path(),
                "httpsOnly": true,
                "siteConfig": {"appSettings": settings
                    .iter()
                    .map(|(name, value)| json!({"name": name, "value": value}))
                    .collect::<Vec<_>>()},
                "functionAppConfig": function_app_config,
            },
        })
    };
    if step.action != Action::Update {
        blob::ensure_container(&account.blob, DEPLOYMENT_CONTAINER)
            .await
            .map_err(|e| backend.blob_failed(&step.id, e))?;
        let settings = merged_settings(&BTreeMap::new(), &connections, &wanted.app_settings);
        let site = put(
            backend,
            &path,
            WEB_API,
            &site_body(&settings, &wanted.tags),
            wait,
        )
        .await
        .map_err(|e| failed("create the Function App", e))?;
        return Ok(app_attributes(&site, None));
    }
    let code_tag = step
        .live
        .as_ref()
        .and_then(|live| live.attributes.get("codeTag"))
        .and_then(Json::as_str)
        .map(str::to_string);
    let mut tags = wanted.tags.clone();
    if let Some(code) = &code_tag {
        tags.insert(CODE_TAG.into(), code.clone());
    }
    // The site's PATCH body has no `functionAppConfig`: a new runtime or scale is a PUT of the
    // whole site, which then carries the tags and the settings too.
    let whole_site = [
        "runtimeName",
        "runtimeVersion",
        "instanceMemoryMB",
        "maximumInstanceCount",
    ]
    .iter()
    .any(|field| changed(step, field));
    let settings_changed = changed(step, "appSettings") || changed(step, "insights");
    let settings = if whole_site || settings_changed {
        let current = backend
            .arm
            .call(
                Method::Post,
                &format!("{path}/config/appsettings/list"),
                WEB_API,
                None,
            )
            .await
            .map_err(|e| failed("read the app settings", e))?;
        merged_settings(
            &super::read::settings_of(&current.body),
            &connections,
            &wanted.app_settings,
        )
    } else {
        BTreeMap::new()
    };
    if whole_site {
        put(backend, &path, WEB_API, &site_body(&settings, &tags), wait)
            .await
            .map_err(|e| failed("update the Function App", e))?;
    } else {
        if changed(step, "tags") {
            set_tags(backend, &path, &tags, wait)
                .await
                .map_err(|e| failed("tag the Function App", e))?;
        }
        if settings_changed {
            let body = json!({"properties": settings});
            let settings_path = format!("{path}/config/appsettings");
            retrying(wait, || {
                backend
                    .arm
                    .change(Method::Put, &settings_path, WEB_API, Some(&body), wait)
            })
            .await
            .map_err(|e| failed("write the app settings", e))?;
        }
    }
    let site = backend
        .arm
        .get(&path, WEB_API)
        .await
        .map_err(|e| failed("read the Function App", e))?
        .unwrap_or(Json::Null);
    Ok(app_attributes(&site, code_tag))
}

fn app_attributes(site: &Json, code_tag: Option<String>) -> Properties {
    [
        (
            "defaultHostName".to_string(),
            site.pointer("/properties/defaultHostName")
                .cloned()
                .unwrap_or(Json::Null),
        ),
        ("codeTag".to_string(), json!(code_tag)),
    ]
    .into()
}

/// Zips the app, sends it with OneDeploy, waits for the deployment, then tags the app with the
/// package's hash.
async fn code(
    backend: &AzureBackend,
    step: &Step,
    properties: &Properties,
    context: &StepContext<'_>,
    wait: &Wait<'_>,
) -> Result<Properties, ProviderError> {
    let wanted = CodeProperties::from_properties(properties, &step.id)?;
    let current = CodeProperties::live_of(step)?;
    if !context.force && current.as_ref() == Some(&wanted) {
        return Ok(Properties::new());
    }
    let paths: Vec<std::path::PathBuf> = step
        .desired
        .as_ref()
        .and_then(|desired| desired.inputs.get("artifacts"))
        .and_then(Json::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Json::as_str)
                .map(std::path::PathBuf::from)
                .collect()
        })
        .unwrap_or_default();
    let Some(first) = paths.first() else {
        return Err(ProviderError::Internal {
            resource: step.id.clone(),
            message: "the code step names no artifacts".into(),
        });
    };
    let destination = first
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join(format!("{}.azure.zip", backend.names.app));
    super::package::build_from_paths(&backend.reading.app, &paths, &destination)?;
    let zip = std::fs::read(&destination).map_err(|error| ProviderError::Call {
        operation: "read the package".into(),
        resource: destination.display().to_string(),
        message: error.to_string(),
        help: "run `updraft package` again".into(),
    })?;
    super::onedeploy::publish(backend, &step.id, zip, wait).await?;
    // The hash goes on the app's tags, beside the ones the manifest sets.
    let path = backend.names.app_path();
    let site = backend
        .arm
        .get(&path, WEB_API)
        .await
        .map_err(|e| backend.failed("read the Function App", &step.id, e))?
        .unwrap_or(Json::Null);
    let mut tags = super::read::tags(&site);
    tags.insert(CODE_TAG.into(), wanted.sha256.clone());
    set_tags(backend, &path, &tags, wait)
        .await
        .map_err(|e| backend.failed("tag the Function App with its code", &step.id, e))?;
    Ok(Properties::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn settings_updraft_did_not_write_survive_a_deploy() {
        let current = map(&[
            ("FROM_THE_PORTAL", "kept"),
            ("OLD", "dropped from the manifest"),
            ("GREETING", "hello"),
            ("AzureWebJobsStorage", "old key"),
            (OWNED_SETTINGS, "GREETING,OLD"),
        ]);
        let merged = merged_settings(
            &current,
            &map(&[("AzureWebJobsStorage", "new key")]),
            &map(&[("GREETING", "hi")]),
        );
        assert_eq!(
            merged,
            map(&[
                ("AzureWebJobsStorage", "new key"),
                ("FROM_THE_PORTAL", "kept"),
                ("GREETING", "hi"),
                (OWNED_SETTINGS, "GREETING"),
            ])
        );
    }
}
