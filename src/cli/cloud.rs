//! What the cloud commands (`plan`, `deploy`, `remove`, `info`, `unlock`) share: loading the
//! service for a stage and region, connecting to its cloud, Ctrl-C, the [`Reporter`] that
//! prints what the library's sequences (`crate::ops`) do, and turning their errors into
//! failures with the manifest place.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use indexmap::IndexMap;
use serde_json::Value as Json;

use super::error::Failure;
use super::output::progress::ApplyProgress;
use super::output::{plan as render, Printer};
use super::GlobalArgs;
use crate::manifest::model::Service;
use crate::manifest::source::SourceMap;
use crate::manifest::Loaded;
use crate::ops::{self, ChangeOptions, Interrupt, OpsError};
use crate::plan::Plan;
use crate::provider::engine::Observer;
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

impl ChangeArgs {
    /// The library's options for a changing command.
    pub fn options(&self) -> ChangeOptions {
        ChangeOptions {
            yes: self.yes,
            concurrency: usize::from(self.concurrency),
            lock_timeout: self.lock_timeout,
        }
    }
}

/// A loaded service, ready for a cloud command.
pub struct Context {
    pub loaded: Loaded,
    pub service: Service,
}

impl Context {
    /// The service and where it was read from, for packaging.
    pub fn source(&self) -> ops::Source<'_> {
        ops::Source {
            service: &self.service,
            service_dir: &self.loaded.service_dir,
            config_file: Some(
                self.loaded
                    .sources
                    .file(self.loaded.root.span.file)
                    .path
                    .clone(),
            ),
        }
    }

    /// A library error as a failure, placed in this manifest when it has a place.
    pub fn failure(&self, error: OpsError) -> Failure {
        ops_failure(error, &self.loaded.sources)
    }
}

/// Prints what the library's sequences report: progress and warnings on stderr, the plan on
/// stdout, the apply's progress as spinners on a terminal and lines elsewhere.
pub struct CliReporter {
    printer: Printer,
}

impl CliReporter {
    pub fn new(printer: &Printer) -> Self {
        CliReporter {
            printer: printer.clone(),
        }
    }
}

impl ops::Reporter for CliReporter {
    fn info(&self, message: &str) {
        self.printer.info(message);
    }

    fn warning(&self, warning: &dyn miette::Diagnostic) {
        self.printer.warning(warning);
    }

    fn plan(&self, plan: &Plan) {
        self.printer
            .data(&render::render(plan, self.printer.verbose() > 0));
    }

    fn confirm(&self, question: &str) -> bool {
        confirm(question, &self.printer)
    }

    fn observer(&self) -> Arc<dyn Observer> {
        Arc::new(ApplyProgress::new(
            &self.printer,
            std::io::stderr().is_terminal(),
        ))
    }
}

/// A library error as a failure: a held lock exits 3, Ctrl-C 130, a bug is reported as one.
pub fn ops_failure(error: OpsError, sources: &SourceMap) -> Failure {
    match error {
        OpsError::Provider(error) => failure(error, sources),
        OpsError::Interrupted => Failure::Interrupted,
        other => Failure::user(other),
    }
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

/// Connects to the service's cloud.
pub fn connect(
    global: &GlobalArgs,
    context: &Context,
    runtime: &tokio::runtime::Handle,
) -> Result<Arc<dyn Backend>, Failure> {
    let profile = crate::provider::aws::sdk::deploy_profile(
        global.aws_profile.as_deref(),
        context.service.provider.profile.as_deref(),
        |name| std::env::var(name).ok(),
    );
    runtime
        .block_on(crate::provider::connect(
            &context.service,
            &context.loaded.service_dir,
            profile.as_deref(),
        ))
        .map_err(|error| failure(error, &context.loaded.sources))
}

/// Cancels on the first Ctrl-C (running calls finish, the lock is released, exit 130); exits at
/// once on the second.
pub fn interrupt_handler(runtime: &tokio::runtime::Handle, printer: &Printer) -> Interrupt {
    let interrupt = Interrupt::default();
    let first = interrupt.clone();
    let printer = printer.clone();
    // Registered now, not when the task first runs, so a Ctrl-C during start-up is not lost to
    // the default action (which would end the process with the lock held).
    let mut interrupts = Interrupts::listen(runtime);
    runtime.spawn(async move {
        if !interrupts.next().await {
            return;
        }
        printer.info(
            "interrupted: letting running calls finish and releasing the lock (Ctrl-C again to stop at once)",
        );
        first.trigger();
        if interrupts.next().await {
            std::process::exit(i32::from(super::error::EXIT_INTERRUPTED));
        }
    });
    interrupt
}

/// Ctrl-C, listened for from the moment this is made.
struct Interrupts {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Interrupts {
    fn listen(runtime: &tokio::runtime::Handle) -> Interrupts {
        #[cfg(unix)]
        {
            let _entered = runtime.enter();
            let signal =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
            Interrupts { signal }
        }
        #[cfg(not(unix))]
        {
            let _ = runtime;
            Interrupts {}
        }
    }

    /// The next Ctrl-C; false when none can be heard.
    async fn next(&mut self) -> bool {
        #[cfg(unix)]
        {
            match &mut self.signal {
                Some(signal) => signal.recv().await.is_some(),
                None => false,
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.is_ok()
        }
    }
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
    source_code: crate::manifest::snippet::Snippet,
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
