//! The desired state built from manifests, without any call: names, references made of
//! CloudFormation intrinsics, and what is refused before anything changes.

use serde_json::{json, Value as Json};

use super::context::Context;
use super::desired_state;
use super::naming::kind;
use crate::manifest::model::Service;
use crate::manifest::{Node, Span};
use crate::package::Artifact;
use crate::plan::{DesiredState, Reference, ResourceId};
use crate::provider::ProviderError;

fn service(manifest: Json) -> Service {
    Service::from_tree(&Node::from_json(&manifest, Span::default())).expect("a service")
}

fn artifact(functions: &[&str]) -> Artifact {
    Artifact {
        path: "/nowhere/svc.zip".into(),
        name: "svc.zip".into(),
        functions: functions.iter().map(|f| f.to_string()).collect(),
        layer: None,
        sha256: "ab".repeat(32),
        bytes: 10,
        unzipped_bytes: None,
        files: Vec::new(),
        prebuilt: false,
        rewritten: true,
        secrets_left_out: Vec::new(),
        milliseconds: 0,
    }
}

pub(super) fn build(manifest: Json) -> Result<DesiredState, ProviderError> {
    let service = service(manifest);
    let keys: Vec<&str> = service.functions.keys().map(String::as_str).collect();
    let artifacts = vec![artifact(&keys)];
    let context = Context::new(&service, &artifacts, "123456789012", "aws", "deploys");
    desired_state(&context)
}

pub(super) fn base(extra: Json) -> Json {
    let mut manifest = json!({
        "service": "svc",
        "provider": {"name": "aws", "runtime": "nodejs20.x"},
        "functions": {"api": {"handler": "handler.api"}},
    });
    if let (Some(target), Some(extra)) = (manifest.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            target.insert(key.clone(), value.clone());
        }
    }
    manifest
}

pub(super) fn queue_resources() -> Json {
    json!({"Resources": {"Jobs": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "svc-dev-jobs", "VisibilityTimeout": 60}}}})
}

#[test]
fn a_queue_ref_becomes_a_reference_to_its_url_and_the_function_depends_on_it() {
    let state = build(base(json!({
        "provider": {"name": "aws", "runtime": "nodejs20.x", "environment": {"JOBS": {"Ref": "Jobs"}}},
        "resources": queue_resources(),
    })))
    .expect("builds");
    let queue = ResourceId::new(kind::QUEUE, "svc-dev-jobs");
    let function = state
        .get(&ResourceId::new(kind::FUNCTION, "svc-dev-api"))
        .expect("the function is desired");
    assert_eq!(
        function.properties["environment"]["JOBS"],
        Reference::new(queue.clone(), "url").to_json()
    );
    assert!(function.depends_on.contains(&queue));
    assert_eq!(
        state.get(&queue).expect("the queue is desired").properties["visibility_timeout"],
        json!("60")
    );
}

#[test]
fn joins_and_substitutions_of_known_values_become_text() {
    let state = build(base(json!({
        "provider": {"name": "aws", "runtime": "nodejs20.x", "environment": {
            "JOINED": {"Fn::Join": [":", ["arn", {"Ref": "AWS::Partition"}, {"Ref": "AWS::Region"}]]},
            "SUBBED": {"Fn::Sub": "${AWS::AccountId}/${Jobs.Arn}"},
        }},
        "resources": queue_resources(),
    })))
    .expect("builds");
    let function = state
        .get(&ResourceId::new(kind::FUNCTION, "svc-dev-api"))
        .expect("the function is desired");
    assert_eq!(
        function.properties["environment"]["JOINED"],
        json!("arn:aws:us-east-1")
    );
    assert_eq!(
        function.properties["environment"]["SUBBED"],
        json!("123456789012/arn:aws:sqs:us-east-1:123456789012:svc-dev-jobs")
    );
}

#[test]
fn a_queue_url_inside_a_join_is_refused_because_it_is_only_known_after_apply() {
    let error = build(base(json!({
        "provider": {"name": "aws", "runtime": "nodejs20.x", "environment": {
            "URL": {"Fn::Join": ["", [{"Ref": "Jobs"}, "/x"]]},
        }},
        "resources": queue_resources(),
    })))
    .expect_err("refused");
    assert!(
        matches!(error, ProviderError::Unsupported { .. }),
        "{error:?}"
    );
}

fn stack_id() -> ResourceId {
    ResourceId::new(super::stack_template::STACK, "svc-dev")
}

