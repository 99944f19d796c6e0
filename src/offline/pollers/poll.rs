//! The loop every poller runs: read a batch from the source, invoke the function with it, settle
//! the batch (delete the messages, advance the shard, or keep it for a retry), and tell the
//! observer. Trouble with the endpoint is a warning and a wait with backoff, never an end: the
//! loop only ends when the emulator stops.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{Delivery, Outcome, PollerWarning, Polling};
use crate::offline::invoke::{Invocation, InvocationResult, InvokeError, Invoker};
use crate::offline::server::Observer;

/// One batch read from a source, as the event to invoke the function with.
pub(super) struct Batch {
    pub event: Value,
    pub records: usize,
}

/// What a poll gave.
pub(super) enum Next {
    /// The source was (re)connected: the poller now reads it.
    Connected(Polling),
    Batch(Batch),
    /// Nothing waiting: poll again after this pause (zero when the read itself waited).
    Idle(Duration),
}

/// A queue or a stream, as the loop drives it.
#[async_trait]
pub(super) trait Source: Send {
    async fn next(&mut self) -> Result<Next, PollerWarning>;
    /// The function returned `response` for the last batch.
    async fn succeeded(&mut self, response: &[u8]) -> Result<Outcome, PollerWarning>;
    /// The function failed on the last batch (or could not be invoked).
    async fn failed(&mut self) -> Result<Outcome, PollerWarning>;
}

/// Waits after trouble grow from one second to ten: an emulator that is starting up is picked
/// up quickly, one that is down is not hammered.
#[derive(Debug, Clone, Copy)]
pub(super) struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_secs(1);
    const LONGEST: Duration = Duration::from_secs(10);

    pub fn new() -> Backoff {
        Backoff { next: Self::FIRST }
    }

    pub fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    /// The wait before the next try, doubling up to the longest.
    pub fn step(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(Self::LONGEST);
        wait
    }
}

/// How long after a failed batch the next try comes (its messages are invisible meanwhile; a
/// stream batch is retried).
const RETRY_PAUSE: Duration = Duration::from_secs(1);

pub(super) struct Context {
    pub function: String,
    pub invoker: Arc<dyn Invoker>,
    pub observer: Arc<dyn Observer>,
    pub stop: CancellationToken,
}

/// Sleeps unless the emulator stops first; false when it stopped.
async fn pause(stop: &CancellationToken, wait: Duration) -> bool {
    if wait.is_zero() {
        return !stop.is_cancelled();
    }
    tokio::select! {
        _ = stop.cancelled() => false,
        _ = tokio::time::sleep(wait) => true,
    }
}

/// Runs one poller until the emulator stops.
pub(super) async fn run(mut source: Box<dyn Source>, name: String, context: Context) {
    let mut backoff = Backoff::new();
    // Told once per kind of trouble, not at every retry.
    let mut last_warning: Option<String> = None;
    loop {
        let step = tokio::select! {
            _ = context.stop.cancelled() => return,
            step = poll_once(source.as_mut(), &name, &context) => step,
        };
        let wait = match step {
            Ok(wait) => {
                backoff.reset();
                last_warning = None;
                wait
            }
            Err(warning) => {
                let text = warning.to_string();
                if last_warning.as_deref() != Some(text.as_str()) {
                    context.observer.poller_warning(&warning);
                    last_warning = Some(text);
                }
                backoff.step()
            }
        };
        if !pause(&context.stop, wait).await {
            return;
        }
    }
}

/// One poll, and the delivery of what it read; gives the pause before the next.
async fn poll_once(
    source: &mut dyn Source,
    name: &str,
    context: &Context,
) -> Result<Duration, PollerWarning> {
    let batch = match source.next().await? {
        Next::Connected(polling) => {
            context.observer.polling(&polling);
            return Ok(Duration::ZERO);
        }
        Next::Idle(wait) => return Ok(wait),
        Next::Batch(batch) => batch,
    };
    let invocation = Invocation {
        payload: batch.event.to_string().into_bytes(),
        ..Invocation::default()
    };
    let outcome = match context.invoker.invoke(&context.function, invocation).await {
        Ok(completed) => {
            context.observer.invocation(&context.function, &completed);
            match &completed.result {
                InvocationResult::Success(response) => source.succeeded(response).await?,
                InvocationResult::Error { .. } => source.failed().await?,
            }
        }
        // Stopping: the batch stays where it is (messages come back, the shard is not advanced),
        // and no more is read before the stop reaches this loop.
        Err(InvokeError::ShuttingDown) => return Ok(RETRY_PAUSE),
        Err(error) => {
            context.observer.refused(&context.function, &error);
            source.failed().await?
        }
    };
    let retry = !matches!(outcome, Outcome::Succeeded);
    if let Outcome::Skipped { attempts } = outcome {
        context.observer.poller_warning(&PollerWarning::Skipped {
            source_name: name.to_string(),
            function: context.function.clone(),
            records: batch.records,
            attempts,
        });
    }
    context.observer.delivered(&Delivery {
        function: context.function.clone(),
        source: name.to_string(),
        records: batch.records,
        outcome,
    });
    Ok(if retry { RETRY_PAUSE } else { Duration::ZERO })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_ten_seconds_and_resets() {
        let mut backoff = Backoff::new();
        let waits: Vec<u64> = (0..6).map(|_| backoff.step().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
        backoff.reset();
        assert_eq!(backoff.step(), Duration::from_secs(1));
    }
}
