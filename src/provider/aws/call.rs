//! One deploy call's failure as a [`ProviderError`] that says the fix, and the waits updraft
//! adds to the SDK's own retry policy (which alone retries throttling and transient network
//! errors, with its backoff): Lambda's `ResourceConflictException` (an update of the function
//! still running) and IAM's propagation delay (a new role "cannot be assumed" for a few
//! seconds). Those are states that end, not failed attempts: the waits are bounded by the
//! step's deadline and tell the user why they wait.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::sdk::{innermost_text, is_missing_credentials, ACCESS_DENIED, BAD_CREDENTIALS};
use crate::plan::ResourceId;
use crate::provider::{ProviderError, StepContext};

/// The error code of a service's answer, if it answered.
pub fn code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    match error {
        SdkError::ServiceError(_) => error.code(),
        _ => None,
    }
}

/// Whether the service answered with one of these codes.
pub fn is<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>, codes: &[&str]) -> bool {
    code(error).is_some_and(|found| codes.contains(&found))
}

/// The outcome of a delete call: a target that is already gone (`missing` is the service's
/// not-found code) counts as deleted, so a remove re-run after an interruption converges.
pub fn deleted<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    missing: &str,
    operation: &str,
    resource: impl Display,
) -> Result<(), ProviderError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(error) if is(&error, &[missing]) => Ok(()),
        Err(error) => Err(failed(operation, resource, &error)),
    }
}

/// The body of the answer behind an error, when the SDK kept it.
pub fn raw_body<E, R>(error: &SdkError<E, R>) -> Option<String>
where
    R: std::fmt::Debug + 'static,
{
    let raw = error
        .raw_response()
        .and_then(|raw| (raw as &dyn std::any::Any).downcast_ref::<HttpResponse>())?;
    raw.body()
        .bytes()
        .map(|bytes| String::from_utf8_lossy(bytes).trim().to_string())
}

/// An answer without an error code (a body the SDK could not read): its HTTP status and the
/// start of its body, which is what a user needs to see what went wrong.
fn unreadable_answer<E, R>(error: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let raw = error
        .raw_response()
        .and_then(|raw| (raw as &dyn std::any::Any).downcast_ref::<HttpResponse>());
    match raw {
        Some(response) => {
            let body = raw_body(error).unwrap_or_default();
            let mut excerpt: String = body.chars().take(300).collect();
            if excerpt.len() < body.len() {
                excerpt.push_str("...");
            }
            format!(
                "the service answered HTTP {} with a body that is not the answer this call \
                 expects: {}",
                response.status().as_u16(),
                if excerpt.is_empty() {
                    "(empty)".to_string()
                } else {
                    excerpt
                }
            )
        }
        None => DisplayErrorContext(error).to_string(),
    }
}

/// The HTTP status of the answer, if there was one.
pub fn status<E>(error: &SdkError<E, HttpResponse>) -> Option<u16> {
    error.raw_response().map(|r| r.status().as_u16())
}

