//! One CloudWatch Logs group per function (`/aws/lambda/{function}`), created before the function
//! so that Lambda does not create an untagged one, with `provider.logRetentionInDays` (or the
//! function's own `logRetentionInDays`).
//!
//! Live: the tagging index says which groups are ours; one DescribeLogGroups under
//! `/aws/lambda/{service}-{stage}` gives their retention (a group outside that prefix, for a
//! function with its own `name`, costs one more call).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::LogGroup;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{props, ResourceKind, TagChange, Typed};
use crate::plan::{Action, Desired, DesiredState, Live, Properties, Step};
use crate::provider::aws::call;
use crate::provider::aws::clients::Aws;
use crate::provider::aws::context::Context;
use crate::provider::aws::live::LiveContext;
use crate::provider::aws::naming::{self, kind};
use crate::provider::{ProviderError, StepContext};

pub struct LogGroups;

/// A log group's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogGroupProperties {
    /// `None`: kept forever.
    pub retention_in_days: Option<i32>,
    pub tags: BTreeMap<String, String>,
}

impl Typed for LogGroupProperties {}

#[async_trait]
impl ResourceKind for LogGroups {
    fn kinds(&self) -> &'static [&'static str] {
        &[kind::LOG_GROUP]
    }

    fn desired(
        &self,
        context: &Context<'_>,
        state: &mut DesiredState,
    ) -> Result<(), ProviderError> {
        for function in context.service.functions.values() {
            let own = function.raw.get("logRetentionInDays").and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            });
            let retention = own.or(context
                .service
                .provider
                .log_retention_in_days
                .map(u64::from));
            let properties = LogGroupProperties {
                retention_in_days: retention.and_then(|days| i32::try_from(days).ok()),
                tags: context.tags.clone(),
            };
            state.resources.push(Desired {
                id: naming::id(kind::LOG_GROUP, naming::log_group_name(&function.name)),
                properties: properties.to_properties(),
                ..Desired::default()
            });
        }
        Ok(())
    }

    async fn live(&self, live: &LiveContext) -> Result<Vec<Live>, ProviderError> {
        let aws = &live.aws;
        let (owned, groups) = match live.only_names(kind::LOG_GROUP) {
            Some(names) => named(aws, names).await?,
            None => {
                let owned: BTreeMap<String, BTreeMap<String, String>> = live
                    .tagged_of("logs", "log-group:")
                    .await?
                    .into_iter()
                    .filter_map(|tagged| Some((name_from_arn(&tagged.arn)?, tagged.tags)))
                    .collect();
                if owned.is_empty() {
                    return Ok(Vec::new());
                }
                let prefix =
                    naming::log_group_name(&naming::prefix(&aws.scope.service, &aws.scope.stage));
                let mut groups = describe(aws, &prefix).await?;
                for name in owned.keys().filter(|name| !name.starts_with(&prefix)) {
                    groups.extend(describe(aws, name).await?);
                }
                (owned, groups)
            }
        };
        Ok(groups
            .into_iter()
            .filter_map(|group| {
                let name = group.log_group_name()?.to_string();
                let tags = owned.get(&name)?;
                let properties = LogGroupProperties {
                    retention_in_days: group.retention_in_days(),
                    tags: tags.clone(),
                };
                Some(Live {
                    id: naming::id(kind::LOG_GROUP, name.clone()),
                    properties: properties.to_properties(),
                    attributes: props::attributes([
                        (
                            "arn",
                            json!(aws.arn("logs", &format!("log-group:{name}:*"))),
                        ),
                        ("name", json!(name)),
                    ]),
                    ..Live::default()
                })
            })
            .collect())
    }

    async fn apply(
        &self,
        aws: &Aws,
        step: &Step,
        properties: &Properties,
        _context: &StepContext<'_>,
    ) -> Result<Properties, ProviderError> {
        let name = step.id.name.as_str();
        let arn = aws.arn("logs", &format!("log-group:{name}"));
        if step.action == Action::Delete {
            return match aws
                .logs
                .delete_log_group()
                .log_group_name(name)
                .send()
                .await
            {
                Ok(_) => Ok(Properties::new()),
                Err(error) if call::is(&error, &["ResourceNotFoundException"]) => {
                    Ok(Properties::new())
                }
                Err(error) => Err(call::failed("logs:DeleteLogGroup", &step.id, &error)),
            };
        }
        let wanted = LogGroupProperties::from_properties(properties, &step.id)?;
        let current = LogGroupProperties::live_of(step)?;
        let live_tags = current.as_ref().map(|c| c.tags.clone()).unwrap_or_default();
        if matches!(step.action, Action::Create | Action::Replace) {
            let create = aws
                .logs
                .create_log_group()
                .log_group_name(name)
                .set_tags(Some(wanted.tags.clone().into_iter().collect()));
            match create.send().await {
                Ok(_) => {}
                // Lambda made it (the function ran before a deploy stopped), or an earlier
                // deploy did: take it over by tagging it below.
                Err(error) if call::is(&error, &["ResourceAlreadyExistsException"]) => {
                    tag(
                        aws,
                        step,
                        &arn,
                        TagChange::between(&live_tags, &wanted.tags),
                    )
                    .await?;
                }
                Err(error) => return Err(call::failed("logs:CreateLogGroup", &step.id, &error)),
            }
        } else if live_tags != wanted.tags {
            tag(
                aws,
                step,
                &arn,
                TagChange::between(&live_tags, &wanted.tags),
            )
            .await?;
        }
        let retention_changed = match (&current, step.action) {
            (Some(current), Action::Update) => {
                current.retention_in_days != wanted.retention_in_days
            }
            _ => wanted.retention_in_days.is_some(),
        };
        if retention_changed {
            match wanted.retention_in_days {
                Some(days) => {
                    let put = aws
                        .logs
                        .put_retention_policy()
                        .log_group_name(name)
                        .retention_in_days(days);
                    put.send()
                        .await
                        .map_err(|e| call::failed("logs:PutRetentionPolicy", &step.id, &e))?;
                }
                None => {
                    let delete = aws.logs.delete_retention_policy().log_group_name(name);
                    delete
                        .send()
                        .await
                        .map_err(|e| call::failed("logs:DeleteRetentionPolicy", &step.id, &e))?;
                }
            }
        }
        Ok(props::attributes([
            ("arn", json!(format!("{arn}:*"))),
            ("name", json!(name)),
        ]))
    }
}

