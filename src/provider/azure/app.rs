//! A service as one Azure Function App (Flex Consumption, Linux): what the app is asked to be,
//! read from the manifest with Azure's rules checked at plan time.
//!
//! Azure sets the runtime, the instance memory, the timeout and the environment per Function
//! App, not per function. One service is one app, so functions that ask for different values
//! are an error naming both; a variable only one function sets is shared by the whole app, and a
//! warning says so. Each function becomes a `function.json` of bindings: its trigger (from the
//! Azure plugin's `http`, `timer`, `queue`, `blob`, `serviceBus`, `eventHub` and `cosmosDB`
//! events, or the provider-neutral `http`, `httpApi` and `schedule`), plus the HTTP output of an
//! HTTP trigger.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use crate::manifest::model::{Function, Service};
use crate::manifest::source::Span;
use crate::provider::ProviderError;

/// Instance memory sizes of the Flex Consumption plan, in MB.
pub const INSTANCE_MEMORY_MB: &[u32] = &[512, 2048, 4096];
const DEFAULT_INSTANCE_MEMORY_MB: u32 = 2048;
const DEFAULT_MAXIMUM_INSTANCES: u32 = 100;

/// The language stack of the app: Flex Consumption's `runtime.name` and `runtime.version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    pub name: &'static str,
    pub version: &'static str,
}

/// Runtimes Flex Consumption runs on Linux: what a manifest may write, and what it means.
const RUNTIMES: &[(&str, Runtime)] = &[
    (
        "nodejs20",
        Runtime {
            name: "node",
            version: "20",
        },
    ),
    (
        "nodejs22",
        Runtime {
            name: "node",
            version: "22",
        },
    ),
    (
        "python3.10",
        Runtime {
            name: "python",
            version: "3.10",
        },
    ),
    (
        "python3.11",
        Runtime {
            name: "python",
            version: "3.11",
        },
    ),
    (
        "python3.12",
        Runtime {
            name: "python",
            version: "3.12",
        },
    ),
    (
        "dotnet8",
        Runtime {
            name: "dotnet-isolated",
            version: "8.0",
        },
    ),
    (
        "dotnet9",
        Runtime {
            name: "dotnet-isolated",
            version: "9.0",
        },
    ),
    (
        "java17",
        Runtime {
            name: "java",
            version: "17",
        },
    ),
    (
        "java21",
        Runtime {
            name: "java",
            version: "21",
        },
    ),
    (
        "powershell7.4",
        Runtime {
            name: "powershell",
            version: "7.4",
        },
    ),
];

/// One function of the app: its name and its `function.json` bindings.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    pub key: String,
    /// The handler as written (`src/handlers/hello.sayHello`).
    pub handler: String,
    pub bindings: Vec<Json>,
}

/// The Function App a service becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct AppSpec {
    /// `{prefix-}{service}-{stage}`, lowercased: the app's host name under azurewebsites.net.
    pub name: String,
    /// The region as Azure names it (`West US 2` is `westus2`).
    pub region: String,
    /// `provider.resourceGroup`, else `{app}-rg` (created and owned by updraft).
    pub resource_group: String,
    /// Whether updraft creates (and may delete) the resource group.
    pub owns_resource_group: bool,
    pub runtime: Runtime,
    pub instance_memory_mb: u32,
    /// `provider.maximumInstanceCount` (40 to 1000; Flex Consumption's default is 100).
    pub maximum_instance_count: u32,
    /// `provider.appInsights: true`: an Application Insights component the app logs to.
    pub insights: bool,
    /// `functionTimeout` of `host.json` (`00:05:00`), when the manifest sets a timeout.
    pub function_timeout: Option<String>,
    pub app_settings: BTreeMap<String, String>,
    /// The manifest's tags plus `updraft-service` and `updraft-stage`.
    pub tags: BTreeMap<String, String>,
    pub functions: Vec<FunctionSpec>,
}

/// What reading gives: the app, and what deploys but not quite as written.
#[derive(Debug)]
pub struct Reading {
    pub app: AppSpec,
    pub warnings: Vec<ProviderError>,
}

fn invalid(span: Span, message: String, help: String) -> ProviderError {
    ProviderError::Invalid {
        message,
        span: Some(span),
        help,
    }
}

