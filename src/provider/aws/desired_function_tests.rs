//! The desired state of functions' settings beyond code and sizes (ephemeral storage, tracing,
//! KMS key, VPC, file system), with their `provider:` defaults, what the execution role gains
//! for them, and what is refused before any call.

use serde_json::{json, Value as Json};

use super::desired_tests::{base, build};
use super::naming::kind;
use crate::plan::{DesiredState, Properties, ResourceId};
use crate::provider::ProviderError;

fn function(state: &DesiredState, name: &str) -> Properties {
    state
        .get(&ResourceId::new(kind::FUNCTION, name))
        .expect("the function is desired")
        .properties
        .clone()
}

fn role(state: &DesiredState) -> (Vec<Json>, Vec<Json>) {
    let role = state
        .get(&ResourceId::new(kind::ROLE, "svc-dev-us-east-1-lambdaRole"))
        .expect("the role is desired");
    (
        role.properties["policy"]["Statement"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
        role.properties["managed_policies"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    )
}

fn invalid_message(error: ProviderError) -> String {
    match error {
        ProviderError::Invalid { message, help, .. } => format!("{message} / {help}"),
        other => panic!("an invalid value: {other:?}"),
    }
}

#[test]
fn a_function_without_these_settings_asks_for_what_lambda_reports_by_default() {
    let state = build(base(json!({}))).expect("builds");
    let api = function(&state, "svc-dev-api");
    assert_eq!(api["ephemeral_storage"], json!(512));
    assert_eq!(api["tracing"], json!("PassThrough"));
    assert_eq!(api["kms_key_arn"], Json::Null);
    assert_eq!(api["vpc"], Json::Null);
    assert_eq!(api["file_system"], Json::Null);
    let (statements, managed) = role(&state);
    assert_eq!(statements.len(), 2, "only the logging statements");
    assert!(managed.is_empty());
}

#[test]
fn settings_follow_the_provider_defaults_and_a_function_overrides_them() {
    let state = build(base(json!({
        "provider": {
            "name": "aws", "runtime": "nodejs20.x",
            "tracing": {"lambda": true},
            "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/provider",
            "vpc": {"securityGroupIds": ["sg-2", "sg-1"], "subnetIds": ["subnet-1"]},
        },
        "functions": {
            "api": {"handler": "handler.api"},
            "own": {
                "handler": "handler.own",
                "ephemeralStorageSize": 2048,
                "tracing": "PassThrough",
                "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/own",
                "vpc": {"subnetIds": ["subnet-9"]},
            },
            "outside": {"handler": "handler.outside", "vpc": null},
        },
    })))
    .expect("builds");
    let api = function(&state, "svc-dev-api");
    assert_eq!(api["tracing"], json!("Active"));
    assert_eq!(
        api["kms_key_arn"],
        json!("arn:aws:kms:us-east-1:123456789012:key/provider")
    );
    // Sorted, as Lambda reports them.
    assert_eq!(
        api["vpc"],
        json!({"security_group_ids": ["sg-1", "sg-2"], "subnet_ids": ["subnet-1"]})
    );
    let own = function(&state, "svc-dev-own");
    assert_eq!(own["ephemeral_storage"], json!(2048));
    assert_eq!(own["tracing"], json!("PassThrough"));
    assert_eq!(
        own["kms_key_arn"],
        json!("arn:aws:kms:us-east-1:123456789012:key/own")
    );
    // Each list falls back to the provider's on its own.
    assert_eq!(
        own["vpc"],
        json!({"security_group_ids": ["sg-1", "sg-2"], "subnet_ids": ["subnet-9"]})
    );
    assert_eq!(function(&state, "svc-dev-outside")["vpc"], Json::Null);

    let (statements, managed) = role(&state);
    let actions: Vec<&Json> = statements.iter().map(|s| &s["Action"]).collect();
    assert!(actions.contains(&&json!([
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords"
    ])));
    let decrypt: Vec<&Json> = statements
        .iter()
        .filter(|s| s["Action"] == json!(["kms:Decrypt"]))
        .map(|s| &s["Resource"][0])
        .collect();
    assert_eq!(decrypt.len(), 2, "one statement per key: {decrypt:?}");
    assert_eq!(
        managed,
        [json!(
            "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
        )]
    );
}

#[test]
fn tracing_takes_booleans_and_modes_and_refuses_anything_else() {
    for (written, mode) in [
        (json!(true), "Active"),
        (json!(false), "PassThrough"),
        (json!("Active"), "Active"),
        (json!("PassThrough"), "PassThrough"),
    ] {
        let state = build(base(json!({
            "functions": {"api": {"handler": "handler.api", "tracing": written}},
        })))
        .expect("builds");
        assert_eq!(function(&state, "svc-dev-api")["tracing"], json!(mode));
    }
    let error = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "tracing": "Sometimes"}},
    })))
    .expect_err("refused");
    assert!(invalid_message(error).contains("functions.api.tracing"));
}

