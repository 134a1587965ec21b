//! linli: the backend of a WeChat mini-program for community governance.

pub mod access;
pub mod activity;
pub mod app;
pub mod deliberation;
pub mod elections;
pub mod funds;
pub mod identity;
pub mod moderation;
pub mod notices;
pub mod offices;
pub mod platform;
pub mod pledges;
pub mod polls;
pub mod proposals;
pub mod residents;
pub mod territory;
pub mod tickets;

use std::net::TcpListener;

use crate::app::middleware;
use crate::app::{jobs, openapi};
use crate::platform::{cache, db, pii, statements, storage, wechat};
use std::sync::Arc;

use actix_web::dev::{Server, ServiceFactory, ServiceRequest};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use sea_orm::DatabaseConnection;
use utoipa_actix_web::{scope, AppExt, UtoipaApp};
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::app::middleware::Metrics;
use crate::platform::clock::{Clock, SystemClock};
use crate::platform::config::Settings;
use crate::platform::error::{AppError, FieldCode, FieldError};
use crate::platform::http::Routes;
use crate::platform::state::AppState;
use crate::platform::tokens::JwtKeys;

/// The API's handlers under `/api/v1`, in one list for both kinds of [`Routes`].
fn api<R: Routes>(cfg: &mut R) {
    cfg.service(app::client_config::get_client_config);
    identity::http::configure(cfg);
    territory::http::configure(cfg);
    residents::http::configure(cfg);
    tickets::http::configure(cfg);
    elections::http::configure(cfg);
    notices::http::configure(cfg);
    offices::http::configure(cfg);
    polls::http::configure(cfg);
    funds::http::configure(cfg);
    proposals::http::configure(cfg);
    pledges::http::configure(cfg);
    deliberation::http::configure(cfg);
    activity::http::configure(cfg);
    moderation::http::configure(cfg);
}

/// Every handler, collecting the OpenAPI document as it goes.
fn register<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    use app::health;
    app.service(health::health)
        .service(health::ready)
        .service(health::metrics)
        .service(scope::scope("/api/v1").configure(|cfg| api(cfg)))
}

/// Every handler, as [`register`] but routing only: what the server's workers run.
fn routes(cfg: &mut web::ServiceConfig) {
    use app::health;
    cfg.service(health::health)
        .service(health::ready)
        .service(health::metrics)
        .service(web::scope("/api/v1").configure(api));
}

/// The complete OpenAPI document, as served and as committed in `openapi/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, doc) =
        register(App::new().into_utoipa_app().openapi(openapi::base())).split_for_parts();
    openapi::finish(doc)
}

/// The document as pretty JSON with a trailing newline (the committed file's exact bytes).
pub fn openapi_json() -> String {
    let mut s = serde_json::to_string_pretty(&openapi()).unwrap_or_default();
    s.push('\n');
    s
}

/// The OpenAPI document the server serves: the committed file, which the spec tests hold equal
/// to [`openapi_json`] (regenerate it with `cargo run -- openapi > openapi/openapi.json` after
/// changing a handler). Building the document at start-up instead took ~40 MB of peak memory.
pub const SERVED_SPEC: &str = include_str!("../openapi/openapi.json");

/// Routes known to the spec, to tell 405 (known path, other method) from 404.
struct RouteTable(Vec<(Vec<Option<String>>, Vec<String>)>);

impl RouteTable {
    /// The paths and methods of a spec's JSON, reading nothing else of it.
    fn from_spec_json(json: &str) -> anyhow::Result<Self> {
        use serde::de::IgnoredAny;
        use std::collections::BTreeMap;
        #[derive(serde::Deserialize)]
        struct Spec {
            paths: BTreeMap<String, BTreeMap<String, IgnoredAny>>,
        }
        let spec: Spec = serde_json::from_str(json)?;
        let routes = spec
            .paths
            .iter()
            .map(|(path, item)| {
                let segs = path
                    .trim_matches('/')
                    .split('/')
                    .map(|s| (!s.starts_with('{')).then(|| s.to_string()))
                    .collect();
                let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
                    .into_iter()
                    .filter(|m| item.contains_key(&m.to_ascii_lowercase()))
                    .map(str::to_string)
                    .collect();
                (segs, methods)
            })
            .collect();
        Ok(RouteTable(routes))
    }

