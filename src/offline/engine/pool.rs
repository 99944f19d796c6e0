//! The instances of one function: warm ones are reused (most recently used first, as Lambda
//! tends to), each takes one event at a time, and the pool grows with concurrent calls up to
//! its limit. The limit is `reservedConcurrency` when set (calls past it are throttled, as
//! Lambda throttles them) or the engine's maximum (calls past it wait for a free instance).
//!
//! Lambda starts an environment for every call that finds none free. On one machine that
//! costs a process (tens of MB) per concurrent call while the processes share the same few
//! cores, so the pool starts instances without waiting only up to `eager_instances` (the core
//! count by default). Past that, a call first waits for a warm instance, but never longer than
//! starting a new one took: quick functions stay on a few instances, and calls to slow ones
//! (waiting on a database, say) still get instances of their own as fast as Lambda would give
//! them.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, Semaphore, TryAcquireError};

use super::function::FunctionSpec;
use super::instance::Instance;
use super::invocation;
use super::registry::Registry;
use super::runtime_api::Handover;
use super::runtimes;
use crate::offline::invoke::{Completed, Invocation, InvokeError};

pub struct Pool {
    pub spec: FunctionSpec,
    /// Idle instances and the calls waiting for one, under one lock so that an instance
    /// coming back can never miss a waiter.
    shelf: Mutex<Shelf>,
    /// Instances alive, busy or idle.
    live: Arc<AtomicUsize>,
    /// Instances started without first waiting for a warm one.
    eager: usize,
    /// How long the last instance took from start to taking its first event, in microseconds:
    /// the longest a call waits for a warm instance before it starts one.
    start_micros: AtomicU64,
    permits: Arc<Semaphore>,
    limit: usize,
    /// Whether the limit is the function's reserved concurrency (throttle) or the engine's.
    throttles: bool,
    cache_dir: PathBuf,
    extra_env: Vec<(String, String)>,
    registry: Arc<Registry>,
    next_instance: Arc<AtomicU64>,
}

#[derive(Default)]
struct Shelf {
    /// Most recently used last.
    idle: Vec<Pooled>,
    /// Calls waiting for a warm instance, oldest first: an instance that comes back goes to
    /// the oldest, so that a steady stream of new calls cannot starve the ones waiting.
    waiters: VecDeque<oneshot::Sender<Pooled>>,
}

/// An instance counted in its pool's `live` while it exists.
struct Pooled {
    instance: Instance,
    live: Arc<AtomicUsize>,
    /// The last call's [`Handover`], passed to the next call that takes the instance.
    handover: Option<Handover>,
}

impl Drop for Pooled {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Pool {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        spec: FunctionSpec,
        max_concurrency: usize,
        eager_instances: usize,
        cache_dir: PathBuf,
        extra_env: Vec<(String, String)>,
        registry: Arc<Registry>,
        next_instance: Arc<AtomicU64>,
    ) -> Pool {
        let max_concurrency = max_concurrency.max(1);
        let (limit, throttles) = match spec.reserved_concurrency {
            Some(reserved) if reserved <= max_concurrency => (reserved, true),
            _ => (max_concurrency, false),
        };
        Pool {
            spec,
            shelf: Mutex::new(Shelf::default()),
            live: Arc::new(AtomicUsize::new(0)),
            eager: eager_instances.max(1),
            start_micros: AtomicU64::new(0),
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            throttles,
            cache_dir,
            extra_env,
            registry,
            next_instance,
        }
    }

    pub async fn invoke(
        self: &Arc<Self>,
        invocation: Invocation,
    ) -> Result<Completed, InvokeError> {
        let permit = if self.throttles {
            Arc::clone(&self.permits)
                .try_acquire_owned()
                .map_err(|error| match error {
                    TryAcquireError::Closed => InvokeError::ShuttingDown,
                    TryAcquireError::NoPermits => InvokeError::TooManyRequests {
                        name: self.spec.key.clone(),
                        limit: self.limit,
                    },
                })?
        } else {
            Arc::clone(&self.permits)
                .acquire_owned()
                .await
                .map_err(|_| InvokeError::ShuttingDown)?
        };
        let request_id = invocation
            .request_id
            .clone()
            .unwrap_or_else(crate::offline::ids::request_id);
        // The call runs to its end on its own task: a caller that goes away (an HTTP client
        // that hangs up) does not stop the invocation, as it does not on Lambda, and the
        // instance goes back to the pool instead of being killed mid-call.
        let pool = Arc::clone(self);
        tokio::spawn(async move {
            let result = pool.run(invocation, request_id).await;
            drop(permit);
            result
        })
        .await
        .unwrap_or_else(|error| {
            Err(InvokeError::Start {
                name: self.spec.key.clone(),
                reason: format!("the invocation stopped: {error}"),
            })
        })
    }

