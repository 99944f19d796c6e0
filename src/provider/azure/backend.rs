//! The Azure backend: one service and stage as one Function App in one subscription, the
//! Resource Manager client, and the [`Backend`] trait over them. Reading the live state is in
//! [`super::read`], applying a step in [`super::apply`], the deploy lock in
//! [`super::deploy_lock`].

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::http::{Method, Pipeline};
use serde_json::Value as Json;

use super::app::{self, Reading};
use super::arm::{self, Arm, ArmError};
use super::blob;
use super::connection::{self, Endpoints};
use super::resources::{self, Names, FUNCTION_APP, INSIGHTS_API, STORAGE_API};
use crate::manifest::model::Service;
use crate::package::Artifact;
use crate::plan::{DesiredState, LiveState, Properties, ResourceId, Step};
use crate::provider::{
    Backend, Endpoint, FunctionInfo, InvokeRequest, InvokeResponse, LockAttempt, LockHolder,
    LogPage, LogQuery, ProviderError, Scope, ServiceInfo, StepContext,
};

/// A service and stage as one Function App.
#[derive(Debug)]
pub struct AzureBackend {
    pub scope: Scope,
    pub reading: Reading,
    pub names: Names,
    pub arm: Arm,
    /// Signs calls to the app's deployment endpoint.
    pub scm: Pipeline,
    /// Signs calls to Application Insights' query API (a token for that API, not ARM's).
    pub insights: Pipeline,
    pub endpoints: Endpoints,
    /// The longest single wait between polls of an operation.
    pub longest_pause: Duration,
}

/// A storage account's endpoints and key, read through Resource Manager.
#[derive(Debug, Clone)]
pub struct StorageKeys {
    pub blob: blob::StorageAccount,
    pub blob_endpoint: String,
    pub queue_endpoint: Option<String>,
    pub table_endpoint: Option<String>,
}

impl StorageKeys {
    /// The connection string the Functions host reads its storage from.
    pub fn connection_string(&self) -> String {
        let mut parts = vec![
            "DefaultEndpointsProtocol=https".to_string(),
            format!("AccountName={}", self.blob.name),
            format!("AccountKey={}", self.blob.key),
            format!("BlobEndpoint={}", self.blob_endpoint),
        ];
        if let Some(queue) = &self.queue_endpoint {
            parts.push(format!("QueueEndpoint={queue}"));
        }
        if let Some(table) = &self.table_endpoint {
            parts.push(format!("TableEndpoint={table}"));
        }
        parts.join(";")
    }
}

/// Connects to Azure for `service`: what Azure would refuse in the manifest is reported first,
/// before any credentials are looked for.
pub async fn connect(
    scope: Scope,
    service: &Service,
    _service_dir: &Path,
) -> Result<AzureBackend, ProviderError> {
    connect_to(scope, service, Endpoints::from_environment())
}

/// [`connect`], to the APIs at `endpoints`.
pub fn connect_to(
    scope: Scope,
    service: &Service,
    endpoints: Endpoints,
) -> Result<AzureBackend, ProviderError> {
    let reading = app::read(service)?;
    let subscription = connection::subscription(service)?;
    let credential = connection::credential(&endpoints)?;
    let insights = arm::pipeline(credential.clone(), arm::INSIGHTS_SCOPE);
    let pipeline = arm::pipeline(credential, arm::MANAGEMENT_SCOPE);
    let names = Names::of(&reading.app, &subscription);
    let scope = Scope {
        region: reading.app.region.clone(),
        ..scope
    };
    let longest_pause = if endpoints.all_loopback() {
        Duration::from_millis(50)
    } else {
        Duration::from_secs(30)
    };
    Ok(AzureBackend {
        arm: Arm::new(pipeline.clone(), &endpoints.management, &subscription),
        scm: pipeline,
        insights,
        scope,
        reading,
        names,
        endpoints,
        longest_pause,
    })
}

