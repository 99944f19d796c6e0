//! Applies a plan through a backend: dependencies first, at most `concurrency` calls at a time,
//! deletes after everything else, and a clean stop.
//!
//! A failure stops new work, lets the running steps finish, and the [`Outcome`] says what was
//! applied, what failed and what never started; since every step is "make it so", running the
//! deploy again converges. Cancellation (the first Ctrl-C) does the same. Steps that change
//! nothing finish at once without a call.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::plan::reference::{resolve, Unresolved};
use crate::plan::{Action, Attributes, LiveState, Plan, Properties, ResourceId, Step};

use super::{Backend, ProviderError, StepContext, StepProgress};

/// How to apply.
#[derive(Debug, Clone)]
pub struct Options {
    /// Calls in flight at once (`--concurrency`, default 10).
    pub concurrency: usize,
    /// How long one step may take, waits included.
    pub step_timeout: Duration,
    /// `deploy --force`.
    pub force: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: 10,
            step_timeout: Duration::from_secs(300),
            force: false,
        }
    }
}

/// Hears about each step. Called from the engine's task.
pub trait Observer: StepProgress {
    fn started(&self, step: &Step);
    fn finished(&self, step: &Step, elapsed: Duration);
    fn failed(&self, step: &Step, error: &ProviderError);
}

/// What happened.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Steps that changed something, in the order they finished.
    pub applied: Vec<ResourceId>,
    pub failed: Vec<(ResourceId, ProviderError)>,
    /// Changing steps that never started because of a failure or an interruption.
    pub not_started: Vec<ResourceId>,
    pub interrupted: bool,
    /// Every resource's attributes after the apply (for endpoints and `info`).
    pub attributes: Attributes,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.failed.is_empty() && !self.interrupted && self.not_started.is_empty()
    }
}

