//! `updraft deploy` and `updraft deploy function -f NAME`: arguments to an [`ops::deploy`]
//! request, and the endpoints it reports on stdout.

use clap::{Args, Subcommand};

use super::cloud::{self, ChangeArgs};
use super::error::{Failure, Status};
use super::output::Printer;
use super::GlobalArgs;
use crate::ops;
use crate::provider::ServiceInfo;

/// Deploy the service: plan against what is live, then apply only what differs
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DeployArgs {
    #[command(subcommand)]
    pub target: Option<DeployTarget>,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Update every function's code even when its hash is unchanged
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum DeployTarget {
    /// Deploy one function's code and configuration only
    Function(FunctionArgs),
}

#[derive(Debug, Args)]
pub struct FunctionArgs {
    /// The function's key under `functions`
    #[arg(short = 'f', long)]
    pub function: String,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Update the code even when its hash is unchanged
    #[arg(long)]
    pub force: bool,
}

pub fn exec(
    global: &GlobalArgs,
    args: DeployArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
    let (change, force, function) = match args.target {
        Some(DeployTarget::Function(function)) => {
            (function.change, function.force, Some(function.function))
        }
        None => (args.change, args.force, None),
    };
    let context = cloud::load(global, printer, runtime)?;
    let interrupt = cloud::interrupt_handler(runtime, printer);
    let backend = cloud::connect(global, &context, runtime)?;
    let request = ops::DeployRequest {
        source: context.source(),
        function,
        force,
        change: change.options(),
    };
    let reporter = cloud::CliReporter::new(printer);
    let report = runtime
        .block_on(ops::deploy(backend, &request, &interrupt, &reporter))
        .map_err(|error| context.failure(error))?;
    print_endpoints(&report.info, printer);
    Ok(Status::Success)
}

/// The endpoints on stdout, one per line, so scripts can pick them up.
pub fn print_endpoints(info: &ServiceInfo, printer: &Printer) {
    if !info.endpoints.is_empty() {
        printer.data(&endpoint_lines(info));
    }
}

/// `endpoints:` and one indented `METHOD URL` line each; empty when there are none.
pub fn endpoint_lines(info: &ServiceInfo) -> String {
    if info.endpoints.is_empty() {
        return String::new();
    }
    let mut text = String::from("endpoints:\n");
    for endpoint in &info.endpoints {
        match &endpoint.method {
            Some(method) => text.push_str(&format!("  {method:<7} {}\n", endpoint.url)),
            None => text.push_str(&format!("  {}\n", endpoint.url)),
        }
    }
    text
}
