//! `updraft offline` on Google and Azure services: each HTTP function is called the way its
//! cloud's runtime calls it (Express's `(req, res)` and a Flask request for Google, the
//! function.json model's `(context, req)` for Azure), served where that cloud serves it (a
//! Google function at its path, an Azure one under `/api`), and what it answers goes back to the
//! client: status, headers and body. A function that fails answers 502, as every offline
//! function that fails does.

mod common;
#[path = "support/offline_process.rs"]
mod offline_process;

use std::path::PathBuf;

use common::{call, json_body};
use offline_process::Offline;
use serde_json::json;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/offline-clouds")
        .join(name)
}

/// POSTs JSON with a query string to `path`; the function echoes both back with 201.
fn assert_echoes(offline: &Offline, path: &str) {
    let response = call(
        ureq::post(&offline.url(&format!("{path}?tag=blue")))
            .set("content-type", "application/json"),
        Some(br#"{"name":"Ada"}"#),
    );
    assert_eq!(response.status(), 201, "{path}");
    assert_eq!(
        response.header("x-seen"),
        Some("POST application/json"),
        "{path}"
    );
    assert_eq!(
        json_body(response),
        json!({"body": {"name": "Ada"}, "query": {"tag": "blue"}}),
        "{path}"
    );
}

#[test]
fn google_functions_get_express_and_flask_requests_and_their_answers_go_back() {
    let mut offline = Offline::start(&fixture("google"), "serverless.yml");
    assert_echoes(&offline, "/echo");
    assert_echoes(&offline, "/pyecho");
    let failed = call(ureq::get(&offline.url("/fails")), None);
    assert_eq!(failed.status(), 502);
    assert!(offline.wait_for("the google function failed"));
    assert_eq!(offline.interrupt(), Some(0), "{}", offline.seen.join("\n"));
}

#[test]
fn azure_functions_get_context_and_request_under_api_and_context_done_answers() {
    let mut offline = Offline::start(&fixture("azure"), "serverless.yml");
    assert_echoes(&offline, "/api/echo");
    assert!(
        offline.wait_for("echoing POST"),
        "context.log reaches the log:\n{}",
        offline.seen.join("\n")
    );
    let failed = call(ureq::get(&offline.url("/api/fails")), None);
    assert_eq!(failed.status(), 502);
    assert!(offline.wait_for("the azure function failed"));
    // Not under the stage: that is where AWS functions are.
    let staged = call(ureq::post(&offline.url("/dev/api/echo")), Some(b"{}"));
    assert_eq!(staged.status(), 404);
    assert_eq!(offline.interrupt(), Some(0), "{}", offline.seen.join("\n"));
}
