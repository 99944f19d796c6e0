//! serverless-rust's settings: `custom.rust`, overridden key by key by a function's own `rust:`
//! block, and warnings about the ones a build without Docker has no use for.

use serde_json::Value as Json;

use crate::manifest::model::{Function, Service};
use crate::package::build::{BuildError, BuildWarning};

/// serverless-rust's settings for one function.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// `cargoFlags`: more arguments for `cargo build` (`--features fast`).
    pub cargo_flags: Vec<String>,
    /// `target`: the Rust target for Lambda (`x86_64-unknown-linux-musl`), with the place it
    /// was set, for errors.
    pub target: Option<(String, String)>,
    /// `linker`: the linker for that target.
    pub linker: Option<String>,
    /// `profile`: `release` (the default), `dev`, or a custom Cargo profile.
    pub profile: Option<String>,
}

/// Reads the function's settings: its own `rust:` key wins over `custom.rust`.
pub fn settings(service: &Service, function: &Function) -> Result<Settings, BuildError> {
    let own = function.raw.get("rust");
    let shared = service.custom.as_ref().and_then(|c| c.get("rust"));
    let pick = |key: &str| -> Option<(&Json, String)> {
        if let Some(value) = own.and_then(|o| o.get(key)) {
            return Some((value, format!("functions.{}.rust.{key}", function.key)));
        }
        shared
            .and_then(|s| s.get(key))
            .map(|value| (value, format!("custom.rust.{key}")))
    };
    let text = |key: &str| -> Result<Option<(String, String)>, BuildError> {
        match pick(key) {
            None | Some((Json::Null, _)) => Ok(None),
            Some((Json::String(value), place)) if !value.trim().is_empty() => {
                Ok(Some((value.trim().to_string(), place)))
            }
            Some((_, place)) => Err(BuildError::Setting {
                place,
                reason: "must be a non-empty string".into(),
                help: format!("write `{key}` as text, as serverless-rust reads it"),
            }),
        }
    };
    let cargo_flags = match pick("cargoFlags") {
        None | Some((Json::Null, _)) => Vec::new(),
        Some((Json::String(flags), _)) => flags.split_whitespace().map(String::from).collect(),
        Some((Json::Array(items), place)) => items
            .iter()
            .map(|item| item.as_str().map(String::from))
            .collect::<Option<Vec<String>>>()
            .ok_or_else(|| flags_error(&place))?,
        Some((_, place)) => return Err(flags_error(&place)),
    };
    Ok(Settings {
        cargo_flags,
        target: text("target")?,
        linker: text("linker")?.map(|(linker, _)| linker),
        profile: text("profile")?.map(|(profile, _)| profile),
    })
}

fn flags_error(place: &str) -> BuildError {
    BuildError::Setting {
        place: place.to_string(),
        reason: "must be a string of cargo arguments or a list of them".into(),
        help: "write it as `cargoFlags: '--features fast'`".into(),
    }
}

/// serverless-rust's Docker settings: updraft always builds with the local cargo.
pub fn setting_warnings(service: &Service) -> Vec<BuildWarning> {
    let Some(Json::Object(settings)) = service.custom.as_ref().and_then(|c| c.get("rust")) else {
        return Vec::new();
    };
    ["dockerTag", "dockerImage", "dockerPath"]
        .into_iter()
        .filter(|key| settings.contains_key(*key))
        .map(|key| BuildWarning {
            message: format!(
                "custom.rust.{key} is not used: updraft builds Rust with this machine's cargo, not in Docker"
            ),
            help: format!("remove `{key}`; `dockerless: true` is how updraft always builds"),
        })
        .collect()
}

/// serverless-rust's `runtime: rust`, which the plugin turned into `provided.al2`.
pub fn runtime_rust_warning(function: &str) -> BuildWarning {
    BuildWarning {
        message: format!(
            "function `{function}` has serverless-rust's `runtime: rust`, which Lambda does not know: it is not built"
        ),
        help: "set `runtime: provided.al2023`; updraft then builds the Rust binary as `bootstrap`"
            .into(),
    }
}
