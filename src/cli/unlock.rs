//! `updraft unlock [ID]`: shows who holds the deploy lock, and with its id removes a lock left
//! behind by a deploy that died (after confirmation on a terminal).

use clap::Args;

use super::cloud;
use super::error::{Failure, Status};
use super::output::Printer;
use super::GlobalArgs;
use crate::manifest::source::SourceMap;

/// Show the deploy lock, or remove a stale one by its id
#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// The lock's id, as `deploy` or `unlock` showed it (without it: show the lock only)
    pub id: Option<String>,
    /// Remove without asking
    #[arg(short = 'y', long)]
    pub yes: bool,
}

pub fn exec(
    global: &GlobalArgs,
    args: UnlockArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
    let context = cloud::load(global, printer, runtime)?;
    let backend = cloud::connect(global, &context, runtime)?;
    let no_sources = SourceMap::default();
    let holder = runtime
        .block_on(backend.lock_holder())
        .map_err(|error| cloud::failure(error, &no_sources))?;
    let Some(holder) = holder else {
        printer.data("No deploy lock is held.");
        return Ok(Status::Success);
    };
    let Some(id) = args.id else {
        printer.data(&format!("The deploy lock is held: {}", holder.describe()));
        return Ok(Status::Success);
    };
    if id != holder.id {
        return Err(cloud::failure(
            crate::provider::ProviderError::NoSuchLock {
                id,
                current: format!("the lock now is {}", holder.describe()),
            },
            &no_sources,
        ));
    }
    if !args.yes
        && !cloud::confirm(
            &format!(
                "Remove the lock held by {}? Only do this when that run is gone.",
                holder.describe()
            ),
            printer,
        )
    {
        return Err(Failure::User(miette::miette!(
            help = "run again and type `yes`, or pass --yes",
            "the lock was left in place"
        )));
    }
    runtime
        .block_on(backend.unlock(&id))
        .map_err(|error| cloud::failure(error, &no_sources))?;
    printer.data(&format!("Removed lock {id}."));
    Ok(Status::Success)
}
