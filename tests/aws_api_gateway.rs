//! API Gateway features of `http` events against a local moto: Lambda and Cognito authorizers
//! (created, attached to their methods, changed in place, removed with their route), and the
//! permission that lets API Gateway call an authorizer function that has no event of its own.
//!
//! These tests need `UPDRAFT_TEST_MOTO_URL` (set by `bash scripts/test.sh`, which starts moto).
//! They drive the library as `updraft deploy` does, with the deploy tests' driver and proxy.

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
use updraft::plan::{Action, DesiredState, Plan};
use updraft::provider::aws::naming::kind;
use updraft::provider::Backend;

const HANDLER: &str = "exports.handle = async (event) => event;\n";

/// The service `gate` with an authorizer function `auth` and these functions (YAML under
/// `functions:`, indented by two).
fn service(functions: &str) -> Fixture {
    let manifest = format!(
        "service: gate\n\
         provider:\n  name: aws\n  runtime: nodejs20.x\n  region: us-east-1\n  memorySize: 128\n\
         functions:\n  auth:\n    handler: handler.handle\n{functions}"
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

fn rest_api_id(driver: &Driver, aws: &Clients) -> Option<String> {
    let apis = driver
        .runtime
        .block_on(aws.apigateway.get_rest_apis().send())
        .expect("moto lists REST APIs");
    apis.items()
        .iter()
        .find(|a| a.name() == Some("dev-gate"))
        .and_then(|a| a.id().map(str::to_string))
}

/// The API's authorizers by name.
fn authorizers(
    driver: &Driver,
    aws: &Clients,
    api_id: &str,
) -> BTreeMap<String, aws_sdk_apigateway::types::Authorizer> {
    driver
        .runtime
        .block_on(aws.apigateway.get_authorizers().rest_api_id(api_id).send())
        .expect("moto lists authorizers")
        .items()
        .iter()
        .map(|a| (a.name().unwrap_or_default().to_string(), a.clone()))
        .collect()
}

/// The method at `path` as API Gateway reports it, if there is one.
fn method(
    driver: &Driver,
    aws: &Clients,
    api_id: &str,
    path: &str,
    http_method: &str,
) -> Option<aws_sdk_apigateway::types::Method> {
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
    resources
        .items()
        .iter()
        .find(|r| r.path() == Some(path))?
        .resource_methods()?
        .get(http_method)
        .cloned()
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
    document["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["Sid"].as_str().map(str::to_string))
        .collect()
}

const PRIVATE_AND_PUBLIC: &str = "  api:
    handler: handler.handle
    events:
      - http:
          path: private
          method: get
          authorizer:
            name: auth
            resultTtlInSeconds: TTL
      - http:
          path: pool
          method: get
          authorizer:
            arn: arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_gate
            scopes: [email]
      - http: GET public
";

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn an_authorizer_is_created_attached_changed_in_place_and_removed_with_its_route() {
    let moto =
        moto::moto("an_authorizer_is_created_attached_changed_in_place_and_removed_with_its_route");
    let with_ttl = |ttl: &str| service(&PRIVATE_AND_PUBLIC.replace("TTL", ttl));
    let first = with_ttl("0");
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver.runtime, &moto);
    driver.deploy(&driver.desired(&first));

    let api_id = rest_api_id(&driver, &aws).expect("the REST API exists");
    let found = authorizers(&driver, &aws, &api_id);
    assert_eq!(found.keys().collect::<Vec<_>>(), ["auth", "us-east-1_gate"]);
    let lambda = &found["auth"];
    assert_eq!(lambda.r#type().map(|t| t.as_str()), Some("TOKEN"));
    assert_eq!(lambda.authorizer_result_ttl_in_seconds(), Some(0));
    assert_eq!(
        lambda.identity_source(),
        Some("method.request.header.Authorization")
    );
    assert!(
        lambda
            .authorizer_uri()
            .is_some_and(|uri| uri.contains(":function:gate-dev-auth/invocations")),
        "{:?}",
        lambda.authorizer_uri()
    );
    let cognito = &found["us-east-1_gate"];
    assert_eq!(
        cognito.r#type().map(|t| t.as_str()),
        Some("COGNITO_USER_POOLS")
    );

    let private = method(&driver, &aws, &api_id, "/private", "GET").expect("GET /private");
    assert_eq!(private.authorization_type(), Some("CUSTOM"));
    assert_eq!(private.authorizer_id(), lambda.id());
    let pool = method(&driver, &aws, &api_id, "/pool", "GET").expect("GET /pool");
    assert_eq!(pool.authorization_type(), Some("COGNITO_USER_POOLS"));
    assert_eq!(pool.authorizer_id(), cognito.id());
    assert_eq!(pool.authorization_scopes(), ["email"]);
    let public = method(&driver, &aws, &api_id, "/public", "GET").expect("GET /public");
    assert_eq!(public.authorization_type(), Some("NONE"));
    // API Gateway may call the authorizer function, which has no event of its own.
    assert_eq!(
        statement_ids(&driver, &aws, "gate-dev-auth"),
        ["updraft-event-rest-api-authorizer"]
    );

    let (again, _) = driver.plan_against(&driver.desired(&first));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    // A changed cache time updates the authorizer in place, and the stage serves it.
    let longer = with_ttl("60");
    let (plan, _) = driver.deploy(&driver.desired(&longer));
    assert_eq!(
        changes(&plan),
        [
            format!("update {} auth", kind::REST_API_AUTHORIZER),
            format!("update {} dev", kind::REST_API_DEPLOYMENT),
        ]
    );
    let step = plan
        .steps
        .iter()
        .find(|s| s.id.kind == kind::REST_API_AUTHORIZER && s.action == Action::Update)
        .expect("the authorizer step");
    assert_eq!(
        step.changes
            .iter()
            .map(|c| c.field.as_str())
            .collect::<Vec<_>>(),
        ["result_ttl_in_seconds"]
    );
    let after = authorizers(&driver, &aws, &api_id);
    assert_eq!(after["auth"].authorizer_result_ttl_in_seconds(), Some(60));
    assert_eq!(after["auth"].id(), lambda.id(), "the same authorizer");

    // Without the routes that use them, the authorizers and the permission go too.
    let public_only =
        service("  api:\n    handler: handler.handle\n    events:\n      - http: GET public\n");
    driver.deploy(&driver.desired(&public_only));
    assert!(authorizers(&driver, &aws, &api_id).is_empty());
    assert!(method(&driver, &aws, &api_id, "/private", "GET").is_none());
    assert!(statement_ids(&driver, &aws, "gate-dev-auth").is_empty());
    let (again, _) = driver.plan_against(&driver.desired(&public_only));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    let (plan, live) = driver.plan_against(&DesiredState::default());
    let outcome = driver.apply(&plan, &live);
    assert!(outcome.succeeded(), "remove: {:?}", outcome.failed);
    assert_eq!(rest_api_id(&driver, &aws), None, "the REST API is gone");
}

const LAMBDA_INTEGRATION: &str = "  api:
    handler: handler.handle
    events:
      - http:
          path: todos/{id}
          method: get
          integration: lambda
          cors: true
          request:
            template:
              text/plain: TEMPLATE
";

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_lambda_integration_has_the_framework_templates_and_status_codes_and_plans_no_op() {
    let moto = moto::moto(
        "a_lambda_integration_has_the_framework_templates_and_status_codes_and_plans_no_op",
    );
    let with_template = |template: &str| service(&LAMBDA_INTEGRATION.replace("TEMPLATE", template));
    let first = with_template("'{\"text\": $input.json(\"$\")}'");
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver.runtime, &moto);
    driver.deploy(&driver.desired(&first));

    let api_id = rest_api_id(&driver, &aws).expect("the REST API exists");
    let get = method(&driver, &aws, &api_id, "/todos/{id}", "GET").expect("GET /todos/{id}");
    let integration = get.method_integration().expect("an integration");
    assert_eq!(integration.r#type().map(|t| t.as_str()), Some("AWS"));
    assert_eq!(integration.passthrough_behavior(), Some("NEVER"));
    let templates = integration.request_templates().expect("request templates");
    let mut content_types: Vec<&String> = templates.keys().collect();
    content_types.sort();
    assert_eq!(
        content_types,
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain"
        ]
    );
    assert!(templates["application/json"].contains("\"requestPath\""));
    assert_eq!(templates["text/plain"], "{\"text\": $input.json(\"$\")}");
    let responses = integration
        .integration_responses()
        .expect("integration responses");
    let mut codes: Vec<&String> = responses.keys().collect();
    codes.sort();
    assert_eq!(
        codes,
        ["200", "400", "401", "403", "404", "422", "500", "502", "504"]
    );
    assert!(responses["404"]
        .selection_pattern()
        .is_some_and(|p| p.contains(r"\[404\]")));
    assert_eq!(
        responses["200"]
            .response_parameters()
            .and_then(|p| p.get("method.response.header.Access-Control-Allow-Origin"))
            .map(String::as_str),
        Some("'*'"),
        "CORS answers carry the origin"
    );

    let (again, _) = driver.plan_against(&driver.desired(&first));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    // A changed template changes that method (and what the stage serves), nothing else.
    let second = with_template("'{\"changed\": true}'");
    let (plan, _) = driver.deploy(&driver.desired(&second));
    assert_eq!(
        changes(&plan),
        [
            format!("update {} dev", kind::REST_API_DEPLOYMENT),
            format!("update {} GET /todos/{{id}}", kind::REST_API_METHOD),
        ]
    );
    let get = method(&driver, &aws, &api_id, "/todos/{id}", "GET").expect("GET /todos/{id}");
    assert_eq!(
        get.method_integration()
            .and_then(|i| i.request_templates())
            .and_then(|t| t.get("text/plain"))
            .map(String::as_str),
        Some("{\"changed\": true}")
    );
    let (again, _) = driver.plan_against(&driver.desired(&second));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    let (plan, live) = driver.plan_against(&DesiredState::default());
    assert!(driver.apply(&plan, &live).succeeded());
    assert_eq!(rest_api_id(&driver, &aws), None, "the REST API is gone");
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn the_api_gateway_settings_reach_the_rest_api_and_a_second_plan_changes_nothing() {
    // moto drops `binaryMediaTypes` from CreateRestApi and applies a binary media type patch by
    // its `value`, where API Gateway takes the type from the path: the test gives moto the types
    // as API Gateway would hold them, and a change of types is checked by the plan, not applied.
    let moto =
        moto::moto("the_api_gateway_settings_reach_the_rest_api_and_a_second_plan_changes_nothing");
    let manifest = "service: gate\n\
         provider:\n  name: aws\n  runtime: nodejs20.x\n  region: us-east-1\n  \
         apiGateway:\n    shouldStartNameWithService: true\n    description: the shop\n    \
         minimumCompressionSize: 1024\n    binaryMediaTypes: ['image/png', '*/*']\n\
         functions:\n  api:\n    handler: handler.handle\n    events:\n      - http: GET img\n";
    let first = fixture(manifest, &[("handler.js", HANDLER)]);
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver.runtime, &moto);
    driver.deploy(&driver.desired(&first));

    let apis = driver
        .runtime
        .block_on(aws.apigateway.get_rest_apis().send())
        .expect("moto lists REST APIs");
    let api = apis
        .items()
        .iter()
        .find(|a| a.name() == Some("gate-dev"))
        .expect("the API is named {service}-{stage}");
    assert_eq!(api.minimum_compression_size(), Some(1024));
    assert_eq!(api.description(), Some("the shop"));
    let api_id = api.id().unwrap_or_default().to_string();
    for media_type in ["image/png", "*/*"] {
        driver
            .runtime
            .block_on(
                aws.apigateway
                    .update_rest_api()
                    .rest_api_id(&api_id)
                    .patch_operations(
                        aws_sdk_apigateway::types::PatchOperation::builder()
                            .op(aws_sdk_apigateway::types::Op::Add)
                            .path("/binaryMediaTypes")
                            .value(media_type)
                            .build(),
                    )
                    .send(),
            )
            .expect("moto takes the media type");
    }
    let (again, _) = driver.plan_against(&driver.desired(&first));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    let fewer = fixture(
        &manifest.replace("['image/png', '*/*']", "['image/png']"),
        &[("handler.js", HANDLER)],
    );
    let (plan, _) = driver.plan_against(&driver.desired(&fewer));
    assert_eq!(
        changes(&plan),
        [
            format!("update {} dev", kind::REST_API_DEPLOYMENT),
            format!("update {} gate-dev", kind::REST_API),
        ]
    );

    let (plan, live) = driver.plan_against(&DesiredState::default());
    assert!(driver.apply(&plan, &live).succeeded());
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn an_http_api_lambda_authorizer_is_created_attached_and_plans_no_op() {
    let moto = moto::moto("an_http_api_lambda_authorizer_is_created_attached_and_plans_no_op");
    let manifest = "service: gate\n\
         provider:\n  name: aws\n  runtime: nodejs20.x\n  region: us-east-1\n  \
         httpApi:\n    authorizers:\n      custom:\n        type: request\n        \
         functionName: auth\n        resultTtlInSeconds: TTL\n        \
         identitySource: ['$request.header.Authorization']\n        enableSimpleResponses: true\n\
         functions:\n  auth:\n    handler: handler.handle\n  api:\n    handler: handler.handle\n    \
         events:\n      - httpApi:\n          path: /me\n          method: get\n          \
         authorizer:\n            name: custom\n";
    let with_ttl = |ttl: &str| fixture(&manifest.replace("TTL", ttl), &[("handler.js", HANDLER)]);
    let first = with_ttl("0");
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver.runtime, &moto);
    driver.deploy(&driver.desired(&first));

    let apis = driver
        .runtime
        .block_on(aws.apigatewayv2.get_apis().send())
        .expect("moto lists HTTP APIs");
    let api_id = apis
        .items()
        .iter()
        .find(|a| a.name() == Some("dev-gate"))
        .and_then(|a| a.api_id())
        .expect("the HTTP API")
        .to_string();
    let routes = driver
        .runtime
        .block_on(aws.apigatewayv2.get_routes().api_id(&api_id).send())
        .expect("moto lists routes");
    let route = routes
        .items()
        .iter()
        .find(|r| r.route_key() == Some("GET /me"))
        .expect("the route");
    assert_eq!(
        route.authorization_type().map(|t| t.as_str()),
        Some("CUSTOM")
    );
    // moto has no GetAuthorizers (the deploy reads it through the test proxy, which answers
    // it): the route's authorizer is read by its id.
    let authorizer = driver
        .runtime
        .block_on(
            aws.apigatewayv2
                .get_authorizer()
                .api_id(&api_id)
                .authorizer_id(route.authorizer_id().expect("the route has an authorizer"))
                .send(),
        )
        .expect("moto reads the authorizer");
    assert_eq!(authorizer.name(), Some("custom"));
    assert_eq!(
        authorizer.authorizer_type().map(|t| t.as_str()),
        Some("REQUEST")
    );
    assert!(authorizer
        .authorizer_uri()
        .is_some_and(|uri| uri.contains(":function:gate-dev-auth/invocations")));
    assert_eq!(authorizer.enable_simple_responses(), Some(true));
    assert_eq!(
        statement_ids(&driver, &aws, "gate-dev-auth"),
        ["updraft-event-http-api-authorizer-custom"]
    );
    let (again, _) = driver.plan_against(&driver.desired(&first));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    let (plan, _) = driver.deploy(&driver.desired(&with_ttl("300")));
    assert_eq!(
        changes(&plan),
        [format!("update {} custom", kind::HTTP_API_AUTHORIZER)]
    );
    let (again, _) = driver.plan_against(&driver.desired(&with_ttl("300")));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    let (plan, live) = driver.plan_against(&DesiredState::default());
    assert!(driver.apply(&plan, &live).succeeded());
    assert!(statement_ids(&driver, &aws, "gate-dev-auth").is_empty());
}

const SCHEMAS: &str = "  api:
    handler: handler.handle
    events:
      - http:
          path: todos
          method: post
          request:
            schemas:
              application/json:
                name: CreateTodo
                schema:
                  type: object
                  required: [REQUIRED]
";

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn request_schemas_deploy_as_models_and_a_validator_and_plan_no_op() {
    // moto has no UpdateModel: a changed schema is checked by the plan, not applied.
    let moto = moto::moto("request_schemas_deploy_as_models_and_a_validator_and_plan_no_op");
    let requiring = |field: &str| service(&SCHEMAS.replace("REQUIRED", field));
    let first = requiring("title");
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver.runtime, &moto);
    driver.deploy(&driver.desired(&first));

    let api_id = rest_api_id(&driver, &aws).expect("the REST API exists");
    let model = driver
        .runtime
        .block_on(
            aws.apigateway
                .get_model()
                .rest_api_id(&api_id)
                .model_name("CreateTodo")
                .send(),
        )
        .expect("the model exists");
    assert_eq!(model.content_type(), Some("application/json"));
    let schema: Json = serde_json::from_str(model.schema().unwrap_or_default()).expect("JSON");
    assert_eq!(schema["required"], serde_json::json!(["title"]));
    let validators = driver
        .runtime
        .block_on(
            aws.apigateway
                .get_request_validators()
                .rest_api_id(&api_id)
                .send(),
        )
        .expect("moto lists validators");
    let validator = validators.items().first().expect("one validator");
    assert_eq!(
        validator.name(),
        Some("gate-dev | Validate request body and querystring parameters")
    );
    assert!(validator.validate_request_body());
    let post = method(&driver, &aws, &api_id, "/todos", "POST").expect("POST /todos");
    assert_eq!(
        post.request_models()
            .and_then(|m| m.get("application/json"))
            .map(String::as_str),
        Some("CreateTodo")
    );
    assert_eq!(post.request_validator_id(), validator.id());

    let (again, _) = driver.plan_against(&driver.desired(&first));
    assert!(!again.has_changes(), "{:#?}", changes(&again));
    let (plan, _) = driver.plan_against(&driver.desired(&requiring("done")));
    assert_eq!(
        changes(&plan),
        [
            format!("update {} dev", kind::REST_API_DEPLOYMENT),
            format!("update {} CreateTodo", kind::REST_API_MODEL),
        ]
    );

    let (plan, live) = driver.plan_against(&DesiredState::default());
    assert!(driver.apply(&plan, &live).succeeded());
    assert_eq!(rest_api_id(&driver, &aws), None, "the REST API is gone");
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn api_keys_and_the_usage_plan_serve_private_methods_and_plan_no_op() {
    let moto = moto::moto("api_keys_and_the_usage_plan_serve_private_methods_and_plan_no_op");
    let manifest = "service: gate\n\
         provider:\n  name: aws\n  runtime: nodejs20.x\n  region: us-east-1\n  \
         apiGateway:\n    apiKeys:\n      - free\n      - name: partner\n        \
         value: partner-key-0123456789abcdef\n        description: for the partner\n    \
         usagePlan:\n      quota:\n        limit: LIMIT\n        period: MONTH\n      \
         throttle:\n        burstLimit: 20\n        rateLimit: 10\n\
         functions:\n  api:\n    handler: handler.handle\n    events:\n      - http:\n          \
         path: secret\n          method: get\n          private: true\n      - http: GET open\n";
    let with_limit = |limit: &str| {
        fixture(
            &manifest.replace("LIMIT", limit),
            &[("handler.js", HANDLER)],
        )
    };
    let first = with_limit("5000");
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver.runtime, &moto);
    let desired = driver.desired(&first);
    driver.deploy(&desired);
    // As `updraft deploy` records it: the account's keys and plans are read only for a service
    // that has some.
    driver
        .runtime
        .block_on(driver.backend.record_intent(&desired))
        .expect("the deploy state is written");

    let api_id = rest_api_id(&driver, &aws).expect("the REST API exists");
    let secret = method(&driver, &aws, &api_id, "/secret", "GET").expect("GET /secret");
    assert_eq!(secret.api_key_required(), Some(true));
    let open = method(&driver, &aws, &api_id, "/open", "GET").expect("GET /open");
    assert_ne!(open.api_key_required(), Some(true));
    let keys = driver
        .runtime
        .block_on(aws.apigateway.get_api_keys().include_values(true).send())
        .expect("moto lists keys");
    let mut names: Vec<&str> = keys.items().iter().filter_map(|k| k.name()).collect();
    names.sort();
    assert_eq!(names, ["free", "partner"]);
    let partner = keys
        .items()
        .iter()
        .find(|k| k.name() == Some("partner"))
        .expect("the partner key");
    assert_eq!(partner.value(), Some("partner-key-0123456789abcdef"));
    let plans = driver
        .runtime
        .block_on(aws.apigateway.get_usage_plans().send())
        .expect("moto lists plans");
    let plan = plans
        .items()
        .iter()
        .find(|p| p.name() == Some("gate-dev"))
        .expect("the usage plan {service}-{stage}");
    assert_eq!(plan.quota().map(|q| q.limit()), Some(5000));
    assert_eq!(plan.throttle().map(|t| t.burst_limit()), Some(20));
    assert_eq!(
        plan.api_stages()
            .first()
            .and_then(|s| s.api_id().zip(s.stage())),
        Some((api_id.as_str(), "dev"))
    );
    let plan_keys = driver
        .runtime
        .block_on(
            aws.apigateway
                .get_usage_plan_keys()
                .usage_plan_id(plan.id().unwrap_or_default())
                .send(),
        )
        .expect("moto lists the plan's keys");
    assert_eq!(plan_keys.items().len(), 2, "both keys are in the plan");

    let (again, _) = driver.plan_against(&driver.desired(&first));
    assert!(!again.has_changes(), "{:#?}", changes(&again));
    let (plan_change, _) = driver.plan_against(&driver.desired(&with_limit("9000")));
    assert_eq!(
        changes(&plan_change),
        [format!("update {} gate-dev", kind::REST_API_USAGE_PLAN)]
    );

    let (plan, live) = driver.plan_against(&DesiredState::default());
    assert!(driver.apply(&plan, &live).succeeded(), "remove");
    let keys = driver
        .runtime
        .block_on(aws.apigateway.get_api_keys().send())
        .expect("moto lists keys");
    assert!(keys.items().is_empty(), "the keys are gone");
    let plans = driver
        .runtime
        .block_on(aws.apigateway.get_usage_plans().send())
        .expect("moto lists plans");
    assert!(plans.items().is_empty(), "the plan is gone");
}
