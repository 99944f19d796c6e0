//! Node workspaces seen from a member service: where links may point, and the production
//! packages npm hoisted to the workspace root's `node_modules`, which the deployed function
//! needs under its own `node_modules/` (on Lambda nothing above the code folder exists).
//! The Serverless Framework leaves hoisted packages out; see docs/compatibility.md.

use std::path::{Path, PathBuf};

use super::error::PackageError;
use super::node_deps::{NodeDependencies, WorkspaceLayout};
use super::walk::{self, FileEntry};

/// How far up from the service a `pnpm-workspace.yaml` is looked for.
const MAX_ANCESTORS: usize = 16;

/// The canonical root of the workspace the service is a member of: the npm/Yarn root the
/// dependency filter found, else the nearest folder above with a `pnpm-workspace.yaml`.
pub fn workspace_root(service_dir: &Path, dependencies: &NodeDependencies) -> Option<PathBuf> {
    if let WorkspaceLayout::WorkspaceMember { root, .. } = dependencies.layout() {
        return std::fs::canonicalize(root).ok();
    }
    let service = std::fs::canonicalize(service_dir).ok()?;
    service
        .ancestors()
        .skip(1)
        .take(MAX_ANCESTORS)
        .find(|ancestor| ancestor.join("pnpm-workspace.yaml").is_file())
        .map(Path::to_path_buf)
}

/// The files of every production package hoisted to the workspace root's `node_modules`
/// that the service has no copy of, named `node_modules/<name>/...` as the function will load
/// them. Files inside a hoisted package's own `node_modules` follow the dependency filter;
/// the service's own folder (npm links the member itself at the root) is never one.
/// Links in a hoisted package that cannot be followed are left out with the package's other
/// unreadable leftovers: they were never part of what Node loads.
pub fn hoisted_files(
    service_dir: &Path,
    dependencies: &NodeDependencies,
) -> Result<Vec<FileEntry>, PackageError> {
    let WorkspaceLayout::WorkspaceMember { root, member } = dependencies.layout() else {
        return Ok(Vec::new());
    };
    let Ok(root) = std::fs::canonicalize(root) else {
        return Ok(Vec::new());
    };
    let Ok(service) = std::fs::canonicalize(service_dir) else {
        return Ok(Vec::new());
    };
    let depth = member.split('/').filter(|part| !part.is_empty()).count();
    let up = "../".repeat(depth);
    let mut files = Vec::new();
    for location in dependencies.production_locations() {
        let Some(name) = location
            .strip_prefix(up.as_str())
            .and_then(|rest| rest.strip_prefix("node_modules/"))
        else {
            continue;
        };
        if !is_package_name(name) {
            continue;
        }
        // Node finds the service's own copy first.
        let own = service_dir.join("node_modules").join(name);
        if std::fs::symlink_metadata(&own).is_ok() {
            continue;
        }
        let Ok(real) = std::fs::canonicalize(root.join("node_modules").join(name)) else {
            continue;
        };
        if service.starts_with(&real) || real.starts_with(&service) || !real.starts_with(&root) {
            continue;
        }
        let Some(origin) = relative(&root, &real) else {
            continue;
        };
        let tree = walk::walk_within(&real, Some(&root))?;
        for file in tree.files {
            if dependencies.allows(&format!("{up}{origin}/{}", file.relative)) {
                files.push(FileEntry {
                    relative: format!("node_modules/{name}/{}", file.relative),
                    ..file
                });
            }
        }
    }
    Ok(files)
}

/// `a` or `@scope/a`: a package folder directly under `node_modules`.
fn is_package_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        [single] => !single.is_empty() && !single.starts_with('.') && !single.starts_with('@'),
        [scope, package] => scope.len() > 1 && scope.starts_with('@') && !package.is_empty(),
        _ => false,
    }
}

fn relative(root: &Path, real: &Path) -> Option<String> {
    let relative = real.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = relative
        .components()
        .map(|component| component.as_os_str().to_str())
        .collect();
    Some(parts?.join("/"))
}

#[cfg(test)]
mod tests {
    use super::is_package_name;

    #[test]
    fn package_names_are_one_folder_or_a_scope_and_a_folder() {
        assert!(is_package_name("debug"));
        assert!(is_package_name("@acme/shared"));
        assert!(!is_package_name(".bin"));
        assert!(!is_package_name("@acme"));
        assert!(!is_package_name("debug/node_modules/ms"));
    }
}
