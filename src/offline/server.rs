//! `updraft offline` as a library call: binds the HTTP port (API Gateway routes) and the lambda
//! port (the Invoke API and the emit endpoint), the WebSocket port when the service has
//! `websocket` events, starts the schedule timers, and stops them all.
//!
//! Nothing here prints: what happens is told to an [`Observer`], which the command line turns
//! into lines through its printer.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::alb::{self, rules::Rule, rules::RuleError, AlbState};
use super::connection::{self, Timeouts};
use super::emit::{self, EmitState, Sources};
use super::events::{scheduled, Meta};
use super::http::auth::{Auth, AuthOptions};
use super::http::resource_routes::ResourceRouteError;
use super::http::routes::{RouteOptions, RouteTable};
use super::http::validation::SchemaError;
use super::http::{self, HttpState, RequestLog};
use super::invoke::{Completed, Invocation, InvokeError, Invoker};
use super::invoke_api::{self, FunctionNames, InvokeApiState};
use super::pollers;
use super::schedule::{Schedule, ScheduleError};
use super::websocket::{self, WebSocketLog, WebSocketOptions, WebSocketPort};
use crate::manifest::model::{Service, Trigger};

/// What the emulator tells as it runs.
pub trait Observer: Send + Sync {
    /// An HTTP request was answered.
    fn request(&self, _log: &RequestLog) {}
    /// A function finished an invocation (its log, as CloudWatch would show it).
    fn invocation(&self, _function: &str, _completed: &Completed) {}
    /// A schedule fired.
    fn scheduled(&self, _function: &str, _expression: &str) {}
    /// An invocation could not be attempted.
    fn refused(&self, _function: &str, _error: &InvokeError) {}
    /// An authorizer or API key check refused a request, or an authorizer misbehaved: why,
    /// for the log (the client only sees API Gateway's terse answer).
    fn authorization(&self, _note: &str) {}

    // Queues and streams (`sqs` and `stream` events read on an endpoint).
    /// A poller reads its queue or stream.
    fn polling(&self, _polling: &pollers::Polling) {}
    /// A poller delivered a batch.
    fn delivered(&self, _delivery: &pollers::Delivery) {}
    /// A poller cannot read its source, or skipped a batch; it keeps going.
    fn poller_warning(&self, _warning: &pollers::PollerWarning) {}
    /// A WebSocket route ran (or a message found no route).
    fn websocket(&self, _log: &WebSocketLog) {}
}

/// An observer that tells nobody (tests).
pub struct Silent;
impl Observer for Silent {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineOptions {
    pub host: IpAddr,
    /// 0 picks a free port.
    pub http_port: u16,
    pub lambda_port: u16,
    /// The port of `alb` events (opened only when the service has some).
    pub alb_port: u16,
    pub routes: RouteOptions,
    /// How long a client may take to send a request.
    pub timeouts: Timeouts,
    /// `--noAuth`, `--ignoreJWTSignature`.
    pub auth: AuthOptions,
    /// `--httpsProtocol`: serve the HTTP routes over TLS with this directory's `cert.pem` and
    /// `key.pem`.
    pub https: Option<std::path::PathBuf>,
    pub websocket: WebSocketOptions,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum OfflineError {
    #[error("cannot listen on {address} for {purpose}: {source}")]
    #[diagnostic(help(
        "another program (or another `updraft offline`) uses that port: stop it, or choose \
         another with --httpPort / --lambdaPort / --websocketPort"
    ))]
    Bind {
        address: SocketAddr,
        purpose: &'static str,
        source: std::io::Error,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Tls(#[from] super::http::tls::TlsError),
}

/// One line of the route listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteLine {
    pub method: String,
    pub path: String,
    pub function: String,
    /// `REST`, `HTTP API`, `HTTP API (payload 1.0)` or `HTTP proxy` (`--resourceRoutes`).
    pub api: &'static str,
}

/// A running emulator.
pub struct Emulator {
    pub routes: Vec<RouteLine>,
    pub http_address: SocketAddr,
    pub lambda_address: SocketAddr,
    /// Schedules that cannot fire offline, with why.
    pub schedule_errors: Vec<(String, ScheduleError)>,
    /// The load balancer port and its rules, when the service has `alb` events.
    pub alb: Option<(SocketAddr, Vec<Rule>)>,
    /// `alb` events that cannot be served, with why.
    pub alb_errors: Vec<RuleError>,
    /// The keys `private: true` routes accept (none without such routes).
    pub api_keys: Vec<String>,
    /// Request schemas that cannot validate, by function.
    pub schema_errors: Vec<(String, SchemaError)>,
    /// `--resourceRoutes` methods that cannot be served.
    pub resource_errors: Vec<ResourceRouteError>,
    /// Whether the HTTP routes are served over TLS.
    https: bool,
    /// The WebSocket API, when the service has `websocket` events.
    pub websocket: Option<WebSocketPort>,
    stop: CancellationToken,
    tasks: JoinSet<()>,
}

