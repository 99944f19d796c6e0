//! The deploy state: a small JSON object next to the deploy lock
//! (`updraft/{service}/{stage}/state.json` in the deployment bucket) that says where the
//! service's resources are when their ownership tags alone cannot find them:
//!
//! - IAM roles are not in the Resource Groups Tagging index, so a role named by
//!   `provider.iam.role.name` could only be found by its name;
//! - a notification on an `existing: true` bucket lives on a bucket the service does not own
//!   and S3 cannot list the buckets that notify a function;
//! - Lambda lists no resource policies, so the functions whose policies hold the service's
//!   permissions are read one by one, and only those;
//! - the HTTP and WebSocket APIs' authorizers are read only when the service has some (or a
//!   route uses one), and the account's API keys and usage plans only when the service has some;
//! - an EventBridge rule with its own name, or on a bus the service does not own, cannot be
//!   found by the service's name prefix;
//! - subscription filters have no tags and are listed per log group only;
//! - IoT lists topic rules without their actions or tags;
//! - Cognito lists user pools without their tags;
//! - nothing in a REST API's resources and methods says who made them, so what the service
//!   deployed into a REST API it shares with others is known by the paths and methods recorded;
//! - Lambda layers take no tags at all: the service's are known by name, with whether their
//!   versions are retained (`retain: true`), which a remove must know without the manifest.
//!
//! A deploy writes the union of what was recorded and what it is about to create *before* it
//! changes anything (so a deploy killed half-way leaves nothing unrecorded), and after it
//! applied, what its manifest names plus whatever is still live. A remove keeps only what it
//! could not delete, and deletes the object when nothing is left. The live reader takes the
//! state as explicit input; nothing is remembered between calls in the process.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};

use super::bucket;
use super::call;
use super::clients::Aws;
use super::kinds::Typed;
use super::naming::{self, kind};
use super::triggers::permission::PermissionProperties;
use super::triggers::rest_api::shared::Owned as SharedOwned;
use crate::plan::{DesiredState, LiveState, Properties, ResourceId};
use crate::provider::ProviderError;

/// The object's format version; a newer one is refused rather than misread.
const VERSION: u32 = 1;

/// Where the live reader must look besides the tagging index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployState {
    pub version: u32,
    /// IAM roles the service created, by name.
    #[serde(default)]
    pub roles: BTreeSet<String>,
    /// Buckets that carry the service's notifications, owned or not.
    #[serde(default)]
    pub buckets: BTreeSet<String>,
    /// Functions whose resource policies hold the service's permissions.
    #[serde(default)]
    pub functions: BTreeSet<String>,
    /// The service's HTTP API or WebSocket API has authorizers.
    #[serde(default)]
    pub authorizers: bool,
    /// The service has API keys or a usage plan.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub api_keys: bool,
    /// CloudFormation stacks of the service by name (`provider.stackName` may name one other
    /// than `{service}-{stage}`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub stacks: BTreeSet<String>,
    /// EventBridge rules by resource name (`{rule}` or `{bus}/{rule}`): one with its own `name`,
    /// or on a bus the service does not own, has neither the service's prefix nor its bus.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub rules: BTreeSet<String>,
    /// Log groups that carry the service's subscription filters (filters have no tags and are
    /// listed per log group only).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub log_groups: BTreeSet<String>,
    /// IoT topic rules by name (IoT lists rules without their actions or tags).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub topic_rules: BTreeSet<String>,
    /// Cognito user pools by name, created or existing, that hold the service's triggers
    /// (Cognito has no listing by tag).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub user_pools: BTreeSet<String>,
    /// REST APIs the service deploys into but does not own, by id, with what it put there.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shared_rest_apis: BTreeMap<String, SharedOwned>,
    /// Lambda layers by name (layers take no tags).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub layers: BTreeSet<String>,
    /// Of [`Self::layers`], those whose versions are kept (`retain: true`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub retained_layers: BTreeSet<String>,
}

