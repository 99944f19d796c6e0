//! Recorded AWS answers served over HTTP on the loopback interface, for what moto never answers:
//! a Lambda `Invoke` whose function failed (`X-Amz-Function-Error: Unhandled`) with the log tail
//! (`X-Amz-Log-Result`). STS answers `GetCallerIdentity` as AWS does; every request is kept so a
//! test can check what updraft sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The answer to a Lambda `Invoke`.
#[derive(Debug, Clone, Default)]
pub struct InvokeAnswer {
    /// Answer as Lambda does for a function that does not exist (the fields below are unused).
    pub not_found: bool,
    pub function_error: Option<String>,
    /// The log tail, before base64.
    pub log: Option<String>,
    pub payload: Vec<u8>,
}

pub struct Recorded {
    pub url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Recorded {
    /// Serves `answer` to every Invoke, for the life of the test process.
    pub fn start(answer: InvokeAnswer) -> Recorded {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port is free");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the port is known")
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = Arc::clone(&kept);
                let answer = answer.clone();
                std::thread::spawn(move || serve(stream, &answer, &kept));
            }
        });
        Recorded { url, requests }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn serve(stream: TcpStream, answer: &InvokeAnswer, kept: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("the socket clones"));
    let mut writer = stream;
    // Keep-alive: answer requests on this connection until the client closes it.
    while let Some(request) = read_request(&mut reader) {
        let response = if request.path.starts_with("/2015-03-31/functions/") {
            invoke_response(answer)
        } else {
            caller_identity_response()
        };
        kept.lock().unwrap_or_else(|p| p.into_inner()).push(request);
        if writer.write_all(&response).is_err() {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|n| *n > 0)?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn invoke_response(answer: &InvokeAnswer) -> Vec<u8> {
    if answer.not_found {
        let body = r#"{"Type":"User","message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:invoke-test-dev-echo"}"#;
        return format!(
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\
             X-Amzn-Errortype: ResourceNotFoundException\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
    }
    let mut head = String::from(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Amz-Executed-Version: $LATEST\r\n\
         X-Amzn-Requestid: 5a7a4f1e-0000-4000-8000-000000000001\r\n",
    );
    if let Some(kind) = &answer.function_error {
        head.push_str(&format!("X-Amz-Function-Error: {kind}\r\n"));
    }
    if let Some(log) = &answer.log {
        head.push_str(&format!(
            "X-Amz-Log-Result: {}\r\n",
            aws_smithy_types::base64::encode(log.as_bytes())
        ));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", answer.payload.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&answer.payload);
    bytes
}

fn caller_identity_response() -> Vec<u8> {
    let body = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/ci</Arn>
    <UserId>AIDAEXAMPLE</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
"#;
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
