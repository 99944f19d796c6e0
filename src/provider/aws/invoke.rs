//! `updraft invoke` on AWS: one Lambda `Invoke` call.
//!
//! The client context travels base64-encoded (Lambda takes it so), the log tail comes back
//! base64-encoded (`LogType: Tail` gives the last 4 KB of the invocation's log), and a function
//! that failed is an answer with `FunctionError` set, which the caller turns into its exit code.
//!
//! The call gets its own time bounds: a function may run for 15 minutes, far past the deploy
//! client's, and it is never retried on a timeout, because a second attempt would run the
//! function twice.

use std::time::Duration;

use aws_sdk_lambda::error::SdkError;
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType as LambdaInvocationType, LogType};

use super::call;
use crate::provider::{InvocationType, InvokeRequest, InvokeResponse, ProviderError};

/// Lambda's longest timeout (15 minutes) and room for the answer to travel.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(15 * 60 + 30);

/// A Lambda client for invocations: the deploy client's settings with a bound long enough for
/// the longest function and a single attempt.
pub fn client(lambda: &aws_sdk_lambda::Client) -> aws_sdk_lambda::Client {
    let config = lambda
        .config()
        .to_builder()
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(INVOKE_TIMEOUT)
                .operation_timeout(INVOKE_TIMEOUT)
                .build(),
        )
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

/// Calls the function once.
pub async fn invoke(
    lambda: &aws_sdk_lambda::Client,
    region: &str,
    request: &InvokeRequest,
) -> Result<InvokeResponse, ProviderError> {
    let mut call = lambda
        .invoke()
        .function_name(&request.function)
        .invocation_type(match request.invocation_type {
            InvocationType::RequestResponse => LambdaInvocationType::RequestResponse,
            InvocationType::Event => LambdaInvocationType::Event,
            InvocationType::DryRun => LambdaInvocationType::DryRun,
        })
        .payload(Blob::new(request.payload.clone()))
        .set_qualifier(request.qualifier.clone())
        .set_client_context(request.client_context.as_deref().map(encode_client_context));
    if request.log_tail {
        call = call.log_type(LogType::Tail);
    }
    match call.send().await {
        Ok(output) => Ok(response(output)),
        Err(error) => Err(invoke_failed(request, region, &error)),
    }
}

/// Lambda takes the client context as base64 of its JSON.
pub fn encode_client_context(json: &str) -> String {
    aws_smithy_types::base64::encode(json.as_bytes())
}

/// The answer as plain data; the log tail decoded (an undecodable one is shown as it came).
pub fn response(output: InvokeOutput) -> InvokeResponse {
    let log_tail = output.log_result().map(|encoded| {
        aws_smithy_types::base64::decode(encoded)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_else(|_| encoded.to_string())
    });
    InvokeResponse {
        status: u16::try_from(output.status_code()).unwrap_or_default(),
        function_error: output
            .function_error()
            .filter(|kind| !kind.is_empty())
            .map(str::to_string),
        log_tail,
        executed_version: output.executed_version().map(str::to_string),
        payload: output.payload.map(Blob::into_inner).unwrap_or_default(),
    }
}

/// A refused call, with the fix for the usual causes.
fn invoke_failed(
    request: &InvokeRequest,
    region: &str,
    error: &SdkError<InvokeError, aws_sdk_lambda::config::http::HttpResponse>,
) -> ProviderError {
    let name = match &request.qualifier {
        Some(qualifier) => format!("{}:{qualifier}", request.function),
        None => request.function.clone(),
    };
    let resource = format!("function {name}");
    let detail = || match aws_sdk_lambda::error::ProvideErrorMetadata::message(error) {
        Some(text) if !text.is_empty() => text.to_string(),
        _ => call::code(error).unwrap_or("refused").to_string(),
    };
    match call::code(error) {
        Some("ResourceNotFoundException") => ProviderError::Call {
            operation: "lambda:InvokeFunction".into(),
            resource,
            message: format!("it is not deployed in {region}: {}", detail()),
            help: match &request.qualifier {
                Some(qualifier) => format!(
                    "check the version or alias `{qualifier}`, or deploy the service first \
                     (`updraft deploy`) with the same --stage and --region"
                ),
                None => "deploy the service first (`updraft deploy`) with the same --stage and \
                         --region"
                    .into(),
            },
        },
        Some("RequestTooLargeException") => ProviderError::Call {
            operation: "lambda:InvokeFunction".into(),
            resource,
            message: detail(),
            help: "Lambda takes at most 6 MB for a synchronous call and 256 KB (1 MB in some \
                   regions) for `--type Event`: send a smaller event"
                .into(),
        },
        Some("InvalidRequestContentException") => ProviderError::Call {
            operation: "lambda:InvokeFunction".into(),
            resource,
            message: detail(),
            help: "the event and the client context must be valid JSON (`--data`, `--path`, \
                   `--context`)"
                .into(),
        },
        _ => call::failed("lambda:InvokeFunction", resource, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_error_and_its_log_tail_are_read_from_the_answer() {
        let output = InvokeOutput::builder()
            .status_code(200)
            .function_error("Unhandled")
            .log_result(encode_client_context("START RequestId: 1\nboom\n"))
            .payload(Blob::new(br#"{"errorMessage":"boom"}"#.to_vec()))
            .build();
        let response = response(output);
        assert_eq!(response.function_error.as_deref(), Some("Unhandled"));
        assert_eq!(
            response.log_tail.as_deref(),
            Some("START RequestId: 1\nboom\n")
        );
        assert_eq!(response.payload, br#"{"errorMessage":"boom"}"#);
        assert_eq!(response.status, 200);
    }

    #[test]
    fn an_empty_function_error_header_is_not_a_failure() {
        let output = InvokeOutput::builder()
            .status_code(200)
            .function_error("")
            .build();
        assert_eq!(response(output).function_error, None);
    }

    #[test]
    fn the_client_context_is_base64_of_its_json() {
        assert_eq!(encode_client_context(r#"{"a":1}"#), "eyJhIjoxfQ==");
    }
}
