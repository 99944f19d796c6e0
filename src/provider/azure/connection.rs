//! Where updraft's Azure calls go and who signs them: the endpoints (moved by environment
//! variables, so tests and the in-repo fake can stand in for Azure), the subscription, and the
//! credential chain.
//!
//! Credentials are tried in the order the Azure tools use: a service principal from
//! `AZURE_CLIENT_ID`, `AZURE_TENANT_ID` and `AZURE_CLIENT_SECRET`; the Azure CLI's signed-in
//! account; a managed identity. When every endpoint is on loopback no token is asked for at all:
//! a token is never handed to a local process, and trying the fake needs no account.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_identity::{AzureCliCredential, ClientSecretCredential, ManagedIdentityCredential};
use serde_json::Value as Json;

use crate::manifest::model::Service;
use crate::provider::ProviderError;

/// Where each API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Resource Manager: `UPDRAFT_AZURE_ENDPOINT`, else `https://management.azure.com`.
    pub management: String,
    /// The apps' deployment endpoint (Kudu): `UPDRAFT_AZURE_SCM_ENDPOINT` + `/{app}`, else
    /// `https://{app}.scm.azurewebsites.net`.
    pub scm: Option<String>,
    /// The apps' own host: `UPDRAFT_AZURE_FUNCTIONS_ENDPOINT` + `/{app}`, else the host name
    /// Azure reports for the app.
    pub functions: Option<String>,
    /// Application Insights' query API: `UPDRAFT_AZURE_INSIGHTS_ENDPOINT`, else
    /// `https://api.applicationinsights.io`.
    pub insights: Option<String>,
}

impl Endpoints {
    pub fn from_environment() -> Self {
        let variable = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|value| value.trim().trim_end_matches('/').to_string())
                .filter(|value| !value.is_empty())
        };
        Endpoints {
            management: variable("UPDRAFT_AZURE_ENDPOINT")
                .unwrap_or_else(|| "https://management.azure.com".into()),
            scm: variable("UPDRAFT_AZURE_SCM_ENDPOINT"),
            functions: variable("UPDRAFT_AZURE_FUNCTIONS_ENDPOINT"),
            insights: variable("UPDRAFT_AZURE_INSIGHTS_ENDPOINT"),
        }
    }

    /// Everything on this machine: no credentials are needed or sent.
    pub fn all_loopback(&self) -> bool {
        is_loopback(&self.management)
            && self.scm.as_deref().is_none_or(is_loopback)
            && self.functions.as_deref().is_none_or(is_loopback)
            && self.insights.as_deref().is_none_or(is_loopback)
    }

    /// The base URL of Application Insights' query API.
    pub fn insights_base(&self) -> &str {
        self.insights
            .as_deref()
            .unwrap_or("https://api.applicationinsights.io")
    }

    /// The deployment endpoint of app `name`.
    pub fn scm_of(&self, name: &str) -> String {
        match &self.scm {
            Some(base) => format!("{base}/{name}"),
            None => format!("https://{name}.scm.azurewebsites.net"),
        }
    }

    /// The base URL app `name` answers on; `host` is the default host name Azure reports.
    pub fn functions_of(&self, name: &str, host: Option<&str>) -> String {
        match (&self.functions, host) {
            (Some(base), _) => format!("{base}/{name}"),
            (None, Some(host)) => format!("https://{host}"),
            (None, None) => format!("https://{name}.azurewebsites.net"),
        }
    }
}

