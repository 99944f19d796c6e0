//! Amazon Web Services: the deploy backend and the cloud variable sources.
//!
//! [`connect`] loads the SDK configuration (the standard chain, `AWS_ENDPOINT_URL`), asks STS
//! for the account once and builds the clients; [`AwsBackend`] implements [`Backend`] by
//! dispatching to one module per resource kind ([`kinds`]; how to add one is documented
//! there). The desired state is built by each kind's builder in [`kinds::ALL`] order from a
//! [`context::Context`]; the live state is read by every kind at once through
//! [`live::LiveContext`]; the lock is an S3 object ([`deploy_lock`]).

mod bucket;
pub mod call;
pub mod clients;
pub mod context;
mod deploy_lock;
pub mod deploy_state;
pub mod intrinsic;
pub mod invoke;
pub mod kinds;
pub mod live;
pub mod logs;
pub mod naming;
pub mod runtimes;
pub mod sdk;
pub mod stack_template;
pub mod triggers;
pub mod variables;

#[cfg(test)]
mod desired_function_tests;
#[cfg(test)]
mod desired_layer_tests;
#[cfg(test)]
mod desired_tests;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;

use crate::manifest::model::Service;
use crate::package::Artifact;
use crate::plan::{Action, DesiredState, LiveState, Properties, ResourceId, Step};
use crate::provider::{
    Backend, FunctionInfo, InvokeRequest, InvokeResponse, LockAttempt, LockHolder, LogPage,
    LogQuery, ProviderError, Scope, ServiceInfo, StepContext,
};

pub use clients::Aws;
use deploy_state::DeployState;

/// The AWS backend for one service and stage.
pub struct AwsBackend {
    aws: Arc<Aws>,
    /// The CloudFormation exports the manifest needs before planning (see
    /// [`triggers::rest_api::shared`]), read once when connecting.
    exports: std::collections::BTreeMap<String, String>,
}

/// Connects to the account the credentials belong to, in `scope.region`.
/// `deployment_bucket` is `provider.deploymentBucket.name`, if set; `service` names the exports
/// to read (none for most services, and then no call is made).
pub async fn connect(
    scope: Scope,
    profile: Option<&str>,
    deployment_bucket: Option<&str>,
    service: &Service,
) -> Result<AwsBackend, ProviderError> {
    let config = sdk::load_for_deploy(profile, Some(&scope.region)).await;
    let sts = aws_sdk_sts::Client::new(&config);
    let identity = sts.get_caller_identity().send().await.map_err(|e| {
        call::failed(
            "sts:GetCallerIdentity",
            "the account of the credentials",
            &e,
        )
    })?;
    let account = identity.account().unwrap_or_default().to_string();
    if account.is_empty() {
        return Err(ProviderError::Credentials {
            cloud: "AWS".into(),
            message: "STS did not say which account the credentials belong to".into(),
            help: "check the credentials and AWS_ENDPOINT_URL".into(),
        });
    }
    let partition = identity
        .arn()
        .and_then(clients::partition_of)
        .unwrap_or_else(|| clients::partition_for_region(&scope.region))
        .to_string();
    let aws = Aws::new(&config, scope, account, partition, deployment_bucket);
    let imports = triggers::rest_api::shared::imports(service);
    let exports = triggers::rest_api::shared::read_exports(&aws.cloudformation, &imports).await?;
    Ok(AwsBackend {
        aws: Arc::new(aws),
        exports,
    })
}

impl AwsBackend {
    /// The account, clients and bucket, for callers that read more (`info`).
    pub fn aws(&self) -> &Arc<Aws> {
        &self.aws
    }
}

#[async_trait]
impl Backend for AwsBackend {
    fn scope(&self) -> &Scope {
        &self.aws.scope
    }

    fn target(&self) -> String {
        format!(
            "AWS account {} in {}",
            self.aws.account, self.aws.scope.region
        )
    }

    fn desired(
        &self,
        service: &Service,
        artifacts: &[Artifact],
    ) -> Result<DesiredState, ProviderError> {
        let mut context = context::Context::new(
            service,
            artifacts,
            &self.aws.account,
            &self.aws.partition,
            &self.aws.bucket,
        );
        context.exports = self.exports.clone();
        desired_state(&context)
    }

    async fn live(&self) -> Result<LiveState, ProviderError> {
        live::read(Arc::clone(&self.aws)).await
    }

    async fn live_of(&self, ids: &BTreeSet<ResourceId>) -> Result<LiveState, ProviderError> {
        live::read_only(Arc::clone(&self.aws), ids).await
    }

    async fn apply(
        &self,
        step: &Step,
        properties: &Properties,
        context: &StepContext<'_>,
    ) -> Result<Properties, ProviderError> {
        let kind = kinds::for_kind(&step.id.kind).ok_or_else(|| ProviderError::Internal {
            resource: step.id.clone(),
            message: "no module applies this kind".into(),
        })?;
        kind.apply(&self.aws, step, properties, context).await
    }

    async fn wait_ready(
        &self,
        step: &Step,
        attributes: &Properties,
        context: &StepContext<'_>,
    ) -> Result<(), ProviderError> {
        if step.action == Action::Delete {
            return Ok(());
        }
        match kinds::for_kind(&step.id.kind) {
            Some(kind) => kind.wait_ready(&self.aws, step, attributes, context).await,
            None => Ok(()),
        }
    }

