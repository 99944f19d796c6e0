//! The resources a service should have on Azure, as plain data for the planner, each kind with
//! one typed property struct: the resource group (when updraft owns it), a storage account (the
//! app's own storage, its deployment container and the deploy lock), a Flex Consumption plan,
//! Application Insights when asked, the Function App, and the app's code.
//!
//! The code is a kind of its own so that new code is one step and a changed setting another: its
//! only property is the hash of the package (the artifacts plus the generated `host.json` and
//! `function.json` files), which lives on the app as the `updraft-code` tag.
//!
//! Names are derived, never random, so a second deploy finds what the first created: the app is
//! `{prefix-}{service}-{stage}`, its plan and component add `-plan` and `-insights`, and the
//! storage account (3 to 24 lowercase letters and digits, unique across Azure) is the app name's
//! letters and digits with a hash of the subscription, group and app.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::app::{AppSpec, Reading};
use crate::package::Artifact;
use crate::plan::{Desired, DesiredState, Properties, ResourceId};
use crate::provider::typed::Typed;
use crate::provider::ProviderError;

pub const RESOURCE_GROUP: &str = "azure.resources.group";
pub const STORAGE_ACCOUNT: &str = "azure.storage.account";
pub const PLAN: &str = "azure.web.plan";
pub const INSIGHTS: &str = "azure.insights.component";
pub const FUNCTION_APP: &str = "azure.web.function-app";
/// The app's functions: its package. Named like a function kind, so that `deploy function` and
/// `deploy --force` find it.
pub const CODE: &str = "azure.web.function";

/// Pinned api-versions, one per resource provider.
pub const RESOURCES_API: &str = "2022-09-01";
pub const STORAGE_API: &str = "2023-05-01";
pub const WEB_API: &str = "2024-04-01";
pub const INSIGHTS_API: &str = "2020-02-02";

/// The tag that carries the hash of the deployed package.
pub const CODE_TAG: &str = "updraft-code";
/// The app setting that lists the settings updraft wrote, so that the rest are left alone.
pub const OWNED_SETTINGS: &str = "UPDRAFT_OWNED_SETTINGS";
/// The blob container Flex Consumption deploys from.
pub const DEPLOYMENT_CONTAINER: &str = "updraft-deployments";
/// The blob container of the deploy lock.
pub const LOCK_CONTAINER: &str = "updraft-lock";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceGroupProperties {
    pub location: String,
    pub tags: BTreeMap<String, String>,
}
impl Typed for ResourceGroupProperties {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageAccountProperties {
    pub location: String,
    /// `Standard_LRS`.
    pub sku: String,
    /// `StorageV2`.
    pub kind: String,
    pub tags: BTreeMap<String, String>,
}
impl Typed for StorageAccountProperties {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanProperties {
    pub location: String,
    /// `FC1`, the Flex Consumption plan.
    pub sku: String,
    pub tags: BTreeMap<String, String>,
}
impl Typed for PlanProperties {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightsProperties {
    pub location: String,
    /// `web`.
    pub application_type: String,
    pub tags: BTreeMap<String, String>,
}
impl Typed for InsightsProperties {}

/// The Function App: what Azure keeps per app. The connection strings it also gets (its storage,
/// its deployment container, Application Insights) hold keys, so they are written at apply time
/// from what Azure answers and are never part of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionAppProperties {
    pub location: String,
    /// The plan's name (in the same resource group).
    pub plan: String,
    pub runtime_name: String,
    pub runtime_version: String,
    #[serde(rename = "instanceMemoryMB")]
    pub instance_memory_mb: u32,
    pub maximum_instance_count: u32,
    /// The manifest's environment; settings updraft did not write are not compared.
    pub app_settings: BTreeMap<String, String>,
    /// Whether the app logs to Application Insights.
    pub insights: bool,
    pub tags: BTreeMap<String, String>,
}
impl Typed for FunctionAppProperties {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeProperties {
    pub sha256: String,
}
impl Typed for CodeProperties {}

/// The names of everything the app is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub subscription: String,
    pub resource_group: String,
    pub app: String,
    pub plan: String,
    pub insights: String,
    pub storage_account: String,
}

impl Names {
    pub fn of(app: &AppSpec, subscription: &str) -> Names {
        Names {
            subscription: subscription.to_string(),
            resource_group: app.resource_group.clone(),
            app: app.name.clone(),
            plan: format!("{}-plan", app.name),
            insights: format!("{}-insights", app.name),
            storage_account: storage_account_name(subscription, &app.resource_group, &app.name),
        }
    }

    /// `/subscriptions/{id}/resourceGroups/{group}`.
    pub fn group_path(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.subscription, self.resource_group
        )
    }

    pub fn storage_path(&self) -> String {
        format!(
            "{}/providers/Microsoft.Storage/storageAccounts/{}",
            self.group_path(),
            self.storage_account
        )
    }

    pub fn plan_path(&self) -> String {
        format!(
            "{}/providers/Microsoft.Web/serverfarms/{}",
            self.group_path(),
            self.plan
        )
    }

    pub fn insights_path(&self) -> String {
        format!(
            "{}/providers/Microsoft.Insights/components/{}",
            self.group_path(),
            self.insights
        )
    }

