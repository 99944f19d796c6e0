//! Which files under a Node service's `node_modules` belong only to dev dependencies, decided
//! without running npm.
//!
//! The Serverless Framework asks `npm ls` for this; here the production closure is computed from
//! the install's own description, fastest first:
//! 1. a lockfile with a `packages` map (lockfileVersion 2 or 3): `npm-shrinkwrap.json`, else
//!    `package-lock.json`, else the hidden `node_modules/.package-lock.json`;
//! 2. otherwise (no lockfile, a version 1 lockfile, Yarn classic) the package.json files of the
//!    installed packages, one per package folder.
//!
//! Either way the closure starts from the service's own package.json (`dependencies`,
//! `optionalDependencies`, installed `peerDependencies`, bundled names) and follows Node's module
//! resolution: a dependency of the package at `node_modules/a` is the nearest
//! `node_modules/<name>` walking up from `node_modules/a`, so nested copies kept apart by version
//! conflicts are told apart. The lockfile's `dev` flags are not trusted; the tests check they
//! agree. Packages bundled inside a kept package are kept with it.
//!
//! A package is left out only when the dev closure (from `devDependencies`, followed the same
//! way) reaches it and the production closure does not. A package nothing reaches (extraneous,
//! left over from an earlier install) is kept unless it sits inside a left-out package's folder,
//! as the Serverless Framework keeps it.
//!
//! Workspace layouts handled:
//! - a standalone service (its own lockfile or node_modules);
//! - the service is the workspace root: every workspace is a production edge, as with
//!   `npm install --omit=dev` at the root;
//! - the service is a workspace member with no lockfile of its own: the nearest ancestor whose
//!   package.json `workspaces` names the service folder is the install root; the closure starts at
//!   the member, workspace links (`node_modules/<name>` with `link: true`, or a symlink) lead to
//!   the sibling workspace's folder, and dependencies hoisted to the root are found by walking up.
//!   Their folders are reported relative to the service (`../../node_modules/ms`). Packages
//!   that only the root or the other workspaces need count as dev-only for the member.
//!
//! Not handled: pnpm's `.pnpm` store (detected; nothing is excluded, with a warning) and Yarn
//! Plug'n'Play (no node_modules). `file:` dependencies outside the install root resolve their own
//! dependencies from the install root.

mod decide;
mod error;
mod graph;
mod install;
mod lockfile;
mod manifest;
mod needed;
mod walk;
mod workspaces;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use error::{InvalidLockfile, InvalidPackageJson, NodeDepsError, NodeDepsWarning};
pub use needed::{packages_needed_by, NeededFolder, NeededPackages};

use decide::{decide_from_lockfile, decide_from_node_modules};
use install::{find_lockfile, locate_install};
use manifest::read_manifest;

const FIX_SERVICE_MANIFEST: &str = "fix the JSON syntax of the service's package.json";

/// Which lockfile a decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockfileKind {
    Shrinkwrap,
    PackageLock,
    /// `node_modules/.package-lock.json`, written by npm 7+ on every install.
    Hidden,
}

/// What the decision was made from, for reporting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencySource {
    /// The service has no package.json: nothing is excluded.
    NoPackageJson,
    Lockfile {
        path: PathBuf,
        kind: LockfileKind,
        version: u64,
    },
    /// The package.json files under node_modules; `version_one_lockfile` names a lockfile that
    /// was present but too old to use.
    NodeModules {
        root: PathBuf,
        version_one_lockfile: Option<PathBuf>,
    },
    /// A pnpm install: nothing is excluded.
    Pnpm { root: PathBuf },
}

impl fmt::Display for DependencySource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoPackageJson => write!(formatter, "no package.json (nothing excluded)"),
            Self::Lockfile { path, version, .. } => {
                write!(formatter, "{} (lockfileVersion {version})", path.display())
            }
            Self::NodeModules {
                root,
                version_one_lockfile,
            } => {
                write!(
                    formatter,
                    "package.json files under {}",
                    root.join("node_modules").display()
                )?;
                if let Some(lockfile) = version_one_lockfile {
                    write!(formatter, " ({} is lockfileVersion 1)", lockfile.display())?;
                }
                Ok(())
            }
            Self::Pnpm { root } => write!(
                formatter,
                "pnpm install at {} (nothing excluded)",
                root.display()
            ),
        }
    }
}

