//! Where a service's Python requirements come from, and the requirements-file text pip is given.
//!
//! Looked for at the service root, first found wins: `custom.pythonRequirements.fileName`, else
//! `requirements.txt`, else `pyproject.toml` with `uv.lock` (`uv export`) or `poetry.lock`
//! (`poetry export`), else `Pipfile.lock` (its `default` section, read here), else a
//! `pyproject.toml` whose `[project] dependencies` are read here. The cache key is made from
//! the input files' bytes, so knowing whether an install is cached never runs a program.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::options::{normalized_name, Options};
use crate::package::build::BuildError;

/// `-r`/`-c` files nest at most this deep (a file that includes itself stops here).
const MAX_INCLUDE_DEPTH: usize = 16;

/// The kind of requirements input a service has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A pip requirements file (`requirements.txt` or `fileName`).
    RequirementsFile(PathBuf),
    UvLock,
    PoetryLock,
    PipfileLock,
    /// `[project] dependencies` of a pyproject.toml without a lock file.
    PyProject,
}

/// A service's requirements input.
#[derive(Debug, Clone)]
pub struct Input {
    pub kind: Kind,
    /// How errors name it: `requirements.txt`, `uv.lock`...
    pub label: String,
    /// Every input file's name and bytes, for the cache key.
    pub fingerprint: Vec<u8>,
}

/// Finds the service's requirements input; `None` when it has none.
pub fn find(service_dir: &Path, options: &Options) -> Result<Option<Input>, BuildError> {
    if let Some(name) = &options.file_name {
        let path = service_dir.join(name);
        if !path.is_file() {
            return Err(BuildError::Setting {
                place: "custom.pythonRequirements.fileName".into(),
                reason: format!("`{name}` does not exist in the service directory"),
                help: "create it, or remove `fileName` to use requirements.txt (or pyproject.toml \
                       with uv.lock or poetry.lock, or Pipfile.lock)"
                    .into(),
            });
        }
        return requirements_file(path, name).map(Some);
    }
    let requirements = service_dir.join("requirements.txt");
    if requirements.is_file() {
        return requirements_file(requirements, "requirements.txt").map(Some);
    }
    let pyproject_path = service_dir.join("pyproject.toml");
    let pyproject = if pyproject_path.is_file() {
        Some(read_pyproject(&pyproject_path)?)
    } else {
        None
    };
    if let Some((text, table)) = &pyproject {
        for (enabled, lock, kind) in [
            (options.use_uv, "uv.lock", Kind::UvLock),
            (options.use_poetry, "poetry.lock", Kind::PoetryLock),
        ] {
            if enabled && service_dir.join(lock).is_file() {
                let mut fingerprint = Vec::new();
                add_file(&mut fingerprint, "pyproject.toml", text.as_bytes());
                add_file(&mut fingerprint, lock, &read(&service_dir.join(lock))?);
                return Ok(Some(Input {
                    kind,
                    label: lock.into(),
                    fingerprint,
                }));
            }
        }
        let poetry_dependencies = table
            .get("tool")
            .and_then(|t| t.get("poetry"))
            .and_then(|p| p.get("dependencies"))
            .and_then(toml::Value::as_table)
            .is_some_and(|d| d.keys().any(|name| name != "python"));
        if options.use_poetry && poetry_dependencies {
            return Err(BuildError::Setting {
                place: "pyproject.toml".into(),
                reason: "lists its dependencies under [tool.poetry.dependencies], and there is no \
                         poetry.lock to install them from"
                    .into(),
                help: "run `poetry lock` and keep poetry.lock beside pyproject.toml, or write the \
                       requirements to requirements.txt"
                    .into(),
            });
        }
    }
    let pipfile_lock = service_dir.join("Pipfile.lock");
    if options.use_pipenv && pipfile_lock.is_file() {
        let mut fingerprint = Vec::new();
        add_file(&mut fingerprint, "Pipfile.lock", &read(&pipfile_lock)?);
        return Ok(Some(Input {
            kind: Kind::PipfileLock,
            label: "Pipfile.lock".into(),
            fingerprint,
        }));
    }
    if options.use_pipenv && service_dir.join("Pipfile").is_file() {
        return Err(BuildError::Setting {
            place: "Pipfile".into(),
            reason: "has no Pipfile.lock beside it, which is what the requirements are read from"
                .into(),
            help: "run `pipenv lock` and keep Pipfile.lock beside the Pipfile, or set \
                   `custom.pythonRequirements.usePipenv: false`"
                .into(),
        });
    }
    if let Some((text, table)) = &pyproject {
        let has_dependencies = table
            .get("project")
            .and_then(|p| p.get("dependencies"))
            .is_some();
        if options.use_pyproject && has_dependencies {
            let mut fingerprint = Vec::new();
            add_file(&mut fingerprint, "pyproject.toml", text.as_bytes());
            return Ok(Some(Input {
                kind: Kind::PyProject,
                label: "pyproject.toml".into(),
                fingerprint,
            }));
        }
    }
    Ok(None)
}

