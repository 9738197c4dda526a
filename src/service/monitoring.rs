//! The gauges that are read from the database when the metrics are scraped (the outbox is
//! shared by every instance, so each instance reports the same backlog).

use chrono::NaiveDateTime;

use crate::db::{DbConn, outbox};
use crate::metrics::Metrics;

pub fn refresh_outbox_gauges(conn: &mut DbConn, metrics: &Metrics, now: NaiveDateTime) -> diesel::QueryResult<()> {
    let backlog = outbox::backlog(conn, now)?;
    metrics
        .outbox_messages
        .with_label_values(&["queued"])
        .set(backlog.queued);
    metrics
        .outbox_messages
        .with_label_values(&["failed"])
        .set(backlog.failed);
    let age = backlog
        .oldest_due_since
        .map_or(0.0, |since| (now - since).num_milliseconds().max(0) as f64 / 1000.0);
    metrics.outbox_oldest_due_age.set(age);
    Ok(())
}