pub(crate) async fn bind(
    host: IpAddr,
    port: u16,
    purpose: &'static str,
) -> Result<TcpListener, OfflineError> {
    let address = SocketAddr::new(host, port);
    TcpListener::bind(address)
        .await
        .map_err(|source| OfflineError::Bind {
            address,
            purpose,
            source,
        })
}

/// Binds both ports and starts serving; requests are accepted when this returns.
pub async fn start(
    service: &Service,
    options: &OfflineOptions,
    invoker: Arc<dyn Invoker>,
    observer: Arc<dyn Observer>,
) -> Result<Emulator, OfflineError> {
    let tls = match &options.https {
        Some(directory) => Some(http::tls::acceptor(directory)?),
        None => None,
    };
    let http_listener = bind(options.host, options.http_port, "HTTP routes").await?;
    let lambda_listener = bind(options.host, options.lambda_port, "the Lambda Invoke API").await?;
    let http_address = http_listener
        .local_addr()
        .map_err(|source| OfflineError::Bind {
            address: SocketAddr::new(options.host, options.http_port),
            purpose: "HTTP routes",
            source,
        })?;
    let lambda_address = lambda_listener
        .local_addr()
        .map_err(|source| OfflineError::Bind {
            address: SocketAddr::new(options.host, options.lambda_port),
            purpose: "the Lambda Invoke API",
            source,
        })?;
    let region = service.provider.region.clone();
    let table = RouteTable::from_service(service, &options.routes);
    let schema_errors = table.schema_errors.clone();
    let resource_errors = table.resource_errors.clone();
    let routes = table
        .routes
        .iter()
        .map(|route| RouteLine {
            method: route.method.clone(),
            path: route.url_path(),
            function: route.function.clone(),
            api: match route.version {
                _ if route.proxy.is_some() => "HTTP proxy",
                super::events::PayloadVersion::Rest => "REST",
                super::events::PayloadVersion::HttpApiV1 => "HTTP API (payload 1.0)",
                super::events::PayloadVersion::V2 => "HTTP API",
            },
        })
        .collect();
    let functions = FunctionNames {
        names: service
            .functions
            .iter()
            .map(|(key, f)| (key.clone(), f.name.clone()))
            .collect(),
        region: region.clone(),
    };
    let stop = CancellationToken::new();
    let mut tasks = JoinSet::new();

    let auth = Auth::new(service, &table, options.auth);
    let api_keys = auth.api_keys().to_vec();
    let http_router = http::router(Arc::new(HttpState {
        auth,
        table,
        invoker: Arc::clone(&invoker),
        region: region.clone(),
        observer: Arc::clone(&observer),
        body_idle: options.timeouts.body_idle,
    }));
    let lambda_router = invoke_api::router(Arc::new(InvokeApiState {
        functions: functions.clone(),
        invoker: Arc::clone(&invoker),
        observer: Arc::clone(&observer),
        body_idle: options.timeouts.body_idle,
    }))
    .merge(emit::router(Arc::new(EmitState {
        functions,
        sources: service
            .functions
            .iter()
            .map(|(key, f)| {
                (
                    key.clone(),
                    Sources::of(&service.name, &service.provider.stage, &region, f),
                )
            })
            .collect(),
        invoker: Arc::clone(&invoker),
        observer: Arc::clone(&observer),
        region: region.clone(),
        body_idle: options.timeouts.body_idle,
    })));
    match tls {
        Some(acceptor) => tasks.spawn(connection::serve_tls(
            http_listener,
            http_router,
            options.timeouts,
            stop.clone(),
            acceptor,
        )),
        None => tasks.spawn(connection::serve(
            http_listener,
            http_router,
            options.timeouts,
            stop.clone(),
        )),
    };
    tasks.spawn(connection::serve(
        lambda_listener,
        lambda_router,
        options.timeouts,
        stop.clone(),
    ));

    let (alb_rules, alb_errors) = alb::rules::from_service(service);
    let alb = if alb_rules.is_empty() {
        None
    } else {
        let listener = bind(options.host, options.alb_port, "alb events").await?;
        let address = listener.local_addr().map_err(|source| OfflineError::Bind {
            address: SocketAddr::new(options.host, options.alb_port),
            purpose: "alb events",
            source,
        })?;
        let router = alb::router(Arc::new(AlbState {
            rules: alb_rules.clone(),
            invoker: Arc::clone(&invoker),
            observer: Arc::clone(&observer),
            body_idle: options.timeouts.body_idle,
        }));
        tasks.spawn(connection::serve(
            listener,
            router,
            options.timeouts,
            stop.clone(),
        ));
        Some((address, alb_rules))
    };

    let websocket = websocket::start(
        service,
        &options.host,
        &options.websocket,
        options.timeouts,
        websocket::Shared {
            invoker: Arc::clone(&invoker),
            observer: Arc::clone(&observer),
            stop: &stop,
            tasks: &mut tasks,
        },
    )
    .await?;

    let mut schedule_errors = Vec::new();
    for (key, function) in &service.functions {
        let mut count = 0;
        for event in &function.events {
            let Trigger::Schedule {
                expression,
                input,
                enabled,
            } = &event.trigger
            else {
                continue;
            };
            count += 1;
            if !enabled {
                continue;
            }
            let schedule = match Schedule::parse(expression) {
                Ok(schedule) => schedule,
                Err(error) => {
                    schedule_errors.push((key.clone(), error));
                    continue;
                }
            };
            let rule = scheduled::rule_arn(
                &region,
                &crate::manifest::naming::rule_name(
                    &service.name,
                    &service.provider.stage,
                    key,
                    count,
                ),
            );
            tasks.spawn(run_schedule(ScheduleTask {
                function: key.clone(),
                expression: expression.clone(),
                schedule,
                rule,
                input: input.clone(),
                region: region.clone(),
                invoker: Arc::clone(&invoker),
                observer: Arc::clone(&observer),
                stop: stop.clone(),
            }));
        }
    }

    Ok(Emulator {
        routes,
        http_address,
        lambda_address,
        schedule_errors,
        alb,
        alb_errors,
        api_keys,
        schema_errors,
        resource_errors,
        https: options.https.is_some(),
        websocket,
        stop,
        tasks,
    })
}

