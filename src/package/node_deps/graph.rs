//! The package graph of one npm install tree, Node's module resolution over it, and the
//! production closure.
//!
//! A location is a path relative to the install root with `/` separators, exactly as npm writes the
//! keys of a lockfile's `packages` map: `""` is the root package, `node_modules/a` a hoisted
//! package, `node_modules/a/node_modules/b` a copy nested under `a` because of a version conflict,
//! `node_modules/@scope/c` a scoped package, `packages/api` a workspace folder.

use std::collections::HashMap;

/// One package folder (or link) of the install tree and the names it depends on.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct PackageNode {
    pub location: String,
    /// `dependencies`, plus bundled names: missing ones are worth a warning.
    pub dependencies: Vec<String>,
    /// `optionalDependencies`: followed when installed, silently skipped otherwise.
    pub optional_dependencies: Vec<String>,
    /// `peerDependencies`: followed when installed (npm 7+ installs them), skipped otherwise.
    pub peer_dependencies: Vec<String>,
    /// `devDependencies`, only for the root and workspace folders (an installed package's are
    /// never installed). They start the dev closure, never the production one.
    pub dev_dependencies: Vec<String>,
    /// For a link (a workspace or `file:` dependency symlinked into node_modules), the location
    /// of the real folder; the link's dependencies are the target's.
    pub link_target: Option<String>,
    /// Shipped inside its parent package's tarball (`bundleDependencies`).
    pub in_bundle: bool,
    /// The lockfile says npm may have skipped installing it (another platform's binary).
    pub optional: bool,
}

/// A production dependency that resolution could not find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unresolved {
    pub name: String,
    pub required_by: String,
}

/// Which packages the production dependencies reach.
#[derive(Debug, Clone)]
pub(super) struct Closure {
    /// Indexed like [`PackageGraph::nodes`].
    pub production: Vec<bool>,
    pub unresolved: Vec<Unresolved>,
}

#[derive(Debug, Default, Clone)]
pub(super) struct PackageGraph {
    nodes: Vec<PackageNode>,
    index: HashMap<String, usize>,
}

impl PackageGraph {
    /// Adds a node, replacing any node already at its location.
    pub fn insert(&mut self, node: PackageNode) -> usize {
        if let Some(&existing) = self.index.get(&node.location) {
            if let Some(slot) = self.nodes.get_mut(existing) {
                *slot = node;
            }
            return existing;
        }
        let position = self.nodes.len();
        self.index.insert(node.location.clone(), position);
        self.nodes.push(node);
        position
    }

    pub fn get(&self, location: &str) -> Option<usize> {
        self.index.get(location).copied()
    }

    pub fn nodes(&self) -> &[PackageNode] {
        &self.nodes
    }

    /// Where `require(name)` from a package at `from` lands: Node looks in `node_modules/name`
    /// of the package's own folder, then of each ancestor folder, skipping folders that are
    /// themselves called `node_modules`, so the nearest (most nested) copy wins.
    pub fn resolve(&self, from: &str, name: &str) -> Option<usize> {
        let mut base = from;
        let mut candidate = String::with_capacity(from.len() + name.len() + 14);
        loop {
            let is_node_modules = base == "node_modules" || base.ends_with("/node_modules");
            if !is_node_modules {
                candidate.clear();
                if !base.is_empty() {
                    candidate.push_str(base);
                    candidate.push('/');
                }
                candidate.push_str("node_modules/");
                candidate.push_str(name);
                if let Some(&found) = self.index.get(candidate.as_str()) {
                    return Some(found);
                }
            }
            if base.is_empty() {
                return None;
            }
            base = base.rfind('/').map_or("", |slash| &base[..slash]);
        }
    }

    /// Every package reachable from `starts` through dependencies, installed optional and peer
    /// dependencies, links and bundles. Iterative, so a deep or cyclic tree cannot overflow.
    pub fn production_closure(&self, starts: &[usize]) -> Closure {
        let mut production = vec![false; self.nodes.len()];
        let mut unresolved = Vec::new();
        let bundled_children = self.bundled_children();
        let mut pending: Vec<usize> = Vec::new();
        let mut mark = |position: usize, pending: &mut Vec<usize>| {
            if let Some(flag) = production.get_mut(position) {
                if !*flag {
                    *flag = true;
                    pending.push(position);
                }
            }
        };
        for &start in starts {
            mark(start, &mut pending);
        }
        while let Some(position) = pending.pop() {
            let Some(node) = self.nodes.get(position) else {
                continue;
            };
            if let Some(children) = bundled_children.get(&position) {
                for &child in children {
                    mark(child, &mut pending);
                }
            }
            if let Some(target) = &node.link_target {
                if let Some(target) = self.get(target) {
                    mark(target, &mut pending);
                }
                continue;
            }
            for name in &node.dependencies {
                match self.resolve(&node.location, name) {
                    Some(found) => mark(found, &mut pending),
                    None => unresolved.push(Unresolved {
                        name: name.clone(),
                        required_by: node.location.clone(),
                    }),
                }
            }
            for name in node
                .optional_dependencies
                .iter()
                .chain(&node.peer_dependencies)
            {
                if let Some(found) = self.resolve(&node.location, name) {
                    mark(found, &mut pending);
                }
            }
        }
        Closure {
            production,
            unresolved,
        }
    }