#[test]
fn ephemeral_storage_outside_what_lambda_accepts_is_refused_at_plan_time() {
    for size in [json!(256), json!(10241), json!("lots")] {
        let error = build(base(json!({
            "functions": {"api": {"handler": "handler.api", "ephemeralStorageSize": size}},
        })))
        .expect_err("refused");
        let message = invalid_message(error);
        assert!(
            message.contains("functions.api.ephemeralStorageSize")
                && message.contains("512 to 10240"),
            "{message}"
        );
    }
    let state = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "ephemeralStorageSize": "10240"}},
    })))
    .expect("the largest size builds");
    assert_eq!(
        function(&state, "svc-dev-api")["ephemeral_storage"],
        json!(10240)
    );
}

#[test]
fn a_vpc_with_one_list_only_is_refused_naming_the_function() {
    let error = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "vpc": {"subnetIds": ["subnet-1"]}}},
    })))
    .expect_err("refused");
    let message = invalid_message(error);
    assert!(
        message.contains("`api`") && message.contains("securityGroupIds"),
        "{message}"
    );
}

#[test]
fn a_file_system_mounts_with_the_role_allowed_to_use_it() {
    let arn = "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1";
    let state = build(base(json!({
        "functions": {"api": {
            "handler": "handler.api",
            "vpc": {"securityGroupIds": ["sg-1"], "subnetIds": ["subnet-1"]},
            "fileSystemConfig": {"arn": arn, "localMountPath": "/mnt/data"},
        }},
    })))
    .expect("builds");
    assert_eq!(
        function(&state, "svc-dev-api")["file_system"],
        json!({"arn": arn, "local_mount_path": "/mnt/data"})
    );
    let (statements, _) = role(&state);
    assert!(statements.contains(&json!({
        "Effect": "Allow",
        "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        "Resource": [arn],
    })));
}

#[test]
fn a_file_system_without_a_vpc_is_refused_as_lambda_would() {
    let error = build(base(json!({
        "functions": {"api": {
            "handler": "handler.api",
            "fileSystemConfig": {"arn": "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1", "localMountPath": "/mnt/data"},
        }},
    })))
    .expect_err("refused");
    let message = invalid_message(error);
    assert!(
        message.contains("functions.api.fileSystemConfig") && message.contains("vpc"),
        "{message}"
    );

    let error = build(base(json!({
        "functions": {"api": {
            "handler": "handler.api",
            "vpc": {"securityGroupIds": ["sg-1"], "subnetIds": ["subnet-1"]},
            "fileSystemConfig": {"arn": "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1", "localMountPath": "/data"},
        }},
    })))
    .expect_err("a mount outside /mnt/ is refused");
    assert!(invalid_message(error).contains("localMountPath"));
}

#[test]
fn api_gateway_tracing_is_refused_naming_the_setting() {
    let error = build(base(json!({
        "provider": {"name": "aws", "runtime": "nodejs20.x", "tracing": {"apiGateway": true, "lambda": true}},
    })))
    .expect_err("refused");
    assert!(
        matches!(error, ProviderError::Unsupported { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("provider.tracing.apiGateway"),
        "{error}"
    );
}

#[test]
fn depends_on_a_stack_resource_orders_the_function_after_the_stack() {
    let state = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "dependsOn": ["Table"]}},
        "resources": {"Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST"}},
        }},
    })))
    .expect("builds");
    let api = state
        .get(&ResourceId::new(kind::FUNCTION, "svc-dev-api"))
        .expect("the function is desired");
    let stack = ResourceId::new(super::stack_template::STACK, "svc-dev");
    assert!(api.depends_on.contains(&stack), "{:?}", api.depends_on);

    // Without `dependsOn`, nothing in the function refers to the stack.
    let state = build(base(json!({
        "resources": {"Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST"}},
        }},
    })))
    .expect("builds");
    let api = state
        .get(&ResourceId::new(kind::FUNCTION, "svc-dev-api"))
        .expect("the function is desired");
    assert!(!api.depends_on.contains(&stack));
}

