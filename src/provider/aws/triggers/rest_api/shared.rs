//! A REST API the service does not own: `provider.apiGateway.restApiId` with
//! `restApiRootResourceId` (and `restApiResources`, paths that already exist in it). The
//! service deploys its resources, methods and a deployment of its stage into that API, as the
//! Framework does for services that share one gateway, and never changes or deletes the API,
//! its stage, or anything another service put there.
//!
//! Nothing in an API Gateway resource or method says who made it, so what is the service's is
//! what the deploy state records (the paths and methods it created, by API id); every other
//! path and method of the API is left out of the live state, and so out of any plan.
//!
//! The ids may be literal or `Fn::ImportValue` of another stack's export, which must be known
//! before anything is created: [`imports`] names the exports to read when connecting, and the
//! desired state reads them from [`Context::exports`].

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_apigateway::error::ProvideErrorMetadata;
use aws_sdk_apigateway::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::cloud::attributes;
use crate::manifest::model::Service;
use crate::plan::{Action, Desired, Live, Properties, ResourceId, Step};
use crate::provider::aws::context::Context;
use crate::provider::aws::kinds::Typed;
use crate::provider::aws::naming::{self, kind};
use crate::provider::aws::triggers::{call_error, Site};
use crate::provider::ProviderError;

/// The settings that place the service in an API it does not own.
pub const SETTINGS: &[&str] = &["restApiId", "restApiRootResourceId", "restApiResources"];

/// The shared API as the service names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedRestApiProperties {
    pub rest_api_id: String,
    pub root_resource_id: String,
}

impl Typed for SharedRestApiProperties {}

/// The API's ids, known before anything is created.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedApi {
    pub id: String,
    pub root: String,
    /// `restApiResources`: path (`/users`) to the id of a resource that already exists.
    pub resources: BTreeMap<String, String>,
}

/// The export names `provider.apiGateway`'s shared-API settings import.
pub fn imports(service: &Service) -> Vec<String> {
    let gateway = service.provider.api_gateway.as_ref();
    let mut names = Vec::new();
    let mut collect = |value: &Json| {
        if let Some(name) = value.get("Fn::ImportValue").and_then(Json::as_str) {
            names.push(name.to_string());
        }
    };
    for key in ["restApiId", "restApiRootResourceId"] {
        if let Some(value) = gateway.and_then(|g| g.get(key)) {
            collect(value);
        }
    }
    if let Some(resources) = gateway
        .and_then(|g| g.get("restApiResources"))
        .and_then(Json::as_object)
    {
        resources.values().for_each(&mut collect);
    }
    names.sort();
    names.dedup();
    names
}