    /// The methods of the route this path names. As in OpenAPI, a literal segment outranks a
    /// template: `/residents/import` is its own route, not `/residents/{id}` with id "import".
    fn allowed_methods(&self, path: &str) -> Vec<String> {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut best: Option<(Vec<bool>, Vec<String>)> = None;
        for (pattern, methods) in &self.0 {
            let matches = pattern.len() == segs.len()
                && pattern
                    .iter()
                    .zip(&segs)
                    .all(|(p, s)| p.as_deref().is_none_or(|p| p == *s));
            if !matches {
                continue;
            }
            let literal: Vec<bool> = pattern.iter().map(Option::is_some).collect();
            match &mut best {
                Some((b, m)) if *b == literal => m.extend(methods.iter().cloned()),
                Some((b, _)) if *b > literal => {}
                _ => best = Some((literal, methods.clone())),
            }
        }
        best.map(|(_, m)| m).unwrap_or_default()
    }
}

async fn fallback(
    req: HttpRequest,
    routes: web::Data<RouteTable>,
) -> Result<HttpResponse, AppError> {
    let allowed = routes.allowed_methods(req.path());
    Err(if allowed.is_empty() {
        AppError::NotFound
    } else {
        AppError::MethodNotAllowed(allowed)
    })
}

/// After a successful DELETE, creates that answered with the deleted object stop replaying it
/// (`platform::idempotency::object_deleted`).
async fn forget_deleted(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if req.method() != actix_web::http::Method::DELETE {
        return next.call(req).await;
    }
    let path = req.path().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    if let (true, Some(state)) = (res.status().is_success(), state) {
        // The object is gone either way; a failure here only leaves a stale replay behind.
        if let Err(e) = platform::idempotency::object_deleted(&state.db, &path).await {
            tracing::warn!(error = %e, "could not retire the idempotency keys of a deleted object");
        }
    }
    Ok(res)
}

async fn serve_openapi(spec: web::Data<SpecJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(spec.0)
}

struct SpecJson(&'static str);

fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, req| {
        // actix tries routes in registration order, so `PATCH /residents/import` reaches
        // `PATCH /residents/{id}` and fails there; the path names another route, whose
        // methods decide.
        let allowed = req
            .app_data::<web::Data<RouteTable>>()
            .map(|routes| routes.allowed_methods(req.path()))
            .unwrap_or_default();
        if !allowed.is_empty() && !allowed.iter().any(|m| m == req.method().as_str()) {
            return AppError::MethodNotAllowed(allowed).into();
        }
        AppError::InvalidPath(vec![FieldError::of(
            "id",
            FieldCode::Invalid,
            crate::platform::lang::Text::new("路径中的编号格式不对", err.to_string()),
        )])
        .into()
    })
}

/// A configured, not yet running server.
pub struct Application {
    server: Server,
    port: u16,
    /// A second handle on the listening socket, to stop it taking connections before closing.
    gate: TcpListener,
    pub state: AppState,
}

