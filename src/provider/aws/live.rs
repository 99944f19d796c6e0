//! Reading what a service has, in a handful of calls for the whole service: the Resource Groups
//! Tagging API lists every resource with both ownership tags (with their tags) in one paginated
//! call, and each kind lists its resources once (ListFunctions, DescribeLogGroups, ...). The
//! answers every kind shares are asked once and kept here; kinds read concurrently.
//!
//! The tagging index alone is not trusted for existence (AWS keeps recently deleted resources in
//! it for a while): a resource is live when its own service lists it too.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_sdk_lambda::types::FunctionConfiguration;
use aws_sdk_resourcegroupstagging::types::TagFilter;
use tokio::sync::OnceCell;
use tokio::task::JoinSet;

use super::call;
use super::clients::Aws;
use super::deploy_state::{self, DeployState};
use super::kinds::{ResourceKind, ALL};
use super::naming::{SERVICE_TAG, STAGE_TAG};
use crate::plan::{Live, LiveState, ResourceId, Unread};
use crate::provider::ProviderError;

/// One resource in the tagging index.
#[derive(Debug, Clone)]
pub struct Tagged {
    pub arn: String,
    pub tags: BTreeMap<String, String>,
}

/// A function the service owns, with its tags.
#[derive(Debug, Clone)]
pub struct OwnedFunction {
    pub configuration: FunctionConfiguration,
    pub tags: BTreeMap<String, String>,
    /// A container image function's image URI, which only GetFunction reports.
    pub image_uri: Option<String>,
}

/// Shared answers for one read of the live state.
pub struct LiveContext {
    pub aws: Arc<Aws>,
    /// Where to look besides the tagging index (see [`deploy_state`]).
    pub state: DeployState,
    /// A read of just these resources ([`read_only`]): functions are read by name, roles by
    /// the names given here.
    pub only: Option<BTreeSet<ResourceId>>,
    tagged: OnceCell<Vec<Tagged>>,
    functions: OnceCell<Vec<OwnedFunction>>,
    stacks: OnceCell<Vec<aws_sdk_cloudformation::types::Stack>>,
    /// Parts a kind could not read while it read the rest (one bucket's notifications).
    unread: std::sync::Mutex<Vec<Unread>>,
}

