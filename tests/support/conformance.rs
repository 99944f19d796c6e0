//! The provider conformance kit: one suite that every cloud's backend passes, run against that
//! cloud's emulator or fake. A cloud implements [`Cloud`] (connect a backend as a new process
//! would, and reach the cloud directly to change or inspect it behind updraft's back) and
//! instantiates the suite with [`conformance_suite!`]; `docs/deploy.md` says how to add one.
//!
//! Everything goes through the library's sequences (`updraft::ops`), as the command line does:
//! - a deploy and then a plan is a no-op;
//! - a resource deleted behind updraft's back is re-created;
//! - deleting what is already gone succeeds;
//! - an owned resource left by a killed deploy is adopted, not duplicated;
//! - the live state lists only resources with the service's and stage's ownership marks, and
//!   remove leaves another owner's resource alone;
//! - a second deploy while the lock is held is refused as a held lock (exit code 3);
//! - remove leaves nothing owned.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use updraft::manifest::model::Service;
use updraft::manifest::{load, LoadOptions};
use updraft::ops::{self, ChangeOptions, Interrupt, OpsError, Reporter};
use updraft::plan::{Action, Plan, ResourceId, Step};
use updraft::provider::engine::Observer;
use updraft::provider::{Backend, LockHolder, Operation, ProviderError, StepProgress};

/// One cloud, as the kit needs it.
pub trait Cloud {
    /// A service directory (`serverless.yml` and its handlers) this cloud deploys, with at
    /// least two functions.
    fn fixture(&self) -> tempfile::TempDir;
    /// A fresh backend for the service, as a new process connects one: nothing remembered.
    fn connect(&self, service: &Service) -> Arc<dyn Backend>;
    /// Deletes a deployed function with the cloud's own API.
    fn delete_function(&self, deployed_name: &str);
    /// Makes a function with the cloud's own API that carries no ownership marks.
    fn create_unowned_function(&self, deployed_name: &str);
    /// Whether a function of that name exists, by the cloud's own API.
    fn function_exists(&self, deployed_name: &str) -> bool;
    /// Every resource that carries the ownership marks of `service` and `stage`, by the cloud's
    /// own API (not through the backend), one entry per resource.
    fn owned(&self, service: &str, stage: &str) -> Vec<String>;
    /// Runs a future to completion.
    fn block_on<T>(&self, future: impl std::future::Future<Output = T>) -> T;
    /// The names `delete_function` and `function_exists` take for the fixture's functions,
    /// sorted: one per function, unless the cloud deploys them together (Azure's Function App).
    fn deployed_names(&self, loaded: &Loaded) -> Vec<String> {
        loaded.function_names()
    }
}

/// A fixture's service, loaded as the command line loads it.
pub struct Loaded {
    pub dir: tempfile::TempDir,
    pub service: Service,
    pub config: PathBuf,
}

impl Loaded {
    pub fn source(&self) -> ops::Source<'_> {
        ops::Source {
            service: &self.service,
            service_dir: self.dir.path(),
            config_file: Some(self.config.clone()),
        }
    }

    /// The deployed function names, sorted.
    pub fn function_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .service
            .functions
            .values()
            .map(|f| f.name.clone())
            .collect();
        names.sort();
        names
    }
}

pub fn load_fixture(dir: tempfile::TempDir) -> Loaded {
    let env = |name: &str| std::env::var(name).ok();
    let options = LoadOptions {
        working_dir: dir.path().to_path_buf(),
        config: Some(PathBuf::from("serverless.yml")),
        options: IndexMap::new(),
        params: Vec::new(),
        env: &env,
        cloud: None,
    };
    let loaded = load(&options).unwrap_or_else(|e| panic!("the fixture loads: {e:?}"));
    let service = Service::from_tree(&loaded.root).expect("the fixture reads as a service");
    assert!(
        service.functions.len() >= 2,
        "the kit needs a fixture with two functions or more"
    );
    Loaded {
        config: dir.path().join("serverless.yml"),
        dir,
        service,
    }
}

/// A reporter that says yes, keeps quiet, and (when asked) interrupts the apply once `kill_after`
/// steps have finished, as a killed deploy stops.
pub struct Scripted {
    interrupt: Interrupt,
    kill_after: Option<usize>,
    finished: Arc<AtomicUsize>,
    pub lines: Mutex<Vec<String>>,
}

