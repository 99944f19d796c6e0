//! `remove`: under the deploy lock, delete everything that carries the service's and stage's
//! ownership marks (and what the deploy state records), after confirmation, except what is
//! retained (a layer with `retain: true`), which is let go. A part that cannot
//! be read or deleted does not stop the rest: the remove goes on, re-reads what is left, keeps
//! that recorded for the next remove, and fails at the end listing it with the cloud's answer.

use std::sync::Arc;

use super::{
    apply, confirmed, interruptible, release_lock, take_lock, ChangeOptions, Interrupt, OpsError,
    Reporter,
};
use crate::plan::{DesiredState, Plan};
use crate::provider::engine::Options;
use crate::provider::{Backend, Operation, Planned};

/// How to remove.
#[derive(Debug, Clone, Default)]
pub struct RemoveRequest {
    pub change: ChangeOptions,
}

/// What a remove did.
#[derive(Debug)]
pub struct RemoveReport {
    /// The deletes (empty when nothing carried the ownership marks).
    pub plan: Plan,
    /// How many resources were deleted.
    pub deleted: usize,
}

/// `updraft remove`.
pub async fn remove(
    backend: Arc<dyn Backend>,
    request: &RemoveRequest,
    interrupt: &Interrupt,
    reporter: &dyn Reporter,
) -> Result<RemoveReport, OpsError> {
    let holder = take_lock(
        backend.as_ref(),
        Operation::Remove,
        request.change.lock_timeout,
        reporter,
    )
    .await?;
    let result = remove_locked(&backend, request, interrupt, reporter).await;
    release_lock(backend.as_ref(), &holder, reporter).await;
    result
}

async fn remove_locked(
    backend: &Arc<dyn Backend>,
    request: &RemoveRequest,
    interrupt: &Interrupt,
    reporter: &dyn Reporter,
) -> Result<RemoveReport, OpsError> {
    let desired = DesiredState::default();
    let live = interruptible(interrupt, backend.live()).await??;
    let unread = live.unread_lines();
    for line in &unread {
        reporter.info(&format!("could not read {line}"));
    }
    let plan = crate::plan::plan(&desired, &live).map_err(crate::provider::ProviderError::from)?;
    let scope = backend.scope();
    reporter.info(&format!(
        "Removing {} (stage {}) from {}:",
        scope.service,
        scope.stage,
        backend.target()
    ));
    if !plan.has_changes() {
        if unread.is_empty() {
            // Only what is retained is left (a layer with `retain: true`): it is let go, and the
            // deploy state forgets it.
            if !live.resources.is_empty() {
                backend.record_outcome(&desired, &live).await?;
            }
            return Ok(RemoveReport { plan, deleted: 0 });
        }
        return Err(OpsError::Left { left: unread });
    }
    reporter.plan(&plan);
    confirmed(
        request.change.yes,
        "Everything above will be deleted.",
        reporter,
    )?;
    let planned = Planned {
        desired,
        live,
        plan,
    };
    let options = Options {
        concurrency: request.change.concurrency,
        ..Options::default()
    };
    let applied = apply(backend, &planned, &options, interrupt, reporter).await;
    if matches!(applied, Err(OpsError::Interrupted)) {
        return Err(OpsError::Interrupted);
    }
    // What is left stays recorded, so the next remove still finds it.
    let left = backend.live().await?;
    backend.record_outcome(&planned.desired, &left).await?;
    // What is retained stays on purpose: it is not left over.
    let mut remaining: Vec<String> = left
        .resources
        .iter()
        .filter(|r| !r.is_retained())
        .map(|r| r.id.to_string())
        .collect();
    remaining.extend(left.unread_lines());
    let deleted = match applied {
        Ok(outcome) => outcome.applied.len(),
        Err(OpsError::ApplyFailed { failed }) => {
            // The failed deletes with their causes, then anything else still there.
            let mut lines = failed.clone();
            lines.extend(
                remaining
                    .into_iter()
                    .filter(|line| !failed.iter().any(|f| f.starts_with(line.as_str()))),
            );
            return Err(OpsError::Left { left: lines });
        }
        Err(other) => return Err(other),
    };
    if !remaining.is_empty() {
        return Err(OpsError::Left { left: remaining });
    }
    Ok(RemoveReport {
        plan: planned.plan,
        deleted,
    })
}
