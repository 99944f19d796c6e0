//! One invocation on one instance: hand the event to the runtime, wait for its result, the
//! process's exit or the timeout, and write the log lines Lambda writes around it.

use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use super::function::FunctionSpec;
use super::instance::Instance;
use super::runtime_api::{ApiEvent, Handover, PendingEvent};
use crate::offline::invoke::{
    Completed, ErrorCause, Invocation, InvocationResult, MAX_PAYLOAD_BYTES,
};

/// Lambda gives a function's init phase 10 seconds before it gives up on the environment.
pub const INIT_LIMIT: Duration = Duration::from_secs(10);

/// A finished invocation and whether its instance may take another.
pub struct Ran {
    pub completed: Completed,
    pub reusable: bool,
    /// On a cold start, how long the instance took from its start to taking the event.
    pub init_duration: Option<Duration>,
    /// To be told once the instance has its next event or is shelved (see [`Handover`]).
    pub handover: Option<Handover>,
}

enum Outcome {
    Response(Vec<u8>),
    Failed(ErrorCause, Json),
}

/// Lambda's error object for failures the runtime did not report itself.
fn error_object(error_type: &str, message: String) -> Json {
    json!({ "errorType": error_type, "errorMessage": message })
}

/// The runtime's error body as Lambda passes it on: its JSON object as posted, or one built
/// from the text and the `Lambda-Runtime-Function-Error-Type` header.
fn posted_error(body: &[u8], error_type: Option<String>) -> Json {
    match serde_json::from_slice::<Json>(body) {
        Ok(Json::Object(object)) => Json::Object(object),
        _ => error_object(
            error_type.as_deref().unwrap_or("Unhandled"),
            String::from_utf8_lossy(body).into_owned(),
        ),
    }
}

fn exit_message(request_id: &str, status: std::io::Result<std::process::ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    let how = match status {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(signal)) => format!("signal {signal}"),
            _ => "unknown status".to_string(),
        },
        Err(error) => error.to_string(),
    };
    format!("RequestId: {request_id} Error: Runtime exited with error: {how}")
}

