//! `cognitoUserPool` events: the function as one of a Cognito user pool's Lambda triggers
//! (`PreSignUp`, `PostConfirmation`, ...), plus the permission for Cognito
//! (`cognito-idp.amazonaws.com`) to invoke it.
//!
//! Two resources per pool, as the Framework has them:
//!
//! - the pool itself, when the events do not say `existing: true`: created with the service's
//!   tags under the name `pool` gives, and deleted on remove (the Framework creates it too);
//! - the pool's triggers that are the service's (`{trigger: function ARN}`). Cognito's
//!   `UpdateUserPool` resets every setting it is not given, so a change reads the pool and
//!   sends all its settings back with the triggers changed; triggers of other functions stay,
//!   and remove takes out only the service's, leaving an existing pool as it was before.
//!
//! Pools are found by name (Cognito names need not be unique: the one with the service's tags,
//! or the only one, is used) among those the deploy state records: Cognito has no listing by
//! tag, and reading every pool of the account would be one call per pool.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{LambdaConfigType, UserPoolType};
use aws_sdk_cognitoidentityprovider::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::kinds::{TagChange, TagsOnly, Typed};
use super::super::naming::{self, kind};
use super::permission::{self, Grant};
use super::{call_error, invalid, owned, refuse_settings, unsupported_setting, EventContext};
use super::{FunctionEvent, Site};
use crate::plan::{Action, Desired, Live, Properties, Reference, Step};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

/// The triggers updraft sets, as the Framework names them.
pub const TRIGGERS: &[&str] = &[
    "PreSignUp",
    "PostConfirmation",
    "PreAuthentication",
    "PostAuthentication",
    "PreTokenGeneration",
    "CustomMessage",
    "DefineAuthChallenge",
    "CreateAuthChallenge",
    "VerifyAuthChallengeResponse",
    "UserMigration",
];

/// The service's triggers on one pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolTriggersProperties {
    /// Trigger name to the function's ARN (a reference to the function until apply).
    pub triggers: BTreeMap<String, Json>,
}

impl Typed for PoolTriggersProperties {}

