//! The packages a bundle loads at run time instead of holding (`custom.esbuild.external`): each
//! one and its production dependencies, taken from the service's installed `node_modules` (the
//! same install tree the production filter reads; npm is never run), named under the bundle's
//! `node_modules/`. Excluded packages (`exclude`, which Lambda provides) stay out.

use std::path::Path;

use super::super::{BuildError, BuildWarning};
use crate::package::node_deps;
use crate::package::walk::{self, FileEntry};

/// The package an import specifier names: `pg/lib/native` is `pg`, `@s/a/b` is `@s/a`. A
/// specifier with a wildcard names no one package.
pub fn package_name(specifier: &str) -> Option<&str> {
    if specifier.contains('*') || specifier.is_empty() || specifier.starts_with('.') {
        return None;
    }
    let mut parts = specifier.splitn(3, '/');
    let first = parts.next()?;
    if first.starts_with('@') {
        let second = parts.next().filter(|s| !s.is_empty())?;
        Some(&specifier[..first.len() + 1 + second.len()])
    } else {
        Some(first)
    }
}

/// Whether `name` is excluded: named exactly, or by a `scope/*` or `name/*` pattern, or `*`.
pub fn is_excluded(name: &str, excluded: &[String]) -> bool {
    excluded.iter().any(|pattern| {
        pattern == "*"
            || pattern == name
            || pattern
                .strip_suffix("/*")
                .is_some_and(|prefix| name.starts_with(&format!("{prefix}/")))
    })
}

/// The files of the externals and of what they need, named as the bundle loads them.
pub fn files(
    service_dir: &Path,
    external: &[String],
    excluded: &[String],
    warnings: &mut Vec<BuildWarning>,
) -> Result<Vec<FileEntry>, BuildError> {
    let mut names: Vec<String> = Vec::new();
    for specifier in external {
        match package_name(specifier) {
            Some(name) if !is_excluded(name, excluded) => names.push(name.to_string()),
            Some(_) => {}
            None => warnings.push(BuildWarning {
                message: format!(
                    "custom.esbuild.external `{specifier}` names no single package: it stays out of the bundle, and nothing is added to node_modules for it"
                ),
                help: "name the packages themselves (`pg`, `@scope/name`) to have them packaged beside the bundle".into(),
            }),
        }
    }
    names.sort();
    names.dedup();
    let needed = node_deps::packages_needed_by(service_dir, &names)?;
    if let Some(missing) = needed.missing.first() {
        return Err(BuildError::Setting {
            place: "custom.esbuild.external".into(),
            reason: format!(
                "`{missing}` is not installed, so it cannot be packaged beside the bundle"
            ),
            help: format!("install it (`npm install {missing}`), or remove it from `external`"),
        });
    }
    let mut files = Vec::new();
    for folder in &needed.folders {
        let own_name = folder
            .name_in_bundle
            .rsplit_once("node_modules/")
            .map_or(folder.name_in_bundle.as_str(), |(_, name)| name);
        if is_excluded(own_name, excluded) {
            continue;
        }
        let root = service_dir.join(&folder.location);
        if !root.is_dir() {
            return Err(BuildError::Setting {
                place: "custom.esbuild.external".into(),
                reason: format!("{} is in the lockfile but not installed", folder.location),
                help: "run `npm install` (or `npm ci`) in the service directory".into(),
            });
        }
        let listed = walk::walk_within(&root, None).map_err(|error| BuildError::Read {
            path: root.clone(),
            reason: error.to_string(),
        })?;
        // A package's own node_modules holds other packages: those that are needed are
        // folders of their own in the list.
        files.extend(
            listed
                .files
                .into_iter()
                .filter(|file| {
                    !file.relative.starts_with("node_modules/")
                        && !file.relative.contains("/node_modules/")
                })
                .map(|file| FileEntry {
                    relative: format!("{}/{}", folder.name_in_bundle, file.relative),
                    real: None,
                    ..file
                }),
        );
    }
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_specifier_names_its_package() {
        assert_eq!(package_name("pg"), Some("pg"));
        assert_eq!(package_name("pg/lib/native"), Some("pg"));
        assert_eq!(package_name("@scope/a/deep"), Some("@scope/a"));
        assert_eq!(package_name("@scope"), None);
        assert_eq!(package_name("@aws-sdk/*"), None);
        assert_eq!(package_name("./local"), None);
    }

    #[test]
    fn exclusions_match_names_and_scope_wildcards() {
        let excluded = vec!["aws-sdk".to_string(), "@aws-sdk/*".to_string()];
        assert!(is_excluded("aws-sdk", &excluded));
        assert!(is_excluded("@aws-sdk/client-s3", &excluded));
        assert!(!is_excluded("aws-sdk-mock", &excluded));
        assert!(!is_excluded("@aws-sdkx/a", &excluded));
        assert!(is_excluded("anything", &["*".to_string()]));
    }
}
