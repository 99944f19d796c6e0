//! `updraft offline`: runs the service on this machine (API Gateway routes, the Lambda Invoke
//! API, schedules) until Ctrl-C, and `updraft offline emit`, which delivers queue, topic,
//! storage, bus and schedule events to a running emulator.
//!
//! `updraft offline start` is the same as `updraft offline`, as serverless-offline's users type
//! it.
//!
//! Ctrl-C (or SIGTERM) is how a server is meant to stop: it stops every function instance,
//! leaves no process behind and exits 0.

use std::collections::HashMap;
use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::cloud;
use super::error::{Failure, Status};
use super::output::offline::{self as show, OfflineLog};
use super::output::Printer;
use super::GlobalArgs;
use crate::manifest::model::Service;
use crate::offline::connection::Timeouts;
use crate::offline::engine::{built_functions, Engine, EngineOptions, FunctionSpec};
use crate::offline::http::auth::AuthOptions;
use crate::offline::http::cors::{comma_list, CorsDefaults};
use crate::offline::http::routes::RouteOptions;
use crate::offline::invoke::Invoker;
use crate::offline::reload::{self, Reloading, Watcher};
use crate::offline::server::{self, OfflineOptions};
use crate::offline::settings::{self, ManifestOptions};
use crate::offline::websocket::connections::ConnectionLimits;
use crate::offline::websocket::WebSocketOptions;
use crate::package::build::BuildError;

/// Run the service locally: its routes, schedules, queues and the Lambda Invoke API
///
/// `updraft offline start` is the same.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct OfflineArgs {
    #[command(subcommand)]
    pub command: Option<OfflineCommand>,
    /// Port of the HTTP routes (`http` and `httpApi` events) [default: 3000]
    #[arg(long = "httpPort", value_name = "PORT")]
    pub http_port: Option<u16>,
    /// Port of the Lambda Invoke API and of `offline emit` [default: 3002]
    #[arg(long = "lambdaPort", value_name = "PORT")]
    pub lambda_port: Option<u16>,
    /// Port of the `alb` events (opened only when the service has some) [default: 3003]
    #[arg(long = "albPort", value_name = "PORT")]
    pub alb_port: Option<u16>,
    /// Port of the WebSocket API (`websocket` events) and its `@connections` API
    /// [default: 3001]
    #[arg(long = "websocketPort", value_name = "PORT")]
    pub websocket_port: Option<u16>,
    /// Seconds a WebSocket connection may stay open (API Gateway: 2 hours) [default: 7200]
    #[arg(long = "webSocketHardTimeout", value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub websocket_hard_timeout: Option<u64>,
    /// Seconds a WebSocket connection may stay silent (API Gateway: 10 minutes) [default: 600]
    #[arg(long = "webSocketIdleTimeout", value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub websocket_idle_timeout: Option<u64>,
    /// Address to listen on (anything but loopback exposes the functions to the network)
    /// [default: 127.0.0.1]
    #[arg(long, value_name = "ADDRESS")]
    pub host: Option<IpAddr>,
    /// Serve REST API (`http`) routes without the `/{stage}` prefix
    #[arg(long = "noPrependStageInUrl")]
    pub no_prepend_stage_in_url: bool,
    /// A path prefix for every route, e.g. `api`
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Restart a function's instances when a file under the service directory changes
    /// (bundled and compiled functions are rebuilt first)
    #[arg(long)]
    pub reload: bool,
    /// Instances of one function at most, for functions without `reservedConcurrency`; more
    /// concurrent calls wait for a free instance. Past one instance per core, a call waits
    /// for a warm instance as long as a start would take before it starts one
    #[arg(
        long = "maxConcurrency",
        value_name = "N",
        default_value_t = crate::offline::engine::DEFAULT_MAX_CONCURRENCY as u16,
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub max_concurrency: u16,
    /// Turn off every authorizer and API key check (routes run as if they had none)
    #[arg(long = "noAuth")]
    pub no_auth: bool,
    /// Accept JWTs without verifying their signature (their claims are still checked), for
    /// tokens made up in tests or issuers that cannot be reached
    #[arg(long = "ignoreJWTSignature")]
    pub ignore_jwt_signature: bool,
    /// A variable for every function, over its configured environment (repeatable)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE", value_parser = super::parse_param)]
    pub env: Vec<(String, String)>,
    /// Give functions this process's environment under their own variables
    #[arg(long = "localEnvironment")]
    pub local_environment: bool,
    /// Let functions run as long as they take (no `timeout`)
    #[arg(long = "noTimeout")]
    pub no_timeout: bool,
    /// Stop a function's instance after this many idle seconds [default: 300]
    #[arg(
        long = "terminateIdleLambdaTime",
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub terminate_idle_lambda_time: Option<u64>,
    /// Serve the HTTP routes over HTTPS with DIR/cert.pem and DIR/key.pem
    #[arg(long = "httpsProtocol", value_name = "DIR")]
    pub https_protocol: Option<PathBuf>,
    /// CORS for REST routes without `cors:`: allowed origins, comma-separated (`*` for any)
    /// [default with any --cors* flag: *]
    #[arg(long = "corsAllowOrigin", value_name = "ORIGINS")]
    pub cors_allow_origin: Option<String>,
    /// CORS for REST routes without `cors:`: allowed request headers, comma-separated
    /// [default with any --cors* flag: accept,content-type,x-api-key,authorization]
    #[arg(long = "corsAllowHeaders", value_name = "HEADERS")]
    pub cors_allow_headers: Option<String>,
    /// CORS for REST routes without `cors:`: response headers exposed to the page,
    /// comma-separated [default with any --cors* flag: WWW-Authenticate,Server-Authorization]
    #[arg(long = "corsExposedHeaders", value_name = "HEADERS")]
    pub cors_exposed_headers: Option<String>,
    /// CORS for REST routes without `cors:`: no `Access-Control-Allow-Credentials: true`
    #[arg(long = "corsDisallowCredentials")]
    pub cors_disallow_credentials: bool,
    /// Serve the `HTTP_PROXY` methods under `resources:` by forwarding to their `Uri`
    #[arg(long = "resourceRoutes")]
    pub resource_routes: bool,
    /// An AWS-compatible endpoint (moto, ElasticMQ, LocalStack) whose queues and streams feed the
    /// `sqs` and `stream` events [default: AWS_ENDPOINT_URL]
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

