//! The event sources of a service deployed against a local moto: each trigger kind deploys and
//! exists as AWS reports it, a second plan changes nothing, removing an event deletes only its
//! resources and permission, and a changed route keeps its API (and so its URL).
//!
//! These tests need `UPDRAFT_TEST_MOTO_URL` (set by `bash scripts/test.sh`, which starts moto).
//! Without it they skip with a message; with it set but moto not answering they fail. They
//! drive the library as `updraft deploy` does, with the deploy tests' driver and proxy.

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
use moto::Moto;
use serde_json::{json, Value as Json};
use updraft::plan::{Action, Plan};
use updraft::provider::aws::naming::kind;
use updraft::provider::{Backend, ProviderError};

const HANDLER: &str = "exports.handle = async (event) => event;\n";

/// The service `trig` with these functions (YAML under `functions:`, indented by two).
fn service(functions: &str) -> Fixture {
    let manifest = format!(
        "service: trig\n\
         provider:\n  name: aws\n  runtime: nodejs20.x\n  region: us-east-1\n  memorySize: 128\n  \
         httpApi:\n    cors: true\n\
         functions:\n{functions}\
         resources:\n  Resources:\n    JobsQueue:\n      Type: AWS::SQS::Queue\n      Properties:\n        QueueName: trig-dev-jobs\n"
    );
    fixture(&manifest, &[("handler.js", HANDLER)])
}

const EVERY_TRIGGER: &str = "  api:
    handler: handler.handle
    events:
      - httpApi: GET /hello/{name}
      - httpApi:
          path: /jobs
          method: post
      - http:
          path: hello
          method: get
          cors: true
  report:
    handler: handler.handle
    events:
      - schedule:
          rate: rate(15 minutes)
          input:
            source: schedule
  worker:
    handler: handler.handle
    events:
      - sqs:
          arn:
            Fn::GetAtt: [JobsQueue, Arn]
          batchSize: 5
          functionResponseType: ReportBatchItemFailures
  resize:
    handler: handler.handle
    events:
      - s3:
          bucket: trig-dev-photos
          event: s3:ObjectCreated:*
          rules:
            - prefix: uploads/
      - s3:
          bucket: trig-existing
          existing: true
  notify:
    handler: handler.handle
    events:
      - sns: trig-dev-alerts
";

/// moto for one test, behind the recording proxy that also mends its known gaps (see
/// [`proxy`]).
fn moto(test: &str) -> Moto {
    moto::moto(test)
}

fn block<F: std::future::Future>(driver: &Driver, future: F) -> F::Output {
    driver.runtime.block_on(future)
}

fn changes(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .filter(|s| s.action.is_change())
        .map(|s| format!("{} {}", s.action.name(), s.id))
        .collect()
}

