//! The clouds behind one trait. A [`Backend`] turns a service into the resources it should have
//! (pure), reads the resources it has, applies one planned step at a time, waits for a resource
//! to be ready, and holds the deploy lock. The planner (`crate::plan`) compares the two states;
//! the [`engine`] applies a plan through a backend with bounded concurrency.
//!
//! The trait is shaped for all three clouds: AWS configures each function on its own; Azure
//! configures memory, timeout and environment per Function App, so its desired state has one
//! app resource carrying what its functions share; Google's calls are long-running operations,
//! which [`Backend::wait_ready`] polls. None of that reaches the planner.
//!
//! The AWS backend also answers the cloud variable sources (`${ssm:...}`, `${cf:...}`, ...).

pub mod aws;
pub mod azure;
pub mod engine;
pub mod error;
pub mod gcp;
pub mod lock;
pub mod remote;
pub mod schedule;
pub mod typed;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::manifest::model::{Cloud, Service};
use crate::package::Artifact;
use crate::plan::{DesiredState, LiveState, Plan, Properties, ResourceId, Step};

pub use error::ProviderError;
pub use lock::{LockAttempt, LockHolder, Operation};
pub use remote::{InvocationType, InvokeRequest, InvokeResponse, LogEvent, LogPage, LogQuery};

/// The service and stage a backend works on, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub service: String,
    pub stage: String,
    pub region: String,
}

/// What a step hears from the engine while it runs: where to report a long wait, and when to
/// give up.
pub trait StepProgress: Send + Sync {
    /// A wait that the user should know about ("waiting for the function to finish updating").
    fn waiting(&self, resource: &ResourceId, message: &str);
}

/// The context of one step.
pub struct StepContext<'a> {
    pub progress: &'a dyn StepProgress,
    /// Waits for readiness end here with an error that names the resource.
    pub deadline: Instant,
    /// `deploy --force`: upload and update code even when the hashes match.
    pub force: bool,
}

impl StepContext<'_> {
    /// How long is left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

/// One cloud, for one service and stage.
#[async_trait]
pub trait Backend: Send + Sync {
    fn scope(&self) -> &Scope;

    /// Where deploys go, for messages: an account and region, a subscription, a project.
    fn target(&self) -> String;

    /// The resources the service should have, given its built artifacts. Pure: no calls. An event
    /// or setting this backend cannot deploy is an error here, before anything changes.
    fn desired(
        &self,
        service: &Service,
        artifacts: &[Artifact],
    ) -> Result<DesiredState, ProviderError>;

    /// What deploys, but not quite as written (an `http` path Google does not route): shown as
    /// warnings by `plan` and `deploy`. Pure, like [`Backend::desired`].
    fn warnings(&self, _service: &Service) -> Vec<ProviderError> {
        Vec::new()
    }

    /// The resources this service and stage have now: only those that carry its ownership marks.
    async fn live(&self) -> Result<LiveState, ProviderError>;

    /// The live state of just `ids`, for a command that changes only those (`deploy function`):
    /// a backend that can read a few resources without listing the whole service does so. The
    /// default reads everything and keeps `ids`.
    async fn live_of(&self, ids: &BTreeSet<ResourceId>) -> Result<LiveState, ProviderError> {
        let mut live = self.live().await?;
        live.resources.retain(|resource| ids.contains(&resource.id));
        Ok(live)
    }

    /// The name a function deploys under, as the live state names it (the manifest's `name`,
    /// unless the cloud spells it differently).
    fn deployed_name(&self, function: &crate::manifest::model::Function) -> String {
        function.name.clone()
    }

    /// The name of the resource (of a `*.function` kind) that `deploy function` updates for
    /// `function`: the function itself on AWS and Google Cloud; on Azure, where the functions of
    /// an app are deployed as one package, that package.
    fn code_resource_name(&self, function: &crate::manifest::model::Function) -> String {
        self.deployed_name(function)
    }

    /// Leaves out of `live` what the cloud chose by itself where `desired` asks for nothing (a
    /// default service account, a variable the platform adds), so that only what the manifest
    /// says is compared. Pure; called between reading the live state and planning a deploy.
    fn settle(&self, _desired: &DesiredState, _live: &mut LiveState) {}

    /// Applies one step. `properties` are the desired properties with every reference resolved.
    /// Returns the resource's attributes after the change (empty for a delete).
    async fn apply(
        &self,
        step: &Step,
        properties: &Properties,
        context: &StepContext<'_>,
    ) -> Result<Properties, ProviderError>;

