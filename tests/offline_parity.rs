//! A service written for serverless-offline (`tests/fixtures/offline-parity`: a serverless.yml
//! with Node.js and Python handlers) under the `updraft offline` binary, over real HTTP: the 404
//! listing of routes, payload versions chosen by the function or the provider, HTTP API CORS,
//! request validation, `operationName`, a handler with no `statusCode`, and serverless-offline's
//! flags (`--cors*`, `--noTimeout`, `--localEnvironment`, `--terminateIdleLambdaTime`,
//! `--httpsProtocol`, `--resourceRoutes`, `offline start`).

mod common;
#[path = "support/offline_process.rs"]
mod offline_process;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{call, json_body};
use offline_process::{alive, Offline};
use serde_json::{json, Value};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/offline-parity")
}

fn start(extra: &[&str]) -> Offline {
    Offline::start_with(&fixture(), "serverless.yml", extra)
}

/// The event the `echo` handler got (its response body).
fn echoed(response: ureq::Response) -> Value {
    assert_eq!(response.status(), 200, "{}", response.status_text());
    json_body(response)
}

fn preflight(offline: &Offline, path: &str, origin: &str) -> ureq::Response {
    call(
        ureq::request("OPTIONS", &offline.url(path))
            .set("origin", origin)
            .set("access-control-request-method", "GET")
            .set("access-control-request-headers", "status"),
        None,
    )
}

#[test]
fn unknown_route_answers_404_listing_every_route_as_serverless_offline_does() {
    let offline = start(&[]);
    let response = call(ureq::get(&offline.url("/dev/nope?x=1")), None);
    assert_eq!(response.status(), 404);
    let body = json_body(response);
    assert_eq!(body["statusCode"], 404);
    assert_eq!(body["message"], "Not Found");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    assert_eq!(body["currentRoute"], "get - /dev/nope");
    assert_eq!(
        body["existingRoutes"],
        json!([
            "get - /dev/empty",
            "get - /dev/facts",
            "get - /dev/hello",
            "post - /dev/items",
            "post - /dev/items-07",
            "get - /dev/plain",
            "get - /dev/search",
            "get - /dev/sleepy",
            "get - /dev/users/{id}",
            "get - /legacy",
            "get - /legacy-bare",
            "get - /modern",
            "get - /modern-bare",
        ])
    );
    // A path that exists with another method is not a route either.
    let wrong_method = call(ureq::delete(&offline.url("/dev/hello")), None);
    assert_eq!(wrong_method.status(), 404);
    assert_eq!(
        json_body(wrong_method)["currentRoute"],
        "delete - /dev/hello"
    );
}

