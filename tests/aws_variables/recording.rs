//! A local HTTP endpoint that records which requests a command sent, for tests that claim
//! something about AWS calls (made or not made).

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A local endpoint that records the head of every HTTP request sent to it and then hangs up,
/// so a test can say exactly which AWS requests a command made.
pub struct RecordingEndpoint {
    pub url: String,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RecordingEndpoint {
    pub fn start() -> RecordingEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port is free");
        listener
            .set_nonblocking(true)
            .expect("the listener can poll");
        let url = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("the port is known").port()
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let head = request_head(&mut stream);
                            requests
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push(head);
                            // Hang up only once the request is recorded: the client may end
                            // (and the test read the record) as soon as it sees the hang-up.
                            drop(stream);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        RecordingEndpoint {
            url,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// The requests so far, as "METHOD PATH TARGET" lines.
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for RecordingEndpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The request line plus the operation: the `X-Amz-Target` header for JSON APIs (SSM), the
/// `Action` form field for query APIs (STS, CloudFormation).
fn request_head(stream: &mut TcpStream) -> String {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let limit = 64 * 1024;
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    let mut read_more = |bytes: &mut Vec<u8>| match stream.read(&mut buffer) {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            bytes.extend_from_slice(&buffer[..n]);
            true
        }
    };
    let header_end = loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if bytes.len() > limit || !read_more(&mut bytes) {
            break bytes.len();
        }
    };
    let head = String::from_utf8_lossy(&bytes[..header_end]).into_owned();
    let header = |name: &str| {
        head.lines().skip(1).find_map(|line| {
            line.split_once(':')
                .filter(|(key, _)| key.trim().eq_ignore_ascii_case(name))
                .map(|(_, value)| value.trim().to_string())
        })
    };
    let body_length = header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(limit);
    while bytes.len() < header_end + body_length && read_more(&mut bytes) {}
    let body = String::from_utf8_lossy(&bytes[header_end.min(bytes.len())..]).into_owned();
    let action = body
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map(str::to_string);
    let operation = header("x-amz-target").or(action).unwrap_or_default();
    let request_line = head.lines().next().unwrap_or_default();
    format!("{request_line} {operation}").trim().to_string()
}
