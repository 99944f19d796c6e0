//! What the Azure fake does with a Resource Manager request once routed (`azure_fake.rs` routes
//! them): resources and their actions, the tags API and long-running operations.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value as Json};

use super::{answer, error, next_id, Cloud, Operation, AZURITE_KEY};

const RESOURCES_API: &str = "2022-09-01";
const STORAGE_API: &str = "2023-05-01";
const WEB_API: &str = "2024-04-01";
const INSIGHTS_API: &str = "2020-02-02";
const TAGS_API: &str = "2021-04-01";
const TAGS_SUFFIX: &str = "/providers/microsoft.resources/tags/default";
pub(super) const MASTER_KEY: &str = "fake-master-key";
pub(super) const FUNCTION_KEY: &str = "fake-function-key";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Group,
    Storage,
    Plan,
    Site,
    Insights,
}

impl Kind {
    fn api_version(self) -> &'static str {
        match self {
            Kind::Group => RESOURCES_API,
            Kind::Storage => STORAGE_API,
            Kind::Plan | Kind::Site => WEB_API,
            Kind::Insights => INSIGHTS_API,
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Kind::Group => "Microsoft.Resources/resourceGroups",
            Kind::Storage => "Microsoft.Storage/storageAccounts",
            Kind::Plan => "Microsoft.Web/serverfarms",
            Kind::Site => "Microsoft.Web/sites",
            Kind::Insights => "Microsoft.Insights/components",
        }
    }
}

/// A resource id split into what the fake needs: the id itself, its group's id, its kind and
/// what follows it (`listKeys`, `config/appsettings` ...).
struct Target {
    id: String,
    group_id: String,
    name: String,
    kind: Kind,
    action: Vec<String>,
}

fn target(path: &str) -> Option<Target> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let lower: Vec<String> = parts.iter().map(|p| p.to_lowercase()).collect();
    if lower.len() < 4 || lower[0] != "subscriptions" || lower[2] != "resourcegroups" {
        return None;
    }
    let group_id = format!("/subscriptions/{}/resourceGroups/{}", parts[1], parts[3]);
    if lower.len() == 4 {
        return Some(Target {
            id: group_id.clone(),
            group_id,
            name: parts[3].to_string(),
            kind: Kind::Group,
            action: Vec::new(),
        });
    }
    if lower.len() < 8 || lower[4] != "providers" {
        return None;
    }
    let kind = match (lower[5].as_str(), lower[6].as_str()) {
        ("microsoft.storage", "storageaccounts") => Kind::Storage,
        ("microsoft.web", "serverfarms") => Kind::Plan,
        ("microsoft.web", "sites") => Kind::Site,
        ("microsoft.insights", "components") => Kind::Insights,
        _ => return None,
    };
    Some(Target {
        id: parts[..8]
            .join("/")
            .replace("subscriptions", "/subscriptions"),
        group_id,
        name: parts[7].to_string(),
        kind,
        action: lower[8..].to_vec(),
    })
}