/// `http://127.0.0.1:…`, `http://localhost:…`, `http://[::1]:…`.
pub fn is_loopback(url: &str) -> bool {
    let Ok(url) = azure_core::http::Url::parse(url) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The subscription: `provider.subscriptionId`, else `AZURE_SUBSCRIPTION_ID`.
pub fn subscription(service: &Service) -> Result<String, ProviderError> {
    service
        .provider
        .raw
        .get("subscriptionId")
        .and_then(Json::as_str)
        .map(str::to_string)
        .or_else(|| {
            std::env::var("AZURE_SUBSCRIPTION_ID")
                .ok()
                .filter(|s| !s.trim().is_empty())
        })
        .ok_or_else(|| ProviderError::Invalid {
            message: "the Azure subscription is not set".into(),
            span: None,
            help: "set `provider.subscriptionId` (or the AZURE_SUBSCRIPTION_ID variable) to the \
                   subscription id; `az account show --query id` prints the current one"
                .into(),
        })
}

/// The credential for `endpoints`: none on loopback, else the chain.
pub fn credential(
    endpoints: &Endpoints,
) -> Result<Option<Arc<dyn TokenCredential>>, ProviderError> {
    if endpoints.all_loopback() {
        return Ok(None);
    }
    let variable = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut links: Vec<(&'static str, Arc<dyn TokenCredential>)> = Vec::new();
    if let (Some(client), Some(tenant), Some(secret)) = (
        variable("AZURE_CLIENT_ID"),
        variable("AZURE_TENANT_ID"),
        variable("AZURE_CLIENT_SECRET"),
    ) {
        let credential = ClientSecretCredential::new(&tenant, client, secret.into(), None)
            .map_err(|error| refused(format!("the service principal in AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET: {error}")))?;
        links.push(("the service principal of AZURE_CLIENT_ID", credential));
    }
    if on_path("az") {
        if let Ok(credential) = AzureCliCredential::new(None) {
            links.push(("the Azure CLI", credential));
        }
    }
    if let Ok(credential) = ManagedIdentityCredential::new(None) {
        links.push(("a managed identity", credential));
    }
    Ok(Some(Arc::new(Chain { links })))
}

fn refused(message: String) -> ProviderError {
    ProviderError::Credentials {
        cloud: "Azure".into(),
        message,
        help: HELP.into(),
    }
}

const HELP: &str = "set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET for a service \
                    principal, or run `az login`, or run where a managed identity is assigned";

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// The first credential that gives a token; each is asked only until one answers.
#[derive(Debug)]
struct Chain {
    links: Vec<(&'static str, Arc<dyn TokenCredential>)>,
}

/// A managed identity endpoint that does not exist (a laptop) may not answer at all.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);

#[async_trait]
impl TokenCredential for Chain {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let mut tried = Vec::new();
        for (name, credential) in &self.links {
            let attempt =
                tokio::time::timeout(TOKEN_TIMEOUT, credential.get_token(scopes, options.clone()))
                    .await;
            match attempt {
                Ok(Ok(token)) => return Ok(token),
                Ok(Err(error)) => tried.push(format!("{name}: {error}")),
                Err(_) => tried.push(format!(
                    "{name}: no answer in {} s",
                    TOKEN_TIMEOUT.as_secs()
                )),
            }
        }
        let message = if tried.is_empty() {
            "no credentials found".to_string()
        } else {
            format!("no credential gave a token ({})", tried.join("; "))
        };
        Err(azure_core::Error::with_message(
            azure_core::error::ErrorKind::Credential,
            format!("{message}. To fix: {HELP}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_endpoints_need_no_credentials() {
        let endpoints = Endpoints {
            management: "http://127.0.0.1:4000".into(),
            scm: Some("http://localhost:4000/scm".into()),
            functions: None,
            insights: None,
        };
        assert!(endpoints.all_loopback());
        assert!(matches!(credential(&endpoints), Ok(None)));
        let azure = Endpoints {
            management: "https://management.azure.com".into(),
            ..endpoints
        };
        assert!(!azure.all_loopback());
    }

    #[test]
    fn moved_endpoints_put_the_app_name_in_the_path() {
        let endpoints = Endpoints {
            management: "http://127.0.0.1:4000".into(),
            scm: Some("http://127.0.0.1:4000/scm".into()),
            functions: Some("http://127.0.0.1:4000/sites".into()),
            insights: None,
        };
        assert_eq!(endpoints.scm_of("app"), "http://127.0.0.1:4000/scm/app");
        assert_eq!(
            endpoints.functions_of("app", Some("app.azurewebsites.net")),
            "http://127.0.0.1:4000/sites/app"
        );
        let azure = Endpoints {
            management: "https://management.azure.com".into(),
            scm: None,
            functions: None,
            insights: None,
        };
        assert_eq!(azure.scm_of("app"), "https://app.scm.azurewebsites.net");
        assert_eq!(
            azure.functions_of("app", Some("app-x.westus2-01.azurewebsites.net")),
            "https://app-x.westus2-01.azurewebsites.net"
        );
    }
}
