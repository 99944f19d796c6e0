//! `provided*` functions written in Rust or Go, compiled into a `bootstrap`: the jobs of
//! serverless-rust and serverless-go-plugin, done with the machine's own `cargo` and `go`.
//!
//! A function is compiled when its runtime is `provided*` (its own, else the provider's) and a
//! `Cargo.toml` or `go.mod` is found in the handler's directory or one above it, up to the
//! service directory; the nearest one decides the language. [`rust`] and [`go`] build the
//! program; this module finds the sources, and puts the program as
//! `.serverless/build/{rust,go}/{function}/bootstrap` through a temporary folder, so a failed
//! build leaves the previous one (or nothing) in place.
//!
//! The `bootstrap` stands in for the service's files: the function's zip holds only it (as
//! serverless-rust's does), and locally its folder is the task root. Functions with a
//! `package.artifact` (their own, or the service's for functions packaged with it) and services
//! that ship a ready `bootstrap` without a `Cargo.toml` or `go.mod` are not built.
//!
//! For Lambda the program is built for the function's architecture; for `invoke local` and
//! `offline` it is built for this machine, so it runs here whatever the function's
//! architecture.

mod glibc;
mod go;
mod rust;

use std::path::{Component, Path, PathBuf};

use super::{process, tree_of, BuildRequest, BuildWarning, FunctionBuild, Purpose};
use crate::manifest::model::{Architecture, Cloud, Function, Service};
use crate::package::build::BuildError;

/// What a function's sources are, as found beside its handler.
#[derive(Debug, Clone, PartialEq)]
enum Sources {
    /// A Cargo package or workspace: its `Cargo.toml`, and the handler's last name (a binary,
    /// `package.binary`, a package, or anything when there is one binary).
    Rust { manifest: PathBuf, handler: String },
    /// A Go module: its folder, and the package to build (`.` or `./functions/hello`).
    Go { module: PathBuf, package: String },
}

/// Compiles every `provided*` function that has Rust or Go sources.
pub fn build(
    request: &BuildRequest<'_>,
    warnings: &mut Vec<BuildWarning>,
) -> Result<Vec<(String, FunctionBuild)>, BuildError> {
    let service = request.service;
    if service.provider.cloud != Cloud::Aws {
        return Ok(Vec::new());
    }
    // Absolute and without `..`, so that "inside the service" is a prefix test.
    let service_dir = normalise(
        &std::path::absolute(request.service_dir)
            .unwrap_or_else(|_| request.service_dir.to_path_buf()),
    );
    let go_base = normalise(&service_dir.join(go::base_dir(service)?));
    let mut cargo = rust::Cargo::default();
    let mut built = Vec::new();
    let mut rust_settings_seen = false;
    let mut go_settings_seen = false;
    for function in request.functions() {
        if request.is_interrupted() {
            return Err(BuildError::Interrupted);
        }
        let runtime = function.runtime.as_deref().unwrap_or_default();
        if runtime == "rust" {
            warnings.push(rust::runtime_rust_warning(&function.key));
            continue;
        }
        if !runtime.starts_with("provided") || is_prebuilt(service, function) {
            continue;
        }
        let handler = function.handler.as_deref().unwrap_or("bootstrap");
        let Some(sources) = find_sources(&service_dir, &go_base, handler) else {
            continue;
        };
        let (step, tree) = match sources {
            Sources::Rust { manifest, handler } => {
                if !rust_settings_seen {
                    warnings.extend(rust::setting_warnings(service));
                    rust_settings_seen = true;
                }
                let program = cargo.build(request, function, &manifest, &handler)?;
                let tree = publish_bootstrap(request, "rust", &function.key, |bootstrap| {
                    std::fs::copy(&program, bootstrap).map(|_| ())
                })?;
                ("rust", tree)
            }
            Sources::Go { module, package } => {
                if !go_settings_seen {
                    warnings.extend(go::setting_warnings(service));
                    go_settings_seen = true;
                }
                let target = match request.purpose {
                    Purpose::Lambda => Some(function.architecture),
                    Purpose::Local => None,
                };
                let cgo = go::cgo(service)?;
                let tree = publish_bootstrap_with(request, "go", &function.key, |bootstrap| {
                    let build = go::GoBuild {
                        module: module.clone(),
                        package: package.clone(),
                        architecture: target,
                        cgo,
                        output: bootstrap.to_path_buf(),
                    };
                    let what = format!("go build for function `{}`", function.key);
                    process::run(
                        request,
                        build.command(),
                        &what,
                        go::FAILED_HELP,
                        go::INSTALL,
                    )
                    .map(|_| ())
                })?;
                ("go", tree)
            }
        };
        if request.purpose == Purpose::Lambda {
            warnings.extend(glibc::check(function, runtime, step, &tree));
        }
        built.push((
            function.key.clone(),
            FunctionBuild {
                code: Some(tree),
                extra: Vec::new(),
                individually: true,
            },
        ));
    }
    Ok(built)
}

