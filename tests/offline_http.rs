//! The emulator's front ends over real HTTP, with an in-test `Invoker` that answers from the
//! event it receives: routes, path parameters, payload versions, CORS, binary bodies, 404, 502,
//! 504, `integration: lambda`, the Invoke API's status codes and headers, and `emit`.
//! (The same paths with the real engine and the example's handlers: `offline_end_to_end.rs`.)

mod common;

use common::{call, json_body};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
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

/// Answers by function name: `echo` returns the event it got as a proxy response body,
/// `raw` returns the event itself, `fail` throws, `slow` times out, `image` returns a PNG.
#[derive(Default)]
struct Double {
    seen: Mutex<Vec<(String, Invocation)>>,
}

#[async_trait]
impl Invoker for Double {
    async fn invoke(
        &self,
        function: &str,
        invocation: Invocation,
    ) -> Result<Completed, InvokeError> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push((function.to_string(), invocation.clone()));
        }
        let event: Value = serde_json::from_slice(&invocation.payload).unwrap_or(Value::Null);
        let error = |cause| InvocationResult::Error {
            cause,
            payload: json!({"errorMessage": "boom", "errorType": "Error", "stackTrace": []})
                .to_string()
                .into_bytes(),
        };
        let result = match function {
            "echo" => InvocationResult::Success(
                json!({
                    "statusCode": 200,
                    "headers": {"content-type": "application/json", "x-function": "echo"},
                    "body": event.to_string(),
                })
                .to_string()
                .into_bytes(),
            ),
            "raw" => InvocationResult::Success(invocation.payload.clone()),
            "fail" => error(ErrorCause::Handler),
            "slow" => error(ErrorCause::Timeout),
            "image" => InvocationResult::Success(
                json!({
                    "statusCode": 200,
                    "headers": {"content-type": "image/png"},
                    "isBase64Encoded": true,
                    "body": event["body"],
                })
                .to_string()
                .into_bytes(),
            ),
            other => {
                return Err(InvokeError::UnknownFunction {
                    name: other.to_string(),
                    known: vec![],
                })
            }
        };
        Ok(Completed {
            request_id: "req-1".into(),
            result,
            log: "START RequestId: req-1\nEND RequestId: req-1\n".into(),
            duration_ms: 1.0,
        })
    }
}

fn service() -> Service {
    let manifest = json!({
        "service": "shop",
        "provider": {
            "name": "aws",
            "runtime": "nodejs20.x",
            "httpApi": {"cors": {"allowedOrigins": ["https://app.test"]}},
        },
        "functions": {
            "echo": {"handler": "h.echo", "events": [
                {"http": {"path": "users/{id}", "method": "get", "cors": true}},
                {"http": {"path": "files/{proxy+}", "method": "any"}},
                {"httpApi": "GET /items/{id}"},
                {"httpApi": {"path": "/legacy", "method": "get", "payload": "1.0"}},
                {"http": {"path": "template/{id}", "method": "post", "integration": "lambda"}},
                {"sqs": {"arn": "arn:aws:sqs:us-east-1:123456789012:jobs"}},
                {"schedule": {"rate": "rate(1 day)", "input": {"source": "schedule"}}},
            ]},
            "raw": {"handler": "h.raw", "events": [{"httpApi": "POST /raw"}]},
            "fail": {"handler": "h.fail", "events": [{"httpApi": "GET /fail"}, {"http": "GET fail"}]},
            "slow": {"handler": "h.slow", "events": [{"httpApi": "GET /slow"}]},
            "image": {"handler": "h.image", "events": [{"httpApi": "POST /image"}]},
        }
    });
    let root = Node::from_json(&manifest, Span::default());
    Service::from_tree(&root).unwrap_or_else(|e| panic!("{e}"))
}

struct Running {
    emulator: Option<Emulator>,
    double: Arc<Double>,
    runtime: tokio::runtime::Runtime,
}

impl Running {
    fn http(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.emulator
                .as_ref()
                .map(|e| e.http_url())
                .unwrap_or_default()
        )
    }
    fn lambda(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.emulator
                .as_ref()
                .map(|e| e.lambda_url())
                .unwrap_or_default()
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.stop());
        }
    }
}

