//! A forwarding proxy between the tests and moto that mends one answer moto gets wrong, so the
//! product can be tested as it talks to AWS (the product itself is never told about moto):
//!
//! - `GetBucketNotificationConfiguration` on a bucket without notifications: moto answers
//!   `<GetBucketNotificationResponse/>`, which is not the document S3 sends (AWS answers an
//!   empty `<NotificationConfiguration/>`), and the SDK refuses it. The proxy sends S3's.
//!
//! Started once per test process; [`mended_moto_url`] points `UPDRAFT_TEST_MOTO_URL` at it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

static MENDED: OnceLock<Option<String>> = OnceLock::new();

const EMPTY_NOTIFICATIONS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
    <NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></NotificationConfiguration>";

/// Starts the proxy in front of the moto `UPDRAFT_TEST_MOTO_URL` names and points that variable
/// at the proxy (once, before any test reads it). Without the variable, does nothing.
pub fn mended_moto_url() {
    MENDED.get_or_init(|| {
        let upstream = std::env::var("UPDRAFT_TEST_MOTO_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port is free");
        let url = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("the port is known").port()
        );
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let upstream = upstream.clone();
                std::thread::spawn(move || serve(stream, &upstream));
            }
        });
        std::env::set_var("UPDRAFT_TEST_MOTO_URL", &url);
        Some(url)
    });
}

fn serve(mut client: TcpStream, upstream: &str) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(120)));
    let Some((head, body)) = read_request(&mut client) else {
        return;
    };
    let text = String::from_utf8_lossy(&head).into_owned();
    let request_line = text.split("\r\n").next().unwrap_or_default().to_string();
    let mut forwarded = Vec::new();
    forwarded.extend_from_slice(request_line.as_bytes());
    forwarded.extend_from_slice(b"\r\n");
    for line in text.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        let key = line.split(':').next().unwrap_or_default().trim();
        if !key.eq_ignore_ascii_case("connection") {
            forwarded.extend_from_slice(line.as_bytes());
            forwarded.extend_from_slice(b"\r\n");
        }
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
    let asks_notifications =
        request_line.starts_with("GET ") && request_line.contains("?notification");
    if asks_notifications
        && String::from_utf8_lossy(&answer).contains("<GetBucketNotificationResponse")
    {
        answer = replace_body(&answer, EMPTY_NOTIFICATIONS);
    }
    let _ = client.write_all(&answer);
}

/// The answer with another body (and its length).
fn replace_body(answer: &[u8], body: &str) -> Vec<u8> {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return answer.to_vec();
    };
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let mut out = Vec::new();
    for line in head.split("\r\n") {
        let key = line.split(':').next().unwrap_or_default().trim();
        if key.eq_ignore_ascii_case("content-length") {
            continue;
        }
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body.as_bytes());
    out
}

/// One request's head and body (by `Content-Length`, or chunked, kept as it came).
fn read_request(stream: &mut TcpStream) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut pending = Vec::new();
    let mut buffer = [0u8; 64 * 1024];
    let mut fill = |pending: &mut Vec<u8>, wanted: usize| -> Option<()> {
        while pending.len() < wanted {
            let n = stream.read(&mut buffer).ok().filter(|n| *n > 0)?;
            pending.extend_from_slice(&buffer[..n]);
        }
        Some(())
    };
    let header_end = loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let wanted = pending.len() + 1;
        fill(&mut pending, wanted)?;
    };
    let head: Vec<u8> = pending.drain(..header_end).collect();
    let text = String::from_utf8_lossy(&head).to_lowercase();
    let header = |name: &str| {
        text.split("\r\n").find_map(|line| {
            line.strip_prefix(&format!("{name}:"))
                .map(|v| v.trim().to_string())
        })
    };
    if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(end) = pending.windows(2).position(|w| w == b"\r\n") {
                    break end;
                }
                let wanted = pending.len() + 1;
                fill(&mut pending, wanted)?;
            };
            let size_text = String::from_utf8_lossy(&pending[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            if size == 0 {
                let end = loop {
                    if let Some(at) = pending[line_end..]
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                    {
                        break line_end + at + 4;
                    }
                    let wanted = pending.len() + 1;
                    fill(&mut pending, wanted)?;
                };
                body.extend(pending.drain(..end));
                return Some((head, body));
            }
            let total = line_end + 2 + size + 2;
            fill(&mut pending, total)?;
            body.extend(pending.drain(..total));
        }
    }
    let length = header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    fill(&mut pending, length)?;
    let body = pending.drain(..length).collect();
    Some((head, body))
}