impl Scripted {
    pub fn new() -> Scripted {
        Scripted {
            interrupt: Interrupt::default(),
            kill_after: None,
            finished: Arc::new(AtomicUsize::new(0)),
            lines: Mutex::new(Vec::new()),
        }
    }

    pub fn killing_after(steps: usize) -> Scripted {
        Scripted {
            kill_after: Some(steps),
            ..Scripted::new()
        }
    }

    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }
}

struct Counting {
    interrupt: Interrupt,
    kill_after: Option<usize>,
    finished: Arc<AtomicUsize>,
}

impl StepProgress for Counting {
    fn waiting(&self, _: &ResourceId, _: &str) {}
}

impl Observer for Counting {
    fn started(&self, _: &Step) {}
    fn finished(&self, _: &Step, _: std::time::Duration) {
        let done = self.finished.fetch_add(1, Ordering::SeqCst) + 1;
        if self.kill_after.is_some_and(|limit| done >= limit) {
            self.interrupt.trigger();
        }
    }
    fn failed(&self, _: &Step, _: &ProviderError) {}
}

impl Reporter for Scripted {
    fn info(&self, message: &str) {
        self.lines.lock().unwrap().push(message.to_string());
    }
    fn warning(&self, warning: &dyn miette::Diagnostic) {
        self.lines
            .lock()
            .unwrap()
            .push(format!("warning: {warning}"));
    }
    fn plan(&self, _: &Plan) {}
    fn confirm(&self, _: &str) -> bool {
        true
    }
    fn observer(&self) -> Arc<dyn Observer> {
        Arc::new(Counting {
            interrupt: self.interrupt.clone(),
            kill_after: self.kill_after,
            finished: Arc::clone(&self.finished),
        })
    }
}

fn change() -> ChangeOptions {
    ChangeOptions {
        yes: true,
        ..ChangeOptions::default()
    }
}

pub fn deploy(cloud: &impl Cloud, loaded: &Loaded) -> Result<ops::DeployReport, OpsError> {
    let reporter = Scripted::new();
    deploy_with(cloud, loaded, &reporter)
}

fn deploy_with(
    cloud: &impl Cloud,
    loaded: &Loaded,
    reporter: &Scripted,
) -> Result<ops::DeployReport, OpsError> {
    let mut change = change();
    if reporter.kill_after.is_some() {
        // One step at a time, so the kill lands between two steps.
        change.concurrency = 1;
    }
    let request = ops::DeployRequest {
        source: loaded.source(),
        function: None,
        force: false,
        change,
    };
    cloud.block_on(ops::deploy(
        cloud.connect(&loaded.service),
        &request,
        reporter.interrupt(),
        reporter,
    ))
}

pub fn plan(cloud: &impl Cloud, loaded: &Loaded) -> Plan {
    let reporter = Scripted::new();
    let backend = cloud.connect(&loaded.service);
    cloud
        .block_on(ops::plan(
            backend.as_ref(),
            &loaded.source(),
            reporter.interrupt(),
            &reporter,
        ))
        .unwrap_or_else(|e| panic!("the plan is made: {e}"))
        .plan
}

pub fn remove(cloud: &impl Cloud, loaded: &Loaded) -> Result<ops::RemoveReport, OpsError> {
    let reporter = Scripted::new();
    cloud.block_on(ops::remove(
        cloud.connect(&loaded.service),
        &ops::RemoveRequest { change: change() },
        reporter.interrupt(),
        &reporter,
    ))
}

fn changes(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .filter(|s| s.action.is_change())
        .map(|s| format!("{:?} {}", s.action, s.id))
        .collect()
}

fn owned_of(cloud: &impl Cloud, loaded: &Loaded) -> Vec<String> {
    let mut owned = cloud.owned(&loaded.service.name, &loaded.service.provider.stage);
    owned.sort();
    owned
}

pub fn deploy_then_plan_is_a_no_op(cloud: &impl Cloud) {
    let loaded = load_fixture(cloud.fixture());
    deploy(cloud, &loaded).unwrap_or_else(|e| panic!("the deploy succeeds: {e}"));
    let plan = plan(cloud, &loaded);
    assert_eq!(
        changes(&plan),
        Vec::<String>::new(),
        "a second plan is a no-op"
    );
}

