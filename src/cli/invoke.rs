//! `updraft invoke -f NAME`: calls a deployed function once and prints what it answered.
//!
//! The payload goes to stdout (see [`super::output::invoke`]), the log tail (`--log`) to stderr.
//! A function that fails (Lambda's `FunctionError`) prints its error object like any payload and
//! exits 1, so a CI step notices. `invoke` takes subcommands (`invoke local` runs the handler on
//! this machine) that share its input flags ([`super::invoke_input::InputArgs`]).

use std::io::IsTerminal;

use clap::{Args, Subcommand, ValueEnum};

use super::cloud;
use super::error::{Failure, Status};
use super::invoke_input::InputArgs;
use super::output::invoke::{error_summary, PayloadStyle};
use super::output::Printer;
use super::GlobalArgs;
use crate::manifest::model::{Function, Service};
use crate::provider::{InvocationType, InvokeRequest};

/// Call a deployed function and print its answer
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct InvokeArgs {
    #[command(subcommand)]
    pub command: Option<InvokeCommand>,
    /// The function, by its key under `functions:`
    #[arg(short = 'f', long, value_name = "NAME", required = true)]
    pub function: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
    /// How to call it: wait for the answer, queue the event, or only check the call is allowed
    #[arg(short = 't', long = "type", value_name = "TYPE", value_enum, default_value_t = TypeArg::RequestResponse)]
    pub invocation_type: TypeArg,
    /// Print the end of the invocation's log (its last 4 KB) to stderr
    #[arg(short = 'l', long)]
    pub log: bool,
    /// A version or alias to call instead of the latest code
    #[arg(short = 'q', long, value_name = "QUALIFIER")]
    pub qualifier: Option<String>,
}

/// What `invoke` does besides calling the deployed function.
#[derive(Debug, Subcommand)]
pub enum InvokeCommand {
    Local(super::invoke_local::InvokeLocalArgs),
}

/// `--type`, as Lambda names the invocation types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TypeArg {
    #[value(name = "RequestResponse")]
    RequestResponse,
    #[value(name = "Event")]
    Event,
    #[value(name = "DryRun")]
    DryRun,
}

impl From<TypeArg> for InvocationType {
    fn from(value: TypeArg) -> Self {
        match value {
            TypeArg::RequestResponse => InvocationType::RequestResponse,
            TypeArg::Event => InvocationType::Event,
            TypeArg::DryRun => InvocationType::DryRun,
        }
    }
}

pub fn exec(
    global: &GlobalArgs,
    args: InvokeArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
    if let Some(command) = args.command {
        return match command {
            InvokeCommand::Local(local) => {
                super::invoke_local::exec(global, local, printer, runtime)
            }
        };
    }
    let name = args.function.unwrap_or_default();
    let payload = args
        .input
        .payload(&mut std::io::stdin().lock(), std::io::stdin().is_terminal())
        .map_err(Failure::user)?;
    let client_context = args.input.client_context().map_err(Failure::user)?;
    let context = cloud::load(global, printer, runtime)?;
    let function = find_function(&context.service, &name)?;
    let backend = cloud::connect(global, &context, runtime)?;
    let request = InvokeRequest {
        function: backend.deployed_name(function),
        payload,
        invocation_type: args.invocation_type.into(),
        client_context,
        qualifier: args.qualifier,
        log_tail: args.log,
    };
    let response = runtime
        .block_on(async {
            tokio::select! {
                response = backend.invoke(&request) => Ok(response),
                _ = tokio::signal::ctrl_c() => Err(Failure::Interrupted),
            }
        })?
        .map_err(|error| cloud::failure(error, &context.loaded.sources))?;

    if let Some(log) = &response.log_tail {
        printer.log_tail(&function.name, log);
    }
    match request.invocation_type {
        InvocationType::Event => {
            printer.info(&format!(
                "Queued: {} runs the event asynchronously (status {}).",
                function.name, response.status
            ));
            return Ok(Status::Success);
        }
        InvocationType::DryRun => {
            printer.info(&format!(
                "Dry run: the call to {} would be allowed (status {}).",
                function.name, response.status
            ));
            return Ok(Status::Success);
        }
        InvocationType::RequestResponse => {}
    }
    printer.payload(&response.payload, PayloadStyle::for_stdout(args.input.raw));
    match response.function_error {
        None => Ok(Status::Success),
        Some(kind) => Err(function_failed(&name, &kind, &response.payload)),
    }
}

/// The function by its key, or an error that lists the service's functions.
pub fn find_function<'a>(service: &'a Service, name: &str) -> Result<&'a Function, Failure> {
    if let Some(function) = service.functions.get(name) {
        return Ok(function);
    }
    // The deployed name works too: it is what the console and the logs show.
    if let Some(function) = service.functions.values().find(|f| f.name == name) {
        return Ok(function);
    }
    Err(Failure::user(UnknownFunction::new(
        name,
        &service.name,
        service.functions.keys().cloned().collect(),
    )))
}

/// `-f` named no function of the service.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("function `{name}` is not in service `{service}`")]
#[diagnostic(help("{help}"))]
pub struct UnknownFunction {
    pub name: String,
    pub service: String,
    /// The closest name, if one is close, and the service's functions.
    pub help: String,
}

impl UnknownFunction {
    pub fn new(name: &str, service: &str, known: Vec<String>) -> Self {
        let help = if known.is_empty() {
            "the service has no functions: add one under `functions:`".to_string()
        } else {
            let closest = known
                .iter()
                .map(|candidate| (strsim::jaro_winkler(candidate, name), candidate))
                .filter(|(score, _)| *score > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let list = known.join(", ");
            match closest {
                Some((_, candidate)) => {
                    format!("did you mean `{candidate}`? The service's functions: {list}")
                }
                None => format!("the service's functions: {list}"),
            }
        };
        UnknownFunction {
            name: name.to_string(),
            service: service.to_string(),
            help,
        }
    }
}

/// A function error: the object is on stdout; this says so on stderr and exits 1.
pub fn function_failed(name: &str, kind: &str, payload: &[u8]) -> Failure {
    let summary = error_summary(payload).unwrap_or_else(|| "see the error object".into());
    Failure::user(FunctionFailed {
        name: name.to_string(),
        kind: kind.to_string(),
        summary,
    })
}

/// The function ran and failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("function `{name}` failed ({kind}): {summary}")]
#[diagnostic(help(
    "the error object is printed on stdout; `--log` shows the end of the invocation's log, \
     `updraft logs -f {name}` the whole log"
))]
pub struct FunctionFailed {
    pub name: String,
    pub kind: String,
    pub summary: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::error::EXIT_ERROR;

    #[test]
    fn a_function_error_exits_1_and_names_the_error() {
        let failure = function_failed(
            "hello",
            "Unhandled",
            br#"{"errorType":"TypeError","errorMessage":"x is undefined"}"#,
        );
        assert_eq!(
            failure.exit_code(),
            std::process::ExitCode::from(EXIT_ERROR)
        );
        let Failure::User(report) = failure else {
            panic!("a function error is the user's to fix");
        };
        assert_eq!(
            report.to_string(),
            "function `hello` failed (Unhandled): TypeError: x is undefined"
        );
    }

    #[test]
    fn an_unknown_function_suggests_the_closest_name() {
        let error = UnknownFunction::new("helo", "svc", vec!["hello".into(), "worker".into()]);
        assert_eq!(
            error.help,
            "did you mean `hello`? The service's functions: hello, worker"
        );
    }
}