#[test]
fn depends_on_a_name_the_service_does_not_define_is_refused() {
    let error = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "dependsOn": "Missing"}},
    })))
    .expect_err("refused");
    let message = invalid_message(error);
    assert!(
        message.contains("functions.api.dependsOn") && message.contains("`Missing`"),
        "{message}"
    );
}

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:0123";

#[test]
fn an_image_function_runs_its_image_with_no_handler_runtime_or_artifact() {
    let state = build(base(json!({
        "functions": {
            "api": {"handler": "handler.api"},
            "plain": {"image": IMAGE},
            "tuned": {"image": {"uri": IMAGE, "command": ["app.handler"], "entryPoint": ["/lambda-entrypoint.sh"], "workingDirectory": "/var/task"}},
        },
    })))
    .expect("builds");
    let plain_id = ResourceId::new(kind::FUNCTION, "svc-dev-plain");
    let plain = state.get(&plain_id).expect("the function is desired");
    assert_eq!(plain.properties["package_type"], json!("Image"));
    assert_eq!(plain.properties["image_uri"], json!(IMAGE));
    assert_eq!(plain.properties["handler"], Json::Null);
    assert_eq!(plain.properties["runtime"], Json::Null);
    assert_eq!(plain.properties["code_sha256"], Json::Null);
    assert_eq!(plain.properties["image"], Json::Null);
    assert!(!plain.depends_on.iter().any(|id| id.kind == kind::ARTIFACT));
    assert!(plain.replace_when.contains("package_type"));
    assert_eq!(
        function(&state, "svc-dev-tuned")["image"],
        json!({"command": ["app.handler"], "entry_point": ["/lambda-entrypoint.sh"], "working_directory": "/var/task"})
    );
    assert_eq!(
        function(&state, "svc-dev-api")["package_type"],
        json!("Zip")
    );
}

#[test]
fn an_image_to_build_is_refused_saying_to_push_it_and_give_its_uri() {
    for image in [json!("appimage"), json!({"name": "appimage"})] {
        let error = build(base(json!({
            "functions": {"api": {"image": image}},
        })))
        .expect_err("refused");
        let ProviderError::Unsupported { what, help, .. } = error else {
            panic!("unsupported: {error:?}");
        };
        assert!(what.contains("functions.api.image"), "{what}");
        assert!(help.contains("push") && help.contains("URI"), "{help}");
    }
    let error = build(base(json!({
        "provider": {"name": "aws", "runtime": "nodejs20.x", "ecr": {"images": {"appimage": {"path": "./"}}}},
    })))
    .expect_err("refused");
    assert!(error.to_string().contains("provider.ecr.images"), "{error}");
}

#[test]
fn provisioned_concurrency_is_refused_naming_the_function_and_what_to_do() {
    let error = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "provisionedConcurrency": 2}},
    })))
    .expect_err("refused");
    let ProviderError::Unsupported { what, help, .. } = error else {
        panic!("unsupported: {error:?}");
    };
    assert!(
        what.contains("functions.api.provisionedConcurrency"),
        "{what}"
    );
    assert!(help.contains("reservedConcurrency"), "{help}");
}

