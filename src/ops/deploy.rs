//! `plan`, `deploy` and `deploy function`: package, build the desired state (an event the
//! backend cannot deploy fails here, before the lock), read what is live, plan, and for a
//! deploy: show the plan, confirm a destructive one, record where the new resources will be,
//! apply, re-read and record the outcome, all under the deploy lock.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{
    apply, confirmed, interruptible, package, release_lock, take_lock, ChangeOptions, Interrupt,
    OpsError, Reporter, Source,
};
use crate::plan::{Action, DesiredState, LiveState, Plan, ResourceId};
use crate::provider::engine::Options;
use crate::provider::{Backend, Operation, Planned, ProviderError, ServiceInfo};

/// What `plan` found.
#[derive(Debug)]
pub struct PlanReport {
    pub plan: Plan,
}

/// `updraft plan`: what a deploy would change, changing nothing (and taking no lock).
pub async fn plan(
    backend: &dyn Backend,
    source: &Source<'_>,
    interrupt: &Interrupt,
    reporter: &dyn Reporter,
) -> Result<PlanReport, OpsError> {
    let artifacts = package(source, interrupt, reporter).await?;
    let desired = backend.desired(source.service, &artifacts)?;
    for warning in backend.warnings(source.service) {
        reporter.warning(&warning);
    }
    let mut live = interruptible(interrupt, backend.live()).await??;
    backend.settle(&desired, &mut live);
    let planned = planned(desired, live)?;
    Ok(PlanReport { plan: planned.plan })
}

/// What to deploy.
#[derive(Debug, Clone)]
pub struct DeployRequest<'a> {
    pub source: Source<'a>,
    /// `deploy function -f KEY`: that function's code and configuration only.
    pub function: Option<String>,
    /// Update code even when its hash is unchanged.
    pub force: bool,
    pub change: ChangeOptions,
}

/// What a deploy did.
#[derive(Debug)]
pub struct DeployReport {
    /// The plan that was applied (after `--force` and `deploy function` rewrote it).
    pub plan: Plan,
    /// How many changing steps were applied.
    pub applied: usize,
    /// The service as it is live afterwards.
    pub info: ServiceInfo,
}

/// `updraft deploy` and `updraft deploy function -f KEY`.
pub async fn deploy(
    backend: Arc<dyn Backend>,
    request: &DeployRequest<'_>,
    interrupt: &Interrupt,
    reporter: &dyn Reporter,
) -> Result<DeployReport, OpsError> {
    let service = request.source.service;
    let function = match &request.function {
        Some(key) => Some(
            service
                .functions
                .get(key)
                .map(|f| backend.code_resource_name(f))
                .ok_or_else(|| OpsError::UnknownFunction {
                    key: key.clone(),
                    known: service
                        .functions
                        .keys()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                })?,
        ),
        None => None,
    };
    let artifacts = package(&request.source, interrupt, reporter).await?;
    // Unsupported events fail here, before the lock and before any change.
    let desired = backend.desired(service, &artifacts)?;
    for warning in backend.warnings(service) {
        reporter.warning(&warning);
    }
    let operation = match function {
        Some(_) => Operation::DeployFunction,
        None => Operation::Deploy,
    };
    let holder = take_lock(
        backend.as_ref(),
        operation,
        request.change.lock_timeout,
        reporter,
    )
    .await?;
    let result = deploy_locked(
        &backend,
        desired,
        function.as_deref(),
        request,
        interrupt,
        reporter,
    )
    .await;
    release_lock(backend.as_ref(), &holder, reporter).await;
    result
}