/// Runs `invocation` on `instance`, which must be idle. `handover` is the previous call's,
/// told once this call's event is queued for the runtime.
pub async fn run(
    instance: &mut Instance,
    spec: &FunctionSpec,
    invocation: Invocation,
    request_id: String,
    handover: Option<Handover>,
) -> Ran {
    let cold = instance.invocations == 0;
    instance.invocations += 1;
    // Output between invocations (written after the last result was posted) goes first.
    let mut log = instance.output.take_collected();
    let queued = Instant::now();
    let pending = PendingEvent {
        request_id: request_id.clone(),
        payload: invocation.payload,
        client_context: invocation.client_context,
        timeout: spec.timeout,
    };
    let mut outcome = None;
    let sent = instance.api.inbox.send(pending);
    if let Some(handover) = handover {
        handover.done();
    }
    if sent.is_err() {
        outcome = Some(Outcome::Failed(
            ErrorCause::Crash,
            error_object(
                "Runtime.ExitError",
                "the instance's Runtime API stopped".into(),
            ),
        ));
    }

    // Wait for the runtime to take the event: the end of its init phase on a cold start.
    let mut delivered_at = None;
    while outcome.is_none() && delivered_at.is_none() {
        let limit = tokio::time::sleep_until((queued + INIT_LIMIT).into());
        tokio::select! {
            biased;
            event = instance.api.events.recv() => match event {
                Some(ApiEvent::Delivered { request_id: id }) if id == request_id => {
                    delivered_at = Some(Instant::now());
                }
                Some(ApiEvent::InitError { body, error_type }) => {
                    outcome = Some(Outcome::Failed(ErrorCause::Init, posted_error(&body, error_type)));
                }
                Some(_) => {}
                None => outcome = Some(Outcome::Failed(ErrorCause::Crash, error_object("Runtime.ExitError", "the instance's Runtime API stopped".into()))),
            },
            status = instance.child.wait() => {
                let cause = if cold { ErrorCause::Init } else { ErrorCause::Crash };
                outcome = Some(Outcome::Failed(cause, error_object("Runtime.ExitError", exit_message(&request_id, status))));
            }
            _ = limit => {
                outcome = Some(Outcome::Failed(ErrorCause::Init, error_object(
                    "Runtime.InitTimeout",
                    format!("RequestId: {request_id} Error: the runtime did not ask for the event within {} seconds of starting", INIT_LIMIT.as_secs()),
                )));
            }
        }
    }
    let init_duration = cold.then(|| instance.started.elapsed());
    // On a cold start, what the init phase printed comes before START, as in CloudWatch.
    log.push_str(&if cold {
        instance.output.take()
    } else {
        instance.output.take_collected()
    });
    let started = delivered_at.unwrap_or_else(Instant::now);
    let start_line = format!("START RequestId: {request_id} Version: $LATEST\n");

    let deadline = started + spec.timeout;
    let mut timed_out = false;
    let mut handover = None;
    while outcome.is_none() {
        tokio::select! {
            biased;
            event = instance.api.events.recv() => match event {
                Some(ApiEvent::Response { request_id: id, body, handover: next }) if id == request_id => {
                    outcome = Some(Outcome::Response(body));
                    handover = Some(next);
                }
                Some(ApiEvent::Error { request_id: id, body, error_type, handover: next }) if id == request_id => {
                    outcome = Some(Outcome::Failed(ErrorCause::Handler, posted_error(&body, error_type)));
                    handover = Some(next);
                }
                Some(ApiEvent::ResponseTooLarge { request_id: id }) if id == request_id => {
                    outcome = Some(Outcome::Failed(ErrorCause::ResponseTooLarge, error_object(
                        "Function.ResponseSizeTooLarge",
                        format!("Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."),
                    )));
                }
                Some(ApiEvent::InitError { body, error_type }) => {
                    outcome = Some(Outcome::Failed(ErrorCause::Init, posted_error(&body, error_type)));
                }
                Some(_) => {}
                None => outcome = Some(Outcome::Failed(ErrorCause::Crash, error_object("Runtime.ExitError", "the instance's Runtime API stopped".into()))),
            },
            status = instance.child.wait() => {
                outcome = Some(Outcome::Failed(ErrorCause::Crash, error_object("Runtime.ExitError", exit_message(&request_id, status))));
            }
            _ = tokio::time::sleep_until(deadline.into()) => {
                timed_out = true;
                outcome = Some(Outcome::Failed(ErrorCause::Timeout, error_object(
                    "Sandbox.Timedout",
                    format!("RequestId: {request_id} Error: Task timed out after {:.2} seconds", spec.timeout.as_secs_f64()),
                )));
            }
        }
    }
    let duration = started.elapsed();
    let memory = instance.max_memory_mb();
    let outcome = outcome.unwrap_or(Outcome::Failed(
        ErrorCause::Crash,
        error_object("Runtime.ExitError", "no outcome".into()),
    ));
    let reusable = matches!(
        outcome,
        Outcome::Response(_)
            | Outcome::Failed(ErrorCause::Handler | ErrorCause::ResponseTooLarge, _)
    );
    if !reusable {
        // The environment is gone (timeout, crash, init failure): kill it now, so its output
        // ends here and the next call starts a fresh one.
        let _ = instance.child.start_kill();
    }
    let during = instance.output.take();
    if during.len() >= super::memory::LARGE_LOG {
        super::memory::release_after_large_log();
    }
    if delivered_at.is_some() {
        log.push_str(&start_line);
    }
    let unterminated = !during.is_empty() && !during.ends_with('\n');
    log.push_str(&during);
    drop(during);
    if unterminated {
        log.push('\n');
    }
    if let Outcome::Failed(ErrorCause::Crash | ErrorCause::ResponseTooLarge, error) = &outcome {
        // As Lambda writes a runtime's exit to CloudWatch (the message, then the error type);
        // the reason is in the log a developer watches, not only in the caller's answer.
        log.push_str(&format!(
            "{}\n{}\n",
            error["errorMessage"].as_str().unwrap_or_default(),
            error["errorType"].as_str().unwrap_or_default()
        ));
    }
    if timed_out {
        log.push_str(&format!(
            "{} {request_id} Task timed out after {:.2} seconds\n",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
            spec.timeout.as_secs_f64()
        ));
    }
    if delivered_at.is_none() {
        log.push_str(&start_line);
    }
    log.push_str(&report_lines(
        &request_id,
        duration,
        spec.memory_size,
        memory,
        init_duration,
    ));
    let result = match outcome {
        Outcome::Response(body) => InvocationResult::Success(body),
        Outcome::Failed(cause, error) => InvocationResult::Error {
            cause,
            payload: error.to_string().into_bytes(),
        },
    };
    Ran {
        completed: Completed {
            request_id,
            result,
            log,
            duration_ms: duration.as_secs_f64() * 1000.0,
        },
        reusable,
        init_duration: delivered_at.and(init_duration),
        handover,
    }
}

/// `END` and `REPORT`, as CloudWatch shows them.
fn report_lines(
    request_id: &str,
    duration: Duration,
    memory_size: u32,
    max_memory_mb: Option<u64>,
    init: Option<Duration>,
) -> String {
    let millis = duration.as_secs_f64() * 1000.0;
    let billed = (millis.ceil() as u64).max(1);
    let used = max_memory_mb.map_or("?".to_string(), |mb| mb.to_string());
    let init = init.map_or(String::new(), |init| {
        format!("\tInit Duration: {:.2} ms", init.as_secs_f64() * 1000.0)
    });
    format!(
        "END RequestId: {request_id}\n\
         REPORT RequestId: {request_id}\tDuration: {millis:.2} ms\tBilled Duration: {billed} ms\t\
         Memory Size: {memory_size} MB\tMax Memory Used: {used} MB{init}\n"
    )
}
