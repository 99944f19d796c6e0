//! Deterministic zip artifacts of a service's functions, as the Serverless Framework v3's
//! `package` makes them: one zip for the service, or one per function packaged individually,
//! or a prebuilt `package.artifact` used as given, and one per layer with a `path`. Same tree,
//! same bytes: entries sorted, timestamps and modes fixed. A service inside a Node workspace
//! gets its hoisted production packages under `node_modules/` ([`hoisted`]). Also writes
//! `artifacts.json` (each artifact's sha256, size and files). Progress goes through
//! [`Progress`]; nothing here prints. A Ctrl-C flag stops it between windows of files, leaving
//! no partial artifact.

mod archive;
pub mod build;
pub mod error;
pub mod extend;
mod hoisted;
pub mod node_deps;
mod partial;
mod select;
mod walk;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Set (by a Ctrl-C handler) to stop: packaging returns [`PackageError::Interrupted`]
    /// soon after, leaving no partial artifact behind.
    pub interrupted: Option<&'a AtomicBool>,
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
    /// The `layers:` key it is the content of (then `functions` is empty).
    pub layer: Option<String>,
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
        /// A layer's key and folder (relative to the service): its files are taken from that
        /// folder and named relative to it, with no dependency filter, as the Framework does.
        layer: Option<(String, String)>,
    },
    Prebuilt {
        given: String,
        place: String,
        functions: Vec<String>,
        layer: Option<String>,
    },
}

