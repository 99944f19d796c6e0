//! JavaScript and TypeScript bundles, the jobs of serverless-esbuild and
//! serverless-plugin-typescript, done with the service's own installed `esbuild` or `tsc`.
//!
//! Which build a Node.js function of an AWS service gets:
//! - `serverless-esbuild` in `plugins:`, or `custom.esbuild` set: every Node.js function is
//!   bundled with esbuild ([`esbuild`]), with the `custom.esbuild` options ([`options`]);
//! - else `serverless-plugin-typescript` in `plugins:`: the service is compiled with tsc
//!   ([`typescript`]);
//! - else a function whose handler names only a TypeScript file (`src/h.ts` and no `src/h.js`)
//!   is bundled with the installed esbuild, else compiled with the installed tsc; with neither
//!   installed it is an error saying how to install esbuild. Every other function runs its
//!   files as they are.
//!
//! A bundle stands in for the service's files ([`FunctionBuild::code`]); of the service's own
//! files only those the package patterns name stay beside it ([`keep_alongside_bundle`]).

mod entry;
mod esbuild;
mod externals;
mod options;
mod stamp;
mod typescript;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::{BuildRequest, BuildWarning, FunctionBuild, Purpose};
use crate::manifest::model::{Cloud, Function, Service};
use crate::package::build::BuildError;
use crate::package::select::{PatternLists, Selector};
use crate::package::walk::FileEntry;
use entry::{Entry, NoEntry};

/// How far up from the service an installed tool is looked for (a workspace root).
const MAX_ANCESTORS: usize = 16;

/// Files that never stay beside a bundle even when a pattern names them: the bundle holds the
/// code, and the packages it needs are chosen by the build.
const NEVER_ALONGSIDE: &[&str] = &[
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
];

const OTHER_SOURCE_EXTENSIONS: &[&str] = &[".jsx", ".map"];

