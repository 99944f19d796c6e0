//! The event types beyond HTTP, queues, buckets and topics, deployed against a local moto:
//! `eventBridge` (on the default bus and on a bus the service creates), `cloudwatchEvent`,
//! `cloudwatchLog`, `iot` and `cognitoUserPool` (a pool the service creates and an existing
//! one). For each: what AWS reports after a deploy, with the permission; a second plan that
//! changes nothing; a changed setting planned as exactly that change and applied; and a remove
//! that leaves nothing of the service (and an existing pool as it was).
//!
//! These tests need `UPDRAFT_TEST_MOTO_URL` (set by `bash scripts/test.sh`, which starts moto);
//! without it, or with moto not answering, they fail. They drive the library as `updraft deploy`
//! does, with the deploy state recorded as it records it.
//!
//! Gaps in moto (5.2) these tests work around, not the product:
//! - moto's Lambda policy shows a statement's principal as the bare service name, AWS as
//!   `{"Service": ...}`: [`principal`] reads both;
//! - moto's IoT keeps no tags on topic rules, and its Cognito is not in the Resource Groups
//!   Tagging API: updraft finds both by name (the deploy state) rather than by tag anyway, so
//!   the tests check the pool's tags with DescribeUserPool;
//! - moto's `ListTargetsByRule` returns a target as it was sent, so a retry policy is read back
//!   exactly; AWS may fill in the fields the event left out (not exercised here).

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

use driver::{fixture, Driver, Fixture};
use moto::{direct_config, Moto};
use serde_json::{json, Value as Json};
use updraft::plan::{Action, DesiredState, Plan};
use updraft::provider::aws::naming::kind;
use updraft::provider::Backend;

const HANDLER: &str = "exports.handle = async (event) => event;\n";

/// SDK clients that talk to moto directly, to seed it and to check what a deploy made.
struct Clients {
    events: aws_sdk_eventbridge::Client,
    lambda: aws_sdk_lambda::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    iot: aws_sdk_iot::Client,
    cognito: aws_sdk_cognitoidentityprovider::Client,
}

impl Clients {
    fn new(driver: &Driver, moto: &Moto) -> Clients {
        let config = direct_config(&driver.runtime, moto);
        Clients {
            events: aws_sdk_eventbridge::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            iot: aws_sdk_iot::Client::new(&config),
            cognito: aws_sdk_cognitoidentityprovider::Client::new(&config),
        }
    }
}

/// The service `ev` with these functions (YAML under `functions:`, indented by two).
fn service(functions: &str) -> Fixture {
    let manifest = format!(
        "service: ev\n\
         provider:\n  name: aws\n  runtime: nodejs20.x\n  region: us-east-1\n  memorySize: 128\n\
         functions:\n{functions}"
    );
    fixture(&manifest, &[("handler.js", HANDLER)])
}

fn block<F: std::future::Future>(driver: &Driver, future: F) -> F::Output {
    driver.runtime.block_on(future)
}

/// As `updraft deploy` does it: lock, plan, apply, with the deploy state recorded (here after
/// applying: the first deploy creates the bucket the state is kept in).
fn deploy(driver: &Driver, service: &Fixture) -> Plan {
    let desired = driver.desired(service);
    let (plan, _) = driver.deploy(&desired);
    block(driver, driver.backend.record_intent(&desired)).expect("the deploy state is written");
    plan
}

/// As `updraft remove` does it: everything planned for deletion and applied; then nothing of
/// the service is left to read.
fn remove(driver: &Driver) {
    let (plan, live) = driver.plan_against(&DesiredState::default());
    assert!(plan
        .steps
        .iter()
        .all(|s| matches!(s.action, Action::Delete | Action::NoOp)));
    let outcome = driver.apply(&plan, &live);
    assert!(outcome.succeeded(), "remove succeeds: {:?}", outcome.failed);
    let left = driver.live();
    assert!(
        left.resources.is_empty(),
        "remove leaves nothing: {:#?}",
        left.resources
            .iter()
            .map(|r| r.id.to_string())
            .collect::<Vec<_>>()
    );
}

fn changes(plan: &Plan) -> Vec<String> {
    let mut changed: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| s.action.is_change())
        .map(|s| format!("{} {}", s.action.name(), s.id))
        .collect();
    changed.sort();
    changed
}

