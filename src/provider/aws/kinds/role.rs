//! The service's execution role, as the Framework makes it: trusted by Lambda, with one inline
//! policy (`{service}-{stage}-lambda`) that lets the functions write their logs plus
//! `provider.iam.role.statements`, and `managedPolicies` attached. Not made when every function
//! has a given `role` (`provider.iam.role` as an ARN or name is used as is).
//!
//! Live: IAM is not in the tagging index, so the role is read by name (GetRole, then
//! GetRolePolicy and ListAttachedRolePolicies at once) and is live only when it carries the
//! ownership tags. The names read are the default role name and those the deploy state records
//! (a `provider.iam.role.name` of the service's own).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::{props, ResourceKind, TagChange, Typed};
use crate::plan::{Action, Desired, DesiredState, Live, Properties, Step};
use crate::provider::aws::call;
use crate::provider::aws::clients::Aws;
use crate::provider::aws::context::Context;
use crate::provider::aws::intrinsic::Place;
use crate::provider::aws::live::LiveContext;
use crate::provider::aws::naming::{self, kind};
use crate::provider::{ProviderError, StepContext};

pub struct Roles;

/// The execution role's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleProperties {
    pub assume_role_policy: Json,
    /// The inline policy (null when it has none); its statements may refer to other resources
    /// until apply.
    pub policy: Json,
    /// ARNs, sorted.
    pub managed_policies: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

impl Typed for RoleProperties {}

/// The inline policy's name.
pub fn policy_name(service: &str, stage: &str) -> String {
    format!("{}-lambda", naming::prefix(service, stage))
}

fn trust_policy() -> Json {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com"]},
            "Action": ["sts:AssumeRole"]
        }]
    })
}