/// The tool that builds the service's Node.js functions.
enum Tool {
    Esbuild { reason: &'static str },
    Tsc,
}

pub fn build(
    request: &BuildRequest<'_>,
    warnings: &mut Vec<BuildWarning>,
) -> Result<Vec<(String, FunctionBuild)>, BuildError> {
    let service = request.service;
    if service.provider.cloud != Cloud::Aws {
        return Ok(Vec::new());
    }
    let node: Vec<&Function> = request
        .functions()
        .filter(|f| f.handler.is_some() && runtime(f).starts_with("nodejs"))
        .collect();
    if node.is_empty() {
        return Ok(Vec::new());
    }
    let esbuild_plugin = listed(service, "serverless-esbuild")
        || service
            .custom
            .as_ref()
            .and_then(|c| c.get("esbuild"))
            .is_some();
    let typescript_plugin = listed(service, "serverless-plugin-typescript");
    let (tool, chosen): (Tool, Vec<(&Function, Entry)>) = if esbuild_plugin || typescript_plugin {
        if esbuild_plugin && typescript_plugin {
            warnings.push(BuildWarning {
                message: "both serverless-esbuild and serverless-plugin-typescript are listed: the functions are bundled with esbuild".into(),
                help: "remove one of them from `plugins:`".into(),
            });
        }
        let mut chosen = Vec::new();
        for function in node {
            chosen.push((function, plugin_entry(request.service_dir, function)?));
        }
        let tool = if esbuild_plugin {
            Tool::Esbuild {
                reason: "serverless-esbuild",
            }
        } else {
            Tool::Tsc
        };
        (tool, chosen)
    } else {
        let chosen: Vec<(&Function, Entry)> = node
            .into_iter()
            .filter_map(|f| Some((f, entry::only_typescript(request.service_dir, handler(f))?)))
            .collect();
        let Some((first, first_entry)) = chosen.first() else {
            return Ok(Vec::new());
        };
        let tool = if installed_tool(request.service_dir, "esbuild").is_some() {
            Tool::Esbuild {
                reason: "a TypeScript handler",
            }
        } else if installed_tool(request.service_dir, "tsc").is_some() {
            Tool::Tsc
        } else {
            return Err(BuildError::MissingTool {
                program: "esbuild".into(),
                needed_for: format!(
                    "function `{}` (handler `{}` is TypeScript)",
                    first.key, first_entry.source
                ),
                install: format!(
                    "run `{}` in the service directory (or the workspace root above it); TypeScript's tsc is used when esbuild is not installed",
                    esbuild::INSTALL
                ),
            });
        };
        (tool, chosen)
    };
    match tool {
        Tool::Esbuild { reason } => bundle(request, reason, chosen, warnings),
        Tool::Tsc => compile(request, chosen, warnings),
    }
}

fn bundle(
    request: &BuildRequest<'_>,
    reason: &'static str,
    chosen: Vec<(&Function, Entry)>,
    warnings: &mut Vec<BuildWarning>,
) -> Result<Vec<(String, FunctionBuild)>, BuildError> {
    let options = options::read(request.service.custom.as_ref(), warnings)?;
    let program =
        installed_tool(request.service_dir, "esbuild").ok_or_else(|| BuildError::MissingTool {
            program: "esbuild".into(),
            needed_for: format!("bundling the Node.js functions ({reason})"),
            install: format!(
                "run `{}` in the service directory (or the workspace root above it)",
                esbuild::INSTALL
            ),
        })?;
    let mut jobs = Vec::new();
    for (function, entry) in chosen {
        let alongside = match request.purpose {
            Purpose::Local => {
                alongside_files(request.service, request.service_dir, Some(function))?
            }
            Purpose::Lambda => Vec::new(),
        };
        jobs.push(esbuild::Job {
            function: function.key.clone(),
            runtime: runtime(function).to_string(),
            entry,
            alongside,
        });
    }
    let bundler = esbuild::Bundler {
        request,
        options: &options,
        program,
    };
    bundler.build_all(jobs, warnings)
}

fn compile(
    request: &BuildRequest<'_>,
    chosen: Vec<(&Function, Entry)>,
    warnings: &mut Vec<BuildWarning>,
) -> Result<Vec<(String, FunctionBuild)>, BuildError> {
    let program =
        installed_tool(request.service_dir, "tsc").ok_or_else(|| BuildError::MissingTool {
            program: "tsc".into(),
            needed_for: "compiling the Node.js functions (serverless-plugin-typescript)".into(),
            install: format!(
                "run `{}` in the service directory (or the workspace root above it)",
                typescript::INSTALL
            ),
        })?;
    let alongside = alongside_files(request.service, request.service_dir, None)?;
    let selector = selector(request.service, None)?;
    let entries: Vec<Entry> = chosen.iter().map(|(_, e)| e.clone()).collect();
    let tree = typescript::compile(request, &program, &entries, &alongside, &selector, warnings)?;
    Ok(chosen
        .into_iter()
        .map(|(function, _)| {
            (
                function.key.clone(),
                FunctionBuild {
                    code: Some(tree.clone()),
                    ..FunctionBuild::default()
                },
            )
        })
        .collect())
}

/// Which of the service's selected files an artifact keeps beside a bundle: those the
/// artifact's `package.patterns`/`include` name (`named`: a pattern brings the file in on its
/// own), as serverless-esbuild copies them beside its bundles, except sources, `node_modules`
/// and package manifests and lockfiles. A name the bundle has already is the bundle's.
pub fn keep_alongside_bundle<'a>(
    selected: &[&'a FileEntry],
    files: &mut IndexMap<&'a str, &'a FileEntry>,
    named: &dyn Fn(&str) -> bool,
) {
    for file in selected {
        let name = file.relative.as_str();
        if !never_alongside(name) && named(name) && !files.contains_key(name) {
            files.insert(name, file);
        }
    }
}

fn never_alongside(relative: &str) -> bool {
    let file_name = relative.rsplit('/').next().unwrap_or(relative);
    relative.starts_with("node_modules/")
        || relative.contains("/node_modules/")
        || NEVER_ALONGSIDE.contains(&file_name)
        || entry::SOURCE_EXTENSIONS
            .iter()
            .chain(OTHER_SOURCE_EXTENSIONS)
            .any(|extension| file_name.ends_with(extension))
}

/// The service's package patterns for `function` (its own too when it is packaged on its own),
/// as the packager reads them.
fn selector(service: &Service, function: Option<&Function>) -> Result<Selector, BuildError> {
    let placed = |patterns: &[String], place: &str| -> Vec<(String, String)> {
        patterns
            .iter()
            .enumerate()
            .map(|(index, pattern)| (pattern.clone(), format!("{place}[{index}]")))
            .collect()
    };
    let package = &service.package;
    let mut lists = PatternLists {
        extra_excludes: Vec::new(),
        exclude: placed(&package.exclude, "package.exclude"),
        include: placed(&package.include, "package.include"),
        patterns: placed(&package.patterns, "package.patterns"),
    };
    if let Some(function) = function.filter(|f| package.individually || f.package.individually) {
        let own = &function.package;
        let place = |field: &str| format!("functions.{}.package.{field}", function.key);
        lists
            .exclude
            .extend(placed(&own.exclude, &place("exclude")));
        lists
            .include
            .extend(placed(&own.include, &place("include")));
        lists
            .patterns
            .extend(placed(&own.patterns, &place("patterns")));
    }
    Selector::new(&lists).map_err(|error| BuildError::Setting {
        place: "package patterns".into(),
        reason: error.to_string(),
        help: "fix the pattern it names".into(),
    })
}

/// The service files the package patterns name, which a local run finds beside its bundle as
/// the deployed function does. Nothing is listed when no pattern could name a file.
fn alongside_files(
    service: &Service,
    service_dir: &Path,
    function: Option<&Function>,
) -> Result<Vec<FileEntry>, BuildError> {
    let own = function.map(|f| &f.package);
    let positive = |patterns: &[String]| patterns.iter().any(|p| !p.starts_with('!'));
    let any_positive = !service.package.include.is_empty()
        || positive(&service.package.patterns)
        || own.is_some_and(|p| !p.include.is_empty() || positive(&p.patterns));
    if !any_positive {
        return Ok(Vec::new());
    }
    let selector = selector(service, function)?;
    Ok(service_files(service_dir)
        .into_iter()
        .filter(|file| !never_alongside(&file.relative) && selector.names(&file.relative))
        .collect())
}

/// The service's files outside `node_modules`, `.git` and `.serverless`, sorted.
fn service_files(service_dir: &Path) -> Vec<FileEntry> {
    let mut files = Vec::new();
    let mut pending = vec![(service_dir.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{prefix}{name}");
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !matches!(name.as_str(), "node_modules" | ".git" | ".serverless") {
                    pending.push((entry.path(), format!("{relative}/")));
                }
            } else if let Ok(metadata) = std::fs::metadata(entry.path()) {
                if metadata.is_file() {
                    files.push(FileEntry {
                        relative,
                        source: entry.path(),
                        size: metadata.len(),
                        executable: false,
                        real: None,
                    });
                }
            }
        }
    }
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    files
}