/// Builds every artifact the service needs and writes `artifacts.json`.
pub fn package(request: &Request<'_>, progress: &dyn Progress) -> Result<Report, PackageError> {
    // Created first, so that its real path is known when it is left out of the artifacts.
    std::fs::create_dir_all(&request.output_dir).map_err(|source| PackageError::Write {
        path: request.output_dir.clone(),
        source,
    })?;
    // What a run killed outright left: it would be packaged into nothing, but it fills the
    // disk and looks like work in progress.
    partial::remove_abandoned(&request.output_dir);
    let builds = build::build(&build::BuildRequest {
        service: request.service,
        service_dir: request.service_dir,
        output_dir: &request.output_dir,
        purpose: build::Purpose::Lambda,
        only: Vec::new(),
        interrupted: request.interrupted,
    })
    .map_err(|error| match error {
        build::BuildError::Interrupted => PackageError::Interrupted,
        error => PackageError::Build(error),
    })?;
    let plans = plan(request, &builds)?;
    // The tree and the dependency filter are read once, and only if something is built.
    let mut tree: Option<walk::Tree> = None;
    let mut dependencies: Option<node_deps::NodeDependencies> = None;
    let mut report = Report {
        artifacts: Vec::new(),
        warnings: Vec::new(),
        dependency_warnings: Vec::new(),
        listing: request.output_dir.join(LISTING),
    };
    report
        .warnings
        .extend(builds.warnings.iter().cloned().map(PackageWarning::Build));
    let interrupted = || {
        request
            .interrupted
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    };
    for plan in plans {
        if interrupted() {
            return Err(PackageError::Interrupted);
        }
        let started = Instant::now();
        let mut artifact = match plan {
            Plan::Prebuilt {
                given,
                place,
                functions,
                layer,
            } => {
                let mut artifact = prebuilt(request.service_dir, given, place, functions)?;
                artifact.layer = layer;
                if artifact.bytes > DIRECT_UPLOAD_LIMIT {
                    report.warnings.push(PackageWarning::NeedsS3Upload {
                        artifact: artifact.name.clone(),
                        bytes: artifact.bytes,
                    });
                }
                artifact
            }
            Plan::Build {
                file_name,
                lists,
                functions,
                layer,
            } => {
                let selector = Selector::new(&lists)?;
                let layer_tree;
                let (tree, dependencies) = match &layer {
                    Some((_, folder)) => {
                        layer_tree = (
                            walk::walk(&request.service_dir.join(folder))?,
                            node_deps::NodeDependencies::keep_all(),
                        );
                        (&layer_tree.0, &layer_tree.1)
                    }
                    None => {
                        if tree.is_none() {
                            let filter = node_deps::production_filter(request.service_dir)?;
                            report.dependency_warnings = filter.warnings().to_vec();
                            tree = Some(service_tree(request.service_dir, &filter)?);
                            dependencies = Some(filter);
                        }
                        let (Some(tree), Some(dependencies)) = (&tree, &dependencies) else {
                            continue;
                        };
                        (tree, dependencies)
                    }
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
                let mut selected = selector.select(&tree.files, dependencies, &file_name);
                // What the build steps made stands in for, or joins, the service's files.
                let named = |path: &str| selector.names(path);
                selected.files =
                    builds.compose(&functions, std::mem::take(&mut selected.files), &named);
                if selected.files.is_empty() {
                    return Err(PackageError::NoFiles {
                        artifact: file_name,
                    });
                }
                let unzipped: u64 = selected.files.iter().map(|f| f.size).sum();
                if unzipped > UNZIPPED_LIMIT {
                    let sizes = selected.files.iter().map(|f| (f.relative.as_str(), f.size));
                    return Err(too_big(&file_name, unzipped, sizes));
                }
                report.warnings.extend(selected.warnings);
                progress.artifact_started(&file_name, selected.files.len(), unzipped);
                let path = request.output_dir.join(&file_name);
                let on_files = |count: usize| progress.files_written(count);
                let written = archive::write_zip(&selected.files, &path, &on_files, &interrupted)?;
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
                    layer: layer.map(|(key, _)| key),
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

/// The service's files, with links into its workspace followed and, for a workspace member,
/// the production packages hoisted to the workspace root.
fn service_tree(
    service_dir: &Path,
    dependencies: &node_deps::NodeDependencies,
) -> Result<walk::Tree, PackageError> {
    let workspace_root = hoisted::workspace_root(service_dir, dependencies);
    let mut tree = walk::walk_within(service_dir, workspace_root.as_deref())?;
    let hoisted = hoisted::hoisted_files(service_dir, dependencies)?;
    if !hoisted.is_empty() {
        tree.files.extend(hoisted);
        tree.files.sort_by(|a, b| a.relative.cmp(&b.relative));
        tree.files.dedup_by(|a, b| a.relative == b.relative);
    }
    Ok(tree)
}

/// Which artifacts to make, as the Framework decides: a function's own `package.artifact`
/// first, then individual packaging (which a compiled `bootstrap` needs), then the service's
/// `package.artifact`, else the shared service zip. Image functions have no code artifact. Then one artifact per layer.
fn plan(request: &Request<'_>, builds: &build::Builds) -> Result<Vec<Plan>, PackageError> {
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
                layer: None,
            });
        } else if service.package.individually
            || function.package.individually
            || builds.get(key).is_some_and(|b| b.individually)
        {
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
                layer: None,
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
                layer: None,
            },
            None => Plan::Build {
                file_name: format!("{}.zip", service.name),
                lists: service_lists(request),
                functions: shared_functions,
                layer: None,
            },
        };
        plans.insert(0, shared);
    }
    for (key, layer) in &service.layers {
        plans.push(layer_plan(request, key, layer)?);
    }
    Ok(plans)
}