#[test]
fn other_resource_types_go_into_the_stack_and_functions_read_them_from_its_outputs() {
    let state = build(base(json!({
        "provider": {"name": "aws", "runtime": "nodejs20.x", "environment": {
            "TABLE": {"Ref": "Table"},
            "STREAM": {"Fn::GetAtt": ["Table", "StreamArn"]},
            "SHARED": {"Fn::ImportValue": "shared-api-id"},
        }},
        "resources": {
            "Resources": {
                "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST"}},
                "Invoke": {"Type": "AWS::Lambda::Permission", "DependsOn": "ApiLambdaFunction", "Properties": {
                    "FunctionName": {"Fn::GetAtt": ["ApiLambdaFunction", "Arn"]},
                    "Action": "lambda:InvokeFunction",
                    "Principal": "ses.amazonaws.com",
                    "SourceAccount": {"Ref": "AWS::AccountId"},
                }},
            },
            "Outputs": {"TableName": {"Value": {"Ref": "Table"}}},
        },
    })))
    .expect("builds");
    let function_id = ResourceId::new(kind::FUNCTION, "svc-dev-api");
    let function = state.get(&function_id).expect("the function is desired");
    let environment = &function.properties["environment"];
    assert_eq!(
        environment["TABLE"],
        Reference::new(stack_id(), "UpdraftRefTable").to_json()
    );
    assert_eq!(
        environment["STREAM"],
        Reference::new(stack_id(), "UpdraftAttTableStreamArn").to_json()
    );
    assert!(Reference::from_json(&environment["SHARED"])
        .is_some_and(|r| r.attribute.starts_with("UpdraftValue")));
    assert!(function.depends_on.contains(&stack_id()));

    let stack = state.get(&stack_id()).expect("the stack is desired");
    let properties = &stack.properties;
    assert_eq!(
        properties["Resources.Table.Properties.BillingMode"],
        json!("PAY_PER_REQUEST")
    );
    assert_eq!(
        properties["Outputs.TableName"],
        json!({"Value": {"Ref": "Table"}})
    );
    assert_eq!(
        properties["Outputs.UpdraftRefTable"],
        json!({"Value": {"Ref": "Table"}})
    );
    // A function the stack refers to: its ARN, known before it exists; pseudo parameters stay
    // for CloudFormation; `DependsOn` a function orders the stack after it instead.
    assert_eq!(
        properties["Resources.Invoke.Properties.FunctionName"],
        Reference::new(function_id.clone(), "arn").to_json()
    );
    assert_eq!(
        properties["Resources.Invoke.Properties.SourceAccount"],
        json!({"Ref": "AWS::AccountId"})
    );
    assert!(!properties.contains_key("Resources.Invoke.DependsOn"));
    assert!(stack.depends_on.contains(&function_id));
    assert_eq!(properties["tags"]["updraft:stack"], json!("svc/dev"));
    assert_eq!(properties["status"], json!("ready"));
}

#[test]
fn a_runtime_lambda_no_longer_accepts_is_refused_naming_the_replacement() {
    let error = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "runtime": "nodejs12.x"}},
    })))
    .expect_err("refused");
    let ProviderError::Invalid { message, help, .. } = error else {
        panic!("an invalid value: {error:?}");
    };
    assert!(message.contains("nodejs12.x"), "{message}");
    assert_eq!(help, "set `runtime: nodejs22.x`");
}

#[test]
fn a_placeholder_bucket_name_is_refused_before_it_reaches_s3() {
    let error = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "events": [
            {"s3": {"bucket": "<your-bucket-name>", "event": "s3:ObjectCreated:*"}}
        ]}},
    })))
    .expect_err("refused");
    assert!(
        error.to_string().contains("not a valid S3 bucket name"),
        "{error}"
    );
}

#[test]
fn a_placeholder_stream_name_is_refused() {
    let error = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "events": [
            {"stream": {"arn": "arn:aws:kinesis:us-east-1:123456789012:stream/<streamname>"}}
        ]}},
    })))
    .expect_err("refused");
    assert!(error.to_string().contains("<streamname>"), "{error}");
}

#[test]
fn a_service_without_resources_has_no_stack() {
    let state = build(base(json!({}))).expect("builds");
    assert!(state.get(&stack_id()).is_none());
}

