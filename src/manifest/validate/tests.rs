//! What a user sees from validation, case by case (the reference cases of broken manifests
//! among them).

use serde_json::json;

use super::*;
use crate::manifest::source::{SourceFile, Span};

pub(super) fn run(json: serde_json::Value) -> Report {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new(
        "serverless.yml".into(),
        "serverless.yml".into(),
        json.to_string(),
    ));
    let root = Node::from_json(&json, Span::new(file, 0, 0));
    validate(&root, &sources)
}

fn manifest(function: serde_json::Value) -> serde_json::Value {
    json!({
        "service": "bad",
        "frameworkVersion": "3",
        "provider": { "name": "aws", "runtime": "nodejs20.x" },
        "functions": { "hello": function }
    })
}

pub(super) fn messages(findings: &[Finding]) -> Vec<String> {
    findings.iter().map(|f| f.message.clone()).collect()
}

pub(super) fn only_warning(report: &Report) -> Finding {
    assert!(
        report.errors.is_empty(),
        "errors: {:?}",
        messages(&report.errors)
    );
    assert_eq!(
        report.warnings.len(),
        1,
        "warnings: {:?}",
        messages(&report.warnings)
    );
    clone(&report.warnings[0])
}

pub(super) fn only_error(report: &Report) -> Finding {
    assert_eq!(
        report.errors.len(),
        1,
        "errors: {:?}",
        messages(&report.errors)
    );
    clone(&report.errors[0])
}

fn clone(finding: &Finding) -> Finding {
    Finding {
        message: finding.message.clone(),
        help: finding.help.clone(),
        source_code: finding.source_code.clone(),
        at: finding.at,
        label: finding.label.clone(),
        location: finding.location.clone(),
    }
}

#[test]
fn a_valid_manifest_has_no_findings() {
    let report = run(manifest(json!({
        "handler": "handler.hello",
        "memorySize": 512,
        "timeout": 30,
        "environment": { "TABLE": { "Ref": "Table" }, "STAGE": "dev" },
        "events": [
            { "http": { "path": "users/{id}", "method": "get", "cors": true } },
            { "httpApi": "GET /users" },
            { "httpApi": "*" },
            { "schedule": "rate(5 minutes)" },
            { "sqs": "arn:aws:sqs:us-east-1:123456789012:queue" },
            { "sns": "topic" },
            { "s3": "bucket" },
            { "stream": { "arn": { "Fn::GetAtt": ["Table", "StreamArn"] }, "type": "dynamodb" } },
            { "websocket": { "route": "$connect" } },
            "alexaSkill"
        ]
    })));
    assert!(report.errors.is_empty(), "{:?}", messages(&report.errors));
    assert!(
        report.warnings.is_empty(),
        "{:?}",
        messages(&report.warnings)
    );
}

#[test]
fn values_the_framework_coerces_are_accepted() {
    let report = run(manifest(json!({
        "handler": "handler.hello",
        "memorySize": "512",
        "timeout": 30.0,
        "package": { "patterns": "src/**" },
        "description": 42,
    })));
    assert!(
        report.warnings.is_empty(),
        "{:?}",
        messages(&report.warnings)
    );
}

#[test]
fn wrong_type_names_the_path_and_the_value() {
    let report = run(manifest(
        json!({ "handler": "handler.hello", "memorySize": "lots" }),
    ));
    let warning = only_warning(&report);
    assert_eq!(
        warning.message,
        "`functions.hello.memorySize` must be an integer, got the string `lots`"
    );
}

#[test]
fn unknown_function_key_suggests_the_known_one() {
    let report = run(manifest(
        json!({ "handler": "handler.hello", "memmorySize": 512 }),
    ));
    let warning = only_warning(&report);
    assert_eq!(
        warning.message,
        "unknown key `memmorySize` under `functions.hello`; did you mean `memorySize`?"
    );
}

