//! API keys and the usage plan: `provider.apiGateway.apiKeys` (names, or `{name, value,
//! description, customerId, enabled}`), `provider.apiGateway.usagePlan` (`quota`, `throttle`),
//! and `private: true` on an `http` event, which makes its method ask for a key.
//!
//! As the Framework does, one usage plan named `{service}-{stage}` serves the API's stage and
//! holds every key. Keys and the plan carry the ownership tags, so the live reader finds them
//! in the account's listings. A key's value is a secret: when the manifest gives one, the plan
//! compares a digest of it, and the value itself is only an input of the apply, never shown.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_apigateway::types::{ApiStage, QuotaPeriodType, QuotaSettings, ThrottleSettings};
use aws_sdk_apigateway::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use super::super::super::kinds::Typed;
use super::super::super::naming::{self, kind};
use crate::plan::{Action, Desired, Live, Properties, Reference, ResourceId, Step};
use crate::provider::aws::call::deleted;
use crate::provider::aws::context::Context;
use crate::provider::aws::triggers::{attribute, call_error, owned, Site};
use crate::provider::ProviderError;

/// An API key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyProperties {
    pub name: String,
    pub description: Option<String>,
    pub customer_id: Option<String>,
    pub enabled: bool,
    /// A digest of the value the manifest gives; none when API Gateway makes the value.
    pub value_digest: Option<String>,
    pub tags: BTreeMap<String, String>,
}

impl Typed for ApiKeyProperties {}

/// The usage plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsagePlanProperties {
    pub name: String,
    /// `{"api_id": ..., "stage": ...}`; the API is a reference until apply.
    pub api_stage: Json,
    /// `{"limit", "offset", "period"}`, null when none.
    pub quota: Json,
    /// `{"burst_limit", "rate_limit"}`, null when none.
    pub throttle: Json,
    pub tags: BTreeMap<String, String>,
}

impl Typed for UsagePlanProperties {}

/// A key of the usage plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsagePlanKeyProperties {
    pub usage_plan_id: Json,
    pub key_id: Json,
}

impl Typed for UsagePlanKeyProperties {}

/// Marks a key whose value the manifest gives, so the live reader knows to compare it.
const VALUE_TAG: &str = "updraft:value";

fn digest(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))[..16].to_string()
}

