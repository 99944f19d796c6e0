//! Reading what a service and stage have on Google Cloud: the functions that carry its
//! ownership labels, the scheduler jobs whose ids start with its prefix, and the public-invoker
//! binding on the Cloud Run service of each HTTP function. Reads only; a part that cannot be read
//! is recorded as unread, so a deploy refuses to plan from half a picture.

use std::collections::BTreeSet;

use serde_json::{json, Value as Json};

use super::backend::GcpBackend;
use super::call::{self, Api, Failure};
use super::desired::{
    self, PublicInvokerProperties, SchedulerJobProperties, ALL_USERS, FUNCTION, INVOKER_ROLE,
    PUBLIC_INVOKER, SCHEDULER_JOB,
};
use crate::plan::{Live, LiveState, Properties, ResourceId, Unread};
use crate::provider::typed::Typed;
use crate::provider::ProviderError;

/// The whole live state.
pub async fn live(backend: &GcpBackend) -> Result<LiveState, ProviderError> {
    let mut state = LiveState::default();
    let functions = match functions(backend).await {
        Ok(functions) => functions,
        Err(error) => {
            state.unread.push(Unread {
                part: "gcp.functions.function".into(),
                cause: error.to_string(),
            });
            Vec::new()
        }
    };
    // Only an HTTP function can be public; their policies are read a few at a time.
    let http_services: Vec<(String, String)> = functions
        .iter()
        .filter(|function| function.properties.event_trigger.is_none())
        .filter_map(|f| f.service.clone().map(|service| (f.id.clone(), service)))
        .collect();
    for (id, service, public) in public_invokers(backend, http_services).await {
        match public {
            Ok(true) => state.resources.push(Live {
                id: ResourceId::new(PUBLIC_INVOKER, &id),
                properties: PublicInvokerProperties {
                    service: json!(service),
                    role: INVOKER_ROLE.into(),
                    member: ALL_USERS.into(),
                }
                .to_properties(),
                attributes: Properties::new(),
                depends_on: BTreeSet::new(),
            }),
            Ok(false) => {}
            Err(error) => state.unread.push(Unread {
                part: format!("{PUBLIC_INVOKER} {id}"),
                cause: error.to_string(),
            }),
        }
    }
    match jobs(backend).await {
        Ok(jobs) => state.resources.extend(jobs),
        Err(error) => state.unread.push(Unread {
            part: SCHEDULER_JOB.into(),
            cause: error.to_string(),
        }),
    }
    // A function is deleted after what calls it: its jobs and its invoker binding.
    let dependants: Vec<(ResourceId, String)> = state
        .resources
        .iter()
        .filter_map(|resource| match resource.id.kind.as_str() {
            PUBLIC_INVOKER => Some((resource.id.clone(), resource.id.name.clone())),
            SCHEDULER_JOB => desired::scheduler_job_function(
                &backend.scope.service,
                &backend.scope.stage,
                &resource.id.name,
            )
            .map(|function| (resource.id.clone(), function.to_string())),
            _ => None,
        })
        .collect();
    for function in functions {
        let id = ResourceId::new(FUNCTION, &function.id);
        let depends_on = dependants
            .iter()
            .filter(|(_, name)| *name == function.id)
            .map(|(dependant, _)| dependant.clone())
            .collect();
        let mut attributes = Properties::new();
        attributes.insert("url".into(), json!(function.url));
        attributes.insert("service".into(), json!(function.service));
        attributes.insert(
            "serviceAccountEmail".into(),
            json!(function.properties.service_account_email),
        );
        attributes.insert("state".into(), json!(function.state));
        state.resources.push(Live {
            id,
            properties: function.properties.to_properties(),
            attributes,
            depends_on,
        });
    }
    state.resources.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(state)
}

/// Every function of the region that carries the service's and stage's labels.
async fn functions(backend: &GcpBackend) -> Result<Vec<super::live::LiveFunction>, ProviderError> {
    let parent = backend.parent();
    let mut found = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = backend
            .clients
            .functions
            .list_functions()
            .set_parent(&parent)
            .set_page_token(&page_token)
            .send()
            .await
            .map_err(|e| call::failed(Api::Functions, "functions.list", &parent, &e))?;
        for function in &page.functions {
            let api = serde_json::to_value(function).unwrap_or_default();
            if let Some(live) =
                super::live::read_function(&api, &backend.scope.service, &backend.scope.stage)
            {
                found.push(live);
            }
        }
        if page.next_page_token.is_empty() || page.next_page_token == page_token {
            break;
        }
        page_token = page.next_page_token;
    }
    Ok(found)
}

