//! `updraft deploy` and `updraft deploy function -f NAME`: plan under the deploy lock, show the
//! plan, confirm deletes and replaces on a terminal, apply, and print the endpoints.

use std::collections::BTreeSet;

use clap::{Args, Subcommand};

use super::cloud::{self, ChangeArgs};
use super::error::{Failure, Status};
use super::output::{plan as render, Printer};
use super::GlobalArgs;
use crate::plan::{Action, Plan};
use crate::provider::engine::Options;
use crate::provider::{Operation, ServiceInfo};

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
    let (change, force, only) = match args.target {
        Some(DeployTarget::Function(function)) => {
            (function.change, function.force, Some(function.function))
        }
        None => (args.change, args.force, None),
    };
    let context = cloud::load(global, printer, runtime)?;
    let function_name = match &only {
        Some(key) => Some(
            context
                .service
                .functions
                .get(key)
                .map(|f| f.name.clone())
                .ok_or_else(|| unknown_function(key, &context))?,
        ),
        None => None,
    };
    let interrupt = cloud::interrupt_handler(runtime, printer);
    let artifacts = cloud::package(&context, &interrupt, printer)?;
    let backend = cloud::connect(global, &context, runtime)?;
    // Unsupported events fail here, before the lock and before any change.
    backend
        .desired(&context.service, &artifacts)
        .map_err(|error| cloud::failure(error, &context.loaded.sources))?;
    let operation = if only.is_some() {
        Operation::DeployFunction
    } else {
        Operation::Deploy
    };
    let holder = cloud::take_lock(
        backend.as_ref(),
        operation,
        change.lock_timeout,
        printer,
        runtime,
    )?;
    let result = (|| {
        let mut planned = cloud::interruptible(
            runtime,
            &interrupt,
            crate::provider::plan_deploy(backend.as_ref(), &context.service, &artifacts),
        )?
        .map_err(|error| cloud::failure(error, &context.loaded.sources))?;
        if force {
            force_code(&mut planned.plan);
        }
        if let Some(name) = &function_name {
            planned.plan = only_function(&planned.plan, name, printer)?;
        }
        printer.info(&format!(
            "Deploying {} (stage {}) to {}:",
            context.service.name,
            context.service.provider.stage,
            backend.target()
        ));
        printer.data(&render::render(&planned.plan, printer.verbose() > 0));
        if !planned.plan.has_changes() {
            return Ok(planned.live.clone());
        }
        if planned.plan.is_destructive()
            && !change.yes
            && !cloud::confirm("This plan deletes or replaces resources.", printer)
        {
            return Err(Failure::User(miette::miette!(
                help = "run again and type `yes`, or pass --yes",
                "nothing was changed: the plan was not confirmed"
            )));
        }
        let options = Options {
            concurrency: usize::from(change.concurrency),
            force,
            ..Options::default()
        };
        if interrupt.happened() {
            return Err(Failure::Interrupted);
        }
        cloud::apply(&backend, &planned, &options, &interrupt, printer, runtime)?;
        runtime
            .block_on(backend.live())
            .map_err(|error| cloud::failure(error, &context.loaded.sources))
    })();
    cloud::release_lock(backend.as_ref(), &holder, printer, runtime);
    let live = result?;
    print_endpoints(&backend.info(&live), printer);
    Ok(Status::Success)
}

/// `--force`: unchanged functions and artifacts are updated anyway (uploaded and deployed again).
fn force_code(plan: &mut Plan) {
    for step in &mut plan.steps {
        let code = step.id.kind.ends_with(".function") || step.id.kind.ends_with(".artifact");
        if code && step.action == Action::NoOp {
            step.action = Action::Update;
        }
    }
}

/// The steps of one function: its own, and what it needs created first (its code upload).
/// Other changes wait for a full deploy, and say so.
fn only_function(plan: &Plan, name: &str, printer: &Printer) -> Result<Plan, Failure> {
    let Some(function) = plan
        .steps
        .iter()
        .find(|s| s.id.name == name && s.id.kind.ends_with(".function"))
    else {
        return Err(Failure::User(miette::miette!(
            help = "run `updraft deploy` to deploy the whole service first",
            "function {name} is not part of the plan"
        )));
    };
    if function.action == Action::Create {
        return Err(Failure::User(miette::miette!(
            help = "run `updraft deploy` once: `deploy function` updates a deployed function",
            "function {name} is not deployed yet"
        )));
    }
    let keep: BTreeSet<_> = std::iter::once(function.id.clone())
        .chain(
            plan.steps
                .iter()
                .filter(|step| {
                    function.depends_on.contains(&step.id) && step.action == Action::Create
                })
                .map(|step| step.id.clone()),
        )
        .collect();
    let skipped = plan
        .steps
        .iter()
        .filter(|s| s.action.is_change() && !keep.contains(&s.id))
        .count();
    if skipped > 0 {
        printer.info(&format!(
            "{skipped} other change(s) wait for a full `updraft deploy`"
        ));
    }
    Ok(Plan {
        steps: plan
            .steps
            .iter()
            .filter(|s| keep.contains(&s.id))
            .cloned()
            .collect(),
    })
}

fn unknown_function(key: &str, context: &cloud::Context) -> Failure {
    let known: Vec<&str> = context
        .service
        .functions
        .keys()
        .map(String::as_str)
        .collect();
    Failure::User(miette::miette!(
        help = format!("the service's functions are: {}", known.join(", ")),
        "no function `{key}` in the manifest"
    ))
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
