//! `updraft invoke local`: runs one invocation of a function on this machine through the
//! execution engine that `updraft offline` uses (Lambda Runtime API, native process), prints
//! the response payload on stdout and the function's log on stderr, and exits 1 when the
//! function failed (handler error, init error, timeout, crash), with Lambda's error object on
//! stdout so scripts can read it.

use std::io::IsTerminal;

use clap::Args;
use indexmap::IndexMap;
use serde_json::Value as Json;

use super::error::{Failure, Status};
use super::invoke::find_function;
use super::invoke_input::InputArgs;
use super::output::invoke::PayloadStyle;
use super::output::Printer;
use super::GlobalArgs;
use crate::manifest::model::Service;
use crate::offline::engine::{built_functions, Engine, EngineOptions};
use crate::offline::invoke::{ErrorCause, Invocation, InvocationResult, Invoker};

/// Run a function on this machine with its configured runtime, environment and timeout
#[derive(Debug, Args)]
pub struct InvokeLocalArgs {
    /// The function, by its key under `functions:`
    #[arg(short = 'f', long = "function", value_name = "NAME")]
    pub function: String,
    #[command(flatten)]
    pub input: InputArgs,
    /// A variable for the function, over its configured environment (repeatable)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE", value_parser = super::parse_param)]
    pub env: Vec<(String, String)>,
}

fn user(message: String, help: &str) -> Failure {
    Failure::User(miette::miette!(help = help.to_string(), "{message}"))
}

pub fn exec(
    global: &GlobalArgs,
    args: InvokeLocalArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
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
    let function = find_function(&service, &args.function)?;
    let key = function.key.clone();
    let local = built_functions(
        &service,
        &loaded.service_dir,
        std::slice::from_ref(&key),
        None,
    )
    .map_err(Failure::user)?;
    for warning in &local.build_warnings {
        printer.warning(warning);
    }
    let (functions, warnings) = (local.specs, local.stand_ins);
    let overridden = |variable: &str| args.env.iter().any(|(name, _)| name == variable);
    for warning in warnings
        .iter()
        .filter(|w| w.function == key && !overridden(&w.variable))
    {
        printer.warning(warning);
    }
    if function.image.is_some() {
        return Err(user(
            format!("function `{}` is a container image", args.function),
            "invoke local runs zip-packaged nodejs*, python* and provided* functions; run the image with Docker",
        ));
    }
    let invocation = Invocation {
        payload: args
            .input
            .payload(&mut std::io::stdin().lock(), std::io::stdin().is_terminal())
            .map_err(Failure::user)?,
        client_context: args.input.client_context().map_err(Failure::user)?,
        request_id: None,
    };
    let options = EngineOptions {
        max_concurrency: 1,
        extra_env: args.env.clone(),
        ..EngineOptions::default()
    };
    let outcome = runtime.block_on(async {
        let engine = Engine::new(functions, options);
        let outcome = engine.invoke(&key, invocation).await;
        engine.shutdown();
        outcome
    });
    let completed = outcome.map_err(Failure::user)?;
    printer.info(completed.log.trim_end());
    match completed.result {
        InvocationResult::Success(payload) => {
            printer.payload(&payload, PayloadStyle::for_stdout(args.input.raw));
            Ok(Status::Success)
        }
        InvocationResult::Error { cause, payload } => {
            printer.payload(&payload, PayloadStyle::for_stdout(args.input.raw));
            let error: Json = serde_json::from_slice(&payload).unwrap_or(Json::Null);
            let text = |field: &str| {
                error
                    .get(field)
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
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
                    key,
                    text("errorType"),
                    text("errorMessage")
                ),
                "the error object is on stdout and the function's log above",
            ))
        }
    }
}
