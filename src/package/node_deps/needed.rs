//! The installed packages a few named packages need at run time: the package folders of a
//! bundle's externals and of everything they depend on, found in the same install tree (lockfile
//! or node_modules) and by the same resolution as the production filter, without running npm.

use std::collections::BTreeMap;
use std::path::Path;

use super::decide::service_relative;
use super::graph::{is_installed_location, PackageGraph};
use super::install::{find_lockfile, locate_install, Install};
use super::manifest::{read_manifest, PackageManifest};
use super::{walk, workspaces, NodeDepsError, FIX_SERVICE_MANIFEST};

/// One installed package folder a bundle needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeededFolder {
    /// Where it is, relative to the service (`node_modules/ms`, `../../node_modules/ms` when a
    /// workspace hoisted it); a link (a workspace package) is read through.
    pub location: String,
    /// Where the function loads it from, relative to the code folder: `node_modules/ms`.
    pub name_in_bundle: String,
}

/// The folders `names` need, and the names that are not installed at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NeededPackages {
    pub folders: Vec<NeededFolder>,
    pub missing: Vec<String>,
}

/// The package folders that `names` (required from the service's own code) need: each named
/// package and its dependencies, optional and peer dependencies included when installed,
/// sorted by their name in the bundle. A hoisted copy gives way to the service's own one.
pub fn packages_needed_by(
    service_dir: &Path,
    names: &[String],
) -> Result<NeededPackages, NodeDepsError> {
    if names.is_empty() {
        return Ok(NeededPackages::default());
    }
    let manifest =
        read_manifest(&service_dir.join("package.json"), FIX_SERVICE_MANIFEST)?.unwrap_or_default();
    let install = locate_install(service_dir, manifest);
    let graph = install_graph(&install)?;
    let mut needed = NeededPackages::default();
    let mut starts = Vec::new();
    for name in names {
        match graph.resolve(&install.member, name) {
            Some(found) => starts.push(found),
            None => needed.missing.push(name.clone()),
        }
    }
    let closure = graph.production_closure(&starts);
    // The service's own copies first, so a hoisted one of the same name never replaces them.
    let mut by_name: BTreeMap<String, (bool, String)> = BTreeMap::new();
    for (node, kept) in graph.nodes().iter().zip(&closure.production) {
        if !*kept || !is_installed_location(&node.location) {
            continue;
        }
        let location = service_relative(&node.location, &install.member);
        let own = !location.starts_with("../");
        let Some(start) = location.find("node_modules/") else {
            continue;
        };
        let name_in_bundle = location[start..].to_string();
        match by_name.get(&name_in_bundle) {
            Some((true, _)) => {}
            Some((false, _)) if !own => {}
            _ => {
                by_name.insert(name_in_bundle, (own, location));
            }
        }
    }
    needed.folders = by_name
        .into_iter()
        .map(|(name_in_bundle, (_, location))| NeededFolder {
            location,
            name_in_bundle,
        })
        .collect();
    Ok(needed)
}

/// The install's package graph: from its lockfile when it has a `packages` map, else from the
/// package.json files under node_modules.
fn install_graph(install: &Install) -> Result<PackageGraph, NodeDepsError> {
    if let Some((_, _, lockfile)) = find_lockfile(&install.root)? {
        if let Some(graph) = lockfile.graph {
            return Ok(graph);
        }
    }
    let mut workspace_manifests: Vec<(String, PackageManifest)> = Vec::new();
    for location in workspaces::expand(&install.root, &install.root_manifest.workspaces) {
        let manifest = if location == install.member {
            Some(install.service_manifest.clone())
        } else {
            read_manifest(
                &install.root.join(&location).join("package.json"),
                "fix the JSON syntax of this workspace's package.json",
            )?
        };
        if let Some(manifest) = manifest {
            workspace_manifests.push((location, manifest));
        }
    }
    let root_manifest = if install.member.is_empty() {
        install.service_manifest.clone()
    } else {
        install.root_manifest.clone()
    };
    Ok(walk::walk_install(&install.root, root_manifest, workspace_manifests)?.graph)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, relative: &str, text: &str) {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap_or(root)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn an_external_brings_its_dependencies_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = dir.path();
        write(
            root,
            "package.json",
            r#"{"dependencies": {"debug": "4", "left": "1"}}"#,
        );
        write(
            root,
            "node_modules/debug/package.json",
            r#"{"dependencies": {"ms": "2"}}"#,
        );
        write(root, "node_modules/ms/package.json", "{}");
        write(root, "node_modules/left/package.json", "{}");
        let needed = packages_needed_by(root, &["debug".to_string(), "gone".to_string()])
            .unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = needed
            .folders
            .iter()
            .map(|f| f.name_in_bundle.as_str())
            .collect();
        assert_eq!(names, ["node_modules/debug", "node_modules/ms"]);
        assert_eq!(needed.missing, ["gone"]);
    }

    #[test]
    fn nothing_named_reads_nothing() {
        let needed = packages_needed_by(Path::new("/nonexistent/service"), &[])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(needed, NeededPackages::default());
    }
}
