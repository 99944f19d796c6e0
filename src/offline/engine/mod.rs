//! The execution engine: runs function code as native processes behind the Lambda Runtime API,
//! for `updraft offline` and `updraft invoke local`.
//!
//! Each instance is a process in its own process group with its own Runtime API
//! ([`runtime_api`]) on a loopback port; [`instance`] starts it with the variables a runtime
//! expects, [`runtimes`] picks the program (updraft's Node and Python bootstraps, or the
//! function's `bootstrap` for `provided*`), [`invocation`] runs one event with its timeout and
//! log lines, and [`pool`] keeps warm instances per function. [`Engine`] implements the
//! front ends' [`Invoker`] contract; [`Engine::shutdown`] (or dropping it) kills every
//! instance.

pub mod function;
pub mod instance;
pub mod invocation;
pub mod memory;
pub mod pool;
pub mod registry;
pub mod runtime_api;
pub mod runtimes;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use indexmap::IndexMap;

pub use function::{
    built_functions, functions_from_service, Convention, FunctionSpec, StandInWarning,
};

use crate::offline::invoke::{Completed, Invocation, InvokeError, Invoker, MAX_PAYLOAD_BYTES};
use pool::Pool;
use registry::Registry;

/// How many instances a function may have when it sets no `reservedConcurrency`.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;
/// How long an instance may stay idle before it is stopped.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Instances per function at most (`--maxConcurrency`).
    pub max_concurrency: usize,
    /// Instances per function started as soon as a call finds none free; past this many a
    /// call first waits (at most as long as a start takes) for a warm one. Default: the
    /// machine's core count.
    pub eager_instances: usize,
    pub idle_timeout: Duration,
    /// Where the runtime bootstraps are written (default: [`runtimes::default_cache_dir`]).
    pub cache_dir: Option<PathBuf>,
    /// Variables for every function, over its own (`invoke local --env K=V`).
    pub extra_env: Vec<(String, String)>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            eager_instances: std::thread::available_parallelism().map_or(1, |cores| cores.get()),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            cache_dir: None,
            extra_env: Vec::new(),
        }
    }
}

/// Runs the functions it was given; must be created inside a tokio runtime.
pub struct Engine {
    pools: IndexMap<String, Arc<Pool>>,
    registry: Arc<Registry>,
    shutting_down: AtomicBool,
    reaper: tokio::task::JoinHandle<()>,
}

impl Engine {
    pub fn new(functions: Vec<FunctionSpec>, options: EngineOptions) -> Engine {
        let registry = Arc::new(Registry::default());
        let next_instance = Arc::new(AtomicU64::new(1));
        let cache_dir = options
            .cache_dir
            .clone()
            .unwrap_or_else(runtimes::default_cache_dir);
        let pools: IndexMap<String, Arc<Pool>> = functions
            .into_iter()
            .map(|spec| {
                let key = spec.key.clone();
                let pool = Pool::new(
                    spec,
                    options.max_concurrency,
                    options.eager_instances,
                    cache_dir.clone(),
                    options.extra_env.clone(),
                    Arc::clone(&registry),
                    Arc::clone(&next_instance),
                );
                (key, Arc::new(pool))
            })
            .collect();
        let reaper = spawn_reaper(
            pools.values().map(Arc::downgrade).collect(),
            options.idle_timeout,
        );
        Engine {
            pools,
            registry,
            shutting_down: AtomicBool::new(false),
            reaper,
        }
    }

    /// The functions this engine runs, by key.
    pub fn functions(&self) -> impl Iterator<Item = &FunctionSpec> {
        self.pools.values().map(|pool| &pool.spec)
    }

    /// Live processes (busy or idle), for tests and diagnostics.
    pub fn live_instances(&self) -> usize {
        self.registry.len()
    }

    /// Idle, warm instances of one function.
    pub fn idle_instances(&self, function: &str) -> usize {
        self.pools.get(function).map_or(0, |pool| pool.idle_count())
    }

    /// Refuses new calls, kills every instance's process group (busy ones too: their calls
    /// end with [`InvokeError::ShuttingDown`]) and stops the idle reaper.
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.reaper.abort();
        for pool in self.pools.values() {
            pool.close();
        }
        self.registry.kill_all();
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[async_trait]
impl Invoker for Engine {
    async fn invoke(
        &self,
        function: &str,
        invocation: Invocation,
    ) -> Result<Completed, InvokeError> {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err(InvokeError::ShuttingDown);
        }
        let Some(pool) = self.pools.get(function) else {
            return Err(InvokeError::UnknownFunction {
                name: function.to_string(),
                known: self.pools.keys().cloned().collect(),
            });
        };
        if invocation.payload.len() > MAX_PAYLOAD_BYTES {
            return Err(InvokeError::PayloadTooLarge {
                size: invocation.payload.len(),
                limit: MAX_PAYLOAD_BYTES,
            });
        }
        let completed = pool.invoke(invocation).await?;
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err(InvokeError::ShuttingDown);
        }
        Ok(completed)
    }
}

fn spawn_reaper(
    pools: Vec<std::sync::Weak<Pool>>,
    idle_timeout: Duration,
) -> tokio::task::JoinHandle<()> {
    let period = (idle_timeout / 2).clamp(Duration::from_millis(50), Duration::from_secs(10));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            for pool in pools.iter().filter_map(std::sync::Weak::upgrade) {
                pool.stop_idle(idle_timeout);
            }
        }
    })
}
