//! One execution environment: a native process in its own process group, its own Runtime API,
//! and the capture of everything it writes to stdout and stderr.
//!
//! stdout and stderr share one pipe, so lines keep the order the function wrote them in, as
//! CloudWatch shows them. The pipe is read by a background task, and read once more (without
//! waiting) under the same lock when an invocation ends, so that what the function printed
//! before posting its result is always in that invocation's log, with no sleep and no race.

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::process::{Child, Command};

use super::function::FunctionSpec;
use super::registry::Registry;
use super::runtime_api::RuntimeApi;
use super::runtimes::Launch;

/// A live instance; dropping it kills its process group and every process it started.
pub struct Instance {
    pub id: u64,
    pub pid: u32,
    pub child: Child,
    pub api: RuntimeApi,
    pub output: Arc<Output>,
    /// When it last finished an invocation (for stopping idle instances).
    pub last_used: Instant,
    /// Invocations it has taken: 0 means the next one is a cold start.
    pub invocations: u64,
    pub started: Instant,
    registry: Arc<Registry>,
    /// `/proc/{pid}/status`, kept open: it is read after invocations.
    status: Option<File>,
    /// The last reading of the process's peak memory, and when it was taken.
    memory: Option<(Instant, u64)>,
}

/// How long a reading of an instance's peak memory is reused. The kernel renders the whole
/// status file for each read, which costs about a tenth of what the emulator spends on a
/// request; a function called thousands of times a second gets a reading every 10 ms, one
/// called less often a fresh one after every invocation.
const MEMORY_READING_LIFETIME: std::time::Duration = std::time::Duration::from_millis(10);

/// The process's stdout and stderr, merged as CloudWatch shows them.
pub struct Output {
    buffer: Mutex<Vec<u8>>,
    pipe: Arc<AsyncFd<File>>,
}

impl Output {
    /// Everything written so far and not yet taken, including what is still in the pipe.
    pub fn take(&self) -> String {
        let Ok(mut buffer) = self.buffer.lock() else {
            return String::new();
        };
        read_available(self.pipe.get_ref(), &mut buffer);
        into_text(std::mem::take(&mut *buffer))
    }

    /// What the background reader has collected, without reading the pipe.
    pub fn take_collected(&self) -> String {
        let Ok(mut buffer) = self.buffer.lock() else {
            return String::new();
        };
        into_text(std::mem::take(&mut *buffer))
    }
}

/// The output as text, without a copy when it is valid UTF-8 (a log may be tens of MB).
fn into_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|invalid| String::from_utf8_lossy(invalid.as_bytes()).into_owned())
}

/// Reads what the pipe holds without blocking; returns false at end of file.
fn read_available(mut file: &File, buffer: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return false,
            Ok(count) => buffer.extend_from_slice(chunk.get(..count).unwrap_or_default()),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return true,
        }
    }
}

fn nonblocking(fd: OwnedFd) -> std::io::Result<File> {
    use std::os::fd::AsRawFd;
    let raw = fd.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with flags read from it.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(File::from(fd))
}

fn capture(pipe: OwnedFd) -> std::io::Result<Arc<Output>> {
    let file = nonblocking(pipe)?;
    // SAFETY: the `File` owns its descriptor and is owned by the `AsyncFd`, so the descriptor
    // stays open and the same for the `AsyncFd`'s whole life.
    let pipe = Arc::new(unsafe { AsyncFd::register_with_interest(file, Interest::READABLE) }?);
    let output = Arc::new(Output {
        buffer: Mutex::new(Vec::new()),
        pipe: Arc::clone(&pipe),
    });
    let weak = Arc::downgrade(&output);
    tokio::spawn(async move {
        loop {
            let Ok(mut ready) = pipe.readable().await else {
                return;
            };
            let Some(output) = weak.upgrade() else {
                return;
            };
            let Ok(mut buffer) = output.buffer.lock() else {
                return;
            };
            if !read_available(pipe.get_ref(), &mut buffer) {
                return;
            }
            ready.clear_ready();
        }
    });
    Ok(output)
}

