//! `updraft package`: writes the service's deployment artifacts and `artifacts.json`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Args;
use indexmap::IndexMap;
use serde_json::{json, Value as Json};

use super::error::{Failure, Status};
use super::output::Printer;
use super::GlobalArgs;
use crate::manifest::model::Service;
use crate::package::{self, Artifact, Progress};

/// Build deployment artifacts (zips) and artifacts.json without deploying
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Folder to write the artifacts to (default: .serverless in the service directory)
    #[arg(short = 'p', long = "package", value_name = "DIR")]
    pub package: Option<PathBuf>,
    /// Print a JSON summary on stdout (artifact, bytes, files, sha256, milliseconds)
    #[arg(long)]
    pub json: bool,
}

pub fn exec(
    global: &GlobalArgs,
    args: PackageArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
    let working_dir = super::working_dir()?;
    let option_values = option_values(global, &args);
    let loaded = super::load_manifest(global, option_values.clone(), printer, runtime)?;
    printer.add_secrets(loaded.secrets.iter().cloned());
    let service =
        Service::from_tree_with_options(&loaded.root, &option_values).map_err(Failure::user)?;
    let output_dir = match &args.package {
        Some(dir) => working_dir.join(dir),
        None => loaded.service_dir.join(".serverless"),
    };
    // Ctrl-C sets a flag instead of killing the process, so that packaging can remove the
    // artifact it was writing and exit with 130.
    let interrupted = Arc::new(AtomicBool::new(false));
    let watcher = watch_interrupt(runtime, Arc::clone(&interrupted));
    let request = package::Request {
        service: &service,
        service_dir: &loaded.service_dir,
        output_dir,
        config_file: Some(loaded.sources.file(loaded.root.span.file).path.clone()),
        interrupted: Some(&interrupted),
    };
    let started = std::time::Instant::now();
    let progress = Bar::new(std::io::stderr().is_terminal() && printer.verbose() < 2);
    let report = package::package(&request, &progress);
    progress.clear();
    if let Some(watcher) = watcher {
        watcher.abort();
    }
    let report = match report {
        Err(package::PackageError::Interrupted) => return Err(Failure::Interrupted),
        Err(error) => return Err(Failure::user(error)),
        Ok(_) if interrupted.load(Ordering::Relaxed) => return Err(Failure::Interrupted),
        Ok(report) => report,
    };
    for warning in &report.dependency_warnings {
        printer.warning(warning);
    }
    for warning in &report.warnings {
        printer.warning(warning);
    }
    for artifact in &report.artifacts {
        if !artifact.secrets_left_out.is_empty() {
            printer.info(&format!(
                "{}: left out {} (they look like secrets; a pattern that names one keeps it)",
                artifact.name,
                artifact.secrets_left_out.join(", ")
            ));
        }
        if !args.json {
            printer.info(&summary_line(artifact));
        }
        if printer.verbose() > 0 {
            for file in &artifact.files {
                printer.info(&format!("  {file}"));
            }
        }
    }
    if args.json {
        let artifacts: Vec<Json> = report
            .artifacts
            .iter()
            .map(|a| {
                json!({
                    "artifact": a.path.display().to_string(),
                    "functions": a.functions,
                    "bytes": a.bytes,
                    "files": a.files.len(),
                    "sha256": a.sha256,
                    "prebuilt": a.prebuilt,
                    "rewritten": a.rewritten,
                    "milliseconds": a.milliseconds,
                })
            })
            .collect();
        let summary = json!({
            "artifacts": artifacts,
            "listing": report.listing.display().to_string(),
            "milliseconds": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        printer.data(&serde_json::to_string_pretty(&summary).unwrap_or_default());
    } else {
        printer.info(&format!("listing: {}", report.listing.display()));
    }
    Ok(Status::Success)
}

fn summary_line(artifact: &Artifact) -> String {
    let short_hash = artifact.sha256.get(..12).unwrap_or(&artifact.sha256);
    if artifact.prebuilt {
        return format!(
            "{}: prebuilt, {} bytes, sha256 {short_hash} (functions: {})",
            artifact.name,
            artifact.bytes,
            artifact.functions.join(", ")
        );
    }
    let state = if artifact.rewritten {
        "written"
    } else {
        "unchanged"
    };
    format!(
        "{}: {state}, {} files, {} bytes, sha256 {short_hash}, {} ms (functions: {})",
        artifact.name,
        artifact.files.len(),
        artifact.bytes,
        artifact.milliseconds,
        artifact.functions.join(", ")
    )
}

/// A progress bar on a terminal; nothing otherwise (the summary lines say what was done).
struct Bar {
    bar: Option<indicatif::ProgressBar>,
}

impl Bar {
    fn new(enabled: bool) -> Bar {
        Bar {
            bar: enabled.then(|| {
                let bar = indicatif::ProgressBar::new(0);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{msg} [{bar:30}] {pos}/{len} files ({elapsed})",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar
            }),
        }
    }

    fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn artifact_started(&self, name: &str, files: usize, _bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("packaging {name}"));
            bar.set_length(files as u64);
            bar.set_position(0);
        }
    }
    fn files_written(&self, count: usize) {
        if let Some(bar) = &self.bar {
            bar.set_position(count as u64);
        }
    }
}

/// Sets `flag` on Ctrl-C (SIGINT) until the returned task is aborted.
fn watch_interrupt(
    runtime: &tokio::runtime::Handle,
    flag: Arc<AtomicBool>,
) -> Option<tokio::task::JoinHandle<()>> {
    #[cfg(unix)]
    {
        // Registered now, not when the task first runs, so no early Ctrl-C is missed.
        let _entered = runtime.enter();
        let mut signal =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok()?;
        Some(runtime.spawn(async move {
            if signal.recv().await.is_some() {
                flag.store(true, Ordering::Relaxed);
            }
        }))
    }
    #[cfg(not(unix))]
    {
        Some(runtime.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, Ordering::Relaxed);
            }
        }))
    }
}

/// The options `${opt:...}` sees while packaging.
fn option_values(global: &GlobalArgs, args: &PackageArgs) -> IndexMap<String, Json> {
    let string = |v: Option<String>| v.map(Json::String).unwrap_or(Json::Null);
    let mut options = IndexMap::new();
    options.insert("region".into(), string(global.region.clone()));
    options.insert("stage".into(), string(global.stage.clone()));
    options.insert(
        "package".into(),
        string(
            args.package
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned()),
        ),
    );
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
