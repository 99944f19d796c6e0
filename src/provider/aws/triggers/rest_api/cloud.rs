//! Reading and changing the REST API: one `GetRestApis` listing finds the service's API by its
//! tags, then `GetResources` (with the methods embedded), `GetStages` and `GetDeployments`
//! read everything in it.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_apigateway::error::ProvideErrorMetadata;
use aws_sdk_apigateway::types::{
    EndpointConfiguration, EndpointType, IntegrationType, Op, PatchOperation,
};
use aws_sdk_apigateway::Client;
use serde_json::{json, Value as Json};

use crate::plan::{Action, Live, Properties, ResourceId, Step};
use crate::provider::aws::naming::{self, kind};
use crate::provider::aws::triggers::{
    attribute, call_error, function_name_of, owned, string_map, tag_changes, tags_from, text, Site,
};
use crate::provider::ProviderError;

/// What the deployment's description starts with; the rest is the routes hash.
const DEPLOYMENT_MARK: &str = "updraft routes ";

fn attributes(site: &Site, api_id: &str, root: &str) -> Properties {
    Properties::from([
        ("id".to_string(), json!(api_id)),
        ("root_resource_id".to_string(), json!(root)),
        (
            "url".to_string(),
            json!(format!(
                "https://{api_id}.execute-api.{}.amazonaws.com/{}",
                site.region, site.stage
            )),
        ),
        (
            "source_arn".to_string(),
            json!(format!(
                "arn:{}:execute-api:{}:{}:{api_id}/*/*",
                site.partition, site.region, site.account
            )),
        ),
    ])
}

fn function_uri(site: &Site, function_arn: &str) -> String {
    format!(
        "arn:{}:apigateway:{}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
        site.partition, site.region
    )
}

fn function_arn_of(uri: &str) -> Option<&str> {
    uri.split_once("/functions/")?
        .1
        .strip_suffix("/invocations")
}

fn not_found<E: ProvideErrorMetadata>(error: &E) -> bool {
    error.code() == Some("NotFoundException")
}

/// The service's REST API and everything in it.
pub async fn live(client: &Client, site: &Site) -> Result<Vec<Live>, ProviderError> {
    let mut found = Vec::new();
    let mut position = None;
    loop {
        let page = client
            .get_rest_apis()
            .limit(500)
            .set_position(position)
            .send()
            .await
            .map_err(|e| call_error("apigateway:GET /restapis", "REST APIs", &e))?;
        for api in page.items() {
            let tags = api.tags().cloned().unwrap_or_default();
            if !owned(&tags, &site.service, &site.stage) {
                continue;
            }
            let (Some(api_id), Some(name)) = (api.id(), api.name()) else {
                continue;
            };
            let id = naming::id(kind::REST_API, name);
            let endpoint_type = api
                .endpoint_configuration()
                .and_then(|c| c.types().first())
                .map(|t| t.as_str().to_string())
                .unwrap_or_else(|| "EDGE".to_string());
            let url = format!(
                "https://{api_id}.execute-api.{}.amazonaws.com/{}",
                site.region, site.stage
            );
            let (children, root) = children(client, &id, api_id, &url).await?;
            let root = api
                .root_resource_id()
                .map(str::to_string)
                .or(root)
                .unwrap_or_default();
            found.push(Live {
                id: id.clone(),
                properties: Properties::from([
                    ("name".to_string(), json!(name)),
                    ("endpoint_type".to_string(), json!(endpoint_type)),
                    ("tags".to_string(), tags_from(&tags)),
                ]),
                attributes: attributes(site, api_id, &root),
                depends_on: BTreeSet::new(),
            });
            found.extend(children);
        }
        position = page.position().map(str::to_string);
        if position.is_none() {
            break;
        }
    }
    Ok(found)
}

