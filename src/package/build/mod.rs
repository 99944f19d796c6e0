//! The build steps the Framework's packaging plugins do, done by updraft itself before a
//! function's code is zipped or run locally:
//!
//! - [`python`]: a Python function's requirements (the job of serverless-python-requirements),
//!   installed for the function's Lambda platform, or for this machine when run locally;
//! - [`javascript`]: a JavaScript or TypeScript bundle (serverless-esbuild,
//!   serverless-plugin-typescript), built with the service's own `esbuild` or `tsc`;
//! - [`compiled`]: a `provided*` function written in Rust or Go, compiled into a `bootstrap`.
//!
//! Each step turns the service into [`FunctionBuild`]s: files that stand in for the service's
//! own files (a bundle) and files added at the artifact's root (dependencies, a `bootstrap`).
//! Output goes to `.serverless/build/` (or a cache keyed by the inputs' hash) through a
//! temporary directory renamed into place, so a failed or interrupted build leaves nothing
//! half-written. The packager and the offline engine read the same builds: what runs locally is
//! what is deployed, except that locally installed dependencies are for this machine.

pub mod compiled;
pub mod error;
pub mod javascript;
mod process;
pub mod python;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use indexmap::IndexMap;

use super::walk::FileEntry;
use crate::manifest::model::{Function, Service};
pub use error::{BuildError, BuildWarning};

/// Who the build is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An artifact deployed to Lambda: dependencies for the function's Lambda platform.
    Lambda,
    /// `invoke local` and `offline` on this machine: dependencies for this machine.
    Local,
}

/// What to build, and where.
#[derive(Debug, Clone)]
pub struct BuildRequest<'a> {
    pub service: &'a Service,
    pub service_dir: &'a Path,
    /// `.serverless/` beside the manifest: builds go under its `build/` folder.
    pub output_dir: &'a Path,
    pub purpose: Purpose,
    /// Only these functions (all when empty): `invoke local` builds the one it runs.
    pub only: Vec<String>,
    /// Set by a Ctrl-C handler: a build stops its child process and returns
    /// [`BuildError::Interrupted`], leaving nothing half-written.
    pub interrupted: Option<&'a AtomicBool>,
}

impl BuildRequest<'_> {
    pub fn is_interrupted(&self) -> bool {
        self.interrupted
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    /// The functions this request builds, in manifest order.
    pub fn functions(&self) -> impl Iterator<Item = &Function> {
        self.service
            .functions
            .values()
            .filter(|f| f.image.is_none())
            .filter(|f| self.only.is_empty() || self.only.contains(&f.key))
    }

    /// Where build output lives: `.serverless/build/{step}`.
    pub fn build_dir(&self, step: &str) -> PathBuf {
        self.output_dir.join("build").join(step)
    }
}

/// A folder of built files: `files` are named relative to `root`, as they go into the zip.
#[derive(Debug, Clone, Default)]
pub struct BuiltTree {
    pub root: PathBuf,
    pub files: Vec<FileEntry>,
}

/// What the build steps made for one function.
#[derive(Debug, Clone, Default)]
pub struct FunctionBuild {
    /// Stands in for the service's own files (a bundle): the artifact holds this instead of
    /// the service tree, and locally it is the function's code directory (`LAMBDA_TASK_ROOT`).
    pub code: Option<BuiltTree>,
    /// Added at the artifact's root (installed requirements, a compiled `bootstrap`); a name
    /// here wins over the same name in the service's files. Locally they go on the runtime's
    /// module search path (`PYTHONPATH`, `NODE_PATH`) after the code directory, except a
    /// `bootstrap`, whose folder becomes the code directory.
    pub extra: Vec<BuiltTree>,
    /// The function must have an artifact of its own (a compiled `bootstrap` sits at the zip's
    /// root, so two cannot share one).
    pub individually: bool,
}

impl FunctionBuild {
    pub fn is_empty(&self) -> bool {
        self.code.is_none() && self.extra.is_empty() && !self.individually
    }
}

/// Every function's builds, by function key, with what the steps noticed.
#[derive(Debug, Default)]
pub struct Builds {
    pub functions: IndexMap<String, FunctionBuild>,
    pub warnings: Vec<BuildWarning>,
}

impl Builds {
    pub fn get(&self, function: &str) -> Option<&FunctionBuild> {
        self.functions.get(function).filter(|b| !b.is_empty())
    }

