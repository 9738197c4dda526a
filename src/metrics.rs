//! What an operator watches, in Prometheus' text format (the `prometheus` crate): requests per
//! route template and status with their latencies, the connection pool, the outbox, sign-ins,
//! and what the retention purge removed.
//!
//! Each application has its own registry (not the crate's global one), so the tests' several
//! applications in one process count apart.

use prometheus::{Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_request_duration: HistogramVec,
    pub sign_ins: IntCounterVec,
    pub pool_connections: IntGaugeVec,
    pub pool_max_connections: IntGauge,
    pub pool_waiting: IntGauge,
    pub outbox_messages: IntGaugeVec,
    pub outbox_oldest_due_age: Gauge,
    pub mail_deliveries: IntCounterVec,
    pub purged_rows: IntCounterVec,
    pub purge_runs: IntCounterVec,
}

/// Request latencies from 5 ms (a cached read) to 10 s (an export, a stalled database).
const LATENCY_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new_custom(Some("mijnkwh".into()), None).expect("a valid prefix");
        fn register<T: prometheus::core::Collector + Clone + 'static>(registry: &Registry, collector: T) -> T {
            registry
                .register(Box::new(collector.clone()))
                .expect("each metric is registered once");
            collector
        }
        let counter = |name: &str, help: &str, labels: &[&str]| {
            register(
                &registry,
                IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter"),
            )
        };
        let http_requests = counter(
            "http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            &["method", "route", "status"],
        );
        let http_request_duration = register(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "http_request_duration_seconds",
                    "Time to answer an HTTP request, by method, route template and status.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["method", "route", "status"],
            )
            .expect("a valid histogram"),
        );
        let sign_ins = counter(
            "sign_ins_total",
            "Sign-ins (POST /auth/login) by outcome: succeeded, failed (wrong credentials) or throttled (429).",
            &["outcome"],
        );
        let pool_connections = register(
            &registry,
            IntGaugeVec::new(
                Opts::new(
                    "db_pool_connections",
                    "Database connections of this instance, by state: in_use or idle.",
                ),
                &["state"],
            )
            .expect("a valid gauge"),
        );
        let pool_max_connections = register(
            &registry,
            IntGauge::new("db_pool_max_connections", "The most connections the pool opens.").expect("a valid gauge"),
        );
        let pool_waiting = register(
            &registry,
            IntGauge::new(
                "db_pool_waiting",
                "Database work waiting for a connection (or for a thread to take one) right now.",
            )
            .expect("a valid gauge"),
        );
        let outbox_messages = register(
            &registry,
            IntGaugeVec::new(
                Opts::new(
                    "outbox_messages",
                    "Email in the outbox (all instances), by state: queued (not yet accepted by the mail server) or failed (given up).",
                ),
                &["state"],
            )
            .expect("a valid gauge"),
        );
        let outbox_oldest_due_age = register(
            &registry,
            Gauge::new(
                "outbox_oldest_due_message_age_seconds",
                "How long the oldest message that is due has waited for delivery; 0 when none is due.",
            )
            .expect("a valid gauge"),
        );
        let mail_deliveries = counter(
            "mail_deliveries_total",
            "Delivery attempts of this instance, by outcome: sent, retry (failed, tried again later), failed (given up) or cancelled.",
            &["outcome"],
        );
        let purged_rows = counter(
            "retention_purged_rows_total",
            "Rows the retention purge of this instance deleted, by table.",
            &["table"],
        );
        let purge_runs = counter(
            "retention_runs_total",
            "Runs of the retention purge, by outcome: ok or failed.",
            &["outcome"],
        );
        Metrics {
            registry,
            http_requests,
            http_request_duration,
            sign_ins,
            pool_connections,
            pool_max_connections,
            pool_waiting,
            outbox_messages,
            outbox_oldest_due_age,
            mail_deliveries,
            purged_rows,
            purge_runs,
        }
    }

    /// Every metric in the text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("the text encoder writes to memory");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