struct ScheduleTask {
    function: String,
    expression: String,
    schedule: Schedule,
    rule: String,
    input: Option<serde_json::Value>,
    region: String,
    invoker: Arc<dyn Invoker>,
    observer: Arc<dyn Observer>,
    stop: CancellationToken,
}

async fn run_schedule(task: ScheduleTask) {
    let start = chrono::Utc::now();
    loop {
        let now = chrono::Utc::now();
        let Some(next) = task.schedule.next_after(start, now) else {
            return;
        };
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::select! {
            _ = task.stop.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        task.observer.scheduled(&task.function, &task.expression);
        let event = scheduled::scheduled(&task.rule, task.input.as_ref(), &Meta::now(&task.region));
        let invocation = Invocation {
            payload: event.to_string().into_bytes(),
            ..Invocation::default()
        };
        // EventBridge invokes asynchronously: a slow function does not delay the next firing.
        let invoker = Arc::clone(&task.invoker);
        let observer = Arc::clone(&task.observer);
        let function = task.function.clone();
        tokio::spawn(async move {
            match invoker.invoke(&function, invocation).await {
                Ok(completed) => observer.invocation(&function, &completed),
                Err(error) => observer.refused(&function, &error),
            }
        });
    }
}

// Queues and streams: `sqs` and `stream` events polled on an AWS-compatible endpoint.
impl Emulator {
    /// Starts a poller for every enabled `sqs` and `stream` event, reading `endpoint`; they end
    /// when the emulator stops. Gives the events that name nothing updraft can find.
    pub fn poll(
        &mut self,
        service: &Service,
        endpoint: &pollers::Endpoint,
        invoker: Arc<dyn Invoker>,
        observer: Arc<dyn Observer>,
    ) -> Vec<pollers::PollerWarning> {
        let (targets, unresolvable) = pollers::sources(service);
        pollers::spawn(
            &mut self.tasks,
            targets,
            endpoint,
            &service.provider.region,
            invoker,
            observer,
            self.stop.clone(),
        );
        unresolvable
    }
}

impl Emulator {
    pub fn http_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.http_address)
    }

    pub fn lambda_url(&self) -> String {
        format!("http://{}", self.lambda_address)
    }

    /// Closes every WebSocket connection and waits for their `$disconnect` (before the
    /// functions' processes are ended, so those can still run).
    pub async fn close_websockets(&self) {
        if let Some(websocket) = &self.websocket {
            websocket.close_all().await;
        }
    }

    /// Stops accepting, lets requests in flight finish, and ends the timers.
    pub async fn stop(mut self) {
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}
