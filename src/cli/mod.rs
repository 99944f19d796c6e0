//! The command line: the only module that knows clap. Each command lives in its own file as
//! `Args` plus a thin `exec` over one library call; [`output`] does all printing and [`error`]
//! maps every outcome to an exit code.

pub mod cloud;
pub mod completions;
pub mod create;
pub mod deploy;
pub mod error;
pub mod info;
pub mod invoke;
pub mod invoke_input;
pub mod invoke_local;
pub mod logs;
pub mod offline;
pub mod output;
pub mod package;
pub mod plan;
pub mod print;
pub mod remove;
pub mod unlock;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use error::{Failure, Status};
use output::Printer;

/// Deploy serverless.yml services to AWS, Azure and Google Cloud, and run them locally.
#[derive(Debug, Parser)]
#[command(name = "updraft", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Path to the manifest (default: serverless.yml, .yaml or .json in the working directory)
    #[arg(short = 'c', long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Stage to act on (default: provider.stage, then "dev")
    #[arg(short = 's', long, global = true)]
    pub stage: Option<String>,
    /// Region to act on (default: provider.region, then "us-east-1")
    #[arg(short = 'r', long, global = true)]
    pub region: Option<String>,
    /// A parameter for ${param:KEY}, as KEY=VALUE (repeatable; wins over `params:`)
    #[arg(long = "param", global = true, value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// AWS profile from the shared config and credentials files
    #[arg(long, global = true, value_name = "NAME")]
    pub aws_profile: Option<String>,
    /// Say more about what happens (repeat for more)
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No colours in output (also: NO_COLOR set to anything)
    #[arg(long, global = true)]
    pub no_color: bool,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    // Split at the first `=` only, as the Framework does: `--param url=a=b` gives `a=b`.
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected KEY=VALUE, got `{text}`")),
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Create(create::CreateArgs),
    Print(print::PrintArgs),
    Package(package::PackageArgs),
    Plan(plan::PlanArgs),
    Deploy(deploy::DeployArgs),
    Remove(remove::RemoveArgs),
    Info(info::InfoArgs),
    Invoke(invoke::InvokeArgs),
    Logs(logs::LogsArgs),
    Offline(offline::OfflineArgs),
    Unlock(unlock::UnlockArgs),
    Completions(completions::CompletionsArgs),
}

/// Parses the arguments, runs the command and returns the process's exit code.
pub fn main(args: Vec<OsString>, runtime: &tokio::runtime::Handle) -> ExitCode {
    let args = offline::without_start_alias(args);
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(error) => return report_clap(error),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => return report_clap(error),
    };
    let mut printer = Printer::new(cli.global.no_color, cli.global.verbose);
    install_panic_report();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run(cli, &mut printer, runtime)
    }));
    match result {
        Ok(Ok(status)) => status.exit_code(),
        Ok(Err(failure)) => {
            printer.failure(&failure);
            failure.exit_code()
        }
        // The panic report has been printed by the hook; a bug is still just an error to CI.
        Err(_) => std::process::ExitCode::from(error::EXIT_ERROR),
    }
}

/// A panic is a bug: say so plainly, with where it happened, instead of Rust's default text.
fn install_panic_report() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error: updraft panicked at {place}: {message}\n\
             This is a bug in updraft. Please report it with the command you ran."
        );
    }));
}

fn run(
    cli: Cli,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
    match cli.command {
        Command::Print(args) => print::exec(&cli.global, args, printer, runtime),
        Command::Package(args) => package::exec(&cli.global, args, printer, runtime),
        Command::Plan(args) => plan::exec(&cli.global, args, printer, runtime),
        Command::Deploy(args) => deploy::exec(&cli.global, args, printer, runtime),
        Command::Remove(args) => remove::exec(&cli.global, args, printer, runtime),
        Command::Info(args) => info::exec(&cli.global, args, printer, runtime),
        Command::Invoke(args) => invoke::exec(&cli.global, args, printer, runtime),
        Command::Logs(args) => logs::exec(&cli.global, args, printer, runtime),
        Command::Offline(args) => offline::exec(&cli.global, args, printer, runtime),
        Command::Unlock(args) => unlock::exec(&cli.global, args, printer, runtime),
        Command::Create(args) => create::exec(args, printer),
        Command::Completions(args) => completions::exec(args, printer),
    }
}

/// `--help` and `--version` are successes printed to stdout; anything else is an argument error.
fn report_clap(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            ExitCode::from(error::EXIT_SUCCESS)
        }
        _ => {
            let failure = Failure::Argument(error);
            Printer::new(false, 0).failure(&failure);
            failure.exit_code()
        }
    }
}

/// Loads the manifest as every command does: the working directory, the global options, AWS for
/// cloud variables (set up only if the manifest uses one), and its warnings shown. `options` is
/// what `${opt:...}` sees. Secrets are left to the caller, which knows whether to show them.
pub(crate) fn load_manifest(
    global: &GlobalArgs,
    options: indexmap::IndexMap<String, serde_json::Value>,
    printer: &Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<crate::manifest::Loaded, Failure> {
    let env = |name: &str| std::env::var(name).ok();
    let cloud = crate::provider::aws::variables::AwsVariables::new(
        runtime.clone(),
        global.aws_profile.clone(),
        global.region.clone(),
    );
    let options = crate::manifest::LoadOptions {
        working_dir: working_dir()?,
        config: global.config.clone(),
        options,
        params: global.params.clone(),
        env: &env,
        cloud: Some(&cloud),
    };
    // Resolution may wait on cloud calls: run it where blocking is allowed.
    let loaded = tokio::task::block_in_place(|| crate::manifest::load(&options))?;
    for warning in &loaded.warnings {
        printer.warning(warning);
    }
    Ok(loaded)
}

/// The working directory, as an error a user can act on when it is gone.
pub(crate) fn working_dir() -> Result<PathBuf, Failure> {
    std::env::current_dir().map_err(|error| {
        Failure::User(miette::miette!(
            help = "cd into an existing directory and run updraft again",
            "cannot read the working directory: {error}"
        ))
    })
}