#[test]
fn unknown_top_level_key_is_a_warning() {
    let mut json = manifest(json!({ "handler": "handler.hello" }));
    json["servicee"] = json!("typo");
    let warning = only_warning(&run(json));
    assert!(
        warning.message.contains("`servicee`"),
        "{}",
        warning.message
    );
    assert!(
        warning.message.contains("did you mean `service`"),
        "{}",
        warning.message
    );
}

#[test]
fn mode_error_turns_schema_warnings_into_errors_and_off_silences_them() {
    let mut json = manifest(json!({ "handler": "handler.hello", "memmorySize": 512 }));
    json["configValidationMode"] = json!("error");
    let error = only_error(&run(json.clone()));
    assert!(error.message.contains("memmorySize"));
    json["configValidationMode"] = json!("off");
    let report = run(json);
    assert!(report.errors.is_empty() && report.warnings.is_empty());
}

#[test]
fn missing_service_is_an_error() {
    let report = run(json!({ "provider": { "name": "aws" } }));
    assert!(only_error(&report).message.contains("missing `service`"));
}

#[test]
fn missing_null_or_nameless_provider_is_an_error() {
    for provider in [None, Some(json!(null)), Some(json!({}))] {
        let mut json = json!({ "service": "bad" });
        if let Some(provider) = provider {
            json["provider"] = provider;
        }
        let report = run(json);
        assert!(
            only_error(&report).message.contains("provider"),
            "{:?}",
            messages(&report.errors)
        );
    }
}

#[test]
fn unknown_provider_names_it_and_the_known_ones() {
    let report = run(json!({ "service": "bad", "provider": { "name": "azurex" } }));
    let error = only_error(&report);
    assert!(error.message.contains("`azurex`"), "{}", error.message);
    assert!(
        error.message.contains("aws, azure, google"),
        "{}",
        error.message
    );
    assert!(error
        .help
        .as_deref()
        .unwrap_or("")
        .contains("did you mean `azure`"));
}

#[test]
fn service_object_form_is_an_error_saying_v3_removed_it() {
    let report = run(json!({ "service": { "name": "bad" }, "provider": { "name": "aws" } }));
    let error = only_error(&report);
    assert!(
        error.message.contains("removed in Framework v3"),
        "{}",
        error.message
    );
    assert_eq!(
        error.help.as_deref(),
        Some("write `service: bad`; other keys of this map are not read")
    );
}

#[test]
fn functions_as_a_list_is_an_error() {
    let report = run(
        json!({ "service": "bad", "provider": { "name": "aws" }, "functions": ["hello", "world"] }),
    );
    assert!(only_error(&report)
        .message
        .contains("`functions` must be a map"));
}

#[test]
fn events_as_a_map_is_an_error() {
    let report = run(manifest(json!({
        "handler": "handler.hello",
        "events": { "http": { "path": "hello", "method": "get" } }
    })));
    assert!(only_error(&report)
        .message
        .contains("`functions.hello.events` must be a list"));
}

#[test]
fn framework_version_2_warns_and_fails_in_error_mode() {
    let mut json = manifest(json!({ "handler": "handler.hello" }));
    json["frameworkVersion"] = json!("2");
    let warning = only_warning(&run(json.clone()));
    assert!(
        warning.message.contains("updraft reads v3 manifests"),
        "{}",
        warning.message
    );
    json["configValidationMode"] = json!("error");
    assert_eq!(run(json).errors.len(), 1);
}

#[test]
fn handler_without_dot_is_an_error_for_node_but_not_for_go() {
    let error = only_error(&run(manifest(json!({ "handler": "handler" }))))
        .message
        .clone();
    assert_eq!(
        error,
        "handler `handler` of function `hello` must be `file.export`"
    );
    let mut go = manifest(json!({ "handler": "bin/hello" }));
    go["provider"]["runtime"] = json!("go1.x");
    let report = run(go);
    assert!(report.errors.is_empty(), "{:?}", messages(&report.errors));
}

