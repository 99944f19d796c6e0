//! `updraft offline`'s WebSocket API as a client sees it: the binary on
//! `tests/fixtures/offline-websocket` (real Python handlers), driven by a real WebSocket client
//! (tokio-tungstenite) and the AWS SDKs' `apigatewaymanagementapi` clients (Rust from the test,
//! boto3 from inside a handler). The handlers record their `$connect` and `$disconnect` events
//! in a scratch directory (`EVENTS_DIR`), which is how the tests see what those routes got.

mod common;
#[path = "support/offline_process.rs"]
mod offline_process;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_apigatewaymanagement::config::{BehaviorVersion, Credentials, Region};
use futures_util::{SinkExt, StreamExt};
use offline_process::Offline;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/offline-websocket")
}

/// A running `updraft offline` on tests/fixtures/offline-websocket, whose `$connect` and
/// `$disconnect` handlers record their events in a scratch directory; interrupted (Ctrl-C) when
/// dropped.
struct Sockets {
    offline: Offline,
    /// `ws://127.0.0.1:PORT`
    websocket: String,
    events: tempfile::TempDir,
}

impl std::ops::Deref for Sockets {
    type Target = Offline;
    fn deref(&self) -> &Offline {
        &self.offline
    }
}

impl std::ops::DerefMut for Sockets {
    fn deref_mut(&mut self) -> &mut Offline {
        &mut self.offline
    }
}

impl Sockets {
    fn start(config: &str, port: u16, env: &[(&str, &str)]) -> Sockets {
        Sockets::start_with(config, port, env, &[])
    }

    fn start_with(config: &str, port: u16, env: &[(&str, &str)], args: &[&str]) -> Sockets {
        let events = tempfile::tempdir().expect("scratch directory");
        let port = port.to_string();
        let events_env = format!("EVENTS_DIR={}", events.path().display());
        let websocket_env = format!("WEBSOCKET_PORT={port}");
        let mut extra = vec![
            "--websocketPort",
            &port,
            "-e",
            &events_env,
            "-e",
            &websocket_env,
        ];
        extra.extend_from_slice(args);
        let offline = Offline::launch(&fixture(), &["offline"], config, &extra, env);
        let websocket = offline
            .seen
            .iter()
            .find_map(|line| line.strip_prefix("WebSocket API: "))
            .map(|url| url.trim().to_string())
            .unwrap_or_else(|| {
                panic!(
                    "no `WebSocket API` line; stderr:\n{}",
                    offline.seen.join("\n")
                )
            });
        Sockets {
            offline,
            websocket,
            events,
        }
    }

    fn http(&self) -> String {
        self.websocket.replacen("ws://", "http://", 1)
    }

    /// The event a `$connect` or `$disconnect` handler recorded for a connection.
    fn recorded(&self, kind: &str, connection_id: &str) -> Option<Value> {
        let path = self
            .events
            .path()
            .join(format!("{kind}-{connection_id}.json"));
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Waits for a handler's record (the `$disconnect` of a closed connection runs after it).
    async fn wait_recorded(&self, kind: &str, connection_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(event) = self.recorded(kind, connection_id) {
                return event;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no {kind} event for {connection_id}; stderr:\n{}",
            self.seen.join("\n")
        );
    }

    /// The connection ids whose `$connect` ran, in no particular order.
    fn connected_ids(&self) -> Vec<String> {
        std::fs::read_dir(self.events.path())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                Some(
                    name.strip_prefix("connect-")?
                        .strip_suffix(".json")?
                        .to_string(),
                )
            })
            .collect()
    }
}

async fn connect(url: &str) -> Result<Client, WsError> {
    connect_with(url, &[]).await
}

/// Connects with extra headers on the upgrade request.
async fn connect_with(url: &str, headers: &[(&'static str, &str)]) -> Result<Client, WsError> {
    let mut request = url.into_client_request().expect("a WebSocket URL");
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, value.parse().expect("a header value"));
    }
    request
        .headers_mut()
        .insert("user-agent", "updraft-test/1.0".parse().expect("header"));
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(client, _)| client)
}

/// Connects and finds the new connection's id from its recorded `$connect` event.
async fn connect_recorded(offline: &Sockets, url: &str) -> (Client, String) {
    let before = offline.connected_ids();
    let client = connect(url).await.expect("the upgrade is accepted");
    let mut new: Vec<String> = offline
        .connected_ids()
        .into_iter()
        .filter(|id| !before.contains(id))
        .collect();
    assert_eq!(new.len(), 1, "one new $connect event");
    (client, new.remove(0))
}

