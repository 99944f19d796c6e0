//! Progress while a plan is applied: on a terminal, a spinner per running step (indicatif) and a
//! line per finished one; elsewhere (CI logs), plain lines only, one when a step starts and one
//! when it ends. Everything goes to stderr and through the printer's redaction.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Printer;
use crate::plan::{Action, ResourceId, Step};
use crate::provider::engine::Observer;
use crate::provider::{ProviderError, StepProgress};

/// Shows the apply's progress.
pub struct ApplyProgress {
    printer: Printer,
    bars: Option<MultiProgress>,
    running: Mutex<BTreeMap<ResourceId, ProgressBar>>,
}

impl ApplyProgress {
    /// Spinners when `terminal`, plain lines otherwise.
    pub fn new(printer: &Printer, terminal: bool) -> Self {
        ApplyProgress {
            printer: printer.clone(),
            bars: terminal.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            running: Mutex::new(BTreeMap::new()),
        }
    }

    fn line(&self, text: &str) {
        let text = self.printer.redact(text);
        match &self.bars {
            // Printed above the spinners, so they stay at the bottom.
            Some(bars) => {
                let _ = bars.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    fn stop(&self, id: &ResourceId) {
        let bar = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        if let (Some(bars), Some(bar)) = (&self.bars, bar) {
            bar.finish_and_clear();
            bars.remove(&bar);
        }
    }
}

/// "creating", "updating"...
fn doing(action: Action) -> &'static str {
    match action {
        Action::Create => "creating",
        Action::Update => "updating",
        Action::Replace => "replacing",
        Action::Delete => "deleting",
        Action::NoOp => "checking",
    }
}

/// "created", "updated"...
fn done(action: Action) -> &'static str {
    match action {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Replace => "replaced",
        Action::Delete => "deleted",
        Action::NoOp => "unchanged",
    }
}

impl StepProgress for ApplyProgress {
    fn waiting(&self, resource: &ResourceId, message: &str) {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        match running.get(resource) {
            Some(bar) => bar.set_message(self.printer.redact(&format!("{resource}: {message}"))),
            None => {
                drop(running);
                self.line(&format!("  {resource}: {message}"));
            }
        }
    }
}

impl Observer for ApplyProgress {
    fn started(&self, step: &Step) {
        let message = format!("{} {}", doing(step.action), step.id);
        match &self.bars {
            Some(bars) => {
                let bar = bars.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {msg} ({elapsed})")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_message(self.printer.redact(&message));
                bar.enable_steady_tick(Duration::from_millis(120));
                self.running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(step.id.clone(), bar);
            }
            None => self.line(&format!("  {message}")),
        }
    }

    fn finished(&self, step: &Step, elapsed: Duration) {
        self.stop(&step.id);
        self.line(&format!(
            "  {} {} ({:.1} s)",
            done(step.action),
            step.id,
            elapsed.as_secs_f64()
        ));
    }

    fn failed(&self, step: &Step, error: &ProviderError) {
        self.stop(&step.id);
        let verb = match step.action {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::NoOp => "check",
        };
        self.line(&format!("  failed to {verb} {}: {error}", step.id));
    }
}