impl DeployState {
    /// What a desired state will put where tags cannot find it.
    pub fn of_desired(desired: &DesiredState) -> DeployState {
        let mut state = DeployState::empty();
        for resource in &desired.resources {
            state.note(&resource.id, &resource.properties);
        }
        state.shared_rest_apis =
            shared_owned(desired.resources.iter().map(|r| (&r.id, &r.properties)));
        state
    }

    /// What a live state shows that tags alone would not find again. A retained resource (a
    /// layer with `retain: true`) is not: once the manifest no longer names it, it is let go,
    /// as CloudFormation lets go of a resource with `DeletionPolicy: Retain`.
    pub fn of_live(live: &LiveState) -> DeployState {
        let mut state = DeployState::empty();
        for resource in live.resources.iter().filter(|r| !r.is_retained()) {
            state.note(&resource.id, &resource.properties);
        }
        state.shared_rest_apis =
            shared_owned(live.resources.iter().map(|r| (&r.id, &r.properties)));
        state
    }

    pub fn empty() -> DeployState {
        DeployState {
            version: VERSION,
            ..DeployState::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
            && self.buckets.is_empty()
            && self.functions.is_empty()
            && !self.authorizers
            && !self.api_keys
            && self.stacks.is_empty()
            && self.rules.is_empty()
            && self.log_groups.is_empty()
            && self.topic_rules.is_empty()
            && self.user_pools.is_empty()
            && self.shared_rest_apis.is_empty()
            && self.layers.is_empty()
    }

    /// Everything either state records. Whether a layer is retained is `other`'s word for the
    /// layers `other` records (pass the newer state as `other`).
    pub fn union(&self, other: &DeployState) -> DeployState {
        DeployState {
            version: VERSION,
            roles: self.roles.union(&other.roles).cloned().collect(),
            buckets: self.buckets.union(&other.buckets).cloned().collect(),
            functions: self.functions.union(&other.functions).cloned().collect(),
            authorizers: self.authorizers || other.authorizers,
            api_keys: self.api_keys || other.api_keys,
            stacks: self.stacks.union(&other.stacks).cloned().collect(),
            rules: self.rules.union(&other.rules).cloned().collect(),
            log_groups: self.log_groups.union(&other.log_groups).cloned().collect(),
            topic_rules: self
                .topic_rules
                .union(&other.topic_rules)
                .cloned()
                .collect(),
            user_pools: self.user_pools.union(&other.user_pools).cloned().collect(),
            shared_rest_apis: {
                let mut apis = self.shared_rest_apis.clone();
                for (id, owned) in &other.shared_rest_apis {
                    let entry = apis.entry(id.clone()).or_default();
                    if entry.root.is_empty() {
                        entry.root = owned.root.clone();
                    }
                    entry.paths.extend(owned.paths.iter().cloned());
                    entry.methods.extend(owned.methods.iter().cloned());
                }
                apis
            },
            layers: self.layers.union(&other.layers).cloned().collect(),
            retained_layers: self
                .retained_layers
                .iter()
                .filter(|name| !other.layers.contains(*name))
                .chain(&other.retained_layers)
                .cloned()
                .collect(),
        }
    }

    fn note(&mut self, id: &ResourceId, properties: &Properties) {
        match id.kind.as_str() {
            kind::ROLE => {
                self.roles.insert(id.name.clone());
            }
            kind::BUCKET_NOTIFICATION => {
                self.buckets.insert(id.name.clone());
            }
            kind::HTTP_API_AUTHORIZER | kind::WEBSOCKET_AUTHORIZER => self.authorizers = true,
            kind::REST_API_KEY | kind::REST_API_USAGE_PLAN => self.api_keys = true,
            kind::RULE => {
                self.rules.insert(id.name.clone());
            }
            kind::USER_POOL | kind::USER_POOL_TRIGGERS => {
                self.user_pools.insert(id.name.clone());
            }
            kind::TOPIC_RULE => {
                self.topic_rules.insert(id.name.clone());
            }
            kind::SUBSCRIPTION_FILTER => {
                if let Some((group, _)) = id.name.split_once(':') {
                    self.log_groups.insert(group.to_string());
                }
            }
            kind::LAYER => {
                self.layers.insert(id.name.clone());
                if properties.get("retain") == Some(&serde_json::Value::Bool(true)) {
                    self.retained_layers.insert(id.name.clone());
                }
            }
            crate::provider::aws::stack_template::STACK => {
                self.stacks.insert(id.name.clone());
            }
            kind::PERMISSION => {
                let Ok(permission) = PermissionProperties::from_properties(properties, id) else {
                    return;
                };
                if let Some((_, bucket)) = permission
                    .source_arn
                    .as_str()
                    .and_then(|arn| arn.split_once(":s3:::"))
                {
                    self.buckets.insert(bucket.to_string());
                }
                self.functions.insert(permission.function_name);
            }
            _ => {}
        }
    }
}

/// What the service owns in each shared REST API; an API it owns nothing in any more is not
/// recorded.
fn shared_owned<'a>(
    resources: impl Iterator<Item = (&'a ResourceId, &'a Properties)>,
) -> BTreeMap<String, SharedOwned> {
    let mut owned = super::triggers::rest_api::shared::owned(resources);
    owned.retain(|_, owned| !owned.paths.is_empty() || !owned.methods.is_empty());
    owned
}

