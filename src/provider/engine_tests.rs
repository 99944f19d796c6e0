//! The engine's scheduling, through an in-memory backend that records what it was asked to do.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::json;

use super::*;
use crate::manifest::model::Service;
use crate::package::Artifact;
use crate::plan::{plan, Desired, DesiredState, Live, Reference};
use crate::provider::{LockAttempt, LockHolder, Scope};

struct Recorder {
    scope: Scope,
    calls: Mutex<Vec<(ResourceId, Action, Properties)>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    fail: Option<String>,
    /// This step's call panics at once (a bug in a backend).
    panic_on: Option<String>,
    pause: Duration,
}

impl Recorder {
    fn new() -> Self {
        Recorder {
            scope: Scope {
                service: "svc".into(),
                stage: "dev".into(),
                region: "us-east-1".into(),
            },
            calls: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            most_in_flight: AtomicUsize::new(0),
            fail: None,
            panic_on: None,
            pause: Duration::from_millis(5),
        }
    }

    fn calls(&self) -> Vec<(ResourceId, Action, Properties)> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl Backend for Recorder {
    fn scope(&self) -> &Scope {
        &self.scope
    }
    fn target(&self) -> String {
        "memory".into()
    }
    fn desired(&self, _: &Service, _: &[Artifact]) -> Result<DesiredState, ProviderError> {
        Ok(DesiredState::default())
    }
    async fn live(&self) -> Result<LiveState, ProviderError> {
        Ok(LiveState::default())
    }
    async fn apply(
        &self,
        step: &Step,
        properties: &Properties,
        _: &StepContext<'_>,
    ) -> Result<Properties, ProviderError> {
        if self.panic_on.as_deref() == Some(step.id.name.as_str()) {
            panic!("a bug in the backend");
        }
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.pause).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.calls
            .lock()
            .unwrap()
            .push((step.id.clone(), step.action, properties.clone()));
        if self.fail.as_deref() == Some(step.id.name.as_str()) {
            return Err(ProviderError::Call {
                operation: "Apply".into(),
                resource: step.id.to_string(),
                message: "refused".into(),
                help: "none".into(),
            });
        }
        Ok(Properties::from([(
            "arn".to_string(),
            json!(format!("arn:{}", step.id.name)),
        )]))
    }
    async fn lock(&self, _: &LockHolder) -> Result<LockAttempt, ProviderError> {
        Ok(LockAttempt::Acquired)
    }
    async fn unlock(&self, _: &str) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn lock_holder(&self) -> Result<Option<LockHolder>, ProviderError> {
        Ok(None)
    }
    fn info(&self, _: &LiveState) -> crate::provider::ServiceInfo {
        crate::provider::ServiceInfo::default()
    }
}

struct Quiet;
impl StepProgress for Quiet {
    fn waiting(&self, _: &ResourceId, _: &str) {}
}
impl Observer for Quiet {
    fn started(&self, _: &Step) {}
    fn finished(&self, _: &Step, _: Duration) {}
    fn failed(&self, _: &Step, _: &ProviderError) {}
}

fn resource(name: &str, needs: &[&str]) -> Desired {
    let mut properties = Properties::from([("name".to_string(), json!(name))]);
    for need in needs {
        properties.insert(
            format!("uses-{need}"),
            Reference::new(ResourceId::new("test", *need), "arn").to_json(),
        );
    }
    Desired {
        id: ResourceId::new("test", name),
        properties,
        depends_on: needs.iter().map(|n| ResourceId::new("test", *n)).collect(),
        ..Desired::default()
    }
}

async fn run(
    backend: Arc<Recorder>,
    desired: Vec<Desired>,
    live: LiveState,
    concurrency: usize,
) -> Outcome {
    let plan = plan(&DesiredState { resources: desired }, &live).unwrap();
    let options = Options {
        concurrency,
        ..Options::default()
    };
    apply(
        backend,
        &plan,
        &live,
        &options,
        Arc::new(Quiet),
        &CancellationToken::new(),
    )
    .await
}

#[tokio::test]
async fn a_dependent_step_gets_the_attribute_its_dependency_returned() {
    let backend = Arc::new(Recorder::new());
    let outcome = run(
        Arc::clone(&backend),
        vec![resource("function", &["role"]), resource("role", &[])],
        LiveState::default(),
        10,
    )
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let calls = backend.calls();
    assert_eq!(calls[0].0.name, "role");
    assert_eq!(calls[1].2.get("uses-role"), Some(&json!("arn:role")));
}

