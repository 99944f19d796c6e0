//! `updraft plan`: what a deploy would change, without changing anything.

use clap::Args;

use super::cloud;
use super::error::{Failure, Status};
use super::output::{plan as render, Printer};
use super::GlobalArgs;
use crate::ops;

/// Show what `deploy` would create, update, replace or delete, without changing anything
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Print the plan as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// Exit 2 when the plan has changes (0 when it has none, 1 on error)
    #[arg(long)]
    pub detailed_exitcode: bool,
}

pub fn exec(
    global: &GlobalArgs,
    args: PlanArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
    let context = cloud::load(global, printer, runtime)?;
    let interrupt = cloud::interrupt_handler(runtime, printer);
    let backend = cloud::connect(global, &context, runtime)?;
    let reporter = cloud::CliReporter::new(printer);
    let report = runtime
        .block_on(ops::plan(
            backend.as_ref(),
            &context.source(),
            &interrupt,
            &reporter,
        ))
        .map_err(|error| context.failure(error))?;
    if args.json {
        let mut value = render::to_json(&report.plan);
        printer.redact_value(&mut value);
        printer.data(&serde_json::to_string_pretty(&value).unwrap_or_default());
    } else {
        printer.info(&format!(
            "Plan for {} (stage {}) in {}:",
            context.service.name,
            context.service.provider.stage,
            backend.target()
        ));
        printer.data(&render::render(&report.plan, printer.verbose() > 0));
    }
    if args.detailed_exitcode && report.plan.has_changes() {
        Ok(Status::Changes)
    } else {
        Ok(Status::Success)
    }
}
