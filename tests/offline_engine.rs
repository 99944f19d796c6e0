//! The execution engine against real runtime clients: updraft's own Node and Python bootstraps,
//! AWS's `awslambdaric`, a Rust function built with the `lambda_runtime` crate and a shell
//! `bootstrap` using curl. Each check is what a function or its caller would notice: the event
//! and context it gets, the error shapes, timeouts, crashes, limits, warm reuse, concurrency,
//! and that no process outlives the engine.

mod common;
mod engine_support;

use std::path::Path;
use std::time::{Duration, Instant};

use engine_support::{
    alive, detached_pids, fixture, processes_with_env, ric_python, rust_bootstrap_dir,
    survivors_after_a_moment,
};
use serde_json::{json, Value};
use updraft::offline::engine::{Convention, Engine, EngineOptions, FunctionSpec};
use updraft::offline::invoke::{
    Completed, ErrorCause, Invocation, InvocationResult, InvokeError, Invoker, MAX_PAYLOAD_BYTES,
};

const TIMEOUT: Duration = Duration::from_secs(3);

fn spec(key: &str, runtime: &str, handler: &str, dir: &Path) -> FunctionSpec {
    FunctionSpec {
        key: key.to_string(),
        name: format!("fixtures-dev-{key}"),
        runtime: runtime.to_string(),
        handler: handler.to_string(),
        task_root: dir.to_path_buf(),
        search_paths: Vec::new(),
        memory_size: 256,
        timeout: TIMEOUT,
        environment: [("GREETING".to_string(), "hello".to_string())].into(),
        reserved_concurrency: None,
        region: "eu-west-1".to_string(),
        inherit_environment: false,
        convention: Convention::Lambda,
    }
}

/// An engine whose processes carry a unique marker variable, so tests can find them.
struct TestEngine {
    engine: Engine,
    marker: String,
    _cache: tempfile::TempDir,
}

/// The echo handler as `node`, `python` and `rust` (`lambda_runtime`, `provided.al2023`).
fn echo_in_every_runtime() -> Vec<FunctionSpec> {
    vec![
        spec(
            "node",
            "nodejs20.x",
            "handler.echo",
            &fixture("runtime-node"),
        ),
        spec(
            "python",
            "python3.12",
            "handler.echo",
            &fixture("runtime-python"),
        ),
        spec(
            "rust",
            "provided.al2023",
            "bootstrap",
            &rust_bootstrap_dir(),
        ),
    ]
}

fn engine(specs: Vec<FunctionSpec>, extra: Vec<(String, String)>) -> TestEngine {
    engine_with(specs, extra, |_| {})
}

fn engine_with(
    specs: Vec<FunctionSpec>,
    extra: Vec<(String, String)>,
    adjust: impl FnOnce(&mut EngineOptions),
) -> TestEngine {
    let cache = tempfile::tempdir().expect("cache dir");
    let marker = uuid_like();
    let mut extra_env = vec![("UPDRAFT_TEST_MARKER".to_string(), marker.clone())];
    extra_env.extend(extra);
    let mut options = EngineOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        extra_env,
        ..EngineOptions::default()
    };
    adjust(&mut options);
    let engine = Engine::new(specs, options);
    TestEngine {
        engine,
        marker,
        _cache: cache,
    }
}