/// The keys, the plan and its keys, once the API and its stage are known. An error names the
/// setting it cannot read.
pub fn desired(
    context: &Context<'_>,
    api: &ResourceId,
    deployment: &ResourceId,
) -> Result<Vec<Desired>, String> {
    let gateway = context.service.provider.api_gateway.as_ref();
    let keys = gateway.and_then(|g| g.get("apiKeys"));
    let plan = gateway.and_then(|g| g.get("usagePlan"));
    if keys.is_none() && plan.is_none() {
        return Ok(Vec::new());
    }
    if plan.is_some_and(Json::is_array) {
        return Err(
            "several usage plans (`usagePlan` as a list) are not deployed yet: give one \
                    `usagePlan` map"
                .into(),
        );
    }
    let mut resources = Vec::new();
    let plan_name = format!("{}-{}", context.service.name, context.stage);
    let plan_id = naming::id(kind::REST_API_USAGE_PLAN, &plan_name);
    let number =
        |value: Option<&Json>| value.and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()));
    let quota = plan
        .and_then(|p| p.get("quota"))
        .map(|q| {
            json!({
                "limit": number(q.get("limit")).map(|n| n as i64).unwrap_or(0),
                "offset": number(q.get("offset")).map(|n| n as i64).unwrap_or(0),
                "period": q.get("period").and_then(Json::as_str).map(str::to_ascii_uppercase),
            })
        })
        .unwrap_or(Json::Null);
    let throttle = plan
        .and_then(|p| p.get("throttle"))
        .map(|t| {
            json!({
                "burst_limit": number(t.get("burstLimit")).map(|n| n as i64).unwrap_or(0),
                "rate_limit": number(t.get("rateLimit")).unwrap_or(0.0),
            })
        })
        .unwrap_or(Json::Null);
    resources.push(Desired {
        id: plan_id.clone(),
        properties: UsagePlanProperties {
            name: plan_name,
            api_stage: json!({
                "api_id": Reference::new(api.clone(), "id").to_json(),
                "stage": context.stage,
            }),
            quota,
            throttle,
            tags: context.tags.clone(),
        }
        .to_properties(),
        inputs: Properties::new(),
        // The stage must exist before a plan can serve it.
        depends_on: BTreeSet::from([api.clone(), deployment.clone()]),
        replace_when: BTreeSet::new(),
    });
    for key in keys.and_then(Json::as_array).into_iter().flatten() {
        let (name, value, description, customer_id, enabled) = match key {
            Json::String(name) => (name.clone(), None, None, None, true),
            Json::Object(fields) if fields.contains_key("name") || fields.contains_key("value") => {
                let text =
                    |field: &str| fields.get(field).and_then(Json::as_str).map(str::to_string);
                let Some(name) = text("name") else {
                    return Err("an API key under provider.apiGateway.apiKeys has no `name`".into());
                };
                (
                    name,
                    text("value"),
                    text("description"),
                    text("customerId"),
                    fields
                        .get("enabled")
                        .and_then(Json::as_bool)
                        .unwrap_or(true),
                )
            }
            _ => {
                return Err(
                    "API keys grouped by usage plan are not deployed yet: list the keys' names \
                     or `{name, value}` maps under provider.apiGateway.apiKeys"
                        .into(),
                )
            }
        };
        if value.as_ref().is_some_and(|v| v.len() < 20) {
            return Err(format!(
                "the value of the API key `{name}` is shorter than the 20 characters API Gateway asks for"
            ));
        }
        let key_id = naming::id(kind::REST_API_KEY, &name);
        let mut tags = context.tags.clone();
        if value.is_some() {
            tags.insert(VALUE_TAG.to_string(), "given".to_string());
        }
        resources.push(Desired {
            id: key_id.clone(),
            properties: ApiKeyProperties {
                name: name.clone(),
                description,
                customer_id,
                enabled,
                value_digest: value.as_deref().map(digest),
                tags,
            }
            .to_properties(),
            inputs: value
                .map(|v| Properties::from([("value".to_string(), json!(v))]))
                .unwrap_or_default(),
            depends_on: BTreeSet::new(),
            replace_when: BTreeSet::from(["value_digest".to_string(), "name".to_string()]),
        });
        resources.push(Desired {
            id: naming::id(kind::REST_API_USAGE_PLAN_KEY, &name),
            properties: UsagePlanKeyProperties {
                usage_plan_id: Reference::new(plan_id.clone(), "id").to_json(),
                key_id: Reference::new(key_id.clone(), "id").to_json(),
            }
            .to_properties(),
            inputs: Properties::new(),
            depends_on: BTreeSet::from([plan_id.clone(), key_id]),
            replace_when: BTreeSet::from(["usage_plan_id".to_string(), "key_id".to_string()]),
        });
    }
    Ok(resources)
}

