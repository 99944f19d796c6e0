//! The Azure request-body validator and its vendored definitions: what the published
//! descriptions accept and refuse, so the fake ARM built on them refuses what Azure would.

#[path = "support/azure_spec.rs"]
mod azure_spec;

use azure_spec::{Spec, INSIGHTS, RESOURCES, STORAGE, WEB};
use serde_json::{json, Value};

/// A Flex Consumption function app create, shaped like the published example
/// `CreateOrUpdateFunctionAppFlexConsumption.json` (2024-04-01), plus the plan id.
fn flex_site() -> Value {
    json!({
        "kind": "functionapp,linux",
        "location": "westeurope",
        "tags": { "updraft:service": "orders" },
        "properties": {
            "serverFarmId": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Web/serverfarms/orders-plan",
            "httpsOnly": true,
            "siteConfig": {
                "appSettings": [
                    { "name": "AzureWebJobsStorage", "value": "DefaultEndpointsProtocol=https;AccountName=ordersst" },
                    { "name": "DEPLOYMENT_STORAGE_CONNECTION_STRING", "value": "DefaultEndpointsProtocol=https;AccountName=ordersst" }
                ]
            },
            "functionAppConfig": {
                "deployment": {
                    "storage": {
                        "type": "blobContainer",
                        "value": "https://ordersst.blob.core.windows.net/app-package",
                        "authentication": {
                            "type": "StorageAccountConnectionString",
                            "storageAccountConnectionStringName": "DEPLOYMENT_STORAGE_CONNECTION_STRING"
                        }
                    }
                },
                "runtime": { "name": "node", "version": "20" },
                "scaleAndConcurrency": { "instanceMemoryMB": 2048, "maximumInstanceCount": 100 }
            }
        }
    })
}

/// Sets the value at a JSON pointer (the parent must exist), for one-field variations.
fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer has a parent");
    let parent = body.pointer_mut(parent).expect("parent exists");
    parent
        .as_object_mut()
        .expect("parent is an object")
        .insert(key.to_owned(), value);
    body
}

fn without(mut body: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer has a parent");
    body.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .expect("parent is an object")
        .remove(key);
    body
}

/// Asserts exactly one problem, at `path`, mentioning `needle`.
fn assert_one_problem(problems: &[String], path: &str, needle: &str) {
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with(&format!("{path}: ")),
        "{problems:#?}"
    );
    assert!(problems[0].contains(needle), "{problems:#?}");
}

#[test]
fn flex_consumption_site_like_the_published_example_passes() {
    let web = Spec::parse(WEB);
    assert_eq!(web.check("Site", &flex_site()), Vec::<String>::new());
}

#[test]
fn misspelled_site_fields_are_named_by_path() {
    let web = Spec::parse(WEB);
    let body = with(
        flex_site(),
        "/properties/serverFarmID",
        json!("/subscriptions/x"),
    );
    assert_one_problem(
        &web.check("Site", &body),
        "properties.serverFarmID",
        "not a property",
    );

    let mut body = flex_site();
    body["properties"]["siteConfig"]["appSettings"][0] = json!({ "nmae": "A", "value": "1" });
    assert_one_problem(
        &web.check("Site", &body),
        "properties.siteConfig.appSettings[0].nmae",
        "not a property",
    );
}

#[test]
fn flattened_properties_still_nest_on_the_wire() {
    // x-ms-client-flatten only changes SDK models; a top-level serverFarmId is unknown to ARM.
    let web = Spec::parse(WEB);
    let body = with(flex_site(), "/serverFarmId", json!("/subscriptions/x"));
    assert_one_problem(&web.check("Site", &body), "serverFarmId", "not a property");
}

#[test]
fn wrong_json_types_are_refused() {
    let web = Spec::parse(WEB);
    let body = with(flex_site(), "/properties/containerSize", json!("1536"));
    assert_one_problem(
        &web.check("Site", &body),
        "properties.containerSize",
        "expected integer, got string",
    );

    let body = with(flex_site(), "/properties/containerSize", json!(1536.5));
    assert_one_problem(
        &web.check("Site", &body),
        "properties.containerSize",
        "expected integer",
    );

    let body = with(
        flex_site(),
        "/properties/containerSize",
        json!(3_000_000_000u64),
    );
    assert_one_problem(
        &web.check("Site", &body),
        "properties.containerSize",
        "int32",
    );

    // appSettings is a list of {name, value}, not a map.
    let body = with(
        flex_site(),
        "/properties/siteConfig/appSettings",
        json!({ "A": "1" }),
    );
    assert_one_problem(
        &web.check("Site", &body),
        "properties.siteConfig.appSettings",
        "expected array",
    );

    // Flex scale settings are published as `number`: integers and fractions both pass.
    let body = with(
        flex_site(),
        "/properties/functionAppConfig/scaleAndConcurrency/instanceMemoryMB",
        json!(512.0),
    );
    assert_eq!(web.check("Site", &body), Vec::<String>::new());
}