fn start() -> Running {
    start_with(Timeouts::default())
}

fn start_with(timeouts: Timeouts) -> Running {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let double = Arc::new(Double::default());
    let options = OfflineOptions {
        host: "127.0.0.1".parse().expect("ip"),
        http_port: 0,
        lambda_port: 0,
        alb_port: 0,
        routes: RouteOptions::default(),
        timeouts,
        auth: updraft::offline::http::auth::AuthOptions::default(),
        https: None,
        websocket: WebSocketOptions::default(),
    };
    let emulator = runtime
        .block_on(server::start(
            &service(),
            &options,
            double.clone(),
            Arc::new(Silent),
        ))
        .expect("emulator starts");
    Running {
        emulator: Some(emulator),
        double,
        runtime,
    }
}

#[test]
fn rest_route_under_the_stage_gets_a_payload_1_event_with_path_parameters() {
    let running = start();
    let response = call(ureq::get(&running.http("/dev/users/a%20b?x=1&x=2")), None);
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("x-function"), Some("echo"));
    let event = json_body(response);
    assert_eq!(event["resource"], "/users/{id}");
    assert_eq!(event["path"], "/users/a%20b");
    assert_eq!(event["pathParameters"]["id"], "a b");
    assert_eq!(
        event["multiValueQueryStringParameters"]["x"],
        json!(["1", "2"])
    );
    assert_eq!(event["requestContext"]["stage"], "dev");
    // Without the stage there is no such route.
    assert_eq!(
        call(ureq::get(&running.http("/users/1")), None).status(),
        404
    );
}

#[test]
fn greedy_any_route_takes_every_method_and_the_rest_of_the_path() {
    let running = start();
    let response = call(ureq::delete(&running.http("/dev/files/a/b/c.txt")), None);
    assert_eq!(response.status(), 200);
    let event = json_body(response);
    assert_eq!(event["httpMethod"], "DELETE");
    assert_eq!(event["pathParameters"]["proxy"], "a/b/c.txt");
}

#[test]
fn http_api_routes_get_payload_2_or_1_as_configured() {
    let running = start();
    let event = json_body(call(
        ureq::get(&running.http("/items/7?tag=a&tag=b")).set("cookie", "a=1; b=2"),
        None,
    ));
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /items/{id}");
    assert_eq!(event["pathParameters"]["id"], "7");
    assert_eq!(event["queryStringParameters"]["tag"], "a,b");
    assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
    let legacy = json_body(call(ureq::get(&running.http("/legacy")), None));
    assert_eq!(legacy["version"], "1.0");
    assert_eq!(legacy["httpMethod"], "GET");
}

#[test]
fn payload_2_simple_response_is_json_with_status_200() {
    let running = start();
    let response = call(
        ureq::post(&running.http("/raw")).set("content-type", "application/json"),
        Some(br#"{"a":1}"#),
    );
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    // The handler returned the event: no statusCode, so the whole value is the body.
    let event = json_body(response);
    assert_eq!(event["body"], r#"{"a":1}"#);
    assert_eq!(event["isBase64Encoded"], false);
}

#[test]
fn binary_body_goes_in_base64_and_comes_back_as_bytes() {
    let running = start();
    let png: Vec<u8> = vec![0x89, b'P', b'N', b'G', 0, 1, 2, 255, 254];
    let seen_before = running.double.seen.lock().map(|s| s.len()).unwrap_or(0);
    let response = call(
        ureq::post(&running.http("/image")).set("content-type", "image/png"),
        Some(&png),
    );
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("image/png"));
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut response.into_reader(), &mut bytes).expect("read");
    assert_eq!(bytes, png);
    let seen = running.double.seen.lock().expect("lock");
    let event: Value = serde_json::from_slice(&seen[seen_before].1.payload).expect("event JSON");
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(
        event["body"],
        base64::engine::general_purpose::STANDARD.encode(&png)
    );
}