/// The service's keys, usage plans and the plans' keys.
pub async fn live(client: &Client, site: &Site) -> Result<Vec<Live>, ProviderError> {
    let (keys, plans) = tokio::join!(
        client.get_api_keys().include_values(true).limit(500).send(),
        client.get_usage_plans().limit(500).send(),
    );
    let keys = keys.map_err(|e| call_error("apigateway:GET /apikeys", "API keys", &e))?;
    let plans = plans.map_err(|e| call_error("apigateway:GET /usageplans", "usage plans", &e))?;
    let mut found = Vec::new();
    let mut key_names: BTreeMap<String, String> = BTreeMap::new();
    for key in keys.items() {
        let tags = key.tags().cloned().unwrap_or_default();
        let (Some(key_id), Some(name)) = (key.id(), key.name()) else {
            continue;
        };
        if !owned(&tags, &site.service, &site.stage) {
            continue;
        }
        key_names.insert(key_id.to_string(), name.to_string());
        found.push(Live {
            id: naming::id(kind::REST_API_KEY, name),
            properties: ApiKeyProperties {
                name: name.to_string(),
                description: key
                    .description()
                    .filter(|d| !d.is_empty())
                    .map(str::to_string),
                customer_id: key
                    .customer_id()
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
                enabled: key.enabled(),
                value_digest: key
                    .value()
                    .filter(|_| tags.contains_key(VALUE_TAG))
                    .map(digest),
                tags: tags.clone().into_iter().collect(),
            }
            .to_properties(),
            attributes: Properties::from([("id".to_string(), json!(key_id))]),
            depends_on: BTreeSet::new(),
        });
    }
    for plan in plans.items() {
        let tags = plan.tags().cloned().unwrap_or_default();
        let (Some(plan_id), Some(name)) = (plan.id(), plan.name()) else {
            continue;
        };
        if !owned(&tags, &site.service, &site.stage) {
            continue;
        }
        let id = naming::id(kind::REST_API_USAGE_PLAN, name);
        let stage = plan.api_stages().first();
        let quota = plan.quota().map(|q| {
            json!({
                "limit": q.limit(),
                "offset": q.offset(),
                "period": q.period().map(|p| p.as_str().to_string()),
            })
        });
        let throttle = plan
            .throttle()
            .map(|t| json!({"burst_limit": t.burst_limit(), "rate_limit": t.rate_limit()}));
        found.push(Live {
            id: id.clone(),
            properties: UsagePlanProperties {
                name: name.to_string(),
                api_stage: json!({
                    "api_id": stage.and_then(|s| s.api_id()),
                    "stage": stage.and_then(|s| s.stage()),
                }),
                // API Gateway reports limits a plan does not have as zeros.
                quota: quota
                    .filter(|q| q["limit"] != json!(0) || !q["period"].is_null())
                    .unwrap_or(Json::Null),
                throttle: throttle
                    .filter(|t| t["burst_limit"] != json!(0) || t["rate_limit"] != json!(0.0))
                    .unwrap_or(Json::Null),
                tags: tags.into_iter().collect(),
            }
            .to_properties(),
            attributes: Properties::from([("id".to_string(), json!(plan_id))]),
            depends_on: BTreeSet::new(),
        });
        let plan_keys = client
            .get_usage_plan_keys()
            .usage_plan_id(plan_id)
            .limit(500)
            .send()
            .await
            .map_err(|e| call_error("apigateway:GET /usageplans/{id}/keys", name, &e))?;
        for plan_key in plan_keys.items() {
            let Some(key_id) = plan_key.id() else {
                continue;
            };
            let key_name = key_names
                .get(key_id)
                .cloned()
                .unwrap_or_else(|| plan_key.name().unwrap_or(key_id).to_string());
            found.push(Live {
                id: naming::id(kind::REST_API_USAGE_PLAN_KEY, &key_name),
                properties: UsagePlanKeyProperties {
                    usage_plan_id: json!(plan_id),
                    key_id: json!(key_id),
                }
                .to_properties(),
                attributes: Properties::from([("id".to_string(), json!(key_id))]),
                depends_on: BTreeSet::from([id.clone(), naming::id(kind::REST_API_KEY, &key_name)]),
            });
        }
    }
    Ok(found)
}