impl AzureBackend {
    /// A refused call, with the fix its ARM error code points to.
    pub fn failed(&self, operation: &str, resource: &ResourceId, error: ArmError) -> ProviderError {
        let help = match (error.status, error.code.as_str()) {
            (401, _) | (_, "InvalidAuthenticationToken" | "ExpiredAuthenticationToken") => {
                "sign in again (`az login`) or check AZURE_CLIENT_SECRET".to_string()
            }
            (403, _) | (_, "AuthorizationFailed") => format!(
                "grant the signed-in identity the Contributor role on subscription {} (or on resource group {})",
                self.names.subscription, self.names.resource_group
            ),
            (409, _) => "another operation on it is running; run the command again when it ends".into(),
            (_, "MissingSubscriptionRegistration") => {
                "register the resource provider: `az provider register --namespace Microsoft.Web` (and Microsoft.Storage)".into()
            }
            (_, "SubscriptionNotFound") => format!(
                "check the subscription id {} (`provider.subscriptionId` or AZURE_SUBSCRIPTION_ID)",
                self.names.subscription
            ),
            (429, _) => "Azure is throttling requests; wait a minute and run the command again".into(),
            _ => "run the command again; if it fails the same way, check the resource in the Azure portal".into(),
        };
        ProviderError::Call {
            operation: operation.to_string(),
            resource: resource.to_string(),
            message: error.to_string(),
            help,
        }
    }

    pub fn blob_failed(&self, resource: &ResourceId, error: blob::BlobError) -> ProviderError {
        ProviderError::Call {
            operation: "Blob Storage".into(),
            resource: resource.to_string(),
            message: error.to_string(),
            help: format!(
                "check that storage account {} exists and that its keys can be listed",
                self.names.storage_account
            ),
        }
    }

    /// The storage account's endpoints and first key; `None` when it does not exist.
    pub async fn find_storage_account(&self) -> Result<Option<StorageKeys>, ProviderError> {
        let id = ResourceId::new(resources::STORAGE_ACCOUNT, &self.names.storage_account);
        let path = self.names.storage_path();
        let Some(account) = self
            .arm
            .get(&path, STORAGE_API)
            .await
            .map_err(|e| self.failed("read the storage account", &id, e))?
        else {
            return Ok(None);
        };
        let keys = self
            .arm
            .call(Method::Post, &format!("{path}/listKeys"), STORAGE_API, None)
            .await
            .map_err(|e| self.failed("list the storage account's keys", &id, e))?;
        let key = keys
            .body
            .pointer("/keys/0/value")
            .and_then(Json::as_str)
            .ok_or_else(|| ProviderError::Call {
                operation: "list the storage account's keys".into(),
                resource: id.to_string(),
                message: "the answer holds no key".into(),
                help: "check that key access is allowed on the account (`allowSharedKeyAccess`)"
                    .into(),
            })?
            .to_string();
        let endpoint = |name: &str| {
            account
                .pointer(&format!("/properties/primaryEndpoints/{name}"))
                .and_then(Json::as_str)
                .map(str::to_string)
        };
        let blob_endpoint = endpoint("blob").unwrap_or_else(|| {
            format!(
                "https://{}.blob.core.windows.net/",
                self.names.storage_account
            )
        });
        Ok(Some(StorageKeys {
            blob: blob::StorageAccount {
                blob_endpoint: blob_endpoint.clone(),
                name: self.names.storage_account.clone(),
                key,
            },
            blob_endpoint,
            queue_endpoint: endpoint("queue"),
            table_endpoint: endpoint("table"),
        }))
    }

    /// The storage account, which must exist.
    pub async fn storage_account(&self) -> Result<StorageKeys, ProviderError> {
        self.find_storage_account()
            .await?
            .ok_or_else(|| ProviderError::Call {
                operation: "read the storage account".into(),
                resource: self.names.storage_account.clone(),
                message: "it does not exist".into(),
                help: "run `updraft deploy` again: it creates the account first".into(),
            })
    }

    /// The Application Insights component's connection string.
    pub async fn insights_connection_string(&self) -> Result<String, ProviderError> {
        let id = ResourceId::new(resources::INSIGHTS, &self.names.insights);
        let component = self
            .arm
            .get(&self.names.insights_path(), INSIGHTS_API)
            .await
            .map_err(|e| self.failed("read the Application Insights component", &id, e))?;
        component
            .as_ref()
            .and_then(|c| c.pointer("/properties/ConnectionString"))
            .and_then(Json::as_str)
            .map(str::to_string)
            .ok_or_else(|| ProviderError::Call {
                operation: "read the Application Insights component".into(),
                resource: id.to_string(),
                message: "it has no connection string".into(),
                help: "run `updraft deploy` again".into(),
            })
    }
}