/// The function is deployed from a zip the user made: its own `package.artifact`, or the
/// service's when the function is packaged with the service.
fn is_prebuilt(service: &Service, function: &Function) -> bool {
    function.package.artifact.is_some()
        || (service.package.artifact.is_some()
            && !service.package.individually
            && !function.package.individually)
}

/// The Lambda target's architecture name in Rust's and Go's spelling.
pub fn rust_arch(architecture: Architecture) -> &'static str {
    match architecture {
        Architecture::X86_64 => "x86_64",
        Architecture::Arm64 => "aarch64",
    }
}

/// The Rust target a function is built for on Lambda unless `rust.target` says otherwise.
pub fn lambda_triple(architecture: Architecture) -> String {
    format!("{}-unknown-linux-gnu", rust_arch(architecture))
}

/// Finds the `Cargo.toml` or `go.mod` nearest the handler's directory, looking no higher than
/// the service directory. Go handlers are read from `custom.go.baseDir` when it is set, as
/// serverless-go-plugin reads them; at equal distance a `.go` handler picks Go, else Rust.
fn find_sources(service_dir: &Path, go_base: &Path, handler: &str) -> Option<Sources> {
    let (rust_dir, name) = handler_place(service_dir, service_dir, handler);
    let (go_dir, _) = handler_place(service_dir, go_base, handler);
    let cargo = nearest(service_dir, &rust_dir, "Cargo.toml");
    let go_mod = nearest(service_dir, &go_dir, "go.mod");
    let depth = |dir: &Path| dir.components().count();
    let pick_go = match (&cargo, &go_mod) {
        (None, None) => return None,
        (Some(_), None) => false,
        (None, Some(_)) => true,
        (Some(cargo), Some(module)) => {
            depth(module) > depth(cargo)
                || (depth(module) == depth(cargo) && handler.ends_with(".go"))
        }
    };
    if pick_go {
        let module = go_mod?;
        let package = go_package(&module, &go_dir);
        Some(Sources::Go { module, package })
    } else {
        Some(Sources::Rust {
            manifest: cargo?.join("Cargo.toml"),
            handler: name,
        })
    }
}

/// The handler's directory (under `base`, kept inside the service directory) and its last
/// name: `functions/hello/main.go` is in `functions/hello`; a handler naming a directory
/// (`./functions/hello`) is that directory; `crate.binary` and `bootstrap` are in `base`.
fn handler_place(service_dir: &Path, base: &Path, handler: &str) -> (PathBuf, String) {
    let path = normalise(&base.join(handler.trim_start_matches("./")));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = if path.is_dir() {
        path.clone()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    if dir.starts_with(service_dir) {
        (dir, name)
    } else {
        (service_dir.to_path_buf(), name)
    }
}

/// The nearest folder from `start` up to `service_dir` that holds `file`.
fn nearest(service_dir: &Path, start: &Path, file: &str) -> Option<PathBuf> {
    start
        .ancestors()
        .take_while(|dir| dir.starts_with(service_dir))
        .find(|dir| dir.join(file).is_file())
        .map(Path::to_path_buf)
}

/// The package path `go build` is given: the handler's directory relative to the module.
fn go_package(module: &Path, handler_dir: &Path) -> String {
    let relative = handler_dir.strip_prefix(module).unwrap_or(Path::new(""));
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        ".".to_string()
    } else {
        format!("./{}", parts.join("/"))
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system (the handler may name a file that
/// does not exist, such as `bootstrap`).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Writes a function's `bootstrap` with `write` into a temporary folder, makes it executable
/// and moves the folder to `.serverless/build/{step}/{function}`.
fn publish_bootstrap(
    request: &BuildRequest<'_>,
    step: &str,
    function: &str,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<super::BuiltTree, BuildError> {
    publish_bootstrap_with(request, step, function, |bootstrap| {
        write(bootstrap).map_err(|error| BuildError::Write {
            path: bootstrap.to_path_buf(),
            reason: error.to_string(),
        })
    })
}

fn publish_bootstrap_with(
    request: &BuildRequest<'_>,
    step: &str,
    function: &str,
    write: impl FnOnce(&Path) -> Result<(), BuildError>,
) -> Result<super::BuiltTree, BuildError> {
    let folder = request.build_dir(step).join(function);
    let parent = request.build_dir(step);
    std::fs::create_dir_all(&parent).map_err(|error| BuildError::Write {
        path: parent.clone(),
        reason: error.to_string(),
    })?;
    let staging = process::staging(&folder)?;
    let bootstrap = staging.join("bootstrap");
    let written = write(&bootstrap).and_then(|()| make_executable(&bootstrap));
    if let Err(error) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(error);
    }
    if let Err(error) = process::publish(&staging, &folder) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(error);
    }
    tree_of(&folder)
}

/// `rwxr-xr-x`: Lambda runs the `bootstrap` as another user than the one who zipped it.
fn make_executable(path: &Path) -> Result<(), BuildError> {
    let failure = |reason: String| BuildError::Write {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_file() {
        return Err(failure("the build made no such file".to_string()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(|error| failure(error.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
