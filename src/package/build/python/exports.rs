//! The requirements of a uv.lock or poetry.lock, as their own tools export them (`uv export`,
//! `poetry export`): run only when an install is not cached, since the cache key is made from
//! the lock files themselves.

use std::process::Command;

use super::options::Options;
use crate::package::build::{process, BuildError, BuildRequest};

/// `uv export` of uv.lock without the project itself (its own files are packaged already, and
/// pip cannot install it editable into a --target folder) and without hashes, as the plugin
/// exports it.
pub fn uv() -> Command {
    let mut command = Command::new("uv");
    command.args([
        "export",
        "--frozen",
        "--no-dev",
        "--no-hashes",
        "--no-emit-project",
    ]);
    command
}

/// `poetry export` of poetry.lock, with the groups the options ask for.
pub fn poetry(options: &Options) -> Command {
    let mut command = Command::new("poetry");
    command.args(["export", "--without-hashes", "--format", "requirements.txt"]);
    for (flag, groups) in [
        ("--with", &options.poetry_with),
        ("--without", &options.poetry_without),
        ("--only", &options.poetry_only),
    ] {
        if !groups.is_empty() {
            command.args([flag, &groups.join(",")]);
        }
    }
    command
}

/// A lock file's requirements, as its tool exports them.
pub fn export(
    request: &BuildRequest<'_>,
    mut command: Command,
    tool: &str,
    functions: &str,
    lock: &str,
) -> Result<String, BuildError> {
    command.current_dir(request.service_dir);
    let (install, help) = match tool {
        "uv" => (
            "install uv (`python3 -m pip install uv`), or keep a requirements.txt beside \
             pyproject.toml: it is used first",
            "run `uv lock` if uv.lock is out of date with pyproject.toml",
        ),
        _ => (
            "install Poetry with its export plugin (`pipx install poetry && poetry self add \
             poetry-plugin-export`), or keep a requirements.txt beside pyproject.toml: it is \
             used first",
            "Poetry 2 needs its export plugin (`poetry self add poetry-plugin-export`); run \
             `poetry lock` if poetry.lock is out of date with pyproject.toml",
        ),
    };
    let what = format!("`{tool} export` of {lock} for {functions}");
    Ok(process::run(request, command, &what, help, install)?.stdout)
}
