//! The bodies of Cloud Functions v2 requests, built from a function's typed properties: the
//! `Function` of a create or a PATCH, and the PATCH's `updateMask`.
//!
//! A PATCH without a mask replaces the whole function, resetting every field it does not name
//! to its default; one with a mask changes exactly the named paths. So an update names the API
//! paths of the properties that changed, and nothing else.

use serde_json::{json, Map, Value as Json};

use super::desired::{FunctionProperties, SchedulerJobProperties};

/// Where the function's zip is, once uploaded (`generateUploadUrl` answers with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSource {
    pub bucket: String,
    pub object: String,
}

/// The API path of each compared property.
const PATHS: &[(&str, &str)] = &[
    ("runtime", "buildConfig.runtime"),
    ("entryPoint", "buildConfig.entryPoint"),
    ("availableMemory", "serviceConfig.availableMemory"),
    ("timeoutSeconds", "serviceConfig.timeoutSeconds"),
    ("environmentVariables", "serviceConfig.environmentVariables"),
    ("labels", "labels"),
    ("serviceAccountEmail", "serviceConfig.serviceAccountEmail"),
    ("maxInstanceCount", "serviceConfig.maxInstanceCount"),
    ("minInstanceCount", "serviceConfig.minInstanceCount"),
    ("vpcConnector", "serviceConfig.vpcConnector"),
    ("eventTrigger", "eventTrigger"),
];

/// The `updateMask` for the changed properties; the source goes with a code change (the
/// code-hash label is one of the labels).
pub fn update_mask<'a>(changed: impl IntoIterator<Item = &'a str>, code_changed: bool) -> String {
    let mut paths: Vec<&str> = changed
        .into_iter()
        .filter_map(|property| {
            PATHS
                .iter()
                .find(|(name, _)| *name == property)
                .map(|(_, path)| *path)
        })
        .collect();
    if code_changed {
        paths.push("buildConfig.source");
    }
    paths.sort_unstable();
    paths.dedup();
    paths.join(",")
}

/// The `Function` body of a create or an update.
pub fn function_body(
    name: &str,
    properties: &FunctionProperties,
    source: Option<&StorageSource>,
) -> Json {
    let mut build = Map::new();
    build.insert("runtime".into(), json!(properties.runtime));
    build.insert("entryPoint".into(), json!(properties.entry_point));
    if let Some(source) = source {
        build.insert(
            "source".into(),
            json!({"storageSource": {"bucket": source.bucket, "object": source.object}}),
        );
    }
    let mut service = Map::new();
    service.insert("availableMemory".into(), json!(properties.available_memory));
    service.insert("timeoutSeconds".into(), json!(properties.timeout_seconds));
    service.insert(
        "environmentVariables".into(),
        json!(properties.environment_variables),
    );
    for (key, value) in [
        (
            "serviceAccountEmail",
            json!(properties.service_account_email),
        ),
        ("maxInstanceCount", json!(properties.max_instance_count)),
        ("minInstanceCount", json!(properties.min_instance_count)),
        ("vpcConnector", json!(properties.vpc_connector)),
    ] {
        if !value.is_null() {
            service.insert(key.into(), value);
        }
    }
    let mut body = Map::new();
    body.insert("name".into(), json!(name));
    body.insert("labels".into(), json!(properties.labels));
    body.insert("buildConfig".into(), Json::Object(build));
    body.insert("serviceConfig".into(), Json::Object(service));
    if let Some(trigger) = &properties.event_trigger {
        let mut event = json!({
            "eventType": trigger.event_type,
            "retryPolicy": "RETRY_POLICY_DO_NOT_RETRY",
        });
        if let Some(topic) = &trigger.pubsub_topic {
            event["pubsubTopic"] = json!(topic);
        }
        if !trigger.event_filters.is_empty() {
            event["eventFilters"] = json!(trigger.event_filters);
        }
        body.insert("eventTrigger".into(), event);
    }
    Json::Object(body)
}

