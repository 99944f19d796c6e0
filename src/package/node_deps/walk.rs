//! Building the [`PackageGraph`] from node_modules itself, for installs without a usable lockfile
//! (none at all, a version 1 lockfile, Yarn classic).
//!
//! Reads one directory listing per node_modules folder (two for a scope) and one package.json per
//! package; never the files inside packages. Symlinked packages (workspaces, `npm link`, `file:`
//! dependencies) become links to their real folder when that folder is inside the install root;
//! a symlink pointing elsewhere is read as a package in place and not descended into, so a link
//! cycle cannot make the walk loop.

use std::collections::HashSet;
use std::io;
use std::path::Path;

use super::error::{NodeDepsError, NodeDepsWarning};
use super::graph::{PackageGraph, PackageNode};
use super::manifest::{read_manifest, PackageManifest};

/// Nested node_modules deeper than this are not examined (a real tree is rarely beyond 10).
pub(super) const MAX_NESTING: usize = 48;

const REINSTALL: &str = "reinstall the package: delete node_modules and run `npm install`";

/// Everything the walk found.
pub(super) struct Walked {
    pub graph: PackageGraph,
    pub warnings: Vec<NodeDepsWarning>,
}

/// Walks the node_modules folders of the root and of each workspace folder.
pub(super) fn walk_install(
    root: &Path,
    root_manifest: PackageManifest,
    workspace_manifests: Vec<(String, PackageManifest)>,
) -> Result<Walked, NodeDepsError> {
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut graph = PackageGraph::default();
    let mut warnings = Vec::new();
    let mut pending: Vec<String> = vec!["node_modules".to_string()];
    graph.insert(root_manifest.into_node(String::new()));
    for (location, manifest) in workspace_manifests {
        pending.push(format!("{location}/node_modules"));
        graph.insert(manifest.into_node(location));
    }
    let mut listed: HashSet<String> = HashSet::new();
    while let Some(folder) = pending.pop() {
        if !listed.insert(folder.clone()) {
            continue;
        }
        let nesting = folder.split('/').filter(|s| *s == "node_modules").count();
        if nesting > MAX_NESTING {
            warnings.push(NodeDepsWarning::TooDeep {
                location: folder,
                limit: MAX_NESTING,
            });
            continue;
        }
        for (location, is_symlink) in list_packages(root, &folder)? {
            let path = root.join(&location);
            if is_symlink {
                let target = path
                    .canonicalize()
                    .ok()
                    .and_then(|real| super::install::relative_location(&canonical_root, &real));
                if let Some(target) = target {
                    if graph.get(&target).is_none() {
                        let manifest = read_manifest(&path.join("package.json"), REINSTALL)?;
                        if let Some(manifest) = manifest {
                            graph.insert(manifest.into_node(target.clone()));
                            pending.push(format!("{target}/node_modules"));
                        }
                    }
                    graph.insert(PackageNode {
                        location,
                        link_target: Some(target),
                        ..PackageNode::default()
                    });
                    continue;
                }
            }
            // A folder without package.json is a leftover, not a package.
            let Some(manifest) = read_manifest(&path.join("package.json"), REINSTALL)? else {
                continue;
            };
            if !is_symlink {
                pending.push(format!("{location}/node_modules"));
            }
            graph.insert(manifest.into_node(location));
        }
    }
    Ok(Walked { graph, warnings })
}

/// The package folders directly inside the node_modules folder at `folder` (scoped ones one
/// level down), as locations, each with whether it is a symlink. A missing folder has none.
fn list_packages(root: &Path, folder: &str) -> Result<Vec<(String, bool)>, NodeDepsError> {
    let mut packages = Vec::new();
    for (name, is_symlink) in list_folder(root, folder)? {
        if name.starts_with('.') {
            continue;
        }
        let location = format!("{folder}/{name}");
        if name.starts_with('@') && !is_symlink {
            for (scoped, is_symlink) in list_folder(root, &location)? {
                if !scoped.starts_with('.') {
                    packages.push((format!("{location}/{scoped}"), is_symlink));
                }
            }
        } else {
            packages.push((location, is_symlink));
        }
    }
    Ok(packages)
}

/// The names in one folder with whether each is a symlink; only folders and links to folders.
fn list_folder(root: &Path, folder: &str) -> Result<Vec<(String, bool)>, NodeDepsError> {
    let path = root.join(folder);
    let entries = match std::fs::read_dir(&path) {
        Ok(entries) => entries,
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Vec::new())
        }
        Err(cause) => {
            return Err(NodeDepsError::Read {
                path,
                fix: "check the folder's permissions".to_string(),
                cause,
            })
        }
    };
    let mut names = Vec::new();
    for entry in entries.flatten() {
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let is_symlink = file_type.is_symlink();
        if !(file_type.is_dir() || is_symlink && entry.path().is_dir()) {
            continue;
        }
        if let Ok(name) = entry.file_name().into_string() {
            names.push((name, is_symlink));
        }
    }
    names.sort();
    Ok(names)
}
