//! Turning a package graph into the decision: the production and dev closures from the
//! service's starting points, the warnings, and the per-folder lookup table.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::error;
use super::graph::{is_installed_location, Closure, PackageGraph};
use super::install::Install;
use super::manifest::read_manifest;
use super::walk;
use super::workspaces;
use super::{DependencySource, NodeDependencies, NodeDepsError, NodeDepsWarning, WorkspaceLayout};

/// Where the closure starts: the service, plus every workspace when the service is their root.
fn closure_starts(install: &mut Install, graph: &PackageGraph) -> Vec<usize> {
    let mut starts: Vec<usize> = graph.get(&install.member).into_iter().collect();
    if let WorkspaceLayout::WorkspaceRoot { workspaces } = &mut install.layout {
        for (position, node) in graph.nodes().iter().enumerate() {
            let location = node.location.as_str();
            if !location.is_empty()
                && !is_installed_location(location)
                && workspaces::is_workspace(&install.root_manifest.workspaces, location)
            {
                starts.push(position);
                workspaces.push(location.to_string());
            }
        }
        workspaces.sort();
    }
    // npm keeps the node_modules links to the packages it starts from (`node_modules/<name>` of
    // each workspace), whether or not anything requires them by name.
    let started: HashSet<&str> = starts
        .iter()
        .filter_map(|&position| graph.nodes().get(position))
        .map(|node| node.location.as_str())
        .collect();
    let links: Vec<usize> = graph
        .nodes()
        .iter()
        .enumerate()
        .filter(|(_, node)| {
            node.link_target
                .as_deref()
                .is_some_and(|target| started.contains(target))
        })
        .map(|(position, _)| position)
        .collect();
    starts.extend(links);
    starts
}

pub(super) fn decide_from_lockfile(
    mut install: Install,
    mut graph: PackageGraph,
    source: DependencySource,
    lockfile_path: &Path,
) -> NodeDependencies {
    // The service's edges come from its package.json: what it declares now wins over what the
    // lockfile remembers, and a difference shows up as a warning.
    graph.insert(
        install
            .service_manifest
            .clone()
            .into_node(install.member.clone()),
    );
    let starts = closure_starts(&mut install, &graph);
    let closure = graph.production_closure(&starts);
    let dev = dev_reach(&install, &graph, &starts);
    let mut warnings: Vec<NodeDepsWarning> = unresolved_once(&closure)
        .map(|(name, required_by)| NodeDepsWarning::MissingFromLockfile {
            name,
            required_by,
            lockfile: lockfile_path.to_path_buf(),
        })
        .collect();
    warnings.extend(missing_installs(&install, &graph, &closure, lockfile_path));
    build(install, &graph, &closure, &dev, source, warnings)
}