#[test]
fn a_handler_outside_the_service_directory_is_an_error_naming_it() {
    for handler in [
        "../shared/handler.hello",
        "/etc/passwd.x",
        "src/../../h.hello",
    ] {
        let error = only_error(&run(manifest(json!({ "handler": handler }))))
            .message
            .clone();
        assert_eq!(
            error,
            format!("handler `{handler}` of function `hello` points outside the service directory")
        );
    }
    for handler in [
        "src/../handler.hello",
        "./handler.hello",
        "a/b/handler.hello",
    ] {
        let report = run(manifest(json!({ "handler": handler })));
        assert!(
            report.errors.is_empty(),
            "{handler}: {:?}",
            messages(&report.errors)
        );
    }
}

#[test]
fn function_without_handler_or_image_is_an_error() {
    let report = run(manifest(json!({ "memorySize": 128 })));
    assert!(only_error(&report)
        .message
        .contains("neither `handler` nor `image`"));
}

#[test]
fn unknown_event_type_is_a_warning() {
    let report = run(manifest(
        json!({ "handler": "h.f", "events": [{ "notAnEvent": {} }] }),
    ));
    let warning = only_warning(&report);
    assert_eq!(
        warning.message,
        "unknown event type `notAnEvent` in `functions.hello.events[0]`"
    );
}

#[test]
fn http_event_without_path_is_a_warning() {
    let report = run(manifest(
        json!({ "handler": "h.f", "events": [{ "http": "GET" }] }),
    ));
    let warning = only_warning(&report);
    assert!(
        warning.message.contains("has no path"),
        "{}",
        warning.message
    );
    assert!(warning.help.as_deref().unwrap_or("").contains("GET /hello"));
}

#[test]
fn bad_http_method_is_a_warning_listing_the_methods() {
    let report = run(manifest(json!({
        "handler": "h.f", "events": [{ "http": { "path": "hello", "method": "FETCH" } }]
    })));
    let warning = only_warning(&report);
    assert!(
        warning
            .message
            .contains("`functions.hello.events[0].http.method`"),
        "{}",
        warning.message
    );
    assert!(warning.help.as_deref().unwrap_or("").contains("`GET`"));
}

#[test]
fn memory_and_timeout_out_of_range_are_warnings() {
    for (key, value, expected) in [
        ("memorySize", 64, "below the minimum of 128"),
        ("memorySize", 20000, "above the maximum of 10240"),
        ("timeout", 0, "below the minimum of 1"),
        ("timeout", 901, "above the maximum of 900"),
    ] {
        let report = run(manifest(json!({ "handler": "h.f", key: value })));
        let warning = only_warning(&report);
        assert!(warning.message.contains(expected), "{}", warning.message);
    }
}

#[test]
fn unknown_runtime_warns_with_close_matches_and_current_runtimes_pass() {
    let mut json = manifest(json!({ "handler": "h.f" }));
    json["provider"]["runtime"] = json!("nodejs99.x");
    let warning = only_warning(&run(json.clone()));
    assert!(
        warning.message.contains("not a known Lambda runtime"),
        "{}",
        warning.message
    );
    assert!(warning
        .help
        .as_deref()
        .unwrap_or("")
        .contains("closest: `nodejs24.x`, `nodejs22.x`"));
    for runtime in [
        "nodejs22.x",
        "python3.13",
        "provided.al2023",
        "java21",
        "dotnet8",
        "ruby3.3",
    ] {
        json["provider"]["runtime"] = json!(runtime);
        let report = run(json.clone());
        assert!(
            report.warnings.is_empty(),
            "{runtime}: {:?}",
            messages(&report.warnings)
        );
    }
}

