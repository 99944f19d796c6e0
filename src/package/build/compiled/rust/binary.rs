//! Which binary of a Cargo workspace a handler names, from the packages `cargo metadata` lists.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

/// A package of the Cargo workspace and its binaries.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    pub name: String,
    pub manifest: PathBuf,
    pub binaries: Vec<String>,
}

/// Which `(package, binary)` a handler names, as serverless-rust reads it: `package.binary`;
/// else a binary of that name (the package at `own` first); else a package of that name and
/// its default binary (named like it) or its only one; else, whatever the handler says
/// (`bootstrap`), the only binary of the package at `own`, or of the workspace.
pub fn resolve_binary(
    packages: &[Package],
    own: Option<&str>,
    handler: &str,
) -> Result<(String, String), String> {
    let chosen = |package: &Package, binary: &str| (package.name.clone(), binary.to_string());
    if let Some((package, binary)) = handler.split_once('.') {
        if let Some(found) = packages.iter().find(|p| p.name == package) {
            return match found.binaries.iter().find(|b| *b == binary) {
                Some(binary) => Ok(chosen(found, binary)),
                None => Err(format!(
                    "package `{package}` has no binary `{binary}`; its binaries: {}",
                    listed(&found.binaries)
                )),
            };
        }
    }
    let own_first = |p: &&Package| own != Some(p.name.as_str());
    let mut ordered: Vec<&Package> = packages.iter().collect();
    ordered.sort_by_key(own_first);
    let named: Vec<&Package> = ordered
        .iter()
        .copied()
        .filter(|p| p.binaries.iter().any(|b| b == handler))
        .collect();
    match named.as_slice() {
        [package] => return Ok(chosen(package, handler)),
        [first, ..] if own == Some(first.name.as_str()) => return Ok(chosen(first, handler)),
        [_, _, ..] => {
            return Err(format!(
                "several packages have a binary `{handler}`: {}",
                listed(&named.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
            ))
        }
        [] => {}
    }
    if let Some(package) = packages.iter().find(|p| p.name == handler) {
        if let [binary] = package.binaries.as_slice() {
            return Ok(chosen(package, binary));
        }
    }
    if let Some(package) = own.and_then(|own| packages.iter().find(|p| p.name == own)) {
        if let [binary] = package.binaries.as_slice() {
            return Ok(chosen(package, binary));
        }
    }
    let all: Vec<(&Package, &String)> = packages
        .iter()
        .flat_map(|p| p.binaries.iter().map(move |b| (p, b)))
        .collect();
    match all.as_slice() {
        [(package, binary)] => Ok(chosen(package, binary)),
        [] => Err("the Cargo package has no binary to run as `bootstrap`".into()),
        _ => Err(format!(
            "`{handler}` names none of the binaries: {}",
            listed(
                &all.iter()
                    .map(|(p, b)| format!("{}.{b}", p.name))
                    .collect::<Vec<_>>()
            )
        )),
    }
}

fn listed(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The packages of `cargo metadata`'s JSON, and which one `manifest` is.
pub fn packages_of(
    metadata: &str,
    manifest: &Path,
) -> Result<(Vec<Package>, Option<String>), String> {
    let metadata: Json = serde_json::from_str(metadata)
        .map_err(|error| format!("cargo metadata printed something else than JSON: {error}"))?;
    let same = |a: &Path, b: &Path| {
        a == b
            || matches!(
                (a.canonicalize(), b.canonicalize()),
                (Ok(a), Ok(b)) if a == b
            )
    };
    let mut packages = Vec::new();
    let mut own = None;
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or_default().to_string();
        let path = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
        let binaries = package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"))
            })
            .filter_map(|t| t["name"].as_str().map(String::from))
            .collect();
        if same(&path, manifest) {
            own = Some(name.clone());
        }
        packages.push(Package {
            name,
            manifest: path,
            binaries,
        });
    }
    Ok((packages, own))
}