impl Application {
    /// Connects, migrates, bootstraps the admin if asked, and binds.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        migrate(&settings).await?;
        let mut db = db::connect(&db::background(&settings)).await?;
        db.set_metric_callback(statements::observe);
        if let (Some(u), Some(p)) = (&settings.admin_username, &settings.admin_password) {
            if identity::service::auth::ensure_bootstrap_admin(&db, u, p.expose(), clock.now())
                .await
                .map_err(|e| anyhow::anyhow!("creating the bootstrap admin failed: {e}"))?
            {
                tracing::info!(username = %u, "bootstrap admin created");
            }
        }
        let cache = cache::connect(settings.redis_url.as_deref(), &settings.cache_prefix).await?;
        let listener = TcpListener::bind(settings.bind)?;
        let port = listener.local_addr()?.port();
        let gate = listener.try_clone()?;
        let wechat = Arc::new(wechat::WeChatClient::new(&settings, cache.clone())?);
        let storage = storage::connect(&settings.upload_dir)?;
        let state = AppState {
            db,
            cache,
            wechat,
            storage,
            pii: Arc::new(pii::Pii::from_settings(&settings)),
            jwt: Arc::new(JwtKeys::new(&settings)?),
            settings: Arc::new(settings),
            clock,
            draining: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            imports: crate::platform::slots::Slots::new(
                crate::residents::service::io::CONCURRENT_IMPORTS,
            ),
            worker_pools: db::WorkerPools::default(),
        };
        let server = run(listener, state.clone())?;
        Ok(Self {
            server,
            port,
            gate,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    /// Runs until the server stops. SIGTERM (what an orchestrator sends): `/ready` answers 503
    /// for `LINLI_DRAIN_SECS` while every other request is still served, so the proxy takes the
    /// replica out of rotation first; then the listener stops taking connections (see
    /// `shut_the_gate`), closes, and in-flight requests finish before this returns. SIGINT
    /// (Ctrl-C) skips the drain.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let jobs = tokio::spawn(jobs::run(
            self.state.clone(),
            self.state.settings.job_interval,
        ));
        let handle = self.server.handle();
        let draining = self.state.draining.clone();
        let drain = self.state.settings.drain;
        let gate = self.gate;
        let signals = tokio::spawn(async move {
            let stop_now = wait_for_stop_signal().await;
            if !stop_now {
                draining.store(true, std::sync::atomic::Ordering::SeqCst);
                tracing::info!(
                    drain_secs = drain.as_secs(),
                    "SIGTERM: reporting not ready while draining"
                );
                tokio::time::sleep(drain).await;
            }
            tracing::info!("closing the listener; finishing requests in flight");
            shut_the_gate(gate).await;
            handle.stop(true).await;
        });
        let result = self.server.await;
        signals.abort();
        // The server has finished its requests; stop the background work with it.
        jobs.abort();
        result
    }
}

/// How long the accept loop keeps emptying the kernel's queue of completed connections after
/// new ones stop arriving, before the listener closes.
const ACCEPT_QUEUE_GRACE: std::time::Duration = std::time::Duration::from_millis(150);

/// Stops the listener taking new connections without losing the ones the kernel has already
/// completed. Closing a listening socket resets every connection still waiting in its accept
/// queue, and a proxy that has already written a request on one of those sees a reset after
/// sending: it may not pass a POST on to another replica, so the request fails (seen: one
/// POST in a thousand during a rolling restart behind nginx). So first a socket filter drops
/// every new SYN (the proxy's connect waits, retries after a second and is then refused by the
/// closed socket, and goes to the next replica before anything was sent), the accept loop
/// empties the queue for `ACCEPT_QUEUE_GRACE`, and only then does the socket close. Elsewhere
/// than Linux the listener simply closes.
async fn shut_the_gate(gate: TcpListener) {
    match stop_new_connections(&gate) {
        Ok(true) => tokio::time::sleep(ACCEPT_QUEUE_GRACE).await,
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "could not stop new connections before closing"),
    }
    // The accept loop's own handle closes with the server; this one must not keep the socket.
    drop(gate);
}

/// Makes the kernel drop new connection attempts to `listener` while those it has completed
/// stay in the accept queue. Ok(false) where that is not available (not Linux).
fn stop_new_connections(listener: &TcpListener) -> std::io::Result<bool> {
    #[cfg(target_os = "linux")]
    {
        // One classic BPF instruction: BPF_RET | BPF_K with 0, "accept no bytes", i.e. drop.
        const DROP_ALL: [socket2::SockFilter; 1] = [socket2::SockFilter::new(0x06, 0, 0, 0)];
        socket2::SockRef::from(listener).attach_filter(&DROP_ALL)?;
        Ok(true)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = listener;
        Ok(false)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod gate_tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    #[test]
    fn a_shut_gate_keeps_queued_connections_and_takes_no_new_ones() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // Completed by the kernel, waiting in the accept queue.
        let mut queued = TcpStream::connect(addr).unwrap();
        queued.write_all(b"ping").unwrap();

        assert!(super::stop_new_connections(&listener).unwrap());

        // A new attempt is not answered (its SYN is dropped), so it cannot complete...
        let late = TcpStream::connect_timeout(&addr, Duration::from_millis(300));
        assert!(late.is_err(), "a connection got through the shut gate");
        // ...while the queued one is still there to be accepted and served.
        let (mut accepted, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4];
        accepted.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        accepted.write_all(b"pong").unwrap();
        queued.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"pong");
    }
}