/// Reads the region's exports named in `names` (one paginated listing; none when no name).
pub async fn read_exports(
    client: &aws_sdk_cloudformation::Client,
    names: &[String],
) -> Result<BTreeMap<String, String>, ProviderError> {
    let mut found = BTreeMap::new();
    if names.is_empty() {
        return Ok(found);
    }
    let mut token = None;
    loop {
        let page = client
            .list_exports()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                crate::provider::aws::call::failed(
                    "cloudformation:ListExports",
                    "the exports provider.apiGateway imports",
                    &e,
                )
            })?;
        for export in page.exports() {
            if let (Some(name), Some(value)) = (export.name(), export.value()) {
                if names.iter().any(|n| n == name) {
                    found.insert(name.to_string(), value.to_string());
                }
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(found)
}

/// The shared API the manifest names, `None` when the service has its own. An error (the
/// message) when only one of the ids is given, or a value is neither text nor an export.
pub fn settings(context: &Context<'_>) -> Result<Option<SharedApi>, String> {
    let gateway = context.service.provider.api_gateway.as_ref();
    let value = |key: &str, value: &Json| -> Result<String, String> {
        if let Some(text) = value.as_str() {
            return Ok(text.to_string());
        }
        if let Some(name) = value.get("Fn::ImportValue").and_then(Json::as_str) {
            return context.exports.get(name).cloned().ok_or_else(|| {
                format!(
                    "`provider.apiGateway.{key}` imports `{name}`, which no stack in {} exports; \
                     deploy the service that exports it first",
                    context.region
                )
            });
        }
        Err(format!(
            "`provider.apiGateway.{key}` must be an id or `Fn::ImportValue` of an export"
        ))
    };
    let Some(id) = gateway.and_then(|g| g.get("restApiId")) else {
        if gateway.is_some_and(|g| {
            g.get("restApiRootResourceId").is_some() || g.get("restApiResources").is_some()
        }) {
            return Err("`restApiRootResourceId` and `restApiResources` need \
                        `provider.apiGateway.restApiId`"
                .to_string());
        }
        return Ok(None);
    };
    let id = value("restApiId", id)?;
    let Some(root) = gateway.and_then(|g| g.get("restApiRootResourceId")) else {
        return Err(
            "`provider.apiGateway.restApiId` needs `restApiRootResourceId`, the id of \
                    the API's `/` resource"
                .to_string(),
        );
    };
    let root = value("restApiRootResourceId", root)?;
    let mut resources = BTreeMap::new();
    for (path, id) in gateway
        .and_then(|g| g.get("restApiResources"))
        .and_then(Json::as_object)
        .into_iter()
        .flatten()
    {
        let path = format!("/{}", path.trim_matches('/'));
        resources.insert(path, value("restApiResources", id)?);
    }
    Ok(Some(SharedApi {
        id,
        root,
        resources,
    }))
}

/// The shared API in the desired state: planned as present, never created.
pub fn desired(api: &ResourceId, shared: &SharedApi) -> Desired {
    Desired {
        id: api.clone(),
        properties: SharedRestApiProperties {
            rest_api_id: shared.id.clone(),
            root_resource_id: shared.root.clone(),
        }
        .to_properties(),
        inputs: Properties::new(),
        depends_on: BTreeSet::new(),
        replace_when: BTreeSet::new(),
    }
}

pub fn id_of(shared: &SharedApi) -> ResourceId {
    naming::id(kind::SHARED_REST_API, &shared.id)
}

/// What the service put into one shared API, as the deploy state records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owned {
    /// The root resource's id, to rebuild the API's attributes.
    pub root: String,
    /// Resource paths (`/users`).
    #[serde(default)]
    pub paths: BTreeSet<String>,
    /// Methods (`GET /users`).
    #[serde(default)]
    pub methods: BTreeSet<String>,
}

/// The routes hash of the deployment a remove leaves: the service serves nothing any more.
pub const REMOVED: &str = "removed";

/// The mark of the service's deployments in a shared API: the routes hash is followed by it,
/// so each service finds its own among the deployments of a stage they all serve.
pub fn deployment_suffix(site: &Site) -> String {
    format!(" for {}", site.service)
}

/// The shared APIs the deploy state records, each with what the service owns in it.
pub async fn live(
    client: &Client,
    site: &Site,
    recorded: &BTreeMap<String, Owned>,
) -> Result<Vec<Live>, ProviderError> {
    let mut found = Vec::new();
    for (api_id, owned) in recorded {
        let api = naming::id(kind::SHARED_REST_API, api_id);
        match client.get_rest_api().rest_api_id(api_id).send().await {
            Ok(_) => {}
            Err(e) if e.code() == Some("NotFoundException") => continue,
            Err(e) => return Err(call_error("apigateway:GET /restapis/{id}", &api.name, &e)),
        }
        let url = format!(
            "https://{api_id}.execute-api.{}.amazonaws.com/{}",
            site.region, site.stage
        );
        let suffix = deployment_suffix(site);
        let (children, _) = super::read::children(
            client,
            &api,
            api_id,
            &url,
            Some((site.stage.as_str(), suffix.as_str())),
        )
        .await?;
        let children: Vec<Live> = children
            .into_iter()
            .filter(|live| match live.id.kind.as_str() {
                kind::REST_API_RESOURCE => owned.paths.contains(&live.id.name),
                kind::REST_API_METHOD => owned.methods.contains(&live.id.name),
                // The stage is everyone's: the service's deployment is read by its mark.
                kind::REST_API_DEPLOYMENT => true,
                _ => false,
            })
            .collect();
        // Once nothing of the service is left in it, the API is not part of the service.
        if children.is_empty() {
            continue;
        }
        // A remove deletes in the reverse order of these: the service's methods and resources
        // first, then its deployment, which deploys the stage again without them.
        let deployment = children
            .iter()
            .find(|live| live.id.kind == kind::REST_API_DEPLOYMENT)
            .map(|live| live.id.clone());
        let children: Vec<Live> = children
            .into_iter()
            .map(|mut live| {
                if matches!(
                    live.id.kind.as_str(),
                    kind::REST_API_RESOURCE | kind::REST_API_METHOD
                ) {
                    live.depends_on.extend(deployment.clone());
                }
                live
            })
            .collect();
        found.push(Live {
            id: api.clone(),
            properties: SharedRestApiProperties {
                rest_api_id: api_id.clone(),
                root_resource_id: owned.root.clone(),
            }
            .to_properties(),
            attributes: attributes(site, api_id, &owned.root),
            depends_on: BTreeSet::new(),
        });
        found.extend(children);
    }
    Ok(found)
}

