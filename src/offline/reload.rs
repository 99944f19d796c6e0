//! `--reload`: a change to a file under the service directory drains and restarts the instances
//! of the functions it belongs to. Functions that run a build (a bundle, compiled code) are
//! rebuilt on any change and restarted only when their build changed (`cli/offline.rs`).
//!
//! Each function gets its own invoker (an engine of one function) behind [`Reloading`]. A
//! restart swaps in a fresh one: calls already running finish on the old one, which stops its
//! instances when the last of them lets go of it (the engine stops its processes on drop); new
//! calls start fresh instances that load the changed code. No hook into the engine is needed.
//!
//! [`Watcher`] polls modification times (twice a second), which works the same on every
//! filesystem, including mounted and network ones where change notifications are unreliable.
//! `node_modules`, `.git`, `.serverless`, `.venv`, `target` and `__pycache__` are not watched.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::invoke::{Completed, Invocation, InvokeError, Invoker};

/// Directories never watched: dependencies, build output, caches.
const SKIPPED: &[&str] = &[
    "node_modules",
    ".git",
    ".serverless",
    ".venv",
    "target",
    "__pycache__",
];

/// At most this many files are watched; past it, changes in the rest go unnoticed.
const MAX_FILES: usize = 20_000;

pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Makes the invoker of one function.
pub type Factory<T> = Box<dyn Fn(&str) -> Option<Arc<T>> + Send + Sync>;

/// Per-function invokers that can be replaced while calls run.
pub struct Reloading<T> {
    factory: Factory<T>,
    current: RwLock<HashMap<String, Arc<T>>>,
}

impl<T: Invoker> Reloading<T> {
    pub fn new(functions: &[String], factory: Factory<T>) -> Reloading<T> {
        let current = functions
            .iter()
            .filter_map(|name| Some((name.clone(), factory(name)?)))
            .collect();
        Reloading {
            factory,
            current: RwLock::new(current),
        }
    }

    /// Swaps in a fresh invoker for `function`; the old one drains.
    pub fn restart(&self, function: &str) {
        if let Some(fresh) = (self.factory)(function) {
            let old = self
                .current
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(function.to_string(), fresh);
            drop(old);
        }
    }

    /// The current invokers (to stop them all at shutdown).
    pub fn all(&self) -> Vec<Arc<T>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }
}

#[async_trait]
impl<T: Invoker> Invoker for Reloading<T> {
    async fn invoke(
        &self,
        function: &str,
        invocation: Invocation,
    ) -> Result<Completed, InvokeError> {
        let invoker = self
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(function)
            .cloned();
        match invoker {
            Some(invoker) => invoker.invoke(function, invocation).await,
            None => Err(InvokeError::UnknownFunction {
                name: function.to_string(),
                known: {
                    let mut known: Vec<String> = self
                        .current
                        .read()
                        .unwrap_or_else(|p| p.into_inner())
                        .keys()
                        .cloned()
                        .collect();
                    known.sort();
                    known
                },
            }),
        }
    }
}

/// Modification time and size of every watched file.
type Snapshot = BTreeMap<PathBuf, (Option<SystemTime>, u64)>;

/// Finds changed files under a directory between two polls.
pub struct Watcher {
    root: PathBuf,
    last: Snapshot,
}

impl Watcher {
    pub fn new(root: &Path) -> Watcher {
        Watcher {
            root: root.to_path_buf(),
            last: snapshot(root),
        }
    }

    /// Files added, changed or removed since the last call.
    pub fn changes(&mut self) -> Vec<PathBuf> {
        let now = snapshot(&self.root);
        let mut changed: Vec<PathBuf> = now
            .iter()
            .filter(|(path, stamp)| self.last.get(*path) != Some(stamp))
            .map(|(path, _)| path.clone())
            .collect();
        changed.extend(self.last.keys().filter(|p| !now.contains_key(*p)).cloned());
        self.last = now;
        changed
    }
}