fn uuid_like() -> String {
    format!(
        "{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    )
}

impl TestEngine {
    fn processes(&self) -> Vec<u32> {
        processes_with_env(&format!("UPDRAFT_TEST_MARKER={}", self.marker))
    }
}

fn invocation(payload: &Value) -> Invocation {
    Invocation {
        payload: payload.to_string().into_bytes(),
        ..Invocation::default()
    }
}

async fn call(engine: &TestEngine, function: &str, payload: Value) -> Completed {
    engine
        .engine
        .invoke(function, invocation(&payload))
        .await
        .unwrap_or_else(|error| panic!("{function}: {error}"))
}

fn success(completed: &Completed) -> Value {
    match &completed.result {
        InvocationResult::Success(body) => serde_json::from_slice(body).expect("a JSON response"),
        InvocationResult::Error { cause, payload } => panic!(
            "expected success, got {cause:?}: {}\nlog:\n{}",
            String::from_utf8_lossy(payload),
            completed.log
        ),
    }
}

fn failure(completed: &Completed) -> (ErrorCause, Value) {
    match &completed.result {
        InvocationResult::Error { cause, payload } => (
            *cause,
            serde_json::from_slice(payload).expect("a JSON error object"),
        ),
        InvocationResult::Success(body) => panic!(
            "expected an error, got success: {}\nlog:\n{}",
            String::from_utf8_lossy(body),
            completed.log
        ),
    }
}

/// What every runtime must give a function: the event, the pinned request id, the ARN, the
/// remaining time, the client context; a warm second call on the same process; the log lines.
async fn check_round_trip(engine: &TestEngine, function: &str, client_context_checked: bool) {
    let client_context = json!({"custom": {"tenant": "blue"}, "env": {"locale": "en"}});
    let event = json!({"hello": "world", "n": 1});
    let completed = engine
        .engine
        .invoke(
            function,
            Invocation {
                payload: event.to_string().into_bytes(),
                client_context: Some(client_context.to_string()),
                request_id: Some("11111111-2222-3333-4444-555555555555".into()),
            },
        )
        .await
        .expect("invoke");
    let seen = success(&completed);
    assert_eq!(
        seen["event"], event,
        "{function}: the event arrives unchanged"
    );
    assert_eq!(seen["requestId"], "11111111-2222-3333-4444-555555555555");
    assert_eq!(completed.request_id, "11111111-2222-3333-4444-555555555555");
    assert_eq!(
        seen["arn"],
        format!("arn:aws:lambda:eu-west-1:123456789012:function:fixtures-dev-{function}")
    );
    if let Some(remaining) = seen["remainingMs"].as_i64() {
        let timeout = TIMEOUT.as_millis() as i64;
        assert!(
            remaining <= timeout && remaining > timeout - 1000,
            "{function}: remaining time {remaining} ms should be about the {timeout} ms timeout"
        );
    }
    if client_context_checked {
        assert_eq!(
            seen["clientContext"]["custom"], client_context["custom"],
            "{function}: the client context round-trips"
        );
    }
    let log = &completed.log;
    assert!(
        log.contains("START RequestId: 11111111-2222-3333-4444-555555555555 Version: $LATEST"),
        "{log}"
    );
    assert!(
        log.contains("END RequestId: 11111111-2222-3333-4444-555555555555"),
        "{log}"
    );
    assert!(log.contains("Memory Size: 256 MB"), "{log}");
    let used: u64 = log
        .split("Max Memory Used: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|mb| mb.parse().ok())
        .unwrap_or_else(|| panic!("a measured Max Memory Used in {log}"));
    assert!(used > 0, "{log}");
    assert!(
        log.contains("handl"),
        "{function}: the function's own output is in its log:\n{log}"
    );

    let second = call(engine, function, json!({"again": true})).await;
    let second_seen = success(&second);
    assert_ne!(second.request_id, completed.request_id, "fresh request ids");
    if let (Some(first_pid), Some(second_pid)) = (seen["pid"].as_u64(), second_seen["pid"].as_u64())
    {
        assert_eq!(
            first_pid, second_pid,
            "{function}: the warm instance is reused"
        );
    }
    assert!(
        !second.log.contains("Init Duration"),
        "a warm call has no init: {}",
        second.log
    );
    assert_eq!(
        engine.engine.live_instances(),
        1,
        "{function}: one instance for sequential calls"
    );
}

/// Asserts that `completed` failed for `cause` with Lambda's error object of `error_type`
/// whose message contains `message`.
fn check_failure(
    completed: &Completed,
    function: &str,
    cause: ErrorCause,
    error_type: &str,
    message: &str,
) {
    let (actual, error) = failure(completed);
    assert_eq!(actual, cause, "{function}: {error}");
    assert_eq!(error["errorType"], error_type, "{function}: {error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .contains(message),
        "{function}: {error}"
    );
}

async fn check_handler_error(engine: &TestEngine, function: &str, error_type: &str, message: &str) {
    let completed = call(engine, function, json!({"action": "fail"})).await;
    check_failure(
        &completed,
        function,
        ErrorCause::Handler,
        error_type,
        message,
    );
    // The instance survives a handled error.
    success(&call(engine, function, json!({"after": "error"})).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_bootstrap_round_trip_and_handler_styles() {
    let dir = fixture("runtime-node");
    let engine = engine(
        vec![
            spec("node", "nodejs20.x", "handler.echo", &dir),
            spec("callback", "nodejs20.x", "handler.callback", &dir),
            spec("succeed", "nodejs20.x", "handler.succeed", &dir),
            spec("done", "nodejs20.x", "handler.done", &dir),
            spec("mjs", "nodejs20.x", "module.handler", &dir),
            spec(
                "typeModule",
                "nodejs20.x",
                "esm-package/handler.handler",
                &dir,
            ),
        ],
        vec![],
    );
    check_round_trip(&engine, "node", true).await;
    let seen = success(&call(&engine, "node", json!({})).await);
    assert_eq!(seen["env"]["isOffline"], "true");
    assert_eq!(seen["env"]["greeting"], "hello");
    assert_eq!(seen["env"]["handler"], "handler.echo");
    assert_eq!(seen["functionName"], "fixtures-dev-node");
    check_handler_error(
        &engine,
        "node",
        "TypeError",
        "the handler failed on purpose",
    )
    .await;

    for function in ["callback", "succeed", "done"] {
        let seen = success(&call(&engine, function, json!({"style": function})).await);
        assert_eq!(seen["event"]["style"], function);
    }
    let (_, error) = failure(&call(&engine, "callback", json!({"action": "fail"})).await);
    assert_eq!(error["errorMessage"], "callback failure");
    let (_, error) = failure(&call(&engine, "succeed", json!({"action": "fail"})).await);
    assert_eq!(error["errorMessage"], "context.fail failure");
    assert!(error["stackTrace"].is_array(), "{error}");

    let seen = success(&call(&engine, "mjs", json!({"m": 1})).await);
    assert_eq!(seen["style"], "mjs");
    let seen = success(&call(&engine, "typeModule", json!({"m": 2})).await);
    assert_eq!(seen["style"], "type-module");
    assert_eq!(seen["event"]["m"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_bootstrap_round_trip() {
    let dir = fixture("runtime-python");
    let engine = engine(
        vec![spec("python", "python3.12", "handler.echo", &dir)],
        vec![],
    );
    check_round_trip(&engine, "python", true).await;
    let seen = success(&call(&engine, "python", json!({})).await);
    assert_eq!(seen["env"]["isOffline"], "true");
    assert_eq!(seen["env"]["greeting"], "hello");
    check_handler_error(
        &engine,
        "python",
        "ValueError",
        "the handler failed on purpose",
    )
    .await;
    let (_, error) = failure(&call(&engine, "python", json!({"action": "fail"})).await);
    assert!(
        error["stackTrace"]
            .as_array()
            .is_some_and(|lines| !lines.is_empty()),
        "Python errors carry the stack: {error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_lambda_runtime_client_round_trip() {
    let dir = rust_bootstrap_dir();
    let engine = engine(
        vec![spec("rust", "provided.al2023", "bootstrap", &dir)],
        vec![],
    );
    check_round_trip(&engine, "rust", true).await;
    check_handler_error(
        &engine,
        "rust",
        "FixtureError",
        "the handler failed on purpose",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs awslambdaric: bash scripts/test.sh installs it and runs this test"]
async fn awslambdaric_round_trip() {
    let python = ric_python();
    // A provided runtime whose bootstrap runs awslambdaric on the same Python handlers.
    let service = tempfile::tempdir().expect("service dir");
    for file in ["handler.py", "syntax_error.py"] {
        std::fs::copy(
            fixture("runtime-python").join(file),
            service.path().join(file),
        )
        .expect("copy");
    }
    std::fs::copy(
        fixture("runtime-python/ric-bootstrap"),
        service.path().join("bootstrap"),
    )
    .expect("copy bootstrap");
    let python = python.display().to_string();
    let engine = engine(
        vec![
            spec("ric", "provided.al2023", "handler.echo", service.path()),
            spec(
                "ricBroken",
                "provided.al2023",
                "syntax_error.handler",
                service.path(),
            ),
        ],
        vec![("UPDRAFT_TEST_RIC_PYTHON".into(), python)],
    );
    check_round_trip(&engine, "ric", true).await;
    check_handler_error(
        &engine,
        "ric",
        "ValueError",
        "the handler failed on purpose",
    )
    .await;
    let (cause, error) = failure(&call(&engine, "ricBroken", json!({})).await);
    assert_eq!(cause, ErrorCause::Init, "{error}");
    assert_eq!(error["errorType"], "Runtime.UserCodeSyntaxError", "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_bootstrap_with_curl_round_trip() {
    let engine = engine(
        vec![spec(
            "shell",
            "provided.al2",
            "unused",
            &fixture("runtime-shell"),
        )],
        vec![],
    );
    check_round_trip(&engine, "shell", false).await;
    check_handler_error(&engine, "shell", "Shell.Failure", "failed on purpose").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_errors_carry_the_runtimes_message() {
    let node = fixture("runtime-node");
    let python = fixture("runtime-python");
    let rust = rust_bootstrap_dir();
    let mut rust_failing = spec("rustInit", "provided.al2023", "bootstrap", &rust);
    rust_failing
        .environment
        .insert("FIXTURE_INIT_FAIL".into(), "1".into());
    let engine = engine(
        vec![
            spec("nodeSyntax", "nodejs20.x", "syntax_error.handler", &node),
            spec(
                "nodeMissing",
                "nodejs20.x",
                "imports_missing.handler",
                &node,
            ),
            spec("nodeNoFile", "nodejs20.x", "no_such_file.handler", &node),
            spec("nodeNoExport", "nodejs20.x", "handler.nothing", &node),
            spec(
                "pythonSyntax",
                "python3.12",
                "syntax_error.handler",
                &python,
            ),
            spec(
                "pythonNoModule",
                "python3.12",
                "no_such_module.handler",
                &python,
            ),
            rust_failing,
        ],
        vec![],
    );
    let expectations = [
        ("nodeSyntax", "Runtime.UserCodeSyntaxError", "SyntaxError"),
        (
            "nodeMissing",
            "Runtime.ImportModuleError",
            "a-package-that-is-not-installed",
        ),
        ("nodeNoFile", "Runtime.ImportModuleError", "no_such_file"),
        ("nodeNoExport", "Runtime.HandlerNotFound", "handler.nothing"),
        (
            "pythonSyntax",
            "Runtime.UserCodeSyntaxError",
            "syntax_error",
        ),
        (
            "pythonNoModule",
            "Runtime.ImportModuleError",
            "no_such_module",
        ),
        ("rustInit", "Runtime.ExitError", "exit status 2"),
    ];
    for (function, error_type, message) in expectations {
        let completed = call(&engine, function, json!({})).await;
        check_failure(&completed, function, ErrorCause::Init, error_type, message);
    }
    let rust_log = call(&engine, "rustInit", json!({})).await.log;
    assert!(rust_log.contains("init failed on purpose"), "{rust_log}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(engine.processes().is_empty(), "failed instances are gone");
}

async fn check_timeout_then_recovery(engine: &TestEngine, function: &str) {
    let started = Instant::now();
    let completed = call(engine, function, json!({"action": "sleep", "ms": 10_000})).await;
    let elapsed = started.elapsed();
    let (cause, error) = failure(&completed);
    assert_eq!(cause, ErrorCause::Timeout, "{function}: {error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .contains("Task timed out after 1.00 seconds"),
        "{function}: {error}"
    );
    assert!(
        completed.log.contains("Task timed out after 1.00 seconds"),
        "{}",
        completed.log
    );
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(4),
        "{function}: the timeout ended the call after {elapsed:?}"
    );
    let seen = success(&call(engine, function, json!({"after": "timeout"})).await);
    assert_eq!(
        seen["event"]["after"], "timeout",
        "{function}: the next call succeeds"
    );
    assert!(
        seen["remainingMs"].as_i64().unwrap_or(0) > 500,
        "a fresh instance gets a fresh deadline: {seen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_kills_the_instance_and_the_next_call_recovers() {
    let rust = rust_bootstrap_dir();
    let short = |mut spec: FunctionSpec| {
        spec.timeout = Duration::from_secs(1);
        spec
    };
    let engine = engine(
        vec![
            short(spec(
                "node",
                "nodejs20.x",
                "handler.echo",
                &fixture("runtime-node"),
            )),
            short(spec(
                "python",
                "python3.12",
                "handler.echo",
                &fixture("runtime-python"),
            )),
            short(spec("rust", "provided.al2023", "bootstrap", &rust)),
        ],
        vec![],
    );
    for function in ["node", "python", "rust"] {
        check_timeout_then_recovery(&engine, function).await;
    }
    assert_eq!(
        engine.processes().len(),
        3,
        "one live instance each, the timed-out ones gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_fails_only_that_call() {
    let engine = engine(echo_in_every_runtime(), vec![]);
    for function in ["node", "python", "rust"] {
        success(&call(&engine, function, json!({"warm": "up"})).await);
        let completed = call(&engine, function, json!({"action": "crash"})).await;
        let (cause, error) = failure(&completed);
        assert_eq!(cause, ErrorCause::Crash, "{function}: {error}");
        assert_eq!(
            error["errorType"], "Runtime.ExitError",
            "{function}: {error}"
        );
        assert!(
            error["errorMessage"]
                .as_str()
                .unwrap_or_default()
                .contains("exit status 3"),
            "{function}: {error}"
        );
        let log = &completed.log;
        assert!(
            log.contains("Error: Runtime exited with error: exit status 3\nRuntime.ExitError\n"),
            "{function}: the reason is in the log:\n{log}"
        );
        success(&call(&engine, function, json!({"after": "crash"})).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_megabyte_limits() {
    let engine = engine(echo_in_every_runtime(), vec![]);
    let too_large = vec![b' '; MAX_PAYLOAD_BYTES + 1];
    let refused = engine
        .engine
        .invoke(
            "node",
            Invocation {
                payload: too_large,
                ..Invocation::default()
            },
        )
        .await;
    assert!(
        matches!(refused, Err(InvokeError::PayloadTooLarge { size, .. }) if size == MAX_PAYLOAD_BYTES + 1),
        "{refused:?}"
    );
    let five_megabytes = "y".repeat(5 * 1024 * 1024);
    for function in ["node", "python", "rust"] {
        let seen = success(&call(&engine, function, json!({"data": five_megabytes})).await);
        assert_eq!(
            seen["event"]["data"].as_str().map(str::len),
            Some(five_megabytes.len()),
            "{function}: a 5 MB payload goes through"
        );
    }
    for function in ["node", "python"] {
        let completed = call(
            &engine,
            function,
            json!({"action": "big", "bytes": 7 * 1024 * 1024}),
        )
        .await;
        let (cause, error) = failure(&completed);
        assert_eq!(cause, ErrorCause::ResponseTooLarge, "{function}: {error}");
        assert_eq!(error["errorType"], "Function.ResponseSizeTooLarge");
        assert!(
            completed
                .log
                .contains("exceeded maximum allowed payload size (6291456 bytes).\nFunction.ResponseSizeTooLarge\n"),
            "{function}: the reason is in the log:\n{}",
            completed.log
        );
    }
}

/// The Node.js echo function on an engine that starts only one instance without waiting for a
/// warm one: the pool's growth rule shows on any machine, whatever its core count.
fn node_engine_with_one_eager_instance() -> TestEngine {
    engine_with(
        vec![spec(
            "node",
            "nodejs20.x",
            "handler.echo",
            &fixture("runtime-node"),
        )],
        vec![],
        |options| options.eager_instances = 1,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_concurrent_calls_get_instances_of_their_own() {
    // One eager instance: the second call waits for a warm one, gives up after a start's
    // worth of time and starts its own, as Lambda would have at once.
    let engine = node_engine_with_one_eager_instance();
    let slow = json!({"action": "sleep", "ms": 400});
    let (first, second) = tokio::join!(
        call(&engine, "node", slow.clone()),
        call(&engine, "node", slow.clone())
    );
    let (first, second) = (success(&first), success(&second));
    assert_ne!(
        first["pid"], second["pid"],
        "two parallel calls run in two instances"
    );
    assert_eq!(engine.engine.idle_instances("node"), 2, "both stay warm");
    let third = success(&call(&engine, "node", json!({})).await);
    assert!(
        [&first["pid"], &second["pid"]].contains(&&third["pid"]),
        "a later call reuses a warm instance"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_quick_calls_shares_warm_instances() {
    let engine = node_engine_with_one_eager_instance();
    success(&call(&engine, "node", json!({"warm": true})).await);
    let burst: Vec<_> = (0..8)
        .map(|index| call(&engine, "node", json!({ "index": index })))
        .collect();
    let results = futures_util::future::join_all(burst).await;
    let pids: std::collections::BTreeSet<String> = results
        .iter()
        .map(|completed| success(completed)["pid"].to_string())
        .collect();
    assert!(
        pids.len() < 8 && engine.engine.live_instances() < 8,
        "eight quick calls should not start an instance each: they ran on {} instances",
        pids.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_concurrency_throttles_and_unknown_functions_are_named() {
    let mut limited = spec(
        "node",
        "nodejs20.x",
        "handler.echo",
        &fixture("runtime-node"),
    );
    limited.reserved_concurrency = Some(1);
    let engine = engine(vec![limited], vec![]);
    let slow = json!({"action": "sleep", "ms": 500});
    let busy = call(&engine, "node", slow);
    let throttled = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        engine.engine.invoke("node", invocation(&json!({}))).await
    };
    let (busy, throttled) = tokio::join!(busy, throttled);
    success(&busy);
    assert!(
        matches!(
            throttled,
            Err(InvokeError::TooManyRequests { limit: 1, .. })
        ),
        "{throttled:?}"
    );
    let unknown = engine.engine.invoke("nope", invocation(&json!({}))).await;
    assert!(
        matches!(&unknown, Err(InvokeError::UnknownFunction { known, .. }) if known == &["node".to_string()]),
        "{unknown:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_instances_are_stopped() {
    let cache = tempfile::tempdir().expect("cache");
    let marker = uuid_like();
    let engine = Engine::new(
        vec![spec(
            "node",
            "nodejs20.x",
            "handler.echo",
            &fixture("runtime-node"),
        )],
        EngineOptions {
            idle_timeout: Duration::from_millis(300),
            cache_dir: Some(cache.path().to_path_buf()),
            extra_env: vec![("UPDRAFT_TEST_MARKER".into(), marker.clone())],
            ..EngineOptions::default()
        },
    );
    engine
        .invoke("node", invocation(&json!({})))
        .await
        .expect("invoke");
    assert_eq!(engine.idle_instances("node"), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        engine.idle_instances("node"),
        0,
        "the idle instance was stopped"
    );
    assert!(processes_with_env(&format!("UPDRAFT_TEST_MARKER={marker}")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_leaves_no_process_behind() {
    let engine = std::sync::Arc::new(engine(
        echo_in_every_runtime()
            .into_iter()
            .chain([spec(
                "shell",
                "provided.al2",
                "unused",
                &fixture("runtime-shell"),
            )])
            .collect(),
        vec![],
    ));
    for function in ["node", "python", "rust", "shell"] {
        success(&call(&engine, function, json!({})).await);
    }
    // One call still running when the engine stops.
    let busy = {
        let engine = std::sync::Arc::clone(&engine);
        tokio::spawn(async move {
            engine
                .engine
                .invoke("node", invocation(&json!({"action": "sleep", "ms": 5000})))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(engine.processes().len() >= 4, "{:?}", engine.processes());
    engine.engine.shutdown();
    let outcome = busy.await.expect("the busy call ends");
    assert!(
        matches!(outcome, Err(InvokeError::ShuttingDown)),
        "{outcome:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while !engine.processes().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        engine.processes(),
        Vec::<u32>::new(),
        "no process left after shutdown"
    );
    let after = engine.engine.invoke("node", invocation(&json!({}))).await;
    assert!(matches!(after, Err(InvokeError::ShuttingDown)), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_engine_leaves_no_process_behind() {
    let engine = engine(
        vec![spec(
            "python",
            "python3.12",
            "handler.echo",
            &fixture("runtime-python"),
        )],
        vec![],
    );
    success(&call(&engine, "python", json!({})).await);
    let marker = engine.marker.clone();
    assert_eq!(engine.processes().len(), 1);
    drop(engine);
    let deadline = Instant::now() + Duration::from_secs(2);
    let needle = format!("UPDRAFT_TEST_MARKER={marker}");
    while !processes_with_env(&needle).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(processes_with_env(&needle).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detached_processes_end_with_their_instance() {
    let engine = engine(
        echo_in_every_runtime()
            .into_iter()
            .filter(|spec| spec.key != "rust")
            .collect(),
        vec![],
    );
    // Node's `detached: true`, Python's `start_new_session` and a double-forked daemon.
    let mut pids = detached_pids(&success(
        &call(&engine, "node", json!({"action": "detach"})).await,
    ));
    pids.extend(detached_pids(&success(
        &call(&engine, "python", json!({"action": "detach"})).await,
    )));
    assert_eq!(pids.len(), 3, "{pids:?}");
    assert!(pids.iter().all(|&pid| alive(pid)), "started: {pids:?}");
    engine.engine.shutdown();
    let left = tokio::task::spawn_blocking(move || survivors_after_a_moment(&pids))
        .await
        .expect("the check runs");
    assert_eq!(left, Vec::<u32>::new(), "processes left after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_instance_takes_its_detached_processes_with_it() {
    let engine = engine(
        vec![spec(
            "python",
            "python3.12",
            "handler.echo",
            &fixture("runtime-python"),
        )],
        vec![],
    );
    let pids = detached_pids(&success(
        &call(&engine, "python", json!({"action": "detach"})).await,
    ));
    // The same warm instance times out, which ends it.
    let (cause, _) =
        failure(&call(&engine, "python", json!({"action": "sleep", "ms": 10_000})).await);
    assert_eq!(cause, ErrorCause::Timeout);
    let left = tokio::task::spawn_blocking(move || survivors_after_a_moment(&pids))
        .await
        .expect("the check runs");
    assert_eq!(left, Vec::<u32>::new(), "processes left after the timeout");
}

/// As on Lambda's Node.js runtime: a callback handler that never calls back, or a promise that
/// never settles, ends with a `null` result once the event loop has nothing left to do, not
/// with a timeout; the instance then serves the next call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_handler_that_never_calls_back_answers_null_when_its_work_is_done() {
    let dir = fixture("runtime-node");
    let engine = engine(
        vec![
            spec("quiet", "nodejs20.x", "handler.neverCallsBack", &dir),
            spec("pending", "nodejs20.x", "handler.neverSettles", &dir),
        ],
        vec![],
    );
    for _ in 0..2 {
        let completed = call(&engine, "quiet", json!({})).await;
        assert_eq!(success(&completed), Value::Null);
        assert!(
            completed.log.contains("timer done"),
            "the handler's timer ran before the call ended:\n{}",
            completed.log
        );
    }
    assert_eq!(
        engine.engine.idle_instances("quiet"),
        1,
        "one warm instance served both"
    );
    assert_eq!(
        success(&call(&engine, "pending", json!({})).await),
        Value::Null
    );
}

/// Node writes to a pipe asynchronously and keeps what the pipe cannot take yet; all of it
/// belongs to the invocation that printed it, not to the next one (or to nobody).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_a_node_handler_printed_before_returning_is_in_its_own_log() {
    let engine = engine(
        vec![spec(
            "node",
            "nodejs20.x",
            "handler.echo",
            &fixture("runtime-node"),
        )],
        vec![],
    );
    let lines = 20_000;
    let completed = call(&engine, "node", json!({"action": "loud", "lines": lines})).await;
    assert_eq!(success(&completed)["printed"], lines);
    let printed = completed.log.matches(&"y".repeat(1023)).count();
    assert_eq!(printed, lines, "lines of this invocation in its log");
    let end = completed.log.find("END RequestId").expect("an END line");
    let last = completed
        .log
        .find("last line")
        .expect("the last line is in the log");
    assert!(last < end, "the last line comes before END");
    let next = call(&engine, "node", json!({})).await;
    assert!(
        !next.log.contains("yyyy"),
        "nothing spills into the next call's log"
    );
}