pub fn a_resource_deleted_behind_its_back_is_recreated(cloud: &impl Cloud) {
    let loaded = load_fixture(cloud.fixture());
    deploy(cloud, &loaded).unwrap_or_else(|e| panic!("the deploy succeeds: {e}"));
    let victim = cloud.deployed_names(&loaded)[0].clone();
    cloud.delete_function(&victim);
    let plan = plan(cloud, &loaded);
    assert!(
        plan.steps
            .iter()
            .any(|s| s.action == Action::Create && s.id.name == victim),
        "the deleted function is planned for creation: {:?}",
        changes(&plan)
    );
    deploy(cloud, &loaded).unwrap_or_else(|e| panic!("the deploy re-creates it: {e}"));
    assert!(cloud.function_exists(&victim));
    assert_eq!(changes(&self::plan(cloud, &loaded)), Vec::<String>::new());
}

pub fn deleting_what_is_already_gone_succeeds(cloud: &impl Cloud) {
    let loaded = load_fixture(cloud.fixture());
    deploy(cloud, &loaded).unwrap_or_else(|e| panic!("the deploy succeeds: {e}"));
    // The live state as a remove read it, then the function goes before the delete runs.
    let backend = cloud.connect(&loaded.service);
    let live = cloud
        .block_on(backend.live())
        .unwrap_or_else(|e| panic!("the live state reads: {e}"));
    let victim = cloud.deployed_names(&loaded)[0].clone();
    cloud.delete_function(&victim);
    let plan = updraft::plan::plan(&Default::default(), &live).expect("a remove plan");
    let planned = updraft::provider::Planned {
        desired: Default::default(),
        live,
        plan,
    };
    let outcome = cloud.block_on(updraft::provider::engine::apply(
        backend,
        &planned.plan,
        &planned.live,
        &updraft::provider::engine::Options::default(),
        Scripted::new().observer(),
        &Default::default(),
    ));
    assert!(
        outcome.succeeded(),
        "deleting a resource that is already gone succeeds: {:?}",
        outcome.failed
    );
    assert_eq!(owned_of(cloud, &loaded), Vec::<String>::new());
}

pub fn an_owned_resource_left_by_a_killed_deploy_is_adopted_not_duplicated(cloud: &impl Cloud) {
    let loaded = load_fixture(cloud.fixture());
    deploy(cloud, &loaded).unwrap_or_else(|e| panic!("a clean deploy succeeds: {e}"));
    let clean = owned_of(cloud, &loaded).len();
    remove(cloud, &loaded).unwrap_or_else(|e| panic!("the remove succeeds: {e}"));

    // Killed half-way: what it created is owned, but the deploy never finished.
    let steps = changes(&plan(cloud, &loaded)).len();
    let killed = Scripted::killing_after((steps / 2).max(1));
    let error = deploy_with(cloud, &loaded, &killed).expect_err("the deploy is interrupted");
    assert!(matches!(error, OpsError::Interrupted), "{error}");
    assert!(
        !owned_of(cloud, &loaded).is_empty(),
        "the killed deploy left something owned"
    );
    deploy(cloud, &loaded).unwrap_or_else(|e| panic!("the next deploy converges: {e}"));
    assert_eq!(changes(&plan(cloud, &loaded)), Vec::<String>::new());
    let after = owned_of(cloud, &loaded);
    assert_eq!(
        after.len(),
        clean,
        "as many owned resources as a clean deploy makes, none twice: {after:?}"
    );
}

pub fn live_lists_only_owned_resources(cloud: &impl Cloud) {
    let loaded = load_fixture(cloud.fixture());
    let prefix = format!("{}-{}-", loaded.service.name, loaded.service.provider.stage);
    let intruder = format!("{prefix}not-ours");
    cloud.create_unowned_function(&intruder);
    deploy(cloud, &loaded).unwrap_or_else(|e| panic!("the deploy succeeds: {e}"));
    let live = cloud
        .block_on(cloud.connect(&loaded.service).live())
        .unwrap_or_else(|e| panic!("the live state reads: {e}"));
    let names: BTreeSet<&str> = live.resources.iter().map(|r| r.id.name.as_str()).collect();
    assert!(
        !names.contains(intruder.as_str()),
        "a function without the ownership marks is not live state: {names:?}"
    );
    remove(cloud, &loaded).unwrap_or_else(|e| panic!("the remove succeeds: {e}"));
    assert!(
        cloud.function_exists(&intruder),
        "remove leaves what it does not own"
    );
}

