//! The emulator's Lambda Invoke API driven by real AWS clients: the Rust `aws-sdk-lambda` and
//! Python's boto3, pointed at it with an endpoint override. An in-test `Invoker` stands in for
//! the engine: what is under test is that the SDKs read the emulator's answers (payloads,
//! function errors, 202/204, client context, `ResourceNotFoundException`) as Lambda's.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use base64::Engine as _;
use serde_json::{json, Value};
use updraft::manifest::model::Service;
use updraft::manifest::{Node, Span};
use updraft::offline::connection::Timeouts;
use updraft::offline::http::routes::RouteOptions;
use updraft::offline::invoke::{
    Completed, ErrorCause, Invocation, InvocationResult, InvokeError, Invoker,
};
use updraft::offline::server::{self, Emulator, OfflineOptions, Silent};
use updraft::offline::websocket::WebSocketOptions;

/// `echo` answers `{"event", "clientContext"}`; `fail` throws.
#[derive(Default)]
struct Double {
    calls: Mutex<Vec<String>>,
    /// Every payload a function got, in order.
    payloads: Mutex<Vec<Vec<u8>>>,
}

#[async_trait]
impl Invoker for Double {
    async fn invoke(
        &self,
        function: &str,
        invocation: Invocation,
    ) -> Result<Completed, InvokeError> {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(function.to_string());
        }
        if let Ok(mut payloads) = self.payloads.lock() {
            payloads.push(invocation.payload.clone());
        }
        let event: Value = serde_json::from_slice(&invocation.payload).unwrap_or(Value::Null);
        let context: Value = invocation
            .client_context
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or(Value::Null);
        let result = match function {
            "echo" => InvocationResult::Success(
                json!({"event": event, "clientContext": context}).to_string().into_bytes(),
            ),
            _ => InvocationResult::Error {
                cause: ErrorCause::Handler,
                payload: json!({"errorMessage": "no luck", "errorType": "Error", "stackTrace": ["at fail"]})
                    .to_string()
                    .into_bytes(),
            },
        };
        Ok(Completed {
            request_id: "0b7c7c1e-0000-4000-8000-000000000001".into(),
            result,
            log: "START RequestId: 0b7c\nhello from the function\nEND RequestId: 0b7c\n".into(),
            duration_ms: 1.0,
        })
    }
}

