//! Deterministic zip artifacts of a service's functions, as the Serverless Framework v3's
//! `package` makes them: one zip for the service, or one per function packaged individually,
//! or a prebuilt `package.artifact` used as given. Same tree, same bytes: entries sorted,
//! timestamps and modes fixed. Also writes `artifacts.json` (each artifact's sha256, size and
//! files). Progress goes through [`Progress`]; nothing here prints.

mod archive;
pub mod error;
pub mod node_deps;
mod select;
mod walk;

use std::path::{Path, PathBuf};
use std::time::Instant;

use indexmap::IndexMap;
use serde_json::{json, Value as Json};

use crate::manifest::model::Service;
pub use error::{PackageError, PackageWarning};
use select::{PatternLists, Selector};

/// Lambda's limit on a function's unzipped code (250 MB), in bytes.
pub const UNZIPPED_LIMIT: u64 = 250 * 1024 * 1024;
/// Above this many zipped bytes (50 MB) Lambda only takes code uploaded through S3.
pub const DIRECT_UPLOAD_LIMIT: u64 = 50 * 1024 * 1024;
/// The name of the listing written beside the artifacts.
pub const LISTING: &str = "artifacts.json";

/// Hears how packaging goes. Called from the thread that called [`package`].
pub trait Progress {
    /// An artifact with this many files and bytes (unzipped) is about to be written.
    fn artifact_started(&self, _name: &str, _files: usize, _bytes: u64) {}
    /// This many of the current artifact's files are written.
    fn files_written(&self, _count: usize) {}
    /// An artifact is done.
    fn artifact_finished(&self, _artifact: &Artifact) {}
}

/// Progress nobody listens to.
pub struct Silent;
impl Progress for Silent {}

/// What to package, and where.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub service: &'a Service,
    pub service_dir: &'a Path,
    pub output_dir: PathBuf,
    /// The manifest the service was read from: left out of artifacts, as the Framework does.
    pub config_file: Option<PathBuf>,
}

/// One artifact, built or prebuilt.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    /// Where it is.
    pub path: PathBuf,
    /// As `artifacts.json` names it: the file name for built ones, the path as written for
    /// prebuilt ones.
    pub name: String,
    /// The function keys it is deployed as.
    pub functions: Vec<String>,
    pub sha256: String,
    pub bytes: u64,
    pub unzipped_bytes: Option<u64>,
    pub files: Vec<String>,
    pub prebuilt: bool,
    /// False when an identical file was already there and was left alone.
    pub rewritten: bool,
    /// Files left out because they look like secrets.
    pub secrets_left_out: Vec<String>,
    pub milliseconds: u64,
}

/// Everything that was packaged.
#[derive(Debug)]
pub struct Report {
    pub artifacts: Vec<Artifact>,
    pub warnings: Vec<PackageWarning>,
    /// What the Node dependency filter noticed (a production package not installed...).
    pub dependency_warnings: Vec<node_deps::NodeDepsWarning>,
    /// Where `artifacts.json` was written.
    pub listing: PathBuf,
}

/// What one artifact is made of.
enum Plan {
    Build {
        file_name: String,
        lists: PatternLists,
        functions: Vec<String>,
    },
    Prebuilt {
        given: String,
        place: String,
        functions: Vec<String>,
    },
}