#[test]
fn duplicate_http_routes_warn() {
    let mut json = manifest(json!({ "handler": "h.f", "events": [{ "http": "GET /users" }] }));
    json["functions"]["other"] =
        json!({ "handler": "h.g", "events": [{ "http": { "path": "users", "method": "get" } }] });
    let warning = only_warning(&run(json));
    assert!(
        warning.message.contains("duplicate route `GET /users`"),
        "{}",
        warning.message
    );
}

#[test]
fn plugins_warn_that_they_are_not_run() {
    let mut json = manifest(json!({ "handler": "h.f" }));
    json["plugins"] = json!(["serverless-offline"]);
    let warning = only_warning(&run(json));
    assert!(
        warning.message.contains("plugins are not run by updraft"),
        "{}",
        warning.message
    );
    assert!(warning.message.contains("serverless-offline"));
}

#[test]
fn event_settings_not_indented_get_a_hint() {
    let report = run(manifest(json!({
        "handler": "h.f", "events": [{ "http": null, "path": "hello", "method": "get" }]
    })));
    let warning = report.warnings.first().expect("a warning");
    assert!(warning
        .help
        .as_deref()
        .unwrap_or("")
        .contains("indent the settings under `http`"));
}

#[test]
fn azure_and_google_shapes_pass() {
    let azure = json!({
        "service": "app", "provider": { "name": "azure", "region": "West US 2", "runtime": "nodejs20" },
        "functions": { "hello": { "handler": "src/handlers/hello.sayHello", "events": [
            { "http": true, "methods": ["GET"], "authLevel": "anonymous" },
            { "timer": { "schedule": "0 */5 * * * *" } }
        ] } }
    });
    let report = run(azure);
    assert!(
        report.errors.is_empty() && report.warnings.is_empty(),
        "{:?}",
        messages(&report.warnings)
    );
    let google = json!({
        "service": "app", "provider": { "name": "google", "project": "p", "credentials": "~/k.json" },
        "functions": { "first": { "handler": "http", "events": [{ "http": "path" }] } }
    });
    let report = run(google);
    assert!(
        report.errors.is_empty() && report.warnings.is_empty(),
        "{:?}",
        messages(&report.warnings)
    );
}

#[test]
fn validating_two_hundred_functions_is_fast() {
    let mut functions = serde_json::Map::new();
    for index in 0..200 {
        functions.insert(
            format!("function{index}"),
            json!({
                "handler": "handler.run", "memorySize": 256, "timeout": 10,
                "environment": { "TABLE": "t", "INDEX": index.to_string() },
                "events": [
                    { "http": { "path": format!("items/{index}"), "method": "get", "cors": true } },
                    { "schedule": "rate(5 minutes)" }
                ]
            }),
        );
    }
    let json = json!({ "service": "big", "provider": { "name": "aws", "runtime": "nodejs20.x" }, "functions": functions });
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("s.yml".into(), "s.yml".into(), "x"));
    let root = Node::from_json(&json, Span::new(file, 0, 0));
    validate(&root, &sources);
    let started = std::time::Instant::now();
    let report = validate(&root, &sources);
    let elapsed = started.elapsed();
    eprintln!("validated 200 functions in {elapsed:?}");
    assert!(
        report.warnings.is_empty(),
        "{:?}",
        messages(&report.warnings)
    );
    // Unoptimised test builds are several times slower than the release build (well under 5 ms).
    assert!(elapsed.as_millis() < 50, "took {elapsed:?}");
}

#[test]
fn committed_json_schema_matches_the_code() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/serverless.schema.json");
    let generated = format!(
        "{}\n",
        serde_json::to_string_pretty(&json_schema()).unwrap_or_default()
    );
    if std::env::var_os("UPDRAFT_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write the schema file");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/serverless.schema.json is out of date with src/manifest/validate/aws/; regenerate it with:\n  UPDRAFT_WRITE_SCHEMA=1 cargo test --lib manifest::validate::tests::committed_json_schema_matches_the_code"
    );
}