/// The resources, methods and stages of one API, and its root resource's id.
async fn children(
    client: &Client,
    api: &ResourceId,
    api_id: &str,
    api_url: &str,
) -> Result<(Vec<Live>, Option<String>), ProviderError> {
    let what = format!("REST API {}", api.name);
    let mut items = Vec::new();
    let mut position = None;
    loop {
        let page = client
            .get_resources()
            .rest_api_id(api_id)
            .embed("methods")
            .limit(500)
            .set_position(position)
            .send()
            .await
            .map_err(|e| call_error("apigateway:GET /restapis/{id}/resources", &what, &e))?;
        items.extend(page.items().iter().cloned());
        position = page.position().map(str::to_string);
        if position.is_none() {
            break;
        }
    }
    let (stages, deployments) = tokio::join!(
        client.get_stages().rest_api_id(api_id).send(),
        client
            .get_deployments()
            .rest_api_id(api_id)
            .limit(500)
            .send(),
    );
    let stages =
        stages.map_err(|e| call_error("apigateway:GET /restapis/{id}/stages", &what, &e))?;
    let deployments = deployments
        .map_err(|e| call_error("apigateway:GET /restapis/{id}/deployments", &what, &e))?;
    let paths: HashMap<String, String> = items
        .iter()
        .filter_map(|r| Some((r.id()?.to_string(), r.path()?.to_string())))
        .collect();
    let mut root = None;
    let mut found = Vec::new();
    for item in &items {
        let (Some(resource_id), Some(path)) = (item.id(), item.path()) else {
            continue;
        };
        if path == "/" {
            root = Some(resource_id.to_string());
        } else {
            let parent = item.parent_id().unwrap_or_default();
            let mut depends_on = BTreeSet::from([api.clone()]);
            if let Some(parent_path) = paths.get(parent).filter(|p| p.as_str() != "/") {
                depends_on.insert(naming::id(kind::REST_API_RESOURCE, parent_path));
            }
            found.push(Live {
                id: naming::id(kind::REST_API_RESOURCE, path),
                properties: Properties::from([
                    ("rest_api_id".to_string(), json!(api_id)),
                    ("parent_id".to_string(), json!(parent)),
                    ("path_part".to_string(), json!(item.path_part())),
                ]),
                attributes: Properties::from([("id".to_string(), json!(resource_id))]),
                depends_on,
            });
        }
        for (http_method, method) in item.resource_methods().into_iter().flatten() {
            let mut depends_on = BTreeSet::from([api.clone()]);
            if path != "/" {
                depends_on.insert(naming::id(kind::REST_API_RESOURCE, path));
            }
            let integration = method.method_integration().map(|integration| {
                match integration.r#type().map(|t| t.as_str()) {
                    Some("MOCK") => {
                        let headers: serde_json::Map<String, Json> = integration
                            .integration_responses()
                            .and_then(|r| r.get("200"))
                            .and_then(|r| r.response_parameters())
                            .into_iter()
                            .flatten()
                            .filter_map(|(key, value)| {
                                let header = key.strip_prefix("method.response.header.")?;
                                Some((header.to_string(), json!(value)))
                            })
                            .collect();
                        json!({"type": "MOCK", "response_headers": headers})
                    }
                    other => {
                        let arn = integration.uri().and_then(function_arn_of);
                        if let Some(function) = arn.and_then(function_name_of) {
                            depends_on.insert(naming::id(kind::FUNCTION, function));
                        }
                        json!({"type": other, "function_arn": arn})
                    }
                }
            });
            let function = integration
                .as_ref()
                .and_then(|i| i.get("function_arn"))
                .and_then(Json::as_str)
                .and_then(function_name_of)
                .map(str::to_string);
            found.push(Live {
                id: naming::id(kind::REST_API_METHOD, format!("{http_method} {path}")),
                properties: Properties::from([
                    ("rest_api_id".to_string(), json!(api_id)),
                    ("resource_id".to_string(), json!(resource_id)),
                    ("http_method".to_string(), json!(http_method)),
                    (
                        "authorization_type".to_string(),
                        json!(method.authorization_type().unwrap_or("NONE")),
                    ),
                    ("integration".to_string(), integration.unwrap_or(Json::Null)),
                ]),
                attributes: Properties::from([
                    ("method".to_string(), json!(http_method)),
                    ("url".to_string(), json!(format!("{api_url}{path}"))),
                    ("function".to_string(), json!(function)),
                ]),
                depends_on,
            });
        }
    }
    let descriptions: HashMap<&str, &str> = deployments
        .items()
        .iter()
        .filter_map(|d| Some((d.id()?, d.description().unwrap_or_default())))
        .collect();
    for stage in stages.item() {
        let Some(name) = stage.stage_name() else {
            continue;
        };
        let deployment = stage.deployment_id().unwrap_or_default();
        let hash = descriptions
            .get(deployment)
            .and_then(|d| d.strip_prefix(DEPLOYMENT_MARK))
            .map(str::to_string);
        found.push(Live {
            id: naming::id(kind::REST_API_DEPLOYMENT, name),
            properties: Properties::from([
                ("rest_api_id".to_string(), json!(api_id)),
                ("stage_name".to_string(), json!(name)),
                ("routes_hash".to_string(), json!(hash)),
                (
                    "tags".to_string(),
                    tags_from(&stage.tags().cloned().unwrap_or_default()),
                ),
            ]),
            attributes: Properties::from([("id".to_string(), json!(deployment))]),
            depends_on: BTreeSet::from([api.clone()]),
        });
    }
    Ok((found, root))
}

