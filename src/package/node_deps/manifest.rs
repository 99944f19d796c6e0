//! Reading the parts of a `package.json` that decide dependencies: the dependency names (never
//! the version ranges: the install tree already says which copy is used) and `workspaces`.
//!
//! Read leniently: a field of an unexpected type (old packages have `"dependencies": []`) counts
//! as empty rather than failing the whole decision; only a file that is not JSON at all is an
//! error.

use std::io;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::error::{json_error_message, json_error_span, InvalidPackageJson, NodeDepsError};
use super::graph::{is_installed_location, PackageNode};

/// The dependency-relevant fields of one package.json.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct PackageManifest {
    pub dependencies: Vec<String>,
    pub optional_dependencies: Vec<String>,
    pub peer_dependencies: Vec<String>,
    pub dev_dependencies: Vec<String>,
    /// `workspaces` patterns, from either the array form or Yarn's `{ "packages": [...] }`.
    pub workspaces: Vec<String>,
}

impl PackageManifest {
    /// The graph node for this manifest's package at `location`. An installed package's dev
    /// dependencies were never installed, so they are dropped.
    pub fn into_node(self, location: String) -> PackageNode {
        let dev_dependencies = if is_installed_location(&location) {
            Vec::new()
        } else {
            self.dev_dependencies
        };
        PackageNode {
            location,
            dependencies: self.dependencies,
            optional_dependencies: self.optional_dependencies,
            peer_dependencies: self.peer_dependencies,
            dev_dependencies,
            ..PackageNode::default()
        }
    }
}

/// Reads `path`; `Ok(None)` when there is no such file.
pub(super) fn read_manifest(
    path: &Path,
    fix: &str,
) -> Result<Option<PackageManifest>, NodeDepsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_manifest(path, &text, fix).map(Some),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(cause) => Err(NodeDepsError::Read {
            path: path.to_path_buf(),
            fix: fix.to_string(),
            cause,
        }),
    }
}

/// Parses the text of the package.json at `path`; `fix` is the advice given when it is not JSON
/// (edit it for the service's own, reinstall for one under node_modules).
pub(super) fn parse_manifest(
    path: &Path,
    text: &str,
    fix: &str,
) -> Result<PackageManifest, NodeDepsError> {
    let invalid = |message: String, at| {
        NodeDepsError::InvalidPackageJson(Box::new(InvalidPackageJson {
            path: path.to_path_buf(),
            message,
            fix: fix.to_string(),
            source_code: crate::manifest::snippet::snippet(
                path.display().to_string(),
                Arc::from(text),
            ),
            at,
        }))
    };
    let value: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|error| invalid(json_error_message(&error), json_error_span(text, &error)))?;
    let Value::Object(fields) = value else {
        return Err(invalid(
            "a package.json must be a JSON object".to_string(),
            (0, 0).into(),
        ));
    };
    let mut dependencies = names(fields.get("dependencies"));
    let bundled = fields
        .get("bundleDependencies")
        .or_else(|| fields.get("bundledDependencies"));
    // `true` bundles every dependency, which are already followed.
    if let Some(Value::Array(items)) = bundled {
        for name in items.iter().filter_map(Value::as_str) {
            if !dependencies.iter().any(|known| known == name) {
                dependencies.push(name.to_string());
            }
        }
    }
    let workspaces = match fields.get("workspaces") {
        Some(Value::Array(patterns)) => strings(patterns),
        Some(Value::Object(yarn)) => match yarn.get("packages") {
            Some(Value::Array(patterns)) => strings(patterns),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    Ok(PackageManifest {
        dependencies,
        optional_dependencies: names(fields.get("optionalDependencies")),
        peer_dependencies: names(fields.get("peerDependencies")),
        dev_dependencies: names(fields.get("devDependencies")),
        workspaces,
    })
}

/// The keys of a dependency map; anything but an object has none.
fn names(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn strings(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PackageManifest, NodeDepsError> {
        parse_manifest(Path::new("package.json"), text, "fix it")
    }

    #[test]
    fn bundled_names_count_as_required_dependencies() {
        let manifest = parse(
            r#"{"dependencies": {"a": "1"}, "bundleDependencies": ["a", "b"],
                "optionalDependencies": {"c": "1"}, "peerDependencies": {"d": "*"}}"#,
        )
        .unwrap();
        assert_eq!(manifest.dependencies, ["a", "b"]);
        assert_eq!(manifest.optional_dependencies, ["c"]);
        assert_eq!(manifest.peer_dependencies, ["d"]);
    }

    #[test]
    fn both_workspaces_forms_are_read() {
        let npm = parse(r#"{"workspaces": ["packages/*", "apps/api"]}"#).unwrap();
        assert_eq!(npm.workspaces, ["packages/*", "apps/api"]);
        let yarn = parse(r#"{"workspaces": {"packages": ["libs/*"], "nohoist": []}}"#).unwrap();
        assert_eq!(yarn.workspaces, ["libs/*"]);
    }

    #[test]
    fn odd_field_types_count_as_empty_instead_of_failing() {
        let manifest = parse(r#"{"dependencies": [], "peerDependencies": null}"#).unwrap();
        assert_eq!(manifest, PackageManifest::default());
    }

    #[test]
    fn invalid_json_points_at_the_error() {
        let text = "{\n  \"dependencies\": {\n    \"a\": \"1\",\n  }\n}";
        let error = parse(text).unwrap_err();
        let NodeDepsError::InvalidPackageJson(invalid) = error else {
            panic!("expected an invalid package.json error, got {error:?}");
        };
        // The closing brace after the trailing comma.
        assert_eq!(invalid.at.offset(), text.rfind("  }").unwrap() + 2);
    }
}
