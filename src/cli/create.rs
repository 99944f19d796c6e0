//! `updraft create`: writes a new service from a template built into the binary, and says what
//! to type next. `updraft create --list` lists the templates.

use std::path::PathBuf;

use clap::Args;

use super::error::{Failure, Status};
use super::output::Printer;
use crate::create::{self, Created, TEMPLATES};

/// Start a new service from a template (`--list` shows them)
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The template, e.g. `aws-nodejs` (see --list)
    #[arg(
        short = 't',
        long,
        value_name = "NAME",
        required_unless_present = "list"
    )]
    pub template: Option<String>,
    /// The directory to write the service to (made if missing) [default: the current directory]
    #[arg(short = 'p', long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// The service's name (`service:`) [default: the directory's name]
    #[arg(short = 'n', long, value_name = "SERVICE")]
    pub name: Option<String>,
    /// Write into a directory that already holds files (files of the same name are replaced)
    #[arg(long)]
    pub force: bool,
    /// List the templates, one line each
    #[arg(long, conflicts_with_all = ["template", "path", "name", "force"])]
    pub list: bool,
}

pub fn exec(args: CreateArgs, printer: &mut Printer) -> Result<Status, Failure> {
    let Some(name) = args.template.filter(|_| !args.list) else {
        list(printer);
        return Ok(Status::Success);
    };
    let template = create::find(&name).map_err(Failure::user)?;
    let directory = args.path.unwrap_or_else(|| PathBuf::from("."));
    let created = create::create(template, &directory, args.name.as_deref(), args.force)
        .map_err(Failure::user)?;
    next_steps(printer, &created, &directory);
    Ok(Status::Success)
}

fn list(printer: &Printer) {
    let width = TEMPLATES.iter().map(|t| t.name.len()).max().unwrap_or(0);
    for template in TEMPLATES {
        printer.data(&format!("{:width$}  {}", template.name, template.summary));
    }
}

fn next_steps(printer: &Printer, created: &Created, directory: &std::path::Path) {
    printer.info(&format!(
        "Created the service `{}` from the template {} in {} ({} files).",
        created.service,
        created.template.name,
        directory.display(),
        created.files.len()
    ));
    let mut steps = Vec::new();
    if directory != std::path::Path::new(".") {
        steps.push(format!("cd {}", directory.display()));
    }
    steps.extend(created.template.setup.iter().map(|step| step.to_string()));
    steps.extend(created.template.next.iter().map(|step| step.to_string()));
    printer.info("Next:");
    for step in steps {
        printer.info(&format!("  {step}"));
    }
}
