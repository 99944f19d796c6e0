//! A running `updraft offline` binary for tests that drive it over HTTP: started on free ports,
//! its stderr collected, stopped with Ctrl-C when dropped.

use std::io::BufRead as _;
use std::io::BufReader;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `updraft offline`, stopped with SIGINT when dropped.
pub struct Offline {
    child: Child,
    pub http: String,
    pub lambda: String,
    /// Every stderr line so far (for failure messages and log checks).
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Offline {
    /// `updraft offline -c CONFIG EXTRA...` in `dir` on free ports, with `env` added to the
    /// clean environment; returns once `Server ready` is printed.
    pub fn start(dir: &Path, config: &str, extra: &[&str], env: &[(&str, &str)]) -> Offline {
        let mut command = super::common::clean_command(env!("CARGO_BIN_EXE_updraft"), dir);
        command.envs(env.iter().copied());
        command
            .args([
                "offline",
                "-c",
                config,
                "--httpPort",
                "0",
                "--lambdaPort",
                "0",
            ])
            .args(extra)
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

    fn next_line(&mut self, deadline: Instant) -> Option<String> {
        let wait = deadline.checked_duration_since(Instant::now())?;
        let line = self.lines.recv_timeout(wait).ok()?;
        self.seen.push(line.clone());
        Some(line)
    }

    /// Waits for a stderr line containing `text`.
    pub fn wait_for(&mut self, text: &str) -> bool {
        if self.seen.iter().any(|l| l.contains(text)) {
            return true;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(line) = self.next_line(deadline) {
            if line.contains(text) {
                return true;
            }
        }
        false
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.http)
    }

    /// Ctrl-C, then the exit code.
    fn interrupt(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
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
