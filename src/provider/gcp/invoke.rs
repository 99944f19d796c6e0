//! `updraft invoke` on Google Cloud: a function is called through its own URL, as its callers
//! call it. An HTTP function gets the payload as a JSON POST; an event function gets it as the
//! `data` of a CloudEvent in binary mode (`ce-*` headers), as Eventarc delivers one. A caller
//! outside Google needs an identity token whose audience is the URL; a function on the local
//! fake gets none.

use google_cloud_auth::credentials::idtoken;

use super::backend::GcpBackend;
use super::call::{self, Api};
use crate::provider::{InvocationType, InvokeRequest, InvokeResponse, ProviderError};

pub async fn invoke(
    backend: &GcpBackend,
    request: &InvokeRequest,
) -> Result<InvokeResponse, ProviderError> {
    if request.invocation_type != InvocationType::RequestResponse {
        return Err(ProviderError::Unsupported {
            what: "`--type Event` and `--type DryRun` on Google Cloud".into(),
            span: None,
            help: "a Cloud Function is called through its URL and answers at once: invoke it \
                   without `--type`"
                .into(),
        });
    }
    let id = super::function::id_of(&request.function);
    let name = format!("{}/functions/{id}", backend.parent());
    let function = backend
        .clients
        .functions
        .get_function()
        .set_name(&name)
        .send()
        .await
        .map_err(|e| call::failed(Api::Functions, "functions.get", &name, &e))?;
    let url = function
        .service_config
        .as_ref()
        .map(|config| config.uri.clone())
        .filter(|uri| !uri.is_empty())
        .ok_or_else(|| ProviderError::Call {
            operation: "invoke".into(),
            resource: name.clone(),
            message: "the function has no URL yet".into(),
            help: "wait for its deploy to finish (`updraft info` shows it), then invoke again"
                .into(),
        })?;
    let mut call = backend
        .clients
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body(request.payload.clone());
    if let Some(trigger) = &function.event_trigger {
        // Binary content mode: the event's attributes in headers, its data as the body.
        call = call
            .header("ce-specversion", "1.0")
            .header("ce-id", format!("updraft-invoke-{}", std::process::id()))
            .header("ce-type", &trigger.event_type)
            .header("ce-source", format!("//updraft/invoke/{id}"))
            .header(
                "ce-time",
                crate::provider::lock::rfc3339(std::time::SystemTime::now()),
            );
    }
    if !super::clients::is_loopback(&url) {
        call = call.bearer_auth(identity_token(&url).await?);
    }
    let response = call.send().await.map_err(|error| ProviderError::Call {
        operation: "invoke".into(),
        resource: url.clone(),
        message: error.to_string(),
        help: "check the network; `updraft info` shows the function's URL".into(),
    })?;
    let status = response.status().as_u16();
    let payload = response
        .bytes()
        .await
        .map(|bytes| bytes.to_vec())
        .unwrap_or_default();
    Ok(InvokeResponse::from_http(status, payload))
}

/// An identity token for `audience` from Application Default Credentials.
async fn identity_token(audience: &str) -> Result<String, ProviderError> {
    let failed = |message: String| ProviderError::Credentials {
        cloud: "Google Cloud".into(),
        message: format!("no identity token for {audience}: {message}"),
        help: "sign in with a service account (GOOGLE_APPLICATION_CREDENTIALS), whose tokens \
               can name a function's URL; the account needs `roles/run.invoker` on the function"
            .into(),
    };
    let credentials = idtoken::Builder::new(audience)
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let token = credentials
        .id_token()
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(token)
}
