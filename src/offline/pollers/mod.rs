//! Queues and streams offline: `sqs` and `stream` events read their queue, DynamoDB stream or
//! Kinesis stream on an AWS-compatible endpoint (moto, ElasticMQ, LocalStack) and invoke their
//! function with what they read, as Lambda's event source mappings do.
//!
//! [`sources`] reads the service's events into what to poll; [`spawn`] starts one poller per
//! source on the emulator's task set; `poll` is the loop they share and `stream` the shard
//! reading both stream services share; `sqs`, `dynamodb` and `kinesis` talk to each service.
//! Nothing is created on the endpoint: a missing queue, table or stream is a warning, and the
//! poller looks again until it appears.

mod dynamodb;
mod kinesis;
mod poll;
mod sqs;
mod stream;
mod targets;

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use targets::{sources, StartingPosition, StreamSettings, Target, TargetKind};

use crate::offline::invoke::Invoker;
use crate::offline::server::Observer;
use crate::provider::aws::sdk;

/// A poller started reading its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polling {
    pub function: String,
    /// `sqs queue jobs`, `the stream of dynamodb table items`, `kinesis stream events`.
    pub source: String,
    pub batch_size: u32,
    /// Where a stream starts (`LATEST`, `TRIM_HORIZON`); none for a queue.
    pub position: Option<String>,
}

/// A batch a poller delivered, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub function: String,
    pub source: String,
    pub records: usize,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Messages deleted, or the shard advanced past the batch.
    Succeeded,
    /// `batchItemFailures`: these messages stay on the queue, the others were deleted.
    PartlyFailed { failed: usize },
    /// `batchItemFailures` on a stream: the shard moved up to the first failed record, and the
    /// `failed` records from there are read again.
    ReadAgainFrom { failed: usize },
    /// The function failed: the messages stay on the queue and come back after their
    /// visibility timeout.
    LeftOnQueue,
    /// The function failed on a stream batch (this was attempt `attempt`): it is tried again.
    Failed { attempt: u32 },
    /// The stream batch failed on every allowed attempt and was skipped.
    Skipped { attempts: u32 },
}

/// Why a poller is not delivering; it keeps trying.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
pub enum PollerWarning {
    #[error("cannot reach {endpoint} to read {source_name} for `{function}`: {message}")]
    #[diagnostic(help(
        "start the emulator there, or point --endpoint at it; updraft keeps retrying"
    ))]
    Unreachable {
        endpoint: String,
        source_name: String,
        function: String,
        message: String,
    },
    #[error("no AWS credentials to sign the requests for {source_name} on {endpoint}")]
    #[diagnostic(help(
        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (moto, ElasticMQ and LocalStack take any \
         values) or AWS_PROFILE, and start `updraft offline` again"
    ))]
    NoCredentials {
        endpoint: String,
        source_name: String,
    },
    #[error("{source_name} does not exist on {endpoint}, so `{function}` gets nothing from it")]
    #[diagnostic(help("{fix}; updraft looks for it again every few seconds"))]
    Missing {
        endpoint: String,
        source_name: String,
        function: String,
        fix: String,
    },
    #[error("{endpoint} refused to give {source_name} to `{function}`: {message}")]
    #[diagnostic(help("check that the emulator supports this call; updraft keeps retrying"))]
    Refused {
        endpoint: String,
        source_name: String,
        function: String,
        message: String,
    },
    #[error(
        "`{function}` failed {attempts} times on {records} records of {source_name}; they are \
         skipped"
    )]
    #[diagnostic(help(
        "fix the function; `maximumRetryAttempts` on the event sets how often a batch is retried"
    ))]
    Skipped {
        source_name: String,
        function: String,
        records: usize,
        attempts: u32,
    },
    #[error("the {kind} event of `{function}` names no {kind} updraft can find offline: {value}")]
    #[diagnostic(help(
        "give an ARN, a name, or `Fn::GetAtt: [LogicalId, Arn]` of a resource in the service"
    ))]
    Unresolvable {
        kind: &'static str,
        function: String,
        value: String,
    },
}

/// What every poller of one source needs to tell its trouble.
#[derive(Debug, Clone)]
pub(crate) struct Described {
    pub endpoint: String,
    pub source_name: String,
    pub function: String,
}

impl Described {
    /// An SDK failure as a warning: unreachable, missing (`fix` says how to create it), or
    /// refused.
    pub fn warning<E, R>(&self, error: &SdkError<E, R>, fix: &str) -> PollerWarning
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let missing = matches!(
            error.code(),
            Some(
                "ResourceNotFoundException"
                    | "AWS.SimpleQueueService.NonExistentQueue"
                    | "QueueDoesNotExist"
            )
        );
        if missing {
            return self.missing(fix.to_string());
        }
        if sdk::is_missing_credentials(error) {
            return PollerWarning::NoCredentials {
                endpoint: self.endpoint.clone(),
                source_name: self.source_name.clone(),
            };
        }
        if sdk::is_unreachable(error) {
            return PollerWarning::Unreachable {
                endpoint: self.endpoint.clone(),
                source_name: self.source_name.clone(),
                function: self.function.clone(),
                message: sdk::innermost_text(error),
            };
        }
        self.refused(match (error.code(), error.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_string(),
            _ => sdk::innermost_text(error),
        })
    }

    pub fn refused(&self, message: String) -> PollerWarning {
        PollerWarning::Refused {
            endpoint: self.endpoint.clone(),
            source_name: self.source_name.clone(),
            function: self.function.clone(),
            message,
        }
    }

    pub fn missing(&self, fix: String) -> PollerWarning {
        PollerWarning::Missing {
            endpoint: self.endpoint.clone(),
            source_name: self.source_name.clone(),
            function: self.function.clone(),
            fix,
        }
    }
}

/// The endpoint every poller reads: its URL and the SDK configuration that talks to it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: String,
    pub config: SdkConfig,
}

impl Endpoint {
    /// The SDK configuration updraft uses for AWS (credentials from the usual environment and
    /// files, bounded calls), in the service's region, sent to `url`.
    pub async fn new(url: &str, region: &str) -> Endpoint {
        let config = sdk::load(None, Some(region)).await;
        Endpoint {
            url: url.to_string(),
            config: config.to_builder().endpoint_url(url).build(),
        }
    }
}

/// Starts a poller for every target on `tasks`; each ends when `stop` is cancelled.
pub fn spawn(
    tasks: &mut JoinSet<()>,
    targets: Vec<Target>,
    endpoint: &Endpoint,
    region: &str,
    invoker: Arc<dyn Invoker>,
    observer: Arc<dyn Observer>,
    stop: CancellationToken,
) {
    for target in targets {
        let described = Described {
            endpoint: endpoint.url.clone(),
            source_name: target.describe(),
            function: target.function.clone(),
        };
        let source: Box<dyn poll::Source> = match &target.kind {
            TargetKind::Queue {
                name,
                report_failures,
            } => Box::new(sqs::QueueSource::new(
                &endpoint.config,
                name,
                target.batch_size,
                *report_failures,
                region,
                described.clone(),
            )),
            TargetKind::Table { name, .. } => {
                dynamodb::source(&endpoint.config, name, &target, region, described.clone())
            }
            TargetKind::Stream { name, .. } => {
                kinesis::source(&endpoint.config, name, &target, region, described.clone())
            }
        };
        let context = poll::Context {
            function: target.function.clone(),
            invoker: Arc::clone(&invoker),
            observer: Arc::clone(&observer),
            stop: stop.clone(),
        };
        tasks.spawn(poll::run(source, described.source_name, context));
    }
}
