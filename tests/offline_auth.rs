//! Authorizers and API keys in `updraft offline`, as a user runs them: the binary on
//! `tests/fixtures/offline-auth` (Node.js authorizers and handler), driven over real HTTP.
//! JWT authorizers get their keys from a small OpenID issuer served by the test on loopback.

mod common;
#[path = "support/offline_process.rs"]
mod offline_process;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use common::{call, json_body};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use offline_process::Offline;
use serde_json::{json, Value};

const API_KEY: &str = "offline-auth-key-0123456789";

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/offline-auth")
}

/// A scratch file the authorizers append each call to.
struct Calls {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Calls {
    fn new() -> Calls {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("calls.log");
        Calls { _dir: dir, path }
    }

    fn env(&self) -> String {
        format!("AUTH_CALLS={}", self.path.display())
    }

    /// How many times the authorizer was called with this line (`token allow`).
    fn count(&self, line: &str) -> usize {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .filter(|l| *l == line)
            .count()
    }
}

fn start(calls: &Calls, extra: &[&str], env: &[(&str, &str)]) -> Offline {
    let variable = calls.env();
    let mut args = vec!["--env", variable.as_str()];
    args.extend_from_slice(extra);
    Offline::launch(&fixture(), &["offline"], "serverless.yml", &args, env)
}

fn get(offline: &Offline, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = ureq::get(&offline.url(path));
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let response = call(request, None);
    (response.status(), json_body(response))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn rest_lambda_authorizers_allow_deny_and_refuse_as_api_gateway_does() {
    let calls = Calls::new();
    let offline = start(&calls, &[], &[]);

    let (status, body) = get(&offline, "/dev/token", &[("authorization", "allow")]);
    assert_eq!(status, 200, "{body}");
    // Context values reach the handler as strings, with the policy's principal.
    assert_eq!(body["authorizer"]["principalId"], "user-1");
    assert_eq!(body["authorizer"]["role"], "admin");
    assert_eq!(body["authorizer"]["level"], "3");
    assert_eq!(body["authorizer"]["active"], "true");

    let (status, _) = get(
        &offline,
        "/dev/token",
        &[("authorization", "allow-wildcard")],
    );
    assert_eq!(status, 200, "a `?` wildcard matches one character");

    let (status, body) = get(&offline, "/dev/token", &[("authorization", "deny")]);
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"message": "User is not authorized to access this resource with an explicit deny"})
    );

    let (status, body) = get(&offline, "/dev/token", &[("authorization", "post-only")]);
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"message": "User is not authorized to access this resource"})
    );

    let (status, body) = get(&offline, "/dev/token", &[("authorization", "stranger")]);
    assert_eq!((status, body), (401, json!({"message": "Unauthorized"})));

    let (status, body) = get(&offline, "/dev/token", &[("authorization", "broken")]);
    assert_eq!((status, body), (500, json!({"message": null})));

    // No identity source: refused without calling the authorizer.
    let (status, body) = get(&offline, "/dev/token", &[]);
    assert_eq!((status, body), (401, json!({"message": "Unauthorized"})));
    assert_eq!(calls.count("token "), 0);

    // REQUEST authorizer: sees path parameters and the query.
    let (status, body) = get(
        &offline,
        "/dev/request/42?q=books",
        &[("authorization", "allow")],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authorizer"]["principalId"], "request-user");
    assert_eq!(body["authorizer"]["id"], "42");
    assert_eq!(body["authorizer"]["query"], "books");
    let (status, _) = get(&offline, "/dev/request/42", &[("authorization", "nope")]);
    assert_eq!(status, 401);

    // An authorizer named by the ARN of a function of the service. (`allow`'s cached policy
    // names /token only, so it would be refused here, as API Gateway refuses it.)
    let (status, body) = get(&offline, "/dev/by-arn", &[("authorization", "allow-again")]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authorizer"]["principalId"], "user-1");
    let (status, _) = get(&offline, "/dev/by-arn", &[("authorization", "allow")]);
    assert_eq!(
        status, 403,
        "a cached policy is evaluated for each route it is used on"
    );

    // `integration: lambda`: the request template carries the principal and the context.
    let (status, _) = get(
        &offline,
        "/dev/template",
        &[("authorization", "allow-wildcard")],
    );
    assert_eq!(status, 403, "the wildcard policy names /token only");
    let (status, body) = get(&offline, "/dev/template", &[("authorization", "template")]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"principalId": "template-user", "context": {"via": "template"}})
    );
}

#[test]
fn rest_authorizer_answers_are_cached_by_token_for_their_ttl() {
    let calls = Calls::new();
    let offline = start(&calls, &[], &[]);
    for _ in 0..2 {
        let (status, _) = get(&offline, "/dev/token", &[("authorization", "allow")]);
        assert_eq!(status, 200);
    }
    assert_eq!(calls.count("token allow"), 1);
    let (status, _) = get(&offline, "/dev/token", &[("authorization", "allow-again")]);
    assert_eq!(status, 200);
    assert_eq!(calls.count("token allow-again"), 1);

    // `resultTtlInSeconds: 0`: every request asks the authorizer.
    for _ in 0..2 {
        let (status, _) = get(
            &offline,
            "/dev/token-uncached",
            &[("authorization", "allow")],
        );
        assert_eq!(status, 200);
    }
    assert_eq!(calls.count("token allow"), 3);

    // A token not matching `identityValidationExpression` never reaches the authorizer.
    let (status, _) = get(
        &offline,
        "/dev/token-uncached",
        &[("authorization", "Allow2")],
    );
    assert_eq!(status, 401);
    assert_eq!(calls.count("token Allow2"), 0);
}