impl OfflineArgs {
    /// Fills in what the command line leaves unset from `custom.serverless-offline`: a value
    /// given on the command line wins, as with serverless-offline. A switch can only be turned
    /// on from either place. A relative `httpsProtocol` is read from the service directory.
    fn with_manifest(mut self, manifest: ManifestOptions, service_dir: &Path) -> OfflineArgs {
        fn fill<T>(flag: &mut Option<T>, manifest: Option<T>) {
            if flag.is_none() {
                *flag = manifest;
            }
        }
        fn switch(flag: &mut bool, manifest: Option<bool>) {
            *flag |= manifest.unwrap_or(false);
        }
        fill(&mut self.host, manifest.host);
        fill(&mut self.http_port, manifest.http_port);
        fill(&mut self.lambda_port, manifest.lambda_port);
        fill(&mut self.alb_port, manifest.alb_port);
        fill(&mut self.websocket_port, manifest.websocket_port);
        fill(
            &mut self.websocket_hard_timeout,
            manifest.web_socket_hard_timeout,
        );
        fill(
            &mut self.websocket_idle_timeout,
            manifest.web_socket_idle_timeout,
        );
        fill(&mut self.prefix, manifest.prefix);
        fill(
            &mut self.terminate_idle_lambda_time,
            manifest.terminate_idle_lambda_time,
        );
        fill(
            &mut self.https_protocol,
            manifest.https_protocol.map(|dir| service_dir.join(dir)),
        );
        fill(&mut self.cors_allow_origin, manifest.cors_allow_origin);
        fill(&mut self.cors_allow_headers, manifest.cors_allow_headers);
        fill(
            &mut self.cors_exposed_headers,
            manifest.cors_exposed_headers,
        );
        switch(
            &mut self.no_prepend_stage_in_url,
            manifest.no_prepend_stage_in_url,
        );
        switch(&mut self.no_auth, manifest.no_auth);
        switch(
            &mut self.ignore_jwt_signature,
            manifest.ignore_jwt_signature,
        );
        switch(&mut self.no_timeout, manifest.no_timeout);
        switch(&mut self.local_environment, manifest.local_environment);
        switch(
            &mut self.cors_disallow_credentials,
            manifest.cors_disallow_credentials,
        );
        switch(&mut self.resource_routes, manifest.resource_routes);
        switch(&mut self.reload, manifest.reload);
        self
    }