pub fn a_second_deploy_while_the_lock_is_held_is_refused(cloud: &impl Cloud) {
    let loaded = load_fixture(cloud.fixture());
    let backend = cloud.connect(&loaded.service);
    let other = LockHolder::for_this_process(
        Operation::Deploy,
        &loaded.service.name,
        &loaded.service.provider.stage,
    );
    let taken = cloud
        .block_on(backend.lock(&other))
        .unwrap_or_else(|e| panic!("the lock is taken: {e}"));
    assert!(matches!(taken, updraft::provider::LockAttempt::Acquired));
    let error = deploy(cloud, &loaded).expect_err("the lock is held");
    assert!(
        matches!(error, OpsError::Provider(ProviderError::LockHeld { .. })),
        "{error}"
    );
    let failure = updraft::cli::cloud::ops_failure(error, &Default::default());
    assert!(
        matches!(failure, updraft::cli::error::Failure::LockHeld(_)),
        "a held lock exits 3"
    );
    for name in cloud.deployed_names(&loaded) {
        assert!(
            !cloud.function_exists(&name),
            "nothing was deployed: {name}"
        );
    }
    cloud
        .block_on(backend.unlock(&other.id))
        .unwrap_or_else(|e| panic!("the lock is released: {e}"));
}

pub fn remove_leaves_nothing_owned(cloud: &impl Cloud) {
    let loaded = load_fixture(cloud.fixture());
    deploy(cloud, &loaded).unwrap_or_else(|e| panic!("the deploy succeeds: {e}"));
    assert!(!owned_of(cloud, &loaded).is_empty());
    remove(cloud, &loaded).unwrap_or_else(|e| panic!("the remove succeeds: {e}"));
    assert_eq!(owned_of(cloud, &loaded), Vec::<String>::new());
    let again = remove(cloud, &loaded).unwrap_or_else(|e| panic!("a second remove: {e}"));
    assert_eq!(again.deleted, 0);
}

/// Copies `files` (relative to the repository) and writes `manifest` into a fresh directory.
pub fn fixture_dir(manifest: &str, files: &[&str]) -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("serverless.yml"), manifest).expect("the manifest");
    for file in files {
        let to = dir.path().join(file);
        std::fs::create_dir_all(to.parent().expect("a parent")).expect("directories");
        std::fs::copy(root.join(file), to).expect("a file copies");
    }
    dir
}

/// One `#[test]` per check of the kit for a cloud: `conformance_suite!(make_cloud, attributes)`
/// where `make_cloud(test_name)` gives the cloud for one test.
#[macro_export]
macro_rules! conformance_suite {
    ($make:path $(, #[$attribute:meta])*) => {
        $crate::conformance_suite!(@tests $make, [$(#[$attribute])*],
            deploy_then_plan_is_a_no_op,
            a_resource_deleted_behind_its_back_is_recreated,
            deleting_what_is_already_gone_succeeds,
            an_owned_resource_left_by_a_killed_deploy_is_adopted_not_duplicated,
            live_lists_only_owned_resources,
            a_second_deploy_while_the_lock_is_held_is_refused,
            remove_leaves_nothing_owned
        );
    };
    (@tests $make:path, $attributes:tt, $check:ident $(, $rest:ident)*) => {
        $crate::conformance_suite!(@one $make, $attributes, $check);
        $crate::conformance_suite!(@tests $make, $attributes, $($rest),*);
    };
    (@tests $make:path, $attributes:tt,) => {};
    (@one $make:path, [$(#[$attribute:meta])*], $check:ident) => {
        #[test]
        $(#[$attribute])*
        fn $check() {
            let cloud = $make(stringify!($check));
            conformance::$check(&cloud);
        }
    };
}