#[test]
fn no_route_is_404_handler_error_502_and_timeout_504() {
    let running = start();
    let missing = call(ureq::get(&running.http("/nowhere")), None);
    assert_eq!(missing.status(), 404);
    let failed = call(ureq::get(&running.http("/fail")), None);
    assert_eq!(failed.status(), 502);
    assert_eq!(
        json_body(failed),
        json!({"message": "Internal server error"})
    );
    assert_eq!(
        call(ureq::get(&running.http("/dev/fail")), None).status(),
        502
    );
    let slow = call(ureq::get(&running.http("/slow")), None);
    assert_eq!(slow.status(), 504);
}

#[test]
fn cors_preflight_is_answered_and_responses_carry_the_origin() {
    let running = start();
    // REST `cors: true`.
    let preflight = call(
        ureq::request("OPTIONS", &running.http("/dev/users/1"))
            .set("origin", "https://any.test")
            .set("access-control-request-method", "GET"),
        None,
    );
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert!(preflight
        .header("access-control-allow-methods")
        .is_some_and(|m| m.contains("GET")));
    let response = call(
        ureq::get(&running.http("/dev/users/1")).set("origin", "https://any.test"),
        None,
    );
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    // HTTP API: only the listed origin.
    let allowed = call(
        ureq::request("OPTIONS", &running.http("/items/1"))
            .set("origin", "https://app.test")
            .set("access-control-request-method", "GET"),
        None,
    );
    assert_eq!(allowed.status(), 204);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.test")
    );
    let refused = call(
        ureq::get(&running.http("/items/1")).set("origin", "https://evil.test"),
        None,
    );
    assert_eq!(refused.header("access-control-allow-origin"), None);
}