/// The next text message, skipping pings.
async fn next_text(client: &mut Client) -> String {
    loop {
        match client.next().await {
            Some(Ok(Message::Text(text))) => return text.to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

async fn next_json(client: &mut Client) -> Value {
    let text = next_text(client).await;
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

fn refused_status(result: Result<Client, WsError>) -> u16 {
    match result {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected the upgrade to be refused"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_runs_on_the_upgrade_and_its_status_refuses() {
    let offline = Sockets::start("serverless.yml", 0, &[]);
    let listing = offline.seen.join("\n");
    assert!(
        listing.contains("the WebSocket route `$connect` has an authorizer that is not a function"),
        "the start warns that the authorizer cannot run:\n{listing}"
    );
    for route in ["$connect", "$default", "$disconnect", "echo", "push"] {
        assert!(
            listing.contains(&format!("WS  {route}")),
            "{route} is listed:\n{listing}"
        );
    }

    let url = format!("{}/?name=ada&name=grace", offline.websocket);
    let (_client, id) = connect_recorded(&offline, &url).await;
    let event = offline
        .recorded("connect", &id)
        .expect("the $connect event");
    let context = &event["requestContext"];
    assert_eq!(context["routeKey"], "$connect");
    assert_eq!(context["eventType"], "CONNECT");
    assert_eq!(context["messageDirection"], "IN");
    assert_eq!(context["stage"], "dev");
    assert_eq!(context["domainName"], "127.0.0.1");
    assert_eq!(context["connectionId"], id.as_str());
    assert!(context["apiId"].is_string() && context["requestId"].is_string());
    assert!(context["connectedAt"].as_i64().is_some_and(|at| at > 0));
    assert_eq!(context["identity"]["userAgent"], "updraft-test/1.0");
    assert_eq!(event["headers"]["user-agent"], "updraft-test/1.0");
    assert_eq!(
        event["multiValueHeaders"]["user-agent"][0],
        "updraft-test/1.0"
    );
    assert_eq!(event["queryStringParameters"]["name"], "grace");
    assert_eq!(
        event["multiValueQueryStringParameters"]["name"],
        serde_json::json!(["ada", "grace"])
    );
    assert_eq!(event["isBase64Encoded"], false);

    // AWS's URLs carry the stage.
    connect_recorded(&offline, &format!("{}/dev", offline.websocket)).await;

    let denied = connect(&format!("{}/dev?status=401", offline.websocket)).await;
    assert_eq!(refused_status(denied), 401);
    let crashed = connect(&format!("{}/?crash=1", offline.websocket)).await;
    assert_eq!(refused_status(crashed), 502);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_route_by_action_to_their_route_else_to_default() {
    let mut offline = Sockets::start("serverless.yml", 0, &[]);
    let (mut client, id) = connect_recorded(&offline, &offline.websocket).await;

    // A one-way route's answer is not sent: the next message is the two-way route's.
    client
        .send(Message::text(r#"{"action":"oneway","n":1}"#))
        .await
        .expect("sent");
    client
        .send(Message::text(r#"{"action":"echo","n":2}"#))
        .await
        .expect("sent");
    let echoed = next_json(&mut client).await;
    assert_eq!(echoed["route"], "echo");
    let context = &echoed["event"]["requestContext"];
    assert_eq!(context["routeKey"], "echo");
    assert_eq!(context["eventType"], "MESSAGE");
    assert_eq!(context["messageDirection"], "IN");
    assert_eq!(context["connectionId"], id.as_str());
    assert!(context["messageId"].is_string());
    assert_eq!(echoed["event"]["body"], r#"{"action":"echo","n":2}"#);
    assert_eq!(echoed["event"]["isBase64Encoded"], false);
    // Logged as HTTP invocations are: the function's log, then a line for the route.
    assert!(
        offline.wait_for("[echo] START RequestId"),
        "{}",
        offline.seen.join("\n")
    );
    assert!(
        offline.wait_for(&format!("websocket echo {id} -> echo ok")),
        "{}",
        offline.seen.join("\n")
    );

    client.send(Message::text("not json")).await.expect("sent");
    let fallback = next_json(&mut client).await;
    assert_eq!(fallback["route"], "$default");
    assert_eq!(fallback["event"]["requestContext"]["routeKey"], "$default");
    assert_eq!(fallback["event"]["body"], "not json");

    client
        .send(Message::text(r#"{"action":"nowhere"}"#))
        .await
        .expect("sent");
    assert_eq!(next_json(&mut client).await["route"], "$default");

    client
        .send(Message::text(r#"{"action":"fail"}"#))
        .await
        .expect("sent");
    let error = next_json(&mut client).await;
    assert_eq!(error["message"], "Internal server error");
    assert_eq!(error["connectionId"], id.as_str());
    assert!(error["requestId"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_connect_every_client_is_accepted_and_unrouted_messages_are_forbidden() {
    let offline = Sockets::start("serverless.minimal.yml", 0, &[]);
    let mut client = connect(&offline.websocket).await.expect("accepted");
    client
        .send(Message::text(r#"{"action":"echo"}"#))
        .await
        .expect("sent");
    let echoed = next_json(&mut client).await;
    let id = echoed["event"]["requestContext"]["connectionId"].clone();
    client
        .send(Message::text(r#"{"action":"other"}"#))
        .await
        .expect("sent");
    let forbidden = next_json(&mut client).await;
    assert_eq!(forbidden["message"], "Forbidden");
    assert_eq!(forbidden["connectionId"], id);
    assert!(forbidden["requestId"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_runs_when_the_client_closes_and_when_the_emulator_stops() {
    let mut offline = Sockets::start("serverless.yml", 0, &[]);
    let (mut client, id) = connect_recorded(&offline, &offline.websocket).await;
    client.close(None).await.expect("closed");
    let event = offline.wait_recorded("disconnect", &id).await;
    let context = &event["requestContext"];
    assert_eq!(context["routeKey"], "$disconnect");
    assert_eq!(context["eventType"], "DISCONNECT");
    assert_eq!(context["connectionId"], id.as_str());
    assert_eq!(context["disconnectStatusCode"], 1005);

    let (mut open, open_id) = connect_recorded(&offline, &offline.websocket).await;
    assert_eq!(offline.interrupt(), Some(0), "Ctrl-C exits 0");
    // The emulator ends only after the connection's `$disconnect` ran.
    let event = offline
        .recorded("disconnect", &open_id)
        .expect("$disconnect ran before the emulator exited");
    assert_eq!(event["requestContext"]["disconnectStatusCode"], 1001);
    match open.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Away),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_timeout_flag_closes_a_silent_connection_going_away() {
    let offline = Sockets::start_with("serverless.yml", 0, &[], &["--webSocketIdleTimeout", "1"]);
    let (mut client, id) = connect_recorded(&offline, &offline.websocket).await;
    match client.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Away),
        other => panic!("expected a close frame, got {other:?}"),
    }
    let event = offline.wait_recorded("disconnect", &id).await;
    assert_eq!(event["requestContext"]["disconnectStatusCode"], 1001);
    assert_eq!(event["requestContext"]["disconnectReason"], "Going away");
}

fn management(endpoint: &str) -> aws_sdk_apigatewaymanagement::Client {
    let config = aws_sdk_apigatewaymanagement::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_api_gets_posts_deletes_and_answers_gone_to_the_rust_sdk() {
    let offline = Sockets::start("serverless.yml", 0, &[]);
    let (mut client, id) = connect_recorded(&offline, &offline.websocket).await;
    let without_stage = management(&offline.http());
    let with_stage = management(&format!("{}/dev", offline.http()));

    let described = without_stage
        .get_connection()
        .connection_id(&id)
        .send()
        .await
        .expect("getConnection");
    let identity = described.identity().expect("an identity");
    assert_eq!(identity.source_ip(), Some("127.0.0.1"));
    assert_eq!(identity.user_agent(), Some("updraft-test/1.0"));
    assert!(described.connected_at().is_some() && described.last_active_at().is_some());

    with_stage
        .post_to_connection()
        .connection_id(&id)
        .data(aws_sdk_apigatewaymanagement::primitives::Blob::new(
            "hello from the SDK",
        ))
        .send()
        .await
        .expect("postToConnection");
    assert_eq!(next_text(&mut client).await, "hello from the SDK");

    with_stage
        .delete_connection()
        .connection_id(&id)
        .send()
        .await
        .expect("deleteConnection");
    match client.next().await {
        Some(Ok(Message::Close(_))) => {}
        other => panic!("expected the connection to close, got {other:?}"),
    }
    let event = offline.wait_recorded("disconnect", &id).await;
    assert_eq!(event["requestContext"]["eventType"], "DISCONNECT");

    let gone = without_stage
        .get_connection()
        .connection_id(&id)
        .send()
        .await
        .expect_err("the connection is closed");
    assert!(gone.into_service_error().is_gone_exception());
    let gone = with_stage
        .post_to_connection()
        .connection_id("bm90LW9wZW4AAA==")
        .data(aws_sdk_apigatewaymanagement::primitives::Blob::new("lost"))
        .send()
        .await
        .expect_err("no such connection");
    assert!(gone.into_service_error().is_gone_exception());

    // API Gateway takes 128 KB a message.
    let (_open, open_id) = connect_recorded(&offline, &offline.websocket).await;
    let too_large = with_stage
        .post_to_connection()
        .connection_id(&open_id)
        .data(aws_sdk_apigatewaymanagement::primitives::Blob::new(
            vec![b'x'; 128 * 1024 + 1],
        ))
        .send()
        .await
        .expect_err("over 128 KB");
    assert!(too_large
        .into_service_error()
        .is_payload_too_large_exception());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_ends_only_its_own_connection() {
    let offline = Sockets::start("serverless.yml", 0, &[]);
    let (mut big, big_id) = connect_recorded(&offline, &offline.websocket).await;
    let (mut other, _) = connect_recorded(&offline, &offline.websocket).await;
    // Over API Gateway's 32 KB frame; the send may fail once the server hangs up.
    let _ = big.send(Message::text("x".repeat(200 * 1024))).await;
    loop {
        match big.next().await {
            Some(Ok(Message::Text(_))) => panic!("an oversized message was routed"),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => break,
        }
    }
    offline.wait_recorded("disconnect", &big_id).await;
    other
        .send(Message::text(r#"{"action":"echo"}"#))
        .await
        .expect("sent");
    assert_eq!(next_json(&mut other).await["route"], "echo");
}

/// A port nobody listens on now: the handler must know it before the emulator starts.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs boto3 from .venv: scripts/test.sh installs it"]
async fn boto3_in_a_handler_posts_to_its_connection_and_hears_gone() {
    let python = common::python_with_boto3();
    let python = python.display().to_string();
    let offline = Sockets::start(
        "serverless.yml",
        free_port(),
        &[
            ("UPDRAFT_PYTHON", python.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ],
    );
    let mut client = connect(&offline.websocket).await.expect("accepted");
    client
        .send(Message::text(r#"{"action":"push","text":"hi"}"#))
        .await
        .expect("sent");
    assert_eq!(next_json(&mut client).await["pushed"], "hi");
    assert_eq!(next_json(&mut client).await["gone"], "GoneException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_authorizer_refuses_or_passes_its_principal_and_context_to_connect() {
    let offline = Sockets::start("serverless.authorizer.yml", 0, &[]);
    let url = offline.websocket.clone();
    // No `Auth` header: refused before the authorizer runs.
    assert_eq!(refused_status(connect(&url).await), 401);
    assert_eq!(
        refused_status(connect_with(&url, &[("auth", "wrong")]).await),
        401,
        "an `Unauthorized` error is a 401"
    );
    assert_eq!(
        refused_status(connect_with(&url, &[("auth", "deny")]).await),
        403,
        "a Deny policy is a 403"
    );
    assert_eq!(
        refused_status(connect_with(&url, &[("auth", "crash")]).await),
        500,
        "a failing authorizer is a 500"
    );
    assert!(
        offline.connected_ids().is_empty(),
        "$connect never ran for a refused client"
    );

    let before = offline.connected_ids();
    let mut client = connect_with(&url, &[("auth", "let-me-in")])
        .await
        .expect("an allowed client connects");
    let id = offline
        .connected_ids()
        .into_iter()
        .find(|id| !before.contains(id))
        .expect("$connect ran");
    let event = offline.wait_recorded("connect", &id).await;
    let authorizer = &event["requestContext"]["authorizer"];
    assert_eq!(authorizer["principalId"], "alice", "{event}");
    assert_eq!(authorizer["user"], "alice");
    assert_eq!(authorizer["admin"], false);
    assert_eq!(authorizer["level"], 3);
    client.send(Message::text("hello")).await.expect("sent");
    assert_eq!(next_json(&mut client).await["route"], "$default");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_lets_every_client_connect_without_the_authorizer() {
    let offline = Sockets::start_with("serverless.authorizer.yml", 0, &[], &["--noAuth"]);
    let before = offline.connected_ids();
    let _client = connect(&offline.websocket)
        .await
        .expect("with --noAuth a client without `Auth` connects");
    let id = offline
        .connected_ids()
        .into_iter()
        .find(|id| !before.contains(id))
        .expect("$connect ran");
    let event = offline.wait_recorded("connect", &id).await;
    assert!(
        event["requestContext"].get("authorizer").is_none(),
        "no authorizer ran: {event}"
    );
}