/// Applies `plan` (made against `live`) through `backend`.
pub async fn apply(
    backend: Arc<dyn Backend>,
    plan: &Plan,
    live: &LiveState,
    options: &Options,
    observer: Arc<dyn Observer>,
    cancel: &CancellationToken,
) -> Outcome {
    let mut outcome = Outcome {
        attributes: live
            .resources
            .iter()
            .map(|r| (r.id.clone(), r.attributes.clone()))
            .collect(),
        ..Outcome::default()
    };
    let in_plan: BTreeSet<&ResourceId> = plan.steps.iter().map(|s| &s.id).collect();
    let mut waiting: Vec<&Step> = plan.steps.iter().collect();
    let mut done: BTreeSet<ResourceId> = BTreeSet::new();
    let mut running: JoinSet<(usize, Duration, Result<Properties, ProviderError>)> = JoinSet::new();
    let mut running_ids: BTreeMap<usize, &Step> = BTreeMap::new();
    // Which step a task runs, so a task that panics (and returns no token) is blamed on its own
    // step, not on whichever step happens to be first.
    let mut tokens: HashMap<tokio::task::Id, usize> = HashMap::new();
    let mut stopping = false;
    let concurrency = options.concurrency.max(1);
    let mut next_token = 0usize;

    loop {
        // A cancellation seen between steps starts nothing more, even when no step is running
        // for the select below to notice it.
        if !stopping && cancel.is_cancelled() {
            stopping = true;
            outcome.interrupted = true;
        }
        if !stopping {
            let mut index = 0;
            while index < waiting.len() && running.len() < concurrency {
                let step = waiting[index];
                // Looked at again for every step: finishing no-ops in this pass may leave only
                // deletes.
                let others_left = waiting.iter().any(|s| s.action != Action::Delete)
                    || running_ids.values().any(|s| s.action != Action::Delete);
                let ready = step
                    .depends_on
                    .iter()
                    .all(|d| done.contains(d) || !in_plan.contains(d))
                    && (step.action != Action::Delete || !others_left);
                if !ready {
                    index += 1;
                    continue;
                }
                waiting.remove(index);
                if step.action == Action::NoOp {
                    done.insert(step.id.clone());
                    // Finishing a no-op may make others ready: look again from the start.
                    index = 0;
                    continue;
                }
                let properties = match resolved(step, &outcome.attributes) {
                    Ok(properties) => properties,
                    Err(error) => {
                        observer.failed(step, &error);
                        outcome.failed.push((step.id.clone(), error));
                        stopping = true;
                        break;
                    }
                };
                observer.started(step);
                let token = next_token;
                next_token += 1;
                running_ids.insert(token, step);
                let backend = Arc::clone(&backend);
                let observer = Arc::clone(&observer);
                let step = step.clone();
                let options = options.clone();
                let task = running.spawn(async move {
                    let started = Instant::now();
                    let context = StepContext {
                        progress: observer.as_ref(),
                        deadline: started + options.step_timeout,
                        force: options.force,
                    };
                    let result = run_step(backend.as_ref(), &step, &properties, &context).await;
                    (token, started.elapsed(), result)
                });
                tokens.insert(task.id(), token);
            }
        }
        if running.is_empty() {
            break;
        }
        let joined = tokio::select! {
            joined = running.join_next_with_id() => joined,
            _ = cancel.cancelled(), if !stopping => {
                stopping = true;
                outcome.interrupted = true;
                continue;
            }
        };
        let Some(joined) = joined else { break };
        let (token, elapsed, result) = match joined {
            Ok((task, value)) => {
                tokens.remove(&task);
                value
            }
            Err(join_error) => {
                // A panicking step is a bug; stop as for a failure.
                stopping = true;
                let token = tokens.remove(&join_error.id());
                let Some(step) = token.and_then(|token| running_ids.remove(&token)) else {
                    continue;
                };
                let error = ProviderError::Internal {
                    resource: step.id.clone(),
                    message: join_error.to_string(),
                };
                observer.failed(step, &error);
                outcome.failed.push((step.id.clone(), error));
                continue;
            }
        };
        let Some(step) = running_ids.remove(&token) else {
            continue;
        };
        match result {
            Ok(attributes) => {
                observer.finished(step, elapsed);
                if step.action == Action::Delete {
                    outcome.attributes.remove(&step.id);
                } else {
                    outcome.attributes.insert(step.id.clone(), attributes);
                }
                done.insert(step.id.clone());
                outcome.applied.push(step.id.clone());
            }
            Err(error) => {
                observer.failed(step, &error);
                outcome.failed.push((step.id.clone(), error));
                stopping = true;
            }
        }
    }
    outcome.not_started = waiting
        .iter()
        .filter(|s| s.action.is_change())
        .map(|s| s.id.clone())
        .collect();
    outcome
}

async fn run_step(
    backend: &dyn Backend,
    step: &Step,
    properties: &Properties,
    context: &StepContext<'_>,
) -> Result<Properties, ProviderError> {
    let attributes = backend.apply(step, properties, context).await?;
    if step.action != Action::Delete {
        backend.wait_ready(step, &attributes, context).await?;
    }
    Ok(attributes)
}

/// The step's desired properties with every reference replaced by the attribute that an
/// earlier step (or the live state) gave.
fn resolved(step: &Step, attributes: &Attributes) -> Result<Properties, ProviderError> {
    let Some(desired) = &step.desired else {
        return Ok(Properties::new());
    };
    desired
        .properties
        .iter()
        .map(
            |(name, value)| match resolve(value, attributes, &|_| false) {
                Ok(value) => Ok((name.clone(), value)),
                Err(
                    Unresolved::AfterApply(reference) | Unresolved::MissingAttribute(reference),
                ) => Err(ProviderError::Internal {
                    resource: step.id.clone(),
                    message: format!(
                        "property `{name}` refers to `{}` of {}, which is not known",
                        reference.attribute, reference.resource
                    ),
                }),
            },
        )
        .collect()
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
