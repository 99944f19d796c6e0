//! What every kind's desired-state builder needs to know about the service, computed once: the
//! account, region and partition, the names and ownership tags, where each function's
//! resource is (for triggers: its id and a reference to its ARN), the execution role, and the
//! CloudFormation logical ids the manifest may refer to (see [`super::intrinsic`]), layers'
//! `{Key}LambdaLayer` among them.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::naming::{self, kind};
use super::stack_template::StackPlan;
use crate::manifest::model::{Function, Service};
use crate::package::Artifact;
use crate::plan::{Reference, ResourceId};

/// The service as the builders see it.
pub struct Context<'a> {
    pub service: &'a Service,
    pub artifacts: &'a [Artifact],
    pub account: String,
    pub region: String,
    pub partition: String,
    /// The service's name.
    pub name: String,
    pub stage: String,
    /// `{service}-{stage}`.
    pub prefix: String,
    pub bucket: String,
    /// The ownership tags plus `provider.tags`, as strings: what every taggable resource gets.
    pub tags: BTreeMap<String, String>,
    /// By function key.
    pub functions: BTreeMap<String, FunctionTarget>,
    /// The generated execution role, when there is one (some function uses it).
    pub role: Option<ResourceId>,
    /// CloudFormation logical ids (`JobsQueue`, `HelloLambdaFunction`, ...) of the resources
    /// updraft deploys itself.
    pub logical: BTreeMap<String, Logical>,
    /// What the service's CloudFormation stack holds.
    pub stack: StackPlan,
    /// The outputs the stack must give for the values that refer to it, filled as builders
    /// resolve values (see [`super::stack_template`]).
    pub stack_outputs: RefCell<BTreeMap<String, super::intrinsic::Resolved>>,
    /// The region's CloudFormation exports the service imports where a value must be known
    /// before anything is created (`provider.apiGateway.restApiId`), by export name.
    pub exports: BTreeMap<String, String>,
}

/// Where a function is, for the kinds that point at it (triggers, permissions, URLs).
#[derive(Debug, Clone)]
pub struct FunctionTarget {
    pub key: String,
    /// The deployed name.
    pub name: String,
    pub id: ResourceId,
    /// The ARN, known before the function exists (ARNs are made of names).
    pub arn: String,
}

impl FunctionTarget {
    /// A reference to the function's ARN: use it (and depend on [`Self::id`]) so the planner
    /// orders the function first.
    pub fn arn_reference(&self) -> Json {
        Reference::new(self.id.clone(), "arn").to_json()
    }
}

/// A resource a manifest can name with `Ref` and `Fn::GetAtt`.
#[derive(Debug, Clone)]
pub struct Logical {
    pub id: ResourceId,
    /// The attribute `Ref` gives.
    pub reference: &'static str,
    /// `Fn::GetAtt` names to attribute names.
    pub attributes: BTreeMap<&'static str, &'static str>,
    /// Attribute values known before the resource exists (names and ARNs), for places where a
    /// reference cannot stand (inside `Fn::Join`, `Fn::Sub`).
    pub known: BTreeMap<&'static str, String>,
}

