//! The instances of one function: warm ones are reused (most recently used first, as Lambda
//! tends to), each takes one event at a time, and the pool grows with concurrent calls up to
//! its limit. The limit is `reservedConcurrency` when set (calls past it are throttled, as
//! Lambda throttles them) or the engine's maximum (calls past it wait for a free instance).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, TryAcquireError};

use super::function::FunctionSpec;
use super::instance::Instance;
use super::invocation;
use super::registry::Registry;
use super::runtimes;
use crate::offline::invoke::{Completed, Invocation, InvokeError};

pub struct Pool {
    pub spec: FunctionSpec,
    idle: Mutex<Vec<Instance>>,
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

impl Pool {
    pub fn new(
        spec: FunctionSpec,
        max_concurrency: usize,
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
        let warm = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let mut instance = match warm {
            Some(instance) => instance,
            None => self.start().await?,
        };
        let ran = invocation::run(&mut instance, &self.spec, invocation, request_id).await;
        let current = instance.generation == self.generation.load(Ordering::SeqCst);
        if ran.reusable && current && !self.permits.is_closed() {
            instance.last_used = Instant::now();
            if let Ok(mut idle) = self.idle.lock() {
                idle.push(instance);
            }
        }
        drop(permit);
        Ok(ran.completed)
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
        let stopped: Vec<Instance> = match self.idle.lock() {
            Ok(mut idle) => {
                let (old, fresh): (Vec<_>, Vec<_>) = idle
                    .drain(..)
                    .partition(|instance| instance.last_used.elapsed() >= idle_timeout);
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
