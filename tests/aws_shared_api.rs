//! Services that deploy into a REST API they do not own (`provider.apiGateway.restApiId`, the
//! Framework's shared gateway), against a local moto: the ids come from another stack's
//! exports, each service's routes go into the one API, a second plan of each is empty although
//! the others deployed the same stage since, and a remove takes only the service's own routes.
//!
//! These tests need `UPDRAFT_TEST_MOTO_URL` (set by `bash scripts/test.sh`, which starts moto).

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

use clients::Clients;
use driver::{fixture, Driver, Fixture};
use updraft::plan::Plan;

const HANDLER: &str = "exports.handle = async () => ({ statusCode: 200, body: 'ok' });\n";

/// The gateway's stack, as the service that owns the API deploys it: the API and the exports
/// the other services import.
const GATEWAY: &str = r#"{
  "Resources": {"SharedGW": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "SharedGW"}}},
  "Outputs": {
    "Id": {"Value": {"Ref": "SharedGW"}, "Export": {"Name": "SharedGW-restApiId"}},
    "Root": {"Value": {"Fn::GetAtt": ["SharedGW", "RootResourceId"]}, "Export": {"Name": "SharedGW-rootResourceId"}}
  }
}"#;

/// A service `name` with one function serving `GET {path}` from the shared API.
fn service(name: &str, path: &str) -> Fixture {
    let manifest = format!(
        "service: {name}\n\
         provider:\n  name: aws\n  runtime: nodejs20.x\n  region: us-east-1\n  apiGateway:\n    \
         restApiId:\n      Fn::ImportValue: SharedGW-restApiId\n    restApiRootResourceId:\n      \
         Fn::ImportValue: SharedGW-rootResourceId\n\
         functions:\n  handle:\n    handler: handler.handle\n    events:\n      - http: GET {path}\n"
    );
    fixture(&manifest, &[("handler.js", HANDLER)])
}

fn changes(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .filter(|s| s.action.is_change())
        .map(|s| format!("{} {}", s.action.name(), s.id))
        .collect()
}

/// The API's paths that have a `GET` method.
fn get_paths(driver: &Driver, aws: &Clients, api_id: &str) -> Vec<String> {
    let resources = driver
        .runtime
        .block_on(
            aws.apigateway
                .get_resources()
                .rest_api_id(api_id)
                .embed("methods")
                .send(),
        )
        .expect("moto lists resources");
    let mut paths: Vec<String> = resources
        .items()
        .iter()
        .filter(|r| r.resource_methods().is_some_and(|m| m.contains_key("GET")))
        .filter_map(|r| r.path().map(str::to_string))
        .collect();
    paths.sort();
    paths
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn services_share_a_rest_api_by_its_exports_and_a_remove_takes_only_its_own_routes() {
    let moto = moto::moto(
        "services_share_a_rest_api_by_its_exports_and_a_remove_takes_only_its_own_routes",
    );
    let products = service("products", "products/list");
    let runtime = moto::runtime();
    let aws = Clients::new(&runtime, &moto);
    runtime
        .block_on(
            aws.cloudformation
                .create_stack()
                .stack_name("shared-gateway-dev")
                .template_body(GATEWAY)
                .send(),
        )
        .expect("moto creates the gateway's stack");
    let api_id = runtime
        .block_on(aws.apigateway.get_rest_apis().send())
        .expect("moto lists REST APIs")
        .items()
        .iter()
        .find(|a| a.name() == Some("SharedGW"))
        .and_then(|a| a.id().map(str::to_string))
        .expect("the shared API exists");

    // Connecting reads the exports the manifest imports.
    let products_driver = Driver::connect(&products.service);
    products_driver.deploy_recorded(&products_driver.desired(&products));
    assert_eq!(
        get_paths(&products_driver, &aws, &api_id),
        ["/products/list"]
    );
    let (again, _) = products_driver.plan_against(&products_driver.desired(&products));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    let users = service("users", "users");
    let users_driver = Driver::connect(&users.service);
    users_driver.deploy_recorded(&users_driver.desired(&users));
    assert_eq!(
        get_paths(&users_driver, &aws, &api_id),
        ["/products/list", "/users"]
    );
    // The users' deployment of the shared stage changes nothing for products, and the other
    // way round: each reads only its own routes and deployments.
    let (again, _) = products_driver.plan_against(&products_driver.desired(&products));
    assert!(!again.has_changes(), "{:#?}", changes(&again));
    let (again, _) = users_driver.plan_against(&users_driver.desired(&users));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    let outcome = products_driver.remove_recorded();
    assert!(outcome.succeeded(), "remove: {:?}", outcome.failed);
    assert_eq!(get_paths(&users_driver, &aws, &api_id), ["/users"]);
    let apis = users_driver
        .runtime
        .block_on(aws.apigateway.get_rest_apis().send())
        .expect("moto lists REST APIs");
    assert_eq!(apis.items().len(), 1, "the shared API stays");
    let stage = users_driver.runtime.block_on(
        aws.apigateway
            .get_stage()
            .rest_api_id(&api_id)
            .stage_name("dev")
            .send(),
    );
    assert!(stage.is_ok(), "the shared stage stays: {stage:?}");
    let left = products_driver.live();
    assert!(
        left.resources.is_empty(),
        "nothing of products is left: {:?}",
        left.resources
            .iter()
            .map(|r| r.id.to_string())
            .collect::<Vec<_>>()
    );
    let (again, _) = users_driver.plan_against(&users_driver.desired(&users));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    // The last service out leaves an API without methods, which API Gateway cannot deploy:
    // the stage, which would still route to the deleted functions, goes; the API stays.
    let outcome = users_driver.remove_recorded();
    assert!(outcome.succeeded(), "remove: {:?}", outcome.failed);
    assert!(get_paths(&users_driver, &aws, &api_id).is_empty());
    let stage = runtime.block_on(
        aws.apigateway
            .get_stage()
            .rest_api_id(&api_id)
            .stage_name("dev")
            .send(),
    );
    assert!(stage.is_err(), "the stage is gone: {stage:?}");
    let apis = runtime
        .block_on(aws.apigateway.get_rest_apis().send())
        .expect("moto lists REST APIs");
    assert_eq!(apis.items().len(), 1, "the shared API stays");
}
