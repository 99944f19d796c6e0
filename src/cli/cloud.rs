//! What the cloud commands (`plan`, `deploy`, `remove`, `info`, `unlock`) share: loading the
//! service for a stage and region, packaging it, connecting to its cloud, taking the lock,
//! Ctrl-C, and turning provider errors into failures with the manifest place.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use indexmap::IndexMap;
use serde_json::Value as Json;
use tokio_util::sync::CancellationToken;

use super::error::Failure;
use super::output::Printer;
use super::GlobalArgs;
use crate::manifest::model::Service;
use crate::manifest::source::SourceMap;
use crate::manifest::Loaded;
use crate::package::{self, Artifact};
use crate::provider::lock::{self, LockAttempt, LockHolder, Operation};
use crate::provider::{Backend, ProviderError};

/// Options of the commands that change the cloud.
#[derive(Debug, Args, Clone)]
pub struct ChangeArgs {
    /// Apply without asking, even when the plan deletes or replaces something
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Cloud calls in flight at once
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// How long to wait for another deploy's lock before giving up, e.g. 30s, 10m (0s: don't wait)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "0s")]
    pub lock_timeout: Duration,
}

/// `90`, `90s`, `10m`, `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("expected a duration like 30s, 10m or 1h, got `{text}`"))?;
    let seconds = match unit {
        "ms" => return Ok(Duration::from_millis(value)),
        "s" => value,
        "m" => value.saturating_mul(60),
        "h" => value.saturating_mul(3600),
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in `{text}`: use ms, s, m or h"
            ))
        }
    };
    Ok(Duration::from_secs(seconds))
}

/// A loaded service, ready for a cloud command.
pub struct Context {
    pub loaded: Loaded,
    pub service: Service,
}

/// Loads the manifest for the global options and reads the service from it.
pub fn load(
    global: &GlobalArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Context, Failure> {
    let options = option_values(global);
    let loaded = super::load_manifest(global, options.clone(), printer, runtime)?;
    printer.add_secrets(loaded.secrets.iter().cloned());
    let service = Service::from_tree_with_options(&loaded.root, &options).map_err(Failure::user)?;
    Ok(Context { loaded, service })
}

/// Builds the artifacts into `.serverless/` (unchanged ones are left alone). A Ctrl-C stops it
/// without leaving a partial artifact.
pub fn package(
    context: &Context,
    interrupt: &Interrupt,
    printer: &Printer,
) -> Result<Vec<Artifact>, Failure> {
    let request = package::Request {
        service: &context.service,
        service_dir: &context.loaded.service_dir,
        output_dir: context.loaded.service_dir.join(".serverless"),
        config_file: Some(
            context
                .loaded
                .sources
                .file(context.loaded.root.span.file)
                .path
                .clone(),
        ),
        interrupted: Some(&interrupt.flag),
    };
    let report = match package::package(&request, &package::Silent) {
        Ok(report) => report,
        Err(package::PackageError::Interrupted) => return Err(Failure::Interrupted),
        Err(error) => return Err(Failure::user(error)),
    };
    for warning in &report.dependency_warnings {
        printer.warning(warning);
    }
    for warning in &report.warnings {
        printer.warning(warning);
    }
    Ok(report.artifacts)
}

/// Connects to the service's cloud.
pub fn connect(
    global: &GlobalArgs,
    context: &Context,
    runtime: &tokio::runtime::Handle,
) -> Result<Arc<dyn Backend>, Failure> {
    let profile = global
        .aws_profile
        .clone()
        .or_else(|| context.service.provider.profile.clone());
    runtime
        .block_on(crate::provider::connect(
            &context.service,
            profile.as_deref(),
        ))
        .map_err(|error| failure(error, &context.loaded.sources))
}

/// Takes the lock for `operation`, waiting up to `timeout`.
pub fn take_lock(
    backend: &dyn Backend,
    operation: Operation,
    timeout: Duration,
    printer: &Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<LockHolder, Failure> {
    let scope = backend.scope();
    let holder = LockHolder::for_this_process(operation, &scope.service, &scope.stage);
    let mut told = false;
    let attempt = runtime.block_on(lock::acquire(backend, &holder, timeout, |other| {
        if !told {
            printer.info(&format!(
                "waiting for the deploy lock: {}",
                other.describe()
            ));
            told = true;
        }
    }));
    match attempt {
        Ok(LockAttempt::Acquired) => Ok(holder),
        Ok(LockAttempt::Held(other)) => Err(Failure::LockHeld(miette::Report::new(
            ProviderError::LockHeld {
                holder: Box::new(other),
            },
        ))),
        Err(error) => Err(failure(error, &SourceMap::default())),
    }
}

/// Releases the lock; a failure to do so is reported but does not hide the command's result.
pub fn release_lock(
    backend: &dyn Backend,
    holder: &LockHolder,
    printer: &Printer,
    runtime: &tokio::runtime::Handle,
) {
    if let Err(error) = runtime.block_on(backend.unlock(&holder.id)) {
        printer.warning(&error);
        printer.info(&format!(
            "the lock may still be held: run `updraft unlock {}` once nothing else deploys",
            holder.id
        ));
    }
}

/// What the first Ctrl-C sets: packaging watches the flag, applying watches the token.
pub struct Interrupt {
    pub token: CancellationToken,
    pub flag: Arc<AtomicBool>,
}

impl Interrupt {
    pub fn happened(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }
}

/// Cancels on the first Ctrl-C (running calls finish, the lock is released, exit 130); exits at
/// once on the second.
pub fn interrupt_handler(runtime: &tokio::runtime::Handle, printer: &Printer) -> Interrupt {
    let interrupt = Interrupt {
        token: CancellationToken::new(),
        flag: Arc::new(AtomicBool::new(false)),
    };
    let token = interrupt.token.clone();
    let flag = Arc::clone(&interrupt.flag);
    let printer = printer.clone();
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        printer.info(
            "interrupted: letting running calls finish and releasing the lock (Ctrl-C again to stop at once)",
        );
        flag.store(true, Ordering::Relaxed);
        token.cancel();
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(i32::from(super::error::EXIT_INTERRUPTED));
        }
    });
    interrupt
}