impl<'a> Context<'a> {
    pub fn new(
        service: &'a Service,
        artifacts: &'a [Artifact],
        account: &str,
        partition: &str,
        bucket: &str,
    ) -> Context<'a> {
        let stage = service.provider.stage.clone();
        let region = service.provider.region.clone();
        let prefix = naming::prefix(&service.name, &stage);
        let mut tags = super::clients::ownership_tags(&service.name, &stage);
        for (key, value) in &service.provider.tags {
            tags.insert(key.clone(), text(value));
        }
        let mut context = Context {
            service,
            artifacts,
            account: account.to_string(),
            region,
            partition: partition.to_string(),
            name: service.name.clone(),
            stage: stage.clone(),
            stack: StackPlan::new(service, &prefix),
            prefix,
            bucket: bucket.to_string(),
            tags,
            functions: BTreeMap::new(),
            role: None,
            logical: BTreeMap::new(),
            stack_outputs: RefCell::new(BTreeMap::new()),
            exports: BTreeMap::new(),
        };
        for (key, function) in &service.functions {
            let target = FunctionTarget {
                key: key.clone(),
                name: function.name.clone(),
                id: naming::id(kind::FUNCTION, function.name.clone()),
                arn: context.arn("lambda", &format!("function:{}", function.name)),
            };
            let normalized = normalized_key(key);
            context.logical.insert(
                format!("{normalized}LambdaFunction"),
                Logical {
                    id: target.id.clone(),
                    reference: "name",
                    attributes: BTreeMap::from([("Arn", "arn")]),
                    known: BTreeMap::from([
                        ("arn", target.arn.clone()),
                        ("name", target.name.clone()),
                    ]),
                },
            );
            let log_group = naming::log_group_name(&function.name);
            context.logical.insert(
                format!("{normalized}LogGroup"),
                Logical {
                    id: naming::id(kind::LOG_GROUP, log_group.clone()),
                    reference: "name",
                    attributes: BTreeMap::from([("Arn", "arn")]),
                    known: BTreeMap::from([
                        (
                            "arn",
                            context.arn("logs", &format!("log-group:{log_group}:*")),
                        ),
                        ("name", log_group),
                    ]),
                },
            );
            context.functions.insert(key.clone(), target);
        }
        for (key, layer) in &service.layers {
            let name = layer_name(key, layer);
            // `Ref` gives a layer version's ARN, as CloudFormation's AWS::Lambda::LayerVersion
            // does; the version is only known once it is published.
            context.logical.insert(
                format!("{}LambdaLayer", normalized_key(key)),
                Logical {
                    id: naming::id(kind::LAYER, name),
                    reference: "arn",
                    attributes: BTreeMap::from([("LayerVersionArn", "arn")]),
                    known: BTreeMap::new(),
                },
            );
        }
        if uses_generated_role(service) {
            let name = role_name(service);
            let id = naming::id(kind::ROLE, name.clone());
            context.logical.insert(
                "IamRoleLambdaExecution".into(),
                Logical {
                    id: id.clone(),
                    reference: "name",
                    attributes: BTreeMap::from([("Arn", "arn")]),
                    known: BTreeMap::from([
                        ("arn", format!("arn:{partition}:iam::{account}:role/{name}")),
                        ("name", name),
                    ]),
                },
            );
            context.role = Some(id);
        }
        for (logical, name) in super::kinds::queue::queue_names(&context) {
            let id = naming::id(kind::QUEUE, name.clone());
            let arn = context.arn("sqs", &name);
            context.logical.insert(
                logical,
                Logical {
                    id,
                    reference: "url",
                    attributes: BTreeMap::from([
                        ("Arn", "arn"),
                        ("QueueName", "name"),
                        ("QueueUrl", "url"),
                    ]),
                    known: BTreeMap::from([("arn", arn), ("name", name)]),
                },
            );
        }
        context.add_api_logicals();
        context.add_bucket_logicals();
        context
    }

    /// `S3Bucket{Name}`, the Framework's logical id of a bucket an `s3` event creates (the name
    /// without its `-` and `.`, first letter upper case): `resources:` refer to it, a bucket
    /// policy's `Bucket`, say. A bucket marked `existing` is not the service's and has none.
    fn add_bucket_logicals(&mut self) {
        use crate::manifest::model::Trigger;
        let buckets: Vec<String> = self
            .service
            .functions
            .values()
            .flat_map(|function| &function.events)
            .filter_map(|event| match &event.trigger {
                Trigger::Storage {
                    bucket,
                    existing: false,
                    ..
                } => bucket.as_str().map(str::to_string),
                _ => None,
            })
            .collect();
        for bucket in buckets {
            let alphanumeric: String = bucket.chars().filter(char::is_ascii_alphanumeric).collect();
            let arn = format!("arn:{}:s3:::{bucket}", self.partition);
            self.logical.insert(
                format!("S3Bucket{}", normalized_key(&alphanumeric)),
                Logical {
                    id: naming::id(super::triggers::s3::BUCKET, bucket.clone()),
                    reference: "name",
                    attributes: BTreeMap::from([("Arn", "arn")]),
                    known: BTreeMap::from([("arn", arn), ("name", bucket)]),
                },
            );
        }
    }

    /// `ApiGatewayRestApi`, `HttpApi` and `WebsocketsApi`, the Framework's logical ids of the
    /// APIs, for the services that have `http`, `httpApi` or `websocket` events: `resources:`
    /// refer to them (a gateway response's `RestApiId`, say).
    fn add_api_logicals(&mut self) {
        use crate::manifest::model::{Api, Trigger};
        let apis: Vec<Api> = self
            .service
            .functions
            .values()
            .flat_map(|function| &function.events)
            .filter_map(|event| match &event.trigger {
                Trigger::Http(http) if event.kind == "http" || event.kind == "httpApi" => {
                    Some(http.api)
                }
                _ => None,
            })
            .collect();
        if apis.contains(&Api::Rest) {
            let name = super::triggers::rest_api::api_name(self);
            self.logical.insert(
                "ApiGatewayRestApi".into(),
                Logical {
                    id: naming::id(kind::REST_API, name),
                    reference: "id",
                    attributes: BTreeMap::from([("RootResourceId", "root_resource_id")]),
                    known: BTreeMap::new(),
                },
            );
        }
        if apis.contains(&Api::HttpApi) {
            let name = super::triggers::http_api::api_name(self);
            self.logical.insert(
                "HttpApi".into(),
                Logical {
                    id: naming::id(kind::HTTP_API, name),
                    reference: "id",
                    attributes: BTreeMap::from([("ApiEndpoint", "url")]),
                    known: BTreeMap::new(),
                },
            );
        }
        let websocket = self
            .service
            .functions
            .values()
            .flat_map(|function| &function.events)
            .any(|event| event.kind == "websocket");
        if websocket {
            let name = super::triggers::websocket::api_name(self);
            self.logical.insert(
                "WebsocketsApi".into(),
                Logical {
                    id: naming::id(kind::WEBSOCKET_API, name),
                    reference: "id",
                    attributes: BTreeMap::from([("ApiEndpoint", "url")]),
                    known: BTreeMap::new(),
                },
            );
        }
    }

    /// `arn:{partition}:{service}:{region}:{account}:{rest}`.
    pub fn arn(&self, service: &str, rest: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{rest}",
            self.partition, self.region, self.account
        )
    }

    /// The artifact a function's code comes from.
    pub fn artifact_for(&self, function_key: &str) -> Option<&'a Artifact> {
        self.artifacts
            .iter()
            .find(|artifact| artifact.functions.iter().any(|key| key == function_key))
    }

    /// The artifact a layer's content comes from.
    pub fn layer_artifact(&self, layer_key: &str) -> Option<&'a Artifact> {
        self.artifacts
            .iter()
            .find(|artifact| artifact.layer.as_deref() == Some(layer_key))
    }

    /// The ownership and provider tags plus these, as strings.
    pub fn tags_with(&self, own: &indexmap::IndexMap<String, Json>) -> BTreeMap<String, String> {
        let mut tags = self.tags.clone();
        for (key, value) in own {
            tags.insert(key.clone(), text(value));
        }
        tags
    }
}

/// Whether any function runs with the role updraft generates.
pub fn uses_generated_role(service: &Service) -> bool {
    service.provider.iam.role.is_none()
        && service
            .functions
            .values()
            .any(|function: &Function| function.role.is_none())
}

/// `provider.iam.role.name`, else the Framework's `{service}-{stage}-{region}-lambdaRole`.
pub fn role_name(service: &Service) -> String {
    service.provider.iam.role_name.clone().unwrap_or_else(|| {
        naming::role_name(
            &service.name,
            &service.provider.stage,
            &service.provider.region,
        )
    })
}

/// A layer's name in Lambda, as the Framework names it: its `name`, else its key.
pub fn layer_name(key: &str, layer: &Json) -> String {
    layer
        .get("name")
        .and_then(Json::as_str)
        .filter(|name| !name.is_empty())
        .unwrap_or(key)
        .to_string()
}

/// The Framework's logical-id form of a function key: first letter upper case, `-` and `_`
/// spelled out (`my-func` gives `MyDashfunc`).
pub fn normalized_key(key: &str) -> String {
    let spelled = key.replace('-', "Dash").replace('_', "Underscore");
    let mut characters = spelled.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

/// A manifest scalar as the string AWS stores (tags, environment variables).
pub fn text(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}