    /// The CORS the `--cors*` flags give REST routes without their own; none without a flag.
    fn cors_defaults(&self) -> Option<CorsDefaults> {
        let given = self.cors_allow_origin.is_some()
            || self.cors_allow_headers.is_some()
            || self.cors_exposed_headers.is_some()
            || self.cors_disallow_credentials;
        if !given {
            return None;
        }
        let mut defaults = CorsDefaults::default();
        if let Some(origins) = &self.cors_allow_origin {
            defaults.origins = comma_list(origins);
        }
        if let Some(headers) = &self.cors_allow_headers {
            defaults.headers = comma_list(headers);
        }
        if let Some(headers) = &self.cors_exposed_headers {
            defaults.expose = comma_list(headers);
        }
        defaults.credentials = !self.cors_disallow_credentials;
        Some(defaults)
    }
}

/// `updraft offline start ...` as `updraft offline ...`: serverless-offline's users type
/// `serverless offline start`. Only a `start` right after `offline` is dropped.
pub fn without_start_alias(mut args: Vec<OsString>) -> Vec<OsString> {
    let alias = args
        .windows(2)
        .position(|pair| pair[0] == "offline" && pair[1] == "start");
    if let Some(index) = alias {
        args.remove(index + 1);
    }
    args
}

#[derive(Debug, Subcommand)]
pub enum OfflineCommand {
    Emit(EmitArgs),
}

/// Deliver an event to a function of a running `updraft offline`
#[derive(Debug, Args)]
pub struct EmitArgs {
    /// The function (its key under `functions:`, or its deployed name)
    #[arg(short = 'f', long, value_name = "NAME")]
    pub function: String,
    /// The kind of event
    #[arg(long, value_parser = crate::offline::emit::KINDS.to_vec())]
    pub event: String,
    /// An item: a message body (sqs, sns), an object key or {"key","bucket","size"} (s3),
    /// {"source","detail-type","detail"} (eventbridge). Repeat for more (one SQS batch)
    #[arg(long, value_name = "DATA")]
    pub data: Vec<String>,
    /// The emulator's lambda port
    #[arg(long = "lambdaPort", default_value_t = 3002, value_name = "PORT")]
    pub lambda_port: u16,
    /// The emulator's address
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDRESS")]
    pub host: IpAddr,
}

/// serverless-offline's ports.
const DEFAULT_HTTP_PORT: u16 = 3000;
const DEFAULT_WEBSOCKET_PORT: u16 = 3001;
const DEFAULT_LAMBDA_PORT: u16 = 3002;
const DEFAULT_ALB_PORT: u16 = 3003;

/// `--noTimeout`: long enough never to end a local run, short enough for deadline arithmetic.
const NO_TIMEOUT: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Listening beyond loopback lets anyone on the network run the service's functions.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("listening on {host}: anyone who can reach this machine can call the functions")]
#[diagnostic(help("leave out --host to listen on 127.0.0.1 only"))]
struct ExposedHost {
    host: IpAddr,
}

