//! `updraft remove`: arguments to an [`ops::remove`] request (delete everything the service and
//! stage own, under the deploy lock, after confirmation on a terminal), and its outcome.

use clap::Args;

use super::cloud::{self, ChangeArgs};
use super::error::{Failure, Status};
use super::output::Printer;
use super::GlobalArgs;
use crate::ops;

/// Delete everything the service deployed for this stage and region
#[derive(Debug, Args)]
pub struct RemoveArgs {
    #[command(flatten)]
    pub change: ChangeArgs,
}

pub fn exec(
    global: &GlobalArgs,
    args: RemoveArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
    let context = cloud::load(global, printer, runtime)?;
    let backend = cloud::connect(global, &context, runtime)?;
    let interrupt = cloud::interrupt_handler(runtime, printer);
    let request = ops::RemoveRequest {
        change: args.change.options(),
    };
    let reporter = cloud::CliReporter::new(printer);
    let report = runtime
        .block_on(ops::remove(backend, &request, &interrupt, &reporter))
        .map_err(|error| context.failure(error))?;
    if report.deleted == 0 {
        printer.data("Nothing to remove: no resource carries this service's and stage's tags.");
    }
    Ok(Status::Success)
}