/// The `Job` body of a Cloud Scheduler job calling a function's URL with an OIDC token of the
/// function's service account, both resolved by then.
pub fn scheduler_job_body(name: &str, job: &SchedulerJobProperties) -> Json {
    let uri = job.uri.as_str().unwrap_or_default();
    let invoker = job.service_account_email.as_str().unwrap_or_default();
    json!({
        "name": name,
        "schedule": job.schedule,
        "timeZone": job.time_zone,
        "httpTarget": {
            "uri": uri,
            "httpMethod": job.http_method,
            "oidcToken": {"serviceAccountEmail": invoker, "audience": uri},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::gcp::desired::{EventFilter, EventTrigger};
    use crate::provider::gcp::discovery;

    fn properties() -> FunctionProperties {
        FunctionProperties {
            runtime: "python312".into(),
            entry_point: "handle".into(),
            available_memory: "512Mi".into(),
            timeout_seconds: 120,
            environment_variables: [("STAGE".to_string(), "dev".to_string())].into(),
            labels: [("updraft-service".to_string(), "shop".to_string())].into(),
            service_account_email: Some("runner@p.iam.gserviceaccount.com".into()),
            max_instance_count: Some(5),
            min_instance_count: None,
            vpc_connector: None,
            event_trigger: Some(EventTrigger {
                event_type: "google.cloud.storage.object.v1.finalized".into(),
                pubsub_topic: None,
                event_filters: vec![EventFilter {
                    attribute: "bucket".into(),
                    value: "uploads".into(),
                }],
            }),
        }
    }

    fn cloud_functions() -> Json {
        discovery::vendored("cloudfunctions.v2.json")
    }

    #[test]
    fn the_function_body_fits_the_published_schema() {
        let source = StorageSource {
            bucket: "gcf-v2-uploads".into(),
            object: "shop.zip".into(),
        };
        let body = function_body(
            "projects/p/locations/us-central1/functions/shop-dev-a",
            &properties(),
            Some(&source),
        );
        assert_eq!(
            discovery::check(&cloud_functions(), "Function", &body),
            vec![]
        );
        assert_eq!(body["serviceConfig"]["availableMemory"], "512Mi");
        assert_eq!(body["eventTrigger"]["eventFilters"][0]["value"], "uploads");
        assert!(body["serviceConfig"].get("minInstanceCount").is_none());
        let http = FunctionProperties {
            event_trigger: None,
            ..properties()
        };
        let body = function_body("projects/p/locations/l/functions/f", &http, None);
        assert_eq!(
            discovery::check(&cloud_functions(), "Function", &body),
            vec![]
        );
        assert!(body.get("eventTrigger").is_none());
    }

    #[test]
    fn the_scheduler_job_body_fits_the_published_schema() {
        let scheduler = discovery::vendored("cloudscheduler.v1.json");
        let job = SchedulerJobProperties {
            schedule: "*/5 * * * *".into(),
            time_zone: "Europe/Paris".into(),
            uri: json!("https://shop-dev-a-xyz.a.run.app"),
            http_method: "POST".into(),
            service_account_email: json!("invoker@p.iam.gserviceaccount.com"),
        };
        let body = scheduler_job_body(
            "projects/p/locations/us-central1/jobs/updraft_shop_dev_shop-dev-a_1",
            &job,
        );
        assert_eq!(discovery::check(&scheduler, "Job", &body), vec![]);
        assert_eq!(
            body["httpTarget"]["oidcToken"]["audience"],
            "https://shop-dev-a-xyz.a.run.app"
        );
        let wrong = json!({"schedule": "* * * * *", "httpTarget": {"httpMethod": "FETCH"}});
        assert_eq!(discovery::check(&scheduler, "Job", &wrong).len(), 1);
    }

    #[test]
    fn the_update_mask_names_only_what_changed() {
        assert_eq!(
            update_mask(["availableMemory"], false),
            "serviceConfig.availableMemory"
        );
        assert_eq!(
            update_mask(["labels", "timeoutSeconds"], true),
            "buildConfig.source,labels,serviceConfig.timeoutSeconds"
        );
        assert_eq!(update_mask([], false), "");
    }
}
