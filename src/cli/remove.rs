//! `updraft remove`: deletes everything the service and stage own (what carries their ownership
//! marks), under the deploy lock, after confirmation on a terminal.

use clap::Args;

use super::cloud::{self, ChangeArgs};
use super::error::{Failure, Status};
use super::output::{plan as render, Printer};
use super::GlobalArgs;
use crate::provider::engine::Options;
use crate::provider::Operation;

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
    let holder = cloud::take_lock(
        backend.as_ref(),
        Operation::Remove,
        args.change.lock_timeout,
        printer,
        runtime,
    )?;
    let result = (|| {
        let planned = cloud::interruptible(
            runtime,
            &interrupt,
            crate::provider::plan_remove(backend.as_ref()),
        )?
        .map_err(|error| cloud::failure(error, &context.loaded.sources))?;
        printer.info(&format!(
            "Removing {} (stage {}) from {}:",
            context.service.name,
            context.service.provider.stage,
            backend.target()
        ));
        if !planned.plan.has_changes() {
            printer.data("Nothing to remove: no resource carries this service's and stage's tags.");
            return Ok(());
        }
        printer.data(&render::render(&planned.plan, printer.verbose() > 0));
        if !args.change.yes && !cloud::confirm("Everything above will be deleted.", printer) {
            return Err(Failure::User(miette::miette!(
                help = "run again and type `yes`, or pass --yes",
                "nothing was removed: the removal was not confirmed"
            )));
        }
        let options = Options {
            concurrency: usize::from(args.change.concurrency),
            ..Options::default()
        };
        cloud::apply(&backend, &planned, &options, &interrupt, printer, runtime).map(|_| ())
    })();
    cloud::release_lock(backend.as_ref(), &holder, printer, runtime);
    result?;
    Ok(Status::Success)
}
