//! Compiles with the service's own `tsc`, as serverless-plugin-typescript does: one program of
//! every function's handler (and what they import), with the service's `tsconfig.json`, into
//! `.serverless/build/tsc/`, laid out as the sources are (`src/h.ts` becomes `src/h.js`) with
//! the service's `package.json` beside it. Every function's code is that folder; the service's
//! production `node_modules` go along in the artifact (its patterns apply to them), and locally
//! Node finds them in the service directory above the folder.
//!
//! tsc runs with a generated configuration that extends the service's and sets only what the
//! build needs (the root files, `outDir`, `rootDir`, emitting JavaScript). The
//! [`stamp`](super::stamp) skips the compile when no source, declaration or JSON file of the
//! service, its tsconfig, package.json or lockfile changed.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use super::super::{process, tree_of, BuildError, BuildRequest, BuildWarning, BuiltTree, Purpose};
use super::entry::Entry;
use super::{place_files, stamp};
use crate::package::node_deps;
use crate::package::select::Selector;
use crate::package::walk::{self, FileEntry};

pub const INSTALL: &str = "npm install --save-dev typescript";

const LOCKFILES: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
];

/// What a tsc program may read from the service: its sources, declarations and JSON modules.
/// Any of them changing rebuilds (tsc does not say which files it read without also printing
/// them where its errors go).
fn is_program_file(relative: &str) -> bool {
    super::entry::SOURCE_EXTENSIONS
        .iter()
        .chain(&[".jsx", ".json"])
        .any(|extension| relative.ends_with(extension))
}

/// serverless-plugin-typescript's settings when the service has no tsconfig.json, brought up
/// to date (its own target, ES5, predates async functions on Lambda).
fn default_compiler_options() -> serde_json::Value {
    json!({
        "target": "ES2020",
        "module": "commonjs",
        "moduleResolution": "node",
        "esModuleInterop": true,
        "preserveConstEnums": true,
        "strictNullChecks": true,
        "sourceMap": true,
        "skipLibCheck": true
    })
}

/// Compiles `entries` (the functions' handlers) and returns the shared code tree.
pub fn compile(
    request: &BuildRequest<'_>,
    program: &Path,
    entries: &[Entry],
    alongside: &[FileEntry],
    selector: &Selector,
    warnings: &mut Vec<BuildWarning>,
) -> Result<BuiltTree, BuildError> {
    let service_dir = request.service_dir;
    // Absolute: the generated configuration's paths are read relative to where it is.
    let output = request.build_dir("tsc");
    let output = std::path::absolute(&output).unwrap_or(output);
    let parent = output.parent().unwrap_or(&output).to_path_buf();
    std::fs::create_dir_all(&parent).map_err(|error| BuildError::Write {
        path: parent.clone(),
        reason: error.to_string(),
    })?;
    let mut roots: Vec<&str> = entries.iter().map(|e| e.source.as_str()).collect();
    roots.sort();
    roots.dedup();
    let tsconfig = service_dir.join("tsconfig.json");
    let mut key = stamp::Key::new("tsc-1");
    key.program(program)
        .text(&roots.join("\0"))
        .file(&tsconfig)
        .file(&service_dir.join("package.json"));
    // Type declarations come from the installed packages: a changed install rebuilds.
    for lockfile in LOCKFILES {
        key.file(&service_dir.join(lockfile));
    }
    for file in alongside {
        key.text(&file.relative);
    }
    let key = key.finish();
    if !stamp::is_fresh(&output, &key, service_dir) {
        let staging = process::staging(&output)?;
        match run(request, program, &roots, &tsconfig, &staging, alongside) {
            Ok(()) => {
                let mut inputs: Vec<String> = super::service_files(service_dir)
                    .into_iter()
                    .map(|file| file.relative)
                    .filter(|name| is_program_file(name))
                    .collect();
                inputs.extend(alongside.iter().map(|f| f.relative.clone()));
                stamp::remove(&output);
                if let Err(error) = process::publish(&staging, &output) {
                    let _ = std::fs::remove_dir_all(&staging);
                    return Err(error);
                }
                stamp::write(&output, key, service_dir, inputs);
            }
            Err(error) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(error);
            }
        }
    }
    let mut tree = tree_of(&output)?;
    // Locally Node finds them in the service directory above the build folder.
    if request.purpose == Purpose::Lambda {
        tree.files
            .extend(production_node_modules(service_dir, selector, warnings)?);
    }
    tree.files.sort_by(|a, b| a.relative.cmp(&b.relative));
    tree.files.dedup_by(|a, b| a.relative == b.relative);
    Ok(tree)
}

