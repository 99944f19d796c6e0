//! What `updraft offline` shows: the routes, the ready line, one line per request, and each
//! invocation's log (`START`, the function's output, `END`, `REPORT`) as CloudWatch would show
//! it. Everything goes to stderr except `offline emit`'s results (stdout).

use crate::offline::http::RequestLog;
use crate::offline::invoke::{Completed, InvokeError};
use crate::offline::server::{Observer, RouteLine};

use super::Printer;

/// The route listing: method, URL and function, aligned.
pub fn routes(printer: &Printer, base_url: &str, routes: &[RouteLine]) {
    if routes.is_empty() {
        printer.info("No HTTP routes (the service has no `http` or `httpApi` events).");
        return;
    }
    let width = routes.iter().map(|r| r.method.len()).max().unwrap_or(0);
    let mut text = String::new();
    for route in routes {
        text.push_str(&format!(
            "  {:width$}  {base_url}{}  -> {} ({})\n",
            route.method, route.path, route.function, route.api
        ));
    }
    printer.info(text.trim_end());
}

/// The line scripts wait for: requests are accepted once it is printed.
pub fn ready(printer: &Printer, http_url: &str, lambda_url: &str) {
    printer.info(&format!("Lambda Invoke API: {lambda_url}"));
    printer.info(&format!("Server ready: {http_url}"));
}

/// Tells what the emulator does, through the printer.
pub struct OfflineLog {
    pub printer: Printer,
}

impl Observer for OfflineLog {
    fn request(&self, log: &RequestLog) {
        let function = log
            .function
            .as_deref()
            .map(|f| format!(" -> {f}"))
            .unwrap_or_default();
        self.printer.info(&format!(
            "{} {}{function} {} ({} ms)",
            log.method, log.path, log.status, log.duration_ms
        ));
    }

    fn invocation(&self, function: &str, completed: &Completed) {
        let log = completed.log.trim_end();
        if !log.is_empty() {
            let prefixed: Vec<String> = log.lines().map(|l| format!("[{function}] {l}")).collect();
            self.printer.info(&prefixed.join("\n"));
        }
    }

    fn scheduled(&self, function: &str, expression: &str) {
        self.printer
            .info(&format!("schedule {expression} -> {function}"));
    }

    fn refused(&self, function: &str, error: &InvokeError) {
        self.printer
            .info(&format!("[{function}] not invoked: {error}"));
    }
}
