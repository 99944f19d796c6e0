//! Reading what a service and stage have on Azure: each resource by its derived name, kept when
//! it carries the service's ownership tags. Reads only (an app's settings are read with ARM's
//! `config/appsettings/list`, a POST that changes nothing).
//!
//! A resource that exists under the service's name without its tags belongs to someone else:
//! it is reported as unread, so a deploy refuses to plan over it rather than take it over.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value as Json};

use super::arm::{Arm, ArmError};
use super::resources::{
    CodeProperties, FunctionAppProperties, InsightsProperties, Names, PlanProperties,
    ResourceGroupProperties, StorageAccountProperties, CODE, CODE_TAG, FUNCTION_APP, INSIGHTS,
    INSIGHTS_API, OWNED_SETTINGS, PLAN, RESOURCES_API, RESOURCE_GROUP, STORAGE_ACCOUNT,
    STORAGE_API, WEB_API,
};
use crate::plan::{Live, LiveState, Properties, ResourceId, Unread};
use crate::provider::typed::Typed;
use crate::provider::Scope;

/// The whole live state of the app named by `names`.
pub async fn live(arm: &Arm, names: &Names, scope: &Scope, owns_group: bool) -> LiveState {
    let mut state = LiveState::default();
    let owner = Owner { scope };
    let group_id = ResourceId::new(RESOURCE_GROUP, &names.resource_group);
    let paths = [
        names.group_path(),
        names.storage_path(),
        names.plan_path(),
        names.insights_path(),
        names.app_path(),
    ];
    let (group, storage, plan, insights, site) = tokio::join!(
        arm.get(&paths[0], RESOURCES_API),
        arm.get(&paths[1], STORAGE_API),
        arm.get(&paths[2], WEB_API),
        arm.get(&paths[3], INSIGHTS_API),
        arm.get(&paths[4], WEB_API),
    );
    // A group the manifest names is not updraft's: it is never part of the plan.
    let in_group: BTreeSet<ResourceId> = if owns_group {
        match owner.check(&group_id, group) {
            Ok(Some(group)) => {
                state.resources.push(Live {
                    id: group_id.clone(),
                    properties: ResourceGroupProperties {
                        location: region(&group),
                        tags: tags(&group),
                    }
                    .to_properties(),
                    attributes: Properties::new(),
                    depends_on: BTreeSet::new(),
                });
                [group_id].into()
            }
            Ok(None) => BTreeSet::new(),
            Err(unread) => {
                state.unread.push(unread);
                BTreeSet::new()
            }
        }
    } else {
        BTreeSet::new()
    };
    let storage_id = ResourceId::new(STORAGE_ACCOUNT, &names.storage_account);
    match owner.check(&storage_id, storage) {
        Ok(Some(account)) => state.resources.push(Live {
            id: storage_id.clone(),
            properties: StorageAccountProperties {
                location: region(&account),
                sku: account
                    .pointer("/sku/name")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string(),
                kind: text(&account, "kind"),
                tags: tags(&account),
            }
            .to_properties(),
            attributes: [(
                "blobEndpoint".to_string(),
                account
                    .pointer("/properties/primaryEndpoints/blob")
                    .cloned()
                    .unwrap_or(Json::Null),
            )]
            .into(),
            depends_on: in_group.clone(),
        }),
        Ok(None) => {}
        Err(unread) => state.unread.push(unread),
    }
    let plan_id = ResourceId::new(PLAN, &names.plan);
    match owner.check(&plan_id, plan) {
        Ok(Some(plan)) => state.resources.push(Live {
            id: plan_id.clone(),
            properties: PlanProperties {
                location: region(&plan),
                sku: plan
                    .pointer("/sku/name")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string(),
                tags: tags(&plan),
            }
            .to_properties(),
            attributes: Properties::new(),
            depends_on: in_group.clone(),
        }),
        Ok(None) => {}
        Err(unread) => state.unread.push(unread),
    }
    let insights_id = ResourceId::new(INSIGHTS, &names.insights);
    let mut app_needs: BTreeSet<ResourceId> = [plan_id, storage_id].into();
    match owner.check(&insights_id, insights) {
        Ok(Some(component)) => {
            state.resources.push(Live {
                id: insights_id.clone(),
                properties: InsightsProperties {
                    location: region(&component),
                    application_type: component
                        .pointer("/properties/Application_Type")
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    tags: tags(&component),
                }
                .to_properties(),
                attributes: Properties::new(),
                depends_on: in_group.clone(),
            });
            app_needs.insert(insights_id);
        }
        Ok(None) => {}
        Err(unread) => state.unread.push(unread),
    }
    let app_id = ResourceId::new(FUNCTION_APP, &names.app);
    let site = match owner.check(&app_id, site) {
        Ok(site) => site,
        Err(unread) => {
            state.unread.push(unread);
            None
        }
    };
    let Some(site) = site else {
        return state;
    };
    let settings = match arm
        .call(
            azure_core::http::Method::Post,
            &format!("{}/config/appsettings/list", names.app_path()),
            WEB_API,
            None,
        )
        .await
    {
        Ok(answer) => settings_of(&answer.body),
        Err(error) => {
            state.unread.push(Unread {
                part: format!("{FUNCTION_APP} {} (app settings)", names.app),
                cause: error.to_string(),
            });
            return state;
        }
    };
    let mut site_tags = tags(&site);
    let code = site_tags.remove(CODE_TAG);
    state.resources.push(Live {
        id: app_id.clone(),
        properties: app_properties(&site, site_tags, &settings).to_properties(),
        attributes: [
            (
                "defaultHostName".to_string(),
                site.pointer("/properties/defaultHostName")
                    .cloned()
                    .unwrap_or(Json::Null),
            ),
            ("codeTag".to_string(), json!(code)),
        ]
        .into(),
        depends_on: app_needs,
    });
    if let Some(sha256) = code {
        state.resources.push(Live {
            id: ResourceId::new(CODE, &names.app),
            properties: CodeProperties { sha256 }.to_properties(),
            attributes: Properties::new(),
            depends_on: [app_id].into(),
        });
    }
    state
}

