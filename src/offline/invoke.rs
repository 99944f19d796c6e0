//! The contract between the emulator's front ends (HTTP triggers, the Lambda Invoke API,
//! schedules, `offline emit`, `invoke local`) and the execution engine that runs function code.
//!
//! Front ends build an [`Invocation`] and read back a [`Completed`]; they never see processes or
//! the Runtime API. Keeping this a trait lets each front end be tested with an in-process
//! [`Invoker`] and lets the engine be tested without any front end.

use async_trait::async_trait;

/// Lambda refuses synchronous request and response payloads over 6 MB (6,291,456 bytes).
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// One call of one function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    /// The event, as JSON bytes.
    pub payload: Vec<u8>,
    /// `X-Amz-Client-Context` decoded from base64: raw JSON handed to the runtime as is.
    pub client_context: Option<String>,
    /// A request id to use instead of a fresh one (the Invoke API takes none; tests pin one).
    pub request_id: Option<String>,
}

/// What a finished invocation gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Completed {
    pub request_id: String,
    pub result: InvocationResult,
    /// Everything the function wrote during this invocation, with the `START`/`END`/`REPORT`
    /// lines, as CloudWatch would show it (what `invoke --log` prints).
    pub log: String,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationResult {
    /// The handler's response bytes (JSON, or whatever the runtime posted).
    Success(Vec<u8>),
    /// Lambda's `X-Amz-Function-Error: Unhandled` with an error object
    /// (`{"errorMessage", "errorType", "stackTrace"}`) as the payload.
    Error { cause: ErrorCause, payload: Vec<u8> },
}

/// Why an invocation failed; API Gateway maps a timeout to 504 and the rest to 502.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCause {
    /// The handler threw or returned an error (`/response` never came, `/error` did).
    Handler,
    /// The runtime failed to start the function (`/init/error`, or exited before `next`).
    Init,
    /// The configured timeout passed: "Task timed out after N.00 seconds".
    Timeout,
    /// The process exited during the invocation.
    Crash,
    /// The response was over [`MAX_PAYLOAD_BYTES`].
    ResponseTooLarge,
}

/// An invocation that could not be attempted at all.
#[derive(Debug, thiserror::Error, miette::Diagnostic, Clone, PartialEq, Eq)]
pub enum InvokeError {
    #[error("function `{name}` is not in this service")]
    #[diagnostic(help("the service's functions are: {}", known.join(", ")))]
    UnknownFunction { name: String, known: Vec<String> },
    #[error("request payload is {size} bytes; Lambda accepts at most {limit}")]
    PayloadTooLarge { size: usize, limit: usize },
    #[error("function `{name}` is at its concurrency limit ({limit})")]
    #[diagnostic(help("raise `reservedConcurrency` or `--maxConcurrency`"))]
    TooManyRequests { name: String, limit: usize },
    #[error("the emulator is shutting down")]
    ShuttingDown,
    #[error("cannot start function `{name}`: {reason}")]
    Start { name: String, reason: String },
}

/// Runs functions by name (the key under `functions:`).
#[async_trait]
pub trait Invoker: Send + Sync {
    async fn invoke(
        &self,
        function: &str,
        invocation: Invocation,
    ) -> Result<Completed, InvokeError>;
}