#[test]
fn committed_google_json_schema_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas/serverless.google.schema.json");
    let generated = format!(
        "{}\n",
        serde_json::to_string_pretty(&super::google_json_schema()).unwrap_or_default()
    );
    if std::env::var_os("UPDRAFT_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write the schema file");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/serverless.google.schema.json is out of date with src/manifest/validate/google.rs; regenerate it with:\n  UPDRAFT_WRITE_SCHEMA=1 cargo test --lib manifest::validate::tests::committed_google_json_schema_matches_the_code"
    );
}

#[test]
fn a_google_service_is_checked_against_the_google_schema() {
    let json = json!({
        "service": "shop",
        "provider": {"name": "google", "project": "p", "runtime": "nodejs20", "memorySize": 300},
        "functions": {
            "hello": {"handler": "hello", "memorySize": 512, "maxInstances": 3,
                      "events": [{"http": "path"}, {"schedule": "rate(5 minutes)"}]},
            "worker": {"handler": "worker", "memroySize": 256,
                       "events": [{"event": {"eventType": "google.pubsub.topic.publish", "resource": "projects/p/topics/t"}}]},
        },
    });
    let report = run(json);
    let found = messages(&report.warnings);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found
            .iter()
            .any(|m| m.contains("memorySize") || m.contains("300")),
        "{found:?}"
    );
    assert!(found.iter().any(|m| m.contains("memroySize")), "{found:?}");
}

#[test]
fn iam_statement_typos_are_caught_and_references_accepted() {
    let mut json = manifest(json!({ "handler": "h.f" }));
    json["provider"]["iam"] = json!({ "role": { "statements": [
        { "Effect": "Allow", "Action": "s3:GetObject", "Resource": { "Fn::GetAtt": ["Bucket", "Arn"] } },
        { "Effect": "Allow", "Action": ["sqs:*"], "Resource": ["arn:aws:sqs:*:*:q", { "Ref": "Queue" }] },
        { "Effect": "Allow", "Actions": ["sns:*"], "Resource": "*" }
    ] } });
    let warning = only_warning(&run(json));
    assert_eq!(
        warning.message,
        "unknown key `Actions` under `provider.iam.role.statements[2]`; did you mean `Action`?"
    );
}

#[test]
fn stream_settings_are_checked() {
    let report = run(manifest(json!({ "handler": "h.f", "events": [
        { "stream": { "arn": "arn:aws:kinesis:us-east-1:1:stream/S", "batchSize": 100, "parallelizationFactor": 2,
                      "bisectBatchOnFunctionError": true, "batchSise": 5 } }
    ] })));
    let warning = only_warning(&report);
    assert!(
        warning.message.contains("did you mean `batchSize`"),
        "{}",
        warning.message
    );
}

#[test]
fn alb_settings_are_checked() {
    let valid = run(manifest(json!({ "handler": "h.f", "events": [
        { "alb": { "listenerArn": { "Ref": "HttpListener" }, "priority": 3,
                   "conditions": { "path": ["/a", "/b"], "method": "GET",
                                   "header": { "name": "X-Env", "values": ["prod"] },
                                   "query": { "lang": "en" } },
                   "healthCheck": true, "multiValueHeaders": false } }
    ] })));
    assert!(
        valid.errors.is_empty() && valid.warnings.is_empty(),
        "{:?} {:?}",
        messages(&valid.errors),
        messages(&valid.warnings)
    );
    let report = run(manifest(json!({ "handler": "h.f", "events": [
        { "alb": { "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/a/b/c",
                   "priority": 0, "conditions": { "path": "/" } } }
    ] })));
    let warning = only_warning(&report);
    assert!(warning.message.contains("priority"), "{}", warning.message);
}

