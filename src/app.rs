//! The application: its shared state and the HTTP server around it.

use std::net::TcpListener;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::password_threads::PasswordThreads;
use crate::auth::token::{self, TokenKeys};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db::{self, DbConn, DbPool};
use crate::http::problem::{ApiError, ErrorCode};
use crate::http::{self, context, fallback::RouteTable, logging::RedactingRootSpan};
use crate::mail::outbox::Sender;
use crate::metrics::Metrics;
use crate::service;
use crate::service::bootstrap::{self, CreatedAdmin};
use tokio::sync::Notify;

/// What every handler may reach: the database pool and the settings.
pub struct AppState {
    pub pool: DbPool,
    pub settings: Arc<Settings>,
    pub tokens: TokenKeys,
    pub clock: Arc<dyn Clock>,
    /// Wakes this instance's mail sender after a change queued a message.
    pub mail_wake: Arc<Notify>,
    /// One argon2id run per core at a time (see [`AppState::password_work`]).
    pub password_threads: PasswordThreads,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn now(&self) -> chrono::NaiveDateTime {
        self.clock.now()
    }

    /// Runs database work on the blocking thread pool, never on an async worker.
    ///
    /// Inside a request that holds a [`RequestTransaction`] (an idempotent POST), the work joins
    /// that transaction: the use case's own transaction becomes a savepoint, and its writes
    /// commit together with the stored answer, or not at all.
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        if let Ok(transaction) = REQUEST_TRANSACTION.try_with(Clone::clone) {
            return transaction.run(move |conn| work(conn)).await;
        }
        let pool = self.pool.clone();
        // Waiting counts from here: for a blocking thread first, then for a connection.
        let waited = WaitingForConnection::start(self.metrics.pool_waiting.clone());
        web::block(move || {
            let checked_out = pool.get();
            drop(waited);
            let mut conn = checked_out.map_err(|e| {
                tracing::warn!(error = %e, "no database connection");
                ApiError::new(ErrorCode::ServiceUnavailable)
            })?;
            let result = work(&mut conn);
            if result.as_ref().is_err_and(ApiError::is_internal) {
                conn.mark_suspect();
            }
            result
        })
        .await?
    }
}

/// One connection with an open transaction, which every database call of a request joins
/// (see [`AppState::db`]). Begun and ended by the idempotency middleware.
///
/// The connection lives on a thread of its own for the request. On the shared blocking
/// threads, SQLite writers waiting for this transaction's lock could hold every one of them,
/// and the request could then never run the work that ends it.
#[derive(Clone)]
pub struct RequestTransaction {
    jobs: std::sync::mpsc::Sender<TransactionJob>,
}

type TransactionJob = Box<dyn FnOnce(&mut db::PooledDbConn) + Send>;

tokio::task_local! {
    static REQUEST_TRANSACTION: RequestTransaction;
}

impl RequestTransaction {
    /// Checks out a connection and begins the transaction (on SQLite holding the write lock
    /// from the start, as every write transaction here does).
    pub async fn begin(state: &AppState) -> Result<RequestTransaction, ApiError> {
        let pool = state.pool.clone();
        let (jobs, queue) = std::sync::mpsc::channel::<TransactionJob>();
        let (begun, started) = tokio::sync::oneshot::channel::<Result<(), ApiError>>();
        std::thread::Builder::new()
            .name("request-transaction".into())
            .spawn(move || {
                let mut conn = match pool.get() {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "no database connection");
                        let _ = begun.send(Err(ApiError::new(ErrorCode::ServiceUnavailable)));
                        return;
                    }
                };
                if let Err(e) = db::begin_write_transaction(&mut conn) {
                    let _ = begun.send(Err(e.into()));
                    return;
                }
                let _ = begun.send(Ok(()));
                for job in queue {
                    job(&mut conn);
                }
                // Every handle is gone without `finish` (the request was dropped): nothing of
                // it may stay.
                if db::in_transaction(&mut conn) && db::end_transaction(&mut conn, false).is_err() {
                    conn.mark_suspect();
                }
            })
            .map_err(|e| ApiError::internal(anyhow::anyhow!("cannot start a transaction thread: {e}")))?;
        started
            .await
            .map_err(|_| ApiError::internal(anyhow::anyhow!("the transaction thread ended early")))??;
        Ok(RequestTransaction { jobs })
    }

    /// Runs `future` (the rest of the request) with this transaction as its database.
    pub async fn scope<F: Future>(&self, future: F) -> F::Output {
        REQUEST_TRANSACTION.scope(self.clone(), future).await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut db::PooledDbConn) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: TransactionJob = Box::new(move |conn| {
            let _ = answer.send(work(conn));
        });
        self.jobs
            .send(job)
            .map_err(|_| ApiError::internal(anyhow::anyhow!("the request's transaction has ended")))?;
        answered
            .await
            .map_err(|_| ApiError::internal(anyhow::anyhow!("the request's transaction has ended")))?
    }

    /// Runs `last` in the transaction, then commits when it answers `true`, rolls back
    /// otherwise (and on any error). The connection goes back to the pool either way.
    pub async fn finish(
        self,
        last: impl FnOnce(&mut DbConn) -> Result<bool, ApiError> + Send + 'static,
    ) -> Result<bool, ApiError> {
        self.run(move |conn| {
            let outcome = last(conn);
            let ended = db::end_transaction(conn, matches!(outcome, Ok(true)));
            if ended.is_err() || outcome.as_ref().is_err_and(ApiError::is_internal) {
                conn.mark_suspect();
            }
            ended?;
            outcome
        })
        .await
    }
}