    fn merge(&mut self, function: &str, build: FunctionBuild) {
        let entry = self.functions.entry(function.to_string()).or_default();
        if build.code.is_some() {
            entry.code = build.code;
        }
        entry.extra.extend(build.extra);
        entry.individually |= build.individually;
    }

    /// The files of an artifact shared by `functions`: the service's `selected` files, with
    /// each function's bundle standing in for them and the extra trees added (a later name
    /// wins; the list stays sorted, so the zip's bytes do not depend on build order). `named`
    /// says whether the artifact's patterns name a file (see
    /// [`javascript::keep_alongside_bundle`]).
    pub fn compose<'a>(
        &'a self,
        functions: &[String],
        selected: Vec<&'a FileEntry>,
        named: &dyn Fn(&str) -> bool,
    ) -> Vec<&'a FileEntry> {
        let builds: Vec<&FunctionBuild> = functions.iter().filter_map(|f| self.get(f)).collect();
        if builds.is_empty() {
            return selected;
        }
        let mut files: IndexMap<&str, &FileEntry> = IndexMap::new();
        // A function sharing the artifact that has no bundle (a JavaScript or Python function
        // beside a TypeScript one) runs the service's files: they stay, the bundles join them.
        let all_bundled = functions
            .iter()
            .all(|f| self.get(f).is_some_and(|b| b.code.is_some()));
        if !all_bundled {
            for file in &selected {
                files.insert(&file.relative, file);
            }
        }
        for tree in builds.iter().filter_map(|b| b.code.as_ref()) {
            for file in &tree.files {
                files.insert(&file.relative, file);
            }
        }
        if all_bundled {
            javascript::keep_alongside_bundle(&selected, &mut files, named);
        }
        for tree in builds.iter().flat_map(|b| &b.extra) {
            for file in &tree.files {
                files.insert(&file.relative, file);
            }
        }
        let mut files: Vec<&FileEntry> = files.into_values().collect();
        files.sort_by(|a, b| a.relative.cmp(&b.relative));
        files
    }
}

/// Runs every build step the service needs, in order: compiled runtimes, bundles, Python
/// requirements. A service with nothing to build returns at once, having run nothing.
pub fn build(request: &BuildRequest<'_>) -> Result<Builds, BuildError> {
    let mut builds = Builds::default();
    for (function, build) in compiled::build(request, &mut builds.warnings)? {
        builds.merge(&function, build);
    }
    if request.is_interrupted() {
        return Err(BuildError::Interrupted);
    }
    for (function, build) in javascript::build(request, &mut builds.warnings)? {
        builds.merge(&function, build);
    }
    if request.is_interrupted() {
        return Err(BuildError::Interrupted);
    }
    for (function, build) in python::build(request, &mut builds.warnings)? {
        builds.merge(&function, build);
    }
    Ok(builds)
}

/// Where a function runs locally: its code directory and the folders its runtime searches
/// for modules after it.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalCode {
    pub task_root: PathBuf,
    pub search_paths: Vec<PathBuf>,
}

impl LocalCode {
    /// A function's code as `offline` and `invoke local` run it: the bundle's folder, or the
    /// folder of a compiled `bootstrap`, else the service directory; extra trees searched after.
    pub fn of(service_dir: &Path, build: Option<&FunctionBuild>) -> LocalCode {
        let mut code = LocalCode {
            task_root: service_dir.to_path_buf(),
            search_paths: Vec::new(),
        };
        let Some(build) = build else { return code };
        if let Some(tree) = &build.code {
            code.task_root = tree.root.clone();
        }
        for tree in &build.extra {
            if tree.files.iter().any(|f| f.relative == "bootstrap") {
                code.task_root = tree.root.clone();
            } else {
                code.search_paths.push(tree.root.clone());
            }
        }
        code
    }
}

/// Lists every file under `root` as a [`BuiltTree`], names relative to it, sorted.
pub fn tree_of(root: &Path) -> Result<BuiltTree, BuildError> {
    let tree = super::walk::walk(root).map_err(|error| BuildError::Read {
        path: root.to_path_buf(),
        reason: error.to_string(),
    })?;
    Ok(BuiltTree {
        root: root.to_path_buf(),
        files: tree.files,
    })
}