#[test]
fn unknown_route_listing_follows_no_prepend_stage_and_prefix() {
    let offline = start(&["--noPrependStageInUrl"]);
    let body = json_body(call(ureq::post(&offline.url("/dev/hello")), None));
    assert_eq!(body["currentRoute"], "post - /dev/hello");
    let routes = body["existingRoutes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(routes.contains(&json!("get - /hello")), "{routes:?}");
    assert!(routes.contains(&json!("get - /users/{id}")), "{routes:?}");
    assert!(routes.contains(&json!("get - /modern")), "{routes:?}");
    drop(offline);

    let offline = start(&["--prefix", "api"]);
    let body = json_body(call(ureq::get(&offline.url("/api/dev/nope")), None));
    assert_eq!(body["currentRoute"], "get - /api/dev/nope");
    let routes = body["existingRoutes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        routes.contains(&json!("get - /api/dev/hello")),
        "{routes:?}"
    );
    assert!(routes.contains(&json!("get - /api/modern")), "{routes:?}");
    assert_eq!(
        echoed(call(ureq::get(&offline.url("/api/dev/hello")), None))["path"],
        "/hello"
    );
}

#[test]
fn function_and_provider_http_api_payload_give_version_1_events() {
    let offline = start(&[]);
    // `httpApi: {payload: '1.0'}` under the function.
    let legacy = echoed(call(
        ureq::get(&offline.url("/legacy?page=2")).set("origin", "https://app.test"),
        None,
    ));
    assert_eq!(legacy["version"], "1.0");
    assert_eq!(legacy["httpMethod"], "GET");
    assert_eq!(legacy["headers"]["origin"], "https://app.test");
    assert_eq!(legacy["queryStringParameters"]["page"], "2");
    // The function's 1.0 response (statusCode, headers, body) is read as 1.0.
    let modern = echoed(call(
        ureq::get(&offline.url("/modern")).set("origin", "https://app.test"),
        None,
    ));
    assert_eq!(modern["version"], "2.0");
    assert_eq!(modern["headers"]["origin"], "https://app.test");
    // A result without statusCode: 1.0 reads it as a malformed proxy response, 2.0 as a body.
    let bare = call(ureq::get(&offline.url("/legacy-bare")), None);
    assert_eq!(bare.status(), 502);
    let bare = call(ureq::get(&offline.url("/modern-bare")), None);
    assert_eq!(bare.status(), 200);
    assert_eq!(json_body(bare), json!({}));
    drop(offline);

    // `provider.httpApi.payload: '1.0'`.
    let offline = Offline::start_with(&fixture(), "serverless.cors-true.yml", &[]);
    let event = echoed(call(
        ureq::get(&offline.url("/echo")).set("origin", "http://site.test"),
        None,
    ));
    assert_eq!(event["version"], "1.0");
    assert_eq!(event["headers"]["origin"], "http://site.test");
}

#[test]
fn http_api_cors_answers_preflights_with_the_configured_headers_for_allowed_origins() {
    let offline = start(&[]);
    for path in ["/modern", "/legacy"] {
        let answer = preflight(&offline, path, "https://app.test");
        assert_eq!(answer.status(), 204, "{path}");
        assert_eq!(
            answer.header("access-control-allow-origin"),
            Some("https://app.test")
        );
        assert_eq!(
            answer.header("access-control-allow-methods"),
            Some("GET,POST")
        );
        assert_eq!(
            answer.header("access-control-allow-headers"),
            Some("status,origin")
        );
        assert_eq!(answer.header("access-control-max-age"), Some("600"));
        assert_eq!(
            answer.header("access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(answer.into_string().unwrap_or_default(), "");
    }
    let refused = preflight(&offline, "/modern", "https://evil.test");
    assert_eq!(refused.status(), 204);
    assert_eq!(refused.header("access-control-allow-origin"), None);

    let response = call(
        ureq::get(&offline.url("/modern")).set("origin", "https://app.test"),
        None,
    );
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://app.test")
    );
    assert_eq!(
        response.header("access-control-expose-headers"),
        Some("x-total")
    );
    let other = call(
        ureq::get(&offline.url("/modern")).set("origin", "https://evil.test"),
        None,
    );
    assert_eq!(other.status(), 200);
    assert_eq!(other.header("access-control-allow-origin"), None);
    // The API's CORS configuration wins over the handler's own headers.
    let own = call(
        ureq::get(&offline.url("/modern?cors=own")).set("origin", "https://app.test"),
        None,
    );
    assert_eq!(
        own.all("access-control-allow-origin"),
        vec!["https://app.test"]
    );
    // A request without an Origin is not a CORS request.
    let plain = call(ureq::get(&offline.url("/modern")), None);
    assert_eq!(plain.header("access-control-allow-origin"), None);
    drop(offline);

    // `cors: true`: any origin, the Framework's default headers.
    let offline = Offline::start_with(&fixture(), "serverless.cors-true.yml", &[]);
    let answer = preflight(&offline, "/echo", "http://site.test");
    assert_eq!(answer.status(), 204);
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    assert!(answer
        .header("access-control-allow-methods")
        .is_some_and(|methods| methods.contains("GET") && methods.contains("POST")));
    assert!(answer
        .header("access-control-allow-headers")
        .is_some_and(|headers| headers.contains("Content-Type")));
    assert_eq!(answer.header("access-control-allow-credentials"), None);
}

#[test]
fn request_schemas_refuse_invalid_bodies_as_api_gateway_does() {
    let offline = start(&[]);
    let post = |path: &str, body: &str| {
        call(
            ureq::post(&offline.url(path)).set("content-type", "application/json"),
            Some(body.as_bytes()),
        )
    };
    let invalid = json!({"message": "Invalid request body"});
    // Draft-04, from `${file(./schemas/item.json)}`.
    let accepted = echoed(post("/dev/items", r#"{"name":"a","count":1}"#));
    assert_eq!(accepted["body"], r#"{"name":"a","count":1}"#);
    for body in [r#"{"count":1}"#, r#"{"name":"a","count":0}"#, "not json"] {
        let refused = post("/dev/items", body);
        assert_eq!(refused.status(), 400, "{body}");
        assert_eq!(json_body(refused), invalid, "{body}");
    }
    // Draft-07, inline with a model name.
    assert_eq!(
        post("/dev/items-07", r#"{"name":"a","count":1}"#).status(),
        200
    );
    let refused = post("/dev/items-07", r#"{"name":"a","count":0}"#);
    assert_eq!(refused.status(), 400);
    assert_eq!(json_body(refused), invalid);
}

#[test]
fn required_request_parameters_are_named_when_missing() {
    let offline = start(&[]);
    let missing = call(ureq::get(&offline.url("/dev/search")), None);
    assert_eq!(missing.status(), 400);
    assert_eq!(
        json_body(missing),
        json!({"message": "Missing required request parameters: [q, x-tenant]"})
    );
    let missing = call(ureq::get(&offline.url("/dev/search?q=shoes")), None);
    assert_eq!(
        json_body(missing),
        json!({"message": "Missing required request parameters: [x-tenant]"})
    );
    let found = echoed(call(
        ureq::get(&offline.url("/dev/search?q=shoes")).set("X-Tenant", "acme"),
        None,
    ));
    assert_eq!(found["queryStringParameters"]["q"], "shoes");
}

#[test]
fn operation_name_reaches_the_rest_event() {
    let offline = start(&[]);
    let hello = echoed(call(ureq::get(&offline.url("/dev/hello")), None));
    assert_eq!(hello["requestContext"]["operationName"], "getHello");
    let user = echoed(call(ureq::get(&offline.url("/dev/users/7")), None));
    assert_eq!(user["requestContext"]["operationName"], "getUser");
    let plain = echoed(call(ureq::get(&offline.url("/dev/plain")), None));
    assert_eq!(plain["requestContext"].get("operationName"), None);
}

#[test]
fn rest_handler_without_status_code_is_a_502_as_on_api_gateway() {
    let offline = start(&[]);
    let response = call(ureq::get(&offline.url("/dev/empty")), None);
    assert_eq!(response.status(), 502);
    assert_eq!(
        json_body(response),
        json!({"message": "Internal server error"})
    );
}

#[test]
fn cors_flags_give_rest_routes_without_cors_their_headers() {
    let offline = start(&[]);
    let plain = call(
        ureq::get(&offline.url("/dev/plain")).set("origin", "https://a.test"),
        None,
    );
    assert_eq!(plain.header("access-control-allow-origin"), None);
    drop(offline);

    let offline = start(&[
        "--corsAllowOrigin",
        "https://a.test, https://b.test",
        "--corsAllowHeaders",
        "x-one,x-two",
        "--corsExposedHeaders",
        "x-total",
        "--corsDisallowCredentials",
    ]);
    let answer = preflight(&offline, "/dev/plain", "https://b.test");
    assert_eq!(answer.status(), 204);
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("https://b.test")
    );
    assert_eq!(
        answer.header("access-control-allow-headers"),
        Some("x-one,x-two")
    );
    assert_eq!(
        answer.header("access-control-allow-methods"),
        Some("OPTIONS,GET")
    );
    assert_eq!(answer.header("access-control-allow-credentials"), None);
    let response = call(
        ureq::get(&offline.url("/dev/plain")).set("origin", "https://b.test"),
        None,
    );
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://b.test")
    );
    assert_eq!(
        response.header("access-control-expose-headers"),
        Some("x-total")
    );
    let stranger = call(
        ureq::get(&offline.url("/dev/plain")).set("origin", "https://c.test"),
        None,
    );
    assert_eq!(stranger.header("access-control-allow-origin"), None);
    // A REST handler's own CORS header stays.
    let own = call(
        ureq::get(&offline.url("/dev/plain?cors=own")).set("origin", "https://b.test"),
        None,
    );
    assert_eq!(
        own.all("access-control-allow-origin"),
        vec!["https://handler.test"]
    );
    drop(offline);

    // serverless-offline's defaults for the flags not given: its headers, credentials allowed.
    let offline = start(&["--corsAllowOrigin", "https://a.test"]);
    let answer = preflight(&offline, "/dev/plain", "https://a.test");
    assert_eq!(
        answer.header("access-control-allow-headers"),
        Some("accept,content-type,x-api-key,authorization")
    );
    assert_eq!(
        answer.header("access-control-allow-credentials"),
        Some("true")
    );
}

#[test]
fn no_timeout_lets_a_function_outlive_its_timeout() {
    let offline = start(&[]);
    assert_eq!(
        call(ureq::get(&offline.url("/dev/sleepy")), None).status(),
        504
    );
    drop(offline);
    let offline = start(&["--noTimeout"]);
    let body = echoed(call(ureq::get(&offline.url("/dev/sleepy")), None));
    assert_eq!(body["slept"], true);
}

#[test]
fn local_environment_puts_the_emulators_variables_under_the_functions() {
    let env = [
        ("PARITY_LOCAL", "from-shell"),
        ("SHARED", "from-shell"),
        ("AWS_REGION", "eu-north-1"),
    ];
    let offline = Offline::launch(&fixture(), &["offline"], "serverless.yml", &[], &env);
    let facts = echoed(call(ureq::get(&offline.url("/dev/facts")), None));
    assert_eq!(facts["local"], Value::Null);
    assert_eq!(facts["shared"], "from-function");
    drop(offline);

    let offline = Offline::launch(
        &fixture(),
        &["offline"],
        "serverless.yml",
        &["--localEnvironment"],
        &env,
    );
    let facts = echoed(call(ureq::get(&offline.url("/dev/facts")), None));
    assert_eq!(facts["local"], "from-shell");
    assert_eq!(facts["shared"], "from-function");
    assert_eq!(facts["region"], "us-east-1");
}

#[test]
fn terminate_idle_lambda_time_stops_idle_instances() {
    let offline = start(&["--terminateIdleLambdaTime", "1"]);
    let facts = echoed(call(ureq::get(&offline.url("/dev/facts")), None));
    let pid = facts["pid"].as_u64().and_then(|p| u32::try_from(p).ok());
    let pid = pid.unwrap_or_else(|| panic!("no pid in {facts}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!alive(pid), "instance {pid} still runs after 30 s idle");
    // The next call starts a new instance.
    let again = echoed(call(ureq::get(&offline.url("/dev/facts")), None));
    assert_ne!(again["pid"], facts["pid"]);
}

#[test]
fn offline_start_is_offline() {
    let offline = Offline::launch(
        &fixture(),
        &["offline", "start"],
        "serverless.yml",
        &[],
        &[],
    );
    let hello = echoed(call(ureq::get(&offline.url("/dev/hello")), None));
    assert_eq!(hello["path"], "/hello");
}

#[test]
fn https_protocol_serves_the_routes_over_tls() {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("certificate");
    let directory = tempfile::tempdir().expect("temp dir");
    let certificate = certified.cert.pem();
    std::fs::write(directory.path().join("cert.pem"), &certificate).expect("cert.pem");
    std::fs::write(
        directory.path().join("key.pem"),
        certified.signing_key.serialize_pem(),
    )
    .expect("key.pem");
    let directory_text = directory.path().display().to_string();
    let offline = start(&["--httpsProtocol", &directory_text]);
    assert!(offline.http.starts_with("https://"), "{}", offline.http);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let url = offline.url("/dev/hello");
    let body: Value = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(certificate.as_bytes()).expect("PEM"),
            )
            .build()
            .expect("client");
        let response = client.get(&url).send().await.expect("HTTPS request");
        assert_eq!(response.status(), 200);
        response.json().await.expect("JSON")
    });
    assert_eq!(body["path"], "/hello");
    // Plain HTTP on the HTTPS port gets no answer.
    let plain = ureq::get(&url.replacen("https://", "http://", 1)).call();
    assert!(plain.is_err());
}

/// An HTTP server on a free port that answers every request with 201 and a JSON body telling
/// what it received (request line, `x-test` header, body).
fn upstream() -> u16 {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind upstream");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let (mut length, mut marker) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    match name.trim().to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().unwrap_or(0),
                        "x-test" => marker = value.trim().to_string(),
                        _ => {}
                    }
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let answer = json!({
                "requestLine": request_line.trim(),
                "xTest": marker,
                "body": String::from_utf8_lossy(&body),
            })
            .to_string();
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nx-upstream: yes\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    port
}

#[test]
fn resource_routes_proxy_http_proxy_methods_to_their_uri() {
    let port = upstream().to_string();
    let env = [("UPSTREAM_PORT", port.as_str())];
    let offline = Offline::launch(
        &fixture(),
        &["offline"],
        "serverless.resources.yml",
        &[],
        &env,
    );
    assert_eq!(
        call(ureq::get(&offline.url("/dev/upstream/a")), None).status(),
        404
    );
    drop(offline);

    let offline = Offline::launch(
        &fixture(),
        &["offline"],
        "serverless.resources.yml",
        &["--resourceRoutes"],
        &env,
    );
    let response = call(
        ureq::post(&offline.url("/dev/upstream/a/b?x=1")).set("x-test", "marked"),
        Some(b"payload"),
    );
    assert_eq!(response.status(), 201);
    assert_eq!(response.header("x-upstream"), Some("yes"));
    let seen = json_body(response);
    assert_eq!(seen["requestLine"], "POST /backend/a/b?x=1 HTTP/1.1");
    assert_eq!(seen["xTest"], "marked");
    assert_eq!(seen["body"], "payload");
    // The service's own routes still run their functions.
    assert_eq!(
        echoed(call(ureq::get(&offline.url("/dev/hello")), None))["path"],
        "/hello"
    );
}

#[test]
fn custom_serverless_offline_options_apply_and_the_command_line_wins() {
    // `--httpPort 0` (given by the helper) wins over the manifest's 3999.
    let offline = Offline::start_with(&fixture(), "serverless.custom-options.yml", &[]);
    assert!(
        !offline.http.ends_with(":3999"),
        "the command line's port wins: {}",
        offline.http
    );
    assert_eq!(
        echoed(call(ureq::get(&offline.url("/api/hello")), None))["path"],
        "/hello"
    );
    assert_eq!(
        call(ureq::get(&offline.url("/api/dev/hello")), None).status(),
        404
    );
    let listing = offline.seen.join("\n");
    assert!(
        listing.contains("custom.serverless-offline.useDocker is not used")
            && listing.contains("functions run as local processes"),
        "an option updraft leaves aside is named, with why:\n{listing}"
    );
    assert!(
        listing.contains("custom.serverless-offline.httpPorts is not used"),
        "a misspelt option is named:\n{listing}"
    );
    drop(offline);

    let offline = Offline::start_with(
        &fixture(),
        "serverless.custom-options.yml",
        &["--prefix", "v2"],
    );
    assert_eq!(
        call(ureq::get(&offline.url("/v2/hello")), None).status(),
        200
    );
    assert_eq!(
        call(ureq::get(&offline.url("/api/hello")), None).status(),
        404
    );
}
