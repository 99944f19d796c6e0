//! What `updraft offline` shows: the routes, the ready line, one line per request, and each
//! invocation's log (`START`, the function's output, `END`, `REPORT`) as CloudWatch would show
//! it. Everything goes to stderr except `offline emit`'s results (stdout).

use crate::offline::alb::rules::Rule;
use crate::offline::http::RequestLog;
use crate::offline::invoke::{Completed, InvokeError};
use crate::offline::pollers::{Delivery, Outcome, PollerWarning, Polling};
use crate::offline::server::{Observer, RouteLine};
use crate::offline::websocket::WebSocketLog;

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

/// The load balancer's rules: priority, conditions and function.
pub fn alb_rules(printer: &Printer, base_url: &str, rules: &[Rule]) {
    let mut text = format!("ALB: {base_url}\n");
    for rule in rules {
        let conditions = serde_json::to_value(&rule.conditions)
            .ok()
            .and_then(|value| {
                let map = value.as_object()?.clone();
                let written: Vec<String> = map
                    .into_iter()
                    .filter(|(_, v)| {
                        !(v.is_null()
                            || v.as_array().is_some_and(Vec::is_empty)
                            || v.as_object().is_some_and(|o| o.is_empty()))
                    })
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                Some(written.join(", "))
            })
            .unwrap_or_default();
        text.push_str(&format!(
            "  priority {}  {conditions}  -> {} (ALB)\n",
            rule.priority, rule.function
        ));
    }
    printer.info(text.trim_end());
}

/// The WebSocket API's address and routes: `route key -> function`.
pub fn websocket_routes(printer: &Printer, url: &str, routes: &[(String, String)]) {
    let width = routes.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
    let mut text = format!("WebSocket API: {url}\n");
    for (key, function) in routes {
        text.push_str(&format!("  WS  {key:width$}  -> {function}\n"));
    }
    printer.info(text.trim_end());
}

/// The keys `private: true` routes accept, as serverless-offline prints them.
pub fn api_keys(printer: &Printer, keys: &[String], no_auth: bool) {
    if keys.is_empty() {
        return;
    }
    if no_auth {
        printer.info("Authorizers and API keys are off (--noAuth): `x-api-key` is not needed.");
        return;
    }
    printer.info("Private routes need an `x-api-key` header with one of these keys:");
    for key in keys {
        printer.info(&format!("  API key: {key}"));
    }
}

/// The line scripts wait for: requests are accepted once it is printed.
pub fn ready(printer: &Printer, http_url: &str, lambda_url: &str) {
    printer.info(&format!("Lambda Invoke API: {lambda_url}"));
    printer.info(&format!("Server ready: {http_url}"));
}

/// One message for a request (or WebSocket route): its invocation's lines, prefixed with the
/// function's name, then `{what} -> {function} {outcome}`.
fn with_invocation(
    function: Option<&str>,
    invocation_log: Option<&str>,
    what: &str,
    outcome: &str,
) -> String {
    let function = function.unwrap_or_default();
    let mut text = invocation_log
        .map(|invocation| prefixed(function, invocation))
        .unwrap_or_default();
    if !text.is_empty() {
        text.push('\n');
    }
    let arrow = if function.is_empty() { "" } else { " -> " };
    text.push_str(&format!("{what}{arrow}{function} {outcome}"));
    text
}

/// Tells what the emulator does, through the printer.
pub struct OfflineLog {
    pub printer: Printer,
}

impl Observer for OfflineLog {
    fn request(&self, log: &RequestLog) {
        self.printer.info(&with_invocation(
            log.function.as_deref(),
            log.invocation_log.as_deref(),
            &format!("{} {}", log.method, log.path),
            &format!("{} ({} ms)", log.status, log.duration_ms),
        ));
    }

    fn invocation(&self, function: &str, completed: &Completed) {
        let text = prefixed(function, &completed.log);
        if !text.is_empty() {
            self.printer.info(&text);
        }
    }

    fn scheduled(&self, function: &str, expression: &str) {
        self.printer
            .info(&format!("schedule {expression} -> {function}"));
    }

    fn authorization(&self, note: &str) {
        self.printer.info(&format!("authorization: {note}"));
    }

    fn websocket(&self, log: &WebSocketLog) {
        self.printer.info(&with_invocation(
            log.function.as_deref(),
            log.invocation_log.as_deref(),
            &format!("websocket {} {}", log.route_key, log.connection_id),
            &format!("{} ({} ms)", log.outcome, log.duration_ms),
        ));
    }

    fn refused(&self, function: &str, error: &InvokeError) {
        self.printer
            .info(&format!("[{function}] not invoked: {error}"));
    }

    // Queues and streams.
    fn polling(&self, polling: &Polling) {
        let position = polling
            .position
            .as_deref()
            .map(|position| format!(" from {position}"))
            .unwrap_or_default();
        self.printer.info(&format!(
            "polling {}{position} (batch size {}) -> {}",
            polling.source, polling.batch_size, polling.function
        ));
    }

    fn delivered(&self, delivery: &Delivery) {
        let records = match delivery.records {
            1 => "1 record".to_string(),
            count => format!("{count} records"),
        };
        let outcome = match &delivery.outcome {
            Outcome::Succeeded => "done".to_string(),
            Outcome::PartlyFailed { failed } => {
                format!("{failed} reported as failed stay on the queue, the rest are deleted")
            }
            Outcome::ReadAgainFrom { failed } => {
                format!("the last {failed} reported as failed: read again from the first of them")
            }
            Outcome::LeftOnQueue => {
                "failed: the messages come back after their visibility timeout".to_string()
            }
            Outcome::Failed { attempt } => format!("failed (attempt {attempt}): retrying"),
            Outcome::Skipped { attempts } => format!("failed {attempts} times: skipped"),
        };
        self.printer.info(&format!(
            "{} -> {}: {records}, {outcome}",
            delivery.source, delivery.function
        ));
    }

    fn poller_warning(&self, warning: &PollerWarning) {
        self.printer.warning(warning);
    }
}

/// An invocation's log with each line marked with its function: `[name] START RequestId: ...`.
fn prefixed(function: &str, log: &str) -> String {
    let log = log.trim_end();
    let mut text = String::with_capacity(log.len() + 8 * (function.len() + 3));
    for line in log.lines() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push('[');
        text.push_str(function);
        text.push_str("] ");
        text.push_str(line);
    }
    text
}
