//! `websocket` events against a local moto: the WebSocket API deploys as AWS reports it (routes
//! on their integrations, the Lambda authorizer on `$connect`, the permissions, the stage and
//! its endpoint), a second plan changes nothing, a route moved to another function changes only
//! that route and redeploys the stage, a dropped route goes with its route response, `remove`
//! leaves nothing, and a service with both an HTTP API and a WebSocket API reads each back as its
//! own, from one listing.
//!
//! These tests need `UPDRAFT_TEST_MOTO_URL` (set by `bash scripts/test.sh`, which starts moto).
//! They drive the library as `updraft deploy` does, with the deploy tests' driver and proxy.
//!
//! moto (5.2.5) gaps the proxy fills for these tests (see `aws_deploy/gateway_v2.rs`):
//! - `GetAuthorizers` is not implemented (500);
//! - `GetRouteResponses` fails (500);
//! - `CreateDeployment`, `GetDeployments`, `GetDeployment` and `DeleteDeployment` do not exist
//!   (404);
//! - `CreateStage` drops `deploymentId`, `GetStages` never reports one, `UpdateStage` fails
//!   (500);
//! - a WebSocket API's `ApiEndpoint` is `https://...` where AWS gives `wss://...` (updraft makes
//!   the `wss://` endpoint from the API id, so nothing needs mending).

#[allow(dead_code)]
#[path = "aws_triggers/clients.rs"]
mod clients;
#[allow(dead_code)]
#[path = "aws_deploy/driver.rs"]
mod driver;
#[allow(dead_code, clippy::result_large_err)]
#[path = "aws_deploy/moto.rs"]
mod moto;
#[allow(dead_code)]
#[path = "aws_deploy/proxy.rs"]
mod proxy;

use std::collections::BTreeMap;

use clients::Clients;
use driver::{fixture, Driver, Fixture};
use serde_json::Value as Json;
use updraft::plan::{DesiredState, Plan};
use updraft::provider::aws::naming::kind;
use updraft::provider::Backend;

const HANDLER: &str = "exports.handle = async (event) => ({ statusCode: 200 });\n";

/// The service `sock`: `$connect` (with the Lambda authorizer `auth`), `$disconnect`,
/// `$default`, and the custom routes `ping` and `sendMessage` (on the function `send_owner`,
/// `message` or `default`, answering with a route response; none for any other owner).
fn chat(send_owner: &str, extra_functions: &str) -> Fixture {
    let send = "      - websocket:\n          route: sendMessage\n          \
                routeResponseSelectionExpression: $default\n";
    let (on_message, on_default) = match send_owner {
        "message" => (send, ""),
        "default" => ("", send),
        _ => ("", ""),
    };
    let manifest = format!(
        "service: sock\n\
         provider:\n  name: aws\n  runtime: nodejs20.x\n  region: us-east-1\n  memorySize: 128\n\
         functions:\n\
         \x20 connect:\n    handler: handler.handle\n    events:\n\
         \x20     - websocket:\n          route: $connect\n          authorizer:\n            \
         name: auth\n            identitySource:\n              - route.request.header.Auth\n\
         \x20     - websocket: $disconnect\n\
         \x20 default:\n    handler: handler.handle\n    events:\n      - websocket: $default\n\
         {on_default}\
         \x20 message:\n    handler: handler.handle\n    events:\n      - websocket: ping\n\
         {on_message}\
         \x20 auth:\n    handler: handler.handle\n\
         {extra_functions}"
    );
    fixture(&manifest, &[("handler.js", HANDLER)])
}

fn changes(plan: &Plan) -> Vec<String> {
    let mut found: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| s.action.is_change())
        .map(|s| format!("{} {}", s.action.name(), s.id))
        .collect();
    found.sort();
    found
}

/// The service's APIs as moto lists them: name to (id, protocol).
fn apis(driver: &Driver, aws: &Clients) -> BTreeMap<String, (String, String)> {
    driver
        .runtime
        .block_on(aws.apigatewayv2.get_apis().send())
        .expect("moto lists APIs")
        .items()
        .iter()
        .map(|a| {
            (
                a.name().unwrap_or_default().to_string(),
                (
                    a.api_id().unwrap_or_default().to_string(),
                    a.protocol_type()
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_default(),
                ),
            )
        })
        .collect()
}

/// The API's routes by key.
fn routes(
    driver: &Driver,
    aws: &Clients,
    api_id: &str,
) -> BTreeMap<String, aws_sdk_apigatewayv2::types::Route> {
    driver
        .runtime
        .block_on(aws.apigatewayv2.get_routes().api_id(api_id).send())
        .expect("moto lists routes")
        .items()
        .iter()
        .map(|r| (r.route_key().unwrap_or_default().to_string(), r.clone()))
        .collect()
}