/// A Resource Manager call.
pub(super) fn management(
    cloud: &mut Cloud,
    method: &Method,
    path: &str,
    query: &BTreeMap<String, String>,
    parsed: Result<Json, String>,
) -> Response {
    let version = query.get("api-version").map(String::as_str).unwrap_or("");
    let lower = path.to_lowercase();
    if let Some(end) = lower.strip_suffix(TAGS_SUFFIX).map(str::len) {
        if version != TAGS_API {
            return wrong_version(version, TAGS_API);
        }
        return tags(cloud, method, &path[..end], parsed);
    }
    let Some(target) = target(path) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidResourceType",
            format!("The fake serves no resource type at `{path}`."),
        );
    };
    if version != target.kind.api_version() {
        return wrong_version(version, target.kind.api_version());
    }
    let key = target.id.to_lowercase();
    if target.kind != Kind::Group
        && !cloud
            .resources
            .contains_key(&target.group_id.to_lowercase())
    {
        return group_not_found(&target.group_id);
    }
    let exists = cloud.resources.contains_key(&key);
    let action: Vec<&str> = target.action.iter().map(String::as_str).collect();
    match (method.as_str(), target.kind, action.as_slice()) {
        ("GET", _, []) => match cloud.resources.get(&key) {
            Some(resource) => answer(StatusCode::OK, resource),
            None if target.kind == Kind::Group => group_not_found(&target.group_id),
            None => not_found(&target),
        },
        ("PUT", _, []) => {
            let body = match checked_body(cloud, target.kind, parsed) {
                Ok(body) => body,
                Err(refused) => return *refused,
            };
            put(cloud, &target, body, exists)
        }
        ("PATCH", Kind::Site, []) => {
            if !exists {
                return not_found(&target);
            }
            let body = match checked(cloud, "SitePatchResource", Kind::Site, parsed) {
                Ok(body) => body,
                Err(refused) => return *refused,
            };
            let site = cloud.resources.get_mut(&key).expect("present");
            if let Some(properties) = body.get("properties").and_then(Json::as_object) {
                for (name, value) in properties {
                    site["properties"][name] = value.clone();
                }
            }
            answer(StatusCode::OK, site)
        }
        ("DELETE", _, []) => delete(cloud, &target, exists),
        ("POST", Kind::Storage, ["listkeys"]) if exists => answer(
            StatusCode::OK,
            &json!({"keys": [
                {"keyName": "key1", "value": AZURITE_KEY, "permissions": "FULL"},
                {"keyName": "key2", "value": AZURITE_KEY, "permissions": "FULL"},
            ]}),
        ),
        ("POST", Kind::Site, ["config", "appsettings", "list"]) if exists => {
            let settings = cloud.settings.get(&key).cloned().unwrap_or_default();
            answer(StatusCode::OK, &settings_document(&target, &settings))
        }
        ("PUT", Kind::Site, ["config", "appsettings"]) if exists => {
            let body = match checked(cloud, "StringDictionary", Kind::Site, parsed) {
                Ok(body) => body,
                Err(refused) => return *refused,
            };
            let settings: BTreeMap<String, String> = body
                .get("properties")
                .and_then(Json::as_object)
                .map(|map| {
                    map.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            cloud.settings.insert(key, settings.clone());
            answer(StatusCode::OK, &settings_document(&target, &settings))
        }
        ("POST", Kind::Site, ["host", "default", "listkeys"]) if exists => answer(
            StatusCode::OK,
            &json!({
                "masterKey": MASTER_KEY,
                "functionKeys": {"default": FUNCTION_KEY},
                "systemKeys": {},
            }),
        ),
        (_, _, [_, ..]) if !exists => not_found(&target),
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The fake does not serve {method} {path}."),
        ),
    }
}

fn settings_document(target: &Target, settings: &BTreeMap<String, String>) -> Json {
    json!({
        "id": format!("{}/config/appsettings", target.id),
        "name": "appsettings",
        "type": "Microsoft.Web/sites/config",
        "properties": settings,
    })
}

fn wrong_version(given: &str, wanted: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "InvalidApiVersionParameter",
        format!("The api-version '{given}' is invalid. The fake serves '{wanted}'."),
    )
}

fn group_not_found(group_id: &str) -> Response {
    let name = group_id.rsplit('/').next().unwrap_or_default();
    error(
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        format!("Resource group '{name}' could not be found."),
    )
}

fn not_found(target: &Target) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource '{}/{}' under resource group '{}' was not found.",
            target.kind.type_name(),
            target.name,
            target.group_id.rsplit('/').next().unwrap_or_default()
        ),
    )
}

fn bad_request(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// The body, checked against the definition a PUT of `kind` takes.
fn checked_body(
    cloud: &mut Cloud,
    kind: Kind,
    parsed: Result<Json, String>,
) -> Result<Json, Box<Response>> {
    let definition = match kind {
        Kind::Group => "ResourceGroup",
        Kind::Storage => "StorageAccountCreateParameters",
        Kind::Plan => "AppServicePlan",
        Kind::Site => "Site",
        Kind::Insights => "ApplicationInsightsComponent",
    };
    checked(cloud, definition, kind, parsed)
}

/// Checks `parsed` against `definition`; a misfit is recorded and answered as ARM does.
fn checked(
    cloud: &mut Cloud,
    definition: &str,
    kind: Kind,
    parsed: Result<Json, String>,
) -> Result<Json, Box<Response>> {
    let body = parsed.map_err(|message| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            message,
        ))
    })?;
    let specs = cloud.specs.clone().expect("the specs");
    let spec = match kind {
        Kind::Group => &specs.resources,
        Kind::Storage => &specs.storage,
        Kind::Plan | Kind::Site => &specs.web,
        Kind::Insights => &specs.insights,
    };
    let violations = spec.check(definition, &body);
    if violations.is_empty() {
        return Ok(body);
    }
    let message = violations.join("; ");
    cloud.violations.push(format!("{definition}: {message}"));
    Err(Box::new(error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: {message}"),
    )))
}

