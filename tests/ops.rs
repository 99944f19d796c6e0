//! `plan`, `deploy`, `deploy function` and `remove` driven through the library's sequences
//! (`updraft::ops`) with an in-memory backend and no binary: the sequence every cloud shares
//! (package, desired, lock, plan, confirm, apply, re-read) and what it reports, with the
//! rendered plans pinned by snapshots.

#[path = "support/memory.rs"]
mod memory;

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::json;

use memory::Memory;
use updraft::cli::output::plan::render;
use updraft::manifest::model::Service;
use updraft::manifest::{Node, Span};
use updraft::ops::{self, ChangeOptions, Interrupt, OpsError, Reporter};
use updraft::plan::{Action, Plan, ResourceId, Step};
use updraft::provider::engine::Observer;
use updraft::provider::{Backend, LockHolder, ProviderError, StepProgress};

/// Records what the sequence reports; answers confirmations with `answer`.
struct Recorded {
    lines: Mutex<Vec<String>>,
    plans: Mutex<Vec<String>>,
    answer: bool,
}

impl Recorded {
    fn answering(answer: bool) -> Arc<Recorded> {
        Arc::new(Recorded {
            lines: Mutex::new(Vec::new()),
            plans: Mutex::new(Vec::new()),
            answer,
        })
    }

    fn plans(&self) -> Vec<String> {
        self.plans.lock().unwrap().clone()
    }
}

struct Quiet;
impl StepProgress for Quiet {
    fn waiting(&self, _: &ResourceId, _: &str) {}
}
impl Observer for Quiet {
    fn started(&self, _: &Step) {}
    fn finished(&self, _: &Step, _: std::time::Duration) {}
    fn failed(&self, _: &Step, _: &ProviderError) {}
}

impl Reporter for Recorded {
    fn info(&self, message: &str) {
        self.lines.lock().unwrap().push(message.to_string());
    }
    fn warning(&self, warning: &dyn miette::Diagnostic) {
        self.lines
            .lock()
            .unwrap()
            .push(format!("warning: {warning}"));
    }
    fn plan(&self, plan: &Plan) {
        self.plans.lock().unwrap().push(render(plan, false));
    }
    fn confirm(&self, question: &str) -> bool {
        self.lines
            .lock()
            .unwrap()
            .push(format!("asked: {question}"));
        self.answer
    }
    fn observer(&self) -> Arc<dyn Observer> {
        Arc::new(Quiet)
    }
}

/// A service directory with two Node functions; `memory` is `hello`'s memory size.
fn service_dir(memory: u64) -> (tempfile::TempDir, Service) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("handler.js"),
        "exports.main = async () => 'ok';\n",
    )
    .expect("the handler is written");
    let manifest = json!({
        "service": "svc",
        "provider": {"name": "aws", "runtime": "nodejs20.x", "stage": "dev"},
        "functions": {
            "hello": {"handler": "handler.main", "memorySize": memory},
            "world": {"handler": "handler.main", "memorySize": 128},
        },
    });
    let service = Service::from_tree(&Node::from_json(&manifest, Span::default()))
        .expect("the service reads");
    (dir, service)
}

fn source<'a>(service: &'a Service, dir: &'a Path) -> ops::Source<'a> {
    ops::Source {
        service,
        service_dir: dir,
        config_file: None,
    }
}

fn request<'a>(service: &'a Service, dir: &'a Path) -> ops::DeployRequest<'a> {
    ops::DeployRequest {
        source: source(service, dir),
        function: None,
        force: false,
        change: ChangeOptions {
            yes: true,
            ..ChangeOptions::default()
        },
    }
}