    async fn run(
        &self,
        invocation: Invocation,
        request_id: String,
    ) -> Result<Completed, InvokeError> {
        let mut pooled = self.take_instance().await?;
        let handover = pooled.handover.take();
        let mut ran = invocation::run(
            &mut pooled.instance,
            &self.spec,
            invocation,
            request_id,
            handover,
        )
        .await;
        if let Some(init) = ran.init_duration {
            let micros = u64::try_from(init.as_micros()).unwrap_or(u64::MAX);
            self.start_micros.store(micros, Ordering::Relaxed);
        }
        if ran.reusable && !self.permits.is_closed() {
            pooled.instance.last_used = Instant::now();
            pooled.handover = ran.handover.take();
            self.put_back(pooled);
        }
        Ok(ran.completed)
    }

    /// Hands an instance to the oldest waiting call, or shelves it as idle.
    fn put_back(&self, mut pooled: Pooled) {
        let Ok(mut shelf) = self.shelf.lock() else {
            return;
        };
        while let Some(waiter) = shelf.waiters.pop_front() {
            match waiter.send(pooled) {
                Ok(()) => return,
                // That call stopped waiting; try the next.
                Err(returned) => pooled = returned,
            }
        }
        if let Some(handover) = pooled.handover.take() {
            handover.done();
        }
        shelf.idle.push(pooled);
    }

    /// A warm instance, or a new one when none comes back in time (see the module's doc).
    async fn take_instance(&self) -> Result<Pooled, InvokeError> {
        let waiting = {
            let Ok(mut shelf) = self.shelf.lock() else {
                return Err(InvokeError::ShuttingDown);
            };
            if let Some(pooled) = shelf.idle.pop() {
                return Ok(pooled);
            }
            let patience = Duration::from_micros(self.start_micros.load(Ordering::Relaxed));
            if self.live.load(Ordering::SeqCst) < self.eager || patience.is_zero() {
                None
            } else {
                let (sender, receiver) = oneshot::channel();
                shelf.waiters.push_back(sender);
                Some((receiver, patience))
            }
        };
        if let Some((mut receiver, patience)) = waiting {
            match tokio::time::timeout(patience, &mut receiver).await {
                Ok(Ok(pooled)) => return Ok(pooled),
                Ok(Err(_)) => return Err(InvokeError::ShuttingDown),
                Err(_) => {
                    // Out of patience; an instance handed over just now is still ours.
                    receiver.close();
                    if let Ok(pooled) = receiver.try_recv() {
                        return Ok(pooled);
                    }
                }
            }
        }
        self.live.fetch_add(1, Ordering::SeqCst);
        let live = Arc::clone(&self.live);
        match self.start().await {
            Ok(instance) => Ok(Pooled {
                instance,
                live,
                handover: None,
            }),
            Err(error) => {
                live.fetch_sub(1, Ordering::SeqCst);
                Err(error)
            }
        }
    }

    async fn start(&self) -> Result<Instance, InvokeError> {
        let failure = |reason: String| InvokeError::Start {
            name: self.spec.key.clone(),
            reason,
        };
        let launch = runtimes::launch(&self.spec, &self.cache_dir)
            .map_err(|error| failure(error.to_string()))?;
        let id = self.next_instance.fetch_add(1, Ordering::Relaxed);
        Instance::start(
            id,
            &self.spec,
            &launch,
            &self.extra_env,
            Arc::clone(&self.registry),
        )
        .await
        .map_err(|error| failure(format!("{}: {error}", launch.program.display())))
    }

    /// Stops instances idle for longer than `idle_timeout`.
    pub fn stop_idle(&self, idle_timeout: Duration) {
        let stopped: Vec<Pooled> = match self.shelf.lock() {
            Ok(mut shelf) => {
                let (old, fresh): (Vec<_>, Vec<_>) = shelf
                    .idle
                    .drain(..)
                    .partition(|pooled| pooled.instance.last_used.elapsed() >= idle_timeout);
                shelf.idle = fresh;
                old
            }
            Err(_) => return,
        };
        drop(stopped);
    }

    /// Refuses new calls and stops the idle instances (busy ones are killed by the registry).
    pub fn close(&self) {
        self.permits.close();
        if let Ok(mut shelf) = self.shelf.lock() {
            shelf.idle.clear();
            // Waiting calls see their sender dropped and end as shutting down.
            shelf.waiters.clear();
        }
    }

    pub fn idle_count(&self) -> usize {
        self.shelf.lock().map(|shelf| shelf.idle.len()).unwrap_or(0)
    }
}