#[test]
fn an_event_written_as_a_function_key_is_pointed_to_the_events_list() {
    let report = run(manifest(
        json!({ "handler": "h.f", "http": { "path": "x", "method": "get" } }),
    ));
    let warning = only_warning(&report);
    assert_eq!(
        warning.message,
        "unknown key `http` under `functions.hello`: `http` is an event type"
    );
    assert!(warning
        .help
        .as_deref()
        .unwrap_or("")
        .contains("- http: ..."));
}

#[test]
fn an_http_event_with_nothing_under_it_warns() {
    let report = run(manifest(
        json!({ "handler": "h.f", "events": [{ "http": null }] }),
    ));
    assert!(only_warning(&report)
        .message
        .contains("has no path or method"));
}

#[test]
fn every_event_type_of_the_schema_is_listed_for_hints() {
    let Shape::Object(root) = aws::root() else {
        panic!("the root is a map")
    };
    let functions = &root.get("functions").expect("functions").shape;
    let Shape::Map { values, .. } = functions else {
        panic!("functions is a map")
    };
    let Shape::Object(function) = values.as_ref() else {
        panic!("a function is a map")
    };
    let Shape::List(item) = &function.get("events").expect("events").shape else {
        panic!("a list")
    };
    let Shape::Event(types) = item.as_ref() else {
        panic!("events")
    };
    let names: Vec<&str> = types.iter().map(|t| t.name).collect();
    assert_eq!(names, aws::EVENT_TYPES);
}

#[test]
fn the_azure_and_google_provider_plugins_draw_no_warning() {
    let json = json!({
        "service": "app", "provider": { "name": "azure" },
        "plugins": ["serverless-azure-functions"],
        "functions": { "hello": { "handler": "src/hello.handler" } }
    });
    let report = run(json);
    assert!(
        report.warnings.is_empty(),
        "{:?}",
        messages(&report.warnings)
    );
}

#[test]
fn schedule_expressions_aws_would_refuse_warn_with_the_fix() {
    let report = run(manifest(json!({ "handler": "h.f", "events": [
        { "schedule": "rate(1 minutes)" },
        { "schedule": { "rate": ["rate(5 minute)", "cron(0 12 * * ?)", "rate(2 hours)"] } },
        { "schedule": "cron(0/2 * ? * MON-FRI *)" },
        { "schedule": "every 5 minutes" }
    ] })));
    let found: Vec<(String, String)> = report
        .warnings
        .iter()
        .map(|w| (w.message.clone(), w.help.clone().unwrap_or_default()))
        .collect();
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(found[0].1.contains("rate(1 minute)"), "{found:?}");
    assert!(found[1].1.contains("rate(5 minutes)"), "{found:?}");
    assert!(found[2].1.contains("this one has 5"), "{found:?}");
    assert!(found[3].0.contains("`every 5 minutes`"), "{found:?}");
}

pub(super) fn run_yaml(text: &str) -> Report {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new(
        "serverless.yml".into(),
        "serverless.yml".into(),
        text,
    ));
    let limits = crate::manifest::yaml::Limits::default();
    let root = match crate::manifest::yaml::parse(&sources, file, &limits) {
        Ok(root) => root,
        Err(error) => panic!("{error:?}"),
    };
    validate(&root, &sources)
}

#[test]
fn findings_name_the_line_and_column_of_the_key_or_value_at_fault() {
    let report = run_yaml(
        "service: shop\nprovider:\n  name: aws\nfunctions:\n  hello:\n    handler: h.f\n    events:\n      - http:\n          path: x\n          methd: get\n      - schedule: rate(1 minutes)\n",
    );
    let places: Vec<&str> = report
        .warnings
        .iter()
        .map(|w| w.location.as_str())
        .collect();
    // The unknown key itself, the http event without a method, the bad rate value.
    assert_eq!(
        places,
        vec![
            "serverless.yml:10:11",
            "serverless.yml:8:9",
            "serverless.yml:11:19"
        ],
        "{:?}",
        messages(&report.warnings)
    );
}