/// The API's integration URIs by integration id.
fn integrations(driver: &Driver, aws: &Clients, api_id: &str) -> BTreeMap<String, String> {
    driver
        .runtime
        .block_on(aws.apigatewayv2.get_integrations().api_id(api_id).send())
        .expect("moto lists integrations")
        .items()
        .iter()
        .map(|i| {
            (
                i.integration_id().unwrap_or_default().to_string(),
                i.integration_uri().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The function a route's integration invokes.
fn route_function(
    route: &aws_sdk_apigatewayv2::types::Route,
    integrations: &BTreeMap<String, String>,
) -> String {
    let target = route.target().unwrap_or_default();
    let integration = target
        .strip_prefix("integrations/")
        .unwrap_or_else(|| panic!("the target {target} is an integration"));
    let uri = &integrations[integration];
    assert!(
        uri.starts_with("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:")
            && uri.ends_with("/invocations"),
        "{uri}"
    );
    let arn = &uri[..uri.len() - "/invocations".len()];
    arn.rsplit(':').next().unwrap_or_default().to_string()
}

fn statement_ids(driver: &Driver, aws: &Clients, function: &str) -> Vec<String> {
    let Ok(answer) = driver
        .runtime
        .block_on(aws.lambda.get_policy().function_name(function).send())
    else {
        return Vec::new();
    };
    let document: Json =
        serde_json::from_str(answer.policy().unwrap_or_default()).unwrap_or(Json::Null);
    let mut ids: Vec<String> = document["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["Sid"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_websocket_api_deploys_replans_clean_changes_only_the_changed_route_and_is_removed() {
    let moto = moto::moto(
        "a_websocket_api_deploys_replans_clean_changes_only_the_changed_route_and_is_removed",
    );
    let first = chat("message", "");
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver.runtime, &moto);
    driver.deploy(&driver.desired(&first));

    let found = apis(&driver, &aws);
    let (api_id, protocol) = found
        .get("dev-sock-websockets")
        .cloned()
        .unwrap_or_else(|| panic!("the WebSocket API exists: {found:?}"));
    assert_eq!(protocol, "WEBSOCKET");
    let api = driver
        .runtime
        .block_on(aws.apigatewayv2.get_api().api_id(&api_id).send())
        .expect("the API");
    assert_eq!(
        api.route_selection_expression(),
        Some("$request.body.action")
    );
    assert_eq!(api.description(), Some("Serverless Websockets"));

    let listed = routes(&driver, &aws, &api_id);
    assert_eq!(
        listed.keys().collect::<Vec<_>>(),
        ["$connect", "$default", "$disconnect", "ping", "sendMessage"]
    );
    let uris = integrations(&driver, &aws, &api_id);
    assert_eq!(
        uris.len(),
        3,
        "one integration per function with routes: {uris:#?}"
    );
    let owners: BTreeMap<&str, String> = listed
        .iter()
        .map(|(key, route)| (key.as_str(), route_function(route, &uris)))
        .collect();
    assert_eq!(owners["$connect"], "sock-dev-connect");
    assert_eq!(owners["$disconnect"], "sock-dev-connect");
    assert_eq!(owners["$default"], "sock-dev-default");
    assert_eq!(owners["sendMessage"], "sock-dev-message");
    assert_eq!(
        listed["sendMessage"].route_response_selection_expression(),
        Some("$default")
    );

    // The Lambda authorizer sits on `$connect` alone.
    let connect = &listed["$connect"];
    assert_eq!(
        connect.authorization_type().map(|t| t.as_str()),
        Some("CUSTOM")
    );
    let authorizer_id = connect.authorizer_id().expect("$connect has an authorizer");
    let authorizer = driver
        .runtime
        .block_on(
            aws.apigatewayv2
                .get_authorizer()
                .api_id(&api_id)
                .authorizer_id(authorizer_id)
                .send(),
        )
        .expect("the authorizer");
    assert_eq!(authorizer.name(), Some("auth"));
    assert_eq!(
        authorizer.authorizer_type().map(|t| t.as_str()),
        Some("REQUEST")
    );
    assert_eq!(authorizer.identity_source(), ["route.request.header.Auth"]);
    assert!(
        authorizer
            .authorizer_uri()
            .is_some_and(|uri| uri.ends_with(":function:sock-dev-auth/invocations")),
        "{:?}",
        authorizer.authorizer_uri()
    );
    for other in ["$default", "$disconnect", "ping", "sendMessage"] {
        assert_eq!(
            listed[other].authorization_type().map(|t| t.as_str()),
            Some("NONE"),
            "{other}"
        );
    }

    // API Gateway may call every route's function, and the authorizer's.
    for function in ["sock-dev-connect", "sock-dev-default", "sock-dev-message"] {
        assert_eq!(
            statement_ids(&driver, &aws, function),
            ["updraft-event-websocket-api"],
            "{function}"
        );
    }
    assert_eq!(
        statement_ids(&driver, &aws, "sock-dev-auth"),
        ["updraft-event-websocket-authorizer-auth"]
    );

    // The stage `dev` exists, and `info` gives its wss:// endpoint.
    let stages = driver
        .runtime
        .block_on(aws.apigatewayv2.get_stages().api_id(&api_id).send())
        .expect("moto lists stages");
    let stage_names: Vec<_> = stages
        .items()
        .iter()
        .filter_map(|s| s.stage_name())
        .collect();
    assert_eq!(stage_names, ["dev"]);
    let info = driver.backend.info(&driver.live());
    let websocket: Vec<_> = info
        .endpoints
        .iter()
        .filter(|e| e.kind == "websocket")
        .map(|e| (e.method.clone(), e.url.clone()))
        .collect();
    assert_eq!(
        websocket,
        [(
            None,
            format!("wss://{api_id}.execute-api.us-east-1.amazonaws.com/dev")
        )]
    );

    // Nothing changed: the next plan is all no-op.
    let (again, _) = driver.plan_against(&driver.desired(&first));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    // `sendMessage` moves to `default`: that route changes, and the stage serves a new
    // deployment; the API, the other routes and the integrations stay.
    let moved = chat("default", "");
    let (plan, _) = driver.deploy(&driver.desired(&moved));
    assert_eq!(
        changes(&plan),
        [
            "replace aws.apigatewayv2.websocket-deployment dev",
            "update aws.apigatewayv2.websocket-route sendMessage",
            "update aws.apigatewayv2.websocket-stage dev",
        ]
    );
    let listed = routes(&driver, &aws, &api_id);
    let uris = integrations(&driver, &aws, &api_id);
    assert_eq!(
        route_function(&listed["sendMessage"], &uris),
        "sock-dev-default"
    );
    let (again, _) = driver.plan_against(&driver.desired(&moved));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    // Without its event, `sendMessage` goes with its route response, before the new deployment
    // is made (which would otherwise still serve it).
    let (plan, _) = driver.deploy(&driver.desired(&chat("none", "")));
    assert_eq!(
        changes(&plan),
        [
            "delete aws.apigatewayv2.websocket-route sendMessage",
            "delete aws.apigatewayv2.websocket-route-response sendMessage",
            "replace aws.apigatewayv2.websocket-deployment dev",
            "update aws.apigatewayv2.websocket-stage dev",
        ]
    );
    assert_eq!(
        routes(&driver, &aws, &api_id).keys().collect::<Vec<_>>(),
        ["$connect", "$default", "$disconnect", "ping"]
    );
    let (again, _) = driver.plan_against(&driver.desired(&chat("none", "")));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    // `remove` leaves no API behind.
    let (plan, live) = driver.plan_against(&DesiredState::default());
    let outcome = driver.apply(&plan, &live);
    assert!(outcome.succeeded(), "remove: {:?}", outcome.failed);
    assert!(apis(&driver, &aws).is_empty(), "{:?}", apis(&driver, &aws));
    let left: Vec<String> = driver
        .live()
        .resources
        .iter()
        .filter(|r| r.id.kind.starts_with("aws.apigatewayv2.") || r.id.kind == kind::PERMISSION)
        .map(|r| r.id.to_string())
        .collect();
    assert!(left.is_empty(), "left behind: {left:#?}");
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn the_http_api_and_websocket_api_readers_each_read_only_their_own_api() {
    let moto = moto::moto("the_http_api_and_websocket_api_readers_each_read_only_their_own_api");
    let both = chat(
        "message",
        "  hello:\n    handler: handler.handle\n    events:\n      - httpApi: GET /hello\n",
    );
    let driver = Driver::connect(&both.service);
    let aws = Clients::new(&driver.runtime, &moto);
    driver.deploy(&driver.desired(&both));
    let found = apis(&driver, &aws);
    let protocols: Vec<(&str, &str)> = found
        .iter()
        .map(|(name, (_, protocol))| (name.as_str(), protocol.as_str()))
        .collect();
    assert_eq!(
        protocols,
        [("dev-sock", "HTTP"), ("dev-sock-websockets", "WEBSOCKET")]
    );

    moto.proxy.clear();
    let (again, _) = driver.plan_against(&driver.desired(&both));
    assert!(!again.has_changes(), "{:#?}", changes(&again));
    let listings = moto
        .proxy
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/v2/apis")
        .count();
    assert_eq!(listings, 1, "one GetApis listing serves both readers");

    let (plan, live) = driver.plan_against(&DesiredState::default());
    assert!(driver.apply(&plan, &live).succeeded(), "remove");
    assert!(apis(&driver, &aws).is_empty());
}
