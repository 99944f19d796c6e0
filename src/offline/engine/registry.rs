//! Every live instance's processes, so that stopping an instance, shutdown and dropping the
//! engine kill them all, including those busy with an invocation, and leave no process behind.
//!
//! Each instance runs in its own process group, but a handler can leave its group: Node's
//! `spawn(..., {detached: true})` and Python's `start_new_session=True` call `setsid`, and a
//! daemon forks twice so that its parent is no longer the handler. So an instance is ended by
//! three nets: its process group, every process descended from it (found through the parent
//! links in `/proc`), and every process that still carries the instance's marker variable
//! (inherited by default across `fork` and `exec`, which a double-forked daemon keeps). A
//! process that both clears its environment and re-parents itself is the one that can escape;
//! `docs/offline.md` says so.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// The variable every instance's process gets, and its children inherit.
pub const MARKER_VARIABLE: &str = "_UPDRAFT_INSTANCE";

#[derive(Debug)]
pub struct Registry {
    /// Instance id to the process group id (the process's pid: each is its group's leader).
    groups: Mutex<HashMap<u64, u32>>,
    /// Unique to this registry, so that two engines (or two updraft processes) never end each
    /// other's processes.
    nonce: String,
}

impl Default for Registry {
    fn default() -> Registry {
        Registry {
            groups: Mutex::default(),
            nonce: uuid::Uuid::new_v4().simple().to_string(),
        }
    }
}

impl Registry {
    /// The marker variable for one instance's processes.
    pub fn marker(&self, instance: u64) -> (String, String) {
        (
            MARKER_VARIABLE.to_string(),
            format!("{}-{instance}", self.nonce),
        )
    }

    pub fn add(&self, instance: u64, pid: u32) {
        if let Ok(mut groups) = self.groups.lock() {
            groups.insert(instance, pid);
        }
    }

    pub fn remove_and_kill(&self, instance: u64) {
        let pid = self
            .groups
            .lock()
            .ok()
            .and_then(|mut groups| groups.remove(&instance));
        if let Some(pid) = pid {
            let (_, value) = self.marker(instance);
            end_processes(&[pid], &Marker::Exact(format!("{MARKER_VARIABLE}={value}")));
        }
    }

    /// Kills every registered instance's processes; the instances' owners reap their own.
    pub fn kill_all(&self) {
        let pids: Vec<u32> = match self.groups.lock() {
            Ok(mut groups) => groups.drain().map(|(_, pid)| pid).collect(),
            Err(_) => return,
        };
        end_processes(
            &pids,
            &Marker::Prefix(format!("{MARKER_VARIABLE}={}-", self.nonce)),
        );
    }

    pub fn len(&self) -> usize {
        self.groups.lock().map(|groups| groups.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

enum Marker {
    Exact(String),
    Prefix(String),
}

impl Marker {
    fn matches(&self, variable: &[u8]) -> bool {
        match self {
            Marker::Exact(exact) => variable == exact.as_bytes(),
            Marker::Prefix(prefix) => variable.starts_with(prefix.as_bytes()),
        }
    }
}

/// Kills the process groups led by `leaders`, their descendants and the processes carrying the
/// marker. Repeated (a few rounds at most) because a process may fork while the first round
/// runs; a round that finds nothing new ends it.
fn end_processes(leaders: &[u32], marker: &Marker) {
    let own = std::process::id();
    // The tree is read before the leaders die: once they do, their children are re-parented
    // and only the marker still ties them to the instance.
    let mut found = stragglers(leaders, marker, own);
    for &leader in leaders {
        kill(-signed(leader));
    }
    for _ in 0..4 {
        if found.is_empty() {
            return;
        }
        for pid in found {
            kill(signed(pid));
        }
        found = stragglers(leaders, marker, own)
            .into_iter()
            .filter(|pid| !leaders.contains(pid))
            .collect();
    }
}

fn signed(pid: u32) -> i32 {
    i32::try_from(pid).unwrap_or(0)
}

/// Sends SIGKILL; never to pid 0, 1 or -1 (the caller's group, init, everything).
fn kill(target: i32) {
    if matches!(target, -1..=1) {
        return;
    }
    // SAFETY: a plain signal to a process (group) this engine started or one that descends
    // from it or carries its marker.
    unsafe {
        libc::kill(target, libc::SIGKILL);
    }
}

/// Live processes (not zombies) that descend from a leader or carry the marker; never this
/// process.
fn stragglers(leaders: &[u32], marker: &Marker, own: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut parents: HashMap<u32, u32> = HashMap::new();
    let mut found: HashSet<u32> = HashSet::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse().ok())
        else {
            continue;
        };
        if pid == own {
            continue;
        }
        let Some((state, parent)) = state_and_parent(pid) else {
            continue;
        };
        if state == 'Z' || state == 'X' {
            continue;
        }
        parents.insert(pid, parent);
        // Another user's process cannot be read, and is not ours to end anyway.
        if let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) {
            if environ.split(|byte| *byte == 0).any(|v| marker.matches(v)) {
                found.insert(pid);
            }
        }
    }
    let mut roots: HashSet<u32> = leaders.iter().copied().collect();
    roots.extend(found.iter().copied());
    // Descendants of the leaders (and of marked processes): follow parent links upwards.
    for (&pid, _) in parents.iter() {
        let mut current = pid;
        for _ in 0..64 {
            if roots.contains(&current) {
                found.insert(pid);
                break;
            }
            match parents.get(&current) {
                Some(&parent) if parent > 1 && parent != own => current = parent,
                _ => break,
            }
        }
    }
    found.remove(&own);
    found.into_iter().filter(|&pid| pid > 1).collect()
}

/// The state letter and parent pid from `/proc/{pid}/stat`. The command name in parentheses may
/// hold spaces and parentheses itself, so the fields are read after the last `)`.
fn state_and_parent(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    Some((state, parent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stat_line_is_read_after_the_last_parenthesis() {
        let own = std::process::id();
        let (state, parent) = state_and_parent(own).expect("this process has a stat line");
        assert!(matches!(state, 'R' | 'S'), "{state}");
        // SAFETY: getppid has no preconditions.
        let expected = unsafe { libc::getppid() };
        assert_eq!(parent as i32, expected);
    }

    #[test]
    fn a_marker_matches_only_its_own_instance() {
        let exact = Marker::Exact("_UPDRAFT_INSTANCE=abc-1".into());
        assert!(exact.matches(b"_UPDRAFT_INSTANCE=abc-1"));
        assert!(!exact.matches(b"_UPDRAFT_INSTANCE=abc-11"));
        let prefix = Marker::Prefix("_UPDRAFT_INSTANCE=abc-".into());
        assert!(prefix.matches(b"_UPDRAFT_INSTANCE=abc-11"));
        assert!(!prefix.matches(b"_UPDRAFT_INSTANCE=abd-1"));
    }
}