#[async_trait]
impl Backend for AzureBackend {
    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn target(&self) -> String {
        format!(
            "Azure subscription {} ({}, resource group {})",
            self.names.subscription, self.scope.region, self.names.resource_group
        )
    }

    fn desired(
        &self,
        _service: &Service,
        artifacts: &[Artifact],
    ) -> Result<DesiredState, ProviderError> {
        resources::desired(&self.reading, artifacts, &self.names)
    }

    fn warnings(&self, service: &Service) -> Vec<ProviderError> {
        app::read(service)
            .map(|reading| reading.warnings)
            .unwrap_or_default()
    }

    /// A function's name inside the app (the folder of its `function.json`).
    fn deployed_name(&self, function: &crate::manifest::model::Function) -> String {
        function.key.clone()
    }

    /// The app's package: Flex Consumption deploys the functions of an app together.
    fn code_resource_name(&self, _function: &crate::manifest::model::Function) -> String {
        self.names.app.clone()
    }

    async fn live(&self) -> Result<LiveState, ProviderError> {
        Ok(super::read::live(
            &self.arm,
            &self.names,
            &self.scope,
            self.reading.app.owns_resource_group,
        )
        .await)
    }

    async fn apply(
        &self,
        step: &Step,
        properties: &Properties,
        context: &StepContext<'_>,
    ) -> Result<Properties, ProviderError> {
        super::apply::apply(self, step, properties, context).await
    }

    async fn lock(&self, holder: &LockHolder) -> Result<LockAttempt, ProviderError> {
        super::deploy_lock::lock(self, holder).await
    }

    async fn unlock(&self, id: &str) -> Result<(), ProviderError> {
        super::deploy_lock::unlock(self, id).await
    }

    async fn lock_holder(&self) -> Result<Option<LockHolder>, ProviderError> {
        super::deploy_lock::holder_of(self).await
    }

    async fn invoke(&self, request: &InvokeRequest) -> Result<InvokeResponse, ProviderError> {
        super::invoke::invoke(self, request).await
    }

    async fn log_page(
        &self,
        query: &LogQuery,
        _page: Option<&str>,
    ) -> Result<LogPage, ProviderError> {
        super::logs::log_page(self, query).await
    }

    fn info(&self, live: &LiveState) -> ServiceInfo {
        let mut info = ServiceInfo::default();
        let Some(site) = live
            .resources
            .iter()
            .find(|resource| resource.id.kind == FUNCTION_APP)
        else {
            return info;
        };
        let app = &self.reading.app;
        let host = site
            .attributes
            .get("defaultHostName")
            .and_then(Json::as_str);
        let base = self.endpoints.functions_of(&self.names.app, host);
        let timeout = app.function_timeout.as_deref().and_then(seconds_of);
        for function in &app.functions {
            info.functions.push(FunctionInfo {
                name: function.key.clone(),
                runtime: Some(format!("{} {}", app.runtime.name, app.runtime.version)),
                memory_size: Some(u64::from(app.instance_memory_mb)),
                timeout,
            });
            let Some(trigger) = function
                .bindings
                .iter()
                .find(|binding| binding["type"] == "httpTrigger")
            else {
                continue;
            };
            let route = trigger["route"].as_str().unwrap_or(&function.key);
            let methods: Vec<String> = trigger["methods"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(Json::as_str)
                        .map(str::to_uppercase)
                        .collect()
                })
                .unwrap_or_default();
            info.endpoints.push(Endpoint {
                kind: "http".into(),
                method: Some(if methods.is_empty() {
                    "ANY".into()
                } else {
                    methods.join(",")
                }),
                url: format!("{base}/api/{route}"),
                function: Some(function.key.clone()),
            });
        }
        info.functions.sort_by(|a, b| a.name.cmp(&b.name));
        info.endpoints.sort_by(|a, b| a.url.cmp(&b.url));
        info
    }
}

/// `00:05:00` as 300.
fn seconds_of(hms: &str) -> Option<u64> {
    let mut total = 0;
    for part in hms.split(':') {
        total = total * 60 + part.parse::<u64>().ok()?;
    }
    Some(total)
}