/// Runs tsc into `staging` (an absolute path), with the service's package.json and the files
/// kept beside the output.
fn run(
    request: &BuildRequest<'_>,
    program: &Path,
    roots: &[&str],
    tsconfig: &Path,
    staging: &Path,
    alongside: &[FileEntry],
) -> Result<(), BuildError> {
    let service_dir = request.service_dir;
    let root = std::path::absolute(service_dir).unwrap_or_else(|_| service_dir.to_path_buf());
    let absolute = |relative: &str| root.join(relative).to_string_lossy().into_owned();
    let mut compiler_options = json!({
        "outDir": staging.to_string_lossy(),
        "rootDir": root.to_string_lossy(),
        "noEmit": false,
        "emitDeclarationOnly": false,
        "declaration": false,
        "declarationMap": false,
        "composite": false,
        "incremental": false,
        "noEmitOnError": true
    });
    if roots
        .iter()
        .any(|r| !r.ends_with("ts") && !r.ends_with("tsx"))
    {
        compiler_options["allowJs"] = json!(true);
    }
    let mut config = json!({
        "compilerOptions": compiler_options,
        "files": roots.iter().map(|r| absolute(r)).collect::<Vec<_>>(),
        "include": []
    });
    if tsconfig.is_file() {
        config["extends"] = json!(absolute("tsconfig.json"));
    } else if let (Some(target), Some(defaults)) = (
        config["compilerOptions"].as_object_mut(),
        default_compiler_options().as_object().cloned(),
    ) {
        for (name, value) in defaults {
            target.entry(name).or_insert(value);
        }
    }
    // The generated configuration sits outside the folder being built, so it is not emitted
    // into it, and is removed however tsc ends.
    let generated = staging.with_extension("tsconfig.json");
    std::fs::write(&generated, config.to_string()).map_err(|error| BuildError::Write {
        path: generated.clone(),
        reason: error.to_string(),
    })?;
    let mut command = Command::new(program);
    command
        .current_dir(service_dir)
        .arg("--project")
        .arg(&generated)
        .args(["--pretty", "false"]);
    let ran = process::run(
        request,
        command,
        "tsc (serverless-plugin-typescript)",
        "fix the errors tsc lists above (file(line,column)), then run the command again",
        INSTALL,
    );
    let _ = std::fs::remove_file(&generated);
    ran?;
    // As the plugin does: the package's `type` decides how Node loads the compiled `.js`.
    let manifest = service_dir.join("package.json");
    if manifest.is_file() {
        let copy = staging.join("package.json");
        std::fs::copy(&manifest, &copy).map_err(|error| BuildError::Write {
            path: copy.clone(),
            reason: error.to_string(),
        })?;
    }
    place_files(alongside, staging)?;
    Ok(())
}

/// The service's production packages (its package patterns applied, as in any artifact).
fn production_node_modules(
    service_dir: &Path,
    selector: &Selector,
    warnings: &mut Vec<BuildWarning>,
) -> Result<Vec<FileEntry>, BuildError> {
    let node_modules = service_dir.join("node_modules");
    if !node_modules.is_dir() {
        return Ok(Vec::new());
    }
    let filter = node_deps::production_filter(service_dir)?;
    for warning in filter.warnings() {
        warnings.push(BuildWarning {
            message: warning.to_string(),
            help: "the compiled functions load these packages at run time".into(),
        });
    }
    let listed = walk::walk(&node_modules).map_err(|error| BuildError::Read {
        path: node_modules.clone(),
        reason: error.to_string(),
    })?;
    let files: Vec<FileEntry> = listed
        .files
        .into_iter()
        .map(|file| FileEntry {
            relative: format!("node_modules/{}", file.relative),
            real: None,
            ..file
        })
        .collect();
    let selected = selector.select(&files, &filter, "the compiled service");
    Ok(selected.files.into_iter().cloned().collect())
}
