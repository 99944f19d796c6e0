//! Installs a service's requirements with pip into a cache entry keyed by everything that
//! changes the result (the input files' bytes, the platform and Python version, the options),
//! then leaves out the `noDeploy` packages and applies `slim`. A cached entry is used as it is,
//! running no program; a new one is built in a temporary folder renamed into place, so an
//! interrupted or failed install leaves no entry behind.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::inputs::{self, Input, Kind};
use super::options::Options;
use super::{diagnose, exports};
use crate::manifest::model::Architecture;
use crate::package::build::{process, tree_of, BuildError, BuildRequest, BuiltTree};

/// Bumped when the layout or the post-processing of an entry changes: old entries are not used.
const CACHE_FORMAT: &str = "updraft python requirements 1";
/// A temporary folder older than this was left by a killed run: it is removed.
const ABANDONED_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Where the requirements are installed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Lambda: wheels for this Python version (`3.12`) and architecture.
    Lambda {
        python_version: String,
        architecture: Architecture,
    },
    /// This machine, with the interpreter that runs the function.
    Local,
}

impl Target {
    /// pip's `--platform` values: manylinux2014 (glibc 2.17, which every Lambda Python runtime
    /// has) first, so it is preferred; runtimes on Amazon Linux 2023 (Python 3.12 and later,
    /// glibc 2.34) also take manylinux_2_28 wheels, which some packages publish alone.
    pub fn platforms(&self) -> Vec<String> {
        let Target::Lambda {
            python_version,
            architecture,
        } = self
        else {
            return Vec::new();
        };
        let machine = match architecture {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "aarch64",
        };
        let mut platforms = vec![format!("manylinux2014_{machine}")];
        let minor = python_version
            .strip_prefix("3.")
            .and_then(|m| m.parse::<u32>().ok());
        if minor.is_some_and(|m| m >= 12) {
            platforms.push(format!("manylinux_2_28_{machine}"));
        }
        platforms
    }

    /// As errors name it: `manylinux2014_x86_64, CPython 3.12`.
    pub fn describe(&self) -> Option<String> {
        match self {
            Target::Lambda { python_version, .. } => Some(format!(
                "{}, CPython {python_version}",
                self.platforms().first().cloned().unwrap_or_default()
            )),
            Target::Local => None,
        }
    }
}

/// The Python that runs pip: `UPDRAFT_PYTHON`, else `python3`, as the offline engine chooses
/// the one that runs functions.
pub fn interpreter() -> PathBuf {
    std::env::var_os("UPDRAFT_PYTHON")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// `$XDG_CACHE_HOME/updraft/python-requirements`, else under `~/.cache`, else the temporary
/// directory (the same base as the offline engine's runtime cache).
pub fn cache_root() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("updraft")
        .join("python-requirements")
}

/// The cache key: a digest of everything that changes what is installed.
pub fn cache_key(input: &Input, options: &Options, target: &str) -> String {
    let mut hasher = Sha256::new();
    let mut field = |name: &str, value: &[u8]| {
        hasher.update(name.as_bytes());
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value);
    };
    field("format", CACHE_FORMAT.as_bytes());
    field("target", target.as_bytes());
    field("input", &input.fingerprint);
    field("options", format!("{options:?}").as_bytes());
    hex::encode(&hasher.finalize()[..16])
}

/// The functions an install is for, as errors name them.
pub fn functions_label(functions: &[String]) -> String {
    let quoted: Vec<String> = functions.iter().map(|f| format!("`{f}`")).collect();
    match quoted.len() {
        1 => format!("function {}", quoted[0]),
        _ => format!("functions {}", quoted.join(", ")),
    }
}

/// The installed requirements for `target`, from the cache or installed now; `None` when the
/// input lists nothing to install.
pub fn installed(
    request: &BuildRequest<'_>,
    input: &Input,
    options: &Options,
    target: &Target,
    functions: &[String],
) -> Result<Option<BuiltTree>, BuildError> {
    let python = interpreter();
    let functions = functions_label(functions);
    let identity = match target {
        Target::Lambda { .. } => format!("lambda {target:?} {}", target.platforms().join(" ")),
        Target::Local => local_identity(request, &python, &functions)?,
    };
    let root = cache_root();
    let entry = root.join(cache_key(input, options, &identity));
    let packages = entry.join("packages");
    if !packages.is_dir() {
        remove_abandoned(&root);
        let staging = process::staging(&entry)?;
        let built = build_entry(
            request, input, options, target, &python, &functions, &staging,
        );
        if let Err(error) = built.and_then(|()| process::publish(&staging, &entry)) {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error);
        }
    }
    let tree = tree_of(&packages)?;
    Ok((!tree.files.is_empty()).then_some(tree))
}

