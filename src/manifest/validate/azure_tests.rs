//! The Azure checks, case by case: what the schema accepts is what the Azure backend reads,
//! and what it refuses names its place and the fix.

use serde_json::json;

use super::tests::{messages, only_error, only_warning, run, run_yaml};
use super::*;
use crate::manifest::source::Span;

#[test]
fn committed_azure_json_schema_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas/serverless.azure.schema.json");
    let generated = format!(
        "{}\n",
        serde_json::to_string_pretty(&super::azure_json_schema()).unwrap_or_default()
    );
    if std::env::var_os("UPDRAFT_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write the schema file");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/serverless.azure.schema.json is out of date with src/manifest/validate/azure.rs; regenerate it with:\n  UPDRAFT_WRITE_SCHEMA=1 cargo test --lib manifest::validate::azure_tests::committed_azure_json_schema_matches_the_code"
    );
}

fn azure(functions: serde_json::Value) -> serde_json::Value {
    json!({
        "service": "shop",
        "frameworkVersion": "3",
        "provider": { "name": "azure", "region": "West US 2", "runtime": "nodejs20" },
        "functions": functions
    })
}

#[test]
fn a_valid_azure_service_has_no_findings() {
    let mut json = azure(json!({
        "hello": { "handler": "src/handlers/hello.sayHello", "description": "greets", "events": [
            { "http": true, "methods": ["GET", "post"], "route": "hello/{name?}", "authLevel": "anonymous" }
        ] },
        "admin": { "handler": "src/admin.run", "memorySize": 2048, "events": [
            { "http": true, "x-azure-settings": { "methods": "GET", "authLevel": "admin", "route": "admin" } }
        ] },
        "tick": { "handler": "src/tick.run", "events": [{ "timer": { "schedule": "0 */5 * * * *" } }] },
        "work": { "handler": "src/work.run", "environment": { "QUEUE": "jobs" }, "events": [
            { "queue": "jobs", "name": "job", "connection": "AzureWebJobsStorage" }
        ] }
    }));
    json["provider"] = json!({
        "name": "azure", "region": "westus2", "runtime": "python3.11", "os": "linux", "stage": "prod",
        "prefix": "acme", "subscriptionId": "00000000-0000-0000-0000-000000000000",
        "resourceGroup": "shared-rg", "memorySize": 2048, "timeout": 300,
        "environment": { "STAGE": "prod", "RETRIES": 3, "DEBUG": false },
        "tags": { "team": "web" }, "maximumInstanceCount": 40, "appInsights": true
    });
    json["plugins"] = json!(["serverless-azure-functions"]);
    let report = run(json);
    assert!(report.errors.is_empty(), "{:?}", messages(&report.errors));
    assert!(
        report.warnings.is_empty(),
        "{:?}",
        messages(&report.warnings)
    );
}

#[test]
fn a_wrong_azure_auth_level_is_a_warning_naming_its_place() {
    let report = run_yaml(
        "service: shop\nprovider:\n  name: azure\n  runtime: nodejs20\nfunctions:\n  hello:\n    handler: h.hello\n    events:\n      - http: true\n        authLevel: public\n",
    );
    let warning = only_warning(&report);
    assert_eq!(
        warning.message,
        "`functions.hello.events[0].authLevel` is `public`, which is not a known HTTP auth level"
    );
    assert_eq!(warning.location, "serverless.yml:10:20");
    assert!(
        warning
            .help
            .as_deref()
            .unwrap_or("")
            .contains("`anonymous`, `function`, `admin`"),
        "{:?}",
        warning.help
    );
    let report = run(azure(json!({ "hello": { "handler": "h.hello", "events": [
        { "http": true, "x-azure-settings": { "authLevel": "Public" } }
    ] } })));
    assert_eq!(
        only_warning(&report).message,
        "`functions.hello.events[0].x-azure-settings.authLevel` is `Public`, which is not a known HTTP auth level"
    );
}

