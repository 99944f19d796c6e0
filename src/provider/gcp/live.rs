//! A Cloud Function as the Cloud Functions v2 API returns it (`GET` or `list`), read back into
//! the typed properties the desired state uses, so that an unchanged function plans no change.
//!
//! Google fills in what a request left out: `LOG_EXECUTION_ID` among the environment variables,
//! the default compute service account, 100 instances at most. A value the manifest does not ask
//! for is the platform's business, so the reader leaves it out of the comparison; one it does ask
//! for is compared as Google reports it.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::desired::{EventFilter, EventTrigger, FunctionProperties};

/// Environment variables Google sets on every function.
const SERVER_SET_VARIABLES: &[&str] = &["LOG_EXECUTION_ID"];

/// One function read from the API.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveFunction {
    /// The function id (the last part of its name).
    pub id: String,
    pub properties: FunctionProperties,
    /// The URL it answers on (`serviceConfig.uri`).
    pub url: Option<String>,
    /// The Cloud Run service behind it (`serviceConfig.service`), whose IAM makes it public.
    pub service: Option<String>,
    /// `ACTIVE`, `DEPLOYING`, `FAILED`, ...
    pub state: String,
}

/// Reads `api` (a `Function`, as Google's JSON or the client library writes it) if it belongs to
/// `service` and `stage` (its ownership labels), every value as Google reports it.
/// [`leave_out_unasked`] then drops what the manifest did not ask for.
pub fn read_function(api: &Json, service: &str, stage: &str) -> Option<LiveFunction> {
    let labels = strings(api.get("labels"));
    let owned = labels.get("updraft-service").map(String::as_str)
        == Some(super::function::label(service).as_str())
        && labels.get("updraft-stage").map(String::as_str)
            == Some(super::function::label(stage).as_str());
    if !owned {
        return None;
    }
    let id = api.get("name")?.as_str()?.rsplit('/').next()?.to_string();
    let build = api.get("buildConfig").unwrap_or(&Json::Null);
    let config = api.get("serviceConfig").unwrap_or(&Json::Null);
    let text = |value: &Json, key: &str| value.get(key).and_then(Json::as_str).map(str::to_string);
    let count = |key: &str| {
        config
            .get(key)
            .and_then(Json::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    let environment = strings(config.get("environmentVariables"));
    let properties = FunctionProperties {
        runtime: text(build, "runtime").unwrap_or_default(),
        entry_point: text(build, "entryPoint").unwrap_or_default(),
        available_memory: text(config, "availableMemory").unwrap_or_default(),
        timeout_seconds: count("timeoutSeconds").unwrap_or_default(),
        environment_variables: environment,
        labels,
        service_account_email: text(config, "serviceAccountEmail"),
        max_instance_count: count("maxInstanceCount"),
        min_instance_count: count("minInstanceCount"),
        vpc_connector: text(config, "vpcConnector"),
        event_trigger: api.get("eventTrigger").map(|trigger| EventTrigger {
            event_type: text(trigger, "eventType").unwrap_or_default(),
            pubsub_topic: text(trigger, "pubsubTopic"),
            event_filters: trigger
                .get("eventFilters")
                .and_then(Json::as_array)
                .map(|filters| {
                    filters
                        .iter()
                        .map(|filter| EventFilter {
                            attribute: text(filter, "attribute").unwrap_or_default(),
                            value: text(filter, "value").unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }),
    };
    Some(LiveFunction {
        id,
        properties,
        url: text(config, "uri"),
        service: text(config, "service"),
        state: state_name(api.get("state")),
    })
}

/// Leaves out of a live function what Google chose where the manifest (`wanted`) asks for
/// nothing: a value it asks for is compared as Google reports it.
pub fn leave_out_unasked(live: &mut FunctionProperties, wanted: &FunctionProperties) {
    for variable in SERVER_SET_VARIABLES {
        if !wanted.environment_variables.contains_key(*variable) {
            live.environment_variables.remove(*variable);
        }
    }
    if wanted.service_account_email.is_none() {
        live.service_account_email = None;
    }
    if wanted.max_instance_count.is_none() {
        live.max_instance_count = None;
    }
    if wanted.min_instance_count.is_none() {
        live.min_instance_count = None;
    }
    if wanted.vpc_connector.is_none() {
        live.vpc_connector = None;
    }
}

/// The function's state by name; the client library writes enums as numbers.
fn state_name(value: Option<&Json>) -> String {
    const STATES: &[&str] = &[
        "STATE_UNSPECIFIED",
        "ACTIVE",
        "FAILED",
        "DEPLOYING",
        "DELETING",
        "UNKNOWN",
    ];
    match value {
        Some(Json::String(name)) => name.clone(),
        Some(Json::Number(number)) => number
            .as_u64()
            .and_then(|n| STATES.get(n as usize))
            .map_or_else(|| number.to_string(), |name| name.to_string()),
        _ => String::new(),
    }
}

fn strings(value: Option<&Json>) -> BTreeMap<String, String> {
    value
        .and_then(Json::as_object)
        .map(|map| {
            map.iter()
                .map(|(key, value)| {
                    let value = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_string);
                    (key.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A function as the API returns it after a create that named only memory, timeout, one
    /// variable and the labels: Google added the rest.
    fn returned() -> Json {
        json!({
            "name": "projects/p/locations/us-central1/functions/shop-dev-a",
            "state": "ACTIVE",
            "environment": "GEN_2",
            "url": "https://us-central1-p.cloudfunctions.net/shop-dev-a",
            "labels": {"updraft-service": "shop", "updraft-stage": "dev", "updraft-code": "abc"},
            "buildConfig": {
                "runtime": "nodejs20",
                "entryPoint": "handler",
                "dockerRepository": "projects/p/locations/us-central1/repositories/gcf-artifacts",
                "source": {"storageSource": {"bucket": "b", "object": "o", "generation": "1"}}
            },
            "serviceConfig": {
                "service": "projects/p/locations/us-central1/services/shop-dev-a",
                "uri": "https://shop-dev-a-xyz-uc.a.run.app",
                "availableMemory": "256Mi",
                "timeoutSeconds": 60,
                "maxInstanceCount": 100,
                "serviceAccountEmail": "123-compute@developer.gserviceaccount.com",
                "environmentVariables": {"STAGE": "dev", "LOG_EXECUTION_ID": "true"},
                "ingressSettings": "ALLOW_ALL"
            }
        })
    }

    fn wanted() -> FunctionProperties {
        FunctionProperties {
            runtime: "nodejs20".into(),
            entry_point: "handler".into(),
            available_memory: "256Mi".into(),
            timeout_seconds: 60,
            environment_variables: [("STAGE".to_string(), "dev".to_string())].into(),
            labels: [
                ("updraft-service".to_string(), "shop".to_string()),
                ("updraft-stage".to_string(), "dev".to_string()),
                ("updraft-code".to_string(), "abc".to_string()),
            ]
            .into(),
            service_account_email: None,
            max_instance_count: None,
            min_instance_count: None,
            vpc_connector: None,
            event_trigger: None,
        }
    }

    #[test]
    fn what_google_filled_in_is_not_a_difference() {
        let mut live = read_function(&returned(), "shop", "dev").expect("owned");
        leave_out_unasked(&mut live.properties, &wanted());
        assert_eq!(live.id, "shop-dev-a");
        assert_eq!(live.properties, wanted());
        assert_eq!(
            live.url.as_deref(),
            Some("https://shop-dev-a-xyz-uc.a.run.app")
        );
        assert_eq!(live.state, "ACTIVE");
    }

    #[test]
    fn what_the_manifest_asks_for_is_compared_as_google_reports_it() {
        let mut asked = wanted();
        asked.max_instance_count = Some(3);
        let mut live = read_function(&returned(), "shop", "dev").expect("owned");
        leave_out_unasked(&mut live.properties, &asked);
        assert_eq!(
            live.properties.max_instance_count,
            Some(100),
            "a drift to show"
        );
        // A function no longer in the manifest is read whole, for its removal.
        let orphan = read_function(&returned(), "shop", "dev").expect("owned");
        assert_eq!(orphan.properties.max_instance_count, Some(100));
    }

    #[test]
    fn functions_of_other_services_and_stages_are_not_read() {
        assert!(read_function(&returned(), "shop", "prod").is_none());
        assert!(read_function(&returned(), "other", "dev").is_none());
        let mut unlabelled = returned();
        unlabelled["labels"] = json!({});
        assert!(read_function(&unlabelled, "shop", "dev").is_none());
    }
}