/// How many IAM policies are read at once.
const POLICY_READS_AT_ONCE: usize = 8;

/// Whether `allUsers` may invoke each `(function id, Cloud Run service)`, in the order given.
async fn public_invokers(
    backend: &GcpBackend,
    services: Vec<(String, String)>,
) -> Vec<(String, String, Result<bool, ProviderError>)> {
    let mut results = Vec::with_capacity(services.len());
    for chunk in services.chunks(POLICY_READS_AT_ONCE) {
        let mut reads = tokio::task::JoinSet::new();
        for (index, (_, service)) in chunk.iter().enumerate() {
            let run = backend.clients.run.clone();
            let service = service.clone();
            reads.spawn(async move { (index, public_invoker(&run, &service).await) });
        }
        let mut answers: Vec<Option<Result<bool, ProviderError>>> =
            (0..chunk.len()).map(|_| None).collect();
        while let Some(joined) = reads.join_next().await {
            if let Ok((index, answer)) = joined {
                answers[index] = Some(answer);
            }
        }
        for ((id, service), answer) in chunk.iter().zip(answers) {
            let answer = answer.unwrap_or_else(|| {
                Err(ProviderError::Call {
                    operation: "run:services.getIamPolicy".into(),
                    resource: service.clone(),
                    message: "the read stopped before it answered".into(),
                    help: "run the command again".into(),
                })
            });
            results.push((id.clone(), service.clone(), answer));
        }
    }
    results
}

/// Whether `allUsers` may invoke the Cloud Run service `service`.
async fn public_invoker(
    run: &google_cloud_run_v2::client::Services,
    service: &str,
) -> Result<bool, ProviderError> {
    match run.get_iam_policy().set_resource(service).send().await {
        Ok(policy) => Ok(policy.bindings.iter().any(|binding| {
            binding.role == INVOKER_ROLE && binding.members.iter().any(|m| m == ALL_USERS)
        })),
        // The function's service is being made or removed: it is not public.
        Err(error) if call::failure(&error) == Failure::NotFound => Ok(false),
        Err(error) => Err(call::failed(
            Api::Run,
            "services.getIamPolicy",
            service,
            &error,
        )),
    }
}

/// The scheduler jobs whose ids carry the service's and stage's prefix.
async fn jobs(backend: &GcpBackend) -> Result<Vec<Live>, ProviderError> {
    let parent = backend.parent();
    let prefix = desired::scheduler_job_prefix(&backend.scope.service, &backend.scope.stage);
    let mut found = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = backend
            .clients
            .scheduler
            .list_jobs()
            .set_parent(&parent)
            .set_page_token(&page_token)
            .send()
            .await
            .map_err(|e| call::failed(Api::Scheduler, "jobs.list", &parent, &e))?;
        for job in &page.jobs {
            let id = job.name.rsplit('/').next().unwrap_or_default();
            if !id.starts_with(&prefix) {
                continue;
            }
            let target = job.http_target();
            let properties = SchedulerJobProperties {
                schedule: job.schedule.clone(),
                time_zone: job.time_zone.clone(),
                uri: json!(target.map(|t| t.uri.clone()).unwrap_or_default()),
                http_method: target
                    .and_then(|t| t.http_method.name().map(str::to_string))
                    .unwrap_or_default(),
                service_account_email: json!(target
                    .and_then(|t| t.oidc_token())
                    .map(|token| token.service_account_email.clone())
                    .unwrap_or_default()),
            };
            found.push(Live {
                id: ResourceId::new(SCHEDULER_JOB, id),
                properties: properties.to_properties(),
                attributes: [("name".to_string(), Json::String(job.name.clone()))].into(),
                depends_on: BTreeSet::new(),
            });
        }
        if page.next_page_token.is_empty() || page.next_page_token == page_token {
            break;
        }
        page_token = page.next_page_token;
    }
    Ok(found)
}
