//! Go functions: the `go build` that makes a `bootstrap` from the handler's package, and
//! serverless-go-plugin's settings under `custom.go` (`baseDir`, `cgo`; its `cmd` is not run).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value as Json;

use crate::manifest::model::{Architecture, Service};
use crate::package::build::{BuildError, BuildWarning};

pub const INSTALL: &str =
    "install Go from https://go.dev/dl (it puts `go` on PATH), or build the zip yourself and set the function's `package.artifact` to it";

pub const FAILED_HELP: &str = "fix what `go build` reports above, then run the command again";

/// One `go build`.
#[derive(Debug, Clone, PartialEq)]
pub struct GoBuild {
    /// The module's folder (where `go.mod` is): the build runs there.
    pub module: PathBuf,
    /// The package to build, relative to the module: `.` or `./functions/hello`.
    pub package: String,
    /// Lambda's architecture to build for (Linux); none builds for this machine.
    pub architecture: Option<Architecture>,
    /// `CGO_ENABLED`: off unless `custom.go.cgo` turns it on, so the program needs no C
    /// library from Lambda's system.
    pub cgo: bool,
    pub output: PathBuf,
}

impl GoBuild {
    /// `go build -tags lambda.norpc -trimpath -ldflags=-s -w -o bootstrap PACKAGE`: the tag
    /// drops aws-lambda-go's RPC mode (only the retired go1.x runtime used it), `-trimpath`
    /// keeps this machine's paths out of the program, `-s -w` leave out debug symbols as
    /// serverless-go-plugin does. Go's own build cache makes a rebuild incremental.
    pub fn command(&self) -> Command {
        let mut command = Command::new("go");
        command
            .current_dir(&self.module)
            .args([
                "build",
                "-tags",
                "lambda.norpc",
                "-trimpath",
                "-ldflags=-s -w",
            ])
            .arg("-o")
            .arg(&self.output)
            .arg(&self.package)
            .env("CGO_ENABLED", if self.cgo { "1" } else { "0" });
        match self.architecture {
            Some(architecture) => {
                command
                    .env("GOOS", "linux")
                    .env("GOARCH", goarch(architecture));
            }
            None => {
                command.env_remove("GOOS").env_remove("GOARCH");
            }
        }
        command
    }
}

/// Go's name for a Lambda architecture.
pub fn goarch(architecture: Architecture) -> &'static str {
    match architecture {
        Architecture::X86_64 => "amd64",
        Architecture::Arm64 => "arm64",
    }
}

fn settings(service: &Service) -> Option<&serde_json::Map<String, Json>> {
    service
        .custom
        .as_ref()
        .and_then(|c| c.get("go"))
        .and_then(Json::as_object)
}

/// `custom.go.baseDir`: the folder Go handlers are written relative to (the service's, `.`,
/// unless set).
pub fn base_dir(service: &Service) -> Result<PathBuf, BuildError> {
    match settings(service).and_then(|s| s.get("baseDir")) {
        None | Some(Json::Null) => Ok(PathBuf::from(".")),
        Some(Json::String(dir)) => Ok(PathBuf::from(dir.trim_start_matches("./"))),
        Some(_) => Err(BuildError::Setting {
            place: "custom.go.baseDir".into(),
            reason: "must be a folder of the service".into(),
            help: "write it as a path relative to the service, such as `baseDir: backend`".into(),
        }),
    }
}

/// `custom.go.cgo`: `1` (or `true`) builds with cgo; `0` is the default.
pub fn cgo(service: &Service) -> Result<bool, BuildError> {
    match settings(service).and_then(|s| s.get("cgo")) {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Bool(on)) => Ok(*on),
        Some(Json::Number(n)) if n.as_u64() == Some(0) => Ok(false),
        Some(Json::Number(n)) if n.as_u64() == Some(1) => Ok(true),
        Some(Json::String(s)) if s == "0" || s == "1" => Ok(s == "1"),
        Some(_) => Err(BuildError::Setting {
            place: "custom.go.cgo".into(),
            reason: "must be 0 or 1".into(),
            help: "write `cgo: 1` to build with cgo, or remove it".into(),
        }),
    }
}

/// serverless-go-plugin's `cmd`: updraft runs its own `go build`, never a command line from
/// the manifest.
pub fn setting_warnings(service: &Service) -> Vec<BuildWarning> {
    match settings(service) {
        Some(settings) if settings.contains_key("cmd") => vec![BuildWarning {
            message: "custom.go.cmd is not run: updraft builds Go functions with `go build -tags lambda.norpc -trimpath -ldflags='-s -w'` for the function's architecture".into(),
            help: "remove `cmd`; give other build flags through the GOFLAGS environment variable".into(),
        }],
        _ => Vec::new(),
    }
}