/// Asks a terminal user to confirm; anything but `yes` declines. Without a terminal (CI) there is
/// nobody to ask and the answer is yes.
pub fn confirm(question: &str, printer: &Printer) -> bool {
    if !std::io::stdin().is_terminal() {
        return true;
    }
    printer.info(&format!("{question} Type `yes` to go on:"));
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok() && answer.trim() == "yes"
}

/// A provider error as a failure, placed in the manifest when it has a span.
pub fn failure(error: ProviderError, sources: &SourceMap) -> Failure {
    match error {
        ProviderError::LockHeld { .. } => Failure::LockHeld(miette::Report::new(error)),
        ProviderError::Internal { .. } => Failure::Unexpected(miette::Report::new(error)),
        ProviderError::Unsupported {
            span: Some(span), ..
        }
        | ProviderError::Invalid {
            span: Some(span), ..
        } if !sources.is_empty() => Failure::User(miette::Report::new(Placed {
            help: miette::Diagnostic::help(&error)
                .map(|h| h.to_string())
                .unwrap_or_default(),
            message: error.to_string(),
            source_code: sources.named_source(span.file),
            span: span.source_span(),
        })),
        other => Failure::user(other),
    }
}

/// A provider error with its place in the manifest.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(help("{help}"))]
struct Placed {
    message: String,
    help: String,
    #[source_code]
    source_code: miette::NamedSource<std::sync::Arc<str>>,
    #[label("here")]
    span: miette::SourceSpan,
}

/// The options `${opt:...}` sees for a cloud command.
fn option_values(global: &GlobalArgs) -> IndexMap<String, Json> {
    let string = |v: Option<String>| v.map(Json::String).unwrap_or(Json::Null);
    let mut options = IndexMap::new();
    options.insert("region".into(), string(global.region.clone()));
    options.insert("stage".into(), string(global.stage.clone()));
    options.insert("aws-profile".into(), string(global.aws_profile.clone()));
    options.insert(
        "config".into(),
        string(
            global
                .config
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned()),
        ),
    );
    options
}

/// Applies `planned` with progress lines, and turns a partial outcome into a failure that says
/// what was applied and what was not.
pub fn apply(
    backend: &Arc<dyn Backend>,
    planned: &crate::provider::Planned,
    options: &crate::provider::engine::Options,
    interrupt: &Interrupt,
    printer: &Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<crate::provider::engine::Outcome, Failure> {
    let progress = Arc::new(super::output::progress::ApplyProgress::new(
        printer,
        std::io::stderr().is_terminal(),
    ));
    let started = std::time::Instant::now();
    let outcome = runtime.block_on(crate::provider::engine::apply(
        Arc::clone(backend),
        &planned.plan,
        &planned.live,
        options,
        progress,
        &interrupt.token,
    ));
    let seconds = started.elapsed().as_secs_f64();
    if outcome.succeeded() {
        printer.info(&format!(
            "Applied {} changes in {seconds:.1} s.",
            outcome.applied.len()
        ));
        return Ok(outcome);
    }
    let names = |ids: &[crate::plan::ResourceId]| {
        ids.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    printer.info(&format!(
        "Applied {} of {} changes in {seconds:.1} s.",
        outcome.applied.len(),
        planned
            .plan
            .steps
            .iter()
            .filter(|s| s.action.is_change())
            .count()
    ));
    if !outcome.not_started.is_empty() {
        printer.info(&format!("Not applied: {}", names(&outcome.not_started)));
    }
    if outcome.interrupted && outcome.failed.is_empty() {
        return Err(Failure::Interrupted);
    }
    let failed: Vec<String> = outcome
        .failed
        .iter()
        .map(|(id, error)| format!("{id}: {error}"))
        .collect();
    Err(Failure::User(miette::miette!(
        help = "fix the cause and run the command again: it continues from what was applied",
        "{} change(s) failed:\n  {}",
        failed.len(),
        failed.join("\n  ")
    )))
}

/// Runs a read (live state, plan) that Ctrl-C may abandon: nothing has changed yet, so the
/// command stops at once with exit 130.
pub fn interruptible<T>(
    runtime: &tokio::runtime::Handle,
    interrupt: &Interrupt,
    future: impl std::future::Future<Output = T>,
) -> Result<T, Failure> {
    runtime.block_on(async {
        tokio::select! {
            value = future => Ok(value),
            _ = interrupt.token.cancelled() => Err(Failure::Interrupted),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_timeouts_read_as_people_write_them() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5d").unwrap_err().contains("unknown unit"));
    }
}