/// The named log groups and the tags of those that carry the ownership tags, without the
/// tagging index: for a read of a few resources (`deploy function`).
async fn named(
    aws: &Aws,
    names: std::collections::BTreeSet<String>,
) -> Result<(BTreeMap<String, BTreeMap<String, String>>, Vec<LogGroup>), ProviderError> {
    let mut owned = BTreeMap::new();
    let mut groups = Vec::new();
    for name in names {
        let arn = aws.arn("logs", &format!("log-group:{name}"));
        let (described, tags) = tokio::join!(
            describe(aws, &name),
            aws.logs.list_tags_for_resource().resource_arn(&arn).send()
        );
        let tags: BTreeMap<String, String> = match tags {
            Ok(answer) => answer
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            Err(error) if call::is(&error, &["ResourceNotFoundException"]) => continue,
            Err(error) => return Err(call::failed("logs:ListTagsForResource", &name, &error)),
        };
        if aws.owns(&tags) {
            groups.extend(
                described?
                    .into_iter()
                    .filter(|group| group.log_group_name() == Some(name.as_str())),
            );
            owned.insert(name, tags);
        }
    }
    Ok((owned, groups))
}

async fn describe(aws: &Aws, prefix: &str) -> Result<Vec<LogGroup>, ProviderError> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let answer = aws
            .logs
            .describe_log_groups()
            .log_group_name_prefix(prefix)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| call::failed("logs:DescribeLogGroups", prefix, &e))?;
        found.extend(answer.log_groups().iter().cloned());
        match answer.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => break,
        }
    }
    Ok(found)
}

/// Sets the desired tags and removes the ones no longer wanted.
async fn tag(aws: &Aws, step: &Step, arn: &str, change: TagChange) -> Result<(), ProviderError> {
    change
        .send(
            |remove| async move {
                aws.logs
                    .untag_resource()
                    .resource_arn(arn)
                    .set_tag_keys(Some(remove))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| call::failed("logs:UntagResource", &step.id, &e))
            },
            |set| async move {
                aws.logs
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(set.into_iter().collect()))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| call::failed("logs:TagResource", &step.id, &e))
            },
        )
        .await
}

/// `arn:aws:logs:{region}:{account}:log-group:{name}` (with or without `:*`) to the name.
fn name_from_arn(arn: &str) -> Option<String> {
    arn.splitn(7, ':')
        .nth(6)
        .map(|n| n.trim_end_matches(":*").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_group_names_come_out_of_arns_with_or_without_the_star() {
        let name = Some("/aws/lambda/svc-dev-hello".to_string());
        assert_eq!(
            name_from_arn("arn:aws:logs:us-east-1:1:log-group:/aws/lambda/svc-dev-hello:*"),
            name
        );
        assert_eq!(
            name_from_arn("arn:aws:logs:us-east-1:1:log-group:/aws/lambda/svc-dev-hello"),
            name
        );
    }
}