/// Creates, updates or deletes a key, the plan or a key of the plan.
pub async fn apply(
    client: &Client,
    site: &Site,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let resource = step.id.to_string();
    let live_id = attribute(step.live.as_ref(), "id").unwrap_or_default();
    if matches!(step.action, Action::Delete | Action::Replace) {
        delete(client, step, &live_id, &resource).await?;
        if step.action == Action::Delete {
            return Ok(Properties::new());
        }
    }
    let updating = step.action == Action::Update;
    let id = match step.id.kind.as_str() {
        kind::REST_API_KEY => {
            let wanted = ApiKeyProperties::from_properties(properties, &step.id)?;
            if updating {
                let replace = |path: &str, value: Option<String>| {
                    aws_sdk_apigateway::types::PatchOperation::builder()
                        .op(aws_sdk_apigateway::types::Op::Replace)
                        .path(path)
                        .set_value(value)
                        .build()
                };
                client
                    .update_api_key()
                    .api_key(&live_id)
                    .patch_operations(replace("/description", wanted.description.clone()))
                    .patch_operations(replace("/customerId", wanted.customer_id.clone()))
                    .patch_operations(replace("/enabled", Some(wanted.enabled.to_string())))
                    .send()
                    .await
                    .map_err(|e| call_error("apigateway:PATCH /apikeys/{id}", &resource, &e))?;
                let arn = format!(
                    "arn:{}:apigateway:{}::/apikeys/{live_id}",
                    site.partition, site.region
                );
                let current = ApiKeyProperties::live_of(step)?
                    .map(|c| c.tags)
                    .unwrap_or_default();
                let change =
                    crate::provider::aws::kinds::TagChange::between(&current, &wanted.tags);
                retag(client, &arn, change, &resource).await?;
                live_id
            } else {
                let value = step
                    .desired
                    .as_ref()
                    .and_then(|d| d.inputs.get("value"))
                    .and_then(Json::as_str)
                    .map(str::to_string);
                client
                    .create_api_key()
                    .name(&wanted.name)
                    .set_value(value)
                    .set_description(wanted.description.clone())
                    .set_customer_id(wanted.customer_id.clone())
                    .enabled(wanted.enabled)
                    .set_tags(Some(wanted.tags.clone().into_iter().collect()))
                    .send()
                    .await
                    .map_err(|e| call_error("apigateway:POST /apikeys", &resource, &e))?
                    .id()
                    .unwrap_or_default()
                    .to_string()
            }
        }
        kind::REST_API_USAGE_PLAN => {
            let wanted = UsagePlanProperties::from_properties(properties, &step.id)?;
            let quota = (!wanted.quota.is_null()).then(|| {
                QuotaSettings::builder()
                    .set_limit(wanted.quota["limit"].as_i64().map(|l| l as i32))
                    .offset(wanted.quota["offset"].as_i64().unwrap_or(0) as i32)
                    .set_period(wanted.quota["period"].as_str().map(QuotaPeriodType::from))
                    .build()
            });
            let throttle = (!wanted.throttle.is_null()).then(|| {
                ThrottleSettings::builder()
                    .set_burst_limit(wanted.throttle["burst_limit"].as_i64().map(|b| b as i32))
                    .set_rate_limit(wanted.throttle["rate_limit"].as_f64())
                    .build()
            });
            if updating {
                // A plan's limits are replaced whole: deleting and creating it would drop its
                // keys, so they are patched.
                let mut patch = client.update_usage_plan().usage_plan_id(&live_id);
                for (path, value) in [
                    (
                        "/quota/limit",
                        wanted.quota["limit"].as_i64().map(|v| v.to_string()),
                    ),
                    (
                        "/quota/offset",
                        wanted.quota["offset"].as_i64().map(|v| v.to_string()),
                    ),
                    (
                        "/quota/period",
                        wanted.quota["period"].as_str().map(str::to_string),
                    ),
                    (
                        "/throttle/burstLimit",
                        wanted.throttle["burst_limit"]
                            .as_i64()
                            .map(|v| v.to_string()),
                    ),
                    (
                        "/throttle/rateLimit",
                        wanted.throttle["rate_limit"]
                            .as_f64()
                            .map(|v| v.to_string()),
                    ),
                ] {
                    let operation = match value {
                        Some(value) => aws_sdk_apigateway::types::PatchOperation::builder()
                            .op(aws_sdk_apigateway::types::Op::Replace)
                            .path(path)
                            .value(value),
                        None => aws_sdk_apigateway::types::PatchOperation::builder()
                            .op(aws_sdk_apigateway::types::Op::Remove)
                            .path(path),
                    };
                    patch = patch.patch_operations(operation.build());
                }
                patch
                    .send()
                    .await
                    .map_err(|e| call_error("apigateway:PATCH /usageplans/{id}", &resource, &e))?;
                live_id
            } else {
                let stage = ApiStage::builder()
                    .set_api_id(wanted.api_stage["api_id"].as_str().map(str::to_string))
                    .set_stage(wanted.api_stage["stage"].as_str().map(str::to_string))
                    .build();
                client
                    .create_usage_plan()
                    .name(&wanted.name)
                    .api_stages(stage)
                    .set_quota(quota)
                    .set_throttle(throttle)
                    .set_tags(Some(wanted.tags.clone().into_iter().collect()))
                    .send()
                    .await
                    .map_err(|e| call_error("apigateway:POST /usageplans", &resource, &e))?
                    .id()
                    .unwrap_or_default()
                    .to_string()
            }
        }
        _ => {
            let wanted = UsagePlanKeyProperties::from_properties(properties, &step.id)?;
            let key_id = wanted.key_id.as_str().unwrap_or_default().to_string();
            client
                .create_usage_plan_key()
                .set_usage_plan_id(wanted.usage_plan_id.as_str().map(str::to_string))
                .key_id(&key_id)
                .key_type("API_KEY")
                .send()
                .await
                .map_err(|e| call_error("apigateway:POST /usageplans/{id}/keys", &resource, &e))?;
            key_id
        }
    };
    Ok(Properties::from([("id".to_string(), json!(id))]))
}