/// A requirements file, with every file its `-r` and `-c` lines name in its fingerprint.
fn requirements_file(path: PathBuf, label: &str) -> Result<Input, BuildError> {
    let mut fingerprint = Vec::new();
    let top = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut pending = vec![(path.clone(), 0)];
    while let Some((file, depth)) = pending.pop() {
        let bytes = read(&file)?;
        // Named relative to the top file, so a service moved elsewhere keeps its cache.
        let name = file.strip_prefix(&top).unwrap_or(&file);
        add_file(&mut fingerprint, &name.display().to_string(), &bytes);
        if depth >= MAX_INCLUDE_DEPTH {
            continue;
        }
        let base = file.parent().unwrap_or(Path::new("."));
        for line in logical_lines(&String::from_utf8_lossy(&bytes)) {
            if let Some((_, included)) = include(&line) {
                pending.push((base.join(included), depth + 1));
            }
        }
    }
    Ok(Input {
        kind: Kind::RequirementsFile(path),
        label: label.to_string(),
        fingerprint,
    })
}

/// The requirements-file text of a file-based input: `-r` files inlined (so that `noDeploy`
/// filters their requirements too, see [`without_no_deploy`]), `-c` and `--find-links` paths
/// made absolute, so the text works from anywhere. Local path requirements (`./lib`) stay relative
/// to the service directory, where pip runs, as with the plugin.
pub fn requirements_text(
    service_dir: &Path,
    input: &Input,
    options: &Options,
) -> Result<Option<String>, BuildError> {
    let text = match &input.kind {
        Kind::RequirementsFile(path) => inline(path, 0)?,
        Kind::PipfileLock => {
            let path = service_dir.join("Pipfile.lock");
            let json: Json =
                serde_json::from_slice(&read(&path)?).map_err(|error| BuildError::Read {
                    path: path.clone(),
                    reason: format!("it is not valid JSON ({error}); run `pipenv lock` again"),
                })?;
            pipfile_lock_requirements(&json)
        }
        Kind::PyProject => {
            let path = service_dir.join("pyproject.toml");
            let (_, table) = read_pyproject(&path)?;
            pyproject_requirements(&table, &options.pyproject_groups)
        }
        Kind::UvLock | Kind::PoetryLock => return Ok(None),
    };
    Ok(Some(text))
}

/// Drops the requirement lines naming a `noDeploy` package, and comments and blank lines;
/// options and other lines stay.
pub fn without_no_deploy(text: &str, no_deploy: &[String]) -> String {
    let mut kept = String::new();
    for line in logical_lines(text) {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if !trimmed.starts_with('-') {
            if let Some(name) = requirement_name(trimmed) {
                if no_deploy.contains(&normalized_name(name)) {
                    continue;
                }
            }
        }
        kept.push_str(trimmed);
        kept.push('\n');
    }
    kept
}

/// The distribution name a requirement line starts with (`attrs` of `attrs[tests]==23.2.0`);
/// `None` for a path or URL.
pub fn requirement_name(requirement: &str) -> Option<&str> {
    let requirement = requirement.trim();
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(requirement.len());
    let name = &requirement[..end];
    let looks_like_path = name.starts_with('.') || requirement[end..].starts_with(['/', ':']);
    (!name.is_empty() && !looks_like_path).then_some(name)
}

/// Lines of a requirements file with `\` continuations joined and comments removed.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for raw in text.lines() {
        // A comment starts at `#` at the line's start or after white space (pip's rule), so a
        // URL's `#egg=` fragment stays.
        let without_comment = match raw.find(" #").or_else(|| raw.find("\t#")) {
            Some(index) => &raw[..index],
            None if raw.trim_start().starts_with('#') => "",
            None => raw,
        };
        if let Some(continued) = without_comment.strip_suffix('\\') {
            current.push_str(continued);
            current.push(' ');
            continue;
        }
        current.push_str(without_comment);
        lines.push(std::mem::take(&mut current));
    }
    if !current.trim().is_empty() {
        lines.push(current);
    }
    lines
}

/// An `-r`/`--requirement` (true) or `-c`/`--constraint` (false) line's file.
fn include(line: &str) -> Option<(bool, &str)> {
    let line = line.trim();
    for (prefix, requirement) in [
        ("--requirement", true),
        ("--constraint", false),
        ("-r", true),
        ("-c", false),
    ] {
        if let Some(rest) = line.strip_prefix(prefix) {
            let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
            if !rest.is_empty() {
                return Some((requirement, rest));
            }
        }
    }
    None
}