#[test]
fn http_api_lambda_authorizers_answer_with_simple_responses_or_policies() {
    let calls = Calls::new();
    let offline = start(&calls, &[], &[]);

    let (status, body) = get(&offline, "/simple", &[("authorization", "allow")]);
    assert_eq!(status, 200, "{body}");
    let context = &body["authorizer"]["lambda"];
    assert_eq!(context["user"], "simple-user");
    assert_eq!(context["type"], "REQUEST");
    assert_eq!(context["count"], 7, "an HTTP API keeps context types");
    assert_eq!(
        context["routeArn"],
        "arn:aws:execute-api:us-east-1:123456789012:offlineapi/$default/GET/simple"
    );
    let (status, body) = get(&offline, "/simple", &[("authorization", "no")]);
    assert_eq!((status, body), (403, json!({"message": "Forbidden"})));
    let (status, body) = get(&offline, "/simple", &[]);
    assert_eq!((status, body), (401, json!({"message": "Unauthorized"})));
    // A browser on another origin can read the refusal.
    let refused = call(
        ureq::get(&offline.url("/simple")).set("origin", "http://localhost:5173"),
        None,
    );
    assert_eq!(refused.status(), 401);
    assert!(refused.header("access-control-allow-origin").is_some());

    let (status, body) = get(&offline, "/policy", &[("authorization", "allow")]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authorizer"]["lambda"]["user"], "policy-user");
    let (status, body) = get(&offline, "/policy", &[("authorization", "no")]);
    assert_eq!((status, body), (403, json!({"message": "Forbidden"})));
}

/// An OpenID issuer on loopback serving its configuration and the fixture's key set.
fn issuer() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}/issuer", listener.local_addr().expect("address"));
    let configuration = json!({"issuer": base, "jwks_uri": format!("{base}/jwks.json")});
    let jwks = std::fs::read_to_string(fixture().join("jwks.json")).expect("jwks.json");
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(&stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let (status, body) = if request_line.contains("/.well-known/openid-configuration ") {
                ("200 OK", configuration.to_string())
            } else if request_line.contains("/jwks.json ") {
                ("200 OK", jwks.clone())
            } else {
                ("404 Not Found", "{}".to_string())
            };
            let mut stream = &stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn signed(claims: &Value) -> String {
    let key =
        EncodingKey::from_rsa_der(include_bytes!("fixtures/offline-auth/jwt-signing-key.der"));
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-key-1".to_string());
    jsonwebtoken::encode(&header, claims, &key).expect("token")
}

fn claims(issuer: &str) -> Value {
    json!({
        "iss": issuer,
        "sub": "user-42",
        "aud": "offline-auth-app",
        "exp": now() + 600,
        "scope": "read admin",
        "groups": ["a", "b"],
    })
}

/// A token whose signature belongs to other claims.
fn badly_signed(issuer: &str) -> String {
    let good = signed(&claims(issuer));
    let mut other_claims = claims(issuer);
    other_claims["sub"] = json!("someone-else");
    let other = signed(&other_claims);
    let (head, _) = good.rsplit_once('.').expect("three parts");
    let (_, signature) = other.rsplit_once('.').expect("three parts");
    format!("{head}.{signature}")
}

#[test]
fn jwt_authorizer_checks_signature_issuer_audience_expiry_and_scopes() {
    let issuer = issuer();
    let calls = Calls::new();
    let offline = start(&calls, &[], &[("JWT_ISSUER", &issuer)]);

    let good = bearer(&signed(&claims(&issuer)));
    let (status, body) = get(&offline, "/jwt", &[("authorization", &good)]);
    assert_eq!(status, 200, "{body}\n{}", offline.seen.join("\n"));
    let jwt = &body["authorizer"]["jwt"];
    assert_eq!(jwt["claims"]["sub"], "user-42");
    assert_eq!(jwt["claims"]["groups"], "[a b]");
    assert_eq!(jwt["scopes"], json!(["read", "admin"]));

    // The issuer's EC key verifies ES256 tokens.
    let key = EncodingKey::from_ec_der(include_bytes!(
        "fixtures/offline-auth/jwt-signing-key-ec.der"
    ));
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("test-key-ec".to_string());
    let es256 = jsonwebtoken::encode(&header, &claims(&issuer), &key).expect("token");
    let (status, body) = get(&offline, "/jwt", &[("authorization", &bearer(&es256))]);
    assert_eq!(status, 200, "{body}");

    let (status, _) = get(&offline, "/jwt-admin", &[("authorization", &good)]);
    assert_eq!(status, 200);
    let mut reader = claims(&issuer);
    reader["scope"] = json!("read");
    let reader = bearer(&signed(&reader));
    let (status, body) = get(&offline, "/jwt-admin", &[("authorization", &reader)]);
    assert_eq!((status, body), (403, json!({"message": "Forbidden"})));

    let mut wrong_audience = claims(&issuer);
    wrong_audience["aud"] = json!("another-app");
    let mut expired = claims(&issuer);
    expired["exp"] = json!(now() - 60);
    let mut wrong_issuer = claims(&issuer);
    wrong_issuer["iss"] = json!("https://issuer.invalid");
    for (what, token) in [
        ("wrong audience", signed(&wrong_audience)),
        ("expired", signed(&expired)),
        ("wrong issuer", signed(&wrong_issuer)),
        ("bad signature", badly_signed(&issuer)),
    ] {
        let (status, body) = get(&offline, "/jwt", &[("authorization", &bearer(&token))]);
        assert_eq!(
            (status, body),
            (401, json!({"message": "Unauthorized"})),
            "{what}"
        );
    }
    let (status, _) = get(&offline, "/jwt", &[]);
    assert_eq!(status, 401);
}

#[test]
fn ignore_jwt_signature_accepts_a_bad_signature_but_still_checks_claims() {
    // No issuer is listening: with the flag, no keys are needed.
    let unreachable = "http://127.0.0.1:9/issuer";
    let calls = Calls::new();
    let offline = start(
        &calls,
        &["--ignoreJWTSignature"],
        &[("JWT_ISSUER", unreachable)],
    );
    let (status, body) = get(
        &offline,
        "/jwt",
        &[("authorization", &bearer(&badly_signed(unreachable)))],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authorizer"]["jwt"]["claims"]["sub"], "user-42");
    let mut expired = claims(unreachable);
    expired["exp"] = json!(now() - 60);
    let (status, _) = get(
        &offline,
        "/jwt",
        &[("authorization", &bearer(&signed(&expired)))],
    );
    assert_eq!(status, 401);
}

#[test]
fn jwt_from_an_unreachable_issuer_is_refused_with_a_log_line() {
    let unreachable = "http://127.0.0.1:9/issuer";
    let calls = Calls::new();
    let mut offline = start(&calls, &[], &[("JWT_ISSUER", unreachable)]);
    let token = bearer(&signed(&claims(unreachable)));
    let (status, _) = get(&offline, "/jwt", &[("authorization", &token)]);
    assert_eq!(status, 401);
    assert!(offline.wait_for("--ignoreJWTSignature"));
    assert!(
        !offline.seen.iter().any(|line| line.contains(&token[7..])),
        "the token is never printed"
    );
}

#[test]
fn private_routes_need_a_configured_api_key() {
    let calls = Calls::new();
    let offline = start(&calls, &[], &[]);
    assert!(offline
        .seen
        .iter()
        .any(|line| line.contains(&format!("API key: {API_KEY}"))));
    let (status, body) = get(&offline, "/dev/private", &[]);
    assert_eq!((status, body), (403, json!({"message": "Forbidden"})));
    let (status, _) = get(&offline, "/dev/private", &[("x-api-key", "guessed")]);
    assert_eq!(status, 403);
    let (status, body) = get(&offline, "/dev/private", &[("x-api-key", API_KEY)]);
    assert_eq!(status, 200);
    assert_eq!(body["apiKey"], API_KEY);
}

#[test]
fn routes_with_authorizers_that_cannot_run_offline_are_open_and_warned_about() {
    let calls = Calls::new();
    let mut offline = start(&calls, &[], &[]);
    assert!(
        offline.wait_for("not emulated"),
        "{}",
        offline.seen.join("\n")
    );
    let (status, body) = get(&offline, "/dev/iam", &[]);
    assert_eq!(status, 200);
    assert_eq!(body["authorizer"], Value::Null);
}

#[test]
fn private_routes_without_configured_keys_accept_the_printed_generated_key() {
    let offline = Offline::start(&fixture(), "serverless.generated-key.yml");
    let key = offline
        .seen
        .iter()
        .find_map(|line| line.trim().strip_prefix("API key: "))
        .expect("the generated key is printed")
        .to_string();
    let (status, _) = get(&offline, "/dev/private", &[]);
    assert_eq!(status, 403);
    let (status, body) = get(&offline, "/dev/private", &[("x-api-key", &key)]);
    assert_eq!(status, 200);
    assert_eq!(body["apiKey"], key.as_str());
}

#[test]
fn no_auth_turns_every_authorizer_and_api_key_check_off() {
    let calls = Calls::new();
    let offline = start(&calls, &["--noAuth"], &[]);
    for path in [
        "/dev/token",
        "/dev/request/1",
        "/dev/private",
        "/simple",
        "/jwt",
    ] {
        let (status, body) = get(&offline, path, &[]);
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["authorizer"], Value::Null, "{path}");
    }
    assert!(!Path::new(&calls.path).exists(), "no authorizer ran");
}