async fn deploy_locked(
    backend: &Arc<dyn Backend>,
    desired: DesiredState,
    function: Option<&str>,
    request: &DeployRequest<'_>,
    interrupt: &Interrupt,
    reporter: &dyn Reporter,
) -> Result<DeployReport, OpsError> {
    // `deploy function` reads only the function and what it needs (its role, log group, code):
    // its time does not grow with the rest of the service.
    let (desired, live) = match function {
        Some(name) => {
            let ids = closure(&desired, name)?;
            let live = interruptible(interrupt, backend.live_of(&ids)).await??;
            let mut desired = desired;
            desired
                .resources
                .retain(|resource| ids.contains(&resource.id));
            (desired, live)
        }
        None => {
            let live = interruptible(interrupt, backend.live()).await??;
            (desired, live)
        }
    };
    let mut live = live;
    backend.settle(&desired, &mut live);
    let mut planned = planned(desired, live)?;
    if request.force {
        force_code(&mut planned.plan);
    }
    if let Some(name) = function {
        planned.plan = only_function(&planned.plan, name, reporter)?;
    }
    let scope = backend.scope();
    reporter.info(&format!(
        "Deploying {} (stage {}) to {}:",
        scope.service,
        scope.stage,
        backend.target()
    ));
    reporter.plan(&planned.plan);
    if !planned.plan.has_changes() {
        return Ok(DeployReport {
            info: backend.info(&planned.live),
            plan: planned.plan,
            applied: 0,
        });
    }
    if planned.plan.is_destructive() {
        confirmed(
            request.change.yes,
            "This plan deletes or replaces resources.",
            reporter,
        )?;
    }
    if interrupt.happened() {
        return Err(OpsError::Interrupted);
    }
    let options = Options {
        concurrency: request.change.concurrency,
        force: request.force,
        ..Options::default()
    };
    if function.is_some() {
        // One function's code and settings: nothing that the deploy state records changes.
        // Its endpoints belong to the triggers, which it does not touch: nothing to re-read.
        let outcome = apply(backend, &planned, &options, interrupt, reporter).await?;
        return Ok(DeployReport {
            info: backend.info(&planned.live),
            plan: planned.plan,
            applied: outcome.applied.len(),
        });
    }
    backend.record_intent(&planned.desired).await?;
    let outcome = apply(backend, &planned, &options, interrupt, reporter).await?;
    let live = backend.live().await?;
    backend.record_outcome(&planned.desired, &live).await?;
    Ok(DeployReport {
        info: backend.info(&live),
        plan: planned.plan,
        applied: outcome.applied.len(),
    })
}

/// The function named `name` and everything it depends on, directly or not.
fn closure(desired: &DesiredState, name: &str) -> Result<BTreeSet<ResourceId>, OpsError> {
    let Some(function) = desired
        .resources
        .iter()
        .find(|r| r.id.name == name && r.id.kind.ends_with(".function"))
    else {
        return Err(OpsError::NotDeployed {
            name: name.to_string(),
        });
    };
    let mut ids = BTreeSet::new();
    let mut pending = vec![function.id.clone()];
    while let Some(id) = pending.pop() {
        if !ids.insert(id.clone()) {
            continue;
        }
        if let Some(resource) = desired.get(&id) {
            pending.extend(resource.depends_on.iter().cloned());
        }
    }
    Ok(ids)
}

/// The plan between `desired` and `live`; a live state with unread parts cannot be planned.
fn planned(desired: DesiredState, live: LiveState) -> Result<Planned, OpsError> {
    if !live.unread.is_empty() {
        return Err(ProviderError::Unreadable {
            parts: live.unread_lines().join("\n  "),
        }
        .into());
    }
    let plan = crate::plan::plan(&desired, &live).map_err(ProviderError::from)?;
    Ok(Planned {
        desired,
        live,
        plan,
    })
}

/// `--force`: unchanged functions and artifacts are updated anyway (uploaded and deployed again).
fn force_code(plan: &mut Plan) {
    for step in &mut plan.steps {
        let code = step.id.kind.ends_with(".function") || step.id.kind.ends_with(".artifact");
        if code && step.action == Action::NoOp {
            step.action = Action::Update;
        }
    }
}

/// The steps of one function: its own, and what it needs created first (its code upload).
/// Other changes wait for a full deploy, and the reporter says so.
fn only_function(plan: &Plan, name: &str, reporter: &dyn Reporter) -> Result<Plan, OpsError> {
    let Some(function) = plan
        .steps
        .iter()
        .find(|s| s.id.name == name && s.id.kind.ends_with(".function"))
    else {
        return Err(OpsError::NotDeployed {
            name: name.to_string(),
        });
    };
    if function.action == Action::Create {
        return Err(OpsError::NotDeployed {
            name: name.to_string(),
        });
    }
    let keep: BTreeSet<_> = std::iter::once(function.id.clone())
        .chain(
            plan.steps
                .iter()
                .filter(|step| {
                    function.depends_on.contains(&step.id) && step.action == Action::Create
                })
                .map(|step| step.id.clone()),
        )
        .collect();
    // Only the function and what it needs were read: changes elsewhere are not known here.
    reporter.info(&format!(
        "Deploying {name} only: other changes wait for a full `updraft deploy` (`updraft plan` \
         lists them)"
    ));
    Ok(Plan {
        steps: plan
            .steps
            .iter()
            .filter(|s| keep.contains(&s.id))
            .cloned()
            .collect(),
    })
}