/// "Creating" the shared API checks that it exists and gives its attributes; deleting it does
/// nothing: the API is not the service's.
pub async fn apply(
    client: &Client,
    site: &Site,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    if step.action == Action::Delete {
        return Ok(Properties::new());
    }
    let wanted = SharedRestApiProperties::from_properties(properties, &step.id)?;
    let resource = step.id.to_string();
    match client
        .get_rest_api()
        .rest_api_id(&wanted.rest_api_id)
        .send()
        .await
    {
        Ok(_) => Ok(attributes(
            site,
            &wanted.rest_api_id,
            &wanted.root_resource_id,
        )),
        Err(e) if e.code() == Some("NotFoundException") => Err(ProviderError::Invalid {
            message: format!(
                "the REST API `{}` that provider.apiGateway.restApiId names does not exist in {}",
                wanted.rest_api_id, site.region
            ),
            span: None,
            help: "deploy the service that creates the API first, or correct the id".into(),
        }),
        Err(e) => Err(call_error("apigateway:GET /restapis/{id}", &resource, &e)),
    }
}

/// The paths and methods of each shared API in `resources`, by API id.
pub fn owned<'a>(
    resources: impl Iterator<Item = (&'a ResourceId, &'a Properties)>,
) -> BTreeMap<String, Owned> {
    let resources: Vec<_> = resources.collect();
    let mut found: BTreeMap<String, Owned> = BTreeMap::new();
    for (id, properties) in &resources {
        if id.kind == kind::SHARED_REST_API {
            if let Ok(api) = SharedRestApiProperties::from_properties(properties, id) {
                found.entry(api.rest_api_id).or_default().root = api.root_resource_id;
            }
        }
    }
    for (id, properties) in &resources {
        let Some(api_id) = properties.get("rest_api_id").and_then(Json::as_str) else {
            continue;
        };
        let Some(owned) = found.get_mut(api_id) else {
            continue;
        };
        match id.kind.as_str() {
            kind::REST_API_RESOURCE => {
                owned.paths.insert(id.name.clone());
            }
            kind::REST_API_METHOD => {
                owned.methods.insert(id.name.clone());
            }
            _ => {}
        }
    }
    found
}

/// Marks a deployment's properties as one of a shared stage.
pub fn shared_deployment(properties: &mut Properties) {
    properties.insert("shared".into(), json!(true));
    properties.insert("tags".into(), json!({}));
}