/// Installs into `staging/packages`, with the requirements text pip was given beside it.
fn build_entry(
    request: &BuildRequest<'_>,
    input: &Input,
    options: &Options,
    target: &Target,
    python: &Path,
    functions: &str,
    staging: &Path,
) -> Result<(), BuildError> {
    let text = match input.kind {
        Kind::UvLock => exports::export(request, exports::uv(), "uv", functions, &input.label)?,
        Kind::PoetryLock => exports::export(
            request,
            exports::poetry(options),
            "poetry",
            functions,
            &input.label,
        )?,
        _ => inputs::requirements_text(request.service_dir, input, options)?.unwrap_or_default(),
    };
    // Locally the `noDeploy` packages stay: Lambda's runtime provides the usual ones (boto3),
    // this machine's Python may not.
    let text = match target {
        Target::Lambda { .. } => inputs::without_no_deploy(&text, &options.no_deploy),
        Target::Local => inputs::without_no_deploy(&text, &[]),
    };
    let requirements = staging.join("requirements.txt");
    let packages = staging.join("packages");
    let write = |path: &Path, result: std::io::Result<()>| {
        result.map_err(|error| BuildError::Write {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })
    };
    write(&requirements, std::fs::write(&requirements, &text))?;
    write(&packages, std::fs::create_dir_all(&packages))?;
    let has_requirements = text
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim().starts_with('-'))
        || text
            .lines()
            .any(|l| l.trim().starts_with("-e") || l.trim().starts_with("--editable"));
    if !has_requirements {
        return Ok(());
    }
    let mut command = Command::new(python);
    command
        .current_dir(request.service_dir)
        .args(["-m", "pip", "install", "--requirement"])
        .arg(&requirements)
        .arg("--target")
        .arg(&packages)
        .args([
            "--no-compile",
            "--disable-pip-version-check",
            "--no-input",
            "--quiet",
        ])
        .env("PIP_ROOT_USER_ACTION", "ignore")
        .env("PIP_REQUIRE_VIRTUALENV", "false")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    if let Target::Lambda { python_version, .. } = target {
        for platform in target.platforms() {
            command.args(["--platform", &platform]);
        }
        command.args([
            "--implementation",
            "cp",
            "--python-version",
            python_version,
            "--only-binary=:all:",
        ]);
    }
    command.args(&options.pip_extra_args);
    let what = format!("pip install of {} for {functions}", input.label);
    let help = format!("fix the requirement pip names above in {}", input.label);
    let install = "install Python 3 with pip, or set UPDRAFT_PYTHON to a Python that has pip";
    if let Err(error) = process::run(request, command, &what, &help, install) {
        let description = target.describe();
        let context = diagnose::Context {
            functions,
            file: &input.label,
            platform: description.as_deref(),
            python,
            index_args: index_args(&text, &options.pip_extra_args),
        };
        return Err(diagnose::failure(request, &context, error));
    }
    if let Target::Lambda { .. } = target {
        super::no_deploy::remove_distributions(&packages, &options.no_deploy)?;
    }
    if options.slim {
        super::slim::remove_patterns(&packages, &options.slim_patterns)?;
        if options.strip && matches!(target, Target::Lambda { .. }) {
            super::slim::strip_libraries(request, &packages)?;
        }
    }
    Ok(())
}

/// What identifies this machine's interpreter: its version, place and machine type.
fn local_identity(
    request: &BuildRequest<'_>,
    python: &Path,
    functions: &str,
) -> Result<String, BuildError> {
    let mut command = Command::new(python);
    command.args([
        "-c",
        "import platform, sys; print(sys.version); print(sys.executable); print(platform.machine())",
    ]);
    let what = format!("asking {} its version for {functions}", python.display());
    let install = "install Python 3, or set UPDRAFT_PYTHON to the Python that runs the function";
    let ran = process::run(
        request,
        command,
        &what,
        "check that this Python runs",
        install,
    )?;
    Ok(format!("local {}", ran.stdout.trim()))
}