/// A whole-service deploy of `service` from `dir` through ops.
async fn deploy(
    backend: &Arc<Memory>,
    service: &Service,
    dir: &Path,
    reporter: &Recorded,
) -> Result<ops::DeployReport, OpsError> {
    ops::deploy(
        backend.clone(),
        &request(service, dir),
        &Interrupt::default(),
        reporter,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_through_ops_then_a_plan_changes_nothing() {
    let backend = Arc::new(Memory::new());
    let (dir, service) = service_dir(256);
    let reporter = Recorded::answering(true);
    let interrupt = Interrupt::default();

    let report = deploy(&backend, &service, dir.path(), reporter.as_ref())
        .await
        .expect("the deploy succeeds");
    assert_eq!(report.applied, 2);
    assert_eq!(report.info.functions.len(), 2);
    assert_eq!(backend.names(), vec!["svc-dev-hello", "svc-dev-world"]);
    assert!(
        backend.lock_holder().await.unwrap().is_none(),
        "the lock is released"
    );

    let planned = ops::plan(
        backend.as_ref(),
        &source(&service, dir.path()),
        &interrupt,
        reporter.as_ref(),
    )
    .await
    .expect("the plan succeeds");
    assert!(!planned.plan.has_changes());
    insta::assert_snapshot!("first_deploy_plan", reporter.plans()[0]);
    insta::assert_snapshot!("plan_after_deploy", render(&planned.plan, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_change_updates_one_function_field_by_field() {
    let backend = Arc::new(Memory::new());
    let (dir, service) = service_dir(256);
    let reporter = Recorded::answering(true);
    deploy(&backend, &service, dir.path(), reporter.as_ref())
        .await
        .expect("the first deploy");
    let (_, bigger) = service_dir(512);
    let report = deploy(&backend, &bigger, dir.path(), reporter.as_ref())
        .await
        .expect("the second deploy");
    assert_eq!(report.applied, 1);
    insta::assert_snapshot!("memory_change_plan", render(&report.plan, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_function_applies_only_that_function_and_says_what_waits() {
    let backend = Arc::new(Memory::new());
    let interrupt = Interrupt::default();
    let (dir, service) = service_dir(256);
    let reporter = Recorded::answering(true);
    let mut one = request(&service, dir.path());
    one.function = Some("hello".into());
    let error = ops::deploy(backend.clone(), &one, &interrupt, reporter.as_ref())
        .await
        .expect_err("an undeployed function cannot be deployed alone");
    assert!(matches!(error, OpsError::NotDeployed { .. }), "{error}");

    deploy(&backend, &service, dir.path(), reporter.as_ref())
        .await
        .expect("the whole service");
    let (_, mut both_changed) = service_dir(1024);
    both_changed
        .functions
        .get_mut("world")
        .expect("world")
        .memory_size = 2048;
    let mut one = request(&both_changed, dir.path());
    one.function = Some("hello".into());
    let report = ops::deploy(backend.clone(), &one, &interrupt, reporter.as_ref())
        .await
        .expect("deploy function");
    assert_eq!(report.applied, 1);
    assert_eq!(
        backend.calls().last(),
        Some(&(Action::Update, "svc-dev-hello".to_string()))
    );
    assert_eq!(
        backend.property("svc-dev-world", "memory_size"),
        Some(json!(128)),
        "the other function waits for a full deploy"
    );

    let mut unknown = request(&service, dir.path());
    unknown.function = Some("nope".into());
    let error = ops::deploy(backend.clone(), &unknown, &interrupt, reporter.as_ref())
        .await
        .expect_err("an unknown function key");
    assert_eq!(error.to_string(), "no function `nope` in the manifest");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lock_refuses_a_second_deploy_and_changes_nothing() {
    let backend = Arc::new(Memory::new());
    let (dir, service) = service_dir(256);
    let reporter = Recorded::answering(true);
    let other = LockHolder::for_this_process(updraft::provider::Operation::Deploy, "svc", "dev");
    backend.lock(&other).await.unwrap();
    let error = deploy(&backend, &service, dir.path(), reporter.as_ref())
        .await
        .expect_err("the lock is held");
    assert!(
        matches!(error, OpsError::Provider(ProviderError::LockHeld { .. })),
        "{error}"
    );
    assert!(backend.names().is_empty());
    assert_eq!(
        backend.lock_holder().await.unwrap().map(|h| h.id),
        Some(other.id),
        "the other holder's lock is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_remove_deletes_nothing_and_a_confirmed_one_everything() {
    let backend = Arc::new(Memory::new());
    let interrupt = Interrupt::default();
    let (dir, service) = service_dir(256);
    deploy(
        &backend,
        &service,
        dir.path(),
        Recorded::answering(true).as_ref(),
    )
    .await
    .expect("deploy");

    let declined = Recorded::answering(false);
    let error = ops::remove(
        backend.clone(),
        &ops::RemoveRequest::default(),
        &interrupt,
        declined.as_ref(),
    )
    .await
    .expect_err("declined");
    assert!(matches!(error, OpsError::NotConfirmed), "{error}");
    assert_eq!(backend.names().len(), 2);
    insta::assert_snapshot!("remove_plan", declined.plans()[0]);

    let report = ops::remove(
        backend.clone(),
        &ops::RemoveRequest::default(),
        &interrupt,
        Recorded::answering(true).as_ref(),
    )
    .await
    .expect("remove");
    assert_eq!(report.deleted, 2);
    assert!(backend.names().is_empty());
    assert!(backend.lock_holder().await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_the_cloud_refuses_is_listed_as_left_and_the_rest_is_removed() {
    let mut refusing = Memory::new();
    refusing.refuse_delete = Some("svc-dev-hello".into());
    let backend = Arc::new(refusing);
    let interrupt = Interrupt::default();
    let (dir, service) = service_dir(256);
    deploy(
        &backend,
        &service,
        dir.path(),
        Recorded::answering(true).as_ref(),
    )
    .await
    .expect("deploy");
    let error = ops::remove(
        backend.clone(),
        &ops::RemoveRequest {
            change: ChangeOptions {
                yes: true,
                ..ChangeOptions::default()
            },
        },
        &interrupt,
        Recorded::answering(true).as_ref(),
    )
    .await
    .expect_err("one delete is refused");
    let OpsError::Left { left } = &error else {
        panic!("expected what is left, got {error}");
    };
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        left[0].starts_with("memory.function svc-dev-hello"),
        "{left:?}"
    );
    assert!(
        left[0].contains("AccessDenied"),
        "the cloud's answer: {left:?}"
    );
    assert_eq!(
        backend.names(),
        vec!["svc-dev-hello"],
        "the rest was removed"
    );
}
