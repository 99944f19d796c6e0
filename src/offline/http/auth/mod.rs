//! Authorization before a route's function runs: Lambda authorizers (REST `TOKEN`/`REQUEST`,
//! HTTP API `request`), JWT authorizers (HTTP API), and API keys on `private` REST routes,
//! answered with API Gateway's status codes and bodies, all turned off by `--noAuth`.
//!
//! [`config`] reads which authorizer guards a route, [`lambda`] and [`jwt`] run them,
//! [`policy`] evaluates IAM policies, [`cache`] keeps Lambda authorizers' answers,
//! [`api_keys`] checks `x-api-key`. [`Auth::check`] is the one call the HTTP handler makes.

pub mod api_keys;
pub mod cache;
pub mod config;
pub mod jwt;
pub mod lambda;
pub mod policy;

use serde_json::json;

use super::response::HttpResponse;
use super::routes::{Route, RouteTable};
use crate::manifest::model::Service;
use crate::offline::events::apigw::Authorization;
use crate::offline::events::{HttpRequest, PayloadVersion, RouteMatch};
use crate::offline::invoke::Invoker;
use crate::offline::server::Observer;
use api_keys::ApiKeys;
use cache::AnswerCache;
use config::RouteAuthorizer;

/// `--noAuth` and `--ignoreJWTSignature`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthOptions {
    /// Every authorizer and API key check off.
    pub no_auth: bool,
    /// JWT signatures not verified (claims still are).
    pub ignore_jwt_signature: bool,
}

/// The authorization state shared by every request.
pub struct Auth {
    options: AuthOptions,
    answers: AnswerCache,
    keys: jwt::KeyStore,
    api_keys: Option<ApiKeys>,
}

/// One request being checked, with what the checks need.
pub struct Check<'a> {
    pub auth: &'a Auth,
    pub request: &'a HttpRequest,
    pub matched: &'a RouteMatch,
    pub region: &'a str,
    pub invoker: &'a dyn Invoker,
    pub observer: &'a dyn Observer,
}

impl Check<'_> {
    /// Why a request was refused, for the emulator's log (never the token itself).
    fn note(&self, text: &str) {
        self.observer.authorization(text);
    }
}

/// Why a request does not reach its function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials, or credentials the authorizer rejected: 401.
    Unauthorized,
    /// An HTTP API authorizer said no, a JWT lacks the route's scopes, or an API key is
    /// missing or wrong: 403.
    Forbidden,
    /// A REST authorizer's policy denies the resource explicitly: 403.
    ExplicitDeny,
    /// A REST authorizer's policy does not allow the resource: 403.
    ImplicitDeny,
    /// The authorizer failed or answered something API Gateway cannot use: 500.
    AuthorizerFailed,
}

impl Refusal {
    /// API Gateway's answer: a REST API's gateway responses name the error type; an HTTP
    /// API's are bare.
    pub fn response(self, rest: bool) -> HttpResponse {
        let (status, message, error_type) = match self {
            Refusal::Unauthorized => (401, Some("Unauthorized"), "UnauthorizedException"),
            Refusal::Forbidden => (403, Some("Forbidden"), "ForbiddenException"),
            Refusal::ExplicitDeny | Refusal::ImplicitDeny if !rest => {
                (403, Some("Forbidden"), "AccessDeniedException")
            }
            Refusal::ExplicitDeny => (
                403,
                Some("User is not authorized to access this resource with an explicit deny"),
                "AccessDeniedException",
            ),
            Refusal::ImplicitDeny => (
                403,
                Some("User is not authorized to access this resource"),
                "AccessDeniedException",
            ),
            Refusal::AuthorizerFailed if rest => (500, None, "AuthorizerConfigurationException"),
            Refusal::AuthorizerFailed => (
                500,
                Some("Internal Server Error"),
                "AuthorizerConfigurationException",
            ),
        };
        let mut response = HttpResponse::message(status, message.unwrap_or_default());
        if message.is_none() {
            response.body = json!({ "message": null }).to_string().into_bytes();
        }
        if rest {
            response
                .headers
                .push(("x-amzn-errortype".into(), error_type.into()));
        }
        response
    }
}

/// What the checks let through, for the function's event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Authorized {
    pub authorization: Option<Authorization>,
    /// The `x-api-key` of a `private` route.
    pub api_key: Option<String>,
}

impl Authorized {
    /// The Framework's default request template (`integration: lambda`) has the authorizer's
    /// `principalId` and its context as `enhancedAuthContext`.
    pub fn fill_template_event(&self, event: &mut serde_json::Value) {
        let Some(Authorization::Lambda {
            principal_id,
            context,
        }) = &self.authorization
        else {
            return;
        };
        if let Some(fields) = event.as_object_mut() {
            fields.insert(
                "principalId".into(),
                json!(principal_id.clone().unwrap_or_default()),
            );
            fields.insert("enhancedAuthContext".into(), json!(context));
        }
    }
}

impl Auth {
    pub fn new(service: &Service, table: &RouteTable, options: AuthOptions) -> Auth {
        let has_private = table.routes.iter().any(|route| route.private);
        Auth {
            options,
            answers: AnswerCache::default(),
            keys: jwt::KeyStore::default(),
            api_keys: has_private.then(|| ApiKeys::from_service(service)),
        }
    }

    /// The keys `private` routes accept, to tell the user (none without private routes).
    pub fn api_keys(&self) -> &[String] {
        self.api_keys.as_ref().map(ApiKeys::values).unwrap_or(&[])
    }

    /// Runs the route's authorizer and API key check: what to put in the event, or the
    /// response that answers the request instead.
    pub async fn check(
        &self,
        route: &Route,
        request: &HttpRequest,
        matched: &RouteMatch,
        region: &str,
        invoker: &dyn Invoker,
        observer: &dyn Observer,
    ) -> Result<Authorized, HttpResponse> {
        if self.options.no_auth {
            return Ok(Authorized::default());
        }
        let rest = route.version == PayloadVersion::Rest;
        let check = Check {
            auth: self,
            request,
            matched,
            region,
            invoker,
            observer,
        };
        let authorization = match &route.authorizer {
            None => None,
            Some(RouteAuthorizer::Lambda(authorizer)) => Some(
                lambda::authorize(authorizer, &check)
                    .await
                    .map_err(|refusal| refusal.response(rest))?,
            ),
            Some(RouteAuthorizer::Jwt(authorizer)) => Some(
                jwt::authorize(authorizer, &check)
                    .await
                    .map_err(|refusal| refusal.response(rest))?,
            ),
        };
        let api_key = match (&self.api_keys, route.private) {
            (Some(keys), true) => Some(
                keys.check(request)
                    .map_err(|refusal| refusal.response(rest))?,
            ),
            _ => None,
        };
        Ok(Authorized {
            authorization,
            api_key,
        })
    }
}