/// The index options of the requirements text and the extra pip arguments, for asking the same
/// index about a missing requirement.
fn index_args(text: &str, extra: &[String]) -> Vec<String> {
    const FLAGS: &[&str] = &[
        "--index-url",
        "-i",
        "--extra-index-url",
        "--find-links",
        "-f",
    ];
    let mut args = Vec::new();
    for line in text.lines().map(str::trim) {
        for flag in FLAGS {
            if let Some(value) = line
                .strip_prefix(flag)
                .filter(|v| v.starts_with([' ', '=']))
            {
                args.push(flag.to_string());
                args.push(value.trim_start_matches('=').trim().to_string());
            }
        }
    }
    let mut extra = extra.iter();
    while let Some(argument) = extra.next() {
        if FLAGS.contains(&argument.as_str()) {
            if let Some(value) = extra.next() {
                args.push(argument.clone());
                args.push(value.clone());
            }
        } else if argument == "--no-index" {
            args.push(argument.clone());
        }
    }
    args
}

/// Removes temporary folders that a killed run left in the cache.
fn remove_abandoned(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let abandoned =
            (name.starts_with('.') && name.contains(".partial-")) || name.contains(".old-");
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > ABANDONED_AFTER);
        if abandoned && old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(bytes: &[u8]) -> Input {
        Input {
            kind: Kind::RequirementsFile(PathBuf::from("requirements.txt")),
            label: "requirements.txt".into(),
            fingerprint: bytes.to_vec(),
        }
    }

    #[test]
    fn the_cache_key_changes_with_each_input_and_only_then() {
        let options = Options::default();
        let base = cache_key(&input(b"attrs==23.2.0\n"), &options, "lambda x86_64 3.12");
        assert_eq!(
            base,
            cache_key(&input(b"attrs==23.2.0\n"), &options, "lambda x86_64 3.12")
        );
        assert_ne!(
            base,
            cache_key(&input(b"attrs==23.1.0\n"), &options, "lambda x86_64 3.12")
        );
        assert_ne!(
            base,
            cache_key(&input(b"attrs==23.2.0\n"), &options, "lambda aarch64 3.12")
        );
        assert_ne!(
            base,
            cache_key(&input(b"attrs==23.2.0\n"), &options, "lambda x86_64 3.13")
        );
        let slim = Options {
            slim: true,
            ..Options::default()
        };
        assert_ne!(
            base,
            cache_key(&input(b"attrs==23.2.0\n"), &slim, "lambda x86_64 3.12")
        );
        let no_deploy = Options {
            no_deploy: vec!["six".into()],
            ..Options::default()
        };
        assert_ne!(
            base,
            cache_key(&input(b"attrs==23.2.0\n"), &no_deploy, "lambda x86_64 3.12")
        );
    }

    #[test]
    fn lambda_platforms_follow_the_architecture_and_the_runtimes_glibc() {
        let target = |version: &str, architecture| Target::Lambda {
            python_version: version.into(),
            architecture,
        };
        assert_eq!(
            target("3.11", Architecture::X86_64).platforms(),
            vec!["manylinux2014_x86_64"]
        );
        assert_eq!(
            target("3.12", Architecture::Arm64).platforms(),
            vec!["manylinux2014_aarch64", "manylinux_2_28_aarch64"]
        );
        assert_eq!(
            target("3.12", Architecture::X86_64).describe().as_deref(),
            Some("manylinux2014_x86_64, CPython 3.12")
        );
        assert!(Target::Local.platforms().is_empty());
    }

    #[test]
    fn index_options_are_kept_for_asking_the_index() {
        let text =
            "--index-url https://a.invalid/simple\nattrs\n--extra-index-url=https://b.invalid\n";
        let extra = vec![
            "--find-links".to_string(),
            "wheels".to_string(),
            "--pre".to_string(),
        ];
        assert_eq!(
            index_args(text, &extra),
            vec![
                "--index-url",
                "https://a.invalid/simple",
                "--extra-index-url",
                "https://b.invalid",
                "--find-links",
                "wheels"
            ]
        );
    }
}