#[test]
fn an_unknown_azure_provider_key_is_a_warning_with_the_known_one() {
    let mut json =
        azure(json!({ "hello": { "handler": "h.hello", "events": [{ "http": true }] } }));
    json["provider"]["subscriptionID"] = json!("0000");
    let warning = only_warning(&run(json.clone()));
    assert_eq!(
        warning.message,
        "unknown key `subscriptionID` under `provider`; did you mean `subscriptionId`?"
    );
    assert_eq!(warning.label, "unknown key");
    json["configValidationMode"] = json!("error");
    assert!(only_error(&run(json)).message.contains("`subscriptionID`"));
}

#[test]
fn a_wrong_type_in_an_azure_service_names_the_path() {
    let mut json = azure(json!({ "worker": { "handler": "h.work", "events": [
        { "queue": ["a", "b"] }
    ] } }));
    json["provider"]["maximumInstanceCount"] = json!("many");
    let report = run(json);
    assert!(report.errors.is_empty(), "{:?}", messages(&report.errors));
    assert_eq!(
        messages(&report.warnings),
        vec![
            "`provider.maximumInstanceCount` must be an integer, got the string `many`".to_string(),
            "`functions.worker.events[0].queue` must be a string, true or false or a map, got a list"
                .to_string(),
        ]
    );
}

#[test]
fn azure_limits_and_runtimes_are_checked() {
    let mut json =
        azure(json!({ "hello": { "handler": "h.hello", "events": [{ "http": true }] } }));
    json["provider"]["runtime"] = json!("nodejs18");
    json["provider"]["memorySize"] = json!(1024);
    json["provider"]["maximumInstanceCount"] = json!(20);
    json["provider"]["os"] = json!("windows");
    let found = messages(&run(json).warnings);
    assert_eq!(
        found,
        vec![
            "`provider.runtime` is `nodejs18`, which is not a known Azure Functions runtime",
            "`provider.memorySize` is 1024, which is not one of the allowed values",
            "`provider.maximumInstanceCount` is 20, below the minimum of 40",
            "`provider.os` is `windows`, which is not a known Flex Consumption operating system",
        ],
    );
}

#[test]
fn an_unknown_event_on_azure_names_the_azure_one() {
    let report = run(azure(json!({ "hello": { "handler": "h.hello", "events": [
        { "sqs": "arn:aws:sqs:us-east-1:1:q" },
        { "timr": true, "schedule": "0 */5 * * * *" },
        "timer",
        { "http": true, "path": "hello" },
        { "name": "tick", "schedule": "rate(5 minutes)" }
    ] } })));
    let found: Vec<(String, String)> = report
        .warnings
        .iter()
        .map(|w| (w.message.clone(), w.help.clone().unwrap_or_default()))
        .collect();
    assert_eq!(found.len(), 5, "{found:?}");
    assert_eq!(
        found[0].0,
        "unknown event type `sqs` in `functions.hello.events[0]`"
    );
    assert!(found[0].1.contains("`queue`"), "{found:?}");
    assert_eq!(
        found[1].0,
        "unknown event type `timr` in `functions.hello.events[1]`"
    );
    assert!(found[1].1.contains("did you mean `timer`?"), "{found:?}");
    assert_eq!(
        found[2].0,
        "`functions.hello.events[2]`: the `timer` event needs its settings"
    );
    assert_eq!(
        found[3].0,
        "unknown key `path` under `functions.hello.events[3]`"
    );
    assert_eq!(
        found[4].0,
        "unknown event type `name` in `functions.hello.events[4]`"
    );
    assert!(found[4].1.contains("write `schedule` first"), "{found:?}");
}

