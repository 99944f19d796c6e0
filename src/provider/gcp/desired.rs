//! The resources a service should have on Google Cloud, as plain data for the planner: one
//! Cloud Function (2nd gen) per function and one Cloud Scheduler job per `schedule` event, each
//! with one typed property struct.
//!
//! A function's code is identified by the `updraft-code` label, the start of its artifact's
//! sha256: the label is compared like any other, so new code is an update of that one function
//! and unchanged code is no change at all. Scheduler jobs have no labels; they are owned through
//! their name, which starts with the function id.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::function::{self, FunctionSpec, FunctionTrigger};
use crate::manifest::model::Service;
use crate::package::Artifact;
use crate::plan::{Desired, DesiredState, Properties, Reference, ResourceId};
use crate::provider::typed::Typed;
use crate::provider::ProviderError;

pub const FUNCTION: &str = "gcp.functions.function";
pub const SCHEDULER_JOB: &str = "gcp.scheduler.job";
/// `roles/run.invoker` for `allUsers` on the Cloud Run service behind a public HTTP function.
pub const PUBLIC_INVOKER: &str = "gcp.run.public-invoker";

/// The role and member that make a function public.
pub const INVOKER_ROLE: &str = "roles/run.invoker";
pub const ALL_USERS: &str = "allUsers";

/// The label that carries the start of the code's sha256 (a label value holds 63 characters).
pub const CODE_LABEL: &str = "updraft-code";
const CODE_LABEL_LENGTH: usize = 32;

/// A Cloud Function's compared properties, named as the Cloud Functions v2 API names them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionProperties {
    pub runtime: String,
    pub entry_point: String,
    pub available_memory: String,
    pub timeout_seconds: u32,
    pub environment_variables: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub service_account_email: Option<String>,
    pub max_instance_count: Option<u32>,
    pub min_instance_count: Option<u32>,
    pub vpc_connector: Option<String>,
    /// `None` for an HTTP function.
    pub event_trigger: Option<EventTrigger>,
}

impl Typed for FunctionProperties {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTrigger {
    pub event_type: String,
    pub pubsub_topic: Option<String>,
    pub event_filters: Vec<EventFilter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    pub attribute: String,
    pub value: String,
}

/// A Cloud Scheduler job's compared properties. `uri` holds a reference to the function's URL
/// until the function exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulerJobProperties {
    pub schedule: String,
    pub time_zone: String,
    pub uri: serde_json::Value,
    pub http_method: String,
    /// The account whose OIDC token the job sends: the function's own service account.
    pub service_account_email: serde_json::Value,
}

impl Typed for SchedulerJobProperties {}

/// The binding that lets anyone call a function. `service` refers to the function's Cloud Run
/// service until the function exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicInvokerProperties {
    pub service: serde_json::Value,
    pub role: String,
    pub member: String,
}

impl Typed for PublicInvokerProperties {}

/// The id of a scheduler job: the service and stage first, so that every job of a service and
/// stage is found by that prefix (jobs carry no labels). Underscores separate the parts, since
/// function ids hold none.
pub fn scheduler_job_id(service: &str, stage: &str, function_id: &str, index: usize) -> String {
    format!(
        "{}_{function_id}_{index}",
        scheduler_job_prefix(service, stage).trim_end_matches('_')
    )
}

/// What every scheduler job id of `service` and `stage` starts with.
pub fn scheduler_job_prefix(service: &str, stage: &str) -> String {
    format!(
        "updraft_{}_{}_",
        function::label(service),
        function::label(stage)
    )
}

/// The function a job id calls (its id's middle part), for a job of `service` and `stage`.
pub fn scheduler_job_function<'a>(service: &str, stage: &str, job_id: &'a str) -> Option<&'a str> {
    let rest = job_id.strip_prefix(&scheduler_job_prefix(service, stage))?;
    let (function_id, index) = rest.rsplit_once('_')?;
    index.parse::<usize>().ok()?;
    Some(function_id)
}