/// The statements of a function's policy, by id.
fn policy(driver: &Driver, aws: &Clients, function: &str) -> BTreeMap<String, Json> {
    let answer = driver
        .runtime
        .block_on(aws.lambda.get_policy().function_name(function).send())
        .unwrap_or_else(|e| panic!("{function} has a policy: {e:?}"));
    let document: Json =
        serde_json::from_str(answer.policy().unwrap_or_default()).unwrap_or(Json::Null);
    document["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| (s["Sid"].as_str().unwrap_or_default().to_string(), s.clone()))
        .collect()
}

fn http_api_id(driver: &Driver, aws: &Clients) -> String {
    let apis = driver
        .runtime
        .block_on(aws.apigatewayv2.get_apis().send())
        .expect("moto lists HTTP APIs");
    let ours: Vec<_> = apis
        .items()
        .iter()
        .filter(|a| a.name() == Some("dev-trig"))
        .collect();
    assert_eq!(ours.len(), 1, "one HTTP API named {{stage}}-{{service}}");
    ours[0].api_id().unwrap_or_default().to_string()
}

fn rest_api_id(driver: &Driver, aws: &Clients) -> String {
    let apis = driver
        .runtime
        .block_on(aws.apigateway.get_rest_apis().send())
        .expect("moto lists REST APIs");
    let ours: Vec<_> = apis
        .items()
        .iter()
        .filter(|a| a.name() == Some("dev-trig"))
        .collect();
    assert_eq!(ours.len(), 1, "one REST API named {{stage}}-{{service}}");
    ours[0].id().unwrap_or_default().to_string()
}

fn route_keys(driver: &Driver, aws: &Clients, api_id: &str) -> Vec<String> {
    let routes = driver
        .runtime
        .block_on(aws.apigatewayv2.get_routes().api_id(api_id).send())
        .expect("moto lists routes");
    let mut keys: Vec<String> = routes
        .items()
        .iter()
        .filter_map(|r| r.route_key().map(str::to_string))
        .collect();
    keys.sort();
    keys
}

/// Paths of the REST API with their methods, sorted.
fn rest_paths(driver: &Driver, aws: &Clients, api_id: &str) -> BTreeMap<String, Vec<String>> {
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
        .map(|r| {
            let mut methods: Vec<String> = r
                .resource_methods()
                .into_iter()
                .flatten()
                .map(|(m, _)| m.clone())
                .collect();
            methods.sort();
            (r.path().unwrap_or_default().to_string(), methods)
        })
        .collect()
}

/// Seeds the bucket that `existing: true` names.
fn existing_bucket(driver: &Driver, aws: &Clients) {
    driver
        .runtime
        .block_on(aws.s3.create_bucket().bucket("trig-existing").send())
        .expect("moto creates the existing bucket");
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn every_trigger_deploys_as_aws_reports_it_and_a_second_plan_changes_nothing() {
    let moto = moto("every_trigger_deploys_as_aws_reports_it_and_a_second_plan_changes_nothing");
    let service = service(EVERY_TRIGGER);
    let driver = Driver::connect(&service.service);
    let aws = Clients::new(&driver.runtime, &moto);
    existing_bucket(&driver, &aws);
    let (_, outcome) = driver.deploy(&driver.desired(&service));

    // The HTTP API: routes, one integration per function with payload 2.0, the auto-deployed
    // $default stage, CORS with the routes' methods, and its URL as an attribute.
    let api_id = http_api_id(&driver, &aws);
    assert_eq!(
        route_keys(&driver, &aws, &api_id),
        ["GET /hello/{name}", "POST /jobs"]
    );
    let integrations = block(
        &driver,
        aws.apigatewayv2.get_integrations().api_id(&api_id).send(),
    )
    .expect("integrations");
    assert_eq!(integrations.items().len(), 1);
    let integration = &integrations.items()[0];
    assert_eq!(integration.payload_format_version(), Some("2.0"));
    assert!(integration
        .integration_uri()
        .unwrap_or_default()
        .ends_with(":function:trig-dev-api"));
    let stages = block(
        &driver,
        aws.apigatewayv2.get_stages().api_id(&api_id).send(),
    )
    .expect("stages");
    assert_eq!(stages.items().len(), 1);
    assert_eq!(stages.items()[0].stage_name(), Some("$default"));
    assert_eq!(stages.items()[0].auto_deploy(), Some(true));
    let api = block(&driver, aws.apigatewayv2.get_api().api_id(&api_id).send()).expect("the API");
    let methods = api
        .cors_configuration()
        .map(|c| c.allow_methods().to_vec())
        .unwrap_or_default();
    assert!(
        ["GET", "POST", "OPTIONS"]
            .iter()
            .all(|m| methods.contains(&m.to_string())),
        "{methods:?}"
    );
    let url = outcome
        .attributes
        .iter()
        .find(|(id, _)| id.kind == kind::HTTP_API)
        .and_then(|(_, a)| a.get("url").cloned());
    assert_eq!(
        url,
        Some(json!(format!(
            "https://{api_id}.execute-api.us-east-1.amazonaws.com"
        )))
    );

    // The REST API: /hello with the proxy method and the CORS preflight, deployed to `dev`.
    let rest_id = rest_api_id(&driver, &aws);
    let paths = rest_paths(&driver, &aws, &rest_id);
    assert_eq!(
        paths.get("/hello"),
        Some(&vec!["GET".to_string(), "OPTIONS".to_string()])
    );
    let method = block(
        &driver,
        aws.apigateway
            .get_method()
            .rest_api_id(&rest_id)
            .resource_id(
                block(
                    &driver,
                    aws.apigateway.get_resources().rest_api_id(&rest_id).send(),
                )
                .expect("resources")
                .items()
                .iter()
                .find(|r| r.path() == Some("/hello"))
                .and_then(|r| r.id())
                .unwrap_or_default(),
            )
            .http_method("GET")
            .send(),
    )
    .expect("the GET method");
    let integration = method.method_integration().expect("an integration");
    assert_eq!(integration.r#type().map(|t| t.as_str()), Some("AWS_PROXY"));
    assert!(integration
        .uri()
        .unwrap_or_default()
        .contains(":function:trig-dev-api/invocations"));
    let rest_stages = block(
        &driver,
        aws.apigateway.get_stages().rest_api_id(&rest_id).send(),
    )
    .expect("stages");
    assert_eq!(
        rest_stages
            .item()
            .iter()
            .filter_map(|s| s.stage_name())
            .collect::<Vec<_>>(),
        ["dev"]
    );

    // The schedule: a rule with the function as target and the input as JSON text.
    let rules = block(
        &driver,
        aws.events.list_rules().name_prefix("trig-dev-").send(),
    )
    .expect("rules");
    let names: Vec<_> = rules.rules().iter().filter_map(|r| r.name()).collect();
    assert_eq!(names, ["trig-dev-report-schedule-1"]);
    assert_eq!(
        rules.rules()[0].schedule_expression(),
        Some("rate(15 minutes)")
    );
    let targets = block(
        &driver,
        aws.events
            .list_targets_by_rule()
            .rule("trig-dev-report-schedule-1")
            .send(),
    )
    .expect("targets");
    assert_eq!(targets.targets().len(), 1);
    assert!(targets.targets()[0]
        .arn()
        .ends_with(":function:trig-dev-report"));
    let input: Json = serde_json::from_str(targets.targets()[0].input().unwrap_or_default())
        .unwrap_or(Json::Null);
    assert_eq!(input, json!({"source": "schedule"}));

    // The queue: a mapping with the batch size and the response type.
    let mappings = block(
        &driver,
        aws.lambda
            .list_event_source_mappings()
            .function_name("trig-dev-worker")
            .send(),
    )
    .expect("mappings");
    assert_eq!(mappings.event_source_mappings().len(), 1);
    let mapping = &mappings.event_source_mappings()[0];
    assert_eq!(mapping.batch_size(), Some(5));
    assert!(mapping
        .event_source_arn()
        .unwrap_or_default()
        .ends_with(":trig-dev-jobs"));
    assert_eq!(
        mapping
            .function_response_types()
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>(),
        ["ReportBatchItemFailures"]
    );

    // Lambda reads the queue with the functions' role.
    let role_policy = block(
        &driver,
        aws.iam
            .get_role_policy()
            .role_name("trig-dev-us-east-1-lambdaRole")
            .policy_name("trig-dev-lambda")
            .send(),
    )
    .expect("the role's inline policy");
    let document = role_policy.policy_document();
    let document = document.replace("%3A", ":").replace("%2A", "*");
    assert!(
        document.contains("sqs:ReceiveMessage") && document.contains(":trig-dev-jobs"),
        "{document}"
    );

    // The buckets: the new one created and tagged, both notifying the function.
    for bucket in ["trig-dev-photos", "trig-existing"] {
        let notification = block(
            &driver,
            aws.s3
                .get_bucket_notification_configuration()
                .bucket(bucket)
                .send(),
        )
        .expect("notifications");
        let functions: Vec<_> = notification
            .lambda_function_configurations()
            .iter()
            .map(|c| c.lambda_function_arn())
            .collect();
        assert_eq!(functions.len(), 1, "{bucket}: {functions:?}");
        assert!(
            functions[0].ends_with(":function:trig-dev-resize"),
            "{bucket}: {functions:?}"
        );
    }
    let tagging = block(
        &driver,
        aws.s3.get_bucket_tagging().bucket("trig-dev-photos").send(),
    )
    .expect("the new bucket is tagged");
    assert!(tagging
        .tag_set()
        .iter()
        .any(|t| t.key() == "updraft:service" && t.value() == "trig"));

    // The topic: created by name, with the function subscribed.
    let topics = block(&driver, aws.sns.list_topics().send()).expect("topics");
    let topic = topics
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .find(|arn| arn.ends_with(":trig-dev-alerts"))
        .expect("the topic is created")
        .to_string();
    let subscriptions = block(
        &driver,
        aws.sns
            .list_subscriptions_by_topic()
            .topic_arn(&topic)
            .send(),
    )
    .expect("subscriptions");
    assert_eq!(subscriptions.subscriptions().len(), 1);
    assert_eq!(subscriptions.subscriptions()[0].protocol(), Some("lambda"));
    assert!(subscriptions.subscriptions()[0]
        .endpoint()
        .unwrap_or_default()
        .ends_with(":function:trig-dev-notify"));

    // The permissions: each source's service may invoke its function, from that source only.
    let api_policy = policy(&driver, &aws, "trig-dev-api");
    let principal = |statement: &Json| {
        statement["Principal"]["Service"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let source = |statement: &Json| {
        statement["Condition"]["ArnLike"]["AWS:SourceArn"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let http_grant = &api_policy["updraft-event-http-api"];
    assert_eq!(principal(http_grant), "apigateway.amazonaws.com");
    assert!(
        source(http_grant).contains(&format!(":{api_id}/")),
        "{http_grant}"
    );
    assert!(source(&api_policy["updraft-event-rest-api"]).contains(&format!(":{rest_id}/")));
    let report_policy = policy(&driver, &aws, "trig-dev-report");
    assert_eq!(
        principal(&report_policy["updraft-event-schedule-1"]),
        "events.amazonaws.com"
    );
    assert!(source(&report_policy["updraft-event-schedule-1"])
        .ends_with(":rule/trig-dev-report-schedule-1"));
    let resize_policy = policy(&driver, &aws, "trig-dev-resize");
    assert_eq!(
        source(&resize_policy["updraft-event-s3-trig-dev-photos"]),
        "arn:aws:s3:::trig-dev-photos"
    );
    assert_eq!(
        principal(&resize_policy["updraft-event-s3-trig-existing"]),
        "s3.amazonaws.com"
    );
    let notify_policy = policy(&driver, &aws, "trig-dev-notify");
    assert_eq!(
        source(&notify_policy["updraft-event-sns-trig-dev-alerts"]),
        topic
    );

    // `info` lists every route and endpoint with its URL, method and function.
    let info = driver.backend.info(&driver.live());
    let endpoints: Vec<(String, Option<String>, String, Option<String>)> = info
        .endpoints
        .iter()
        .map(|e| {
            (
                e.kind.clone(),
                e.method.clone(),
                e.url.clone(),
                e.function.clone(),
            )
        })
        .collect();
    let http_api_url = format!("https://{api_id}.execute-api.us-east-1.amazonaws.com");
    let rest_url = format!("https://{rest_id}.execute-api.us-east-1.amazonaws.com/dev");
    let api_function = Some("trig-dev-api".to_string());
    for expected in [
        ("httpApi", "GET", format!("{http_api_url}/hello/{{name}}")),
        ("httpApi", "POST", format!("{http_api_url}/jobs")),
        ("http", "GET", format!("{rest_url}/hello")),
    ] {
        let wanted = (
            expected.0.to_string(),
            Some(expected.1.to_string()),
            expected.2,
            api_function.clone(),
        );
        assert!(endpoints.contains(&wanted), "{wanted:?} in {endpoints:#?}");
    }
    assert_eq!(
        endpoints.len(),
        3,
        "the CORS preflight is not an endpoint: {endpoints:#?}"
    );

    // Nothing changed: the next plan is all no-op, read without a single write.
    moto.proxy.clear();
    let (again, _) = driver.plan_against(&driver.desired(&service));
    assert!(
        !again.has_changes(),
        "a second plan changes {:#?}",
        changes(&again)
    );
    let requests = moto.proxy.requests();
    let writes: Vec<String> = requests
        .iter()
        .filter(|r| !r.is_read())
        .map(|r| r.line())
        .collect();
    assert!(writes.is_empty(), "planning writes nothing: {writes:#?}");
    eprintln!(
        "reads of the live state of 5 functions with every trigger: {}:\n{}",
        requests.len(),
        requests
            .iter()
            .map(|r| r.line())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn removing_an_event_deletes_its_resources_and_permission_only() {
    let moto = moto("removing_an_event_deletes_its_resources_and_permission_only");
    let both = service(
        "  report:\n    handler: handler.handle\n    events:\n      - schedule: rate(1 hour)\n      - httpApi: GET /report\n",
    );
    let driver = Driver::connect(&both.service);
    let aws = Clients::new(&driver.runtime, &moto);
    driver.deploy(&driver.desired(&both));

    let http_only = service(
        "  report:\n    handler: handler.handle\n    events:\n      - httpApi: GET /report\n",
    );
    let (plan, _) = driver.deploy(&driver.desired(&http_only));
    let mut changed = changes(&plan);
    changed.sort();
    assert_eq!(
        changed,
        [
            format!("delete {} trig-dev-report-schedule-1", kind::RULE),
            format!(
                "delete {} trig-dev-report/updraft-event-schedule-1",
                kind::PERMISSION
            ),
        ]
    );
    let rules = driver
        .runtime
        .block_on(aws.events.list_rules().name_prefix("trig-dev-").send())
        .expect("rules");
    assert!(rules.rules().is_empty(), "the rule is gone");
    let statements = policy(&driver, &aws, "trig-dev-report");
    assert_eq!(
        statements.keys().collect::<Vec<_>>(),
        ["updraft-event-http-api"]
    );
    let api_id = http_api_id(&driver, &aws);
    assert_eq!(route_keys(&driver, &aws, &api_id), ["GET /report"]);
    let (again, _) = driver.plan_against(&driver.desired(&http_only));
    assert!(!again.has_changes(), "{:#?}", changes(&again));
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn changing_a_route_path_updates_routes_and_keeps_both_apis() {
    let moto = moto("changing_a_route_path_updates_routes_and_keeps_both_apis");
    let routes = |path: &str| {
        service(&format!(
            "  api:\n    handler: handler.handle\n    events:\n      - httpApi: GET /{path}\n      - http: GET {path}\n"
        ))
    };
    let before = routes("old");
    let driver = Driver::connect(&before.service);
    let aws = Clients::new(&driver.runtime, &moto);
    driver.deploy(&driver.desired(&before));
    let api_id = http_api_id(&driver, &aws);
    let rest_id = rest_api_id(&driver, &aws);
    let stage = |driver: &Driver| {
        driver
            .runtime
            .block_on(
                aws.apigateway
                    .get_stage()
                    .rest_api_id(&rest_id)
                    .stage_name("dev")
                    .send(),
            )
            .expect("the stage")
            .deployment_id()
            .map(str::to_string)
    };
    let first_deployment = stage(&driver);

    let after = routes("new");
    let (plan, _) = driver.deploy(&driver.desired(&after));
    let actions: BTreeMap<String, Action> = plan
        .steps
        .iter()
        .map(|s| (s.id.to_string(), s.action))
        .collect();
    assert_eq!(
        actions.get(&format!("{} dev-trig", kind::HTTP_API)),
        Some(&Action::NoOp)
    );
    assert_eq!(
        actions.get(&format!("{} dev-trig", kind::REST_API)),
        Some(&Action::NoOp)
    );
    assert_eq!(
        actions.get(&format!("{} GET /new", kind::HTTP_API_ROUTE)),
        Some(&Action::Create)
    );
    assert_eq!(
        actions.get(&format!("{} GET /old", kind::HTTP_API_ROUTE)),
        Some(&Action::Delete)
    );
    assert_eq!(
        actions.get(&format!("{} dev", kind::REST_API_DEPLOYMENT)),
        Some(&Action::Update)
    );

    assert_eq!(
        http_api_id(&driver, &aws),
        api_id,
        "the HTTP API, and its URL, stay"
    );
    assert_eq!(route_keys(&driver, &aws, &api_id), ["GET /new"]);
    assert_eq!(
        rest_api_id(&driver, &aws),
        rest_id,
        "the REST API, and its URL, stay"
    );
    let paths = rest_paths(&driver, &aws, &rest_id);
    assert!(
        paths.contains_key("/new") && !paths.contains_key("/old"),
        "{paths:?}"
    );
    assert_ne!(
        stage(&driver),
        first_deployment,
        "the stage serves a new deployment"
    );
    let (again, _) = driver.plan_against(&driver.desired(&after));
    assert!(!again.has_changes(), "{:#?}", changes(&again));
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn an_event_type_updraft_cannot_deploy_is_refused_before_any_change() {
    let moto = moto("an_event_type_updraft_cannot_deploy_is_refused_before_any_change");
    let balanced = service(
        "  web:\n    handler: handler.handle\n    events:\n      - kafka:\n          \
         topic: orders\n          bootstrapServers: [broker:9092]\n          \
         accessConfigurations:\n            saslScram512Auth: arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka\n",
    );
    let driver = Driver::connect(&balanced.service);
    moto.proxy.clear();
    match driver
        .backend
        .desired(&balanced.service, &balanced.artifacts)
    {
        Err(ProviderError::Unsupported { what, span, help }) => {
            assert!(what.contains("kafka") && what.contains("web"), "{what}");
            assert!(span.is_some(), "the error points at the event");
            assert!(!help.is_empty());
        }
        other => panic!("expected the kafka event to be refused, got {other:?}"),
    }
    assert!(moto.proxy.requests().is_empty(), "nothing was asked of AWS");
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn alexa_skill_events_let_the_alexa_service_invoke_the_function() {
    let moto = moto("alexa_skill_events_let_the_alexa_service_invoke_the_function");
    let skill = service(
        "  skill:\n    handler: handler.handle\n    events:\n      - alexaSkill: amzn1.ask.skill.one\n      - alexaSmartHome:\n          appId: amzn1.ask.skill.home\n",
    );
    let driver = Driver::connect(&skill.service);
    let aws = Clients::new(&driver.runtime, &moto);
    // As `updraft deploy` records it: an Alexa permission has no source resource that names
    // the function, so the deploy state is where the next read finds it.
    let desired = driver.desired(&skill);
    driver.deploy(&desired);
    driver
        .runtime
        .block_on(driver.backend.record_intent(&desired))
        .expect("the deploy state is written");
    let statements = policy(&driver, &aws, "trig-dev-skill");
    // AWS writes `{"Service": ...}`, moto the bare service name.
    let principals: Vec<&str> = statements
        .values()
        .filter_map(|s| {
            s["Principal"]["Service"]
                .as_str()
                .or(s["Principal"].as_str())
        })
        .collect();
    assert_eq!(
        principals,
        ["alexa-appkit.amazon.com", "alexa-connectedhome.amazon.com"],
        "{statements:?}"
    );
    assert!(statements
        .keys()
        .all(|sid| sid.starts_with("updraft-event-alexa-")));
    let (again, _) = driver.plan_against(&driver.desired(&skill));
    assert!(!again.has_changes(), "{:#?}", changes(&again));

    // Another skill id replaces the statement.
    let other = service(
        "  skill:\n    handler: handler.handle\n    events:\n      - alexaSkill: amzn1.ask.skill.two\n",
    );
    let (plan, _) = driver.deploy(&driver.desired(&other));
    let deleted = plan
        .steps
        .iter()
        .filter(|s| s.action == Action::Delete && s.id.kind == kind::PERMISSION)
        .count();
    assert_eq!(deleted, 2, "{:#?}", changes(&plan));
    assert_eq!(policy(&driver, &aws, "trig-dev-skill").len(), 1);
}