/// One unit of database work on the waiting gauge: raised when it starts waiting, lowered once
/// when it has its connection (or failed to get one, or was dropped before it ran).
struct WaitingForConnection(prometheus::IntGauge);

impl WaitingForConnection {
    fn start(gauge: prometheus::IntGauge) -> Self {
        gauge.inc();
        WaitingForConnection(gauge)
    }
}

impl Drop for WaitingForConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl AppState {
    /// Runs a password hash or verification on the argon2 threads, at most one per core at once.
    ///
    /// Each argon2id run holds 19 MiB for tens of milliseconds. Without the gate a burst of
    /// sign-ins starts one per waiting request: memory grows with the burst while no sign-in
    /// finishes sooner, the cores being the limit either way. The others wait in the queue.
    pub async fn password_work<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.password_threads
            .run(work)
            .await
            .map_err(|_| ApiError::internal(anyhow::anyhow!("a password check failed on its thread")))
    }
}

pub struct Application {
    port: u16,
    server: Server,
    /// The operators' listener (`METRICS_ADDR`), when there is one.
    metrics_server: Option<(u16, Server)>,
    /// The kwh_admin this start created, to be told once to the person starting it.
    pub created_admin: Option<CreatedAdmin>,
}

impl Application {
    /// Connects to the database (failing fast), migrates it, binds the listener and starts the
    /// mail sender.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], with the time told by `clock` (tests move it forward).
    pub async fn build_with_clock(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        let target = settings.database.clone();
        let pool_size = settings.database_pool_size;
        let admin = settings.admin.clone();
        let (pool, created_admin) = tokio::task::spawn_blocking(move || {
            let pool = db::connect_and_migrate(&target, pool_size)?;
            let created = bootstrap::ensure_admin(&mut *pool.get()?, &admin, crate::db::now())?;
            anyhow::Ok((pool, created))
        })
        .await??;
        let listener = TcpListener::bind(settings.bind_addr)
            .with_context(|| format!("cannot listen on BIND_ADDR {}", settings.bind_addr))?;
        let port = listener.local_addr()?.port();
        let metrics_listener = match settings.metrics.addr {
            Some(addr) => {
                Some(TcpListener::bind(addr).with_context(|| format!("cannot listen on METRICS_ADDR {addr}"))?)
            }
            None => None,
        };
        let mail_wake = Arc::new(Notify::new());
        let metrics = Arc::new(Metrics::new());
        let secret = token::resolve_secret(&settings)?;
        let link_key = token::LinkKey::from_secret(&secret);
        let tokens = TokenKeys::new(&secret, settings.access_token_ttl.as_secs() as i64)?;
        let sender = Sender::new(
            &settings,
            link_key,
            pool.clone(),
            clock.clone(),
            mail_wake.clone(),
            metrics.clone(),
        )?;
        let retention =
            service::retention::run(pool.clone(), settings.retention.clone(), clock.clone(), metrics.clone());
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            settings: Arc::new(settings),
            tokens,
            clock,
            mail_wake,
            password_threads: PasswordThreads::start(*crate::auth::password::PARALLEL_RUNS)?,
            metrics,
        });
        let server = serve(listener, state.clone())?;
        let metrics_server = match metrics_listener {
            Some(listener) => Some((listener.local_addr()?.port(), serve_metrics(listener, state)?)),
            None => None,
        };
        tokio::spawn(sender.run());
        tokio::spawn(retention);
        Ok(Application {
            port,
            server,
            metrics_server,
            created_admin,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener, when `METRICS_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(port, _)| *port)
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped through [`Application::handle`]; the metrics listener stops with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.map(|(_, server)| {
            let handle = server.handle();
            tokio::spawn(server);
            handle
        });
        let result = self.server.await;
        if let Some(metrics) = metrics {
            metrics.stop(false).await;
        }
        result
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight.
    ///
    /// The signal handlers are installed before this returns a future, so a signal that
    /// arrives right after start-up is never the default (killing) action.
    pub fn run_until_signalled(self) -> std::io::Result<impl Future<Output = std::io::Result<()>>> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let handle = self.server.handle();
        let metrics = self.metrics_server.map(|(_, server)| {
            let handle = server.handle();
            actix_web::rt::spawn(server);
            handle
        });
        actix_web::rt::spawn(async move {
            let name = tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = interrupt.recv() => "SIGINT",
            };
            tracing::info!("{name} received: finishing requests in flight, then stopping");
            handle.stop(true).await;
            if let Some(metrics) = metrics {
                metrics.stop(true).await;
            }
        });
        Ok(self.server)
    }
}

/// Requests in flight get this long to finish after SIGTERM/SIGINT.
const SHUTDOWN_GRACE_SECS: u64 = 30;

fn serve(listener: TcpListener, state: web::Data<AppState>) -> anyhow::Result<Server> {
    let document = http::openapi_document();
    let routes = web::Data::new(Arc::new(RouteTable::from_openapi(&document)));
    let max_body_bytes = state.settings.max_body_bytes;
    let cors_origins = state.settings.cors_origins.clone();
    // Blocking threads beyond the connections only wait for one, each with its stack and malloc
    // arena: under 128 connections the default (256 per worker) grew to some 250 threads and
    // 150 MB resident. Work beyond this waits in the worker's queue instead. (Argon2 has
    // threads of its own, `PasswordThreads`.)
    let blocking_threads = state.pool.max_size() as usize;

    let server = HttpServer::new(move || {
        let document = document.clone();
        App::new()
            .wrap(actix_web::middleware::from_fn(http::idempotency::middleware))
            .wrap(actix_web::middleware::from_fn(http::rate_limit::middleware))
            .wrap(actix_web::middleware::from_fn(http::auth::authenticate))
            .wrap(actix_web::middleware::from_fn(http::fallback::refuse_other_methods))
            .wrap(actix_web::middleware::from_fn(http::limits::header_size))
            .wrap_fn(context::with_request_context)
            .wrap(cors(&cors_origins))
            .wrap(actix_web::middleware::from_fn(http::metrics::count_requests))
            .wrap(TracingLogger::<RedactingRootSpan>::new())
            .app_data(state.clone())
            .app_data(routes.clone())
            .configure(|config| {
                http::configure_extractors(config, max_body_bytes);
                http::register_routes(&mut utoipa_actix_web::service_config::ServiceConfig::new(config));
                config
                    .service(SwaggerUi::new("/swagger-ui/{_:.*}").url("/openapi.json", document))
                    .route("/swagger-ui", web::get().to(http::redirect_to_swagger_ui))
                    // Not in the API's document: for a scraper with METRICS_TOKEN (404 without one).
                    .route("/metrics", web::get().to(http::metrics::scrape_with_token));
            })
            .default_service(web::to(http::fallback::no_route))
    })
    .worker_max_blocking_threads(blocking_threads)
    .shutdown_timeout(SHUTDOWN_GRACE_SECS)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

/// The operators' listener: `/metrics` and nothing else, on one worker (a scrape every few
/// seconds needs no more).
fn serve_metrics(listener: TcpListener, state: web::Data<AppState>) -> anyhow::Result<Server> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(http::metrics::scrape))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

/// Browsers may call the API only from the configured frontend origins (none by default).
fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            "Authorization",
            "Content-Type",
            "Accept-Language",
            "If-Match",
            "Idempotency-Key",
        ])
        .expose_headers([
            "ETag",
            "Location",
            "Retry-After",
            "X-Request-Id",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "Idempotent-Replayed",
        ])
        .max_age(3600)
}