#[test]
fn read_only_fields_are_refused_in_requests() {
    let web = Spec::parse(WEB);
    let body = with(flex_site(), "/properties/state", json!("Running"));
    assert_one_problem(
        &web.check("Site", &body),
        "properties.state",
        "read-only, set by the service",
    );

    let body = with(
        flex_site(),
        "/id",
        json!("/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Web/sites/x"),
    );
    assert_one_problem(&web.check("Site", &body), "id", "read-only");

    // readOnly beside a $ref counts too.
    let body = with(flex_site(), "/properties/slotSwapStatus", json!({}));
    assert_one_problem(
        &web.check("Site", &body),
        "properties.slotSwapStatus",
        "read-only",
    );
}

#[test]
fn required_comes_through_all_of() {
    // Site requires location only through its parent Resource.
    let web = Spec::parse(WEB);
    let body = without(flex_site(), "/location");
    assert_one_problem(&web.check("Site", &body), "location", "required");
    let body = with(flex_site(), "/location", Value::Null);
    assert_one_problem(&web.check("Site", &body), "location", "required");
}

#[test]
fn enums_are_strict_unless_model_as_string() {
    let web = Spec::parse(WEB);
    // functionAppConfig enums are modelAsString: new runtimes and storage types pass.
    let body = with(
        flex_site(),
        "/properties/functionAppConfig/runtime/name",
        json!("go"),
    );
    assert_eq!(web.check("Site", &body), Vec::<String>::new());
    // clientCertMode is a closed enum, compared case-sensitively.
    let body = with(flex_site(), "/properties/clientCertMode", json!("required"));
    assert_one_problem(
        &web.check("Site", &body),
        "properties.clientCertMode",
        "is not one of",
    );
    let body = with(flex_site(), "/properties/clientCertMode", json!("Required"));
    assert_eq!(web.check("Site", &body), Vec::<String>::new());
}

#[test]
fn nulls_are_accepted_for_optional_fields() {
    let web = Spec::parse(WEB);
    let body = with(
        flex_site(),
        "/properties/functionAppConfig/runtime/version",
        Value::Null,
    );
    let body = with(
        body,
        "/properties/functionAppConfig/scaleAndConcurrency/alwaysReady",
        Value::Null,
    );
    assert_eq!(web.check("Site", &body), Vec::<String>::new());
}

#[test]
fn site_patch_cannot_carry_function_app_config_or_location() {
    // SitePatchResource extends ProxyOnlyResource: no location/tags, and no functionAppConfig.
    let web = Spec::parse(WEB);
    let patch = json!({ "properties": { "siteConfig": { "appSettings": [{ "name": "A", "value": "1" }] } } });
    assert_eq!(web.check("SitePatchResource", &patch), Vec::<String>::new());
    let patch = json!({ "location": "westeurope", "properties": { "functionAppConfig": {} } });
    let problems = web.check("SitePatchResource", &patch);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("location: not a property")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("properties.functionAppConfig: not a property")),
        "{problems:#?}"
    );
}

#[test]
fn flex_consumption_plan_passes_and_needs_a_location() {
    let web = Spec::parse(WEB);
    let plan = json!({
        "location": "westeurope",
        "kind": "functionapp",
        "sku": { "name": "FC1", "tier": "FlexConsumption" },
        "properties": { "reserved": true }
    });
    assert_eq!(web.check("AppServicePlan", &plan), Vec::<String>::new());
    assert_one_problem(
        &web.check("AppServicePlan", &without(plan.clone(), "/location")),
        "location",
        "required",
    );
    let plan = with(plan, "/properties/numberOfWorkers", json!(1));
    assert_one_problem(
        &web.check("AppServicePlan", &plan),
        "properties.numberOfWorkers",
        "read-only",
    );
}

#[test]
fn app_settings_dictionary_values_must_be_strings() {
    let web = Spec::parse(WEB);
    let ok = json!({ "properties": { "A": "1", "FUNCTIONS_EXTENSION_VERSION": "~4" } });
    assert_eq!(web.check("StringDictionary", &ok), Vec::<String>::new());
    let bad = json!({ "properties": { "A": 1 } });
    assert_one_problem(
        &web.check("StringDictionary", &bad),
        "properties.A",
        "expected string, got integer",
    );
}