fn snapshot(root: &Path) -> Snapshot {
    let mut files = Snapshot::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !SKIPPED.iter().any(|s| name == *s) {
                    pending.push(entry.path());
                }
            } else if let Ok(metadata) = entry.metadata() {
                if files.len() >= MAX_FILES {
                    return files;
                }
                files.insert(entry.path(), (metadata.modified().ok(), metadata.len()));
            }
        }
    }
    files
}

/// The functions a changed file belongs to: those whose handler lives in the file's directory
/// or below it; a file outside every handler's directory (shared code, the manifest) belongs
/// to all of them.
pub fn affected(changed: &Path, handler_dirs: &[(String, PathBuf)]) -> Vec<String> {
    let owners: Vec<String> = handler_dirs
        .iter()
        .filter(|(_, dir)| changed.starts_with(dir))
        .map(|(name, _)| name.clone())
        .collect();
    if owners.is_empty() {
        handler_dirs.iter().map(|(name, _)| name.clone()).collect()
    } else {
        owners
    }
}

/// The directory of a handler: `examples/node/handler.hello` -> `examples/node`.
pub fn handler_dir(service_dir: &Path, handler: &str) -> PathBuf {
    match handler.rsplit_once('/') {
        Some((dir, _)) => service_dir.join(dir),
        None => service_dir.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::offline::invoke::InvocationResult;

    /// Answers with its generation number.
    struct Generation(usize);

    #[async_trait]
    impl Invoker for Generation {
        async fn invoke(&self, _: &str, _: Invocation) -> Result<Completed, InvokeError> {
            Ok(Completed {
                request_id: String::new(),
                result: InvocationResult::Success(self.0.to_string().into_bytes()),
                log: String::new(),
                duration_ms: 0.0,
            })
        }
    }

    fn payload(completed: Result<Completed, InvokeError>) -> String {
        match completed.map(|c| c.result) {
            Ok(InvocationResult::Success(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn restart_swaps_only_that_functions_invoker_and_the_old_one_drains() {
        let made = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&made);
        let reloading = Reloading::new(
            &["a".to_string(), "b".to_string()],
            Box::new(move |_| Some(Arc::new(Generation(counter.fetch_add(1, Ordering::SeqCst))))),
        );
        let before_b = payload(reloading.invoke("b", Invocation::default()).await);
        let held = reloading.all();
        reloading.restart("a");
        assert_eq!(
            payload(reloading.invoke("a", Invocation::default()).await),
            "2"
        );
        assert_eq!(
            payload(reloading.invoke("b", Invocation::default()).await),
            before_b
        );
        // The old invoker of `a` lives only as long as someone still holds it.
        assert!(held.iter().any(|g| Arc::strong_count(g) == 1));
        assert!(reloading.invoke("c", Invocation::default()).await.is_err());
    }

    #[test]
    fn watcher_sees_changed_added_and_removed_files_but_not_dependencies() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("handler.js");
        std::fs::write(&file, "a").unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir(dir.path().join("node_modules")).unwrap_or_else(|e| panic!("{e}"));
        let mut watcher = Watcher::new(dir.path());
        assert!(watcher.changes().is_empty());
        std::fs::write(&file, "ab").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("node_modules/x.js"), "x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(watcher.changes(), vec![file.clone()]);
        std::fs::remove_file(&file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(watcher.changes(), vec![file]);
    }

    #[test]
    fn a_file_belongs_to_the_functions_in_its_directory_else_to_all() {
        let root = Path::new("/svc");
        let dirs = vec![
            (
                "node".to_string(),
                handler_dir(root, "examples/node/handler.hello"),
            ),
            (
                "py".to_string(),
                handler_dir(root, "examples/python/handler.report"),
            ),
        ];
        assert_eq!(
            affected(Path::new("/svc/examples/node/handler.mjs"), &dirs),
            ["node"]
        );
        assert_eq!(
            affected(Path::new("/svc/serverless.yml"), &dirs),
            ["node", "py"]
        );
    }
}