/// `operation` (as IAM names it, `lambda:CreateFunction`) failed for `resource`.
pub fn failed<E, R>(
    operation: &str,
    resource: impl Display,
    error: &SdkError<E, R>,
) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let resource = resource.to_string();
    if is_missing_credentials(error) {
        let detail = innermost_text(error);
        let detail = detail.lines().next().unwrap_or_default().to_string();
        return ProviderError::Credentials {
            cloud: "AWS".into(),
            message: detail,
            help: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --aws-profile, or \
                   configure a default profile (aws configure)"
                .into(),
        };
    }
    match error {
        SdkError::ServiceError(_) if error.code().is_none() => ProviderError::Call {
            operation: operation.into(),
            resource,
            message: unreadable_answer(error),
            help: "if AWS_ENDPOINT_URL points at an emulator, the emulator answered what AWS \
                   would not; otherwise run the command again"
                .into(),
        },
        SdkError::ServiceError(_) => {
            let code = error.code().unwrap_or_default();
            let message = match error.message() {
                Some(text) if !text.is_empty() => format!("{code}: {text}"),
                _ => code.to_string(),
            };
            if BAD_CREDENTIALS.contains(&code) {
                ProviderError::Credentials {
                    cloud: "AWS".into(),
                    message,
                    help: "refresh or replace the credentials (environment variables, \
                           --aws-profile, or the shared credentials file)"
                        .into(),
                }
            } else if ACCESS_DENIED.contains(&code) {
                ProviderError::Call {
                    operation: operation.into(),
                    resource,
                    message,
                    help: format!(
                        "the credentials in use need permission for {operation}: grant it, or \
                         use other credentials with --aws-profile"
                    ),
                }
            } else {
                ProviderError::Call {
                    operation: operation.into(),
                    resource,
                    message,
                    help: "fix what the message says, then run the command again: it continues \
                           from where it stopped"
                        .into(),
                }
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => ProviderError::Call {
            operation: operation.into(),
            resource,
            message: format!("AWS could not be reached: {}", innermost_text(error)),
            help: "check the network connection and the region (AWS_ENDPOINT_URL points updraft \
                   at another endpoint), then run the command again"
                .into(),
        },
        _ => ProviderError::Call {
            operation: operation.into(),
            resource,
            message: DisplayErrorContext(error).to_string(),
            help: "if AWS_ENDPOINT_URL is set, check that it points at AWS or an emulator of it; \
                   then run the command again"
                .into(),
        },
    }
}

/// Why a failed call may be tried again, and after how long when the service said so.
pub struct RetryReason {
    pub reason: &'static str,
    pub after: Option<Duration>,
}

/// Lambda's answer that goes away by waiting: an update of the function still in progress.
/// (Throttling is the SDK's own retry policy's to handle, with its backoff; it is not retried
/// a second time here.)
pub fn lambda_transient<E: ProvideErrorMetadata>(
    error: &SdkError<E, HttpResponse>,
) -> Option<RetryReason> {
    (code(error)? == "ResourceConflictException").then(|| RetryReason {
        reason: "another update of the function is still running",
        after: retry_after(error),
    })
}

/// Lambda refuses a role IAM has just created for a few seconds.
pub fn role_not_yet_assumable<E: ProvideErrorMetadata>(
    error: &SdkError<E, HttpResponse>,
) -> Option<RetryReason> {
    let message = error.message().unwrap_or_default();
    (code(error) == Some("InvalidParameterValueException")
        && (message.contains("cannot be assumed") || message.contains("role defined")))
    .then_some(RetryReason {
        reason: "the new execution role is not usable yet (IAM is propagating it)",
        after: None,
    })
}

/// The `Retry-After` header (Lambda also says `retryAfterSeconds` in the body; the header
/// carries the same number).
fn retry_after<E>(error: &SdkError<E, HttpResponse>) -> Option<Duration> {
    let header = error.raw_response()?.headers().get("Retry-After")?;
    header
        .trim()
        .parse::<u64>()
        .ok()
        .map(|seconds| Duration::from_secs(seconds.min(60)))
}

/// Runs `call` until it succeeds, fails with an error `transient` does not recognise, or the
/// step's deadline would pass while waiting. Waits double from half a second to eight.
pub async fn retrying<T, E, F, Fut>(
    context: &StepContext<'_>,
    resource: &ResourceId,
    transient: impl Fn(&SdkError<E, HttpResponse>) -> Option<RetryReason>,
    mut call: F,
) -> Result<T, SdkError<E, HttpResponse>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    let mut pause = Duration::from_millis(500);
    loop {
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let Some(retry) = transient(&error) else {
            return Err(error);
        };
        let wait = retry.after.unwrap_or(pause);
        if context.remaining() <= wait {
            return Err(error);
        }
        context.progress.waiting(
            resource,
            &format!(
                "{}; trying again in {:.1} s",
                retry.reason,
                wait.as_secs_f32()
            ),
        );
        tokio::time::sleep(wait).await;
        pause = (pause * 2).min(Duration::from_secs(8));
    }
}
