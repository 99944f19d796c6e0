//! `updraft completions SHELL`: shell completion scripts.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::error::{Failure, Status};
use super::output::Printer;

/// Print a shell completion script (bash, zsh or fish)
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

pub fn exec(args: CompletionsArgs, printer: &Printer) -> Result<Status, Failure> {
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut super::Cli::command(), "updraft", &mut script);
    printer.data(&String::from_utf8_lossy(&script));
    Ok(Status::Success)
}