impl LiveContext {
    pub fn new(aws: Arc<Aws>, state: DeployState) -> LiveContext {
        LiveContext {
            aws,
            state,
            only: None,
            tagged: OnceCell::new(),
            functions: OnceCell::new(),
            stacks: OnceCell::new(),
            unread: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Reports a part that could not be read, so the read goes on with the rest.
    pub fn report_unread(&self, part: String, error: &ProviderError) {
        self.unread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Unread {
                part,
                cause: error.to_string(),
            });
    }

    fn unread(&self) -> Vec<Unread> {
        std::mem::take(&mut *self.unread.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The service's CloudFormation stacks (read once: the stack kind and the stream mappings,
    /// named by the stack's outputs, both need them).
    pub async fn stacks(&self) -> Result<&[aws_sdk_cloudformation::types::Stack], ProviderError> {
        let found = self
            .stacks
            .get_or_try_init(|| super::kinds::stack::owned(&self.aws, &self.state))
            .await?;
        Ok(found)
    }

    /// Every resource carrying both ownership tags, from the tagging index (one paginated call).
    pub async fn tagged(&self) -> Result<&[Tagged], ProviderError> {
        let found = self
            .tagged
            .get_or_try_init(|| async {
                let mut found = Vec::new();
                let mut token: Option<String> = None;
                loop {
                    let answer = self
                        .aws
                        .tagging
                        .get_resources()
                        .tag_filters(filter(SERVICE_TAG, &self.aws.scope.service))
                        .tag_filters(filter(STAGE_TAG, &self.aws.scope.stage))
                        .resources_per_page(100)
                        .set_pagination_token(token.take())
                        .send()
                        .await
                        .map_err(|e| call::failed("tag:GetResources", self.scope_name(), &e))?;
                    for mapping in answer.resource_tag_mapping_list() {
                        let Some(arn) = mapping.resource_arn() else {
                            continue;
                        };
                        let tags = mapping
                            .tags()
                            .iter()
                            .map(|tag| (tag.key().to_string(), tag.value().to_string()))
                            .collect();
                        found.push(Tagged {
                            arn: arn.to_string(),
                            tags,
                        });
                    }
                    match answer.pagination_token() {
                        Some(next) if !next.is_empty() => token = Some(next.to_string()),
                        _ => break,
                    }
                }
                Ok::<_, ProviderError>(found)
            })
            .await?;
        Ok(found)
    }

    /// Tagged resources whose ARN is of this service and type (`arn:...:lambda:...:function:`):
    /// pass the part after the account, e.g. `function:`.
    pub async fn tagged_of(
        &self,
        service: &str,
        kind_prefix: &str,
    ) -> Result<Vec<Tagged>, ProviderError> {
        let prefix = format!(":{service}:");
        Ok(self
            .tagged()
            .await?
            .iter()
            .filter(|tagged| {
                tagged.arn.contains(&prefix)
                    && tagged
                        .arn
                        .splitn(6, ':')
                        .nth(5)
                        .is_some_and(|rest| rest.starts_with(kind_prefix))
            })
            .cloned()
            .collect())
    }

    /// The names of the resources of `kind` a scoped read is about; `None` for a full read.
    pub fn only_names(&self, kind: &str) -> Option<BTreeSet<String>> {
        self.only.as_ref().map(|ids| {
            ids.iter()
                .filter(|id| id.kind == kind)
                .map(|id| id.name.clone())
                .collect()
        })
    }

    /// The functions this service owns: ListFunctions (50 a page) joined with the tagging index,
    /// or for a scoped read, GetFunction for each named function.
    pub async fn functions(&self) -> Result<&[OwnedFunction], ProviderError> {
        if let Some(names) = self.only_names(super::naming::kind::FUNCTION) {
            return self
                .functions
                .get_or_try_init(|| self.functions_named(names))
                .await
                .map(Vec::as_slice);
        }
        let found = self
            .functions
            .get_or_try_init(|| async {
                let tagged: BTreeMap<String, BTreeMap<String, String>> = self
                    .tagged_of("lambda", "function:")
                    .await?
                    .into_iter()
                    .map(|t| (t.arn, t.tags))
                    .collect();
                let mut found = Vec::new();
                if tagged.is_empty() {
                    return Ok(found);
                }
                let mut marker: Option<String> = None;
                loop {
                    let answer = self
                        .aws
                        .lambda
                        .list_functions()
                        .set_marker(marker.take())
                        .send()
                        .await
                        .map_err(|e| call::failed("lambda:ListFunctions", self.scope_name(), &e))?;
                    for configuration in answer.functions() {
                        let arn = configuration.function_arn().unwrap_or_default();
                        if let Some(tags) = tagged.get(arn) {
                            found.push(OwnedFunction {
                                configuration: configuration.clone(),
                                tags: tags.clone(),
                                image_uri: None,
                            });
                        }
                    }
                    match answer.next_marker() {
                        Some(next) if !next.is_empty() => marker = Some(next.to_string()),
                        _ => break,
                    }
                }
                self.read_image_uris(&mut found).await?;
                Ok::<_, ProviderError>(found)
            })
            .await?;
        Ok(found)
    }

    /// The named functions that exist and carry the ownership tags, one GetFunction each.
    async fn functions_named(
        &self,
        names: BTreeSet<String>,
    ) -> Result<Vec<OwnedFunction>, ProviderError> {
        let reads = names.into_iter().map(|name| {
            let lambda = self.aws.lambda.clone();
            async move {
                match lambda.get_function().function_name(&name).send().await {
                    Ok(answer) => Ok(answer.configuration().cloned().map(|configuration| {
                        let tags: BTreeMap<String, String> = answer
                            .tags()
                            .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                            .unwrap_or_default();
                        OwnedFunction {
                            image_uri: answer
                                .code()
                                .and_then(|code| code.image_uri())
                                .map(str::to_string),
                            configuration,
                            tags,
                        }
                    })),
                    Err(error) if call::is(&error, &["ResourceNotFoundException"]) => Ok(None),
                    Err(error) => Err(call::failed("lambda:GetFunction", &name, &error)),
                }
            }
        });
        let mut found = Vec::new();
        for read in super::triggers::concurrently(reads).await {
            if let Some(function) = read? {
                if self.aws.owns(&function.tags) {
                    found.push(function);
                }
            }
        }
        Ok(found)
    }

    /// The image URIs of the container image functions among `found`: one GetFunction each
    /// (ListFunctions does not report them), none for zip functions.
    async fn read_image_uris(&self, found: &mut [OwnedFunction]) -> Result<(), ProviderError> {
        let reads = found
            .iter()
            .enumerate()
            .filter(|(_, function)| {
                function
                    .configuration
                    .package_type()
                    .is_some_and(|p| p.as_str() == "Image")
            })
            .map(|(index, function)| {
                let lambda = self.aws.lambda.clone();
                let name = function
                    .configuration
                    .function_name()
                    .unwrap_or_default()
                    .to_string();
                async move {
                    let answer = lambda
                        .get_function()
                        .function_name(&name)
                        .send()
                        .await
                        .map_err(|error| call::failed("lambda:GetFunction", &name, &error))?;
                    let uri = answer
                        .code()
                        .and_then(|code| code.image_uri())
                        .map(str::to_string);
                    Ok::<_, ProviderError>((index, uri))
                }
            })
            .collect::<Vec<_>>();
        for read in super::triggers::concurrently(reads).await {
            let (index, uri) = read?;
            found[index].image_uri = uri;
        }
        Ok(())
    }

    fn scope_name(&self) -> String {
        format!("{}-{}", self.aws.scope.service, self.aws.scope.stage)
    }
}

/// An error no other kind's read would get past.
fn is_fatal(error: &ProviderError) -> bool {
    matches!(
        error,
        ProviderError::Credentials { .. } | ProviderError::Internal { .. }
    )
}

fn filter(key: &str, value: &str) -> TagFilter {
    TagFilter::builder().key(key).values(value).build()
}

/// Reads just `ids` (and what a plan of them needs): only the kinds among them, functions by
/// name, roles by the names in `ids`; no deploy state, no triggers unless asked for. What
/// `deploy function` reads, so its time does not grow with the service.
pub async fn read_only(
    aws: Arc<Aws>,
    ids: &BTreeSet<ResourceId>,
) -> Result<LiveState, ProviderError> {
    let mut context = LiveContext::new(aws, DeployState::empty());
    context.only = Some(ids.clone());
    let context = Arc::new(context);
    let wanted: BTreeSet<&str> = ids.iter().map(|id| id.kind.as_str()).collect();
    let mut readers: JoinSet<Result<Vec<Live>, ProviderError>> = JoinSet::new();
    for kind in ALL.iter().copied() {
        if !kind.kinds().iter().any(|k| wanted.contains(k)) {
            continue;
        }
        let context = Arc::clone(&context);
        let kind: &'static dyn ResourceKind = kind;
        readers.spawn(async move { kind.live(&context).await });
    }
    let mut resources = Vec::new();
    while let Some(joined) = readers.join_next().await {
        let found = joined.map_err(|join_error| ProviderError::Internal {
            resource: ResourceId::new("aws", "live state"),
            message: join_error.to_string(),
        })??;
        resources.extend(found.into_iter().filter(|r| ids.contains(&r.id)));
    }
    resources.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(LiveState {
        resources,
        unread: context.unread(),
    })
}

/// Reads every kind's live resources, the kinds concurrently, after the deploy state that says
/// where to look besides the tagging index.
pub async fn read(aws: Arc<Aws>) -> Result<LiveState, ProviderError> {
    let state = deploy_state::read(&aws).await?;
    let context = Arc::new(LiveContext::new(aws, state));
    let mut readers: JoinSet<(usize, Result<Vec<Live>, ProviderError>)> = JoinSet::new();
    for (index, kind) in ALL.iter().copied().enumerate() {
        let context = Arc::clone(&context);
        let kind: &'static dyn ResourceKind = kind;
        readers.spawn(async move { (index, kind.live(&context).await) });
    }
    let mut by_kind: BTreeMap<usize, Vec<Live>> = BTreeMap::new();
    let mut failed: BTreeMap<usize, ProviderError> = BTreeMap::new();
    while let Some(joined) = readers.join_next().await {
        match joined {
            Ok((index, Ok(resources))) => {
                by_kind.insert(index, resources);
            }
            Ok((index, Err(error))) => {
                failed.insert(index, error);
            }
            Err(join_error) => {
                // A reader that panicked: a bug, and nothing says which kind it was.
                return Err(ProviderError::Internal {
                    resource: ResourceId::new("aws", "live state"),
                    message: join_error.to_string(),
                });
            }
        }
    }
    // Credentials that do not work, or nothing readable at all, is an error of the whole read;
    // otherwise what one kind could not read is reported beside what the others read.
    if by_kind.is_empty() || failed.values().any(is_fatal) {
        let mut errors: Vec<ProviderError> = failed.into_values().collect();
        let first = errors.iter().position(is_fatal).unwrap_or(0);
        if first < errors.len() {
            return Err(errors.swap_remove(first));
        }
        return Ok(LiveState::default());
    }
    let unread: Vec<Unread> = failed
        .into_iter()
        .map(|(index, error)| Unread {
            part: ALL[index].kinds().join(", "),
            cause: error.to_string(),
        })
        .chain(context.unread())
        .collect();
    let mut resources: Vec<Live> = by_kind.into_values().flatten().collect();
    resources.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(LiveState { resources, unread })
}