    pub fn app_path(&self) -> String {
        format!(
            "{}/providers/Microsoft.Web/sites/{}",
            self.group_path(),
            self.app
        )
    }
}

/// 3 to 24 lowercase letters and digits, unique across Azure: `ud`, up to 14 of the app name's
/// letters and digits, and 8 hex digits of a hash of where it lives.
pub fn storage_account_name(subscription: &str, resource_group: &str, app: &str) -> String {
    let letters: String = app
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(14)
        .collect();
    let hash = Sha256::digest(format!("{subscription}/{resource_group}/{app}").as_bytes());
    format!("ud{letters}{}", &hex::encode(hash)[..8])
}

/// The resources `reading`'s app should have, its code being `artifacts`.
pub fn desired(
    reading: &Reading,
    artifacts: &[Artifact],
    names: &Names,
) -> Result<DesiredState, ProviderError> {
    let app = &reading.app;
    let mut state = DesiredState::default();
    let mut push = |id: ResourceId,
                    properties: Properties,
                    depends_on: BTreeSet<ResourceId>,
                    replace_when: &[&str],
                    inputs: Properties| {
        state.resources.push(Desired {
            id,
            properties,
            inputs,
            depends_on,
            replace_when: replace_when.iter().map(|s| s.to_string()).collect(),
        });
    };
    let group = ResourceId::new(RESOURCE_GROUP, &names.resource_group);
    // A group updraft does not own is not in the plan: nothing waits on it, nothing deletes it.
    let in_group: BTreeSet<ResourceId> = if app.owns_resource_group {
        push(
            group.clone(),
            ResourceGroupProperties {
                location: app.region.clone(),
                tags: app.tags.clone(),
            }
            .to_properties(),
            BTreeSet::new(),
            &["location"],
            Properties::new(),
        );
        [group].into()
    } else {
        BTreeSet::new()
    };
    let storage = ResourceId::new(STORAGE_ACCOUNT, &names.storage_account);
    push(
        storage.clone(),
        storage_properties(app).to_properties(),
        in_group.clone(),
        &["location", "kind"],
        Properties::new(),
    );
    let plan = ResourceId::new(PLAN, &names.plan);
    push(
        plan.clone(),
        PlanProperties {
            location: app.region.clone(),
            sku: "FC1".into(),
            tags: app.tags.clone(),
        }
        .to_properties(),
        in_group.clone(),
        &["location", "sku"],
        Properties::new(),
    );
    let mut app_needs: BTreeSet<ResourceId> = [plan, storage].into();
    if app.insights {
        let insights = ResourceId::new(INSIGHTS, &names.insights);
        push(
            insights.clone(),
            InsightsProperties {
                location: app.region.clone(),
                application_type: "web".into(),
                tags: app.tags.clone(),
            }
            .to_properties(),
            in_group.clone(),
            &["location"],
            Properties::new(),
        );
        app_needs.insert(insights);
    }
    let function_app = ResourceId::new(FUNCTION_APP, &names.app);
    push(
        function_app.clone(),
        FunctionAppProperties {
            location: app.region.clone(),
            plan: names.plan.clone(),
            runtime_name: app.runtime.name.to_string(),
            runtime_version: app.runtime.version.to_string(),
            instance_memory_mb: app.instance_memory_mb,
            maximum_instance_count: app.maximum_instance_count,
            app_settings: app.app_settings.clone(),
            insights: app.insights,
            tags: app.tags.clone(),
        }
        .to_properties(),
        app_needs,
        &["location", "plan"],
        Properties::new(),
    );
    let used = used_artifacts(app, artifacts)?;
    let sha256 = super::package::code_hash(app, &used)?;
    let paths: Vec<serde_json::Value> = used
        .iter()
        .map(|artifact| serde_json::Value::String(artifact.path.display().to_string()))
        .collect();
    push(
        ResourceId::new(CODE, &names.app),
        CodeProperties { sha256 }.to_properties(),
        [function_app].into(),
        &[],
        [("artifacts".to_string(), serde_json::Value::Array(paths))].into(),
    );
    Ok(state)
}

pub fn storage_properties(app: &AppSpec) -> StorageAccountProperties {
    StorageAccountProperties {
        location: app.region.clone(),
        sku: "Standard_LRS".into(),
        kind: "StorageV2".into(),
        tags: app.tags.clone(),
    }
}

/// The artifacts that hold the app's functions, each once.
fn used_artifacts<'a>(
    app: &AppSpec,
    artifacts: &'a [Artifact],
) -> Result<Vec<&'a Artifact>, ProviderError> {
    let mut used: Vec<&Artifact> = Vec::new();
    for function in &app.functions {
        let artifact = artifacts
            .iter()
            .find(|artifact| artifact.functions.contains(&function.key))
            .ok_or_else(|| ProviderError::Invalid {
                message: format!("function `{}` has no packaged code", function.key),
                span: None,
                help: "run `updraft package` and check `package.patterns`".into(),
            })?;
        if !used.iter().any(|known| known.path == artifact.path) {
            used.push(artifact);
        }
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_account_names_fit_azures_rule_and_differ_per_place() {
        let name = storage_account_name("sub", "group", "a-very-long-service-name-production");
        assert!(name.len() <= 24 && name.len() >= 3, "{name}");
        assert!(name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_ne!(
            name,
            storage_account_name("other", "group", "a-very-long-service-name-production")
        );
        assert_eq!(
            name,
            storage_account_name("sub", "group", "a-very-long-service-name-production")
        );
    }
}
