//! A running `updraft offline` binary for the end-to-end tests: started on free ports, its
//! stderr read line by line (the routes, `Server ready`, request logs), stopped with SIGINT.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `updraft offline`, stopped with SIGINT when dropped.
pub struct Offline {
    pub child: Child,
    pub http: String,
    pub lambda: String,
    /// Every stderr line so far (for failure messages and log checks).
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Offline {
    pub fn start(dir: &Path, config: &str) -> Offline {
        Offline::start_with(dir, config, &[])
    }

    pub fn start_with(dir: &Path, config: &str, extra: &[&str]) -> Offline {
        Offline::launch(dir, &["offline"], config, extra, &[])
    }

    /// `updraft {command} -c config` on free ports, with `extra` flags and `env` added to the
    /// clean environment; returns once it is ready.
    pub fn launch(
        dir: &Path,
        command_words: &[&str],
        config: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Offline {
        let mut command = crate::common::clean_command(env!("CARGO_BIN_EXE_updraft"), dir);
        command
            .args(command_words)
            .args(["-c", config, "--httpPort", "0", "--lambdaPort", "0"])
            .args(extra)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("updraft starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut offline = Offline {
            child,
            http: String::new(),
            lambda: String::new(),
            lines,
            seen: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while offline.http.is_empty() {
            let line = offline.next_line(deadline).unwrap_or_else(|| {
                panic!(
                    "no `Server ready` line; stderr:\n{}",
                    offline.seen.join("\n")
                )
            });
            if let Some(url) = line.strip_prefix("Lambda Invoke API: ") {
                offline.lambda = url.trim().to_string();
            }
            if let Some(url) = line.strip_prefix("Server ready: ") {
                offline.http = url.trim().to_string();
            }
        }
        offline
    }

    pub fn next_line(&mut self, deadline: Instant) -> Option<String> {
        let wait = deadline.checked_duration_since(Instant::now())?;
        let line = self.lines.recv_timeout(wait).ok()?;
        self.seen.push(line.clone());
        Some(line)
    }

    /// Waits (up to 20 s) for a stderr line containing `text`.
    pub fn wait_for(&mut self, text: &str) -> bool {
        self.wait_for_within(text, Duration::from_secs(20))
    }

    /// Waits up to `limit` for a stderr line containing `text`.
    pub fn wait_for_within(&mut self, text: &str, limit: Duration) -> bool {
        if self.seen.iter().any(|l| l.contains(text)) {
            return true;
        }
        let deadline = Instant::now() + limit;
        while let Some(line) = self.next_line(deadline) {
            if line.contains(text) {
                return true;
            }
        }
        false
    }

    /// Takes in the stderr lines printed so far without waiting.
    pub fn take_pending(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.http)
    }

    /// `GET path`, its JSON body.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        crate::common::json_body(crate::common::call(ureq::get(&self.url(path)), None))
    }

    /// Process ids whose parent is the emulator: its function instances.
    pub fn children(&self) -> Vec<u32> {
        let parent = self.child.id();
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // `pid (name) state ppid ...`: the name may hold spaces, so read after the `)`.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.split_whitespace().collect())
                .unwrap_or_default();
            if fields.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(parent) {
                found.push(pid);
            }
        }
        found
    }

    /// Ctrl-C, then the exit code. Stopping waits for in-flight work (a poller's receive, the
    /// WebSocket clients' `$disconnect`), which a loaded CI machine makes slow: a minute.
    pub fn interrupt(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        None
    }
}

impl Drop for Offline {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.interrupt();
        }
    }
}

/// Alive and not a zombie.
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().to_string())
        })
        .is_some_and(|rest| !rest.starts_with('Z'))
}
