//! The function of the aws-rust template: answers GET / through the HTTP API.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn hello(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let variable = |name: &str| std::env::var(name).unwrap_or_default();
    let path = event
        .payload
        .get("rawPath")
        .and_then(Value::as_str)
        .unwrap_or("/");
    let body = json!({
        "message": format!("hello from {} ({})", variable("SERVICE_NAME"), variable("STAGE")),
        "path": path,
    });
    Ok(json!({
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": body.to_string(),
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(hello)).await
}