/// Each form of each event the Azure backend reads: the schema accepts it, and the backend
/// reads it as a trigger.
#[test]
fn every_event_form_the_azure_backend_reads_passes_the_schema() {
    let events = [
        json!({ "http": true, "methods": ["post"], "route": "users/{id}", "authLevel": "function", "name": "request" }),
        json!({ "http": true, "x-azure-settings": { "methods": "GET", "authLevel": "admin", "route": "admin" } }),
        json!({ "http": { "path": "/items/{id}", "method": "post", "authLevel": "function" } }),
        json!("http"),
        json!({ "httpApi": "GET /users" }),
        json!({ "httpApi": "*" }),
        json!({ "httpApi": { "path": "/any", "method": "ANY" } }),
        json!({ "timer": { "schedule": "0 */5 * * * *", "name": "tick" } }),
        json!({ "timer": true, "schedule": "0 0 * * * *" }),
        json!({ "timer": true, "x-azure-settings": { "schedule": "rate(5 minutes)" } }),
        json!({ "schedule": "rate(5 minutes)" }),
        json!({ "schedule": { "rate": "cron(0 12 ? * 2 *)", "name": "weekly" } }),
        json!({ "schedule": { "rate": ["rate(1 hour)"] } }),
        json!({ "queue": "orders", "x-azure-settings": { "name": "order", "connection": "Storage" } }),
        json!({ "queue": true, "queueName": "jobs" }),
        json!({ "queue": { "queueName": "jobs", "connection": "Storage" } }),
        json!({ "blob": true, "path": "uploads/{name}" }),
        json!({ "blob": null, "x-azure-settings": { "path": "uploads/{name}", "connection": "Storage" } }),
        json!({ "serviceBus": true, "topicName": "t", "subscriptionName": "s" }),
        json!({ "serviceBus": true, "queueName": "q", "connection": "Bus", "name": "msg" }),
        json!({ "eventHub": true, "eventHubName": "hub", "consumerGroup": "group" }),
        json!({ "cosmosDB": true, "databaseName": "db", "collectionName": "items", "connectionStringSetting": "Cosmos" }),
        json!({ "cosmosDB": { "databaseName": "db", "containerName": "c", "leaseContainerName": "l", "connection": "C" } }),
    ];
    let mut functions = serde_json::Map::new();
    for (index, event) in events.iter().enumerate() {
        functions.insert(
            format!("f{index}"),
            json!({ "handler": "src/h.run", "events": [event] }),
        );
    }
    let json = azure(serde_json::Value::Object(functions));
    let report = run(json.clone());
    assert!(report.errors.is_empty(), "{:?}", messages(&report.errors));
    assert!(
        report.warnings.is_empty(),
        "{:?}",
        messages(&report.warnings)
    );
    let service =
        crate::manifest::model::Service::from_tree(&Node::from_json(&json, Span::default()))
            .unwrap_or_else(|error| panic!("{error}"));
    let reading =
        crate::provider::azure::app::read(&service).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(reading.app.functions.len(), events.len());
}

#[test]
fn azure_runtimes_and_memory_sizes_are_the_ones_the_backend_reads() {
    for runtime in azure::RUNTIMES {
        let mut json =
            azure(json!({ "hello": { "handler": "h.hello", "events": [{ "http": true }] } }));
        json["provider"]["runtime"] = json!(runtime);
        let service =
            crate::manifest::model::Service::from_tree(&Node::from_json(&json, Span::default()))
                .unwrap_or_else(|error| panic!("{error}"));
        if let Err(error) = crate::provider::azure::app::read(&service) {
            panic!("{runtime}: {error}");
        }
    }
    let sizes: Vec<i64> = crate::provider::azure::app::INSTANCE_MEMORY_MB
        .iter()
        .map(|&mb| i64::from(mb))
        .collect();
    assert_eq!(sizes, azure::MEMORY_SIZES);
}

#[test]
fn the_azure_example_validates_clean() {
    let env = |_: &str| None;
    for stage in ["dev", "prod"] {
        let mut options = indexmap::IndexMap::new();
        options.insert("stage".to_string(), json!(stage));
        let loaded = crate::manifest::load(&crate::manifest::LoadOptions {
            working_dir: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            config: Some("examples/azure/serverless.yml".into()),
            options,
            params: Vec::new(),
            env: &env,
            cloud: None,
        })
        .unwrap_or_else(|error| panic!("{error:?}"));
        assert_eq!(
            loaded
                .root
                .get_path(["provider", "name"])
                .and_then(Node::as_str),
            Some("azure")
        );
        assert!(
            loaded.warnings.is_empty(),
            "{stage}: {:?}",
            messages(&loaded.warnings)
        );
    }
}
