//! A request as it arrives on an HTTP port, read into an [`HttpRequest`]: its head copied and
//! its body read within the size limit and the idle timeout. The API Gateway port and the
//! load balancer port read requests the same way, so both answer a broken or stalled upload
//! alike.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::http::request::Parts;

use super::response::HttpResponse;
use crate::offline::connection::{read_body, BodyError};
use crate::offline::events::HttpRequest;

/// Reads `body` into the request made of `parts`; a body that cannot be read gives the answer
/// to send instead (413, 400 or 408) and the request as far as it was read, for the log.
pub async fn read(
    parts: &Parts,
    body: Body,
    peer: SocketAddr,
    limit: usize,
    idle: Duration,
) -> Result<HttpRequest, (HttpRequest, HttpResponse)> {
    let mut request = HttpRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        raw_query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: Vec::new(),
        source_ip: peer.ip().to_string(),
    };
    let declared = parts
        .headers
        .get("content-length")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok());
    match read_body(declared, body, limit, idle).await {
        Ok(bytes) => {
            request.body = bytes;
            Ok(request)
        }
        Err(BodyError::TooLarge { .. }) => {
            Err((request, HttpResponse::message(413, "Request Too Long")))
        }
        Err(BodyError::Broken(_)) => Err((request, HttpResponse::message(400, "Bad Request"))),
        Err(BodyError::Stalled(_)) => Err((request, HttpResponse::message(408, "Request Timeout"))),
    }
}