/// Builds every artifact the service needs and writes `artifacts.json`.
pub fn package(request: &Request<'_>, progress: &dyn Progress) -> Result<Report, PackageError> {
    // Created first, so that its real path is known when it is left out of the artifacts.
    std::fs::create_dir_all(&request.output_dir).map_err(|source| PackageError::Write {
        path: request.output_dir.clone(),
        source,
    })?;
    let plans = plan(request);
    // The tree and the dependency filter are read once, and only if something is built.
    let mut tree: Option<walk::Tree> = None;
    let mut dependencies: Option<node_deps::NodeDependencies> = None;
    let mut report = Report {
        artifacts: Vec::new(),
        warnings: Vec::new(),
        dependency_warnings: Vec::new(),
        listing: request.output_dir.join(LISTING),
    };
    for plan in plans {
        let started = Instant::now();
        let mut artifact = match plan {
            Plan::Prebuilt {
                given,
                place,
                functions,
            } => prebuilt(request.service_dir, given, place, functions)?,
            Plan::Build {
                file_name,
                lists,
                functions,
            } => {
                let selector = Selector::new(&lists)?;
                if tree.is_none() {
                    tree = Some(walk::walk(request.service_dir)?);
                    let filter = node_deps::production_filter(request.service_dir)?;
                    report.dependency_warnings = filter.warnings().to_vec();
                    dependencies = Some(filter);
                }
                let (Some(tree), Some(dependencies)) = (&tree, &dependencies) else {
                    continue;
                };
                // A link that cannot be packaged is an error only where it would be packaged;
                // a directory link is probed through a name inside it.
                if let Some(bad) = tree.bad_links.iter().find(|link| {
                    if link.is_dir {
                        selector.keeps(&format!("{}/index.js", link.relative))
                    } else {
                        selector.keeps(&link.relative)
                    }
                }) {
                    return Err(bad.clone().into_error());
                }
                let selected = selector.select(&tree.files, dependencies, &file_name);
                if selected.files.is_empty() {
                    return Err(PackageError::NoFiles {
                        artifact: file_name,
                    });
                }
                let unzipped: u64 = selected.files.iter().map(|f| f.size).sum();
                if unzipped > UNZIPPED_LIMIT {
                    return Err(too_big(&file_name, unzipped, &selected.files));
                }
                report.warnings.extend(selected.warnings);
                progress.artifact_started(&file_name, selected.files.len(), unzipped);
                let path = request.output_dir.join(&file_name);
                let on_files = |count: usize| progress.files_written(count);
                let written = archive::write_zip(&selected.files, &path, &on_files)?;
                if written.bytes > DIRECT_UPLOAD_LIMIT {
                    report.warnings.push(PackageWarning::NeedsS3Upload {
                        artifact: file_name.clone(),
                        bytes: written.bytes,
                    });
                }
                Artifact {
                    path,
                    name: file_name,
                    functions,
                    sha256: written.sha256,
                    bytes: written.bytes,
                    unzipped_bytes: Some(written.unzipped_bytes),
                    files: selected.files.iter().map(|f| f.relative.clone()).collect(),
                    prebuilt: false,
                    rewritten: written.rewritten,
                    secrets_left_out: selected.secrets_left_out,
                    milliseconds: 0,
                }
            }
        };
        artifact.milliseconds = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        progress.artifact_finished(&artifact);
        report.artifacts.push(artifact);
    }
    write_listing(request.service, &report)?;
    Ok(report)
}

/// Which artifacts to make, as the Framework decides: a function's own `package.artifact`
/// first, then individual packaging, then the service's `package.artifact`, else the shared
/// service zip. Image functions have no code artifact.
fn plan(request: &Request<'_>) -> Vec<Plan> {
    let service = request.service;
    let mut shared_functions = Vec::new();
    let mut plans = Vec::new();
    for (key, function) in &service.functions {
        if function.image.is_some() {
            continue;
        }
        if let Some(given) = &function.package.artifact {
            plans.push(Plan::Prebuilt {
                given: given.clone(),
                place: format!("functions.{key}.package.artifact"),
                functions: vec![key.clone()],
            });
        } else if service.package.individually || function.package.individually {
            let mut lists = service_lists(request);
            let own = &function.package;
            let place = |field: &str| format!("functions.{key}.package.{field}");
            lists
                .exclude
                .extend(placed(&own.exclude, &place("exclude")));
            lists
                .include
                .extend(placed(&own.include, &place("include")));
            lists
                .patterns
                .extend(placed(&own.patterns, &place("patterns")));
            plans.push(Plan::Build {
                file_name: format!("{key}.zip"),
                lists,
                functions: vec![key.clone()],
            });
        } else {
            shared_functions.push(key.clone());
        }
    }
    if !shared_functions.is_empty() {
        let shared = match &service.package.artifact {
            Some(given) => Plan::Prebuilt {
                given: given.clone(),
                place: "package.artifact".into(),
                functions: shared_functions,
            },
            None => Plan::Build {
                file_name: format!("{}.zip", service.name),
                lists: service_lists(request),
                functions: shared_functions,
            },
        };
        plans.insert(0, shared);
    }
    plans
}

