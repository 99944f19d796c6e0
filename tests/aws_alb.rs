//! `alb` events deployed against a local moto, on a load balancer and listener that are the
//! user's (made here with the SDK before the deploy): the target group of type `lambda` with
//! the function registered, a rule per event with its priority and conditions forwarding to it,
//! and the permission; a second plan that changes nothing; a changed condition, then a changed
//! priority, each planned as an update of that rule alone; and a remove that leaves no target
//! group or rule of the service, and the listener as it was. And a listener of the service's own
//! `resources:`, named by `Ref`: its rule is made once the stack has made the listener, it
//! replans as no change, and a health check turned on changes the target group alone.
//!
//! These tests need `UPDRAFT_TEST_MOTO_URL` (set by `bash scripts/test.sh`, which starts moto);
//! without it, or with moto not answering, they fail.
//!
//! Gaps in moto (5.2) these tests work around, not the product:
//! - moto's Lambda policy shows a statement's principal as the bare service name, AWS as
//!   `{"Service": ...}`: [`principal`] reads both;
//! - the VPC and subnets the load balancer needs are made with EC2's query API by hand (moto
//!   checks no signature), to spare the tests the EC2 SDK, the largest of the SDK crates.

#[allow(dead_code)]
#[path = "aws_deploy/driver.rs"]
mod driver;
#[allow(dead_code, clippy::result_large_err)]
#[path = "aws_deploy/moto.rs"]
mod moto;
#[allow(dead_code)]
#[path = "aws_deploy/proxy.rs"]
mod proxy;

use aws_sdk_elasticloadbalancingv2::types::{
    Action as RuleAction, ActionTypeEnum, FixedResponseActionConfig, Rule, TargetGroup,
};
use driver::{fixture, Driver, Fixture};
use moto::{direct_config, Moto};
use serde_json::{json, Value as Json};
use updraft::plan::{Action, DesiredState, Plan};
use updraft::provider::aws::naming::kind;
use updraft::provider::Backend;

const HANDLER: &str = "exports.handle = async (event) => ({statusCode: 200, body: 'ok'});\n";

fn block<F: std::future::Future>(driver: &Driver, future: F) -> F::Output {
    driver.runtime.block_on(future)
}

/// One call of EC2's query API, its answer's text.
fn ec2(moto: &Moto, parameters: &[(&str, &str)]) -> String {
    let mut form = vec![("Version", "2016-11-15")];
    form.extend_from_slice(parameters);
    ureq::post(&moto.url)
        .set(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request",
        )
        .send_form(&form)
        .unwrap_or_else(|e| panic!("moto answers EC2 {parameters:?}: {e}"))
        .into_string()
        .expect("EC2 answers text")
}

/// The text of the first `<{tag}>` element.
fn element(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        + open.len();
    let end = xml[start..]
        .find('<')
        .map(|e| start + e)
        .unwrap_or(xml.len());
    xml[start..end].to_string()
}

/// The user's load balancer, in a VPC of two subnets; its ARN.
fn user_balancer(
    driver: &Driver,
    moto: &Moto,
    elb: &aws_sdk_elasticloadbalancingv2::Client,
) -> String {
    let vpc = element(
        &ec2(
            moto,
            &[("Action", "CreateVpc"), ("CidrBlock", "10.0.0.0/16")],
        ),
        "vpcId",
    );
    let subnets: Vec<String> = [("10.0.1.0/24", "us-east-1a"), ("10.0.2.0/24", "us-east-1b")]
        .iter()
        .map(|(cidr, zone)| {
            element(
                &ec2(
                    moto,
                    &[
                        ("Action", "CreateSubnet"),
                        ("VpcId", &vpc),
                        ("CidrBlock", cidr),
                        ("AvailabilityZone", zone),
                    ],
                ),
                "subnetId",
            )
        })
        .collect();
    let balancer = block(
        driver,
        elb.create_load_balancer()
            .name("users-web")
            .set_subnets(Some(subnets))
            .send(),
    )
    .expect("the user's load balancer");
    balancer.load_balancers()[0]
        .load_balancer_arn()
        .expect("an ARN")
        .to_string()
}

/// The user's load balancer with an HTTP listener whose default action answers 404; the
/// listener's ARN.
fn user_listener(
    driver: &Driver,
    moto: &Moto,
    elb: &aws_sdk_elasticloadbalancingv2::Client,
) -> String {
    let balancer_arn = user_balancer(driver, moto, elb);
    let listener = block(
        driver,
        elb.create_listener()
            .load_balancer_arn(&balancer_arn)
            .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
            .port(80)
            .default_actions(
                RuleAction::builder()
                    .r#type(ActionTypeEnum::FixedResponse)
                    .fixed_response_config(
                        FixedResponseActionConfig::builder()
                            .status_code("404")
                            .build(),
                    )
                    .build(),
            )
            .send(),
    )
    .expect("the user's listener");
    listener.listeners()[0]
        .listener_arn()
        .expect("an ARN")
        .to_string()
}