/// A layer as the Framework packages it: its own `package.artifact` as given, else the files
/// under its `path` into `<key>.zip`, named relative to that folder. Its patterns follow the
/// service's (`exclude` after the service's `exclude`, `include` and `patterns` after the
/// service's `include` and `patterns`); other layers' folders are not left out.
fn layer_plan(request: &Request<'_>, key: &str, layer: &Json) -> Result<Plan, PackageError> {
    let own = layer.get("package");
    let strings = |field: &str| -> Vec<String> {
        own.and_then(|package| package.get(field))
            .and_then(Json::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|item| item.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(given) = own
        .and_then(|package| package.get("artifact"))
        .and_then(Json::as_str)
    {
        return Ok(Plan::Prebuilt {
            given: given.to_string(),
            place: format!("layers.{key}.package.artifact"),
            functions: Vec::new(),
            layer: Some(key.to_string()),
        });
    }
    let Some(folder) = layer.get("path").and_then(Json::as_str) else {
        return Err(PackageError::LayerWithoutPath {
            layer: key.to_string(),
        });
    };
    let layer_dir = request.service_dir.join(folder);
    if !layer_dir.is_dir() {
        return Err(PackageError::LayerPathMissing {
            layer: key.to_string(),
            path: folder.to_string(),
        });
    }
    let mut lists = service_lists_with(request, &layer_dir, false);
    let place = |field: &str| format!("layers.{key}.package.{field}");
    lists
        .exclude
        .extend(placed(&strings("exclude"), &place("exclude")));
    lists
        .include
        .extend(placed(&strings("include"), &place("include")));
    lists
        .patterns
        .extend(placed(&strings("patterns"), &place("patterns")));
    Ok(Plan::Build {
        file_name: format!("{key}.zip"),
        lists,
        functions: Vec::new(),
        layer: Some((key.to_string(), folder.to_string())),
    })
}

fn service_lists(request: &Request<'_>) -> PatternLists {
    service_lists_with(request, request.service_dir, true)
}

/// The service-level lists for files under `root` (the service directory, or a layer's folder).
fn service_lists_with(request: &Request<'_>, root: &Path, exclude_layers: bool) -> PatternLists {
    let package = &request.service.package;
    let mut extra_excludes = Vec::new();
    // Layers are packaged on their own: their folders stay out of function artifacts.
    let layers = request.service.layers.values().filter(|_| exclude_layers);
    for layer in layers {
        if let Some(path) = layer.get("path").and_then(Json::as_str) {
            let path = path.trim_start_matches("./").trim_end_matches('/');
            if !path.is_empty() && path != "." {
                extra_excludes.push(format!("{path}/**"));
            }
        }
    }
    // The Framework never ships its configuration file (a pattern can still bring it back).
    // For a layer it applies the same service-relative name to the layer's files.
    if let Some(relative) = request
        .config_file
        .as_deref()
        .and_then(|file| relative_inside(request.service_dir, file))
    {
        extra_excludes.push(relative);
    }
    // A custom output folder inside the packaged folder must not package earlier artifacts.
    if let Some(relative) = relative_inside(root, &request.output_dir) {
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
    let entries = archive::list_entries(&path);
    let unzipped_bytes = entries
        .as_ref()
        .map(|entries| entries.iter().map(|(_, size)| size).sum::<u64>());
    if let (Some(entries), Some(unzipped)) = (&entries, unzipped_bytes) {
        if unzipped > UNZIPPED_LIMIT {
            let sizes = entries.iter().map(|(name, size)| (name.as_str(), *size));
            return Err(too_big(&given, unzipped, sizes));
        }
    }
    Ok(Artifact {
        files: entries
            .unwrap_or_default()
            .into_iter()
            .map(|(name, _)| name)
            .collect(),
        path,
        name: given,
        functions,
        layer: None,
        sha256,
        bytes: metadata.len(),
        unzipped_bytes,
        prebuilt: true,
        rewritten: false,
        secrets_left_out: Vec::new(),
        milliseconds: 0,
    })
}

fn too_big<'a>(
    artifact: &str,
    bytes: u64,
    files: impl Iterator<Item = (&'a str, u64)>,
) -> PackageError {
    let mut largest: Vec<(&str, u64)> = files.collect();
    largest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let largest = largest
        .iter()
        .take(3)
        .map(|(name, size)| format!("{name} ({size} bytes)"))
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
            if let Some(layer) = &a.layer {
                entry.insert("layer", json!(layer));
            }
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
    // Through a temporary file, so an interrupted run never leaves half a listing.
    let temporary = partial::temporary_path(&report.listing);
    let written = std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, &report.listing));
    written.map_err(|source| {
        let _ = std::fs::remove_file(&temporary);
        PackageError::Write {
            path: report.listing.clone(),
            source,
        }
    })
}
