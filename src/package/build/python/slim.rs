//! `slim: true`, as serverless-python-requirements does it: files and folders matching the slim
//! patterns (by default compiled bytecode, `__pycache__` and `*.dist-info`) are removed from the
//! installed tree, and the shared libraries are stripped of their symbols with `strip` when it
//! is installed (`strip: false` keeps them whole).

use std::path::{Path, PathBuf};
use std::process::Command;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::package::build::{process, BuildError, BuildRequest};

/// Removes what matches `patterns` (globs over paths relative to `root`, where `*` stays
/// within one folder and `**` crosses folders, as the plugin's glob does). A matching folder
/// goes with everything in it.
pub fn remove_patterns(root: &Path, patterns: &[String]) -> Result<(), BuildError> {
    let matcher = globs(patterns)?;
    remove_matching(root, "", &matcher);
    remove_empty_folders(root);
    Ok(())
}

fn globs(patterns: &[String]) -> Result<GlobSet, BuildError> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = GlobBuilder::new(pattern.trim_start_matches("./"))
            .literal_separator(true)
            .build()
            .map_err(|error| BuildError::Setting {
                place: "custom.pythonRequirements.slimPatterns".into(),
                reason: format!("`{pattern}` is not a valid pattern: {}", error.kind()),
                help: "write a glob such as `**/tests/**` or `**/*.egg-info*`".into(),
            })?;
        set.add(glob);
    }
    set.build().map_err(|error| BuildError::Setting {
        place: "custom.pythonRequirements.slimPatterns".into(),
        reason: error.to_string(),
        help: "write globs such as `**/tests/**`".into(),
    })
}

fn remove_matching(folder: &Path, relative: &str, matcher: &GlobSet) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if relative.is_empty() {
            name
        } else {
            format!("{relative}/{name}")
        };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if matcher.is_match(&path) {
            let _ = if is_dir {
                std::fs::remove_dir_all(entry.path())
            } else {
                std::fs::remove_file(entry.path())
            };
        } else if is_dir {
            remove_matching(&entry.path(), &path, matcher);
        }
    }
}

/// Removes folders left empty under `root` (not `root` itself).
pub fn remove_empty_folders(root: &Path) {
    fn prune(folder: &Path) -> bool {
        let Ok(entries) = std::fs::read_dir(folder) else {
            return false;
        };
        let mut empty = true;
        for entry in entries.flatten() {
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && prune(&entry.path()) {
                let _ = std::fs::remove_dir(entry.path());
            } else {
                empty = false;
            }
        }
        empty
    }
    prune(root);
}

/// Strips every `*.so` under `root` with `strip`, as the plugin does on Linux. Without `strip`
/// nothing happens; a library `strip` cannot read (another architecture's) is left whole.
pub fn strip_libraries(request: &BuildRequest<'_>, root: &Path) -> Result<(), BuildError> {
    let mut libraries = Vec::new();
    shared_libraries(root, &mut libraries);
    if libraries.is_empty() {
        return Ok(());
    }
    libraries.sort();
    let mut command = Command::new("strip");
    command.args(&libraries);
    match process::run(request, command, "strip", "", "") {
        Err(BuildError::Interrupted) => Err(BuildError::Interrupted),
        // Not installed, or some library was not for this machine's binutils: those stay as
        // pip installed them, which works, only larger.
        _ => Ok(()),
    }
}

fn shared_libraries(folder: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            shared_libraries(&entry.path(), found);
        } else if kind.is_file() && entry.file_name().to_string_lossy().ends_with(".so") {
            found.push(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::build::python::options::DEFAULT_SLIM_PATTERNS;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        dir
    }

    fn left(root: &Path) -> Vec<String> {
        let mut files: Vec<String> = crate::package::build::tree_of(root)
            .unwrap()
            .files
            .into_iter()
            .map(|f| f.relative)
            .collect();
        files.sort();
        files
    }

    #[test]
    fn default_patterns_remove_bytecode_caches_and_dist_info() {
        let dir = tree(&[
            "attrs/__init__.py",
            "attrs/__pycache__/x.cpython-312.pyc",
            "attrs/old.pyc",
            "attrs/old.pyo",
            "attrs-23.2.0.dist-info/METADATA",
            "markupsafe/_speedups.so",
        ]);
        let defaults: Vec<String> = DEFAULT_SLIM_PATTERNS
            .iter()
            .map(|p| p.to_string())
            .collect();
        remove_patterns(dir.path(), &defaults).unwrap();
        assert_eq!(
            left(dir.path()),
            vec!["attrs/__init__.py", "markupsafe/_speedups.so"]
        );
        assert!(!dir.path().join("attrs/__pycache__").exists());
    }

    #[test]
    fn a_star_stays_within_one_folder() {
        let dir = tree(&["tests/a.py", "pkg/tests/b.py", "pkg/core.py"]);
        remove_patterns(dir.path(), &["*/tests".to_string()]).unwrap();
        assert_eq!(left(dir.path()), vec!["pkg/core.py", "tests/a.py"]);
        remove_patterns(dir.path(), &["**/tests".to_string()]).unwrap();
        assert_eq!(left(dir.path()), vec!["pkg/core.py"]);
    }

    #[test]
    fn an_invalid_pattern_names_the_setting() {
        let dir = tree(&["a.py"]);
        match remove_patterns(dir.path(), &["[".to_string()]) {
            Err(BuildError::Setting { place, .. }) => {
                assert_eq!(place, "custom.pythonRequirements.slimPatterns")
            }
            other => panic!("expected a setting error, got {other:?}"),
        }
    }
}