/// The service `web` with two functions, each with an `alb` event on the listener; `path` and
/// `priority` are the second one's.
fn service(listener: &str, path: &str, priority: u32) -> Fixture {
    let manifest = format!(
        "service: web\n\
         provider:\n  name: aws\n  runtime: nodejs20.x\n  region: us-east-1\n  memorySize: 128\n\
         functions:\n\
         \x20 hello:\n    handler: handler.handle\n    events:\n\
         \x20     - alb:\n          listenerArn: {listener}\n          priority: 1\n\
         \x20         multiValueHeaders: true\n\
         \x20         conditions:\n            path: /hello\n            method: [GET, post]\n\
         \x20           header:\n              name: X-Env\n              values: [prod]\n\
         \x20 other:\n    handler: handler.handle\n    events:\n\
         \x20     - alb:\n          listenerArn: {listener}\n          priority: {priority}\n\
         \x20         conditions:\n            path: {path}\n            query:\n              lang: en\n"
    );
    fixture(&manifest, &[("handler.js", HANDLER)])
}

fn deploy(driver: &Driver, service: &Fixture) -> Plan {
    let desired = driver.desired(service);
    let (plan, _) = driver.deploy(&desired);
    block(driver, driver.backend.record_intent(&desired)).expect("the deploy state is written");
    plan
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

fn target_groups(
    driver: &Driver,
    elb: &aws_sdk_elasticloadbalancingv2::Client,
) -> Vec<TargetGroup> {
    block(driver, elb.describe_target_groups().send())
        .expect("moto lists target groups")
        .target_groups()
        .to_vec()
}

/// The listener's rules besides its default one, by priority.
fn rules(
    driver: &Driver,
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    listener: &str,
) -> Vec<Rule> {
    let mut found: Vec<Rule> = block(driver, elb.describe_rules().listener_arn(listener).send())
        .expect("moto lists the listener's rules")
        .rules()
        .iter()
        .filter(|r| !r.is_default().unwrap_or(false))
        .cloned()
        .collect();
    found.sort_by_key(|r| r.priority().and_then(|p| p.parse::<i32>().ok()));
    found
}

fn forwards_to(rule: &Rule) -> Option<String> {
    rule.actions()
        .iter()
        .find_map(|a| a.target_group_arn())
        .map(str::to_string)
}

/// A statement's principal: AWS writes `{"Service": ...}`, moto the bare service name.
fn principal(statement: &Json) -> String {
    statement["Principal"]["Service"]
        .as_str()
        .or(statement["Principal"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn statements(driver: &Driver, lambda: &aws_sdk_lambda::Client, function: &str) -> Vec<Json> {
    let Ok(answer) = block(driver, lambda.get_policy().function_name(function).send()) else {
        return Vec::new();
    };
    let document: Json =
        serde_json::from_str(answer.policy().unwrap_or_default()).unwrap_or(Json::Null);
    document["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn alb_rules_and_lambda_target_groups_deploy_replan_change_one_rule_and_remove_keeping_the_listener(
) {
    let moto = moto::moto(
        "alb_rules_and_lambda_target_groups_deploy_replan_change_one_rule_and_remove_keeping_the_listener",
    );
    let first = service("placeholder", "/other", 2);
    let driver = Driver::connect(&first.service);
    let config = direct_config(&driver.runtime, &moto);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let lambda = aws_sdk_lambda::Client::new(&config);
    let listener = user_listener(&driver, &moto, &elb);
    let first = service(&listener, "/other", 2);
    deploy(&driver, &first);

    // A target group of type lambda per function, each with its function registered.
    let groups = target_groups(&driver, &elb);
    assert_eq!(groups.len(), 2, "{groups:?}");
    for group in &groups {
        assert_eq!(
            group.target_type().map(|t| t.as_str()),
            Some("lambda"),
            "{group:?}"
        );
        let arn = group.target_group_arn().expect("an ARN");
        let health = block(
            &driver,
            elb.describe_target_health().target_group_arn(arn).send(),
        )
        .expect("its targets");
        let targets: Vec<&str> = health
            .target_health_descriptions()
            .iter()
            .filter_map(|t| t.target()?.id())
            .collect();
        assert_eq!(targets.len(), 1, "{targets:?}");
        assert!(targets[0].contains(":function:web-dev-"), "{targets:?}");
    }
    let group_of = |function: &str| -> String {
        groups
            .iter()
            .find(|group| {
                let arn = group.target_group_arn().unwrap_or_default();
                block(
                    &driver,
                    elb.describe_target_health().target_group_arn(arn).send(),
                )
                .map(|h| {
                    h.target_health_descriptions().iter().any(|t| {
                        t.target()
                            .and_then(|t| t.id())
                            .is_some_and(|id| id.ends_with(&format!(":function:{function}")))
                    })
                })
                .unwrap_or(false)
            })
            .and_then(|g| g.target_group_arn())
            .expect("the function's target group")
            .to_string()
    };
    let hello_group = group_of("web-dev-hello");
    let other_group = group_of("web-dev-other");
    let attributes = block(
        &driver,
        elb.describe_target_group_attributes()
            .target_group_arn(&hello_group)
            .send(),
    )
    .expect("the group's attributes");
    assert!(attributes.attributes().iter().any(|a| {
        a.key() == Some("lambda.multi_value_headers.enabled") && a.value() == Some("true")
    }));

    // A rule per event, with its priority and conditions, forwarding to its function's group.
    let found = rules(&driver, &elb, &listener);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].priority(), Some("1"));
    assert_eq!(
        forwards_to(&found[0]).as_deref(),
        Some(hello_group.as_str())
    );
    let hello_fields: Vec<&str> = found[0]
        .conditions()
        .iter()
        .filter_map(|c| c.field())
        .collect();
    assert_eq!(
        hello_fields,
        ["path-pattern", "http-request-method", "http-header"]
    );
    let method = found[0]
        .conditions()
        .iter()
        .find_map(|c| c.http_request_method_config())
        .expect("the method condition");
    assert_eq!(method.values(), ["GET", "POST"]);
    assert_eq!(found[1].priority(), Some("2"));
    assert_eq!(
        forwards_to(&found[1]).as_deref(),
        Some(other_group.as_str())
    );

    // The load balancer may invoke each function, from its group.
    for (function, group) in [
        ("web-dev-hello", &hello_group),
        ("web-dev-other", &other_group),
    ] {
        let granted = statements(&driver, &lambda, function);
        assert!(
            granted.iter().any(|s| {
                principal(s) == "elasticloadbalancing.amazonaws.com"
                    && s["Condition"]["ArnLike"]["AWS:SourceArn"] == json!(group)
            }),
            "{function}: {granted:#?}"
        );
    }

    // Nothing changes on a second plan.
    let (again, _) = driver.plan_against(&driver.desired(&first));
    assert!(
        !again.has_changes(),
        "a second plan changes {:#?}",
        changes(&again)
    );

    // A changed condition is an update of that rule alone.
    let changed = service(&listener, "/elsewhere", 2);
    let (plan, _) = driver.plan_against(&driver.desired(&changed));
    assert_eq!(
        changes(&plan),
        [format!(
            "update {} web-dev-other/alb-1",
            kind::LISTENER_RULE
        )]
    );
    deploy(&driver, &changed);
    let after = rules(&driver, &elb, &listener);
    let path = after[1]
        .conditions()
        .iter()
        .find_map(|c| c.path_pattern_config())
        .expect("the path condition");
    assert_eq!(path.values(), ["/elsewhere"]);
    assert_eq!(after[1].rule_arn(), found[1].rule_arn(), "changed in place");
    let (settled, _) = driver.plan_against(&driver.desired(&changed));
    assert!(!settled.has_changes(), "{:#?}", changes(&settled));

    // So is a changed priority.
    let moved = service(&listener, "/elsewhere", 5);
    let (plan, _) = driver.plan_against(&driver.desired(&moved));
    assert_eq!(
        changes(&plan),
        [format!(
            "update {} web-dev-other/alb-1",
            kind::LISTENER_RULE
        )]
    );
    deploy(&driver, &moved);
    let after = rules(&driver, &elb, &listener);
    assert_eq!(after[1].priority(), Some("5"));
    assert_eq!(after[1].rule_arn(), found[1].rule_arn(), "moved in place");
    let (settled, _) = driver.plan_against(&driver.desired(&moved));
    assert!(!settled.has_changes(), "{:#?}", changes(&settled));

    // Remove: no group or rule of the service is left; the listener and its default stay.
    let (plan, live) = driver.plan_against(&DesiredState::default());
    assert!(plan
        .steps
        .iter()
        .all(|s| matches!(s.action, Action::Delete | Action::NoOp)));
    let outcome = driver.apply(&plan, &live);
    assert!(outcome.succeeded(), "remove succeeds: {:?}", outcome.failed);
    assert!(target_groups(&driver, &elb).is_empty());
    assert!(rules(&driver, &elb, &listener).is_empty());
    let listeners = block(
        &driver,
        elb.describe_listeners().listener_arns(&listener).send(),
    )
    .expect("the listener is still there");
    assert_eq!(listeners.listeners().len(), 1);
    for function in ["web-dev-hello", "web-dev-other"] {
        assert!(
            statements(&driver, &lambda, function)
                .iter()
                .all(|s| principal(s) != "elasticloadbalancing.amazonaws.com"),
            "{function} keeps no ELB permission"
        );
    }
    let left = driver.live();
    assert!(
        left.resources.is_empty(),
        "remove leaves nothing: {:?}",
        left.resources
            .iter()
            .map(|r| r.id.to_string())
            .collect::<Vec<_>>()
    );
}

/// The service `stacked`, whose `resources:` hold a listener on `balancer` that its one `alb`
/// event names by `Ref`; `health` is the event's health check settings (YAML), if any.
fn stacked_service(balancer: &str, health: &str) -> Fixture {
    let manifest = format!(
        "service: stacked\n\
         provider:\n  name: aws\n  runtime: nodejs20.x\n  region: us-east-1\n  memorySize: 128\n\
         functions:\n\
         \x20 hello:\n    handler: handler.handle\n    events:\n\
         \x20     - alb:\n          listenerArn:\n            Ref: HttpListener\n\
         \x20         priority: 1\n          conditions:\n            path: /hello\n\
         {health}\
         resources:\n  Resources:\n    HttpListener:\n\
         \x20     Type: AWS::ElasticLoadBalancingV2::Listener\n      Properties:\n\
         \x20       LoadBalancerArn: {balancer}\n        Port: 8080\n        Protocol: HTTP\n\
         \x20       DefaultActions:\n          - Type: fixed-response\n\
         \x20           FixedResponseConfig:\n              StatusCode: '404'\n"
    );
    fixture(&manifest, &[("handler.js", HANDLER)])
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_rule_on_a_listener_of_the_services_resources_follows_its_ref_and_a_health_check_updates_the_group(
) {
    let moto = moto::moto(
        "a_rule_on_a_listener_of_the_services_resources_follows_its_ref_and_a_health_check_updates_the_group",
    );
    let placeholder = stacked_service("placeholder", "");
    let driver = Driver::connect(&placeholder.service);
    let config = direct_config(&driver.runtime, &moto);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let balancer = user_balancer(&driver, &moto, &elb);
    let service = stacked_service(&balancer, "");
    deploy(&driver, &service);

    let listeners = block(
        &driver,
        elb.describe_listeners().load_balancer_arn(&balancer).send(),
    )
    .expect("the stack's listener");
    let listener = listeners
        .listeners()
        .iter()
        .find(|l| l.port() == Some(8080))
        .and_then(|l| l.listener_arn())
        .expect("the listener on 8080")
        .to_string();
    let found = rules(&driver, &elb, &listener);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].priority(), Some("1"));
    let groups = target_groups(&driver, &elb);
    assert_eq!(groups.len(), 1);
    assert_eq!(
        forwards_to(&found[0]).as_deref(),
        groups[0].target_group_arn()
    );

    let (again, _) = driver.plan_against(&driver.desired(&service));
    assert!(
        !again.has_changes(),
        "a second plan changes {:#?}",
        changes(&again)
    );

    // A health check turned on changes the target group alone, in place.
    let checked = stacked_service(
        &balancer,
        "          healthCheck:\n            path: /health\n            intervalSeconds: 60\n",
    );
    let (plan, _) = driver.plan_against(&driver.desired(&checked));
    let group_name = groups[0].target_group_name().expect("a name");
    assert_eq!(
        changes(&plan),
        [format!("update {} {group_name}", kind::TARGET_GROUP)]
    );
    deploy(&driver, &checked);
    let group = &target_groups(&driver, &elb)[0];
    assert_eq!(group.target_group_arn(), groups[0].target_group_arn());
    assert_eq!(group.health_check_enabled(), Some(true));
    assert_eq!(group.health_check_path(), Some("/health"));
    assert_eq!(group.health_check_interval_seconds(), Some(60));
    let (settled, _) = driver.plan_against(&driver.desired(&checked));
    assert!(!settled.has_changes(), "{:#?}", changes(&settled));

    let (plan, live) = driver.plan_against(&DesiredState::default());
    let outcome = driver.apply(&plan, &live);
    assert!(outcome.succeeded(), "remove succeeds: {:?}", outcome.failed);
    assert!(target_groups(&driver, &elb).is_empty());
}