    fn info(&self, live: &LiveState) -> ServiceInfo {
        let mut info = ServiceInfo::default();
        for resource in &live.resources {
            if resource.id.kind == naming::kind::FUNCTION {
                use kinds::function::FunctionProperties;
                use kinds::Typed;
                let properties =
                    FunctionProperties::from_properties(&resource.properties, &resource.id).ok();
                let properties = properties.as_ref();
                info.functions.push(FunctionInfo {
                    name: resource.id.name.clone(),
                    runtime: properties.and_then(|p| p.runtime.clone()),
                    memory_size: properties
                        .and_then(|p| p.memory_size)
                        .and_then(|n| u64::try_from(n).ok()),
                    timeout: properties
                        .and_then(|p| p.timeout)
                        .and_then(|n| u64::try_from(n).ok()),
                });
            }
            if let Some(kind) = kinds::for_kind(&resource.id.kind) {
                info.endpoints.extend(kind.endpoints(resource));
            }
        }
        info.functions.sort_by(|a, b| a.name.cmp(&b.name));
        info.endpoints.sort_by(|a, b| a.url.cmp(&b.url));
        info
    }

    async fn record_intent(&self, desired: &DesiredState) -> Result<(), ProviderError> {
        let recorded = deploy_state::read(&self.aws).await?;
        let state = recorded.union(&DeployState::of_desired(desired));
        deploy_state::write(&self.aws, &recorded, &state).await
    }

    async fn record_outcome(
        &self,
        desired: &DesiredState,
        live: &LiveState,
    ) -> Result<(), ProviderError> {
        let recorded = deploy_state::read(&self.aws).await?;
        // The desired state is the newer word (on whether a layer is retained, say).
        let state = DeployState::of_live(live).union(&DeployState::of_desired(desired));
        deploy_state::write(&self.aws, &recorded, &state).await
    }

    async fn lock(&self, holder: &LockHolder) -> Result<LockAttempt, ProviderError> {
        deploy_lock::lock(&self.aws, holder).await
    }

    async fn unlock(&self, id: &str) -> Result<(), ProviderError> {
        deploy_lock::unlock(&self.aws, id).await
    }

    async fn lock_holder(&self) -> Result<Option<LockHolder>, ProviderError> {
        deploy_lock::holder_of(&self.aws).await
    }

    async fn invoke(&self, request: &InvokeRequest) -> Result<InvokeResponse, ProviderError> {
        let lambda = invoke::client(&self.aws.lambda);
        invoke::invoke(&lambda, self.aws.region(), request).await
    }

    async fn log_page(
        &self,
        query: &LogQuery,
        page: Option<&str>,
    ) -> Result<LogPage, ProviderError> {
        logs::page(&self.aws.logs, query, page).await
    }
}

/// The desired state: every kind's builder, in [`kinds::ALL`] order. Pure.
pub fn desired_state(context: &context::Context<'_>) -> Result<DesiredState, ProviderError> {
    check_provider(context.service)?;
    let mut state = DesiredState::default();
    for kind in kinds::ALL {
        kind.desired(context, &mut state)?;
    }
    Ok(state)
}

/// Provider settings updraft cannot deploy yet: refused before anything changes.
fn check_provider(service: &Service) -> Result<(), ProviderError> {
    let api_gateway_tracing = service
        .provider
        .raw
        .get("tracing")
        .and_then(|t| t.get("apiGateway"))
        .is_some_and(|value| {
            !matches!(
                value,
                serde_json::Value::Null | serde_json::Value::Bool(false)
            )
        });
    if api_gateway_tracing {
        return Err(intrinsic::unsupported(
            intrinsic::Place {
                path: "provider.tracing.apiGateway",
                span: None,
            },
            "X-Ray tracing of API Gateway (`provider.tracing.apiGateway`)",
        ));
    }
    if service.provider.raw.get("ecr").is_some() {
        return Err(ProviderError::Unsupported {
            what: "building container images (at `provider.ecr.images`)".into(),
            span: None,
            help: "build and push the images yourself (docker build, docker push to ECR), then give each function `image: URI` (or `image: {uri: ...}`) and drop `provider.ecr`".into(),
        });
    }
    const UNSUPPORTED: &[&str] = &["s3", "alb"];
    let Some(provider) = service.provider.raw.as_object() else {
        return Ok(());
    };
    // Of `provider.alb`, the target group prefix is deployed (`triggers::alb`); its
    // authorizers are not.
    let only_prefix = |key: &str| {
        key == "alb"
            && provider
                .get(key)
                .and_then(|alb| alb.as_object())
                .is_some_and(|alb| alb.keys().all(|k| k == "targetGroupPrefix"))
    };
    match UNSUPPORTED
        .iter()
        .find(|key| provider.contains_key(**key) && !only_prefix(key))
    {
        Some(key) => {
            let path = format!("provider.{key}");
            Err(intrinsic::unsupported(
                intrinsic::Place {
                    path: &path,
                    span: None,
                },
                &format!("`provider.{key}`"),
            ))
        }
        None => Ok(()),
    }
}