#[tokio::test]
async fn no_more_than_the_concurrency_limit_runs_at_once() {
    let backend = Arc::new(Recorder::new());
    let desired = (0..12)
        .map(|i| resource(&format!("r{i:02}"), &[]))
        .collect();
    let outcome = run(Arc::clone(&backend), desired, LiveState::default(), 3).await;
    assert!(outcome.succeeded());
    assert_eq!(backend.calls().len(), 12);
    let most = backend.most_in_flight.load(Ordering::SeqCst);
    assert!((2..=3).contains(&most), "at most 3 in flight, saw {most}");
}

#[tokio::test]
async fn a_failure_stops_new_work_and_reports_what_did_not_start() {
    let mut recorder = Recorder::new();
    recorder.fail = Some("role".into());
    let backend = Arc::new(recorder);
    let outcome = run(
        Arc::clone(&backend),
        vec![
            resource("role", &[]),
            resource("function", &["role"]),
            resource("url", &["function"]),
        ],
        LiveState::default(),
        10,
    )
    .await;
    assert!(!outcome.succeeded());
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(outcome.failed[0].0.name, "role");
    let not_started: BTreeSet<_> = outcome
        .not_started
        .iter()
        .map(|id| id.name.as_str())
        .collect();
    assert_eq!(not_started, BTreeSet::from(["function", "url"]));
    assert_eq!(
        backend.calls().len(),
        1,
        "nothing after the failure was called"
    );
}

#[tokio::test]
async fn an_unchanged_plan_makes_no_call() {
    let backend = Arc::new(Recorder::new());
    let desired = vec![resource("role", &[])];
    let live = LiveState {
        resources: vec![Live {
            id: ResourceId::new("test", "role"),
            properties: desired[0].properties.clone(),
            ..Live::default()
        }],
        ..LiveState::default()
    };
    let outcome = run(Arc::clone(&backend), desired, live, 10).await;
    assert!(outcome.succeeded());
    assert!(backend.calls().is_empty());
}

#[tokio::test]
async fn deletes_wait_for_every_create_and_update() {
    let backend = Arc::new(Recorder::new());
    let live = LiveState {
        resources: vec![Live {
            id: ResourceId::new("test", "old"),
            ..Live::default()
        }],
        ..LiveState::default()
    };
    let desired = vec![resource("a", &[]), resource("b", &["a"])];
    let outcome = run(Arc::clone(&backend), desired, live, 10).await;
    assert!(outcome.succeeded());
    let order: Vec<_> = backend.calls().into_iter().map(|c| c.0.name).collect();
    assert_eq!(order, vec!["a", "b", "old"]);
}

#[tokio::test]
async fn a_cancelled_apply_finishes_running_steps_and_starts_no_more() {
    let mut recorder = Recorder::new();
    recorder.pause = Duration::from_millis(50);
    let backend = Arc::new(recorder);
    let plan = plan(
        &DesiredState {
            resources: vec![resource("a", &[]), resource("b", &["a"])],
        },
        &LiveState::default(),
    )
    .unwrap();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        trigger.cancel();
    });
    let backend_dyn: Arc<dyn Backend> = backend.clone();
    let outcome = apply(
        backend_dyn,
        &plan,
        &LiveState::default(),
        &Options::default(),
        Arc::new(Quiet),
        &cancel,
    )
    .await;
    assert!(outcome.interrupted);
    assert_eq!(outcome.applied.len(), 1, "the running step finished");
    assert_eq!(outcome.not_started.len(), 1);
    assert_eq!(backend.calls().len(), 1);
}

#[tokio::test]
async fn deletes_run_when_every_other_step_is_a_no_op() {
    let backend = Arc::new(Recorder::new());
    let kept = resource("kept", &[]);
    let live = LiveState {
        resources: vec![
            Live {
                id: kept.id.clone(),
                properties: kept.properties.clone(),
                ..Live::default()
            },
            Live {
                id: ResourceId::new("test", "gone"),
                ..Live::default()
            },
        ],
        ..LiveState::default()
    };
    let outcome = run(Arc::clone(&backend), vec![kept], live, 10).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let calls = backend.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].0.name.as_str(), calls[0].1),
        ("gone", Action::Delete)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_step_is_blamed_not_the_first_running_one() {
    let mut recorder = Recorder::new();
    recorder.panic_on = Some("b".into());
    recorder.pause = Duration::from_millis(50);
    let backend = Arc::new(recorder);
    // "a" starts first and is still running (it sleeps 50 ms) when "b" panics.
    let desired = vec![resource("a", &[]), resource("b", &[])];
    let outcome = run(Arc::clone(&backend), desired, LiveState::default(), 10).await;
    let failed: Vec<&str> = outcome
        .failed
        .iter()
        .map(|(id, _)| id.name.as_str())
        .collect();
    assert_eq!(failed, vec!["b"], "{outcome:?}");
    assert!(
        matches!(outcome.failed[0].1, ProviderError::Internal { .. }),
        "a panic is a bug: {outcome:?}"
    );
}
