//! Rust functions: the target a function is built for, whether the toolchain has it, and the
//! `cargo build` that makes the binary its handler names ([`binary`]) with serverless-rust's
//! settings ([`settings`]).

mod binary;
mod settings;

pub use binary::{packages_of, resolve_binary, Package};
pub use settings::{runtime_rust_warning, setting_warnings, settings};

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

use super::{lambda_triple, rust_arch};
use crate::manifest::model::{Architecture, Function};
use crate::package::build::{process, BuildError, BuildRequest, Purpose};

const INSTALL: &str = "install Rust from https://rustup.rs (it puts `cargo` and `rustc` on PATH)";

/// Checks that a Lambda target is for the function's architecture (`x86_64-…`, `aarch64-…`).
pub fn check_architecture(
    target: &str,
    architecture: Architecture,
    place: &str,
) -> Result<(), BuildError> {
    let wanted = rust_arch(architecture);
    if target.split('-').next() == Some(wanted) {
        return Ok(());
    }
    Err(BuildError::Setting {
        place: place.to_string(),
        reason: format!(
            "`{target}` is not a target for the function's architecture ({})",
            match architecture {
                Architecture::X86_64 => "x86_64",
                Architecture::Arm64 => "arm64",
            }
        ),
        help: format!(
            "set the function's own `rust: {{ target: {wanted}-unknown-linux-musl }}` (or another {wanted} target), or remove `target`"
        ),
    })
}

/// One `cargo build`.
#[derive(Debug, Clone, PartialEq)]
pub struct CargoBuild {
    pub manifest: PathBuf,
    pub package: String,
    pub binary: String,
    /// `--target`; none builds for this machine.
    pub target: Option<String>,
    pub profile: Option<String>,
    pub flags: Vec<String>,
    pub linker: Option<String>,
}

impl CargoBuild {
    /// `cargo build` with machine-readable messages on stdout (to learn where the binary went,
    /// whatever `CARGO_TARGET_DIR` or `build.target-dir` say) and cargo's usual errors on
    /// stderr. Cargo's own target directory is kept, so a rebuild is incremental.
    pub fn command(&self) -> Command {
        let mut command = Command::new("cargo");
        if let Some(dir) = self.manifest.parent() {
            // Where `rust-toolchain.toml` and `.cargo/config.toml` are looked up.
            command.current_dir(dir);
        }
        command
            .args(["build", "--message-format", "json-render-diagnostics"])
            .arg("--manifest-path")
            .arg(&self.manifest)
            .args(["--package", &self.package, "--bin", &self.binary]);
        match self.profile.as_deref() {
            None | Some("release") => {
                command.arg("--release");
            }
            Some("dev") => {}
            Some(profile) => {
                command.args(["--profile", profile]);
            }
        }
        if let Some(target) = &self.target {
            command.args(["--target", target]);
            if let Some(linker) = &self.linker {
                command.env(linker_variable(target), linker);
            }
        }
        command.args(&self.flags);
        command
    }
}

/// Cargo's setting of a target's linker: `CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER`.
pub fn linker_variable(target: &str) -> String {
    let name: String = target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("CARGO_TARGET_{name}_LINKER")
}

/// The program cargo reported building for `binary`, from its JSON messages.
pub fn built_program(messages: &str, binary: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter(|line| line.starts_with('{'))
        .filter_map(|line| serde_json::from_str::<Json>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == binary)
        .filter(|m| {
            m["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"))
        })
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
}

/// Runs cargo for the functions of one build, remembering what it learnt: a workspace's
/// packages, the toolchain's host, and the binaries built (two functions may share one).
#[derive(Default)]
pub struct Cargo {
    workspaces: Vec<(PathBuf, Vec<Package>, Option<String>)>,
    hosts: Vec<(PathBuf, String)>,
    built: Vec<(CargoBuild, PathBuf)>,
}

impl Cargo {
    /// Builds the binary `handler` names for `function`, and returns where cargo put it.
    pub fn build(
        &mut self,
        request: &BuildRequest<'_>,
        function: &Function,
        manifest: &Path,
        handler: &str,
    ) -> Result<PathBuf, BuildError> {
        let key = &function.key;
        let settings = settings(request.service, function)?;
        let crate_dir = manifest.parent().unwrap_or(Path::new("."));
        let (packages, own) = self.workspace(request, manifest, key)?;
        let (package, binary) = resolve_binary(&packages, own.as_deref(), handler).map_err(
            |reason| BuildError::Setting {
                place: format!("functions.{key}.handler"),
                reason: format!("{reason} (in {})", manifest.display()),
                help: "name the binary as serverless-rust does: `handler: package-name.binary-name`, or `handler: binary-name`".into(),
            },
        )?;
        let target = match request.purpose {
            Purpose::Local => None,
            Purpose::Lambda => {
                let (target, place) = settings.target.clone().unwrap_or_else(|| {
                    (
                        lambda_triple(function.architecture),
                        format!("functions.{key}.architecture"),
                    )
                });
                if !target.ends_with(".json") {
                    check_architecture(&target, function.architecture, &place)?;
                }
                let host = self.host(request, crate_dir, key)?;
                if host == target {
                    None
                } else {
                    if !target.ends_with(".json") {
                        check_installed(request, crate_dir, key, &target, &host)?;
                    }
                    Some(target)
                }
            }
        };
        let cross = target.clone();
        let plan = CargoBuild {
            manifest: manifest.to_path_buf(),
            package,
            binary: binary.clone(),
            target,
            profile: settings.profile,
            flags: settings.cargo_flags,
            linker: settings.linker,
        };
        if let Some((_, program)) = self.built.iter().find(|(done, _)| *done == plan) {
            return Ok(program.clone());
        }
        let what = format!("cargo build of `{binary}` for function `{key}`");
        let help = match &cross {
            Some(target) => format!(
                "fix what cargo reports above; building for {target} also needs a linker for it (`custom.rust.linker`, or {})",
                linker_variable(target)
            ),
            None => "fix what cargo reports above, then run the command again".to_string(),
        };
        let ran = process::run(request, plan.command(), &what, &help, INSTALL)
            .map_err(without_messages)?;
        let program = built_program(&ran.stdout, &binary).ok_or_else(|| BuildError::Failed {
            what,
            status: None,
            output: format!("cargo did not report building the binary `{binary}`"),
            help: "check that the binary builds with `cargo build --release --bin` in the crate"
                .into(),
        })?;
        self.built.push((plan, program.clone()));
        Ok(program)
    }