    /// Bundled packages by the package whose tarball carries them, so they are kept whenever
    /// their parent is, whatever their own `dependencies` say.
    fn bundled_children(&self) -> HashMap<usize, Vec<usize>> {
        let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
        for (position, node) in self.nodes.iter().enumerate() {
            if !node.in_bundle {
                continue;
            }
            if let Some(parent) = parent_package(&node.location).and_then(|p| self.get(p)) {
                children.entry(parent).or_default().push(position);
            }
        }
        children
    }
}

/// The package folder a package is installed under: `node_modules/a` for
/// `node_modules/a/node_modules/@s/b`, `""` (the root) for `node_modules/a`, `None` for a
/// location that is not inside any node_modules.
pub(super) fn parent_package(location: &str) -> Option<&str> {
    let start = last_node_modules(location)?;
    Some(location[..start].trim_end_matches('/'))
}

/// Byte position of the last `node_modules/` path segment of `location`.
fn last_node_modules(location: &str) -> Option<usize> {
    location
        .rmatch_indices("node_modules/")
        .map(|(start, _)| start)
        .find(|&start| start == 0 || location.as_bytes().get(start - 1) == Some(&b'/'))
}

/// Whether a location names a package installed in some node_modules folder (as opposed to the
/// root or a workspace folder).
pub(super) fn is_installed_location(location: &str) -> bool {
    last_node_modules(location).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(nodes: &[(&str, &[&str])]) -> PackageGraph {
        let mut graph = PackageGraph::default();
        for (location, dependencies) in nodes {
            graph.insert(PackageNode {
                location: (*location).to_string(),
                dependencies: dependencies
                    .iter()
                    .map(|name| (*name).to_string())
                    .collect(),
                ..PackageNode::default()
            });
        }
        graph
    }

    fn location_of(graph: &PackageGraph, found: Option<usize>) -> Option<&str> {
        found.map(|position| graph.nodes()[position].location.as_str())
    }

    fn production_locations(graph: &PackageGraph, closure: &Closure) -> Vec<String> {
        let mut locations: Vec<String> = graph
            .nodes()
            .iter()
            .zip(&closure.production)
            .filter(|(_, production)| **production)
            .map(|(node, _)| node.location.clone())
            .collect();
        locations.sort();
        locations
    }

    #[test]
    fn resolution_prefers_the_nearest_nested_copy() {
        let graph = graph(&[
            ("", &[]),
            ("node_modules/a", &[]),
            ("node_modules/a/node_modules/b", &[]),
            ("node_modules/a/node_modules/b/node_modules/c", &[]),
            ("node_modules/b", &[]),
            ("node_modules/c", &[]),
        ]);
        let from_nested = "node_modules/a/node_modules/b";
        assert_eq!(
            location_of(&graph, graph.resolve(from_nested, "c")),
            Some("node_modules/a/node_modules/b/node_modules/c")
        );
        assert_eq!(
            location_of(&graph, graph.resolve("node_modules/a", "b")),
            Some("node_modules/a/node_modules/b")
        );
        assert_eq!(
            location_of(&graph, graph.resolve("node_modules/b", "c")),
            Some("node_modules/c")
        );
        assert_eq!(
            location_of(&graph, graph.resolve("", "b")),
            Some("node_modules/b")
        );
        assert_eq!(graph.resolve("node_modules/a", "missing"), None);
    }

    #[test]
    fn resolution_never_looks_inside_node_modules_node_modules() {
        let graph = graph(&[
            ("node_modules/node_modules/x", &[]),
            ("node_modules/a", &[]),
        ]);
        assert_eq!(graph.resolve("node_modules/a", "x"), None);
    }

    #[test]
    fn resolution_walks_up_from_scoped_packages_and_workspaces() {
        let graph = graph(&[
            ("node_modules/@scope/a", &[]),
            ("node_modules/b", &[]),
            ("packages/api/node_modules/b", &[]),
        ]);
        assert_eq!(
            location_of(&graph, graph.resolve("node_modules/@scope/a", "b")),
            Some("node_modules/b")
        );
        assert_eq!(
            location_of(&graph, graph.resolve("packages/api", "b")),
            Some("packages/api/node_modules/b")
        );
        assert_eq!(
            location_of(&graph, graph.resolve("packages/web", "b")),
            Some("node_modules/b")
        );
        assert_eq!(
            location_of(&graph, graph.resolve("", "@scope/a")),
            Some("node_modules/@scope/a")
        );
    }

    #[test]
    fn closure_follows_nested_copies_and_leaves_unreached_packages_out() {
        let graph = graph(&[
            ("", &["a"]),
            ("node_modules/a", &["b"]),
            ("node_modules/a/node_modules/b", &["c"]),
            ("node_modules/b", &[]),
            ("node_modules/c", &[]),
            ("node_modules/dev-tool", &["b"]),
        ]);
        let closure = graph.production_closure(&[0]);
        assert_eq!(
            production_locations(&graph, &closure),
            [
                "",
                "node_modules/a",
                "node_modules/a/node_modules/b",
                "node_modules/c"
            ]
        );
        assert!(closure.unresolved.is_empty());
    }

    #[test]
    fn closure_survives_dependency_cycles() {
        let graph = graph(&[
            ("", &["a"]),
            ("node_modules/a", &["b"]),
            ("node_modules/b", &["a"]),
        ]);
        let closure = graph.production_closure(&[0]);
        assert_eq!(closure.production, [true, true, true]);
    }

    #[test]
    fn closure_reports_missing_required_dependencies_but_not_optional_or_peer_ones() {
        let mut graph = graph(&[("", &["a", "gone"])]);
        graph.insert(PackageNode {
            location: "node_modules/a".to_string(),
            optional_dependencies: vec!["fsevents".to_string()],
            peer_dependencies: vec!["react".to_string(), "ms".to_string()],
            ..PackageNode::default()
        });
        graph.insert(PackageNode {
            location: "node_modules/ms".to_string(),
            ..PackageNode::default()
        });
        let closure = graph.production_closure(&[0]);
        assert_eq!(
            closure.unresolved,
            [Unresolved {
                name: "gone".to_string(),
                required_by: String::new()
            }]
        );
        assert_eq!(
            production_locations(&graph, &closure),
            ["", "node_modules/a", "node_modules/ms"]
        );
    }

    #[test]
    fn closure_follows_links_to_the_real_folder() {
        let mut graph = graph(&[
            ("packages/api", &["@acme/lib"]),
            ("packages/lib", &["ms"]),
            ("node_modules/ms", &[]),
            ("node_modules/unused", &[]),
        ]);
        graph.insert(PackageNode {
            location: "node_modules/@acme/lib".to_string(),
            link_target: Some("packages/lib".to_string()),
            ..PackageNode::default()
        });
        let start = graph.get("packages/api").into_iter().collect::<Vec<_>>();
        let closure = graph.production_closure(&start);
        assert_eq!(
            production_locations(&graph, &closure),
            [
                "node_modules/@acme/lib",
                "node_modules/ms",
                "packages/api",
                "packages/lib"
            ]
        );
    }

    #[test]
    fn bundled_packages_are_kept_with_their_parent() {
        let mut graph = graph(&[("", &["parent"]), ("node_modules/parent", &[])]);
        for location in [
            "node_modules/parent/node_modules/bundled",
            "node_modules/parent/node_modules/@s/also-bundled",
        ] {
            graph.insert(PackageNode {
                location: location.to_string(),
                in_bundle: true,
                ..PackageNode::default()
            });
        }
        graph.insert(PackageNode {
            location: "node_modules/other/node_modules/bundled".to_string(),
            in_bundle: true,
            ..PackageNode::default()
        });
        let closure = graph.production_closure(&[0]);
        assert_eq!(
            production_locations(&graph, &closure),
            [
                "",
                "node_modules/parent",
                "node_modules/parent/node_modules/@s/also-bundled",
                "node_modules/parent/node_modules/bundled"
            ]
        );
    }

    #[test]
    fn parent_package_strips_the_last_install_segment() {
        assert_eq!(
            parent_package("node_modules/a/node_modules/@s/b"),
            Some("node_modules/a")
        );
        assert_eq!(parent_package("node_modules/a"), Some(""));
        assert_eq!(
            parent_package("packages/api/node_modules/a"),
            Some("packages/api")
        );
        assert_eq!(parent_package("packages/api"), None);
        assert_eq!(parent_package("my_node_modules/a"), None);
    }
}