fn assert_no_change(driver: &Driver, service: &Fixture) {
    let (again, _) = driver.plan_against(&driver.desired(service));
    assert!(
        !again.has_changes(),
        "a second plan changes {:#?}",
        changes(&again)
    );
}

/// The statements of a function's policy, by id (none when it has no policy).
fn policy(driver: &Driver, aws: &Clients, function: &str) -> BTreeMap<String, Json> {
    let Ok(answer) = block(
        driver,
        aws.lambda.get_policy().function_name(function).send(),
    ) else {
        return BTreeMap::new();
    };
    let document: Json =
        serde_json::from_str(answer.policy().unwrap_or_default()).unwrap_or(Json::Null);
    document["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| (s["Sid"].as_str().unwrap_or_default().to_string(), s.clone()))
        .collect()
}

/// A statement's principal: AWS writes `{"Service": ...}`, moto the bare service name.
fn principal(statement: &Json) -> String {
    statement["Principal"]["Service"]
        .as_str()
        .or(statement["Principal"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn source(statement: &Json) -> String {
    statement["Condition"]["ArnLike"]["AWS:SourceArn"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn rule_names(driver: &Driver, aws: &Clients, bus: Option<&str>) -> Vec<String> {
    let rules = block(
        driver,
        aws.events
            .list_rules()
            .set_event_bus_name(bus.map(str::to_string))
            .send(),
    )
    .expect("moto lists rules");
    let mut names: Vec<String> = rules
        .rules()
        .iter()
        .filter_map(|r| r.name().map(str::to_string))
        .collect();
    names.sort();
    names
}

const EVENT_BRIDGE: &str = "  orders:
    handler: handler.handle
    events:
      - eventBridge:
          eventBus: ev-orders
          pattern:
            source: [shop.orders]
          inputTransformer:
            inputPathsMap:
              id: $.detail.id
            inputTemplate: '{\"order\": <id>}'
          retryPolicy:
            maximumRetryAttempts: 3
            maximumEventAge: 3600
          deadLetterQueueArn: arn:aws:sqs:us-east-1:123456789012:ev-dead
      - eventBridge:
          schedule: rate(1 hour)
          input:
            source: hourly
          description: every hour
      - eventBridge:
          name: ev-custom-rule
          pattern:
            source: [shop.refunds]
          inputPath: $.detail
          enabled: false
  audit:
    handler: handler.handle
    events:
      - cloudwatchEvent:
          event:
            source: [aws.ec2]
            detail-type: [EC2 Instance State-change Notification]
          input:
            audit: true
";

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn event_bridge_and_cloudwatch_event_rules_deploy_replan_change_and_remove_with_their_bus() {
    let moto = moto::moto(
        "event_bridge_and_cloudwatch_event_rules_deploy_replan_change_and_remove_with_their_bus",
    );
    let first = service(EVENT_BRIDGE);
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver, &moto);
    deploy(&driver, &first);

    // The bus the service names is created, with the rule that matches its pattern on it.
    let bus = block(
        &driver,
        aws.events.describe_event_bus().name("ev-orders").send(),
    )
    .expect("the named bus is created");
    assert!(bus
        .arn()
        .unwrap_or_default()
        .ends_with(":event-bus/ev-orders"));
    assert_eq!(
        rule_names(&driver, &aws, Some("ev-orders")),
        ["ev-dev-orders-rule-1"]
    );
    let on_bus = block(
        &driver,
        aws.events
            .describe_rule()
            .name("ev-dev-orders-rule-1")
            .event_bus_name("ev-orders")
            .send(),
    )
    .expect("the rule on the bus");
    let pattern: Json =
        serde_json::from_str(on_bus.event_pattern().unwrap_or_default()).unwrap_or(Json::Null);
    assert_eq!(pattern, json!({"source": ["shop.orders"]}));
    let targets = block(
        &driver,
        aws.events
            .list_targets_by_rule()
            .rule("ev-dev-orders-rule-1")
            .event_bus_name("ev-orders")
            .send(),
    )
    .expect("its targets");
    let target = &targets.targets()[0];
    assert!(target.arn().ends_with(":function:ev-dev-orders"));
    let transformer = target.input_transformer().expect("an input transformer");
    assert_eq!(transformer.input_template(), "{\"order\": <id>}");
    assert_eq!(
        transformer
            .input_paths_map()
            .and_then(|m| m.get("id"))
            .map(String::as_str),
        Some("$.detail.id")
    );
    let retry = target.retry_policy().expect("a retry policy");
    assert_eq!(retry.maximum_retry_attempts(), Some(3));
    assert_eq!(retry.maximum_event_age_in_seconds(), Some(3600));
    assert_eq!(
        target.dead_letter_config().and_then(|d| d.arn()),
        Some("arn:aws:sqs:us-east-1:123456789012:ev-dead")
    );

    // On the default bus: the schedule, the rule with its own name (disabled, with an input
    // path) and the cloudwatchEvent rule with its pattern and input.
    assert_eq!(
        rule_names(&driver, &aws, None),
        [
            "ev-custom-rule",
            "ev-dev-audit-cloudwatch-event-1",
            "ev-dev-orders-rule-2"
        ]
    );
    let custom = block(
        &driver,
        aws.events.describe_rule().name("ev-custom-rule").send(),
    )
    .expect("the custom-named rule");
    assert_eq!(custom.state().map(|s| s.as_str()), Some("DISABLED"));
    let custom_targets = block(
        &driver,
        aws.events
            .list_targets_by_rule()
            .rule("ev-custom-rule")
            .send(),
    )
    .expect("its targets");
    assert_eq!(custom_targets.targets()[0].input_path(), Some("$.detail"));
    let schedule = block(
        &driver,
        aws.events
            .describe_rule()
            .name("ev-dev-orders-rule-2")
            .send(),
    )
    .expect("the schedule rule");
    assert_eq!(schedule.schedule_expression(), Some("rate(1 hour)"));
    assert_eq!(schedule.description(), Some("every hour"));
    let audit = block(
        &driver,
        aws.events
            .describe_rule()
            .name("ev-dev-audit-cloudwatch-event-1")
            .send(),
    )
    .expect("the cloudwatchEvent rule");
    let pattern: Json =
        serde_json::from_str(audit.event_pattern().unwrap_or_default()).unwrap_or(Json::Null);
    assert_eq!(pattern["source"], json!(["aws.ec2"]));

    // EventBridge may invoke each function, from its rules only.
    let orders = policy(&driver, &aws, "ev-dev-orders");
    let sids: Vec<&String> = orders.keys().collect();
    assert_eq!(
        sids,
        [
            "updraft-event-event-bridge-1",
            "updraft-event-event-bridge-2",
            "updraft-event-event-bridge-3"
        ]
    );
    let grant = &orders["updraft-event-event-bridge-1"];
    assert_eq!(principal(grant), "events.amazonaws.com");
    assert!(
        source(grant).ends_with(":rule/ev-orders/ev-dev-orders-rule-1"),
        "{grant}"
    );
    let audit_policy = policy(&driver, &aws, "ev-dev-audit");
    assert!(source(&audit_policy["updraft-event-cloudwatch-event-1"])
        .ends_with(":rule/ev-dev-audit-cloudwatch-event-1"));

    assert_no_change(&driver, &first);

    // A changed pattern is that one change, and applies.
    let changed = service(&EVENT_BRIDGE.replace("[shop.orders]", "[shop.orders, shop.returns]"));
    let plan = deploy(&driver, &changed);
    assert_eq!(
        changes(&plan),
        [format!(
            "update {} ev-orders/ev-dev-orders-rule-1",
            kind::RULE
        )]
    );
    let on_bus = block(
        &driver,
        aws.events
            .describe_rule()
            .name("ev-dev-orders-rule-1")
            .event_bus_name("ev-orders")
            .send(),
    )
    .expect("the rule on the bus");
    let pattern: Json =
        serde_json::from_str(on_bus.event_pattern().unwrap_or_default()).unwrap_or(Json::Null);
    assert_eq!(pattern, json!({"source": ["shop.orders", "shop.returns"]}));
    assert_no_change(&driver, &changed);

    // Remove deletes the rules, the permissions and the bus the service created.
    remove(&driver);
    assert!(rule_names(&driver, &aws, None).is_empty());
    assert!(
        block(
            &driver,
            aws.events.describe_event_bus().name("ev-orders").send()
        )
        .is_err(),
        "the bus is gone"
    );
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn cloudwatch_log_subscription_filters_deploy_replan_change_and_remove() {
    let moto = moto::moto("cloudwatch_log_subscription_filters_deploy_replan_change_and_remove");
    let functions = |filter: &str| {
        format!(
            "  source:\n    handler: handler.handle\n  \
             tail:\n    handler: handler.handle\n    events:\n      \
             - cloudwatchLog: /aws/lambda/ev-dev-source\n      \
             - cloudwatchLog:\n          logGroup: /app/orders\n          filter: '{filter}'\n"
        )
    };
    let first = service(&functions("ERROR"));
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver, &moto);
    // A log group of another application.
    block(
        &driver,
        aws.logs
            .create_log_group()
            .log_group_name("/app/orders")
            .send(),
    )
    .expect("moto creates the log group");
    deploy(&driver, &first);

    let filters = |group: &str| {
        block(
            &driver,
            aws.logs
                .describe_subscription_filters()
                .log_group_name(group)
                .send(),
        )
        .expect("moto lists the filters")
        .subscription_filters()
        .iter()
        .map(|f| {
            (
                f.filter_name().unwrap_or_default().to_string(),
                f.filter_pattern().unwrap_or_default().to_string(),
                f.destination_arn().unwrap_or_default().to_string(),
            )
        })
        .collect::<Vec<_>>()
    };
    let own = filters("/aws/lambda/ev-dev-source");
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0].0, "ev-dev-tail-cloudwatch-log-1");
    assert!(own[0].2.ends_with(":function:ev-dev-tail"));
    let app = filters("/app/orders");
    assert_eq!(app.len(), 1, "{app:?}");
    assert_eq!(
        (app[0].0.as_str(), app[0].1.as_str()),
        ("ev-dev-tail-cloudwatch-log-2", "ERROR")
    );
    let statements = policy(&driver, &aws, "ev-dev-tail");
    let grant = &statements["updraft-event-cloudwatch-log-2"];
    assert_eq!(principal(grant), "logs.us-east-1.amazonaws.com");
    assert_eq!(
        source(grant),
        "arn:aws:logs:us-east-1:123456789012:log-group:/app/orders:*"
    );
    assert_no_change(&driver, &first);

    let changed = service(&functions("WARN"));
    let plan = deploy(&driver, &changed);
    assert_eq!(
        changes(&plan),
        [format!(
            "update {} /app/orders:ev-dev-tail-cloudwatch-log-2",
            kind::SUBSCRIPTION_FILTER
        )]
    );
    assert_eq!(filters("/app/orders")[0].1, "WARN");
    assert_no_change(&driver, &changed);

    remove(&driver);
    assert!(filters("/app/orders").is_empty(), "the filter is gone");
    // The other application's log group stays.
    let groups = block(
        &driver,
        aws.logs
            .describe_log_groups()
            .log_group_name_prefix("/app/")
            .send(),
    )
    .expect("log groups");
    assert_eq!(groups.log_groups().len(), 1);
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn iot_topic_rules_deploy_replan_change_and_remove() {
    let moto = moto::moto("iot_topic_rules_deploy_replan_change_and_remove");
    let functions = |sql: &str| {
        format!(
            "  sensor:\n    handler: handler.handle\n    events:\n      \
             - iot:\n          sql: \"{sql}\"\n          description: readings\n"
        )
    };
    let first = service(&functions("SELECT * FROM 'sensors/+'"));
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver, &moto);
    deploy(&driver, &first);

    let rule = |driver: &Driver| {
        block(
            driver,
            aws.iot
                .get_topic_rule()
                .rule_name("ev_dev_sensor_iot_1")
                .send(),
        )
        .ok()
        .and_then(|answer| answer.rule().cloned())
    };
    let deployed = rule(&driver).expect("the topic rule is created");
    assert_eq!(deployed.sql(), Some("SELECT * FROM 'sensors/+'"));
    assert_eq!(deployed.description(), Some("readings"));
    assert_eq!(deployed.rule_disabled(), Some(false));
    let arns: Vec<&str> = deployed
        .actions()
        .iter()
        .filter_map(|a| a.lambda().map(|l| l.function_arn()))
        .collect();
    assert_eq!(arns.len(), 1);
    assert!(arns[0].ends_with(":function:ev-dev-sensor"));
    let statements = policy(&driver, &aws, "ev-dev-sensor");
    let grant = &statements["updraft-event-iot-1"];
    assert_eq!(principal(grant), "iot.amazonaws.com");
    assert!(source(grant).ends_with(":rule/ev_dev_sensor_iot_1"));
    assert_no_change(&driver, &first);

    let changed = service(&functions("SELECT temperature FROM 'sensors/+'"));
    let plan = deploy(&driver, &changed);
    assert_eq!(
        changes(&plan),
        [format!("update {} ev_dev_sensor_iot_1", kind::TOPIC_RULE)]
    );
    assert_eq!(
        rule(&driver).and_then(|r| r.sql().map(str::to_string)),
        Some("SELECT temperature FROM 'sensors/+'".to_string())
    );
    assert_no_change(&driver, &changed);

    remove(&driver);
    assert!(rule(&driver).is_none(), "the topic rule is gone");
}

/// The triggers of the pool named `name`, and the pool.
fn pool_named(
    driver: &Driver,
    aws: &Clients,
    name: &str,
) -> Option<aws_sdk_cognitoidentityprovider::types::UserPoolType> {
    let pools = block(driver, aws.cognito.list_user_pools().max_results(60).send())
        .expect("moto lists pools");
    let id = pools
        .user_pools()
        .iter()
        .find(|p| p.name() == Some(name))?
        .id()?
        .to_string();
    block(
        driver,
        aws.cognito.describe_user_pool().user_pool_id(id).send(),
    )
    .ok()?
    .user_pool()
    .cloned()
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn cognito_triggers_on_a_created_and_an_existing_pool_deploy_replan_change_and_remove() {
    use aws_sdk_cognitoidentityprovider::types::{
        LambdaConfigType, PasswordPolicyType, UserPoolPolicyType,
    };
    let moto = moto::moto(
        "cognito_triggers_on_a_created_and_an_existing_pool_deploy_replan_change_and_remove",
    );
    let functions = |staff_trigger: &str| {
        format!(
            "  signup:\n    handler: handler.handle\n    events:\n      \
             - cognitoUserPool:\n          pool: EvCustomers\n          trigger: PreSignUp\n      \
             - cognitoUserPool:\n          pool: EvStaff\n          trigger: {staff_trigger}\n          existing: true\n"
        )
    };
    let first = service(&functions("PreSignUp"));
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver, &moto);
    // An existing pool with its own password policy and another application's trigger.
    let foreign = "arn:aws:lambda:us-east-1:123456789012:function:other-app-message";
    block(
        &driver,
        aws.cognito
            .create_user_pool()
            .pool_name("EvStaff")
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy(
                        PasswordPolicyType::builder()
                            .minimum_length(14)
                            .require_symbols(false)
                            .build(),
                    )
                    .build(),
            )
            .lambda_config(LambdaConfigType::builder().custom_message(foreign).build())
            .send(),
    )
    .expect("moto creates the existing pool");
    deploy(&driver, &first);

    let minimum_length = |pool: &aws_sdk_cognitoidentityprovider::types::UserPoolType| {
        pool.policies()
            .and_then(|p| p.password_policy())
            .and_then(|p| p.minimum_length())
    };
    let created = pool_named(&driver, &aws, "EvCustomers").expect("the pool is created");
    assert_eq!(
        created
            .user_pool_tags()
            .and_then(|t| t.get("updraft:service"))
            .map(String::as_str),
        Some("ev")
    );
    let config = created.lambda_config().expect("its triggers");
    assert!(config
        .pre_sign_up()
        .unwrap_or_default()
        .ends_with(":function:ev-dev-signup"));
    let staff = pool_named(&driver, &aws, "EvStaff").expect("the existing pool");
    let config = staff.lambda_config().expect("its triggers");
    assert!(config
        .pre_sign_up()
        .unwrap_or_default()
        .ends_with(":function:ev-dev-signup"));
    assert_eq!(
        config.custom_message(),
        Some(foreign),
        "its other trigger stays"
    );
    assert_eq!(minimum_length(&staff), Some(14), "its settings stay");
    let statements = policy(&driver, &aws, "ev-dev-signup");
    let customers_grant = &statements["updraft-event-cognito-EvCustomers"];
    assert_eq!(principal(customers_grant), "cognito-idp.amazonaws.com");
    assert_eq!(source(customers_grant), created.arn().unwrap_or_default());
    assert!(statements.contains_key("updraft-event-cognito-EvStaff"));
    assert_no_change(&driver, &first);

    // Another trigger on the existing pool is that one change.
    let changed = service(&functions("PostConfirmation"));
    let plan = deploy(&driver, &changed);
    assert_eq!(
        changes(&plan),
        [format!("update {} EvStaff", kind::USER_POOL_TRIGGERS)]
    );
    let staff = pool_named(&driver, &aws, "EvStaff").expect("the existing pool");
    let config = staff.lambda_config().expect("its triggers");
    assert_eq!(config.pre_sign_up(), None);
    assert!(config
        .post_confirmation()
        .unwrap_or_default()
        .ends_with(":function:ev-dev-signup"));
    assert_eq!(config.custom_message(), Some(foreign));
    assert_no_change(&driver, &changed);

    // Remove deletes the created pool and gives the existing one back as it was.
    remove(&driver);
    assert!(
        pool_named(&driver, &aws, "EvCustomers").is_none(),
        "the pool is gone"
    );
    let staff = pool_named(&driver, &aws, "EvStaff").expect("the existing pool stays");
    let config = staff.lambda_config();
    assert_eq!(config.and_then(|c| c.post_confirmation()), None);
    assert_eq!(config.and_then(|c| c.custom_message()), Some(foreign));
    assert_eq!(minimum_length(&staff), Some(14));
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_rule_on_an_existing_bus_given_by_arn_is_removed_and_the_bus_stays() {
    let moto = moto::moto("a_rule_on_an_existing_bus_given_by_arn_is_removed_and_the_bus_stays");
    let functions = "  orders:\n    handler: handler.handle\n    events:\n      \
         - eventBridge:\n          eventBus: arn:aws:events:us-east-1:123456789012:event-bus/their-bus\n          \
         pattern:\n            source: [their.app]\n";
    let first = service(functions);
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver, &moto);
    block(
        &driver,
        aws.events.create_event_bus().name("their-bus").send(),
    )
    .expect("moto creates the existing bus");
    let plan = deploy(&driver, &first);
    assert!(
        !plan.steps.iter().any(|s| s.id.kind == kind::EVENT_BUS),
        "a bus given by ARN is not the service's: {:#?}",
        changes(&plan)
    );
    assert_eq!(
        rule_names(&driver, &aws, Some("their-bus")),
        ["ev-dev-orders-rule-1"]
    );
    assert_no_change(&driver, &first);

    remove(&driver);
    assert!(rule_names(&driver, &aws, Some("their-bus")).is_empty());
    block(
        &driver,
        aws.events.describe_event_bus().name("their-bus").send(),
    )
    .expect("the existing bus stays");
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_setting_updraft_does_not_deploy_is_refused_before_any_call() {
    let moto = moto::moto("a_setting_updraft_does_not_deploy_is_refused_before_any_call");
    let sender = service(
        "  signup:\n    handler: handler.handle\n    events:\n      \
         - cognitoUserPool:\n          pool: EvCustomers\n          trigger: CustomSMSSender\n",
    );
    let driver = Driver::connect(&sender.service);
    moto.proxy.clear();
    match driver.backend.desired(&sender.service, &sender.artifacts) {
        Err(updraft::provider::ProviderError::Unsupported { what, span, help }) => {
            assert!(
                what.contains("CustomSMSSender") && what.contains("signup"),
                "{what}"
            );
            assert!(span.is_some(), "the error points at the event");
            assert!(help.contains("KMS"), "{help}");
        }
        other => panic!("expected the trigger to be refused, got {other:?}"),
    }
    assert!(moto.proxy.requests().is_empty(), "nothing was asked of AWS");
}