pub fn exec(
    global: &GlobalArgs,
    args: OfflineArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
    if let Some(OfflineCommand::Emit(emit)) = args.command {
        return exec_emit(emit, printer, runtime);
    }
    let context = cloud::load(global, printer, runtime)?;
    let (manifest, option_warnings) = settings::read(context.service.custom.as_ref());
    for warning in &option_warnings {
        printer.warning(warning);
    }
    let args = args.with_manifest(manifest, &context.loaded.service_dir);
    let host = args.host.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if !host.is_loopback() {
        printer.warning(&ExposedHost { host });
    }
    let options = OfflineOptions {
        host,
        http_port: args.http_port.unwrap_or(DEFAULT_HTTP_PORT),
        lambda_port: args.lambda_port.unwrap_or(DEFAULT_LAMBDA_PORT),
        alb_port: args.alb_port.unwrap_or(DEFAULT_ALB_PORT),
        routes: RouteOptions {
            prefix: args.prefix.clone(),
            no_prepend_stage: args.no_prepend_stage_in_url,
            default_cors: args.cors_defaults(),
            resource_routes: args.resource_routes,
        },
        timeouts: Timeouts::default(),
        auth: AuthOptions {
            no_auth: args.no_auth,
            ignore_jwt_signature: args.ignore_jwt_signature,
        },
        https: args.https_protocol.clone(),
        websocket: WebSocketOptions {
            port: args.websocket_port.unwrap_or(DEFAULT_WEBSOCKET_PORT),
            limits: ConnectionLimits {
                hard: args
                    .websocket_hard_timeout
                    .map_or(ConnectionLimits::default().hard, Duration::from_secs),
                idle: args
                    .websocket_idle_timeout
                    .map_or(ConnectionLimits::default().idle, Duration::from_secs),
            },
            no_auth: args.no_auth,
        },
    };
    let local = built_functions(&context.service, &context.loaded.service_dir, &[], None)
        .map_err(Failure::user)?;
    for warning in &local.build_warnings {
        printer.warning(warning);
    }
    let (mut specs, warnings) = (local.specs, local.stand_ins);
    for spec in &mut specs {
        if args.no_timeout {
            spec.timeout = NO_TIMEOUT;
        }
        spec.inherit_environment = args.local_environment;
    }
    let overridden = |variable: &str| args.env.iter().any(|(name, _)| name == variable);
    for warning in warnings.iter().filter(|w| !overridden(&w.variable)) {
        printer.warning(warning);
    }
    let observer = Arc::new(OfflineLog {
        printer: printer.clone(),
    });
    let poller_observer: Arc<dyn server::Observer> = observer.clone();
    // The engine spawns its tasks on the runtime it is made in.
    let _guard = runtime.enter();
    let engine_options = EngineOptions {
        max_concurrency: usize::from(args.max_concurrency),
        extra_env: args.env.clone(),
        idle_timeout: args.terminate_idle_lambda_time.map_or(
            crate::offline::engine::DEFAULT_IDLE_TIMEOUT,
            Duration::from_secs,
        ),
        ..EngineOptions::default()
    };
    let engines = Engines::new(specs, engine_options, args.reload);
    let watch = args.reload.then(|| {
        watch(
            &engines,
            &context.service,
            &context.loaded.service_dir,
            printer,
        )
    });
    let emulator = runtime
        .block_on(server::start(
            &context.service,
            &options,
            engines.invoker(),
            observer,
        ))
        .map_err(Failure::user)?;
    for (_, error) in &emulator.schedule_errors {
        printer.warning(error);
    }
    for error in &emulator.alb_errors {
        printer.warning(error);
    }
    for (_, error) in &emulator.schema_errors {
        printer.warning(error);
    }
    for error in &emulator.resource_errors {
        printer.warning(error);
    }
    let mut emulator = emulator;
    start_pollers(
        &mut emulator,
        &context.service,
        args.endpoint.as_deref(),
        engines.invoker(),
        poller_observer,
        printer,
        runtime,
    );
    show::routes(printer, &emulator.http_url(), &emulator.routes);
    if let Some((address, rules)) = &emulator.alb {
        show::alb_rules(printer, &format!("http://{address}"), rules);
    }
    show::api_keys(printer, &emulator.api_keys, args.no_auth);
    if !args.no_auth {
        for unemulated in crate::offline::http::auth::config::unemulated(&context.service) {
            printer.warning(&unemulated);
        }
    }
    if let Some(websocket) = &emulator.websocket {
        for warning in &websocket.unenforced {
            printer.warning(warning);
        }
        show::websocket_routes(printer, &websocket.url(), &websocket.routes);
    }
    // Listening for Ctrl-C before `Server ready` is printed: a harness that stops the emulator as
    // soon as it reads that line must not meet the default handler, which kills without cleanup.
    let stop = StopSignal::listen();
    show::ready(printer, &emulator.http_url(), &emulator.lambda_url());
    runtime.block_on(stop.wait());
    printer.info("stopping: ending every function instance");
    if let Some(watch) = watch {
        watch.abort();
    }
    // `$disconnect` runs before the functions' processes end.
    runtime.block_on(emulator.close_websockets());
    engines.shutdown();
    runtime.block_on(emulator.stop());
    engines.shutdown();
    Ok(Status::Success)
}