/// Puts `files` into the build folder `root` under their names: hard links where the file
/// system allows (nothing is copied), else copies.
fn place_files(files: &[FileEntry], root: &Path) -> Result<(), BuildError> {
    for file in files {
        let target = root.join(&file.relative);
        if target.exists() {
            continue;
        }
        let failure = |error: std::io::Error| BuildError::Write {
            path: target.clone(),
            reason: error.to_string(),
        };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(failure)?;
        }
        if std::fs::hard_link(&file.source, &target).is_err() {
            std::fs::copy(&file.source, &target).map_err(failure)?;
        }
    }
    Ok(())
}

/// `node_modules/.bin/<name>` of the service, or of a folder above it (a workspace root).
pub fn installed_tool(service_dir: &Path, name: &str) -> Option<PathBuf> {
    let start = std::fs::canonicalize(service_dir).unwrap_or_else(|_| service_dir.to_path_buf());
    start
        .ancestors()
        .take(MAX_ANCESTORS + 1)
        .map(|dir| dir.join("node_modules").join(".bin").join(name))
        .find(|path| path.is_file())
}

fn listed(service: &Service, plugin: &str) -> bool {
    service.plugins.iter().any(|p| p == plugin)
}

fn runtime(function: &Function) -> &str {
    function.runtime.as_deref().unwrap_or("nodejs18.x")
}

fn handler(function: &Function) -> &str {
    function.handler.as_deref().unwrap_or_default()
}

/// A function's entry when a plugin says every Node.js function is built: a missing file is
/// an error, as it is for the plugin.
fn plugin_entry(service_dir: &Path, function: &Function) -> Result<Entry, BuildError> {
    let handler = handler(function);
    entry::resolve(service_dir, handler).map_err(|why| match why {
        NoEntry::Malformed => BuildError::Setting {
            place: format!("functions.{}.handler", function.key),
            reason: format!("`{handler}` is not `path/to/module.function` inside the service"),
            help: "write the handler as `src/handler.main`: the file's path without extension, a dot, the exported function".into(),
        },
        NoEntry::NotFound { tried } => BuildError::NoEntry {
            function: function.key.clone(),
            handler: handler.to_string(),
            tried: tried.join(", "),
            help: "create the file, or fix the handler's path (relative to the service directory)".into(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(relative: &str) -> FileEntry {
        FileEntry {
            relative: relative.to_string(),
            source: PathBuf::from("/service").join(relative),
            size: 1,
            executable: false,
            real: None,
        }
    }

    #[test]
    fn only_named_files_that_are_not_code_or_packages_stay_beside_a_bundle() {
        let service: Vec<FileEntry> = [
            "README.md",
            "templates/page.html",
            "templates/extra.ts",
            "node_modules/ms/index.js",
            "package.json",
            "src/h.js",
        ]
        .into_iter()
        .map(entry)
        .collect();
        let bundle = entry("src/h.js");
        let selected: Vec<&FileEntry> = service.iter().collect();
        let mut files: IndexMap<&str, &FileEntry> = IndexMap::new();
        files.insert("src/h.js", &bundle);
        // As if `patterns: ['templates/**', 'package.json', 'node_modules/**', 'src/**']`.
        let named = |path: &str| path != "README.md";
        keep_alongside_bundle(&selected, &mut files, &named);
        let kept: Vec<&str> = files.keys().copied().collect();
        assert_eq!(kept, ["src/h.js", "templates/page.html"]);
        assert!(
            std::ptr::eq(files["src/h.js"], &bundle),
            "the bundle's file wins over the service's"
        );
    }
}