fn inline(path: &Path, depth: usize) -> Result<String, BuildError> {
    let text = String::from_utf8_lossy(&read(path)?).into_owned();
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = String::new();
    for line in logical_lines(&text) {
        let trimmed = line.trim();
        match include(trimmed) {
            Some((true, file)) if depth < MAX_INCLUDE_DEPTH => {
                out.push_str(&inline(&base.join(file), depth + 1)?);
            }
            Some((true, _)) => {}
            Some((false, file)) => {
                out.push_str(&format!("--constraint {}\n", base.join(file).display()));
            }
            None => {
                let find_links = ["--find-links", "-f"]
                    .iter()
                    .find_map(|flag| trimmed.strip_prefix(flag))
                    .map(|rest| rest.trim_start_matches('=').trim())
                    .filter(|place| !place.contains("://") && base.join(place).exists());
                match find_links {
                    Some(place) => {
                        out.push_str(&format!("--find-links {}\n", base.join(place).display()))
                    }
                    None => {
                        out.push_str(trimmed);
                        out.push('\n');
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The `default` section of a Pipfile.lock as requirement lines: pinned versions with their
/// extras and markers, VCS and path entries as pip writes them; the lock's package indexes
/// first.
pub fn pipfile_lock_requirements(lock: &Json) -> String {
    let mut lines = Vec::new();
    let sources = lock
        .get("_meta")
        .and_then(|m| m.get("sources"))
        .and_then(Json::as_array);
    for (index, url) in sources
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("url").and_then(Json::as_str))
        .enumerate()
    {
        let option = if index == 0 {
            "--index-url"
        } else {
            "--extra-index-url"
        };
        lines.push(format!("{option} {url}"));
    }
    let packages = lock.get("default").and_then(Json::as_object);
    for (name, entry) in packages.into_iter().flatten() {
        let text = |key: &str| entry.get(key).and_then(Json::as_str);
        let extras: Vec<&str> = entry
            .get("extras")
            .and_then(Json::as_array)
            .map(|list| list.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let extras = if extras.is_empty() {
            String::new()
        } else {
            format!("[{}]", extras.join(","))
        };
        let mut line = if let Some(vcs) = ["git", "hg", "svn", "bzr"]
            .iter()
            .find(|v| text(v).is_some())
        {
            let url = text(vcs).unwrap_or_default();
            let reference = text("ref").map(|r| format!("@{r}")).unwrap_or_default();
            let url = if url.starts_with(&format!("{vcs}+")) {
                url.to_string()
            } else {
                format!("{vcs}+{url}")
            };
            format!("{name}{extras} @ {url}{reference}")
        } else if let Some(place) = text("path").or_else(|| text("file")) {
            place.to_string()
        } else {
            format!("{name}{extras}{}", text("version").unwrap_or_default())
        };
        if let Some(markers) = text("markers") {
            line.push_str(&format!(" ; {markers}"));
        }
        lines.push(line);
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// `[project] dependencies`, and the `[project.optional-dependencies]` groups asked for.
pub fn pyproject_requirements(table: &toml::Table, groups: &[String]) -> String {
    let project = table.get("project");
    let list = |value: Option<&toml::Value>| -> Vec<String> {
        value
            .and_then(toml::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut lines = list(project.and_then(|p| p.get("dependencies")));
    for group in groups {
        lines.extend(list(
            project
                .and_then(|p| p.get("optional-dependencies"))
                .and_then(|o| o.get(group)),
        ));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn read_pyproject(path: &Path) -> Result<(String, toml::Table), BuildError> {
    let text = String::from_utf8_lossy(&read(path)?).into_owned();
    let table = text
        .parse::<toml::Table>()
        .map_err(|error| BuildError::Read {
            path: path.to_path_buf(),
            reason: format!("it is not valid TOML: {}", error.message()),
        })?;
    Ok((text, table))
}

fn read(path: &Path) -> Result<Vec<u8>, BuildError> {
    std::fs::read(path).map_err(|error| BuildError::Read {
        path: path.to_path_buf(),
        reason: error.to_string(),
    })
}

fn add_file(fingerprint: &mut Vec<u8>, name: &str, bytes: &[u8]) {
    fingerprint.extend_from_slice(name.as_bytes());
    fingerprint.push(0);
    fingerprint.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    fingerprint.extend_from_slice(bytes);
}

#[cfg(test)]
#[path = "inputs_tests.rs"]
mod tests;
