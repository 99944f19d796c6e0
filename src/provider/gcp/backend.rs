//! The Google Cloud backend: one project and region, the clients of its APIs, and the
//! [`Backend`] trait over them. Reading the live state is in [`super::read`], applying a step in
//! [`super::apply`], the deploy lock in [`super::deploy_lock`].

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde_json::Value as Json;

use super::clients::{self, Clients, Endpoints};
use super::desired::{self, FunctionProperties, FUNCTION};
use crate::manifest::model::Service;
use crate::package::Artifact;
use crate::plan::{DesiredState, LiveState, Properties, Step};
use crate::provider::typed::Typed;
use crate::provider::{
    Backend, Endpoint, FunctionInfo, InvokeRequest, InvokeResponse, LockAttempt, LockHolder,
    LogPage, LogQuery, ProviderError, Scope, ServiceInfo, StepContext,
};

/// A service and stage in one Google Cloud project and region.
#[derive(Debug)]
pub struct GcpBackend {
    pub scope: Scope,
    pub project: String,
    /// The bucket that holds the deploy lock.
    pub bucket: String,
    pub clients: Clients,
}

impl GcpBackend {
    /// `projects/P/locations/R`, the parent of functions and jobs.
    pub fn parent(&self) -> String {
        format!("projects/{}/locations/{}", self.project, self.scope.region)
    }
}

/// The project a service deploys to: `provider.project`, else `GOOGLE_CLOUD_PROJECT`.
pub fn project(service: &Service) -> Result<String, ProviderError> {
    service
        .provider
        .raw
        .get("project")
        .and_then(Json::as_str)
        .map(str::to_string)
        .or_else(|| {
            std::env::var("GOOGLE_CLOUD_PROJECT")
                .ok()
                .filter(|p| !p.is_empty())
        })
        .ok_or_else(|| ProviderError::Invalid {
            message: "the Google Cloud project is not set".into(),
            span: None,
            help: "set `provider.project` (or the GOOGLE_CLOUD_PROJECT variable) to the project id"
                .into(),
        })
}

/// The key file of `provider.credentials`, relative to the service directory (`~` is the home
/// directory).
fn key_file(service: &Service, service_dir: &Path) -> Option<PathBuf> {
    let written = service.provider.raw.get("credentials")?.as_str()?;
    let path = match written.strip_prefix("~/") {
        Some(rest) => PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(rest),
        None => PathBuf::from(written),
    };
    Some(if path.is_absolute() {
        path
    } else {
        service_dir.join(path)
    })
}

/// Connects to Google Cloud for `service`: what Google would refuse in the manifest is reported
/// first, before any credentials are looked for.
pub async fn connect(
    scope: Scope,
    service: &Service,
    service_dir: &Path,
) -> Result<GcpBackend, ProviderError> {
    connect_to(scope, service, service_dir, Endpoints::from_environment()).await
}

/// [`connect`], to the APIs at `endpoints`.
pub async fn connect_to(
    scope: Scope,
    service: &Service,
    service_dir: &Path,
    endpoints: Endpoints,
) -> Result<GcpBackend, ProviderError> {
    super::function::read(service)?;
    let project = project(service)?;
    let credentials = clients::credentials(&endpoints, key_file(service, service_dir).as_deref())?;
    let clients = clients::connect(endpoints, credentials).await?;
    let bucket = service
        .provider
        .deployment_bucket
        .as_ref()
        .and_then(|b| b.name.clone())
        .unwrap_or_else(|| format!("updraft-{project}"));
    Ok(GcpBackend {
        scope,
        project,
        bucket,
        clients,
    })
}

#[async_trait]
impl Backend for GcpBackend {
    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn target(&self) -> String {
        format!(
            "Google Cloud project {} ({})",
            self.project, self.scope.region
        )
    }

    fn desired(
        &self,
        service: &Service,
        artifacts: &[Artifact],
    ) -> Result<DesiredState, ProviderError> {
        Ok(desired::desired(service, artifacts)?.state)
    }

    fn deployed_name(&self, function: &crate::manifest::model::Function) -> String {
        super::function::id_of(&function.name)
    }

    fn warnings(&self, service: &Service) -> Vec<ProviderError> {
        super::function::read(service)
            .map(|reading| reading.warnings)
            .unwrap_or_default()
    }

    async fn live(&self) -> Result<LiveState, ProviderError> {
        super::read::live(self).await
    }

    fn settle(&self, desired: &DesiredState, live: &mut LiveState) {
        for resource in &mut live.resources {
            if resource.id.kind != FUNCTION {
                continue;
            }
            let Some(wanted) = desired.get(&resource.id) else {
                continue;
            };
            let (Ok(wanted), Ok(mut properties)) = (
                FunctionProperties::from_properties(&wanted.properties, &resource.id),
                FunctionProperties::from_properties(&resource.properties, &resource.id),
            ) else {
                continue;
            };
            super::live::leave_out_unasked(&mut properties, &wanted);
            resource.properties = properties.to_properties();
        }
    }

    async fn apply(
        &self,
        step: &Step,
        properties: &Properties,
        context: &StepContext<'_>,
    ) -> Result<Properties, ProviderError> {
        super::apply::apply(self, step, properties, context).await
    }

    async fn invoke(&self, request: &InvokeRequest) -> Result<InvokeResponse, ProviderError> {
        super::invoke::invoke(self, request).await
    }

    async fn log_page(
        &self,
        query: &LogQuery,
        page: Option<&str>,
    ) -> Result<LogPage, ProviderError> {
        super::logs::log_page(self, query, page).await
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

    fn info(&self, live: &LiveState) -> ServiceInfo {
        let mut info = ServiceInfo::default();
        for resource in &live.resources {
            if resource.id.kind != FUNCTION {
                continue;
            }
            let Ok(properties) =
                FunctionProperties::from_properties(&resource.properties, &resource.id)
            else {
                continue;
            };
            info.functions.push(FunctionInfo {
                name: resource.id.name.clone(),
                runtime: Some(properties.runtime.clone()),
                memory_size: super::function::MEMORY_TIERS
                    .iter()
                    .find(|(_, tier)| *tier == properties.available_memory)
                    .map(|(mb, _)| u64::from(*mb)),
                timeout: Some(u64::from(properties.timeout_seconds)),
            });
            if let Some(url) = resource.attributes.get("url").and_then(Json::as_str) {
                if properties.event_trigger.is_none() {
                    info.endpoints.push(Endpoint {
                        kind: "url".into(),
                        method: None,
                        url: url.to_string(),
                        function: Some(resource.id.name.clone()),
                    });
                }
            }
        }
        info.functions.sort_by(|a, b| a.name.cmp(&b.name));
        info.endpoints.sort_by(|a, b| a.url.cmp(&b.url));
        info
    }
}