fn key(aws: &Aws) -> String {
    naming::state_key(&aws.scope.service, &aws.scope.stage)
}

fn place(aws: &Aws) -> String {
    format!("s3://{}/{}", aws.bucket, key(aws))
}

/// The recorded state; empty when nothing was recorded (or the bucket does not exist yet).
pub async fn read(aws: &Aws) -> Result<DeployState, ProviderError> {
    let Some(bytes) = bucket::read_object(aws, &key(aws)).await? else {
        return Ok(DeployState::empty());
    };
    let state: DeployState = serde_json::from_slice(&bytes).map_err(|e| ProviderError::Call {
        operation: "s3:GetObject".into(),
        resource: place(aws),
        message: format!("the deploy state is not one updraft wrote: {e}"),
        help: format!(
            "look at {}: it records where the service's roles and notifications are",
            place(aws)
        ),
    })?;
    if state.version > VERSION {
        return Err(ProviderError::Call {
            operation: "s3:GetObject".into(),
            resource: place(aws),
            message: format!(
                "the deploy state has version {}, newer than this updraft reads ({VERSION})",
                state.version
            ),
            help: "use the updraft version that deployed the service, or a newer one".into(),
        });
    }
    Ok(state)
}

/// Writes `state` (deletes the object when it records nothing), unless it is what is recorded.
pub async fn write(
    aws: &Aws,
    previous: &DeployState,
    state: &DeployState,
) -> Result<(), ProviderError> {
    if previous == state {
        return Ok(());
    }
    if state.is_empty() {
        return match aws
            .s3
            .delete_object()
            .bucket(&aws.bucket)
            .key(key(aws))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if call::is(&error, &["NoSuchBucket"]) => Ok(()),
            Err(error) => Err(call::failed("s3:DeleteObject", place(aws), &error)),
        };
    }
    let body = serde_json::to_vec_pretty(state).map_err(|e| ProviderError::Internal {
        resource: ResourceId::new(kind::DEPLOYMENT_BUCKET, key(aws)),
        message: format!("the deploy state cannot be written as JSON: {e}"),
    })?;
    aws.s3
        .put_object()
        .bucket(&aws.bucket)
        .key(key(aws))
        .content_type("application/json")
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| call::failed("s3:PutObject", place(aws), &e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Desired, Live};
    use serde_json::{json, Value as Json};

    fn desired(kind: &str, name: &str, properties: Json) -> Desired {
        Desired {
            id: ResourceId::new(kind, name),
            properties: serde_json::from_value(properties).unwrap(),
            ..Desired::default()
        }
    }

    #[test]
    fn the_event_resources_tags_cannot_find_are_recorded_by_name() {
        let state = DeployState::of_desired(&DesiredState {
            resources: vec![
                desired(kind::RULE, "orders-bus/own-name", json!({})),
                desired(
                    kind::SUBSCRIPTION_FILTER,
                    "/app/orders:svc-dev-tail-cloudwatch-log-1",
                    json!({}),
                ),
                desired(kind::TOPIC_RULE, "svc_dev_sensor_iot_1", json!({})),
                desired(kind::USER_POOL_TRIGGERS, "Staff", json!({})),
            ],
        });
        assert_eq!(
            state.rules,
            BTreeSet::from(["orders-bus/own-name".to_string()])
        );
        assert_eq!(
            state.log_groups,
            BTreeSet::from(["/app/orders".to_string()])
        );
        assert_eq!(
            state.topic_rules,
            BTreeSet::from(["svc_dev_sensor_iot_1".to_string()])
        );
        assert_eq!(state.user_pools, BTreeSet::from(["Staff".to_string()]));
        assert!(!state.is_empty());
        let text = serde_json::to_string(&state).unwrap_or_default();
        let read: DeployState = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(read, state, "what is written reads back");
    }

    #[test]
    fn a_custom_role_and_an_existing_bucket_are_recorded() {
        let state = DeployState::of_desired(&DesiredState {
            resources: vec![
                desired(kind::ROLE, "my-custom-role-name", json!({})),
                desired(
                    kind::PERMISSION,
                    "svc-dev-resize:s3-legacy",
                    json!({"function_name": "svc-dev-resize", "statement_id": "updraft-event-s3-legacy",
                           "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com",
                           "source_arn": "arn:aws:s3:::legacy"}),
                ),
                desired(kind::FUNCTION, "svc-dev-resize", json!({})),
            ],
        });
        assert_eq!(
            state.roles,
            BTreeSet::from(["my-custom-role-name".to_string()])
        );
        assert_eq!(state.buckets, BTreeSet::from(["legacy".to_string()]));
        assert_eq!(
            state.functions,
            BTreeSet::from(["svc-dev-resize".to_string()])
        );
        assert!(!state.authorizers);
    }

    #[test]
    fn what_is_still_live_stays_recorded_after_a_partial_remove() {
        let live = LiveState {
            resources: vec![Live {
                id: ResourceId::new(kind::BUCKET_NOTIFICATION, "legacy"),
                ..Live::default()
            }],
            ..LiveState::default()
        };
        let state = DeployState::of_live(&live);
        assert_eq!(state.buckets, BTreeSet::from(["legacy".to_string()]));
        assert!(DeployState::of_live(&LiveState::default()).is_empty());
    }

    #[test]
    fn layers_are_recorded_by_name_and_the_newer_state_says_whether_they_are_retained() {
        let kept = desired(kind::LAYER, "ffmpeg", json!({"retain": true}));
        let plain = desired(kind::LAYER, "deps", json!({"retain": false}));
        let recorded = DeployState::of_desired(&DesiredState {
            resources: vec![kept, plain],
        });
        assert_eq!(
            recorded.layers,
            BTreeSet::from(["deps".to_string(), "ffmpeg".to_string()])
        );
        assert_eq!(
            recorded.retained_layers,
            BTreeSet::from(["ffmpeg".to_string()])
        );
        // The manifest turns `retain` off for ffmpeg: the newer state's word wins.
        let newer = DeployState::of_desired(&DesiredState {
            resources: vec![desired(kind::LAYER, "ffmpeg", json!({"retain": false}))],
        });
        let state = recorded.union(&newer);
        assert!(state.retained_layers.is_empty());
        assert_eq!(state.layers.len(), 2);
        // A retained layer that is live but no longer desired is let go.
        let live = LiveState {
            resources: vec![Live {
                id: ResourceId::new(kind::LAYER, "ffmpeg"),
                attributes: Properties::from([(crate::plan::RETAINED.into(), json!(true))]),
                ..Live::default()
            }],
            ..LiveState::default()
        };
        assert!(DeployState::of_live(&live).is_empty());
    }

    #[test]
    fn the_recorded_object_reads_back_and_refuses_unknown_fields() {
        let state = DeployState::empty().union(&DeployState {
            authorizers: true,
            ..DeployState::empty()
        });
        let text = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<DeployState>(&text).unwrap(), state);
        assert!(serde_json::from_str::<DeployState>(r#"{"version":1,"rolez":[]}"#).is_err());
    }
}