#[async_trait]
impl ResourceKind for Roles {
    fn kinds(&self) -> &'static [&'static str] {
        &[kind::ROLE]
    }

    fn desired(
        &self,
        context: &Context<'_>,
        state: &mut DesiredState,
    ) -> Result<(), ProviderError> {
        let Some(id) = &context.role else {
            return Ok(());
        };
        let iam = &context.service.provider.iam;
        if iam.permissions_boundary.is_some() {
            return Err(crate::provider::aws::intrinsic::unsupported(
                Place {
                    path: "provider.iam.role.permissionsBoundary",
                    span: None,
                },
                "a permissions boundary on the execution role",
            ));
        }
        let mut depends_on = BTreeSet::new();
        // The Framework's logging statements: every log group of the service.
        let mut groups = vec![context.arn(
            "logs",
            &format!("log-group:{}*:*", naming::log_group_name(&context.prefix)),
        )];
        for function in context.service.functions.values() {
            if !function.name.starts_with(&context.prefix) {
                groups.push(context.arn(
                    "logs",
                    &format!("log-group:{}:*", naming::log_group_name(&function.name)),
                ));
            }
        }
        let events: Vec<String> = groups.iter().map(|g| format!("{g}:*")).collect();
        let mut statements = vec![
            json!({"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:CreateLogGroup", "logs:TagResource"], "Resource": groups}),
            json!({"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": events}),
        ];
        for (index, statement) in iam.statements.iter().enumerate() {
            let path = format!("provider.iam.role.statements[{index}]");
            let resolved = context.resolve(
                statement,
                Place {
                    path: &path,
                    span: None,
                },
            )?;
            depends_on.extend(resolved.depends_on);
            statements.push(resolved.value);
        }
        let (event_statements, event_sources) =
            crate::provider::aws::triggers::role_statements(context)?;
        statements.extend(event_statements);
        depends_on.extend(event_sources);
        let needs = super::function_settings::role_needs(context)?;
        statements.extend(needs.statements);
        depends_on.extend(needs.depends_on);
        let (destination_statements, destination_sources) =
            super::function_destinations::role_statements(context)?;
        for statement in destination_statements {
            if !statements.contains(&statement) {
                statements.push(statement);
            }
        }
        depends_on.extend(destination_sources);
        let mut managed = needs.managed_policies;
        for (index, policy) in iam.managed_policies.iter().enumerate() {
            let path = format!("provider.iam.role.managedPolicies[{index}]");
            let resolved = context.resolve_text(
                policy,
                Place {
                    path: &path,
                    span: None,
                },
            )?;
            depends_on.extend(resolved.depends_on);
            managed.push(resolved.value.as_str().unwrap_or_default().to_string());
        }
        managed.sort();
        managed.dedup();
        let properties = RoleProperties {
            assume_role_policy: trust_policy(),
            policy: json!({"Version": "2012-10-17", "Statement": statements}),
            managed_policies: managed,
            tags: context.tags.clone(),
        };
        state.resources.push(Desired {
            id: id.clone(),
            properties: properties.to_properties(),
            depends_on,
            ..Desired::default()
        });
        Ok(())
    }

    async fn live(&self, live: &LiveContext) -> Result<Vec<Live>, ProviderError> {
        let aws = &live.aws;
        if let Some(names) = live.only_names(kind::ROLE) {
            let mut found = Vec::new();
            for name in names {
                found.extend(read(aws, &name).await?);
            }
            return Ok(found);
        }
        let mut names = live.state.roles.clone();
        names.insert(naming::role_name(
            &aws.scope.service,
            &aws.scope.stage,
            &aws.scope.region,
        ));
        let mut found = Vec::new();
        for name in names {
            if let Some(role) = read(aws, &name).await? {
                found.push(role);
            }
        }
        Ok(found)
    }

    async fn apply(
        &self,
        aws: &Aws,
        step: &Step,
        properties: &Properties,
        _context: &StepContext<'_>,
    ) -> Result<Properties, ProviderError> {
        let name = step.id.name.as_str();
        let policy_name = policy_name(&aws.scope.service, &aws.scope.stage);
        if step.action == Action::Delete || step.action == Action::Replace {
            delete(aws, step).await?;
            if step.action == Action::Delete {
                return Ok(Properties::new());
            }
        }
        let creating = matches!(step.action, Action::Create | Action::Replace);
        let mut adopted = false;
        let wanted = RoleProperties::from_properties(properties, &step.id)?;
        let mut current = RoleProperties::live_of(step)?;
        if creating {
            let create = aws
                .iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(wanted.assume_role_policy.to_string())
                .set_tags(Some(iam_tags(&wanted.tags)));
            match create.send().await {
                Ok(_) => {}
                Err(error) if call::is(&error, &["EntityAlreadyExists"]) => {
                    // A deploy stopped after creating it: adopt it if it is ours.
                    match read(aws, name).await? {
                        Some(existing) => {
                            adopted = true;
                            current = Some(RoleProperties::from_properties(
                                &existing.properties,
                                &step.id,
                            )?);
                        }
                        None => {
                            return Err(ProviderError::Call {
                                operation: "iam:CreateRole".into(),
                                resource: step.id.to_string(),
                                message: format!("a role named {name} exists and does not belong to {} stage {}", aws.scope.service, aws.scope.stage),
                                help: "delete or rename that role, or set `provider.iam.role.name` to another name".into(),
                            })
                        }
                    }
                }
                Err(error) => return Err(call::failed("iam:CreateRole", &step.id, &error)),
            }
        }
        let live_managed: BTreeSet<String> = current
            .as_ref()
            .map(|c| c.managed_policies.iter().cloned().collect())
            .unwrap_or_default();
        let live_tags = current.as_ref().map(|c| c.tags.clone()).unwrap_or_default();
        let changed = |field: fn(&RoleProperties) -> &Json| {
            current.as_ref().is_none_or(|c| field(c) != field(&wanted))
        };
        if !creating && changed(|p| &p.assume_role_policy) {
            aws.iam
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(wanted.assume_role_policy.to_string())
                .send()
                .await
                .map_err(|e| call::failed("iam:UpdateAssumeRolePolicy", &step.id, &e))?;
        }
        if creating || changed(|p| &p.policy) {
            let put = aws
                .iam
                .put_role_policy()
                .role_name(name)
                .policy_name(&policy_name)
                .policy_document(wanted.policy.to_string());
            put.send()
                .await
                .map_err(|e| call::failed("iam:PutRolePolicy", &step.id, &e))?;
        }
        let wanted_managed: BTreeSet<String> = wanted.managed_policies.iter().cloned().collect();
        for arn in wanted_managed.difference(&live_managed) {
            aws.iam
                .attach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| call::failed("iam:AttachRolePolicy", &step.id, &e))?;
        }
        for arn in live_managed.difference(&wanted_managed) {
            aws.iam
                .detach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| call::failed("iam:DetachRolePolicy", &step.id, &e))?;
        }
        let retag = if creating {
            adopted && wanted.tags != live_tags
        } else {
            wanted.tags != live_tags
        };
        if retag {
            TagChange::between(&live_tags, &wanted.tags)
                .send(
                    |remove| async move {
                        aws.iam
                            .untag_role()
                            .role_name(name)
                            .set_tag_keys(Some(remove))
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|e| call::failed("iam:UntagRole", &step.id, &e))
                    },
                    |set| async move {
                        aws.iam
                            .tag_role()
                            .role_name(name)
                            .set_tags(Some(iam_tags(&set)))
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|e| call::failed("iam:TagRole", &step.id, &e))
                    },
                )
                .await?;
        }
        Ok(props::attributes([
            (
                "arn",
                json!(format!(
                    "arn:{}:iam::{}:role/{name}",
                    aws.partition, aws.account
                )),
            ),
            ("name", json!(name)),
        ]))
    }
}