async fn delete(
    client: &Client,
    step: &Step,
    live_id: &str,
    resource: &str,
) -> Result<(), ProviderError> {
    const NOT_FOUND: &str = "NotFoundException";
    match step.id.kind.as_str() {
        kind::REST_API_KEY => deleted(
            client.delete_api_key().api_key(live_id).send().await,
            NOT_FOUND,
            "apigateway:DELETE /apikeys/{id}",
            resource,
        ),
        kind::REST_API_USAGE_PLAN => {
            // A plan is deleted once it serves no stage.
            let _ = client
                .update_usage_plan()
                .usage_plan_id(live_id)
                .patch_operations(
                    aws_sdk_apigateway::types::PatchOperation::builder()
                        .op(aws_sdk_apigateway::types::Op::Remove)
                        .path("/apiStages")
                        .set_value(step.live.as_ref().and_then(|live| {
                            let stage = live.properties.get("api_stage")?;
                            Some(format!(
                                "{}:{}",
                                stage["api_id"].as_str()?,
                                stage["stage"].as_str()?
                            ))
                        }))
                        .build(),
                )
                .send()
                .await;
            deleted(
                client
                    .delete_usage_plan()
                    .usage_plan_id(live_id)
                    .send()
                    .await,
                NOT_FOUND,
                "apigateway:DELETE /usageplans/{id}",
                resource,
            )
        }
        _ => {
            let plan = step
                .live
                .as_ref()
                .and_then(|live| live.properties.get("usage_plan_id"))
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string();
            deleted(
                client
                    .delete_usage_plan_key()
                    .usage_plan_id(plan)
                    .key_id(live_id)
                    .send()
                    .await,
                NOT_FOUND,
                "apigateway:DELETE /usageplans/{id}/keys/{id}",
                resource,
            )
        }
    }
}

crate::provider::aws::triggers::api_gateway_retag!(
    Client,
    "apigateway:PUT /tags",
    "apigateway:DELETE /tags"
);