fn service() -> Service {
    let manifest = json!({
        "service": "shop",
        "provider": {"name": "aws", "runtime": "nodejs20.x"},
        "functions": {
            "echo": {"handler": "h.echo"},
            "fail": {"handler": "h.fail"},
        }
    });
    Service::from_tree(&Node::from_json(&manifest, Span::default()))
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn start(double: Arc<Double>) -> Emulator {
    let options = OfflineOptions {
        host: "127.0.0.1".parse().expect("ip"),
        http_port: 0,
        lambda_port: 0,
        alb_port: 0,
        routes: RouteOptions::default(),
        timeouts: Timeouts::default(),
        auth: updraft::offline::http::auth::AuthOptions::default(),
        https: None,
        websocket: WebSocketOptions::default(),
    };
    server::start(&service(), &options, double, Arc::new(Silent))
        .await
        .expect("emulator starts")
}

fn client(endpoint: &str) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_reads_payloads_function_errors_and_invocation_types() {
    let double = Arc::new(Double::default());
    let emulator = start(double.clone()).await;
    let lambda = client(&emulator.lambda_url());

    let context = base64::engine::general_purpose::STANDARD.encode(r#"{"custom":{"user":"ada"}}"#);
    let output = lambda
        .invoke()
        .function_name("echo")
        .payload(Blob::new(br#"{"n":1}"#.to_vec()))
        .client_context(context)
        .log_type(LogType::Tail)
        .send()
        .await
        .expect("invoke succeeds");
    assert_eq!(output.status_code(), 200);
    assert_eq!(output.function_error(), None);
    assert_eq!(output.executed_version(), Some("$LATEST"));
    let payload: Value =
        serde_json::from_slice(output.payload().map(|b| b.as_ref()).unwrap_or_default())
            .expect("JSON");
    assert_eq!(payload["event"], json!({"n": 1}));
    assert_eq!(payload["clientContext"]["custom"]["user"], "ada");
    let log = output
        .log_result()
        .and_then(|l| base64::engine::general_purpose::STANDARD.decode(l).ok())
        .unwrap_or_default();
    assert!(String::from_utf8_lossy(&log).contains("hello from the function"));

    // By deployed name; a function error is a successful call with FunctionError set.
    let failed = lambda
        .invoke()
        .function_name("shop-dev-fail")
        .send()
        .await
        .expect("invoke answers");
    assert_eq!(failed.function_error(), Some("Unhandled"));
    let error: Value =
        serde_json::from_slice(failed.payload().map(|b| b.as_ref()).unwrap_or_default())
            .expect("JSON");
    assert_eq!(error["errorMessage"], "no luck");

    let event = lambda
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .send()
        .await
        .expect("async invoke");
    assert_eq!(event.status_code(), 202);
    let dry = lambda
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .expect("dry run");
    assert_eq!(dry.status_code(), 204);

    let unknown = lambda
        .invoke()
        .function_name("nope")
        .send()
        .await
        .expect_err("unknown function");
    let service_error = unknown.into_service_error();
    assert!(
        service_error.is_resource_not_found_exception(),
        "got {service_error:?}"
    );
    emulator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocations_without_a_payload_give_the_function_an_empty_object() {
    let double = Arc::new(Double::default());
    let emulator = start(double.clone()).await;
    let lambda = client(&emulator.lambda_url());

    let queued = lambda
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .send()
        .await
        .expect("async invoke");
    assert_eq!(queued.status_code(), 202);
    assert!(queued
        .payload()
        .is_none_or(|payload| payload.as_ref().is_empty()));
    // The event runs in the background: wait for it to arrive.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let first = loop {
        let seen = double.payloads.lock().ok().and_then(|p| p.first().cloned());
        if let Some(payload) = seen {
            break payload;
        }
        assert!(std::time::Instant::now() < deadline, "the event never ran");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(first, b"{}");

    let answered = lambda
        .invoke()
        .function_name("echo")
        .send()
        .await
        .expect("invoke");
    assert_eq!(answered.status_code(), 200);
    let payload: Value =
        serde_json::from_slice(answered.payload().map(|b| b.as_ref()).unwrap_or_default())
            .expect("JSON");
    assert_eq!(payload["event"], json!({}));
    emulator.stop().await;
}

/// The test venv's Python (`scripts/test.sh` makes `.venv` with boto3 from
/// `scripts/requirements-test.txt`), or `UPDRAFT_TEST_PYTHON`.
fn python() -> PathBuf {
    let python = std::env::var_os("UPDRAFT_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    let has_boto3 = std::process::Command::new(&python)
        .args(["-c", "import boto3"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has_boto3,
        "{} cannot import boto3: run `bash scripts/test.sh` once (it makes .venv from \
         scripts/requirements-test.txt), or set UPDRAFT_TEST_PYTHON to a python with boto3",
        python.display()
    );
    python
}

const BOTO3_SCRIPT: &str = r#"
import base64, json, sys
import boto3
lambda_ = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
out = {}
ok = lambda_.invoke(FunctionName="echo", Payload=b'{"from": "boto3"}',
                    ClientContext=base64.b64encode(b'{"custom": {"k": "v"}}').decode())
out["ok"] = {"status": ok["StatusCode"], "error": ok.get("FunctionError"),
             "payload": json.loads(ok["Payload"].read())}
failed = lambda_.invoke(FunctionName="fail", Payload=b"{}")
out["failed"] = {"status": failed["StatusCode"], "error": failed.get("FunctionError"),
                 "payload": json.loads(failed["Payload"].read())}
out["event"] = lambda_.invoke(FunctionName="echo", InvocationType="Event")["StatusCode"]
out["dry"] = lambda_.invoke(FunctionName="echo", InvocationType="DryRun")["StatusCode"]
try:
    lambda_.invoke(FunctionName="nope")
    out["unknown"] = "no error"
except lambda_.exceptions.ResourceNotFoundException as error:
    out["unknown"] = error.response["Error"]["Code"]
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_reads_payloads_function_errors_and_invocation_types() {
    let python = python();
    let double = Arc::new(Double::default());
    let emulator = start(double.clone()).await;
    let endpoint = emulator.lambda_url();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&python)
            .args(["-c", BOTO3_SCRIPT, &endpoint])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
    })
    .await
    .expect("the script's thread ends")
    .expect("python runs");
    emulator.stop().await;
    assert!(
        output.status.success(),
        "boto3 script failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_slice(&output.stdout).expect("script prints JSON");
    assert_eq!(result["ok"]["status"], 200);
    assert_eq!(result["ok"]["error"], Value::Null);
    assert_eq!(result["ok"]["payload"]["event"], json!({"from": "boto3"}));
    assert_eq!(result["ok"]["payload"]["clientContext"]["custom"]["k"], "v");
    assert_eq!(result["failed"]["status"], 200);
    assert_eq!(result["failed"]["error"], "Unhandled");
    assert_eq!(result["failed"]["payload"]["errorMessage"], "no luck");
    assert_eq!(result["event"], 202);
    assert_eq!(result["dry"], 204);
    assert_eq!(result["unknown"], "ResourceNotFoundException");
}

/// One raw HTTP/1.1 exchange with the emulator: the status line and the whole answer.
async fn raw(address: std::net::SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("the emulator accepts");
    // A request that is refused early may find the socket closed before it is all written.
    let _ = stream.write_all(request).await;
    let _ = stream.shutdown().await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invoke_api_takes_what_lambda_takes_and_refuses_the_rest_as_lambda_does() {
    let emulator = start(Arc::new(Double::default())).await;
    let client = client(&emulator.lambda_url());

    // 5 MiB is within Lambda's 6 MiB: the SDK's call goes through.
    let big = json!({"blob": "x".repeat(5 * 1024 * 1024)}).to_string();
    let answer = client
        .invoke()
        .function_name("echo")
        .payload(Blob::new(big.into_bytes()))
        .send()
        .await
        .expect("a 5 MiB payload is accepted");
    assert_eq!(answer.status_code(), 200);

    // Over 6 MiB: Lambda's 413, which the SDK reads as RequestTooLargeException.
    let too_big = json!({"blob": "x".repeat(7 * 1024 * 1024)}).to_string();
    let error = client
        .invoke()
        .function_name("echo")
        .payload(Blob::new(too_big.into_bytes()))
        .send()
        .await
        .expect_err("a 7 MiB payload is refused");
    let service_error = error.into_service_error();
    assert!(
        service_error.is_request_too_large_exception(),
        "{service_error:?}"
    );

    // Broken framing is a bad request, not a payload that is too large.
    let path = "/2015-03-31/functions/echo/invocations";
    let bad_chunk = raw(
        emulator.lambda_address,
        format!("POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(bad_chunk.starts_with("HTTP/1.1 400"), "{bad_chunk}");
    assert!(!bad_chunk.contains(" 413 "), "{bad_chunk}");
    let short = raw(
        emulator.lambda_address,
        format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{}}").as_bytes(),
    )
    .await;
    assert!(short.starts_with("HTTP/1.1 400"), "{short}");
    let unended = raw(
        emulator.lambda_address,
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{{}}\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert!(unended.starts_with("HTTP/1.1 400"), "{unended}");
}

/// A client that sends all of a 7 MiB body and closes its sending side before reading (as
/// `nc -N` does) gets the 413 that says why; hyper used to drop such a connection unanswered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_half_closes_after_a_7_mib_body_still_reads_the_413() {
    let emulator = start(Arc::new(Double::default())).await;
    let body = vec![b'x'; 7 * 1024 * 1024];
    for _ in 0..3 {
        let mut request = format!(
            "POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: x\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(&body);
        let answer = raw(emulator.lambda_address, &request).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{:.200}", answer);
        assert!(
            answer.contains("RequestTooLargeException"),
            "{:.400}",
            answer
        );
    }
}