pub fn desired(
    context: &Context<'_>,
    events: &[FunctionEvent],
) -> Result<Vec<Desired>, ProviderError> {
    // Pool name to (existing, trigger to function resource and ARN).
    let mut pools: BTreeMap<String, (bool, BTreeMap<String, Json>, BTreeSet<_>)> = BTreeMap::new();
    let mut grants = BTreeSet::new();
    let mut resources = Vec::new();
    for FunctionEvent {
        function, event, ..
    } in events
    {
        let Some(written) = super::settings(event) else {
            return Err(invalid(
                function,
                event,
                "the event takes `pool` and `trigger`".into(),
                "write `cognitoUserPool: {pool: MyPool, trigger: PreSignUp}`",
            ));
        };
        let unknown: Vec<&str> = written
            .keys()
            .map(String::as_str)
            .filter(|key| !matches!(*key, "pool" | "trigger" | "existing"))
            .collect();
        refuse_settings(
            function,
            event,
            &unknown,
            "updraft deploys a cognitoUserPool event's `pool`, `trigger` and `existing`; remove \
             this setting or deploy the function with the Serverless Framework",
        )?;
        let text = |key: &str| written.get(key).and_then(Json::as_str).unwrap_or_default();
        let (pool, trigger) = (text("pool"), text("trigger"));
        let valid_pool = !pool.is_empty()
            && pool.len() <= 128
            && pool
                .chars()
                .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_+=,.@-".contains(c));
        if !valid_pool {
            return Err(invalid(
                function,
                event,
                format!("`pool: {pool}` is not a user pool name"),
                "a user pool name is 1 to 128 of letters, digits, spaces and `_+=,.@-`",
            ));
        }
        if matches!(trigger, "CustomSMSSender" | "CustomEmailSender") {
            return Err(unsupported_setting(
                function,
                event,
                &format!("trigger: {trigger}"),
                "the custom sender triggers need a KMS key, which updraft does not deploy yet; \
                 deploy this function with the Serverless Framework",
            ));
        }
        if !TRIGGERS.contains(&trigger) {
            return Err(invalid(
                function,
                event,
                format!("`trigger: {trigger}` is not a Cognito trigger"),
                &format!("write one of {}", TRIGGERS.join(", ")),
            ));
        }
        let existing = super::setting_value::<bool>(event, "existing").unwrap_or(false);
        let function_id = context.function_id(function)?;
        let entry = pools
            .entry(pool.to_string())
            .or_insert_with(|| (existing, BTreeMap::new(), BTreeSet::new()));
        if entry.0 != existing {
            return Err(invalid(
                function,
                event,
                format!("the pool `{pool}` is `existing: true` in one event and not in another"),
                "write `existing: true` on every event of an existing pool, or on none",
            ));
        }
        if entry.1.contains_key(trigger) {
            return Err(invalid(
                function,
                event,
                format!("the pool `{pool}` has two `{trigger}` events"),
                "a pool has one function per trigger: keep one",
            ));
        }
        entry
            .1
            .insert(trigger.to_string(), context.function_arn(function)?);
        entry.2.insert(function_id.clone());
        if grants.insert((function_id.name.clone(), pool.to_string())) {
            let pool_id = naming::id(kind::USER_POOL, pool);
            resources.push(permission::desired(Grant {
                function: function_id,
                statement_id: permission::statement_id(&format!("cognito-{pool}")),
                principal: "cognito-idp.amazonaws.com".into(),
                source_arn: if existing {
                    json!(format!(
                        "arn:{}:cognito-idp:{}:{}:userpool/*",
                        context.partition, context.region, context.account
                    ))
                } else {
                    Reference::new(pool_id.clone(), "arn").to_json()
                },
                source: (!existing).then_some(pool_id),
            }));
        }
    }
    for (pool, (existing, triggers, functions)) in pools {
        let mut depends_on = functions;
        if !existing {
            let pool_id = naming::id(kind::USER_POOL, &pool);
            depends_on.insert(pool_id.clone());
            resources.push(Desired {
                id: pool_id,
                properties: TagsOnly {
                    tags: context.tags.clone(),
                }
                .to_properties(),
                inputs: Properties::new(),
                depends_on: BTreeSet::new(),
                replace_when: BTreeSet::new(),
            });
        }
        resources.push(Desired {
            id: naming::id(kind::USER_POOL_TRIGGERS, &pool),
            properties: PoolTriggersProperties { triggers }.to_properties(),
            inputs: Properties::new(),
            depends_on,
            replace_when: BTreeSet::new(),
        });
    }
    Ok(resources)
}

/// A trigger's function in a pool's Lambda configuration.
fn trigger_of<'a>(config: &'a LambdaConfigType, trigger: &str) -> Option<&'a str> {
    match trigger {
        "PreSignUp" => config.pre_sign_up(),
        "PostConfirmation" => config.post_confirmation(),
        "PreAuthentication" => config.pre_authentication(),
        "PostAuthentication" => config.post_authentication(),
        "PreTokenGeneration" => config.pre_token_generation(),
        "CustomMessage" => config.custom_message(),
        "DefineAuthChallenge" => config.define_auth_challenge(),
        "CreateAuthChallenge" => config.create_auth_challenge(),
        "VerifyAuthChallengeResponse" => config.verify_auth_challenge_response(),
        "UserMigration" => config.user_migration(),
        _ => None,
    }
}

/// `config` with the triggers in `changes` set (or taken out, for `None`), the others kept.
fn with_triggers(
    config: Option<&LambdaConfigType>,
    changes: &BTreeMap<String, Option<String>>,
) -> LambdaConfigType {
    let value = |trigger: &str| match changes.get(trigger) {
        Some(change) => change.clone(),
        None => config
            .and_then(|c| trigger_of(c, trigger))
            .map(str::to_string),
    };
    // The versioned form of PreTokenGeneration follows the plain one when that changes.
    let token_config = if changes.contains_key("PreTokenGeneration") {
        None
    } else {
        config.and_then(|c| c.pre_token_generation_config().cloned())
    };
    LambdaConfigType::builder()
        .set_pre_sign_up(value("PreSignUp"))
        .set_post_confirmation(value("PostConfirmation"))
        .set_pre_authentication(value("PreAuthentication"))
        .set_post_authentication(value("PostAuthentication"))
        .set_pre_token_generation(value("PreTokenGeneration"))
        .set_custom_message(value("CustomMessage"))
        .set_define_auth_challenge(value("DefineAuthChallenge"))
        .set_create_auth_challenge(value("CreateAuthChallenge"))
        .set_verify_auth_challenge_response(value("VerifyAuthChallengeResponse"))
        .set_user_migration(value("UserMigration"))
        .set_pre_token_generation_config(token_config)
        .set_custom_sms_sender(config.and_then(|c| c.custom_sms_sender().cloned()))
        .set_custom_email_sender(config.and_then(|c| c.custom_email_sender().cloned()))
        .set_kms_key_id(config.and_then(|c| c.kms_key_id().map(str::to_string)))
        .set_inbound_federation(config.and_then(|c| c.inbound_federation().cloned()))
        .build()
}