    /// The workspace's packages and the name of the one at `manifest` (none for a virtual
    /// manifest), read once per manifest.
    fn workspace(
        &mut self,
        request: &BuildRequest<'_>,
        manifest: &Path,
        function: &str,
    ) -> Result<(Vec<Package>, Option<String>), BuildError> {
        if let Some((_, packages, own)) = self.workspaces.iter().find(|(m, ..)| m == manifest) {
            return Ok((packages.clone(), own.clone()));
        }
        let mut command = Command::new("cargo");
        command
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .arg("--manifest-path")
            .arg(manifest);
        if let Some(dir) = manifest.parent() {
            command.current_dir(dir);
        }
        let what = format!("cargo metadata for function `{function}`");
        let help = format!(
            "fix {} so that `cargo metadata` reads it",
            manifest.display()
        );
        let ran = process::run(request, command, &what, &help, INSTALL)?;
        let (packages, own) =
            packages_of(&ran.stdout, manifest).map_err(|reason| BuildError::Read {
                path: manifest.to_path_buf(),
                reason,
            })?;
        self.workspaces
            .push((manifest.to_path_buf(), packages.clone(), own.clone()));
        Ok((packages, own))
    }

    /// The host triple of the toolchain that builds in `dir` (`rustc -vV`).
    fn host(
        &mut self,
        request: &BuildRequest<'_>,
        dir: &Path,
        function: &str,
    ) -> Result<String, BuildError> {
        if let Some((_, host)) = self.hosts.iter().find(|(d, _)| d == dir) {
            return Ok(host.clone());
        }
        let mut command = rustc();
        command.arg("-vV").current_dir(dir);
        let what = format!("rustc for function `{function}`");
        let ran = process::run(request, command, &what, INSTALL, INSTALL)?;
        let host = ran
            .stdout
            .lines()
            .find_map(|line| line.strip_prefix("host: "))
            .map(|host| host.trim().to_string())
            .unwrap_or_default();
        self.hosts.push((dir.to_path_buf(), host.clone()));
        Ok(host)
    }
}

/// `rustc`, or the one `RUSTC` names (as cargo would use).
fn rustc() -> Command {
    Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
}

/// Fails with the command to install `target` when the toolchain has no standard library
/// for it (`{sysroot}/lib/rustlib/{target}/lib`).
fn check_installed(
    request: &BuildRequest<'_>,
    dir: &Path,
    function: &str,
    target: &str,
    host: &str,
) -> Result<(), BuildError> {
    let mut command = rustc();
    command.args(["--print", "sysroot"]).current_dir(dir);
    let what = format!("rustc for function `{function}`");
    let ran = process::run(request, command, &what, INSTALL, INSTALL)?;
    let sysroot = PathBuf::from(ran.stdout.trim());
    if sysroot
        .join("lib/rustlib")
        .join(target)
        .join("lib")
        .is_dir()
    {
        return Ok(());
    }
    Err(BuildError::MissingTarget {
        function: function.to_string(),
        target: target.to_string(),
        install: install_target_help(target, host),
    })
}

/// What installing a target takes: `rustup target add`, and for another architecture a linker.
pub fn install_target_help(target: &str, host: &str) -> String {
    let arch = target.split('-').next().unwrap_or_default();
    let same_arch = host.split('-').next() == Some(arch);
    let mut help = format!("run `rustup target add {target}`");
    if !same_arch {
        let here = if arch == "aarch64" { "x86_64" } else { "arm64" };
        help.push_str(&format!(
            ", and install a linker for {arch} Linux (on Debian or Ubuntu `apt-get install gcc-{}-linux-gnu`, then `custom.rust.linker: {arch}-linux-gnu-gcc` or {}); or give the function `architecture: {here}`, which this machine builds for without either",
            arch.replace('_', "-"),
            linker_variable(target)
        ));
    }
    help
}

/// A failed cargo build's output without the JSON lines meant for updraft, leaving cargo's
/// own error messages.
fn without_messages(error: BuildError) -> BuildError {
    match error {
        BuildError::Failed {
            what,
            status,
            output,
            help,
        } => BuildError::Failed {
            what,
            status,
            output: output
                .lines()
                .filter(|line| !line.starts_with("{\"reason\""))
                .collect::<Vec<_>>()
                .join("\n"),
            help,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests;