#[test]
fn lambda_integration_gets_the_request_template_and_returns_the_result_as_body() {
    let running = start();
    let response = call(
        ureq::post(&running.http("/dev/template/9?q=1")).set("content-type", "application/json"),
        Some(br#"{"name":"Ada"}"#),
    );
    assert_eq!(response.status(), 200);
    // `echo` wraps what it got in a proxy response; non-proxy shows that whole object.
    let result = json_body(response);
    let event: Value = serde_json::from_str(result["body"].as_str().unwrap_or("{}")).expect("JSON");
    assert_eq!(event["body"], json!({"name": "Ada"}));
    assert_eq!(event["path"], json!({"id": "9"}));
    assert_eq!(event["query"], json!({"q": "1"}));
    assert_eq!(event["stage"], "dev");
}

#[test]
fn invoke_api_answers_with_the_payload_and_lambdas_status_codes() {
    let running = start();
    let url = running.lambda("/2015-03-31/functions/raw/invocations");
    let response = call(ureq::post(&url), Some(br#"{"hello":1}"#));
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("x-amz-function-error"), None);
    assert_eq!(json_body(response), json!({"hello": 1}));

    let deployed = running.lambda("/2015-03-31/functions/shop-dev-fail/invocations");
    let failed = call(ureq::post(&deployed), Some(b"{}"));
    assert_eq!(failed.status(), 200);
    assert_eq!(failed.header("x-amz-function-error"), Some("Unhandled"));
    assert_eq!(json_body(failed)["errorMessage"], "boom");

    let event = call(
        ureq::post(&url).set("x-amz-invocation-type", "Event"),
        Some(b"{}"),
    );
    assert_eq!(event.status(), 202);
    let dry = call(
        ureq::post(&url).set("x-amz-invocation-type", "DryRun"),
        Some(b"{}"),
    );
    assert_eq!(dry.status(), 204);

    let unknown = call(
        ureq::post(&running.lambda("/2015-03-31/functions/nope/invocations")),
        Some(b"{}"),
    );
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.header("x-amzn-errortype"),
        Some("ResourceNotFoundException")
    );
    assert!(json_body(unknown)["Message"]
        .as_str()
        .is_some_and(|m| m.contains("Function not found")));
}

#[test]
fn invoke_api_passes_the_client_context_decoded() {
    let running = start();
    let context = base64::engine::general_purpose::STANDARD.encode(r#"{"custom":{"a":"b"}}"#);
    let url = running.lambda("/2015-03-31/functions/raw/invocations");
    let response = call(
        ureq::post(&url).set("x-amz-client-context", &context),
        Some(b"{}"),
    );
    assert_eq!(response.status(), 200);
    let seen = running.double.seen.lock().expect("lock");
    let last = seen.last().expect("an invocation");
    assert_eq!(
        last.1.client_context.as_deref(),
        Some(r#"{"custom":{"a":"b"}}"#)
    );
}

#[test]
fn emit_delivers_an_sqs_batch_with_the_functions_queue_and_a_schedule_with_its_input() {
    let running = start();
    let response = call(
        ureq::post(&running.lambda("/updraft/emit/echo/sqs")),
        Some(br#"["one", {"two": 2}]"#),
    );
    assert_eq!(response.status(), 200);
    let answer = json_body(response);
    assert_eq!(answer["invocations"].as_array().map(Vec::len), Some(1));
    let event: Value = serde_json::from_str(
        answer["invocations"][0]["payload"]["body"]
            .as_str()
            .unwrap_or("{}"),
    )
    .expect("JSON");
    assert_eq!(event["Records"][0]["body"], "one");
    assert_eq!(event["Records"][1]["body"], r#"{"two":2}"#);
    assert_eq!(
        event["Records"][0]["eventSourceARN"],
        "arn:aws:sqs:us-east-1:123456789012:jobs"
    );
    let schedule = json_body(call(
        ureq::post(&running.lambda("/updraft/emit/echo/schedule")),
        None,
    ));
    let event: Value = serde_json::from_str(
        schedule["invocations"][0]["payload"]["body"]
            .as_str()
            .unwrap_or("{}"),
    )
    .expect("JSON");
    assert_eq!(event, json!({"source": "schedule"}));
}

/// Whether the server has closed `stream` (end of file or a reset) within `wait`; what it
/// answered before closing is skipped.
fn closed_within(stream: &mut std::net::TcpStream, wait: std::time::Duration) -> bool {
    use std::io::Read;
    let deadline = std::time::Instant::now() + wait;
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).expect("timeout");
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// 200 connections that never finish a request (silent, a header cut short, a body that stops,
/// idle after a response), half on the HTTP port and half on the Invoke API's, are all closed
/// once the header or body timeout passes, and the emulator keeps answering meanwhile.
#[test]
fn half_open_connections_are_closed_after_the_timeouts() {
    use std::io::Write;
    let running = start_with(Timeouts {
        header_read: std::time::Duration::from_secs(1),
        body_idle: std::time::Duration::from_secs(1),
    });
    let emulator = running.emulator.as_ref().expect("running");
    let addresses = [emulator.http_address, emulator.lambda_address];
    let openings: [&[u8]; 4] = [
        b"",
        b"GET /dev/users/1 HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        b"POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\"",
        b"GET /dev/users/1 HTTP/1.1\r\nHost: x\r\n\r\n",
    ];
    let mut streams = Vec::new();
    for index in 0..200 {
        let mut stream = std::net::TcpStream::connect(addresses[index % 2]).expect("connects");
        stream
            .write_all(openings[index % openings.len()])
            .expect("writes");
        streams.push(stream);
    }
    // Still serving while they hang.
    let response = call(ureq::get(&running.http("/dev/users/7")), None);
    assert_eq!(response.status(), 200);
    let mut open = Vec::new();
    for (index, stream) in streams.iter_mut().enumerate() {
        if !closed_within(stream, std::time::Duration::from_secs(5)) {
            open.push(index);
        }
    }
    assert_eq!(open, Vec::<usize>::new(), "connections still open");
}

/// A body that stops arriving ends its request with 408, on the HTTP port and the Invoke API.
#[test]
fn a_stalled_body_is_answered_408() {
    use std::io::{Read, Write};
    let running = start_with(Timeouts {
        header_read: std::time::Duration::from_secs(5),
        body_idle: std::time::Duration::from_millis(500),
    });
    let emulator = running.emulator.as_ref().expect("running");
    for (address, path) in [
        (emulator.http_address, "/dev/users/1"),
        (
            emulator.lambda_address,
            "/2015-03-31/functions/echo/invocations",
        ),
    ] {
        let mut stream = std::net::TcpStream::connect(address).expect("connects");
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{{\"a\""
        )
        .expect("writes");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
    }
}
