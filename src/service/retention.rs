//! The retention purge: data goes once it no longer serves the purpose it was kept for. Every
//! instance runs it; the batches of `db::retention` make that safe (each row is deleted once)
//! and keep each statement short.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};

use crate::clock::Clock;
use crate::config::RetentionSettings;
use crate::db::{DbConn, DbPool, retention};
use crate::metrics::Metrics;

/// Rows per statement: small enough that a purge never holds SQLite's one writer, or
/// PostgreSQL's row locks, for more than a few milliseconds at a time.
pub const BATCH: i64 = 500;

/// Sign-in failures count for the throttle for as long as its longest window (a pair's
/// doubling delay looks back 24 hours, `domain::sign_in`); never deleted while they count.
pub const SIGN_IN_FAILURES_KEPT: Duration = Duration::hours(crate::domain::sign_in::PAIR_WINDOW_HOURS);
/// An address an account signed in from is familiar for 30 days; after that it is forgotten.
pub const FAMILIAR_CLIENTS_KEPT: Duration = Duration::days(crate::domain::sign_in::FAMILIAR_FOR_DAYS);
/// Rate-limit windows last one minute; the limiter itself keeps two.
pub const RATE_LIMIT_WINDOWS_KEPT: Duration = Duration::hours(1);
/// A spent link keeps answering "used", "expired" or "revoked" (instead of "invalid") for a
/// week, for the person who clicks an old mail and for support.
pub const SPENT_LINKS_KEPT: Duration = Duration::days(7);

/// What one run deleted, per table (only tables it deleted from).
pub type Purged = BTreeMap<&'static str, usize>;

/// Deletes, in batches, every row past its period at `now`.
pub fn purge(conn: &mut DbConn, settings: &RetentionSettings, now: NaiveDateTime) -> anyhow::Result<Purged> {
    let mut purged = Purged::new();
    let mut count = |table: &'static str, deleted: usize| {
        if deleted > 0 {
            *purged.entry(table).or_default() += deleted;
        }
    };
    count(
        "outbox_messages",
        in_batches(|| retention::sent_mail(conn, now - settings.sent_mail, BATCH))?,
    );
    count(
        "outbox_messages",
        in_batches(|| retention::failed_mail(conn, now - settings.failed_mail, BATCH))?,
    );
    count(
        "user_tokens",
        in_batches(|| retention::spent_links(conn, now - SPENT_LINKS_KEPT, BATCH))?,
    );
    count("login_failures", purge_sign_in_failures(conn, now)?);
    count("rate_limit_windows", purge_rate_limit_windows(conn, now)?);
    count("idempotency_keys", purge_idempotency_keys(conn, now)?);
    count(
        "sign_in_clients",
        retention::familiar_clients(conn, now - FAMILIAR_CLIENTS_KEPT)?.deleted,
    );
    if let Some(period) = settings.audit_events {
        count(
            "audit_events",
            in_batches(|| retention::audit_events(conn, now - period, BATCH))?,
        );
    }
    Ok(purged)
}

fn purge_sign_in_failures(conn: &mut DbConn, now: NaiveDateTime) -> diesel::QueryResult<usize> {
    in_batches(|| retention::sign_in_failures(conn, now - SIGN_IN_FAILURES_KEPT, BATCH))
}

fn purge_rate_limit_windows(conn: &mut DbConn, now: NaiveDateTime) -> diesel::QueryResult<usize> {
    Ok(retention::rate_limit_windows(conn, now - RATE_LIMIT_WINDOWS_KEPT)?.deleted)
}

fn purge_idempotency_keys(conn: &mut DbConn, now: NaiveDateTime) -> diesel::QueryResult<usize> {
    Ok(retention::expired_idempotency_keys(conn, now)?.deleted)
}

/// Repeats a batch until one finds fewer rows than a full batch; returns what this instance
/// deleted (another instance may have deleted some of what it found).
fn in_batches(mut batch: impl FnMut() -> diesel::QueryResult<retention::Batch>) -> diesel::QueryResult<usize> {
    let mut deleted = 0;
    loop {
        let done = batch()?;
        deleted += done.deleted;
        if (done.found as i64) < BATCH {
            return Ok(deleted);
        }
    }
}

/// Purges every `settings.interval`, starting one interval after start-up (a fleet that
/// restarts together does not purge all at once at boot), logging and counting what went.
pub async fn run(pool: DbPool, settings: RetentionSettings, clock: Arc<dyn Clock>, metrics: Arc<Metrics>) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + settings.interval, settings.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let pool = pool.clone();
        let this_run = settings.clone();
        let now = clock.now();
        let outcome = tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            purge(&mut conn, &this_run, now)
        })
        .await;
        match outcome {
            Ok(Ok(purged)) => {
                metrics.purge_runs.with_label_values(&["ok"]).inc();
                for (table, deleted) in &purged {
                    metrics.purged_rows.with_label_values(&[table]).inc_by(*deleted as u64);
                }
                let total: usize = purged.values().sum();
                tracing::info!(deleted = total, tables = ?purged, "retention: purged rows past their period");
            }
            Ok(Err(error)) => {
                metrics.purge_runs.with_label_values(&["failed"]).inc();
                tracing::warn!(error = %format!("{error:#}"), "retention: purge failed; trying again next interval");
            }
            Err(error) => {
                metrics.purge_runs.with_label_values(&["failed"]).inc();
                tracing::error!(error = %error, "retention: purge panicked");
            }
        }
    }
}