/// Where the service sits in its install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkspaceLayout {
    Standalone,
    /// The service is a workspace root with these workspace folders.
    WorkspaceRoot {
        workspaces: Vec<String>,
    },
    /// The service is the workspace `member` (a folder relative to `root`) of the install at
    /// `root`.
    WorkspaceMember {
        root: PathBuf,
        member: String,
    },
}

/// The decision for one service: which node_modules package folders are kept.
#[derive(Debug, Clone)]
pub struct NodeDependencies {
    source: DependencySource,
    layout: WorkspaceLayout,
    /// Package folder relative to the service -> kept. Links are included (a kept link points at
    /// a kept folder).
    decisions: HashMap<Box<str>, bool>,
    production_packages: usize,
    dev_only_packages: usize,
    unreferenced_packages: usize,
    warnings: Vec<NodeDepsWarning>,
}

impl NodeDependencies {
    /// Whether the file at `relative_path` (relative to the service folder, `/`-separated) goes
    /// into the artifact: false exactly for files inside a package folder that only dev
    /// dependencies need. A lookup of the path's `node_modules/<name>` prefixes, deepest first.
    pub fn allows(&self, relative_path: &str) -> bool {
        if self.decisions.is_empty() {
            return true;
        }
        let normalized;
        let path = if needs_normalizing(relative_path) {
            normalized = normalize(relative_path);
            normalized.as_str()
        } else {
            relative_path
        };
        for (start, _) in path.rmatch_indices("node_modules/") {
            if start != 0 && path.as_bytes().get(start - 1) != Some(&b'/') {
                continue;
            }
            let name_start = start + "node_modules/".len();
            let name_length = package_name_length(&path[name_start..]);
            if name_length == 0 {
                continue;
            }
            if let Some(&kept) = self.decisions.get(&path[..name_start + name_length]) {
                return kept;
            }
        }
        true
    }

    /// A filter that keeps every file (for a layer's folder, which the Framework does not
    /// filter either).
    pub fn keep_all() -> Self {
        Self::allow_all(DependencySource::NoPackageJson, WorkspaceLayout::Standalone)
    }

    pub fn source(&self) -> &DependencySource {
        &self.source
    }

    pub fn layout(&self) -> &WorkspaceLayout {
        &self.layout
    }

    /// Installed packages (not links) the production dependencies need.
    pub fn production_packages(&self) -> usize {
        self.production_packages
    }

    /// Installed packages (not links) only dev dependencies need: left out.
    pub fn dev_only_packages(&self) -> usize {
        self.dev_only_packages
    }

    /// Installed packages (not links) nothing depends on (extraneous, left over from an earlier
    /// install): not dev dependencies, so kept, as the Serverless Framework keeps them.
    pub fn unreferenced_packages(&self) -> usize {
        self.unreferenced_packages
    }

    /// One line for progress output: what was kept and left out, and from what.
    pub fn summary(&self) -> String {
        if self.decisions.is_empty() {
            return format!("node_modules kept whole: {}", self.source);
        }
        let mut summary = format!(
            "{} production packages kept, {} dev-only packages left out",
            self.production_packages, self.dev_only_packages
        );
        if self.unreferenced_packages > 0 {
            summary.push_str(&format!(
                ", {} unreferenced packages kept",
                self.unreferenced_packages
            ));
        }
        summary.push_str(&format!(" (from {})", self.source));
        summary
    }

    /// Findings that did not stop the decision (a production package listed but not installed).
    pub fn warnings(&self) -> &[NodeDepsWarning] {
        &self.warnings
    }

    /// Kept package folders relative to the service, sorted. For a workspace member this
    /// includes hoisted ones outside it (`../../node_modules/ms`).
    pub fn production_locations(&self) -> Vec<&str> {
        self.locations(true)
    }

    /// Excluded package folders relative to the service, sorted.
    pub fn dev_only_locations(&self) -> Vec<&str> {
        self.locations(false)
    }

    fn locations(&self, kept: bool) -> Vec<&str> {
        let mut locations: Vec<&str> = self
            .decisions
            .iter()
            .filter(|(_, decision)| **decision == kept)
            .map(|(location, _)| location.as_ref())
            .collect();
        locations.sort_unstable();
        locations
    }

    fn allow_all(source: DependencySource, layout: WorkspaceLayout) -> Self {
        Self {
            source,
            layout,
            decisions: HashMap::new(),
            production_packages: 0,
            dev_only_packages: 0,
            unreferenced_packages: 0,
            warnings: Vec::new(),
        }
    }
}

