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
//! One call moto does not implement is answered here: the HTTP API's `GetAuthorizers`
//! (`GET /v2/apis/{id}/authorizers`). The proxy remembers the authorizers created through it
//! and answers with moto's own `GetAuthorizer` of each, as API Gateway lists them.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// The HTTP API authorizer ids created through the proxy, by API id.
type Authorizers = Arc<Mutex<HashMap<String, Vec<String>>>>;

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
        let authorizers: Authorizers = Arc::default();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = Arc::clone(&shared);
                let upstream = upstream.clone();
                let authorizers = Arc::clone(&authorizers);
                std::thread::spawn(move || serve(stream, &upstream, &log, &authorizers));
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
fn serve(
    mut client: TcpStream,
    upstream: &str,
    log: &Mutex<Vec<Recorded>>,
    authorizers: &Authorizers,
) {
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
        let authorizer_path: Vec<&str> = path.trim_matches('/').split('/').collect();
        let api_id = match authorizer_path.as_slice() {
            ["v2", "apis", api_id, "authorizers", ..] => Some(api_id.to_string()),
            _ => None,
        };
        if let (Some(api_id), "GET", 4) = (&api_id, method.as_str(), authorizer_path.len()) {
            let answer = list_authorizers(upstream, &text, api_id, authorizers);
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
        if let Some(api_id) = api_id {
            remember_authorizer(&method, &authorizer_path, &api_id, &answer, authorizers);
        }
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

/// Notes an HTTP API authorizer created or deleted through the proxy.
fn remember_authorizer(
    method: &str,
    path: &[&str],
    api_id: &str,
    answer: &[u8],
    authorizers: &Authorizers,
) {
    let mut known = authorizers.lock().unwrap_or_else(|p| p.into_inner());
    let ids = known.entry(api_id.to_string()).or_default();
    match (method, path) {
        ("POST", [_, _, _, _]) => {
            let body = answer_body(answer);
            let created: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            if let Some(id) = created["authorizerId"].as_str() {
                ids.push(id.to_string());
            }
        }
        ("DELETE", [_, _, _, _, authorizer_id]) => ids.retain(|id| id != authorizer_id),
        _ => {}
    }
}

/// `GetAuthorizers` as API Gateway answers it, from moto's `GetAuthorizer` of each known one.
fn list_authorizers(
    upstream: &str,
    head: &str,
    api_id: &str,
    authorizers: &Authorizers,
) -> Vec<u8> {
    let ids = authorizers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(api_id)
        .cloned()
        .unwrap_or_default();
    // The original headers go along: moto finds the service by the signature's scope.
    let headers: String = head
        .split("\r\n")
        .skip(1)
        .filter(|line| !line.is_empty())
        .filter(|line| {
            let key = line.split(':').next().unwrap_or_default().trim();
            !key.eq_ignore_ascii_case("connection") && !key.eq_ignore_ascii_case("content-length")
        })
        .map(|line| format!("{line}\r\n"))
        .collect();
    let mut items = Vec::new();
    for id in ids {
        let request = format!(
            "GET /v2/apis/{api_id}/authorizers/{id} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"
        );
        let Ok(mut server) = TcpStream::connect(upstream) else {
            continue;
        };
        if server.write_all(request.as_bytes()).is_err() {
            continue;
        }
        let mut answer = Vec::new();
        let _ = server.read_to_end(&mut answer);
        if let Ok(item) = serde_json::from_slice::<serde_json::Value>(answer_body(&answer)) {
            if item.get("authorizerId").is_some() {
                items.push(item);
            }
        }
    }
    let body = serde_json::json!({ "items": items }).to_string();
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The body of an answer moto gave with a `Content-Length`.
fn answer_body(answer: &[u8]) -> &[u8] {
    answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|end| &answer[end + 4..])
        .unwrap_or_default()
}