fn put(cloud: &mut Cloud, target: &Target, body: Json, exists: bool) -> Response {
    let key = target.id.to_lowercase();
    let Some(location) = body
        .get("location")
        .and_then(Json::as_str)
        .map(str::to_string)
    else {
        return bad_request("The 'location' property is required.");
    };
    let tags = body.get("tags").cloned().unwrap_or_else(|| json!({}));
    let mut resource = json!({
        "id": target.id,
        "name": target.name,
        "type": target.kind.type_name(),
        "location": location,
        "tags": tags,
    });
    for field in ["kind", "sku"] {
        if let Some(value) = body.get(field) {
            resource[field] = value.clone();
        }
    }
    let properties = body.get("properties").cloned().unwrap_or_else(|| json!({}));
    match target.kind {
        Kind::Group => {
            if let Some(current) = cloud.resources.get(&key) {
                if current["location"] != resource["location"] {
                    return error(
                        StatusCode::CONFLICT,
                        "InvalidResourceGroupLocation",
                        format!(
                            "Invalid resource group location '{location}'. The Resource group \
                             already exists in location '{}'.",
                            current["location"].as_str().unwrap_or_default()
                        ),
                    );
                }
            }
            resource["properties"] = json!({"provisioningState": "Succeeded"});
            let status = if exists {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            cloud.resources.insert(key, resource.clone());
            answer(status, &resource)
        }
        Kind::Storage => {
            let name = &target.name;
            let valid = (3..=24).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
            if !valid {
                return error(
                    StatusCode::BAD_REQUEST,
                    "AccountNameInvalid",
                    format!(
                        "{name} is not a valid storage account name. Storage account name must \
                         be between 3 and 24 characters in length and use numbers and \
                         lower-case letters only."
                    ),
                );
            }
            let blob = cloud.blob_endpoint.clone();
            let mut stored = properties;
            stored["provisioningState"] = json!("Succeeded");
            stored["primaryEndpoints"] = json!({"blob": blob});
            resource["properties"] = stored;
            if let Some(sku) = resource.get_mut("sku") {
                sku["tier"] = json!("Standard");
            }
            cloud.resources.insert(key.clone(), resource.clone());
            if exists {
                return answer(StatusCode::OK, &resource);
            }
            // Created asynchronously: 202 and a Location to poll.
            let operation = start(cloud, Some(key));
            accepted_with_location(cloud, &operation)
        }
        Kind::Plan => {
            let sku = body
                .pointer("/sku/name")
                .and_then(Json::as_str)
                .unwrap_or("");
            let reserved = properties.get("reserved").and_then(Json::as_bool) == Some(true);
            if sku == "FC1" && !reserved {
                return bad_request(
                    "A Flex Consumption plan runs Linux only: set properties.reserved to true.",
                );
            }
            let mut stored = properties;
            stored["provisioningState"] = json!("Succeeded");
            stored["status"] = json!("Ready");
            resource["properties"] = stored;
            cloud.resources.insert(key, resource.clone());
            answer(StatusCode::OK, &resource)
        }
        Kind::Site => put_site(cloud, target, resource, properties, exists),
        Kind::Insights => {
            let instrumentation_key = format!("{:08x}-0000-4000-8000-000000000000", cloud.next_id);
            cloud.next_id += 1;
            let mut stored = properties;
            stored["provisioningState"] = json!("Succeeded");
            stored["InstrumentationKey"] = json!(instrumentation_key);
            stored["AppId"] = json!(format!("app-{instrumentation_key}"));
            stored["ConnectionString"] = json!(format!(
                "InstrumentationKey={instrumentation_key};IngestionEndpoint=https://{}.in.applicationinsights.azure.com/",
                location.to_lowercase().replace(' ', "")
            ));
            resource["properties"] = stored;
            let status = if exists {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            cloud.resources.insert(key, resource.clone());
            answer(status, &resource)
        }
    }
}

fn put_site(
    cloud: &mut Cloud,
    target: &Target,
    mut resource: Json,
    properties: Json,
    exists: bool,
) -> Response {
    let key = target.id.to_lowercase();
    let plan_id = properties
        .get("serverFarmId")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(plan) = cloud.resources.get(&plan_id.to_lowercase()).cloned() else {
        return bad_request(format!(
            "The server farm `{plan_id}` named by properties.serverFarmId was not found."
        ));
    };
    if plan.pointer("/sku/name").and_then(Json::as_str) == Some("FC1") {
        let kind = resource["kind"].as_str().unwrap_or_default();
        if !(kind.contains("functionapp") && kind.contains("linux")) {
            return bad_request("A Flex Consumption plan hosts only kind `functionapp,linux`.");
        }
        let config = &properties["functionAppConfig"];
        for needed in [
            "/deployment/storage/value",
            "/runtime/name",
            "/runtime/version",
        ] {
            if config.pointer(needed).is_none() {
                return bad_request(format!(
                    "A Flex Consumption app needs properties.functionAppConfig{needed}."
                ));
            }
        }
        let memory = config
            .pointer("/scaleAndConcurrency/instanceMemoryMB")
            .and_then(Json::as_i64);
        if memory.is_some_and(|m| ![512, 2048, 4096].contains(&m)) {
            return bad_request("instanceMemoryMB must be 512, 2048 or 4096.");
        }
        let instances = config
            .pointer("/scaleAndConcurrency/maximumInstanceCount")
            .and_then(Json::as_i64);
        if instances.is_some_and(|n| !(40..=1000).contains(&n)) {
            return bad_request("maximumInstanceCount must be between 40 and 1000.");
        }
    }
    if let Some(settings) = properties
        .pointer("/siteConfig/appSettings")
        .and_then(Json::as_array)
    {
        let settings: BTreeMap<String, String> = settings
            .iter()
            .filter_map(|pair| {
                Some((
                    pair.get("name")?.as_str()?.to_string(),
                    pair.get("value")?.as_str().unwrap_or_default().to_string(),
                ))
            })
            .collect();
        cloud.settings.insert(key.clone(), settings);
    }
    let mut stored = properties;
    if let Some(object) = stored.as_object_mut() {
        // As Azure answers: the settings are not part of the site.
        object.remove("siteConfig");
    }
    stored["state"] = json!("Running");
    stored["defaultHostName"] = json!(format!("{}.azurewebsites.net", target.name.to_lowercase()));
    resource["properties"] = stored;
    cloud.resources.insert(key, resource.clone());
    if exists {
        return answer(StatusCode::OK, &resource);
    }
    // Created asynchronously: 201 with the site and an Azure-AsyncOperation to poll.
    let operation = start(cloud, None);
    let mut response = answer(StatusCode::CREATED, &resource);
    let url = format!("{}/operations/{operation}", cloud.base);
    let headers = response.headers_mut();
    headers.insert("azure-asyncoperation", url.parse().expect("a header value"));
    headers.insert("retry-after", "0".parse().expect("a header value"));
    response
}

fn delete(cloud: &mut Cloud, target: &Target, exists: bool) -> Response {
    let key = target.id.to_lowercase();
    if !exists {
        return if target.kind == Kind::Group {
            group_not_found(&target.id)
        } else {
            StatusCode::NO_CONTENT.into_response()
        };
    }
    match target.kind {
        Kind::Group => {
            let prefix = format!("{key}/");
            cloud
                .resources
                .retain(|id, _| id != &key && !id.starts_with(&prefix));
            cloud.settings.retain(|id, _| !id.starts_with(&prefix));
            let operation = start(cloud, None);
            accepted_with_location(cloud, &operation)
        }
        Kind::Plan => {
            let in_use = cloud.resources.values().any(|r| {
                r.pointer("/properties/serverFarmId")
                    .and_then(Json::as_str)
                    .is_some_and(|id| id.eq_ignore_ascii_case(&target.id))
            });
            if in_use {
                return error(
                    StatusCode::CONFLICT,
                    "Conflict",
                    format!(
                        "Server farm '{}' cannot be deleted because it has web app(s) assigned \
                         to it.",
                        target.name
                    ),
                );
            }
            cloud.resources.remove(&key);
            answer(StatusCode::OK, &Json::Null)
        }
        _ => {
            cloud.resources.remove(&key);
            cloud.settings.remove(&key);
            answer(StatusCode::OK, &Json::Null)
        }
    }
}

/// The tags API: replaces, merges or deletes the tags of the resource at `id`.
fn tags(cloud: &mut Cloud, method: &Method, id: &str, parsed: Result<Json, String>) -> Response {
    let key = id.to_lowercase();
    if !cloud.resources.contains_key(&key) {
        return error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("The resource '{id}' was not found."),
        );
    }
    if method != Method::PATCH {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The fake serves PATCH on the tags API only.",
        );
    }
    let body = match parsed {
        Ok(body) => body,
        Err(message) => return error(StatusCode::BAD_REQUEST, "InvalidRequestContent", message),
    };
    // `TagsPatchResource` of Microsoft.Resources 2021-04-01, checked by hand: its definition
    // lives in another file of the published description than the groups'.
    let mut problems = Vec::new();
    if let Some(object) = body.as_object() {
        for name in object.keys() {
            if name != "operation" && name != "properties" {
                problems.push(format!("unknown property `{name}`"));
            }
        }
    }
    let operation = body.get("operation").and_then(Json::as_str).unwrap_or("");
    if !["Replace", "Merge", "Delete"].contains(&operation) {
        problems.push(format!(
            "`operation` must be Replace, Merge or Delete, not `{operation}`"
        ));
    }
    let new_tags = body.pointer("/properties/tags").and_then(Json::as_object);
    match new_tags {
        Some(tags) if tags.values().all(Json::is_string) => {}
        _ => problems.push("`properties.tags` must map names to strings".into()),
    }
    if !problems.is_empty() {
        let message = problems.join("; ");
        cloud
            .violations
            .push(format!("TagsPatchResource: {message}"));
        return error(StatusCode::BAD_REQUEST, "InvalidRequestContent", message);
    }
    let new_tags = new_tags.cloned().unwrap_or_default();
    let resource = cloud.resources.get_mut(&key).expect("present");
    let mut current = resource["tags"].as_object().cloned().unwrap_or_default();
    match operation {
        "Replace" => current = new_tags,
        "Merge" => current.extend(new_tags),
        _ => current.retain(|name, _| !new_tags.contains_key(name)),
    }
    resource["tags"] = Json::Object(current.clone());
    answer(
        StatusCode::OK,
        &json!({
            "id": format!("{id}/providers/Microsoft.Resources/tags/default"),
            "name": "default",
            "type": "Microsoft.Resources/tags",
            "properties": {"tags": current},
        }),
    )
}