fn service_lists(request: &Request<'_>) -> PatternLists {
    let package = &request.service.package;
    let mut extra_excludes = Vec::new();
    // Layers are packaged on their own: their folders stay out of function artifacts.
    for layer in request.service.layers.values() {
        if let Some(path) = layer.get("path").and_then(Json::as_str) {
            let path = path.trim_start_matches("./").trim_end_matches('/');
            if !path.is_empty() && path != "." {
                extra_excludes.push(format!("{path}/**"));
            }
        }
    }
    // The Framework never ships its configuration file (a pattern can still bring it back).
    if let Some(relative) = request
        .config_file
        .as_deref()
        .and_then(|file| relative_inside(request.service_dir, file))
    {
        extra_excludes.push(relative);
    }
    // A custom output folder inside the service must not package earlier artifacts.
    if let Some(relative) = relative_inside(request.service_dir, &request.output_dir) {
        extra_excludes.push(format!("{relative}/**"));
    }
    PatternLists {
        extra_excludes,
        exclude: placed(&package.exclude, "package.exclude"),
        include: placed(&package.include, "package.include"),
        patterns: placed(&package.patterns, "package.patterns"),
    }
}

fn placed(patterns: &[String], place: &str) -> Vec<(String, String)> {
    patterns
        .iter()
        .enumerate()
        .map(|(index, pattern)| (pattern.clone(), format!("{place}[{index}]")))
        .collect()
}

fn relative_inside(service_dir: &Path, output_dir: &Path) -> Option<String> {
    let service_dir = std::fs::canonicalize(service_dir).ok()?;
    let output_dir = std::fs::canonicalize(output_dir)
        .ok()
        .or_else(|| Some(output_dir.to_path_buf()))?;
    let relative = output_dir.strip_prefix(&service_dir).ok()?;
    let text = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    (!text.is_empty()).then_some(text)
}

fn prebuilt(
    service_dir: &Path,
    given: String,
    place: String,
    functions: Vec<String>,
) -> Result<Artifact, PackageError> {
    let path = service_dir.join(&given);
    let metadata = std::fs::metadata(&path).ok().filter(|m| m.is_file());
    let (Some(metadata), Some(sha256)) = (metadata, archive::existing_sha256(&path)) else {
        return Err(PackageError::ArtifactMissing { path: given, place });
    };
    Ok(Artifact {
        files: archive::list_entries(&path).unwrap_or_default(),
        path,
        name: given,
        functions,
        sha256,
        bytes: metadata.len(),
        unzipped_bytes: None,
        prebuilt: true,
        rewritten: false,
        secrets_left_out: Vec::new(),
        milliseconds: 0,
    })
}

fn too_big(artifact: &str, bytes: u64, files: &[&walk::FileEntry]) -> PackageError {
    let mut largest: Vec<&&walk::FileEntry> = files.iter().collect();
    largest.sort_by(|a, b| b.size.cmp(&a.size).then(a.relative.cmp(&b.relative)));
    let largest = largest
        .iter()
        .take(3)
        .map(|f| format!("{} ({} bytes)", f.relative, f.size))
        .collect::<Vec<_>>()
        .join(", ");
    PackageError::TooBig {
        artifact: artifact.to_string(),
        bytes,
        limit: UNZIPPED_LIMIT,
        largest,
    }
}

/// `artifacts.json`: no timings, so the same tree gives the same listing.
fn write_listing(service: &Service, report: &Report) -> Result<(), PackageError> {
    let artifacts: Vec<Json> = report
        .artifacts
        .iter()
        .map(|a| {
            let mut entry = IndexMap::new();
            entry.insert("artifact", json!(a.name));
            entry.insert("functions", json!(a.functions));
            entry.insert("prebuilt", json!(a.prebuilt));
            entry.insert("sha256", json!(a.sha256));
            entry.insert("bytes", json!(a.bytes));
            entry.insert("unzippedBytes", json!(a.unzipped_bytes));
            entry.insert("files", json!(a.files));
            json!(entry)
        })
        .collect();
    let listing = json!({ "service": service.name, "artifacts": artifacts });
    let mut text = serde_json::to_string_pretty(&listing).unwrap_or_default();
    text.push('\n');
    std::fs::write(&report.listing, text).map_err(|source| PackageError::Write {
        path: report.listing.clone(),
        source,
    })
}
