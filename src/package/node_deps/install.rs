//! Where a service's install is: the service folder itself, or the workspace root above it, and
//! which lockfile describes it.

use std::path::{Path, PathBuf};

use super::lockfile;
use super::manifest::{read_manifest, PackageManifest};
use super::workspaces;
use super::{LockfileKind, NodeDepsError, WorkspaceLayout};

/// Lockfiles in the order npm trusts them.
const LOCKFILES: [(&str, LockfileKind); 3] = [
    ("npm-shrinkwrap.json", LockfileKind::Shrinkwrap),
    ("package-lock.json", LockfileKind::PackageLock),
    ("node_modules/.package-lock.json", LockfileKind::Hidden),
];

/// How far up from the service a workspace root is looked for.
const MAX_WORKSPACE_ANCESTORS: usize = 16;

/// The install a service belongs to.
pub(super) struct Install {
    pub root: PathBuf,
    /// The service folder relative to `root`; empty when it is the root.
    pub member: String,
    pub layout: WorkspaceLayout,
    pub service_manifest: PackageManifest,
    pub root_manifest: PackageManifest,
}

/// The install root is the service folder unless the service is a workspace member without a
/// lockfile of its own.
pub(super) fn locate_install(service_dir: &Path, service_manifest: PackageManifest) -> Install {
    let standalone = |service_manifest: PackageManifest| {
        let layout = if service_manifest.workspaces.is_empty() {
            WorkspaceLayout::Standalone
        } else {
            WorkspaceLayout::WorkspaceRoot {
                workspaces: Vec::new(),
            }
        };
        Install {
            root: service_dir.to_path_buf(),
            member: String::new(),
            layout,
            root_manifest: service_manifest.clone(),
            service_manifest,
        }
    };
    let has_lockfile = LOCKFILES
        .iter()
        .any(|(name, _)| service_dir.join(name).is_file());
    if has_lockfile || !service_manifest.workspaces.is_empty() {
        return standalone(service_manifest);
    }
    let Ok(canonical) = service_dir.canonicalize() else {
        return standalone(service_manifest);
    };
    for ancestor in canonical.ancestors().skip(1).take(MAX_WORKSPACE_ANCESTORS) {
        // An unreadable package.json up the tree belongs to something else: not our root.
        let Ok(Some(root_manifest)) = read_manifest(&ancestor.join("package.json"), "") else {
            continue;
        };
        if root_manifest.workspaces.is_empty() {
            continue;
        }
        let Some(member) = relative_location(ancestor, &canonical) else {
            continue;
        };
        if workspaces::is_workspace(&root_manifest.workspaces, &member) {
            return Install {
                root: ancestor.to_path_buf(),
                layout: WorkspaceLayout::WorkspaceMember {
                    root: ancestor.to_path_buf(),
                    member: member.clone(),
                },
                member,
                service_manifest,
                root_manifest,
            };
        }
    }
    standalone(service_manifest)
}

pub(super) type FoundLockfile = (PathBuf, LockfileKind, lockfile::Lockfile);

pub(super) fn find_lockfile(root: &Path) -> Result<Option<FoundLockfile>, NodeDepsError> {
    for (name, kind) in LOCKFILES {
        let path = root.join(name);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(cause) => {
                return Err(NodeDepsError::Read {
                    fix: format!(
                    "check its permissions, or delete {} and run `npm install` to regenerate it",
                    path.display()
                ),
                    path,
                    cause,
                })
            }
        };
        let parsed = lockfile::parse_lockfile(&path, &text)?;
        return Ok(Some((path, kind, parsed)));
    }
    Ok(None)
}

/// `real` as a `/`-separated location under `root`, when it is under it.
pub(super) fn relative_location(root: &Path, real: &Path) -> Option<String> {
    let relative = real.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = relative
        .components()
        .map(|component| component.as_os_str().to_str())
        .collect();
    Some(parts?.join("/"))
}
