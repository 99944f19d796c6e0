//! `updraft info`: the deployed service as it is live: functions, endpoints, stage and region.

use clap::Args;
use serde_json::json;

use super::cloud;
use super::error::{Failure, Status};
use super::output::Printer;
use super::GlobalArgs;
use crate::ops;

/// Show the deployed service: its functions and endpoints
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Print as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

pub fn exec(
    global: &GlobalArgs,
    args: InfoArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
    let context = cloud::load(global, printer, runtime)?;
    let backend = cloud::connect(global, &context, runtime)?;
    let interrupt = cloud::interrupt_handler(runtime, printer);
    let report = runtime
        .block_on(ops::info(backend.as_ref(), &interrupt))
        .map_err(|error| context.failure(error))?;
    for line in &report.unread {
        printer.info(&format!("could not read {line}"));
    }
    let info = report.info;
    let scope = backend.scope();
    if args.json {
        let value = json!({
            "service": scope.service,
            "stage": scope.stage,
            "region": scope.region,
            "target": backend.target(),
            "functions": info.functions,
            "endpoints": info.endpoints,
        });
        printer.data(&serde_json::to_string_pretty(&value).unwrap_or_default());
        return Ok(Status::Success);
    }
    let mut text = format!(
        "service: {}\nstage: {}\nregion: {}\ntarget: {}\n",
        scope.service,
        scope.stage,
        scope.region,
        backend.target()
    );
    if info.functions.is_empty() {
        text.push_str("functions: none deployed\n");
    } else {
        text.push_str("functions:\n");
        for function in &info.functions {
            let mut details = Vec::new();
            if let Some(runtime) = &function.runtime {
                details.push(runtime.clone());
            }
            if let Some(memory) = function.memory_size {
                details.push(format!("{memory} MB"));
            }
            if let Some(timeout) = function.timeout {
                details.push(format!("{timeout} s"));
            }
            text.push_str(&format!("  {} ({})\n", function.name, details.join(", ")));
        }
    }
    text.push_str(&super::deploy::endpoint_lines(&info));
    printer.data(&text);
    Ok(Status::Success)
}