/// Queues and streams: with `--endpoint` (or `AWS_ENDPOINT_URL`), every `sqs` and `stream` event
/// reads its queue or stream there; without one, says how to turn them on.
fn start_pollers(
    emulator: &mut server::Emulator,
    service: &Service,
    endpoint: Option<&str>,
    invoker: Arc<dyn Invoker>,
    observer: Arc<dyn server::Observer>,
    printer: &Printer,
    runtime: &tokio::runtime::Handle,
) {
    let (targets, _) = crate::offline::pollers::sources(service);
    let endpoint = endpoint
        .map(str::to_string)
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        .filter(|url| !url.is_empty());
    let Some(url) = endpoint else {
        if !targets.is_empty() {
            printer.info(
                "sqs and stream events are not polled: give --endpoint URL (moto, ElasticMQ, \
                 LocalStack) to read their queues and streams, or deliver events with \
                 `updraft offline emit`",
            );
        }
        return;
    };
    let endpoint = runtime.block_on(crate::offline::pollers::Endpoint::new(
        &url,
        &service.provider.region,
    ));
    for warning in emulator.poll(service, &endpoint, invoker, observer) {
        printer.warning(&warning);
    }
}

/// One engine for every function, or with `--reload` one per function so each can be restarted
/// alone.
enum Engines {
    Shared(Arc<Engine>),
    Reloading(Arc<Reloading<Engine>>),
}

impl Engines {
    fn new(specs: Vec<FunctionSpec>, options: EngineOptions, reload: bool) -> Engines {
        if !reload {
            return Engines::Shared(Arc::new(Engine::new(specs, options)));
        }
        let keys: Vec<String> = specs.iter().map(|s| s.key.clone()).collect();
        let by_key: HashMap<String, FunctionSpec> =
            specs.into_iter().map(|s| (s.key.clone(), s)).collect();
        Engines::Reloading(Arc::new(Reloading::new(
            &keys,
            Box::new(move |key| {
                let spec = by_key.get(key)?.clone();
                Some(Arc::new(Engine::new(vec![spec], options.clone())))
            }),
        )))
    }

    fn invoker(&self) -> Arc<dyn Invoker> {
        match self {
            Engines::Shared(engine) => engine.clone(),
            Engines::Reloading(reloading) => reloading.clone(),
        }
    }

    /// Kills every instance (those of engines still draining too: they are killed when the
    /// last call holding them ends, which the servers' stop waits for).
    fn shutdown(&self) {
        match self {
            Engines::Shared(engine) => engine.shutdown(),
            Engines::Reloading(reloading) => reloading.all().iter().for_each(|e| e.shutdown()),
        }
    }
}

/// Polls the service directory and restarts the functions whose files changed. A function
/// that runs a build (a bundle, compiled code) is rebuilt first, and restarted only if the
/// build changed; a build that fails leaves the previous one running and says why.
fn watch(
    engines: &Engines,
    service: &Service,
    service_dir: &Path,
    printer: &Printer,
) -> tokio::task::JoinHandle<()> {
    let Engines::Reloading(reloading) = engines else {
        return tokio::spawn(async {});
    };
    let reloading = Arc::clone(reloading);
    let specs = reloading_specs(&reloading);
    // Built functions run from their build folders: any change may be one of their sources.
    let built: Vec<String> = specs
        .iter()
        .filter(|spec| spec.task_root != service_dir || !spec.search_paths.is_empty())
        .map(|spec| spec.key.clone())
        .collect();
    let handler_dirs: Vec<(String, PathBuf)> = specs
        .iter()
        .filter(|spec| !built.contains(&spec.key))
        .map(|spec| {
            (
                spec.key.clone(),
                reload::handler_dir(service_dir, &spec.handler),
            )
        })
        .collect();
    let mut watcher = Watcher::new(service_dir);
    let printer = printer.clone();
    let service = service.clone();
    let service_dir = service_dir.to_path_buf();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(reload::POLL_INTERVAL).await;
            let changed = tokio::task::block_in_place(|| watcher.changes());
            if changed.is_empty() {
                continue;
            }
            let mut functions: Vec<String> = if handler_dirs.is_empty() {
                Vec::new()
            } else {
                changed
                    .iter()
                    .flat_map(|path| reload::affected(path, &handler_dirs))
                    .collect()
            };
            if !built.is_empty() {
                let rebuilt =
                    tokio::task::block_in_place(|| rebuild(&service, &service_dir, &built, &specs));
                match rebuilt {
                    Ok(changed) => functions.extend(changed),
                    Err(error) => printer.warning(&RebuildFailed { error }),
                }
            }
            functions.sort();
            functions.dedup();
            for function in functions {
                reloading.restart(&function);
                printer.info(&format!("reloaded {function}: its code changed"));
            }
        }
    })
}

