//! `updraft print`: the resolved manifest, as the Serverless Framework's `serverless print` shows it.

use clap::{Args, ValueEnum};
use indexmap::IndexMap;
use serde_json::Value as Json;

use super::error::{Failure, Status};
use super::output::{yaml, Printer};
use super::GlobalArgs;

/// Print the resolved configuration (variables resolved, defaults added)
#[derive(Debug, Args)]
pub struct PrintArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
    /// Print only the value at this dotted path (e.g. `provider.environment`)
    #[arg(long, value_name = "a.b.c")]
    pub path: Option<String>,
    /// Transform the value before printing (`keys`: only the keys of a map)
    #[arg(long, value_enum)]
    pub transform: Option<Transform>,
    /// Show resolved secret values (from ${ssm:...} and ${s3:...}) instead of <redacted>
    #[arg(long)]
    pub show_secrets: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Yaml,
    Json,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transform {
    Keys,
}

pub fn exec(
    global: &GlobalArgs,
    args: PrintArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
    let loaded = super::load_manifest(global, option_values(global, &args), printer, runtime)?;
    if !args.show_secrets {
        printer.add_secrets(loaded.secrets.iter().cloned());
    }
    let mut value = loaded.root.to_json();
    printer.redact_value(&mut value);
    if let Some(path) = &args.path {
        value = select(value, path)?;
    }
    if args.transform == Some(Transform::Keys) {
        value = match value {
            Json::Object(map) => Json::Array(map.keys().cloned().map(Json::String).collect()),
            other => {
                return Err(Failure::User(miette::miette!(
                    help = "`--transform keys` lists the keys of a map; pick a map with --path",
                    "cannot list the keys of {}",
                    json_kind(&other)
                )))
            }
        };
    }
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&value).unwrap_or_default(),
        Format::Yaml => yaml::to_yaml(&value),
        Format::Text => text(&value)?,
    };
    printer.data(&text);
    Ok(Status::Success)
}

/// The options `${opt:...}` sees: every option of `print`, unset ones as null (as the Framework).
fn option_values(global: &GlobalArgs, args: &PrintArgs) -> IndexMap<String, Json> {
    let string = |v: &Option<String>| v.clone().map(Json::String).unwrap_or(Json::Null);
    let format = match args.format {
        Format::Yaml => "yaml",
        Format::Json => "json",
        Format::Text => "text",
    };
    let mut options = IndexMap::new();
    options.insert("format".into(), Json::String(format.into()));
    options.insert("region".into(), string(&global.region));
    options.insert("stage".into(), string(&global.stage));
    options.insert("path".into(), string(&args.path));
    options.insert(
        "transform".into(),
        args.transform
            .map(|_| Json::String("keys".into()))
            .unwrap_or(Json::Null),
    );
    options.insert("aws-profile".into(), string(&global.aws_profile));
    options.insert("app".into(), Json::Null);
    options.insert("org".into(), Json::Null);
    options.insert("use-local-credentials".into(), Json::Null);
    options.insert(
        "config".into(),
        global
            .config
            .as_ref()
            .map(|p| Json::String(p.to_string_lossy().into_owned()))
            .unwrap_or(Json::Null),
    );
    options.insert(
        "param".into(),
        if global.params.is_empty() {
            Json::Null
        } else {
            Json::Array(
                global
                    .params
                    .iter()
                    .map(|(k, v)| Json::String(format!("{k}={v}")))
                    .collect(),
            )
        },
    );
    options.insert("help".into(), Json::Null);
    options.insert("version".into(), Json::Null);
    options.insert(
        "verbose".into(),
        if global.verbose > 0 {
            Json::Bool(true)
        } else {
            Json::Null
        },
    );
    options.insert("debug".into(), Json::Null);
    options
}

fn select(value: Json, path: &str) -> Result<Json, Failure> {
    let mut current = value;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let next = match &mut current {
            Json::Object(map) => map.shift_remove(part),
            Json::Array(items) => part
                .parse::<usize>()
                .ok()
                .filter(|i| *i < items.len())
                .map(|i| items.swap_remove(i)),
            _ => None,
        };
        current = next.ok_or_else(|| {
            Failure::User(miette::miette!(
                help = "run `updraft print` without --path to see what is there",
                "nothing at path `{path}` (no `{part}`)"
            ))
        })?;
    }
    Ok(current)
}

fn text(value: &Json) -> Result<String, Failure> {
    match value {
        Json::String(s) => Ok(s.clone()),
        Json::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => Ok(items
            .iter()
            .map(|i| match i {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")),
        Json::Object(_) | Json::Array(_) => Err(Failure::User(miette::miette!(
            help = "use --format yaml or json, or pick a single value with --path",
            "--format text prints single values and lists of them, and this is {}",
            json_kind(value)
        ))),
        other => Ok(other.to_string()),
    }
}

fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a map",
    }
}