fn run(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let workers = state.settings.workers;
    let spec = web::Data::new(SpecJson(SERVED_SPEC));
    let route_table = web::Data::new(RouteTable::from_spec_json(SERVED_SPEC)?);
    let metrics = web::Data::new(Metrics::default());
    // As actix counts its workers when not told.
    let worker_count = match workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let state = web::Data::new(state);
    // One map of kept callers per replica, shared by its workers (`access::callers`).
    let callers = web::Data::new(access::callers::Callers::new());
    let mut server = HttpServer::new(move || {
        // Called once per worker, on the worker's thread: on PostgreSQL each worker gets a pool
        // of its own (`db::worker_pool`); everything else is shared.
        let state = match db::worker_pool(&state.settings, worker_count) {
            Some(mut pool) => {
                pool.set_metric_callback(statements::observe);
                state.worker_pools.add(pool.clone());
                web::Data::new(AppState {
                    db: pool,
                    ..state.get_ref().clone()
                })
            }
            None => state.clone(),
        };
        App::new()
            .app_data(state)
            .app_data(callers.clone())
            .app_data(metrics.clone())
            .app_data(route_table.clone())
            .app_data(spec.clone())
            .app_data(path_config())
            .configure(routes)
            .route("/api-docs/openapi.json", web::get().to(serve_openapi))
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .config(SwaggerConfig::new(["/api-docs/openapi.json"])),
            )
            .route(
                "/docs",
                web::get().to(|| async {
                    HttpResponse::PermanentRedirect()
                        .insert_header(("Location", "/docs/"))
                        .finish()
                }),
            )
            .default_service(web::to(fallback))
            .wrap(actix_web::middleware::from_fn(forget_deleted))
            .wrap(actix_web::middleware::from_fn(middleware::idempotency))
            .wrap(actix_web::middleware::from_fn(middleware::request_context))
    })
    .shutdown_timeout(25)
    // Signals are handled by `Application::run_until_stopped` (drain first, then stop).
    .disable_signals()
    .listen(listener)?;
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.run())
}

/// Waits for SIGTERM (false: drain first) or SIGINT (true: stop now).
async fn wait_for_stop_signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => tokio::select! {
                _ = term.recv() => false,
                _ = int.recv() => true,
            },
            _ => {
                let _ = tokio::signal::ctrl_c().await;
                true
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        true
    }
}

/// How long a start waits for another process that is migrating the same database.
const MIGRATION_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// `linli migrate`, and the first step of every command that opens the database: applies the
/// pending migrations under a database-wide lock, so replicas started together take turns.
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    // A pool of its own with one connection: the lock is held by a session, and the migration
    // must run on that same session (see `migration::up_exclusive`).
    let mut single = settings.clone();
    single.db_max_connections = 1;
    let db = db::connect(&single).await?;
    let migrated = migration::up_exclusive(&db, MIGRATION_LOCK_WAIT).await;
    db.close().await.ok();
    migrated?;
    tracing::info!("migrations applied");
    Ok(())
}

/// `linli create-admin`.
pub async fn create_admin(
    settings: &Settings,
    username: &str,
    password: &str,
    display_name: &str,
) -> anyhow::Result<()> {
    migrate(settings).await?;
    let db = db::connect(settings).await?;
    identity::service::auth::create_user(
        &db,
        username,
        password.to_string(),
        display_name,
        true,
        chrono::Utc::now(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}: {}", describe(&e)))?;
    Ok(())
}

fn describe(e: &AppError) -> String {
    match e {
        AppError::Validation(errs) => errs
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}
