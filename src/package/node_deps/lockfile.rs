//! Reading npm lockfiles (`npm-shrinkwrap.json`, `package-lock.json` and the hidden
//! `node_modules/.package-lock.json`, which share one format) into a [`PackageGraph`].
//!
//! Only lockfileVersion 2 and 3 carry the flat `packages` map keyed by install location that the
//! graph needs; a version 1 lockfile (npm 5 and 6) only has the nested `dependencies` tree, so
//! the caller falls back to reading node_modules for it. The `dev`/`optional` flags are read by
//! the tests, not here: the closure is computed from the dependency names, so that a lockfile
//! edited by hand or by another tool cannot make a production package disappear.

use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::error::{json_error_message, json_error_span, InvalidLockfile, NodeDepsError};
use super::graph::{is_installed_location, PackageGraph, PackageNode};

/// A lockfile as far as deciding dependencies goes.
#[derive(Debug)]
pub(super) struct Lockfile {
    pub version: u64,
    /// `None` for a lockfile without a `packages` map (version 1).
    pub graph: Option<PackageGraph>,
}

#[derive(Deserialize)]
struct RawLockfile {
    #[serde(rename = "lockfileVersion", default, deserialize_with = "number")]
    lockfile_version: u64,
    #[serde(default)]
    packages: Option<IndexMap<String, RawEntry>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(default, deserialize_with = "names")]
    dependencies: Vec<String>,
    #[serde(default, deserialize_with = "names")]
    optional_dependencies: Vec<String>,
    #[serde(default, deserialize_with = "names")]
    peer_dependencies: Vec<String>,
    #[serde(default, deserialize_with = "names")]
    dev_dependencies: Vec<String>,
    #[serde(default, deserialize_with = "flag")]
    link: bool,
    #[serde(default, deserialize_with = "flag")]
    in_bundle: bool,
    #[serde(default, deserialize_with = "flag")]
    optional: bool,
    #[serde(default, deserialize_with = "text")]
    resolved: Option<String>,
}

/// Parses the lockfile text read from `path`.
pub(super) fn parse_lockfile(path: &Path, text: &str) -> Result<Lockfile, NodeDepsError> {
    let invalid = |message: String, at| {
        NodeDepsError::InvalidLockfile(Box::new(InvalidLockfile {
            path: path.to_path_buf(),
            message,
            fix: lockfile_fix(path, text),
            source_code: crate::manifest::snippet::snippet(
                path.display().to_string(),
                Arc::from(text),
            ),
            at,
        }))
    };
    let raw: RawLockfile = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|error| invalid(json_error_message(&error), json_error_span(text, &error)))?;
    let Some(packages) = raw.packages else {
        return Ok(Lockfile {
            version: raw.lockfile_version,
            graph: None,
        });
    };
    let mut graph = PackageGraph::default();
    for (location, entry) in packages {
        let link_target = if entry.link {
            entry.resolved.map(|target| normalize_target(&target))
        } else {
            None
        };
        let location = location.trim_end_matches('/').to_string();
        let dev_dependencies = if is_installed_location(&location) {
            Vec::new()
        } else {
            entry.dev_dependencies
        };
        graph.insert(PackageNode {
            location,
            dependencies: entry.dependencies,
            optional_dependencies: entry.optional_dependencies,
            peer_dependencies: entry.peer_dependencies,
            dev_dependencies,
            link_target,
            in_bundle: entry.in_bundle,
            optional: entry.optional,
        });
    }
    Ok(Lockfile {
        version: raw.lockfile_version,
        graph: Some(graph),
    })
}

fn lockfile_fix(path: &Path, text: &str) -> String {
    if text.contains("\n<<<<<<< ") || text.starts_with("<<<<<<< ") {
        "it still has merge conflict markers: run `npm install`, which resolves conflicts in \
         package-lock.json, or restore it from version control"
            .to_string()
    } else {
        format!(
            "delete {} and run `npm install` to regenerate it (or restore it from version control)",
            path.display()
        )
    }
}

/// npm writes link targets relative to the lockfile's folder with `/`; older versions on
/// Windows wrote `\`, and some tools prefix `./` or `file:`.
fn normalize_target(target: &str) -> String {
    let target = target
        .strip_prefix("file:")
        .unwrap_or(target)
        .replace('\\', "/");
    let target = target.strip_prefix("./").unwrap_or(&target);
    target.trim_end_matches('/').to_string()
}

fn names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Object(map) => map.into_iter().map(|(name, _)| name).collect(),
        _ => Vec::new(),
    })
}

fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Value::deserialize(deserializer)? == Value::Bool(true))
}

fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(text) => Some(text),
        _ => None,
    })
}

fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    Ok(Value::deserialize(deserializer)?.as_u64().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_one_lockfiles_have_no_graph() {
        let lockfile = parse_lockfile(
            Path::new("package-lock.json"),
            r#"{"lockfileVersion": 1, "dependencies": {"ms": {"version": "2.1.3"}}}"#,
        )
        .unwrap();
        assert_eq!(lockfile.version, 1);
        assert!(lockfile.graph.is_none());
    }

    #[test]
    fn links_bundles_and_flags_are_read() {
        let lockfile = parse_lockfile(
            Path::new("package-lock.json"),
            r#"{"lockfileVersion": 3, "packages": {
                "": {"dependencies": {"@acme/lib": "*"}},
                "node_modules/@acme/lib": {"resolved": "packages/lib", "link": true},
                "node_modules/a/node_modules/b": {"inBundle": true, "optional": true},
                "packages/lib": {"dependencies": {"ms": "^2"}, "peerDependencies": {"x": "*"}}
            }}"#,
        )
        .unwrap();
        let graph = lockfile.graph.unwrap();
        let link = &graph.nodes()[graph.get("node_modules/@acme/lib").unwrap()];
        assert_eq!(link.link_target.as_deref(), Some("packages/lib"));
        let bundled = &graph.nodes()[graph.get("node_modules/a/node_modules/b").unwrap()];
        assert!(bundled.in_bundle && bundled.optional);
        let workspace = &graph.nodes()[graph.get("packages/lib").unwrap()];
        assert_eq!(workspace.dependencies, ["ms"]);
        assert_eq!(workspace.peer_dependencies, ["x"]);
    }

    #[test]
    fn a_malformed_entry_is_pointed_at() {
        let text = "{\"lockfileVersion\": 3, \"packages\": {\"node_modules/a\": 7}}";
        let error = parse_lockfile(Path::new("package-lock.json"), text).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("package-lock.json"), "{message}");
        let NodeDepsError::InvalidLockfile(invalid) = error else {
            panic!("expected an invalid lockfile error");
        };
        assert_eq!(invalid.at.offset(), text.find('7').unwrap());
    }
}
