//! The cloud commands' sequences, written once for every cloud: `plan`, `deploy`, `deploy
//! function`, `remove` and `info` as functions over a [`Backend`], a [`Reporter`] that hears
//! what happens, and an [`Interrupt`]. Each returns a report value; the command line renders it
//! and maps an [`OpsError`] to an exit code. Nothing here prints or knows clap.
//!
//! The deploy sequence: package, desired state (an unsupported event fails here, before the
//! lock), lock, live state, plan, show, confirm, record intent, apply, re-read, record outcome,
//! unlock. The lock is released on every path out once it was taken.

mod deploy;
mod error;
mod remove;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::manifest::model::Service;
use crate::package::{self, Artifact, PackageError};
use crate::plan::Plan;
use crate::provider::engine::{self, Observer, Options, Outcome};
use crate::provider::lock::{self, LockAttempt, LockHolder, Operation};
use crate::provider::{Backend, Planned, ProviderError, ServiceInfo};

pub use deploy::{deploy, plan, DeployReport, DeployRequest, PlanReport};
pub use error::OpsError;
pub use remove::{remove, RemoveReport, RemoveRequest};

/// Hears what a command does. The command line prints it; a test records it.
pub trait Reporter: Send + Sync {
    /// A line of progress ("Deploying svc (stage dev) to AWS account ...").
    fn info(&self, message: &str);
    /// Something the user should know that does not stop the command, with its fix.
    fn warning(&self, warning: &dyn miette::Diagnostic);
    /// The plan, once made and before anything changes.
    fn plan(&self, plan: &Plan);
    /// Asks before a destructive change; `false` stops with nothing changed.
    fn confirm(&self, question: &str) -> bool;
    /// What hears each step of the apply.
    fn observer(&self) -> Arc<dyn Observer>;
}

/// The first Ctrl-C: packaging watches the flag, reads and the apply watch the token. Running
/// calls finish and the lock is released.
#[derive(Clone, Default)]
pub struct Interrupt {
    pub token: CancellationToken,
    pub flag: Arc<AtomicBool>,
}

impl Interrupt {
    /// Sets both.
    pub fn trigger(&self) {
        self.flag.store(true, Ordering::Relaxed);
        self.token.cancel();
    }

    pub fn happened(&self) -> bool {
        self.flag.load(Ordering::Relaxed) || self.token.is_cancelled()
    }
}

/// Where the service was read from, for packaging.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    pub service: &'a Service,
    pub service_dir: &'a Path,
    /// The manifest file: left out of the artifacts.
    pub config_file: Option<PathBuf>,
}

/// How a changing command applies.
#[derive(Debug, Clone)]
pub struct ChangeOptions {
    /// Apply without asking, even when the plan deletes or replaces something.
    pub yes: bool,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// How long to wait for another run's lock.
    pub lock_timeout: Duration,
}

impl Default for ChangeOptions {
    fn default() -> Self {
        ChangeOptions {
            yes: false,
            concurrency: 10,
            lock_timeout: Duration::ZERO,
        }
    }
}

/// The service's functions and endpoints as they are live, and what could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct InfoReport {
    pub info: ServiceInfo,
    /// `part: cause` for each part of the live state that could not be read.
    pub unread: Vec<String>,
}

/// `updraft info`.
pub async fn info(backend: &dyn Backend, interrupt: &Interrupt) -> Result<InfoReport, OpsError> {
    let live = interruptible(interrupt, backend.live()).await??;
    Ok(InfoReport {
        info: backend.info(&live),
        unread: live.unread_lines(),
    })
}