fn iam_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_iam::types::Tag> {
    tags.iter()
        .filter_map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .ok()
        })
        .collect()
}

/// The role of this name, if it exists and is ours.
async fn read(aws: &Aws, name: &str) -> Result<Option<Live>, ProviderError> {
    let resource = format!("{} {name}", kind::ROLE);
    let role = match aws.iam.get_role().role_name(name).send().await {
        Ok(answer) => answer.role,
        Err(error) if call::is(&error, &["NoSuchEntity"]) => return Ok(None),
        Err(error) => return Err(call::failed("iam:GetRole", &resource, &error)),
    };
    let Some(role) = role else { return Ok(None) };
    let tags: BTreeMap<String, String> = role
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    if !aws.owns(&tags) {
        return Ok(None);
    }
    // The inline policy and the attached ones are independent reads: one round trip, not two.
    let inline = async {
        match aws
            .iam
            .get_role_policy()
            .role_name(name)
            .policy_name(policy_name(&aws.scope.service, &aws.scope.stage))
            .send()
            .await
        {
            Ok(answer) => Ok(parse_document(answer.policy_document())),
            Err(error) if call::is(&error, &["NoSuchEntity"]) => Ok(Json::Null),
            Err(error) => Err(call::failed("iam:GetRolePolicy", &resource, &error)),
        }
    };
    let attached = async {
        let mut managed = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let answer = aws
                .iam
                .list_attached_role_policies()
                .role_name(name)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| call::failed("iam:ListAttachedRolePolicies", &resource, &e))?;
            managed.extend(
                answer
                    .attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_string)),
            );
            match answer.marker() {
                Some(next) if answer.is_truncated() => marker = Some(next.to_string()),
                _ => break,
            }
        }
        Ok::<_, ProviderError>(managed)
    };
    let (policy, managed) = tokio::join!(inline, attached);
    let (policy, mut managed) = (policy?, managed?);
    managed.sort();
    Ok(Some(Live {
        id: naming::id(kind::ROLE, name),
        properties: RoleProperties {
            assume_role_policy: parse_document(
                role.assume_role_policy_document().unwrap_or_default(),
            ),
            policy,
            managed_policies: managed,
            tags,
        }
        .to_properties(),
        attributes: props::attributes([("arn", json!(role.arn())), ("name", json!(name))]),
        ..Live::default()
    }))
}

async fn delete(aws: &Aws, step: &Step) -> Result<(), ProviderError> {
    let name = step.id.name.as_str();
    match aws
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
    {
        Ok(answer) => {
            for arn in answer
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn())
            {
                aws.iam
                    .detach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(|e| call::failed("iam:DetachRolePolicy", &step.id, &e))?;
            }
        }
        Err(error) if call::is(&error, &["NoSuchEntity"]) => return Ok(()),
        Err(error) => {
            return Err(call::failed(
                "iam:ListAttachedRolePolicies",
                &step.id,
                &error,
            ))
        }
    }
    match aws.iam.list_role_policies().role_name(name).send().await {
        Ok(answer) => {
            for policy in answer.policy_names() {
                aws.iam
                    .delete_role_policy()
                    .role_name(name)
                    .policy_name(policy)
                    .send()
                    .await
                    .map_err(|e| call::failed("iam:DeleteRolePolicy", &step.id, &e))?;
            }
        }
        Err(error) if call::is(&error, &["NoSuchEntity"]) => return Ok(()),
        Err(error) => return Err(call::failed("iam:ListRolePolicies", &step.id, &error)),
    }
    match aws.iam.delete_role().role_name(name).send().await {
        Ok(_) => Ok(()),
        Err(error) if call::is(&error, &["NoSuchEntity"]) => Ok(()),
        Err(error) => Err(call::failed("iam:DeleteRole", &step.id, &error)),
    }
}

/// IAM returns policy documents URL-encoded.
fn parse_document(text: &str) -> Json {
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned();
    serde_json::from_str(&decoded).unwrap_or(Json::String(decoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_policy_documents_read_as_json() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            parse_document(encoded),
            json!({"Version": "2012-10-17", "Statement": []})
        );
        assert_eq!(parse_document("{\"a\": 1}"), json!({"a": 1}));
    }
}