fn storage_account() -> Value {
    json!({
        "sku": { "name": "Standard_LRS" },
        "kind": "StorageV2",
        "location": "westeurope",
        "tags": { "updraft:service": "orders" },
        "properties": { "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": false }
    })
}

#[test]
fn storage_account_create_passes_and_needs_a_sku() {
    let storage = Spec::parse(STORAGE);
    assert_eq!(
        storage.check("StorageAccountCreateParameters", &storage_account()),
        Vec::<String>::new()
    );
    let body = without(storage_account(), "/sku");
    assert_one_problem(
        &storage.check("StorageAccountCreateParameters", &body),
        "sku",
        "required",
    );
    let body = without(storage_account(), "/kind");
    assert_one_problem(
        &storage.check("StorageAccountCreateParameters", &body),
        "kind",
        "required",
    );
}

#[test]
fn storage_sku_tier_is_read_only() {
    // common.json's `Tier` definition is readOnly: sending sku.tier is refused.
    let storage = Spec::parse(STORAGE);
    let body = with(storage_account(), "/sku/tier", json!("Standard"));
    assert_one_problem(
        &storage.check("StorageAccountCreateParameters", &body),
        "sku.tier",
        "read-only",
    );
}

#[test]
fn resource_group_with_location_and_tags_passes() {
    let resources = Spec::parse(RESOURCES);
    let group = json!({ "location": "westeurope", "tags": { "updraft:service": "orders" } });
    assert_eq!(
        resources.check("ResourceGroup", &group),
        Vec::<String>::new()
    );
    assert_one_problem(
        &resources.check("ResourceGroup", &json!({ "tags": {} })),
        "location",
        "required",
    );
}

#[test]
fn application_insights_component_needs_kind_location_and_application_type() {
    let insights = Spec::parse(INSIGHTS);
    let component = json!({
        "kind": "web",
        "location": "westeurope",
        "properties": { "Application_Type": "web", "Flow_Type": "Bluefield", "Request_Source": "rest" }
    });
    assert_eq!(
        insights.check("ApplicationInsightsComponent", &component),
        Vec::<String>::new()
    );
    assert_one_problem(
        &insights.check(
            "ApplicationInsightsComponent",
            &without(component.clone(), "/kind"),
        ),
        "kind",
        "required",
    );
    let body = without(component, "/properties/Application_Type");
    assert_one_problem(
        &insights.check("ApplicationInsightsComponent", &body),
        "properties.Application_Type",
        "required",
    );
}

/// Every `$ref` in a fixture is local and resolves, and every definition is reachable from the
/// request bodies the fake needs: the extract is complete and holds nothing else.
#[test]
fn vendored_fixtures_are_closed_and_minimal() {
    fn refs<'a>(node: &'a Value, out: &mut Vec<&'a str>) {
        match node {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value.as_str()) {
                        ("$ref", Some(target)) => out.push(target),
                        _ => refs(value, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
            _ => {}
        }
    }
    let cases: [(&str, &[&str]); 4] = [
        (
            WEB,
            &[
                "Site",
                "SitePatchResource",
                "StringDictionary",
                "AppServicePlan",
            ],
        ),
        (STORAGE, &["StorageAccountCreateParameters"]),
        (RESOURCES, &["ResourceGroup"]),
        (INSIGHTS, &["ApplicationInsightsComponent"]),
    ];
    for (document, roots) in cases {
        let doc: Value = serde_json::from_str(document).expect("fixture is JSON");
        assert!(doc["source"]
            .as_str()
            .is_some_and(|s| s.contains("Azure/azure-rest-api-specs/")));
        assert_eq!(doc["license"], "MIT, Microsoft Corporation");
        let definitions = doc["definitions"].as_object().expect("definitions");
        let mut seen = std::collections::BTreeSet::new();
        let mut todo: Vec<&str> = roots.to_vec();
        while let Some(name) = todo.pop() {
            if !seen.insert(name) {
                continue;
            }
            let definition = definitions
                .get(name)
                .unwrap_or_else(|| panic!("missing definition {name}"));
            let mut found = Vec::new();
            refs(definition, &mut found);
            for target in found {
                todo.push(
                    target
                        .strip_prefix("#/definitions/")
                        .unwrap_or_else(|| panic!("non-local $ref {target}")),
                );
            }
        }
        let unreachable: Vec<_> = definitions
            .keys()
            .filter(|k| !seen.contains(k.as_str()))
            .collect();
        assert!(
            unreachable.is_empty(),
            "unreachable definitions: {unreachable:?}"
        );
        assert_eq!(Spec::parse(document).names().count(), definitions.len());
    }
}
