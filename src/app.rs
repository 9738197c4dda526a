//! The application: the database, the mail sender, retention and the HTTP server, wired
//! together and started.

use std::net::TcpListener;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::auth::password_threads::PasswordThreads;
use crate::auth::token::{self, TokenKeys};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db;
use crate::http::state::AppState;
use crate::http::{self, context, fallback::RouteTable, logging::RedactingRootSpan};
use crate::mail::outbox::Sender;
use crate::metrics::Metrics;
use crate::service;
use crate::service::bootstrap::{self, CreatedAdmin};
use tokio::sync::Notify;

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
        let request_counter = Arc::new(service::rate_limits::RequestCounter::default());
        let rate_limit_sync = service::rate_limits::sync(
            pool.clone(),
            request_counter.clone(),
            clock.clone(),
            settings.rate_limit_sync,
        );
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            settings: Arc::new(settings),
            tokens,
            clock,
            mail_wake,
            password_threads: PasswordThreads::start(
                *crate::auth::password::PARALLEL_RUNS,
                crate::auth::password::KEEP_WORK_MEMORY,
                crate::auth::password::release_work_memory,
            )?,
            metrics,
            request_counter,
        });
        // Made on first use, the decoy hash would make the first sign-in for an unknown
        // address of each process one hash slower than any other: an account oracle, once.
        let decoy = state.clone();
        tokio::spawn(async move { decoy.password_threads.run(crate::auth::password::make_decoy).await });
        let server = serve(listener, state.clone())?;
        let metrics_server = match metrics_listener {
            Some(listener) => Some((listener.local_addr()?.port(), serve_metrics(listener, state)?)),
            None => None,
        };
        tokio::spawn(sender.run());
        tokio::spawn(retention);
        tokio::spawn(rate_limit_sync);
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
    // Served as written once: the document as a value is some 3 MB, and each worker's copy of
    // it stayed resident.
    let document = web::Data::new(http::DocumentJson::of(&document)?);
    let max_body_bytes = state.settings.max_body_bytes;
    let cors_origins = state.settings.cors_origins.clone();
    // Each worker runs its database work on blocking threads of its own. Together the workers'
    // threads are as many as the pool's connections: a thread beyond them would only wait for
    // a connection, with its stack and malloc arena (the default, 256 per worker, grew to some
    // 250 threads and 150 MB resident under 128 connections), and each thread more is one more
    // to wake and switch to on a core that is already busy. Work beyond them waits in the
    // worker's queue, where a thread that finishes takes the next without sleeping in between.
    // On 2 cores with a pool of 4, as many threads per worker as connections (4 each) made
    // reads 5–12% slower than 2 each (BENCHMARKS.md, session 11). (Argon2 has threads of its
    // own, `PasswordThreads`.)
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let blocking_threads = (state.pool.max_size() as usize).div_ceil(workers).max(1);

    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(http::idempotency::middleware))
            .wrap(actix_web::middleware::from_fn(http::rate_limit::middleware))
            .wrap(actix_web::middleware::from_fn(http::auth::authenticate))
            .wrap(actix_web::middleware::from_fn(http::fallback::refuse_other_methods))
            .wrap(actix_web::middleware::from_fn(http::scim::errors_in_scim_form))
            .wrap(actix_web::middleware::from_fn(http::limits::header_size))
            .wrap_fn(context::with_request_context)
            .wrap(cors(&cors_origins))
            .wrap(actix_web::middleware::from_fn(http::metrics::count_requests))
            .wrap(TracingLogger::<RedactingRootSpan>::new())
            .app_data(state.clone())
            .app_data(routes.clone())
            .app_data(document.clone())
            .configure(|config| {
                http::configure_extractors(config, max_body_bytes);
                http::register_routes(&mut utoipa_actix_web::service_config::ServiceConfig::new(config));
                config
                    .service(
                        web::resource(http::DOCUMENT_PATH)
                            .guard(actix_web::guard::Get())
                            .to(http::serve_document),
                    )
                    .service(SwaggerUi::new("/swagger-ui/{_:.*}").config(Config::from(http::DOCUMENT_PATH)))
                    .route("/swagger-ui", web::get().to(http::redirect_to_swagger_ui))
                    // Not in the API's document: for a scraper with METRICS_TOKEN (404 without one).
                    .route("/metrics", web::get().to(http::metrics::scrape_with_token));
            })
            .default_service(web::to(http::fallback::no_route))
    })
    .workers(workers)
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