#[test]
fn destinations_by_function_key_arn_reference_and_type_with_the_role_allowed_to_send() {
    let topic = "arn:aws:sns:us-east-1:123456789012:results";
    let state = build(base(json!({
        "functions": {
            "api": {"handler": "handler.api", "destinations": {
                "onSuccess": "worker",
                "onFailure": {"Fn::GetAtt": ["Jobs", "Arn"]},
            }},
            "worker": {"handler": "handler.worker", "destinations": {
                "onFailure": {"type": "sns", "arn": topic},
            }},
        },
        "resources": super::desired_tests::queue_resources(),
    })))
    .expect("builds");
    let config = |name: &str| {
        state
            .get(&ResourceId::new(kind::EVENT_INVOKE_CONFIG, name))
            .expect("the destinations are desired")
            .clone()
    };
    let api = config("svc-dev-api");
    let queue = ResourceId::new(kind::QUEUE, "svc-dev-jobs");
    assert_eq!(
        api.properties["on_success"],
        json!("arn:aws:lambda:us-east-1:123456789012:function:svc-dev-worker")
    );
    assert_eq!(
        api.properties["on_failure"],
        crate::plan::Reference::new(queue.clone(), "arn").to_json()
    );
    for needed in [
        ResourceId::new(kind::FUNCTION, "svc-dev-api"),
        ResourceId::new(kind::FUNCTION, "svc-dev-worker"),
        queue.clone(),
        ResourceId::new(kind::ROLE, "svc-dev-us-east-1-lambdaRole"),
    ] {
        assert!(api.depends_on.contains(&needed), "{needed:?}");
    }
    let worker = config("svc-dev-worker");
    assert_eq!(worker.properties["on_success"], Json::Null);
    assert_eq!(worker.properties["on_failure"], json!(topic));

    let (statements, _) = role(&state);
    for (action, resource) in [
        (
            "lambda:InvokeFunction",
            json!("arn:aws:lambda:us-east-1:123456789012:function:svc-dev-worker"),
        ),
        (
            "sqs:SendMessage",
            crate::plan::Reference::new(queue, "arn").to_json(),
        ),
        ("sns:Publish", json!(topic)),
    ] {
        assert!(
            statements
                .contains(&json!({"Effect": "Allow", "Action": [action], "Resource": [resource]})),
            "{action}: {statements:?}"
        );
    }
    assert!(state
        .get(&ResourceId::new(kind::EVENT_INVOKE_CONFIG, "svc-dev-none"))
        .is_none());
}

#[test]
fn a_destination_that_is_neither_a_function_nor_an_arn_is_refused() {
    let error = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "destinations": {"onSuccess": "nowhere"}}},
    })))
    .expect_err("refused");
    let message = invalid_message(error);
    assert!(
        message.contains("functions.api.destinations.onSuccess") && message.contains("`nowhere`"),
        "{message}"
    );
}

#[test]
fn retry_attempts_and_event_age_alone_make_an_event_invoke_configuration() {
    let state = build(base(json!({
        "functions": {
            "api": {"handler": "handler.api", "maximumRetryAttempts": 0, "maximumEventAge": 120},
            "plain": {"handler": "handler.plain"},
        },
    })))
    .expect("builds");
    let config = state
        .get(&ResourceId::new(kind::EVENT_INVOKE_CONFIG, "svc-dev-api"))
        .expect("the configuration is desired");
    assert_eq!(config.properties["maximum_retry_attempts"], json!(0));
    assert_eq!(
        config.properties["maximum_event_age_in_seconds"],
        json!(120)
    );
    assert_eq!(config.properties["on_success"], Json::Null);
    assert!(state
        .get(&ResourceId::new(kind::EVENT_INVOKE_CONFIG, "svc-dev-plain"))
        .is_none());
}

#[test]
fn retry_attempts_over_lambdas_limit_are_refused_naming_the_limit() {
    let error = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "maximumRetryAttempts": 5}},
    })))
    .expect_err("refused");
    let message = invalid_message(error);
    assert!(
        message.contains("functions.api.maximumRetryAttempts") && message.contains("0 to 2"),
        "{message}"
    );
}

#[test]
fn on_error_is_the_dead_letter_target_and_the_role_may_send_there() {
    let topic = "arn:aws:sns:us-east-1:123456789012:failed";
    let state = build(base(json!({
        "functions": {
            "api": {"handler": "handler.api", "onError": topic},
            "worker": {"handler": "handler.worker", "onError": {"Fn::GetAtt": ["Jobs", "Arn"]}},
        },
        "resources": super::desired_tests::queue_resources(),
    })))
    .expect("builds");
    assert_eq!(
        function(&state, "svc-dev-api")["dead_letter_target"],
        json!(topic)
    );
    let queue = ResourceId::new(kind::QUEUE, "svc-dev-jobs");
    assert_eq!(
        function(&state, "svc-dev-worker")["dead_letter_target"],
        crate::plan::Reference::new(queue.clone(), "arn").to_json()
    );
    let (statements, _) = role(&state);
    assert!(statements
        .contains(&json!({"Effect": "Allow", "Action": ["sns:Publish"], "Resource": [topic]})));
    assert!(statements.contains(&json!({"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [crate::plan::Reference::new(queue, "arn").to_json()]})));
}

#[test]
fn on_error_that_is_not_a_topic_or_queue_is_refused() {
    let error = build(base(json!({
        "functions": {"api": {"handler": "handler.api", "onError": "arn:aws:s3:::bucket"}},
    })))
    .expect_err("refused");
    let message = invalid_message(error);
    assert!(message.contains("functions.api.onError"), "{message}");
}
