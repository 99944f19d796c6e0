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

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore, TryAcquireError};

use super::function::FunctionSpec;
use super::instance::Instance;
use super::invocation;
use super::registry::Registry;
use super::runtimes;
use crate::offline::invoke::{Completed, Invocation, InvokeError};

pub struct Pool {
    pub spec: FunctionSpec,
    idle: Mutex<Vec<Pooled>>,
    /// Told when an instance goes back to `idle`.
    returned: Notify,
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
    /// Bumped by [`Pool::restart`]: instances of an older generation are not reused.
    generation: AtomicU64,
}

/// An instance counted in its pool's `live` while it exists.
struct Pooled {
    instance: Instance,
    live: Arc<AtomicUsize>,
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
            idle: Mutex::new(Vec::new()),
            returned: Notify::new(),
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
            generation: AtomicU64::new(0),
        }
    }

    pub async fn invoke(&self, invocation: Invocation) -> Result<Completed, InvokeError> {
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
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let mut pooled = self.take_instance().await?;
        let ran = invocation::run(&mut pooled.instance, &self.spec, invocation, request_id).await;
        if let Some(init) = ran.init_duration {
            let micros = u64::try_from(init.as_micros()).unwrap_or(u64::MAX);
            self.start_micros.store(micros, Ordering::Relaxed);
        }
        let current = pooled.instance.generation == self.generation.load(Ordering::SeqCst);
        if ran.reusable && current && !self.permits.is_closed() {
            pooled.instance.last_used = Instant::now();
            if let Ok(mut idle) = self.idle.lock() {
                idle.push(pooled);
            }
            self.returned.notify_one();
        }
        drop(permit);
        Ok(ran.completed)
    }

    /// A warm instance, or a new one when none comes back in time (see the module's doc).
    async fn take_instance(&self) -> Result<Pooled, InvokeError> {
        let waited = Instant::now();
        loop {
            if let Some(pooled) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
                return Ok(pooled);
            }
            if self.live.load(Ordering::SeqCst) < self.eager {
                break;
            }
            let patience = Duration::from_micros(self.start_micros.load(Ordering::Relaxed));
            let Some(left) = patience.checked_sub(waited.elapsed()) else {
                break;
            };
            if tokio::time::timeout(left, self.returned.notified())
                .await
                .is_err()
            {
                break;
            }
        }
        self.live.fetch_add(1, Ordering::SeqCst);
        let live = Arc::clone(&self.live);
        match self.start().await {
            Ok(instance) => Ok(Pooled { instance, live }),
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
        let generation = self.generation.load(Ordering::SeqCst);
        let mut instance = Instance::start(
            id,
            &self.spec,
            &launch,
            &self.extra_env,
            Arc::clone(&self.registry),
        )
        .await
        .map_err(|error| failure(format!("{}: {error}", launch.program.display())))?;
        instance.generation = generation;
        Ok(instance)
    }

    /// Stops the idle instances now and the busy ones when their call ends, so that every
    /// later call runs the function's current code (`offline --reload`).
    pub fn restart(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    /// Stops instances idle for longer than `idle_timeout`.
    pub fn stop_idle(&self, idle_timeout: Duration) {
        let stopped: Vec<Pooled> = match self.idle.lock() {
            Ok(mut idle) => {
                let (old, fresh): (Vec<_>, Vec<_>) = idle
                    .drain(..)
                    .partition(|pooled| pooled.instance.last_used.elapsed() >= idle_timeout);
                *idle = fresh;
                old
            }
            Err(_) => return,
        };
        drop(stopped);
    }

    /// Refuses new calls and stops the idle instances (busy ones are killed by the registry).
    pub fn close(&self) {
        self.permits.close();
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    pub fn idle_count(&self) -> usize {
        self.idle.lock().map(|idle| idle.len()).unwrap_or(0)
    }
}