/// Builds the artifacts into `.serverless/` beside the manifest; warnings go to the reporter.
pub async fn package(
    source: &Source<'_>,
    interrupt: &Interrupt,
    reporter: &dyn Reporter,
) -> Result<Vec<Artifact>, OpsError> {
    let request = package::Request {
        service: source.service,
        service_dir: source.service_dir,
        output_dir: source.service_dir.join(".serverless"),
        config_file: source.config_file.clone(),
        interrupted: Some(&interrupt.flag),
    };
    // Packaging is CPU and file work on threads of its own; this worker waits for it.
    let built = tokio::task::block_in_place(|| package::package(&request, &package::Silent));
    let report = match built {
        Ok(report) => report,
        Err(PackageError::Interrupted) => return Err(OpsError::Interrupted),
        Err(error) => return Err(OpsError::Package(error)),
    };
    for warning in &report.dependency_warnings {
        reporter.warning(warning);
    }
    for warning in &report.warnings {
        reporter.warning(warning);
    }
    Ok(report.artifacts)
}

/// Takes the lock for `operation`, waiting up to `timeout` and saying once that it waits.
async fn take_lock(
    backend: &dyn Backend,
    operation: Operation,
    timeout: Duration,
    reporter: &dyn Reporter,
) -> Result<LockHolder, OpsError> {
    let scope = backend.scope();
    let holder = LockHolder::for_this_process(operation, &scope.service, &scope.stage);
    let mut told = false;
    let attempt = lock::acquire(backend, &holder, timeout, |other| {
        if !told {
            reporter.info(&format!(
                "waiting for the deploy lock: {}",
                other.describe()
            ));
            told = true;
        }
    })
    .await?;
    match attempt {
        LockAttempt::Acquired => Ok(holder),
        LockAttempt::Held(other) => Err(OpsError::Provider(ProviderError::LockHeld {
            holder: Box::new(other),
        })),
    }
}

/// Releases the lock; a failure is reported but does not hide the command's own result.
async fn release_lock(backend: &dyn Backend, holder: &LockHolder, reporter: &dyn Reporter) {
    if let Err(error) = backend.unlock(&holder.id).await {
        reporter.warning(&error);
        reporter.info(&format!(
            "the lock may still be held: run `updraft unlock {}` once nothing else deploys",
            holder.id
        ));
    }
}

/// Runs a read that Ctrl-C may abandon: nothing has changed yet.
async fn interruptible<T>(
    interrupt: &Interrupt,
    future: impl std::future::Future<Output = T>,
) -> Result<T, OpsError> {
    tokio::select! {
        value = future => Ok(value),
        _ = interrupt.token.cancelled() => Err(OpsError::Interrupted),
    }
}

/// Applies `planned` and turns a partial outcome into an error that says what was applied and
/// what was not.
async fn apply(
    backend: &Arc<dyn Backend>,
    planned: &Planned,
    options: &Options,
    interrupt: &Interrupt,
    reporter: &dyn Reporter,
) -> Result<Outcome, OpsError> {
    let started = std::time::Instant::now();
    let outcome = engine::apply(
        Arc::clone(backend),
        &planned.plan,
        &planned.live,
        options,
        reporter.observer(),
        &interrupt.token,
    )
    .await;
    let seconds = started.elapsed().as_secs_f64();
    if outcome.succeeded() {
        reporter.info(&format!(
            "Applied {} changes in {seconds:.1} s.",
            outcome.applied.len()
        ));
        return Ok(outcome);
    }
    let changes = planned
        .plan
        .steps
        .iter()
        .filter(|s| s.action.is_change())
        .count();
    reporter.info(&format!(
        "Applied {} of {changes} changes in {seconds:.1} s.",
        outcome.applied.len()
    ));
    if !outcome.not_started.is_empty() {
        let names: Vec<String> = outcome
            .not_started
            .iter()
            .map(ToString::to_string)
            .collect();
        reporter.info(&format!("Not applied: {}", names.join(", ")));
    }
    if outcome.interrupted && outcome.failed.is_empty() {
        return Err(OpsError::Interrupted);
    }
    Err(OpsError::ApplyFailed {
        failed: outcome
            .failed
            .iter()
            .map(|(id, error)| format!("{id}: {error}"))
            .collect(),
    })
}

/// Asks before a destructive plan unless `yes`.
fn confirmed(yes: bool, question: &str, reporter: &dyn Reporter) -> Result<(), OpsError> {
    if yes || reporter.confirm(question) {
        Ok(())
    } else {
        Err(OpsError::NotConfirmed)
    }
}