fn start(cloud: &mut Cloud, resource: Option<String>) -> String {
    let id = next_id(cloud, "operation");
    let polls_left = cloud.polls_per_operation;
    cloud.operations.insert(
        id.clone(),
        Operation {
            polls_left,
            failure: None,
            resource,
        },
    );
    id
}

fn accepted_with_location(cloud: &Cloud, operation: &str) -> Response {
    let mut response = answer(StatusCode::ACCEPTED, &Json::Null);
    let url = format!("{}/operations/{operation}?style=location", cloud.base);
    let headers = response.headers_mut();
    headers.insert("location", url.parse().expect("a header value"));
    headers.insert("retry-after", "0".parse().expect("a header value"));
    response
}

/// A poll of an operation: `Azure-AsyncOperation` polls get `{"status"}`; `Location` polls get
/// 202 until done, then 200 with the resource (or an empty body).
pub(super) fn poll(cloud: &mut Cloud, id: &str, location_style: bool) -> Response {
    let Some(operation) = cloud.operations.get_mut(id) else {
        return error(
            StatusCode::NOT_FOUND,
            "OperationNotFound",
            format!("No operation `{id}`."),
        );
    };
    let running = operation.polls_left > 0;
    operation.polls_left = operation.polls_left.saturating_sub(1);
    let failure = operation.failure.clone();
    let resource = operation.resource.clone();
    if location_style {
        if running {
            let mut response = answer(StatusCode::ACCEPTED, &Json::Null);
            response
                .headers_mut()
                .insert("retry-after", "0".parse().expect("a header value"));
            return response;
        }
        let body = resource
            .and_then(|key| cloud.resources.get(&key).cloned())
            .unwrap_or(Json::Null);
        return answer(StatusCode::OK, &body);
    }
    let body = match (running, failure) {
        (true, _) => json!({"name": id, "status": "InProgress"}),
        (false, Some(message)) => json!({
            "name": id,
            "status": "Failed",
            "error": {"code": "OperationFailed", "message": message},
        }),
        (false, None) => json!({"name": id, "status": "Succeeded"}),
    };
    answer(StatusCode::OK, &body)
}
