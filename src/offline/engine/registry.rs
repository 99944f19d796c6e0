//! Every live instance's process group, so that shutdown (and dropping the engine) can kill
//! them all, including those busy with an invocation, and leave no process behind.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Registry {
    /// Instance id to the process group id (the process's pid: each is its group's leader).
    groups: Mutex<HashMap<u64, u32>>,
}

impl Registry {
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
            kill_group(pid);
        }
    }

    /// Kills every registered group; the instances' owners reap the processes.
    pub fn kill_all(&self) {
        let pids: Vec<u32> = match self.groups.lock() {
            Ok(mut groups) => groups.drain().map(|(_, pid)| pid).collect(),
            Err(_) => return,
        };
        for pid in pids {
            kill_group(pid);
        }
    }

    pub fn len(&self) -> usize {
        self.groups.lock().map(|groups| groups.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn kill_group(pid: u32) {
    let Ok(pid) = i32::try_from(pid) else {
        return;
    };
    if pid <= 1 {
        return;
    }
    // SAFETY: a plain signal to the process group this engine created for the instance.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}