/// Reads `service` as one Function App; the first problem found is the error.
pub fn read(service: &Service) -> Result<Reading, ProviderError> {
    let provider = &service.provider.raw;
    let mut warnings = Vec::new();
    let name = app_name(service)?;
    // Older Azure plugin services name the region `location`.
    let region = provider
        .get("region")
        .and_then(Json::as_str)
        .or_else(|| provider.get("location").and_then(Json::as_str))
        .map(region)
        .unwrap_or_else(|| "westus2".to_string());
    let (resource_group, owns_resource_group) =
        match provider.get("resourceGroup").and_then(Json::as_str) {
            Some(group) => (group.to_string(), false),
            None => (format!("{name}-rg"), true),
        };
    let runtime = shared(service, "runtime", |value| {
        value.as_str().map(str::to_string)
    })?
    .unwrap_or_default();
    let runtime = runtime_of(&runtime).ok_or_else(|| ProviderError::Invalid {
        message: if runtime.is_empty() {
            "the service has no runtime".into()
        } else {
            format!("runtime `{runtime}` is not one Azure Functions (Flex Consumption) runs")
        },
        span: None,
        help: format!(
            "set `provider.runtime` to one of: {}",
            RUNTIMES
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })?;
    let instance_memory_mb = shared(service, "memorySize", |value| {
        value.as_u64().and_then(|n| u32::try_from(n).ok())
    })?
    .unwrap_or(DEFAULT_INSTANCE_MEMORY_MB);
    if !INSTANCE_MEMORY_MB.contains(&instance_memory_mb) {
        return Err(ProviderError::Invalid {
            message: format!(
                "memorySize {instance_memory_mb} is not an instance size of the Flex Consumption plan"
            ),
            span: None,
            help: "use 512, 2048 or 4096 (MB)".into(),
        });
    }
    let maximum_instance_count = match provider.get("maximumInstanceCount") {
        None => DEFAULT_MAXIMUM_INSTANCES,
        Some(value) => value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (40..=1000).contains(n))
            .ok_or_else(|| ProviderError::Invalid {
                message: format!(
                    "maximumInstanceCount {value} is not one Flex Consumption accepts"
                ),
                span: None,
                help: "use a whole number from 40 to 1000".into(),
            })?,
    };
    let insights = match provider.get("appInsights") {
        None | Some(Json::Bool(false)) | Some(Json::Null) => false,
        Some(Json::Bool(true)) | Some(Json::Object(_)) => true,
        Some(other) => {
            return Err(ProviderError::Invalid {
                message: format!("appInsights {other} is neither true nor false"),
                span: None,
                help: "write `appInsights: true` to create an Application Insights component"
                    .into(),
            })
        }
    };
    let function_timeout = shared(service, "timeout", |value| value.as_u64())?.map(|seconds| {
        format!(
            "{:02}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    });
    let app_settings = app_settings(service, &mut warnings)?;
    let mut tags = BTreeMap::new();
    if let Some(map) = provider.get("tags").and_then(Json::as_object) {
        for (key, value) in map {
            tags.insert(key.clone(), text(value));
        }
    }
    tags.insert("updraft-service".into(), service.name.clone());
    tags.insert("updraft-stage".into(), service.provider.stage.clone());
    let functions = service
        .functions
        .values()
        .map(|function| {
            Ok(FunctionSpec {
                key: function.key.clone(),
                handler: function.handler.clone().unwrap_or_default(),
                bindings: bindings(function)?,
            })
        })
        .collect::<Result<_, ProviderError>>()?;
    Ok(Reading {
        app: AppSpec {
            name,
            region,
            resource_group,
            owns_resource_group,
            runtime,
            instance_memory_mb,
            maximum_instance_count,
            insights,
            function_timeout,
            app_settings,
            tags,
            functions,
        },
        warnings,
    })
}

/// `{prefix-}{service}-{stage}`, lowercased, other characters as `-`: 2 to 60 characters.
fn app_name(service: &Service) -> Result<String, ProviderError> {
    let prefix = service
        .provider
        .raw
        .get("prefix")
        .and_then(Json::as_str)
        .map(|p| format!("{p}-"))
        .unwrap_or_default();
    let name: String = format!("{prefix}{}-{}", service.name, service.provider.stage)
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    if name.len() > 60 || name.starts_with('-') || name.ends_with('-') {
        return Err(ProviderError::Invalid {
            message: format!(
                "the Function App would be named `{name}`, which Azure refuses: 2 to 60 letters, digits and hyphens, not starting or ending with a hyphen"
            ),
            span: None,
            help: "shorten the service name, the stage or `provider.prefix`".into(),
        });
    }
    Ok(name)
}

/// `West US 2` as Azure's API names it: `westus2`.
pub fn region(written: &str) -> String {
    written
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
}

/// `nodejs20`, `nodejs20.x`, `node20`, `python3.11`, `python311`: the runtime meant.
fn runtime_of(written: &str) -> Option<Runtime> {
    let bare = written.trim().to_lowercase();
    let bare = bare.trim_end_matches(".x");
    let canonical = if let Some(version) = bare.strip_prefix("node") {
        format!("nodejs{}", version.trim_start_matches("js"))
    } else if let Some(version) = bare.strip_prefix("python") {
        let version = version.trim_start_matches('3').trim_start_matches('.');
        format!("python3.{version}")
    } else {
        bare.to_string()
    };
    RUNTIMES
        .iter()
        .find(|(name, _)| *name == canonical)
        .map(|(_, runtime)| runtime.clone())
}

/// A setting Azure keeps per app: the provider's value, unless functions set their own, which
/// must then agree (naming the two that do not).
fn shared<T: PartialEq + std::fmt::Debug>(
    service: &Service,
    key: &str,
    read: impl Fn(&Json) -> Option<T>,
) -> Result<Option<T>, ProviderError> {
    let provider = service.provider.raw.get(key).and_then(&read);
    let mut seen: Option<(&Function, Option<T>)> = None;
    for function in service.functions.values() {
        let value = function.raw.get(key).and_then(&read);
        let effective = value.or_else(|| service.provider.raw.get(key).and_then(&read));
        if let Some((first, first_value)) = &seen {
            if *first_value != effective {
                return Err(invalid(
                    function.span,
                    format!(
                        "functions `{}` and `{}` ask for different `{key}`: Azure sets it once for the whole Function App",
                        first.key, function.key
                    ),
                    format!("set `provider.{key}` once and remove it from the functions"),
                ));
            }
        } else {
            seen = Some((function, effective));
        }
    }
    Ok(match seen {
        Some((_, value)) => value,
        None => provider,
    })
}

/// The app settings: the provider's environment, then each function's, which must not give one
/// variable two values.
fn app_settings(
    service: &Service,
    warnings: &mut Vec<ProviderError>,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let mut settings: BTreeMap<String, String> = service
        .provider
        .environment
        .iter()
        .map(|(key, value)| (key.clone(), text(value)))
        .collect();
    let mut set_by: BTreeMap<String, &Function> = BTreeMap::new();
    for function in service.functions.values() {
        let Some(own) = function.raw.get("environment").and_then(Json::as_object) else {
            continue;
        };
        for (key, value) in own {
            let value = text(value);
            if let Some(other) = set_by.get(key) {
                if settings.get(key) != Some(&value) {
                    return Err(invalid(
                        function.span,
                        format!(
                            "functions `{}` and `{}` give the variable `{key}` different values: Azure sets the environment once for the whole Function App",
                            other.key, function.key
                        ),
                        format!("give the variables different names, or set `{key}` once in `provider.environment`"),
                    ));
                }
                continue;
            }
            if service.functions.len() > 1 && settings.get(key) != Some(&value) {
                warnings.push(invalid(
                    function.span,
                    format!(
                        "the variable `{key}` of function `{}` is seen by every function of the app",
                        function.key
                    ),
                    "Azure sets the environment per Function App; move it to `provider.environment` to say so".into(),
                ));
            }
            settings.insert(key.clone(), value);
            set_by.insert(key.clone(), function);
        }
    }
    Ok(settings)
}

/// The event's settings: the keys beside the event's own, or the plugin's older
/// `x-azure-settings`.
fn settings<'a>(event: &'a Json, kind: &str) -> impl Fn(&str) -> Option<&'a Json> + 'a {
    let kind = kind.to_string();
    move |key: &str| {
        event
            .get("x-azure-settings")
            .and_then(|s| s.get(key))
            .or_else(|| {
                event
                    .get(&kind)
                    .filter(|v| v.is_object())
                    .and_then(|v| v.get(key))
            })
            .or_else(|| event.get(key))
    }
}

fn bindings(function: &Function) -> Result<Vec<Json>, ProviderError> {
    let key = &function.key;
    let mut bindings = Vec::new();
    for event in &function.events {
        let kind = event.kind.as_str();
        let raw = &event.raw;
        let setting = settings(raw, kind);
        let text_setting = |name: &str| setting(name).and_then(Json::as_str).map(str::to_string);
        let connection = text_setting("connection");
        let trigger = match kind {
            // The plugin writes the HTTP response as an event of its own.
            "http" if text_setting("direction").as_deref() == Some("out") => {
                if !bindings.iter().any(|b: &Json| b["type"] == "http") {
                    bindings.push(json!({
                        "type": "http",
                        "direction": "out",
                        "name": text_setting("name").unwrap_or_else(|| "res".into()),
                    }));
                }
                continue;
            }
            "http" | "httpApi" => {
                let (route, methods) = match raw.get(kind) {
                    // The AWS shape: `http: {path, method}` or `httpApi: 'GET /path'`.
                    Some(Json::Object(http)) => (
                        http.get("path")
                            .or(http.get("route"))
                            .and_then(Json::as_str)
                            .map(str::to_string),
                        http.get("method").or(http.get("methods")).cloned(),
                    ),
                    Some(Json::String(text)) if kind == "httpApi" => match text.split_once(' ') {
                        Some((method, path)) => (Some(path.to_string()), Some(json!(method))),
                        None => (Some(text.clone()), None),
                    },
                    _ => (text_setting("route"), setting("methods").cloned()),
                };
                let methods: Vec<String> = match methods {
                    Some(Json::String(method))
                        if method == "*" || method.eq_ignore_ascii_case("any") =>
                    {
                        vec![]
                    }
                    Some(Json::String(method)) => vec![method.to_lowercase()],
                    Some(Json::Array(list)) => list
                        .iter()
                        .filter_map(Json::as_str)
                        .map(str::to_lowercase)
                        .collect(),
                    _ => vec![],
                };
                let mut trigger = json!({
                    "type": "httpTrigger",
                    "direction": "in",
                    "name": text_setting("name").unwrap_or_else(|| "req".into()),
                    "authLevel": text_setting("authLevel").unwrap_or_else(|| "anonymous".into()),
                });
                if !methods.is_empty() {
                    trigger["methods"] = json!(methods);
                }
                if let Some(route) = route
                    .map(|r| r.trim_start_matches('/').to_string())
                    .filter(|r| !r.is_empty())
                {
                    trigger["route"] = json!(route);
                }
                bindings.push(trigger);
                bindings.push(json!({"type": "http", "direction": "out", "name": "res"}));
                continue;
            }
            "timer" | "schedule" => {
                let written = if kind == "timer" {
                    text_setting("schedule")
                } else {
                    crate::provider::schedule::expression(raw)
                }
                .unwrap_or_default();
                let schedule = crate::provider::schedule::ncrontab(&written).ok_or_else(|| {
                    invalid(
                        event.span,
                        format!("the schedule `{written}` of function `{key}` cannot be written as an NCRONTAB"),
                        "write `rate(N minutes|hours|days)` or a 6-field NCRONTAB such as `0 */5 * * * *`".into(),
                    )
                })?;
                json!({"type": "timerTrigger", "direction": "in", "name": text_setting("name").unwrap_or_else(|| "timer".into()), "schedule": schedule})
            }
            "queue" => json!({
                "type": "queueTrigger",
                "direction": "in",
                "name": text_setting("name").unwrap_or_else(|| "item".into()),
                "queueName": raw.get("queue").and_then(Json::as_str).map(str::to_string).or_else(|| text_setting("queueName")).unwrap_or_default(),
                "connection": connection.unwrap_or_else(|| "AzureWebJobsStorage".into()),
            }),
            "blob" => json!({
                "type": "blobTrigger",
                "direction": "in",
                "name": text_setting("name").unwrap_or_else(|| "blob".into()),
                "path": text_setting("path").unwrap_or_default(),
                "connection": connection.unwrap_or_else(|| "AzureWebJobsStorage".into()),
            }),
            "serviceBus" => {
                let mut trigger = json!({
                    "type": "serviceBusTrigger",
                    "direction": "in",
                    "name": text_setting("name").unwrap_or_else(|| "message".into()),
                    "connection": connection.unwrap_or_else(|| "ServiceBusConnection".into()),
                });
                for field in ["queueName", "topicName", "subscriptionName"] {
                    if let Some(value) = text_setting(field) {
                        trigger[field] = json!(value);
                    }
                }
                trigger
            }
            "eventHub" => json!({
                "type": "eventHubTrigger",
                "direction": "in",
                "name": text_setting("name").unwrap_or_else(|| "events".into()),
                "eventHubName": text_setting("eventHubName").unwrap_or_default(),
                "consumerGroup": text_setting("consumerGroup").unwrap_or_else(|| "$Default".into()),
                "connection": connection.unwrap_or_else(|| "EventHubConnection".into()),
            }),
            "cosmosDB" => json!({
                "type": "cosmosDBTrigger",
                "direction": "in",
                "name": text_setting("name").unwrap_or_else(|| "documents".into()),
                "databaseName": text_setting("databaseName").unwrap_or_default(),
                "containerName": text_setting("containerName").or_else(|| text_setting("collectionName")).unwrap_or_default(),
                "connection": connection.or_else(|| text_setting("connectionStringSetting")).unwrap_or_else(|| "CosmosDBConnection".into()),
                "leaseContainerName": text_setting("leaseContainerName").unwrap_or_else(|| "leases".into()),
                "createLeaseContainerIfNotExists": true,
            }),
            other => {
                let alternative = match other {
                    "sqs" | "sns" => "a `queue` (Storage queue) or `serviceBus` event",
                    "s3" => "a `blob` event",
                    "stream" => "an `eventHub` or `cosmosDB` event",
                    _ => "an `http`, `timer`, `queue`, `blob`, `serviceBus`, `eventHub` or `cosmosDB` event",
                };
                return Err(invalid(
                    event.span,
                    format!("function `{key}`'s `{other}` event has no Azure Functions trigger"),
                    format!("use {alternative}"),
                ));
            }
        };
        bindings.push(trigger);
    }
    merge_http_methods(&mut bindings);
    let triggers = bindings.iter().filter(|b| b["direction"] == "in").count();
    if triggers == 0 {
        return Err(invalid(
            function.span,
            format!(
                "function `{key}` has no trigger: an Azure function runs only when one calls it"
            ),
            "add an `http` event (or a `timer`, `queue`, ... event)".into(),
        ));
    }
    if triggers > 1 {
        return Err(invalid(
            function.span,
            format!("function `{key}` has {triggers} triggers: an Azure function has exactly one"),
            "split the triggers into functions of their own".into(),
        ));
    }
    Ok(bindings)
}

/// One `http` event with `methods: [GET, POST]` is read as one event per method (as AWS routes
/// them); on Azure they are one trigger: triggers of the same route and key level become one
/// with their methods together (none written means every method), and their outputs one.
fn merge_http_methods(bindings: &mut Vec<Json>) {
    let mut merged: Vec<Json> = Vec::new();
    for binding in bindings.drain(..) {
        if binding["type"] == "http" && merged.iter().any(|b| b["type"] == "http") {
            continue;
        }
        let same = merged.iter_mut().find(|b| {
            b["type"] == "httpTrigger"
                && binding["type"] == "httpTrigger"
                && b["route"] == binding["route"]
                && b["authLevel"] == binding["authLevel"]
        });
        match same {
            Some(existing) => {
                let methods = |b: &Json| b["methods"].as_array().cloned();
                match (methods(existing), methods(&binding)) {
                    (Some(mut all), Some(more)) => {
                        for method in more {
                            if !all.contains(&method) {
                                all.push(method);
                            }
                        }
                        existing["methods"] = Json::Array(all);
                    }
                    // One of them takes every method: so does the trigger.
                    _ => {
                        if let Some(object) = existing.as_object_mut() {
                            object.remove("methods");
                        }
                    }
                }
            }
            None => merged.push(binding),
        }
    }
    *bindings = merged;
}

fn text(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