pub(super) fn decide_from_node_modules(
    mut install: Install,
    version_one_lockfile: Option<PathBuf>,
) -> Result<NodeDependencies, NodeDepsError> {
    let mut workspace_manifests = Vec::new();
    for location in workspaces::expand(&install.root, &install.root_manifest.workspaces) {
        let path = install.root.join(&location).join("package.json");
        let manifest = if location == install.member {
            Some(install.service_manifest.clone())
        } else {
            read_manifest(
                &path,
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
    let walked = walk::walk_install(&install.root, root_manifest, workspace_manifests)?;
    let graph = walked.graph;
    let starts = closure_starts(&mut install, &graph);
    let closure = graph.production_closure(&starts);
    let dev = dev_reach(&install, &graph, &starts);
    let mut warnings = walked.warnings;
    let installed_anywhere = graph
        .nodes()
        .iter()
        .any(|node| is_installed_location(&node.location));
    if !installed_anywhere && !closure.unresolved.is_empty() {
        warnings.push(NodeDepsWarning::NodeModulesMissing {
            root: install.root.clone(),
        });
    } else {
        warnings.extend(unresolved_once(&closure).map(|(name, required_by)| {
            NodeDepsWarning::NotFoundInNodeModules {
                name,
                required_by,
                root: install.root.clone(),
            }
        }));
    }
    let source = DependencySource::NodeModules {
        root: install.root.clone(),
        version_one_lockfile,
    };
    Ok(build(install, &graph, &closure, &dev, source, warnings))
}

/// Each missing (name, dependent) pair once, dependents named for messages.
fn unresolved_once(closure: &Closure) -> impl Iterator<Item = (String, String)> + '_ {
    let mut seen = HashSet::new();
    closure.unresolved.iter().filter_map(move |missing| {
        let key = (missing.name.clone(), missing.required_by.clone());
        seen.insert(key.clone()).then(|| {
            (
                missing.name.clone(),
                error::describe_location(&missing.required_by),
            )
        })
    })
}

/// Production packages the lockfile lists but node_modules lacks: one directory check per
/// production package (never per file). Packages npm may legitimately skip (`optional`) are not
/// reported.
fn missing_installs(
    install: &Install,
    graph: &PackageGraph,
    closure: &Closure,
    lockfile_path: &Path,
) -> Vec<NodeDepsWarning> {
    let expected: Vec<&str> = graph
        .nodes()
        .iter()
        .zip(&closure.production)
        .filter(|(node, kept)| **kept && !node.optional && is_installed_location(&node.location))
        .map(|(node, _)| node.location.as_str())
        .collect();
    if expected.is_empty() {
        return Vec::new();
    }
    let member_node_modules = install.root.join(&install.member).join("node_modules");
    if !install.root.join("node_modules").is_dir() && !member_node_modules.is_dir() {
        return vec![NodeDepsWarning::NodeModulesMissing {
            root: install.root.clone(),
        }];
    }
    expected
        .into_iter()
        .filter(|location| !install.root.join(location).is_dir())
        .map(|location| NodeDepsWarning::NotInstalled {
            location: location.to_string(),
            lockfile: lockfile_path.to_path_buf(),
        })
        .collect()
}

/// Which packages the dev dependencies reach: those of the service (and, at a workspace root,
/// of every workspace). For a workspace member also everything the root and the other
/// workspaces need: none of it is the member's business.
fn dev_reach(install: &Install, graph: &PackageGraph, production_starts: &[usize]) -> Vec<bool> {
    let mut sources = production_starts.to_vec();
    let mut starts = Vec::new();
    if !install.member.is_empty() {
        for (position, node) in graph.nodes().iter().enumerate() {
            match &node.link_target {
                None if !is_installed_location(&node.location) => {
                    sources.push(position);
                    starts.push(position);
                }
                // The links to the workspaces.
                Some(target) if !is_installed_location(target) => starts.push(position),
                _ => {}
            }
        }
    }
    for &source in &sources {
        let Some(node) = graph.nodes().get(source) else {
            continue;
        };
        for name in &node.dev_dependencies {
            starts.extend(graph.resolve(&node.location, name));
        }
    }
    graph.production_closure(&starts).production
}

fn build(
    install: Install,
    graph: &PackageGraph,
    closure: &Closure,
    dev: &[bool],
    source: DependencySource,
    warnings: Vec<NodeDepsWarning>,
) -> NodeDependencies {
    let mut decisions = HashMap::new();
    let (mut production_packages, mut dev_only_packages, mut unreferenced_packages) = (0, 0, 0);
    for (position, node) in graph.nodes().iter().enumerate() {
        if !is_installed_location(&node.location) {
            continue;
        }
        let kept = closure.production.get(position).copied().unwrap_or(true);
        let dev_reached = dev.get(position).copied().unwrap_or(false);
        let is_package = node.link_target.is_none();
        if !kept && !dev_reached {
            // Extraneous (left over from an earlier install): not a dev dependency, so not
            // excluded; with no decision of its own it follows the package it sits in.
            unreferenced_packages += usize::from(is_package);
            continue;
        }
        if is_package {
            if kept {
                production_packages += 1;
            } else {
                dev_only_packages += 1;
            }
        }
        let key = service_relative(&node.location, &install.member);
        decisions.insert(key.into_boxed_str(), kept);
    }
    NodeDependencies {
        source,
        layout: install.layout,
        decisions,
        production_packages,
        dev_only_packages,
        unreferenced_packages,
        warnings,
    }
}

/// An install-root location as seen from the service folder at `member`.
pub(super) fn service_relative(location: &str, member: &str) -> String {
    if member.is_empty() {
        return location.to_string();
    }
    if let Some(inside) = location
        .strip_prefix(member)
        .and_then(|rest| rest.strip_prefix('/'))
    {
        return inside.to_string();
    }
    let depth = member.split('/').count();
    format!("{}{location}", "../".repeat(depth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_outside_a_member_are_seen_from_it() {
        assert_eq!(
            service_relative("packages/api/node_modules/a", "packages/api"),
            "node_modules/a"
        );
        assert_eq!(
            service_relative("node_modules/a", "packages/api"),
            "../../node_modules/a"
        );
        assert_eq!(
            service_relative("packages/api-v2/node_modules/a", "packages/api"),
            "../../packages/api-v2/node_modules/a"
        );
        assert_eq!(service_relative("node_modules/a", ""), "node_modules/a");
    }
}
