//! A small forwarding proxy in front of moto that records every request (method, path, and the
//! operation: the `X-Amz-Target` header of JSON APIs, the `Action` of query APIs), for tests
//! that claim something about which AWS calls a deploy makes.
//!
//! Each request is forwarded on a fresh connection with `Connection: close`, and the answer is
//! relayed whole, so no HTTP parsing of answers is needed.
//!
//! Answers are relayed as moto gives them: where moto's answer differs from AWS's (an empty
//! `<GetBucketNotificationResponse/>` for a bucket without notifications), updraft itself must
//! cope, as it must with other S3-compatible servers.
//!
//! The API Gateway v2 calls moto does not implement (authorizer and route response listings,
//! deployments, a stage's deployment) are answered here, from what went through the proxy: see
//! [`gateway_v2`].

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[path = "gateway_v2.rs"]
mod gateway_v2;

use gateway_v2::{Gateway, Request};

/// One request as the proxy saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    /// Without the query string.
    pub path: String,
    /// `X-Amz-Target` or the `Action` parameter, when there is one.
    pub operation: Option<String>,
}

impl Recorded {
    /// Reads, not writes: GET and HEAD, plus the POSTs of query and JSON APIs whose operation
    /// name says it reads, plus the read-only POSTs of REST APIs (none are used).
    pub fn is_read(&self) -> bool {
        if matches!(self.method.as_str(), "GET" | "HEAD") {
            return true;
        }
        let operation = self.operation.as_deref().unwrap_or_default();
        let name = operation.rsplit('.').next().unwrap_or(operation);
        ["Get", "List", "Describe"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
    }

    /// `METHOD path operation`, for messages.
    pub fn line(&self) -> String {
        format!(
            "{} {} {}",
            self.method,
            self.path,
            self.operation.as_deref().unwrap_or("")
        )
        .trim_end()
        .to_string()
    }
}

pub struct Proxy {
    pub url: String,
    log: Arc<Mutex<Vec<Recorded>>>,
}

impl Proxy {
    /// Starts a proxy forwarding to `upstream` (`http://127.0.0.1:PORT`), for the life of the
    /// test process.
    pub fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port is free");
        let url = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("the port is known").port()
        );
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&log);
        let gateway: Arc<Gateway> = Arc::default();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = Arc::clone(&shared);
                let upstream = upstream.clone();
                let gateway = Arc::clone(&gateway);
                std::thread::spawn(move || serve(stream, &upstream, &log, &gateway));
            }
        });
        Proxy { url, log }
    }

    pub fn clear(&self) {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Serves one request of a client connection, then closes it (the answer says so).
fn serve(mut client: TcpStream, upstream: &str, log: &Mutex<Vec<Recorded>>, gateway: &Gateway) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(120)));
    let mut pending = Vec::new();
    {
        let Some((head, body)) = read_request(&mut client, &mut pending) else {
            return;
        };
        let text = String::from_utf8_lossy(&head).into_owned();
        let mut lines = text.split("\r\n");
        let request_line = lines.next().unwrap_or_default().to_string();
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let header = |name: &str| {
            text.split("\r\n").skip(1).find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_string())
            })
        };
        let form = String::from_utf8_lossy(&body).into_owned();
        let action = query
            .split('&')
            .chain(form.split('&'))
            .find_map(|pair| pair.strip_prefix("Action="))
            .map(str::to_string);
        log.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Recorded {
                method: method.clone(),
                path: path.to_string(),
                operation: header("x-amz-target").or(action),
            });
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let request = Request {
            method: &method,
            parts: &parts,
            head: &text,
            body: &body,
        };
        if let Some(answer) = gateway.answer(&request, upstream) {
            let _ = client.write_all(&answer);
            return;
        }
        // Forward with `Connection: close`, so the answer ends where the connection does.
        let mut forwarded = Vec::new();
        forwarded.extend_from_slice(request_line.as_bytes());
        forwarded.extend_from_slice(b"\r\n");
        for line in text.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
            let key = line.split(':').next().unwrap_or_default().trim();
            if key.eq_ignore_ascii_case("connection") {
                continue;
            }
            forwarded.extend_from_slice(line.as_bytes());
            forwarded.extend_from_slice(b"\r\n");
        }
        forwarded.extend_from_slice(b"Connection: close\r\n\r\n");
        forwarded.extend_from_slice(&body);
        let Ok(mut server) = TcpStream::connect(upstream) else {
            return;
        };
        if server.write_all(&forwarded).is_err() {
            return;
        }
        let mut answer = Vec::new();
        let _ = server.read_to_end(&mut answer);
        let answer = gateway.after(&request, answer);
        // Tell the client this connection ends too: the answer may have no length of its own.
        let answer = with_connection_close(&answer);
        let _ = client.write_all(&answer);
    }
}

/// The answer with its `Connection` header replaced by `close`.
fn with_connection_close(answer: &[u8]) -> Vec<u8> {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return answer.to_vec();
    };
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let mut out = Vec::new();
    for line in head.split("\r\n") {
        let key = line.split(':').next().unwrap_or_default().trim();
        if key.eq_ignore_ascii_case("connection") {
            continue;
        }
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(&answer[end + 4..]);
    out
}

/// Reads one request's head and body (by `Content-Length`, or chunked).
fn read_request(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut buffer = [0u8; 64 * 1024];
    let header_end = loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut buffer).ok().filter(|n| *n > 0)?;
        pending.extend_from_slice(&buffer[..n]);
    };
    let head: Vec<u8> = pending.drain(..header_end).collect();
    let text = String::from_utf8_lossy(&head).to_lowercase();
    let header = |name: &str| {
        text.split("\r\n").find_map(|line| {
            line.strip_prefix(&format!("{name}:"))
                .map(|v| v.trim().to_string())
        })
    };
    let mut fill = |pending: &mut Vec<u8>, wanted: usize| -> Option<()> {
        while pending.len() < wanted {
            let n = stream.read(&mut buffer).ok().filter(|n| *n > 0)?;
            pending.extend_from_slice(&buffer[..n]);
        }
        Some(())
    };
    if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        // Keep the chunked framing as it is: the upstream reads it the same way.
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(end) = pending.windows(2).position(|w| w == b"\r\n") {
                    break end;
                }
                fill(pending, pending.len() + 1)?;
            };
            let size_text = String::from_utf8_lossy(&pending[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            if size == 0 {
                // The last chunk, then trailers (if any) up to an empty line.
                let end = loop {
                    if let Some(at) = pending[line_end..]
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                    {
                        break line_end + at + 4;
                    }
                    fill(pending, pending.len() + 1)?;
                };
                body.extend(pending.drain(..end));
                return Some((head, body));
            }
            let total = line_end + 2 + size + 2;
            fill(pending, total)?;
            body.extend(pending.drain(..total));
        }
    }
    let length = header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    fill(pending, length)?;
    let body = pending.drain(..length).collect();
    Some((head, body))
}