/// Applies one step to a resource of the REST API.
pub async fn apply(
    client: &Client,
    site: &Site,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let live = step.live.as_ref();
    let resource = step.id.to_string();
    let api_id = match step.action {
        Action::Delete => live
            .and_then(|l| l.properties.get("rest_api_id"))
            .and_then(Json::as_str)
            .map(str::to_string)
            .unwrap_or_default(),
        _ => text(properties, "rest_api_id"),
    };
    let replacing = step.action == Action::Replace;
    if step.action == Action::Delete || (replacing && step.id.kind != kind::REST_API_DEPLOYMENT) {
        delete(client, step, &api_id).await?;
        if step.action == Action::Delete {
            return Ok(Properties::new());
        }
    }
    match step.id.kind.as_str() {
        kind::REST_API => {
            let existing = attribute(live, "id").filter(|_| step.action == Action::Update);
            let arn = |id: &str| {
                format!(
                    "arn:{}:apigateway:{}::/restapis/{id}",
                    site.partition, site.region
                )
            };
            match existing {
                Some(api_id) => {
                    client
                        .update_rest_api()
                        .rest_api_id(&api_id)
                        .patch_operations(patch("/name", &text(properties, "name")))
                        .send()
                        .await
                        .map_err(|e| {
                            call_error("apigateway:PATCH /restapis/{id}", &resource, &e)
                        })?;
                    let (set, remove) = tag_changes(
                        live.and_then(|l| l.properties.get("tags")),
                        properties.get("tags"),
                    );
                    retag(client, &arn(&api_id), set, remove, &resource).await?;
                    let root = attribute(live, "root_resource_id").unwrap_or_default();
                    Ok(attributes(site, &api_id, &root))
                }
                None => {
                    let endpoint = EndpointConfiguration::builder()
                        .types(EndpointType::from(
                            text(properties, "endpoint_type").as_str(),
                        ))
                        .build();
                    let created = client
                        .create_rest_api()
                        .name(text(properties, "name"))
                        .endpoint_configuration(endpoint)
                        .set_tags(Some(
                            string_map(properties.get("tags")).into_iter().collect(),
                        ))
                        .send()
                        .await
                        .map_err(|e| call_error("apigateway:POST /restapis", &resource, &e))?;
                    let api_id = created.id().unwrap_or_default().to_string();
                    let root = match created.root_resource_id() {
                        Some(root) => root.to_string(),
                        None => root_of(client, &api_id, &resource).await?,
                    };
                    Ok(attributes(site, &api_id, &root))
                }
            }
        }
        kind::REST_API_RESOURCE => {
            let created = client
                .create_resource()
                .rest_api_id(&api_id)
                .parent_id(text(properties, "parent_id"))
                .path_part(text(properties, "path_part"))
                .send()
                .await;
            let resource_id = match created {
                Ok(output) => output.id().unwrap_or_default().to_string(),
                // Left by an interrupted deploy.
                Err(e) if e.code() == Some("ConflictException") => {
                    find_resource(client, &api_id, &step.id.name, &resource).await?
                }
                Err(e) => {
                    return Err(call_error(
                        "apigateway:POST /restapis/{id}/resources",
                        &resource,
                        &e,
                    ))
                }
            };
            Ok(Properties::from([("id".to_string(), json!(resource_id))]))
        }
        kind::REST_API_METHOD => {
            if step.action == Action::Update {
                delete(client, step, &api_id).await?;
            }
            put_method(client, site, &api_id, properties, &resource).await?;
            Ok(Properties::new())
        }
        kind::REST_API_DEPLOYMENT => {
            let stage = text(properties, "stage_name");
            let hash = text(properties, "routes_hash");
            let wanted: Vec<String> = step
                .desired
                .as_ref()
                .and_then(|d| d.inputs.get("methods"))
                .and_then(Json::as_array)
                .map(|m| {
                    m.iter()
                        .filter_map(Json::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            prune(client, &api_id, &wanted, &resource).await?;
            let deployment = client
                .create_deployment()
                .rest_api_id(&api_id)
                .description(format!("{DEPLOYMENT_MARK}{hash}"))
                .send()
                .await
                .map_err(|e| {
                    call_error("apigateway:POST /restapis/{id}/deployments", &resource, &e)
                })?
                .id()
                .unwrap_or_default()
                .to_string();
            let stage_exists = live.is_some() && !replacing;
            let created = if stage_exists {
                None
            } else {
                Some(
                    client
                        .create_stage()
                        .rest_api_id(&api_id)
                        .stage_name(&stage)
                        .deployment_id(&deployment)
                        .set_tags(Some(
                            string_map(properties.get("tags")).into_iter().collect(),
                        ))
                        .send()
                        .await,
                )
            };
            match created {
                Some(Ok(_)) => {}
                Some(Err(e)) if e.code() != Some("ConflictException") => {
                    return Err(call_error(
                        "apigateway:POST /restapis/{id}/stages",
                        &resource,
                        &e,
                    ))
                }
                _ => {
                    client
                        .update_stage()
                        .rest_api_id(&api_id)
                        .stage_name(&stage)
                        .patch_operations(patch("/deploymentId", &deployment))
                        .send()
                        .await
                        .map_err(|e| {
                            call_error("apigateway:PATCH /restapis/{id}/stages", &resource, &e)
                        })?;
                    let arn = format!(
                        "arn:{}:apigateway:{}::/restapis/{api_id}/stages/{stage}",
                        site.partition, site.region
                    );
                    let (set, remove) = tag_changes(
                        live.and_then(|l| l.properties.get("tags")),
                        properties.get("tags"),
                    );
                    retag(client, &arn, set, remove, &resource).await?;
                    // The deployment the stage served before is not needed any more.
                    if let Some(previous) = attribute(live, "id").filter(|p| p != &deployment) {
                        let _ = client
                            .delete_deployment()
                            .rest_api_id(&api_id)
                            .deployment_id(previous)
                            .send()
                            .await;
                    }
                }
            }
            Ok(Properties::from([("id".to_string(), json!(deployment))]))
        }
        _ => Err(ProviderError::Internal {
            resource: step.id.clone(),
            message: "not a REST API resource".to_string(),
        }),
    }
}

/// Deletes the methods no route wants any more before a deployment snapshots the API: their
/// deletes come last in the plan, after the deployment, which would otherwise still serve them.
async fn prune(
    client: &Client,
    api_id: &str,
    wanted: &[String],
    resource: &str,
) -> Result<(), ProviderError> {
    let items = client
        .get_resources()
        .rest_api_id(api_id)
        .embed("methods")
        .limit(500)
        .send()
        .await
        .map_err(|e| call_error("apigateway:GET /restapis/{id}/resources", resource, &e))?;
    for item in items.items() {
        let (Some(resource_id), Some(path)) = (item.id(), item.path()) else {
            continue;
        };
        for http_method in item
            .resource_methods()
            .into_iter()
            .flatten()
            .map(|(m, _)| m)
        {
            if wanted.contains(&format!("{http_method} {path}")) {
                continue;
            }
            match client
                .delete_method()
                .rest_api_id(api_id)
                .resource_id(resource_id)
                .http_method(http_method)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if not_found(&e) => {}
                Err(e) => {
                    return Err(call_error(
                        "apigateway:DELETE /restapis/{id}/resources/{id}/methods",
                        resource,
                        &e,
                    ))
                }
            }
        }
    }
    Ok(())
}

fn patch(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(path)
        .value(value)
        .build()
}

async fn put_method(
    client: &Client,
    site: &Site,
    api_id: &str,
    properties: &Properties,
    resource: &str,
) -> Result<(), ProviderError> {
    let resource_id = text(properties, "resource_id");
    let http_method = text(properties, "http_method");
    let put = || {
        client
            .put_method()
            .rest_api_id(api_id)
            .resource_id(&resource_id)
            .http_method(&http_method)
            .authorization_type(text(properties, "authorization_type"))
            .send()
    };
    match put().await {
        Ok(_) => {}
        // Left by an interrupted deploy: put it again from scratch.
        Err(e) if e.code() == Some("ConflictException") => {
            let _ = client
                .delete_method()
                .rest_api_id(api_id)
                .resource_id(&resource_id)
                .http_method(&http_method)
                .send()
                .await;
            put().await.map_err(|e| {
                call_error(
                    "apigateway:PUT /restapis/{id}/resources/{id}/methods",
                    resource,
                    &e,
                )
            })?;
        }
        Err(e) => {
            return Err(call_error(
                "apigateway:PUT /restapis/{id}/resources/{id}/methods",
                resource,
                &e,
            ))
        }
    }
    let integration = properties.get("integration").cloned().unwrap_or(Json::Null);
    let operation = "apigateway:PUT /restapis/{id}/resources/{id}/methods/{method}/integration";
    match integration.get("type").and_then(Json::as_str) {
        Some("MOCK") => {
            let headers: Vec<(String, String)> = integration
                .get("response_headers")
                .and_then(Json::as_object)
                .into_iter()
                .flatten()
                .map(|(header, value)| {
                    (
                        format!("method.response.header.{header}"),
                        value.as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            client
                .put_integration()
                .rest_api_id(api_id)
                .resource_id(&resource_id)
                .http_method(&http_method)
                .r#type(IntegrationType::Mock)
                .request_templates("application/json", "{statusCode:200}")
                .send()
                .await
                .map_err(|e| call_error(operation, resource, &e))?;
            client
                .put_method_response()
                .rest_api_id(api_id)
                .resource_id(&resource_id)
                .http_method(&http_method)
                .status_code("200")
                .set_response_parameters(Some(headers.iter().map(|(k, _)| (k.clone(), false)).collect()))
                .send()
                .await
                .map_err(|e| {
                    call_error(
                        "apigateway:PUT /restapis/{id}/resources/{id}/methods/{method}/responses/200",
                        resource,
                        &e,
                    )
                })?;
            client
                .put_integration_response()
                .rest_api_id(api_id)
                .resource_id(&resource_id)
                .http_method(&http_method)
                .status_code("200")
                .set_response_parameters(Some(headers.into_iter().collect()))
                .send()
                .await
                .map_err(|e| {
                    call_error(
                        "apigateway:PUT /restapis/{id}/resources/{id}/methods/{method}/integration/responses/200",
                        resource,
                        &e,
                    )
                })?;
        }
        _ => {
            let function_arn = integration
                .get("function_arn")
                .and_then(Json::as_str)
                .unwrap_or_default();
            client
                .put_integration()
                .rest_api_id(api_id)
                .resource_id(&resource_id)
                .http_method(&http_method)
                .r#type(IntegrationType::AwsProxy)
                .integration_http_method("POST")
                .uri(function_uri(site, function_arn))
                .send()
                .await
                .map_err(|e| call_error(operation, resource, &e))?;
        }
    }
    Ok(())
}

async fn root_of(client: &Client, api_id: &str, resource: &str) -> Result<String, ProviderError> {
    find_resource(client, api_id, "/", resource).await
}

/// The id of the resource at `path`.
async fn find_resource(
    client: &Client,
    api_id: &str,
    path: &str,
    resource: &str,
) -> Result<String, ProviderError> {
    let output = client
        .get_resources()
        .rest_api_id(api_id)
        .limit(500)
        .send()
        .await
        .map_err(|e| call_error("apigateway:GET /restapis/{id}/resources", resource, &e))?;
    output
        .items()
        .iter()
        .find(|r| r.path() == Some(path))
        .and_then(|r| r.id())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::Call {
            operation: "apigateway:GET /restapis/{id}/resources".to_string(),
            resource: resource.to_string(),
            message: format!("the API has no resource {path}"),
            help: "run the command again: it continues from where it stopped".to_string(),
        })
}

async fn delete(client: &Client, step: &Step, api_id: &str) -> Result<(), ProviderError> {
    let resource = step.id.to_string();
    let live = step.live.as_ref();
    let property = |key: &str| {
        live.and_then(|l| l.properties.get(key))
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let outcome = match step.id.kind.as_str() {
        kind::REST_API => {
            // API Gateway allows one REST API delete every 30 seconds per account.
            let id = attribute(live, "id").unwrap_or_default();
            let mut attempt = 0;
            loop {
                match client.delete_rest_api().rest_api_id(&id).send().await {
                    Err(e) if e.code() == Some("TooManyRequestsException") && attempt < 12 => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                    other => {
                        break other.map(|_| ()).map_err(|e| {
                            (
                                not_found(&e),
                                call_error("apigateway:DELETE /restapis/{id}", &resource, &e),
                            )
                        })
                    }
                }
            }
        }
        kind::REST_API_RESOURCE => client
            .delete_resource()
            .rest_api_id(api_id)
            .resource_id(attribute(live, "id").unwrap_or_default())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                (
                    not_found(&e),
                    call_error(
                        "apigateway:DELETE /restapis/{id}/resources/{id}",
                        &resource,
                        &e,
                    ),
                )
            }),
        kind::REST_API_METHOD => client
            .delete_method()
            .rest_api_id(api_id)
            .resource_id(property("resource_id"))
            .http_method(property("http_method"))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                (
                    not_found(&e),
                    call_error(
                        "apigateway:DELETE /restapis/{id}/resources/{id}/methods",
                        &resource,
                        &e,
                    ),
                )
            }),
        kind::REST_API_DEPLOYMENT => client
            .delete_stage()
            .rest_api_id(api_id)
            .stage_name(&step.id.name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                (
                    not_found(&e),
                    call_error("apigateway:DELETE /restapis/{id}/stages", &resource, &e),
                )
            }),
        _ => Ok(()),
    };
    match outcome {
        Ok(()) | Err((true, _)) => Ok(()),
        Err((false, error)) => Err(error),
    }
}

async fn retag(
    client: &Client,
    arn: &str,
    set: HashMap<String, String>,
    remove: Vec<String>,
    resource: &str,
) -> Result<(), ProviderError> {
    if !set.is_empty() {
        client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(|e| call_error("apigateway:PUT /tags", resource, &e))?;
    }
    if !remove.is_empty() {
        client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .map_err(|e| call_error("apigateway:DELETE /tags", resource, &e))?;
    }
    Ok(())
}