#[test]
fn a_framework_extension_of_generated_resources_is_refused_naming_it() {
    let error = build(base(json!({
        "resources": {"extensions": {"ApiLambdaFunction": {"Properties": {}}}},
    })))
    .expect_err("refused");
    assert!(
        error.to_string().contains("resources.extensions"),
        "{error}"
    );
}

#[test]
fn an_unsupported_function_setting_is_refused_before_any_change() {
    let error = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "snapStart": true}},
    })))
    .expect_err("refused");
    assert!(error.to_string().contains("snapStart"), "{error}");
}

#[test]
fn a_given_role_arn_is_used_as_is_and_no_role_is_made() {
    let state = build(base(json!({
        "provider": {"name": "aws", "runtime": "nodejs20.x", "iam": {"role": "arn:aws:iam::123456789012:role/theirs"}},
    })))
    .expect("builds");
    assert!(!state.resources.iter().any(|r| r.id.kind == kind::ROLE));
    let function = state
        .get(&ResourceId::new(kind::FUNCTION, "svc-dev-api"))
        .expect("the function is desired");
    assert_eq!(
        function.properties["role"],
        json!("arn:aws:iam::123456789012:role/theirs")
    );
}

#[test]
fn the_generated_role_lets_functions_log_and_adds_the_manifest_statements() {
    let state = build(base(json!({
        "provider": {"name": "aws", "runtime": "nodejs20.x", "iam": {"role": {"statements": [
            {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": {"Fn::GetAtt": ["Jobs", "Arn"]}}
        ]}}},
        "resources": queue_resources(),
    })))
    .expect("builds");
    let role = state
        .get(&ResourceId::new(kind::ROLE, "svc-dev-us-east-1-lambdaRole"))
        .expect("the role is desired");
    let statements = role.properties["policy"]["Statement"]
        .as_array()
        .expect("statements");
    assert_eq!(statements.len(), 3);
    assert_eq!(statements[0]["Action"][0], json!("logs:CreateLogStream"));
    let queue = ResourceId::new(kind::QUEUE, "svc-dev-jobs");
    assert_eq!(
        statements[2]["Resource"],
        Reference::new(queue.clone(), "arn").to_json()
    );
    assert!(role.depends_on.contains(&queue));
}

#[test]
fn a_function_key_the_framework_does_not_know_is_ignored_as_the_framework_ignores_it() {
    // `cors` is no function setting: reading the manifest warns about it, and the Framework
    // deploys the function without it.
    let state = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "cors": true}},
    })))
    .expect("builds");
    assert!(state
        .get(&ResourceId::new(kind::FUNCTION, "svc-dev-api"))
        .is_some());
}

#[test]
fn a_bucket_policy_names_the_bucket_an_s3_event_creates_by_its_framework_logical_id() {
    let mut manifest = base(json!({
        "resources": {"Resources": {"Policy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "S3BucketMailinbox"},
                "PolicyDocument": {"Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "ses.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["S3BucketMailinbox", "Arn"]}, "/*"]]},
                }]},
            },
        }}},
    }));
    manifest["functions"]["api"]["events"] = json!([{"s3": "mail-inbox"}]);
    let state = build(manifest).expect("builds");
    let bucket = ResourceId::new(super::triggers::s3::BUCKET, "mail-inbox");
    let stack = state.get(&stack_id()).expect("the stack is desired");
    assert_eq!(
        stack.properties["Resources.Policy.Properties.Bucket"],
        Reference::new(bucket.clone(), "name").to_json()
    );
    assert_eq!(
        stack.properties["Resources.Policy.Properties.PolicyDocument"]["Statement"][0]["Resource"],
        json!({"Fn::Join": ["", [Reference::new(bucket.clone(), "arn").to_json(), "/*"]]})
    );
    assert!(stack.depends_on.contains(&bucket));
}

#[test]
fn provider_alb_is_deployed_only_as_a_target_group_prefix() {
    let with = |alb: Json| {
        let mut manifest = base(json!({}));
        manifest["provider"]["alb"] = alb;
        build(manifest)
    };
    assert!(with(json!({"targetGroupPrefix": "web-"})).is_ok());
    match with(json!({"targetGroupPrefix": "web-", "authorizers": {"cognito": {}}})) {
        Err(ProviderError::Unsupported { what, .. }) => {
            assert!(what.contains("provider.alb"), "{what}")
        }
        other => panic!("expected provider.alb refused, got {other:?}"),
    }
}