/// Decides which node_modules packages of the service at `service_dir` are production ones.
pub fn production_filter(service_dir: &Path) -> Result<NodeDependencies, NodeDepsError> {
    let Some(service_manifest) =
        read_manifest(&service_dir.join("package.json"), FIX_SERVICE_MANIFEST)?
    else {
        return Ok(NodeDependencies::allow_all(
            DependencySource::NoPackageJson,
            WorkspaceLayout::Standalone,
        ));
    };
    let install = locate_install(service_dir, service_manifest);
    let lockfile = find_lockfile(&install.root)?;
    let version_one_lockfile = match lockfile {
        Some((
            path,
            kind,
            lockfile::Lockfile {
                version,
                graph: Some(graph),
            },
        )) => {
            let source = DependencySource::Lockfile {
                path: path.clone(),
                kind,
                version,
            };
            return Ok(decide_from_lockfile(install, graph, source, &path));
        }
        Some((path, _, _)) => Some(path),
        None => None,
    };
    if install.root.join("node_modules").join(".pnpm").is_dir() {
        let root = install.root.clone();
        let mut decision = NodeDependencies::allow_all(
            DependencySource::Pnpm { root: root.clone() },
            install.layout,
        );
        decision.warnings.push(NodeDepsWarning::PnpmLayout { root });
        return Ok(decision);
    }
    decide_from_node_modules(install, version_one_lockfile)
}

/// Length of the package folder name at the start of `rest`: `a` or `@scope/a`.
fn package_name_length(rest: &str) -> usize {
    let first = rest.find('/').unwrap_or(rest.len());
    if !rest.starts_with('@') || first == rest.len() {
        return first;
    }
    let after_scope = &rest[first + 1..];
    first + 1 + after_scope.find('/').unwrap_or(after_scope.len())
}

fn needs_normalizing(path: &str) -> bool {
    path.starts_with("./")
        || path.contains('\\')
        || path.contains("//")
        || path
            .split('/')
            .any(|segment| segment == "." || segment == "..")
}

/// Resolves `.` and `..` segments lexically; `..` above the service folder is kept.
fn normalize(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." if kept.last().is_some_and(|last| *last != "..") => {
                kept.pop();
            }
            other => kept.push(other),
        }
    }
    kept.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decided(entries: &[(&str, bool)]) -> NodeDependencies {
        let mut decision = NodeDependencies::allow_all(
            DependencySource::NoPackageJson,
            WorkspaceLayout::Standalone,
        );
        for (location, kept) in entries {
            decision.decisions.insert((*location).into(), *kept);
        }
        decision
    }

    #[test]
    fn allows_decides_by_the_deepest_known_package_folder() {
        let decision = decided(&[
            ("node_modules/dev", false),
            ("node_modules/prod", true),
            ("node_modules/dev/node_modules/prod-copy", true),
            ("node_modules/@scope/dev", false),
        ]);
        assert!(decision.allows("node_modules/prod/index.js"));
        assert!(!decision.allows("node_modules/dev/index.js"));
        assert!(!decision.allows("node_modules/dev"));
        assert!(!decision.allows("node_modules/dev/node_modules/unknown/index.js"));
        assert!(decision.allows("node_modules/dev/node_modules/prod-copy/lib/a.js"));
        assert!(!decision.allows("node_modules/@scope/dev/package.json"));
        assert!(decision.allows("node_modules/@scope/other/package.json"));
        assert!(decision.allows("node_modules/unknown/index.js"));
        assert!(decision.allows("node_modules/.bin/tool"));
        assert!(decision.allows("src/node_modules_helper.js"));
        assert!(decision.allows("handler.js"));
    }

    #[test]
    fn allows_normalizes_dot_segments() {
        let decision = decided(&[("node_modules/dev", false), ("../../node_modules/x", false)]);
        assert!(!decision.allows("./node_modules/dev/index.js"));
        assert!(!decision.allows("lib/../node_modules/dev/index.js"));
        assert!(!decision.allows("../../node_modules/x/index.js"));
        assert!(!decision.allows("node_modules\\dev\\index.js"));
    }

    #[test]
    fn scoped_names_take_two_segments() {
        assert_eq!(package_name_length("a/index.js"), 1);
        assert_eq!(package_name_length("@s/a/index.js"), 4);
        assert_eq!(package_name_length("@s"), 2);
        assert_eq!(package_name_length(""), 0);
    }
}
