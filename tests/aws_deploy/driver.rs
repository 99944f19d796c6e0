//! Drives the library as the deploy command does: load and package a service, connect, build
//! the desired state, read the live state, plan, and apply through the engine under the lock.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indexmap::IndexMap;
use tokio_util::sync::CancellationToken;
use updraft::manifest::model::Service;
use updraft::manifest::{load, LoadOptions};
use updraft::package::{package, Artifact, Request, Silent};
use updraft::plan::{plan, DesiredState, LiveState, Plan, ResourceId, Step};
use updraft::provider::aws::{connect, AwsBackend};
use updraft::provider::engine::{self, Observer, Options, Outcome};
use updraft::provider::{
    Backend, LockAttempt, LockHolder, Operation, ProviderError, Scope, StepProgress,
};

/// A service on disk, loaded and packaged.
pub struct Fixture {
    pub service: Service,
    pub artifacts: Vec<Artifact>,
    _temporary: Vec<tempfile::TempDir>,
}

/// A service written to a temporary directory: `serverless.yml` and the given files.
pub fn fixture(manifest: &str, files: &[(&str, &str)]) -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("serverless.yml"), manifest).expect("the manifest is written");
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("directories");
        std::fs::write(path, content).expect("a file is written");
    }
    let path = dir.path().to_path_buf();
    let mut fixture = load_and_package(&path, Some("serverless.yml"));
    fixture._temporary.push(dir);
    fixture
}

/// The repository's `serverless.example.yml`, with its handlers.
pub fn example() -> Fixture {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    load_and_package(root, Some("serverless.example.yml"))
}

fn load_and_package(dir: &Path, config: Option<&str>) -> Fixture {
    let env = |name: &str| std::env::var(name).ok();
    let options = LoadOptions {
        working_dir: dir.to_path_buf(),
        config: config.map(PathBuf::from),
        options: IndexMap::new(),
        params: Vec::new(),
        env: &env,
        cloud: None,
    };
    let loaded = load(&options).unwrap_or_else(|e| panic!("the fixture loads: {e:?}"));
    let service = Service::from_tree(&loaded.root).expect("the fixture reads as a service");
    let output = tempfile::tempdir().expect("a temporary directory");
    let report = package(
        &Request {
            service: &service,
            service_dir: &loaded.service_dir,
            output_dir: output.path().to_path_buf(),
            config_file: config.map(|c| dir.join(c)),
            interrupted: None,
        },
        &Silent,
    )
    .unwrap_or_else(|e| panic!("the fixture packages: {e:?}"));
    Fixture {
        service,
        artifacts: report.artifacts,
        _temporary: vec![output],
    }
}

/// Hears the engine; keeps the waiting messages.
#[derive(Default)]
pub struct Quiet {
    pub waits: Mutex<Vec<String>>,
}

impl StepProgress for Quiet {
    fn waiting(&self, resource: &ResourceId, message: &str) {
        self.waits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(format!("{resource}: {message}"));
    }
}

impl Observer for Quiet {
    fn started(&self, _: &Step) {}
    fn finished(&self, _: &Step, _: Duration) {}
    fn failed(&self, _: &Step, _: &ProviderError) {}
}

pub struct Driver {
    pub runtime: tokio::runtime::Runtime,
    pub backend: Arc<AwsBackend>,
}

impl Driver {
    pub fn connect(service: &Service) -> Driver {
        let runtime = super::moto::runtime();
        let scope = Scope {
            service: service.name.clone(),
            stage: service.provider.stage.clone(),
            region: service.provider.region.clone(),
        };
        let bucket = service
            .provider
            .deployment_bucket
            .as_ref()
            .and_then(|b| b.name.clone());
        let backend = runtime
            .block_on(connect(scope, None, bucket.as_deref(), service))
            .unwrap_or_else(|e| panic!("connects to moto: {e}"));
        Driver {
            runtime,
            backend: Arc::new(backend),
        }
    }

    pub fn desired(&self, fixture: &Fixture) -> DesiredState {
        self.backend
            .desired(&fixture.service, &fixture.artifacts)
            .unwrap_or_else(|e| panic!("the desired state builds: {e}"))
    }

    pub fn live(&self) -> LiveState {
        self.runtime
            .block_on(self.backend.live())
            .unwrap_or_else(|e| panic!("the live state reads: {e}"))
    }

    /// The plan against the live state, and that state.
    pub fn plan_against(&self, desired: &DesiredState) -> (Plan, LiveState) {
        let live = self.live();
        let planned = plan(desired, &live).unwrap_or_else(|e| panic!("plans: {e}"));
        (planned, live)
    }

    pub fn apply(&self, plan: &Plan, live: &LiveState) -> Outcome {
        let backend: Arc<dyn Backend> = self.backend.clone();
        self.runtime.block_on(engine::apply(
            backend,
            plan,
            live,
            &Options {
                step_timeout: Duration::from_secs(60),
                ..Options::default()
            },
            Arc::new(Quiet::default()),
            &CancellationToken::new(),
        ))
    }

    /// As `updraft deploy` does it: lock, read, plan, apply, unlock.
    pub fn deploy(&self, desired: &DesiredState) -> (Plan, Outcome) {
        let holder = LockHolder::for_this_process(Operation::Deploy, "test", "dev");
        match self.runtime.block_on(self.backend.lock(&holder)) {
            Ok(LockAttempt::Acquired) => {}
            other => panic!("the lock is free: {other:?}"),
        }
        let (planned, live) = self.plan_against(desired);
        let outcome = self.apply(&planned, &live);
        self.runtime
            .block_on(self.backend.unlock(&holder.id))
            .unwrap_or_else(|e| panic!("the lock is released: {e}"));
        assert!(
            outcome.succeeded(),
            "the deploy succeeds: failed {:?}, not started {:?}",
            outcome.failed,
            outcome.not_started
        );
        (planned, outcome)
    }

    /// As `updraft deploy` does it, with the deploy state written before and after.
    pub fn deploy_recorded(&self, desired: &DesiredState) -> (Plan, Outcome) {
        let holder = LockHolder::for_this_process(Operation::Deploy, "test", "dev");
        match self.runtime.block_on(self.backend.lock(&holder)) {
            Ok(LockAttempt::Acquired) => {}
            other => panic!("the lock is free: {other:?}"),
        }
        self.runtime
            .block_on(self.backend.record_intent(desired))
            .unwrap_or_else(|e| panic!("the deploy state is written: {e}"));
        let (planned, live) = self.plan_against(desired);
        let outcome = self.apply(&planned, &live);
        assert!(
            outcome.succeeded(),
            "the deploy succeeds: failed {:?}, not started {:?}",
            outcome.failed,
            outcome.not_started
        );
        let live = self.live();
        self.runtime
            .block_on(self.backend.record_outcome(desired, &live))
            .unwrap_or_else(|e| panic!("the deploy state is written: {e}"));
        self.runtime
            .block_on(self.backend.unlock(&holder.id))
            .unwrap_or_else(|e| panic!("the lock is released: {e}"));
        (planned, outcome)
    }

    /// As `updraft remove` does it: everything the live state holds is deleted, and the deploy
    /// state keeps what is left.
    pub fn remove_recorded(&self) -> Outcome {
        let nothing = DesiredState::default();
        let (plan, live) = self.plan_against(&nothing);
        let outcome = self.apply(&plan, &live);
        let left = self.live();
        self.runtime
            .block_on(self.backend.record_outcome(&nothing, &left))
            .unwrap_or_else(|e| panic!("the deploy state is written: {e}"));
        outcome
    }
}