/// The desired state, and what deploys but differs from what was written.
#[derive(Debug, Default)]
pub struct DesiredReading {
    pub state: DesiredState,
    pub warnings: Vec<ProviderError>,
}

/// The resources `service` should have, its functions' code being `artifacts`.
pub fn desired(service: &Service, artifacts: &[Artifact]) -> Result<DesiredReading, ProviderError> {
    let reading = function::read(service)?;
    let mut state = DesiredState::default();
    for spec in &reading.functions {
        let artifact = artifacts
            .iter()
            .find(|artifact| artifact.functions.contains(&spec.key))
            .ok_or_else(|| ProviderError::Invalid {
                message: format!("function `{}` has no packaged code", spec.key),
                span: None,
                help: "run `updraft package` and check `package.patterns`".into(),
            })?;
        let id = ResourceId::new(FUNCTION, &spec.function_id);
        let properties = function_properties(spec, &artifact.sha256);
        state.resources.push(Desired {
            id: id.clone(),
            properties: properties.to_properties(),
            inputs: [(
                "source".to_string(),
                serde_json::Value::String(artifact.path.display().to_string()),
            )]
            .into(),
            depends_on: BTreeSet::new(),
            // A function is an HTTP function or an event function for life.
            replace_when: ["eventTrigger".to_string()].into(),
        });
        if spec.public {
            let invoker = PublicInvokerProperties {
                service: Reference::new(id.clone(), "service").to_json(),
                role: INVOKER_ROLE.into(),
                member: ALL_USERS.into(),
            };
            state.resources.push(Desired {
                id: ResourceId::new(PUBLIC_INVOKER, &spec.function_id),
                properties: invoker.to_properties(),
                inputs: Properties::new(),
                depends_on: [id.clone()].into(),
                replace_when: BTreeSet::new(),
            });
        }
        for (index, schedule) in spec.schedules.iter().enumerate() {
            let job = SchedulerJobProperties {
                schedule: schedule.cron.clone(),
                time_zone: schedule.time_zone.clone(),
                uri: Reference::new(id.clone(), "url").to_json(),
                http_method: "POST".into(),
                service_account_email: Reference::new(id.clone(), "serviceAccountEmail").to_json(),
            };
            state.resources.push(Desired {
                id: ResourceId::new(
                    SCHEDULER_JOB,
                    scheduler_job_id(
                        &service.name,
                        &service.provider.stage,
                        &spec.function_id,
                        index + 1,
                    ),
                ),
                properties: job.to_properties(),
                inputs: Properties::new(),
                depends_on: [id.clone()].into(),
                replace_when: BTreeSet::new(),
            });
        }
    }
    Ok(DesiredReading {
        state,
        warnings: reading.warnings,
    })
}

fn function_properties(spec: &FunctionSpec, sha256: &str) -> FunctionProperties {
    let mut labels = spec.labels.clone();
    labels.insert(
        CODE_LABEL.into(),
        sha256.chars().take(CODE_LABEL_LENGTH).collect(),
    );
    FunctionProperties {
        runtime: spec.runtime.clone(),
        entry_point: spec.entry_point.clone(),
        available_memory: spec.memory.clone(),
        timeout_seconds: spec.timeout_seconds,
        environment_variables: spec.environment.clone(),
        labels,
        service_account_email: spec.service_account_email.clone(),
        max_instance_count: spec.max_instances,
        min_instance_count: spec.min_instances,
        vpc_connector: spec.vpc_connector.clone(),
        event_trigger: match &spec.trigger {
            FunctionTrigger::Http => None,
            FunctionTrigger::Event {
                event_type,
                pubsub_topic,
                filters,
            } => Some(EventTrigger {
                event_type: event_type.clone(),
                pubsub_topic: pubsub_topic.clone(),
                event_filters: filters
                    .iter()
                    .map(|(attribute, value)| EventFilter {
                        attribute: attribute.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            }),
        },
    }
}

#[cfg(test)]
#[path = "desired_tests.rs"]
mod tests;