    /// Waits until a created or updated resource can be used by the steps that depend on it.
    async fn wait_ready(
        &self,
        _step: &Step,
        _attributes: &Properties,
        _context: &StepContext<'_>,
    ) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Records, before a deploy or remove changes anything, where the resources of `desired`
    /// will be that `live` cannot find by ownership marks alone (a custom-named role, a
    /// notification on a bucket the service does not own). Called under the lock; a backend
    /// whose ownership marks find everything records nothing.
    async fn record_intent(&self, _desired: &DesiredState) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Records, after applying, what `desired` names and what is still `live`, forgetting what
    /// is gone; after a remove that deleted everything, nothing is left recorded.
    async fn record_outcome(
        &self,
        _desired: &DesiredState,
        _live: &LiveState,
    ) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Tries to take the deploy lock once.
    async fn lock(&self, holder: &LockHolder) -> Result<LockAttempt, ProviderError>;

    /// Releases a lock this process holds, or (with `updraft unlock`) one left behind; `id` must
    /// match the holder's.
    async fn unlock(&self, id: &str) -> Result<(), ProviderError>;

    /// Who holds the lock now, if anyone.
    async fn lock_holder(&self) -> Result<Option<LockHolder>, ProviderError>;

    /// What `info` and `deploy` show from a live state: the functions and the endpoints.
    fn info(&self, live: &LiveState) -> ServiceInfo;

    /// Calls a deployed function once (`updraft invoke`). A function that fails is an answer
    /// with `function_error` set, not an error.
    async fn invoke(&self, _request: &InvokeRequest) -> Result<InvokeResponse, ProviderError> {
        Err(ProviderError::Unsupported {
            what: format!("invoking a deployed function on {}", self.target()),
            span: None,
            help: "`updraft invoke` works with AWS, Google Cloud and Azure".into(),
        })
    }

    /// One page of a function's log events (`updraft logs`); `page` is the `next` of the page
    /// before, `None` for the first. [`remote::read_logs`] reads them all.
    async fn log_page(
        &self,
        _query: &LogQuery,
        _page: Option<&str>,
    ) -> Result<LogPage, ProviderError> {
        Err(ProviderError::Unsupported {
            what: format!("reading function logs on {}", self.target()),
            span: None,
            help: "`updraft logs` works with AWS, Google Cloud and Azure".into(),
        })
    }
}

/// The desired state, what is live, and the plan between them.
#[derive(Debug)]
pub struct Planned {
    pub desired: DesiredState,
    pub live: LiveState,
    pub plan: Plan,
}

/// Plans a deploy of `service` with its built `artifacts`: what it should have (an unsupported
/// event fails here, before any call), what it has, and the steps between.
pub async fn plan_deploy(
    backend: &dyn Backend,
    service: &Service,
    artifacts: &[Artifact],
) -> Result<Planned, ProviderError> {
    let desired = backend.desired(service, artifacts)?;
    let mut live = backend.live().await?;
    backend.settle(&desired, &mut live);
    if !live.unread.is_empty() {
        return Err(ProviderError::Unreadable {
            parts: live.unread_lines().join("\n  "),
        });
    }
    let plan = crate::plan::plan(&desired, &live)?;
    Ok(Planned {
        desired,
        live,
        plan,
    })
}

/// Plans the removal of everything the service and stage own that could be read; what could not
/// be read is in `live.unread`, for the caller to report as left behind.
pub async fn plan_remove(backend: &dyn Backend) -> Result<Planned, ProviderError> {
    let desired = DesiredState::default();
    let live = backend.live().await?;
    let plan = crate::plan::plan(&desired, &live)?;
    Ok(Planned {
        desired,
        live,
        plan,
    })
}

/// Connects to the cloud `service` deploys to, for its stage and region.
pub async fn connect(
    service: &Service,
    service_dir: &std::path::Path,
    profile: Option<&str>,
) -> Result<Arc<dyn Backend>, ProviderError> {
    let scope = Scope {
        service: service.name.clone(),
        stage: service.provider.stage.clone(),
        region: service.provider.region.clone(),
    };
    match service.provider.cloud {
        Cloud::Aws => {
            let bucket = service
                .provider
                .deployment_bucket
                .as_ref()
                .and_then(|b| b.name.as_deref());
            let backend = aws::connect(scope, profile, bucket, service).await?;
            Ok(Arc::new(backend))
        }
        Cloud::Google => Ok(Arc::new(gcp::connect(scope, service, service_dir).await?)),
        Cloud::Azure => Ok(Arc::new(azure::connect(scope, service, service_dir).await?)),
    }
}

/// A deployed service as a user sees it.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct ServiceInfo {
    pub functions: Vec<FunctionInfo>,
    /// Sorted by URL.
    pub endpoints: Vec<Endpoint>,
}

/// One deployed function.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FunctionInfo {
    /// The deployed name.
    pub name: String,
    pub runtime: Option<String>,
    pub memory_size: Option<u64>,
    pub timeout: Option<u64>,
}

/// One way to call the service from outside.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Endpoint {
    /// `httpApi`, `http`, `websocket` (a WebSocket API stage) or `url` (a function URL).
    pub kind: String,
    /// `GET`, `ANY`...; `None` for a function URL or a WebSocket stage.
    pub method: Option<String>,
    pub url: String,
    /// The deployed function name it calls.
    pub function: Option<String>,
}
