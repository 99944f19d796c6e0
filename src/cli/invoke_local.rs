//! `updraft invoke local`: runs one invocation of a function on this machine through the
//! execution engine that `updraft offline` uses (Lambda Runtime API, native process), prints
//! the response payload on stdout and the function's log on stderr, and exits 1 when the
//! function failed (handler error, init error, timeout, crash), with Lambda's error object on
//! stdout so scripts can read it.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Args;
use indexmap::IndexMap;
use serde_json::Value as Json;

use super::error::{Failure, Status};
use super::output::Printer;
use super::GlobalArgs;
use crate::manifest::model::Service;
use crate::offline::engine::{functions_from_service, Engine, EngineOptions};
use crate::offline::invoke::{ErrorCause, Invocation, InvocationResult, Invoker};

/// Run a function on this machine with its configured runtime, environment and timeout
#[derive(Debug, Args)]
pub struct InvokeLocalArgs {
    /// The function, by its key under `functions:`
    #[arg(short = 'f', long = "function", value_name = "NAME")]
    pub function: String,
    /// The event, as JSON (text that is not JSON is sent as a JSON string)
    #[arg(short = 'd', long, value_name = "JSON", conflicts_with = "path")]
    pub data: Option<String>,
    /// A file holding the event (JSON); without --data or --path the event is read from stdin
    #[arg(short = 'p', long, value_name = "FILE")]
    pub path: Option<PathBuf>,
    /// A variable for the function, over its configured environment (repeatable)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE", value_parser = super::parse_param)]
    pub env: Vec<(String, String)>,
    /// The client context the function sees (`context.clientContext`), as JSON
    #[arg(long, value_name = "JSON")]
    pub context: Option<String>,
}

fn user(message: String, help: &str) -> Failure {
    Failure::User(miette::miette!(help = help.to_string(), "{message}"))
}

/// The event bytes: --data, --path, or stdin when it is not a terminal; `{}` otherwise.
fn event(args: &InvokeLocalArgs, working_dir: &std::path::Path) -> Result<Vec<u8>, Failure> {
    let text = if let Some(data) = &args.data {
        data.clone()
    } else if let Some(path) = &args.path {
        let path = working_dir.join(path);
        std::fs::read_to_string(&path).map_err(|error| {
            user(
                format!("cannot read the event file {}: {error}", path.display()),
                "pass an existing JSON file with --path, or the event itself with --data",
            )
        })?
    } else if !std::io::stdin().is_terminal() {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|error| {
            user(
                format!("cannot read the event from stdin: {error}"),
                "pass the event with --data or --path instead",
            )
        })?;
        text
    } else {
        String::new()
    };
    if text.trim().is_empty() {
        return Ok(b"{}".to_vec());
    }
    // The Framework sends text that is not JSON as a string event.
    match serde_json::from_str::<Json>(&text) {
        Ok(value) => Ok(value.to_string().into_bytes()),
        Err(_) => Ok(Json::String(text).to_string().into_bytes()),
    }
}

fn client_context(args: &InvokeLocalArgs) -> Result<Option<String>, Failure> {
    let Some(context) = &args.context else {
        return Ok(None);
    };
    match serde_json::from_str::<Json>(context) {
        Ok(value) if value.is_object() => Ok(Some(value.to_string())),
        _ => Err(user(
            format!("--context is not a JSON object: {context}"),
            "pass the client context as a JSON object, e.g. --context '{\"custom\":{\"key\":\"value\"}}'",
        )),
    }
}

/// The payload as `invoke` prints it: pretty JSON on a terminal, the exact bytes otherwise.
fn render_payload(payload: &[u8]) -> String {
    if std::io::stdout().is_terminal() {
        if let Ok(value) = serde_json::from_slice::<Json>(payload) {
            if let Ok(pretty) = serde_json::to_string_pretty(&value) {
                return pretty;
            }
        }
    }
    String::from_utf8_lossy(payload).into_owned()
}

pub fn exec(
    global: &GlobalArgs,
    args: InvokeLocalArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
    let working_dir = super::working_dir()?;
    let mut options = IndexMap::new();
    if let Some(stage) = &global.stage {
        options.insert("stage".to_string(), Json::String(stage.clone()));
    }
    if let Some(region) = &global.region {
        options.insert("region".to_string(), Json::String(region.clone()));
    }
    let loaded = super::load_manifest(global, options.clone(), printer, runtime)?;
    printer.add_secrets(loaded.secrets.iter().cloned());
    let service = Service::from_tree_with_options(&loaded.root, &options).map_err(Failure::user)?;
    let (functions, warnings) = functions_from_service(&service, &loaded.service_dir);
    let overridden = |variable: &str| args.env.iter().any(|(key, _)| key == variable);
    for warning in warnings
        .iter()
        .filter(|w| w.function == args.function && !overridden(&w.variable))
    {
        printer.warning(warning);
    }
    if service
        .functions
        .get(&args.function)
        .is_some_and(|function| function.image.is_some())
    {
        return Err(user(
            format!("function `{}` is a container image", args.function),
            "invoke local runs zip-packaged nodejs*, python* and provided* functions; run the image with Docker",
        ));
    }
    let invocation = Invocation {
        payload: event(&args, &working_dir)?,
        client_context: client_context(&args)?,
        request_id: None,
    };
    let options = EngineOptions {
        max_concurrency: 1,
        extra_env: args.env.clone(),
        ..EngineOptions::default()
    };
    let outcome = runtime.block_on(async {
        let engine = Engine::new(functions, options);
        let outcome = engine.invoke(&args.function, invocation).await;
        engine.shutdown();
        outcome
    });
    let completed = outcome.map_err(Failure::user)?;
    printer.info(completed.log.trim_end());
    match completed.result {
        InvocationResult::Success(payload) => {
            printer.data(&render_payload(&payload));
            Ok(Status::Success)
        }
        InvocationResult::Error { cause, payload } => {
            printer.data(&render_payload(&payload));
            let error: Json = serde_json::from_slice(&payload).unwrap_or(Json::Null);
            let text = |key: &str| error.get(key).and_then(Json::as_str).unwrap_or_default().to_string();
            let what = match cause {
                ErrorCause::Handler => "failed",
                ErrorCause::Init => "could not start",
                ErrorCause::Timeout => "timed out",
                ErrorCause::Crash => "crashed",
                ErrorCause::ResponseTooLarge => "returned a response over 6 MB",
            };
            Err(user(
                format!(
                    "function `{}` {what}: {}: {}",
                    args.function,
                    text("errorType"),
                    text("errorMessage")
                ),
                "the error object is on stdout and the function's log above",
            ))
        }
    }
}

/// `updraft invoke`, until the remote command joins it: only its `local` subcommand.
#[derive(Debug, Args)]
pub struct InvokeArgs {
    #[command(subcommand)]
    pub command: InvokeCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum InvokeCommand {
    Local(InvokeLocalArgs),
}