/// The pools named `names` with their full description.
async fn pools_named(
    client: &Client,
    names: &BTreeSet<String>,
) -> Result<Vec<UserPoolType>, ProviderError> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_user_pools()
            .max_results(60)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| call_error("cognito-idp:ListUserPools", "user pools", &e))?;
        for pool in page.user_pools() {
            if let (Some(id), Some(name)) = (pool.id(), pool.name()) {
                if names.contains(name) {
                    ids.push(id.to_string());
                }
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let mut pools = Vec::new();
    for id in ids {
        match client.describe_user_pool().user_pool_id(&id).send().await {
            Ok(found) => pools.extend(found.user_pool().cloned()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(call_error("cognito-idp:DescribeUserPool", &id, &e)),
        }
    }
    Ok(pools)
}

fn pool_tags(pool: &UserPoolType) -> BTreeMap<String, String> {
    pool.user_pool_tags()
        .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The pool named `name` a change is for: the one with the service's tags, else the only one.
async fn pool_for(client: &Client, site: &Site, name: &str) -> Result<UserPoolType, ProviderError> {
    let pools = pools_named(client, &BTreeSet::from([name.to_string()])).await?;
    let (mut ours, mut others): (Vec<_>, Vec<_>) = pools
        .into_iter()
        .partition(|pool| owned(&pool_tags(pool), &site.service, &site.stage));
    let count = others.len();
    match (ours.pop(), others.pop()) {
        (Some(pool), _) => Ok(pool),
        (None, Some(pool)) if count == 1 => Ok(pool),
        (None, _) => Err(ProviderError::Call {
            operation: "cognito-idp:ListUserPools".into(),
            resource: name.to_string(),
            message: if count == 0 {
                "no user pool has this name".into()
            } else {
                format!("{count} user pools have this name")
            },
            help: "name a pool that exists once in the account and region (`existing: true`), \
                   or leave `existing` out for updraft to create it"
                .into(),
        }),
    }
}

/// The pools the deploy state records: the ones with the service's tags, and the service's
/// triggers on any of them.
pub async fn live(
    client: &Client,
    site: &Site,
    names: &BTreeSet<String>,
    functions: &BTreeSet<String>,
) -> Result<Vec<Live>, ProviderError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    for pool in pools_named(client, names).await? {
        let (Some(name), Some(arn), Some(id)) = (pool.name(), pool.arn(), pool.id()) else {
            continue;
        };
        let tags = pool_tags(&pool);
        let ours = owned(&tags, &site.service, &site.stage);
        if ours {
            found.push(Live {
                id: naming::id(kind::USER_POOL, name),
                properties: TagsOnly { tags }.to_properties(),
                attributes: Properties::from([
                    ("arn".to_string(), json!(arn)),
                    ("id".to_string(), json!(id)),
                ]),
                depends_on: BTreeSet::new(),
            });
        }
        let mut depends_on = BTreeSet::new();
        if ours {
            depends_on.insert(naming::id(kind::USER_POOL, name));
        }
        let triggers: BTreeMap<String, Json> = TRIGGERS
            .iter()
            .filter_map(|trigger| {
                let arn = trigger_of(pool.lambda_config()?, trigger)?;
                let function = super::function_name_of(arn)?;
                functions.contains(function).then(|| {
                    depends_on.insert(naming::id(kind::FUNCTION, function));
                    (trigger.to_string(), json!(arn))
                })
            })
            .collect();
        if !triggers.is_empty() {
            found.push(Live {
                id: naming::id(kind::USER_POOL_TRIGGERS, name),
                properties: PoolTriggersProperties { triggers }.to_properties(),
                attributes: Properties::from([("id".to_string(), json!(id))]),
                depends_on,
            });
        }
    }
    Ok(found)
}

pub async fn apply(
    client: &Client,
    site: &Site,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    match step.id.kind.as_str() {
        kind::USER_POOL => apply_pool(client, site, step, properties).await,
        _ => apply_triggers(client, site, step, properties).await,
    }
}

async fn apply_pool(
    client: &Client,
    site: &Site,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let name = step.id.name.as_str();
    if step.action == Action::Delete {
        let Some(id) = super::attribute(step.live.as_ref(), "id") else {
            return Ok(Properties::new());
        };
        return match client.delete_user_pool().user_pool_id(&id).send().await {
            Ok(_) => Ok(Properties::new()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(Properties::new()),
            Err(e) => Err(call_error("cognito-idp:DeleteUserPool", name, &e)),
        };
    }
    let wanted = TagsOnly::from_properties(properties, &step.id)?;
    let (id, arn) = match step.live.as_ref() {
        Some(_) => {
            let pool = pool_for(client, site, name).await?;
            let (id, arn) = (
                pool.id().unwrap_or_default().to_string(),
                pool.arn().unwrap_or_default().to_string(),
            );
            let live_tags = pool_tags(&pool);
            let arn_ref = &arn;
            TagChange::between(&live_tags, &wanted.tags)
                .send(
                    |remove| async move {
                        client
                            .untag_resource()
                            .resource_arn(arn_ref)
                            .set_tag_keys(Some(remove))
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|e| call_error("cognito-idp:UntagResource", name, &e))
                    },
                    |set| async move {
                        client
                            .tag_resource()
                            .resource_arn(arn_ref)
                            .set_tags(Some(set.into_iter().collect()))
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|e| call_error("cognito-idp:TagResource", name, &e))
                    },
                )
                .await?;
            (id, arn)
        }
        None => {
            let created = client
                .create_user_pool()
                .pool_name(name)
                .set_user_pool_tags(Some(wanted.tags.clone().into_iter().collect()))
                .send()
                .await
                .map_err(|e| call_error("cognito-idp:CreateUserPool", name, &e))?;
            let pool = created.user_pool();
            (
                pool.and_then(UserPoolType::id)
                    .unwrap_or_default()
                    .to_string(),
                pool.and_then(UserPoolType::arn)
                    .unwrap_or_default()
                    .to_string(),
            )
        }
    };
    Ok(Properties::from([
        ("arn".to_string(), json!(arn)),
        ("id".to_string(), json!(id)),
    ]))
}

async fn apply_triggers(
    client: &Client,
    site: &Site,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let name = step.id.name.as_str();
    let current = PoolTriggersProperties::live_of(step)?;
    let wanted = if step.action == Action::Delete {
        PoolTriggersProperties {
            triggers: BTreeMap::new(),
        }
    } else {
        PoolTriggersProperties::from_properties(properties, &step.id)?
    };
    let pool = match pool_for(client, site, name).await {
        Ok(pool) => pool,
        // A pool deleted with the service takes its triggers with it.
        Err(_) if step.action == Action::Delete => return Ok(Properties::new()),
        Err(e) => return Err(e),
    };
    let mut changes: BTreeMap<String, Option<String>> = BTreeMap::new();
    for trigger in current.iter().flat_map(|c| c.triggers.keys()) {
        changes.insert(trigger.clone(), None);
    }
    for (trigger, arn) in &wanted.triggers {
        changes.insert(trigger.clone(), arn.as_str().map(str::to_string));
    }
    let id = pool.id().unwrap_or_default().to_string();
    // UpdateUserPool resets what it is not given: every setting goes back as it was.
    client
        .update_user_pool()
        .user_pool_id(&id)
        .set_lambda_config(Some(with_triggers(pool.lambda_config(), &changes)))
        .set_policies(pool.policies().cloned())
        .set_deletion_protection(pool.deletion_protection().cloned())
        .set_auto_verified_attributes(
            Some(pool.auto_verified_attributes().to_vec()).filter(|a| !a.is_empty()),
        )
        .set_sms_verification_message(pool.sms_verification_message().map(str::to_string))
        .set_email_verification_message(pool.email_verification_message().map(str::to_string))
        .set_email_verification_subject(pool.email_verification_subject().map(str::to_string))
        .set_verification_message_template(pool.verification_message_template().cloned())
        .set_sms_authentication_message(pool.sms_authentication_message().map(str::to_string))
        .set_user_attribute_update_settings(pool.user_attribute_update_settings().cloned())
        .set_mfa_configuration(pool.mfa_configuration().cloned())
        .set_device_configuration(pool.device_configuration().cloned())
        .set_email_configuration(pool.email_configuration().cloned())
        .set_sms_configuration(pool.sms_configuration().cloned())
        .set_user_pool_tags(pool.user_pool_tags().cloned())
        .set_admin_create_user_config(pool.admin_create_user_config().cloned())
        .set_user_pool_add_ons(pool.user_pool_add_ons().cloned())
        .set_account_recovery_setting(pool.account_recovery_setting().cloned())
        .set_user_pool_tier(pool.user_pool_tier().cloned())
        .send()
        .await
        .map_err(|e| call_error("cognito-idp:UpdateUserPool", name, &e))?;
    Ok(Properties::from([("id".to_string(), json!(id))]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aws::triggers::test_support::{find, names, Fixture};

    fn service(events: Json) -> Fixture {
        Fixture::one_function("signup", events)
    }

    #[test]
    fn a_new_pool_is_created_and_an_existing_one_only_gets_the_triggers() {
        let resources = service(json!([
            {"cognitoUserPool": {"pool": "Customers", "trigger": "PreSignUp"}},
            {"cognitoUserPool": {"pool": "Customers", "trigger": "PostConfirmation"}},
            {"cognitoUserPool": {"pool": "Staff", "trigger": "PreSignUp", "existing": true}},
        ]))
        .desired()
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(names(&resources, kind::USER_POOL), ["Customers"]);
        let customers = find(&resources, kind::USER_POOL_TRIGGERS, "Customers");
        let triggers = customers.properties["triggers"]
            .as_object()
            .map(|t| t.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        assert_eq!(triggers, ["PostConfirmation", "PreSignUp"]);
        assert!(customers
            .depends_on
            .contains(&naming::id(kind::USER_POOL, "Customers")));
        find(&resources, kind::USER_POOL_TRIGGERS, "Staff");
        let staff = find(
            &resources,
            kind::PERMISSION,
            "shop-dev-signup/updraft-event-cognito-Staff",
        );
        assert_eq!(
            staff.properties["principal"],
            json!("cognito-idp.amazonaws.com")
        );
        assert_eq!(
            staff.properties["source_arn"],
            json!("arn:aws:cognito-idp:us-east-1:123456789012:userpool/*")
        );
        assert_eq!(names(&resources, kind::PERMISSION).len(), 2);
    }

    #[test]
    fn an_unknown_trigger_a_custom_sender_and_mixed_existing_are_refused() {
        for (events, word) in [
            (
                json!([{"cognitoUserPool": {"pool": "P", "trigger": "PreSignup"}}]),
                "PreSignup",
            ),
            (
                json!([{"cognitoUserPool": {"pool": "P", "trigger": "CustomSMSSender"}}]),
                "CustomSMSSender",
            ),
            (
                json!([{"cognitoUserPool": {"pool": "P", "trigger": "PreSignUp",
                                             "kmsKeyId": "k"}}]),
                "kmsKeyId",
            ),
            (
                json!([
                    {"cognitoUserPool": {"pool": "P", "trigger": "PreSignUp", "existing": true}},
                    {"cognitoUserPool": {"pool": "P", "trigger": "CustomMessage"}},
                ]),
                "existing",
            ),
        ] {
            match service(events).desired() {
                Err(ProviderError::Unsupported {
                    what: text, span, ..
                })
                | Err(ProviderError::Invalid {
                    message: text,
                    span,
                    ..
                }) => {
                    assert!(text.contains(word) && text.contains("signup"), "{text}");
                    assert!(span.is_some());
                }
                other => panic!("expected a refusal naming {word}, got {other:?}"),
            }
        }
    }
}