impl Instance {
    /// Starts the Runtime API and the process; it is ready when it calls `next`.
    pub async fn start(
        id: u64,
        spec: &FunctionSpec,
        launch: &Launch,
        extra_env: &[(String, String)],
        registry: Arc<Registry>,
    ) -> std::io::Result<Instance> {
        let api = RuntimeApi::start(spec.arn()).await?;
        let (reader, writer) = std::io::pipe()?;
        let mut command = Command::new(&launch.program);
        command.args(&launch.args).current_dir(&spec.task_root);
        if !spec.inherit_environment {
            command.env_clear();
        }
        command
            .stdin(std::process::Stdio::null())
            .stdout(writer.try_clone()?)
            .stderr(writer)
            .process_group(0)
            .kill_on_drop(true);
        for (key, value) in environment(spec, &api) {
            command.env(key, value);
        }
        for (key, value) in launch.env.iter().chain(extra_env) {
            command.env(key, value);
        }
        // Inherited by whatever the handler starts, so that detached processes are found and
        // ended with the instance (see the registry).
        let (marker, value) = registry.marker(id);
        command.env(marker, value);
        let child = command.spawn()?;
        // The command holds our copies of the pipe's write end: without dropping it the pipe
        // would never report end of file.
        drop(command);
        let pid = child.id().unwrap_or_default();
        registry.add(id, pid);
        let output = match capture(OwnedFd::from(reader)) {
            Ok(output) => output,
            Err(error) => {
                registry.remove_and_kill(id);
                return Err(error);
            }
        };
        let status = File::open(format!("/proc/{pid}/status")).ok();
        Ok(Instance {
            id,
            pid,
            child,
            api,
            output,
            last_used: Instant::now(),
            invocations: 0,
            started: Instant::now(),
            registry,
            status,
            memory: None,
        })
    }

    /// The most memory the process has used, in MB (`VmHWM`), if the system says.
    pub fn max_memory_mb(&mut self) -> Option<u64> {
        if let Some((read_at, megabytes)) = self.memory {
            if read_at.elapsed() < MEMORY_READING_LIFETIME {
                return Some(megabytes);
            }
        }
        let megabytes = self.read_max_memory_mb()?;
        self.memory = Some((Instant::now(), megabytes));
        Some(megabytes)
    }

    fn read_max_memory_mb(&self) -> Option<u64> {
        use std::os::unix::fs::FileExt;
        // One positioned read of the open file: the whole of it fits in the buffer.
        let mut buffer = [0u8; 4096];
        let read = self.status.as_ref()?.read_at(&mut buffer, 0).ok()?;
        let status = std::str::from_utf8(buffer.get(..read)?).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
        let kilobytes: u64 = line
            .trim_start_matches("VmHWM:")
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kilobytes.div_ceil(1024))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.registry.remove_and_kill(self.id);
    }
}

/// The variables a runtime expects, then the function's own (which may not override the
/// Runtime API's address).
fn environment(spec: &FunctionSpec, api: &RuntimeApi) -> Vec<(String, String)> {
    // Lambda gives a function its role's credentials; offline it gets the caller's, so that
    // code calling AWS (or a local emulator through AWS_ENDPOINT_URL) works as it would.
    let passed = [
        "PATH",
        "HOME",
        "LANG",
        "TZ",
        "TMPDIR",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_ENDPOINT_URL",
    ]
    .into_iter()
    .filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?)));
    let day = chrono::Utc::now().format("%Y/%m/%d");
    let stream = format!("{day}/[$LATEST]{}", uuid::Uuid::new_v4().simple());
    let mut variables: Vec<(String, String)> = passed.collect();
    variables.extend(
        [
            ("LAMBDA_TASK_ROOT", spec.task_root.display().to_string()),
            ("LAMBDA_RUNTIME_DIR", spec.task_root.display().to_string()),
            ("_HANDLER", spec.handler.clone()),
            ("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", spec.runtime)),
            ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                spec.memory_size.to_string(),
            ),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", spec.name),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", stream),
            ("AWS_REGION", spec.region.clone()),
            ("AWS_DEFAULT_REGION", spec.region.clone()),
            ("IS_OFFLINE", "true".to_string()),
            (
                "UPDRAFT_CALLING_CONVENTION",
                spec.convention.name().to_string(),
            ),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value)),
    );
    // Built dependencies (a Python function's requirements) are found after the code, as on
    // Lambda where they sit beside it in the task root.
    if !spec.search_paths.is_empty() {
        let joined = std::env::join_paths(&spec.search_paths)
            .map(|paths| paths.to_string_lossy().into_owned())
            .unwrap_or_default();
        if spec.runtime.starts_with("python") {
            variables.push(("PYTHONPATH".into(), joined));
        } else if spec.runtime.starts_with("nodejs") {
            variables.push(("NODE_PATH".into(), joined));
        }
    }
    variables.extend(spec.environment.clone());
    variables.push(("AWS_LAMBDA_RUNTIME_API".into(), api.address.to_string()));
    variables
}