/// Keeps what carries the scope's ownership tags.
struct Owner<'a> {
    scope: &'a Scope,
}

impl Owner<'_> {
    fn check(
        &self,
        id: &ResourceId,
        read: Result<Option<Json>, ArmError>,
    ) -> Result<Option<Json>, Unread> {
        let resource = match read {
            Ok(Some(resource)) => resource,
            Ok(None) => return Ok(None),
            Err(error) => {
                return Err(Unread {
                    part: id.to_string(),
                    cause: error.to_string(),
                })
            }
        };
        let tags = tags(&resource);
        let owned = tags.get("updraft-service") == Some(&self.scope.service)
            && tags.get("updraft-stage") == Some(&self.scope.stage);
        if owned {
            Ok(Some(resource))
        } else {
            Err(Unread {
                part: id.to_string(),
                cause: format!(
                    "it exists without the tags updraft-service={} and updraft-stage={}: updraft does not take over what it did not create (choose another `provider.prefix`, or delete it)",
                    self.scope.service, self.scope.stage
                ),
            })
        }
    }
}

/// A Function App as the typed properties, its settings being the whole map Azure holds.
pub fn app_properties(
    site: &Json,
    tags: BTreeMap<String, String>,
    settings: &BTreeMap<String, String>,
) -> FunctionAppProperties {
    let config = site
        .pointer("/properties/functionAppConfig")
        .unwrap_or(&Json::Null);
    let number = |pointer: &str| {
        config
            .pointer(pointer)
            .and_then(Json::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or_default()
    };
    FunctionAppProperties {
        location: region(site),
        plan: site
            .pointer("/properties/serverFarmId")
            .and_then(Json::as_str)
            .and_then(|id| id.rsplit('/').next())
            .unwrap_or_default()
            .to_string(),
        runtime_name: config
            .pointer("/runtime/name")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        runtime_version: config
            .pointer("/runtime/version")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        instance_memory_mb: number("/scaleAndConcurrency/instanceMemoryMB"),
        maximum_instance_count: number("/scaleAndConcurrency/maximumInstanceCount"),
        app_settings: owned_settings(settings),
        insights: settings.contains_key("APPLICATIONINSIGHTS_CONNECTION_STRING"),
        tags,
    }
}

/// The settings updraft wrote (listed in [`OWNED_SETTINGS`]); the others are not compared.
pub fn owned_settings(settings: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let owned: BTreeSet<&str> = settings
        .get(OWNED_SETTINGS)
        .map(|list| list.split(',').filter(|k| !k.is_empty()).collect())
        .unwrap_or_default();
    settings
        .iter()
        .filter(|(key, _)| owned.contains(key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// The `properties` of a `StringDictionary`.
pub fn settings_of(body: &Json) -> BTreeMap<String, String> {
    body.get("properties")
        .and_then(Json::as_object)
        .map(|map| {
            map.iter()
                .map(|(key, value)| {
                    (
                        key.clone(),
                        value
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| value.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn tags(resource: &Json) -> BTreeMap<String, String> {
    resource
        .get("tags")
        .and_then(Json::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn text(resource: &Json, key: &str) -> String {
    resource
        .get(key)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Web resources answer their location as a display name (`West US 2`); compared as `westus2`.
fn region(resource: &Json) -> String {
    super::app::region(&text(resource, "location"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_settings_updraft_wrote_are_compared() {
        let settings: BTreeMap<String, String> = [
            ("GREETING", "hello"),
            ("SET_IN_THE_PORTAL", "x"),
            (
                "AzureWebJobsStorage",
                "DefaultEndpointsProtocol=https;AccountKey=secret",
            ),
            (OWNED_SETTINGS, "GREETING"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let owned = owned_settings(&settings);
        assert_eq!(owned.keys().collect::<Vec<_>>(), vec!["GREETING"]);
    }

    #[test]
    fn a_site_reads_back_as_the_properties_it_was_created_with() {
        let site = json!({
            "location": "West US 2",
            "tags": {"updraft-service": "svc"},
            "properties": {
                "serverFarmId": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/serverfarms/svc-dev-plan",
                "functionAppConfig": {
                    "runtime": {"name": "node", "version": "20"},
                    "scaleAndConcurrency": {"instanceMemoryMB": 2048, "maximumInstanceCount": 100}
                }
            }
        });
        let properties = app_properties(&site, tags(&site), &BTreeMap::new());
        assert_eq!(properties.location, "westus2");
        assert_eq!(properties.plan, "svc-dev-plan");
        assert_eq!(properties.instance_memory_mb, 2048);
        assert!(!properties.insights);
    }
}