/// A rebuild after a change failed: the functions keep their previous build.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error(
    "rebuilding after the change failed; the functions keep running their previous build: {error}"
)]
#[diagnostic(
    code(offline::rebuild_failed),
    help("{}; the functions are rebuilt and restarted at the next change", error.help().map(|h| h.to_string()).unwrap_or_else(|| "fix the error".into()))
)]
struct RebuildFailed {
    error: BuildError,
}

/// Runs the build steps of `functions` again; returns those whose build folders were replaced
/// (a build step replaces a folder only when its output changes, so an unchanged build keeps
/// its folder and its function keeps running).
fn rebuild(
    service: &Service,
    service_dir: &Path,
    functions: &[String],
    specs: &[FunctionSpec],
) -> Result<Vec<String>, BuildError> {
    let before: Vec<(String, Vec<Option<FolderIdentity>>)> = specs
        .iter()
        .filter(|spec| functions.contains(&spec.key))
        .map(|spec| (spec.key.clone(), build_folders(spec)))
        .collect();
    let rebuilt = built_functions(service, service_dir, functions, None)?.specs;
    Ok(before
        .into_iter()
        .filter(|(key, folders)| {
            rebuilt
                .iter()
                .find(|spec| &spec.key == key)
                .is_some_and(|spec| &build_folders(spec) != folders)
        })
        .map(|(key, _)| key)
        .collect())
}

/// Which folder is at a path: a rebuilt folder is a new one renamed into place.
type FolderIdentity = (u64, u64);

fn build_folders(spec: &FunctionSpec) -> Vec<Option<FolderIdentity>> {
    use std::os::unix::fs::MetadataExt;
    std::iter::once(&spec.task_root)
        .chain(&spec.search_paths)
        .map(|folder| {
            std::fs::metadata(folder)
                .ok()
                .map(|meta| (meta.dev(), meta.ino()))
        })
        .collect()
}

fn reloading_specs(reloading: &Reloading<Engine>) -> Vec<FunctionSpec> {
    let mut specs: Vec<FunctionSpec> = reloading
        .all()
        .iter()
        .flat_map(|engine| engine.functions().cloned().collect::<Vec<_>>())
        .collect();
    specs.sort_by(|a, b| a.key.cmp(&b.key));
    specs
}

/// Ctrl-C, or SIGTERM (how process managers and test harnesses stop a server), registered when
/// made so that a signal arriving before anything awaits it is still caught.
struct StopSignal {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl StopSignal {
    /// Needs the runtime entered (the caller holds its guard).
    fn listen() -> StopSignal {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signals = signal(SignalKind::interrupt())
                .and_then(|interrupt| Ok((interrupt, signal(SignalKind::terminate())?)))
                .ok();
            StopSignal { signals }
        }
        #[cfg(not(unix))]
        StopSignal {}
    }

    async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut interrupt, mut terminate)) = self.signals {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn exec_emit(
    args: EmitArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
    let items: Vec<Value> = args
        .data
        .iter()
        .map(|text| serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone())))
        .collect();
    let address = SocketAddr::new(args.host, args.lambda_port);
    let answer = runtime
        .block_on(crate::offline::emit::send(
            address,
            &args.function,
            &args.event,
            &items,
        ))
        .map_err(Failure::user)?;
    let invocations = answer
        .get("invocations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut failed = false;
    for invocation in &invocations {
        failed |= invocation.get("error").and_then(Value::as_bool) == Some(true);
        let payload = invocation.get("payload").cloned().unwrap_or(Value::Null);
        printer.data(&serde_json::to_string_pretty(&payload).unwrap_or_default());
    }
    if failed {
        return Err(Failure::user(FunctionFailed {
            function: args.function,
        }));
    }
    Ok(Status::Success)
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("function `{function}` failed on the emitted event")]
#[diagnostic(help("its error object is printed above; the emulator's output has its log"))]
struct FunctionFailed {
    function: String,
}

#[cfg(test)]
mod tests {
    use super::without_start_alias;
    use std::ffi::OsString;

    fn words(text: &str) -> Vec<OsString> {
        text.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn start_right_after_offline_is_dropped_and_nowhere_else() {
        assert_eq!(
            without_start_alias(words("updraft -c x.yml offline start --httpPort 1")),
            words("updraft -c x.yml offline --httpPort 1")
        );
        assert_eq!(
            without_start_alias(words("updraft offline --prefix start")),
            words("updraft offline --prefix start")
        );
        assert_eq!(
            without_start_alias(words("updraft offline emit -f start")),
            words("updraft offline emit -f start")
        );
    }
}