/// A remove's last step in a shared API: the stage serves a new deployment without the
/// service's methods (deleted by then), marked as the service's last; the stage stays, unless
/// the API has no method left to deploy.
pub async fn redeploy_without(
    client: &Client,
    site: &Site,
    stage: &str,
    api_id: &str,
    resource: &str,
) -> Result<(), ProviderError> {
    let deployment = client
        .create_deployment()
        .rest_api_id(api_id)
        .description(format!(
            "{}{REMOVED}{}",
            super::cloud::DEPLOYMENT_MARK,
            deployment_suffix(site)
        ))
        .send()
        .await;
    let deployment = match deployment {
        Ok(deployment) => deployment.id().unwrap_or_default().to_string(),
        // The API went away with its owner: nothing is served any more.
        Err(e) if e.code() == Some("NotFoundException") => return Ok(()),
        // API Gateway deploys no API without methods. None is left: no service serves anything
        // from this stage any more, and its last deployment still routes to the functions just
        // deleted, so the stage goes.
        Err(e)
            if e.code() == Some("BadRequestException")
                && e.message().is_some_and(|m| m.contains("any methods")) =>
        {
            let deleted = client
                .delete_stage()
                .rest_api_id(api_id)
                .stage_name(stage)
                .send()
                .await;
            return match deleted {
                Ok(_) => Ok(()),
                Err(e) if e.code() == Some("NotFoundException") => Ok(()),
                Err(e) => Err(call_error(
                    "apigateway:DELETE /restapis/{id}/stages",
                    resource,
                    &e,
                )),
            };
        }
        Err(e) => {
            return Err(call_error(
                "apigateway:POST /restapis/{id}/deployments",
                resource,
                &e,
            ))
        }
    };
    let moved = client
        .update_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .patch_operations(
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(aws_sdk_apigateway::types::Op::Replace)
                .path("/deploymentId")
                .value(&deployment)
                .build(),
        )
        .send()
        .await;
    match moved {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("NotFoundException") => Ok(()),
        Err(e) => Err(call_error(
            "apigateway:PATCH /restapis/{id}/stages",
            resource,
            &e,
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::Reference;
    use crate::provider::aws::triggers::test_support::{find, names, Fixture};

    fn fixture(gateway: Json) -> Fixture {
        Fixture::new(json!({
            "service": "products",
            "provider": {"name": "aws", "apiGateway": gateway},
            "functions": {"list": {"handler": "h.list", "events": [
                {"http": "GET products/list"},
                {"http": "GET users/{id}/products"},
            ]}},
        }))
    }

    #[test]
    fn a_shared_api_is_planned_as_given_and_never_created() {
        let resources = fixture(json!({
            "restApiId": {"Fn::ImportValue": "SharedGW-restApiId"},
            "restApiRootResourceId": {"Fn::ImportValue": "SharedGW-rootResourceId"},
            "restApiResources": {"users": "usersid"},
        }))
        .desired_with_exports(&[
            ("SharedGW-restApiId", "abc123"),
            ("SharedGW-rootResourceId", "root99"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(names(&resources, kind::REST_API).is_empty());
        let api = find(&resources, kind::SHARED_REST_API, "abc123");
        assert_eq!(api.properties["root_resource_id"], json!("root99"));
        // `/users` exists already: not created, and its child hangs under its given id.
        assert_eq!(
            names(&resources, kind::REST_API_RESOURCE),
            [
                "/products",
                "/products/list",
                "/users/{id}",
                "/users/{id}/products"
            ]
        );
        let user = find(&resources, kind::REST_API_RESOURCE, "/users/{id}");
        assert_eq!(user.properties["parent_id"], json!("usersid"));
        assert_eq!(user.properties["rest_api_id"], json!("abc123"));
        let products = find(&resources, kind::REST_API_RESOURCE, "/products");
        assert_eq!(
            products.properties["parent_id"],
            Reference::new(api.id.clone(), "root_resource_id").to_json()
        );
        let deployment = find(&resources, kind::REST_API_DEPLOYMENT, "dev");
        assert_eq!(deployment.properties["shared"], json!(true));
        assert_eq!(deployment.properties["tags"], json!({}));
    }

    #[test]
    fn the_deploy_state_records_what_the_service_put_in_a_shared_api() {
        let resources = fixture(json!({"restApiId": "abc123", "restApiRootResourceId": "root99"}))
            .desired()
            .unwrap_or_else(|e| panic!("{e}"));
        let recorded = owned(resources.iter().map(|r| (&r.id, &r.properties)));
        let api = &recorded["abc123"];
        assert_eq!(api.root, "root99");
        assert!(api.paths.contains("/products/list"));
        assert!(api.methods.contains("GET /users/{id}/products"));
    }

    #[test]
    fn an_import_no_stack_exports_is_refused_naming_it() {
        let error = fixture(json!({
            "restApiId": {"Fn::ImportValue": "SharedGW-restApiId"},
            "restApiRootResourceId": "root99",
        }))
        .desired()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(error.contains("SharedGW-restApiId"), "{error}");
        assert!(error.contains("no stack"), "{error}");
    }

    #[test]
    fn a_shared_api_without_its_root_resource_id_is_refused() {
        let error = fixture(json!({"restApiId": "abc123"}))
            .desired()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("restApiRootResourceId"), "{error}");
    }

    #[test]
    fn the_api_owners_settings_are_refused_in_a_shared_api() {
        let error = fixture(json!({
            "restApiId": "abc123",
            "restApiRootResourceId": "root99",
            "binaryMediaTypes": ["image/png"],
        }))
        .desired()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(error.contains("binaryMediaTypes"), "{error}");
    }

    #[test]
    fn exports_are_read_only_for_the_shared_api_settings() {
        let service = fixture(json!({
            "restApiId": {"Fn::ImportValue": "b"},
            "restApiRootResourceId": {"Fn::ImportValue": "a"},
            "restApiResources": {"users": {"Fn::ImportValue": "a"}},
        }))
        .service;
        assert_eq!(imports(&service), ["a", "b"]);
        assert!(imports(&fixture(json!({})).service).is_empty());
    }
}
