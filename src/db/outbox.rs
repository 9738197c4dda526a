//! Storage of outgoing email: enqueue inside a change's transaction, claim, mark.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::rows::OutboxRow;
use super::schema::outbox_messages as outbox;
use super::{DbConn, write_transaction};
use crate::domain::delivery::DeliveryError;

pub fn insert(conn: &mut DbConn, row: &OutboxRow) -> QueryResult<()> {
    diesel::insert_into(outbox::table).values(row).execute(conn).map(drop)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<OutboxRow>> {
    outbox::table.find(id).first(conn).optional()
}

pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<OutboxRow>> {
    outbox::table.filter(outbox::id.eq_any(ids)).load(conn)
}

#[derive(QueryableByName)]
struct ClaimedId {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Takes up to `limit` due messages for `instance` until `lease_until`. On PostgreSQL several
/// instances claim at once without waiting for or taking each other's rows (`SKIP LOCKED`);
/// SQLite has one writer at a time, so a plain transaction is enough there.
pub fn claim_due(
    conn: &mut DbConn,
    instance: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let ids: Vec<String> = match conn {
        DbConn::Pg(_) => diesel::sql_query(
            "UPDATE outbox_messages SET claimed_by = $1, claimed_until = $2 \
             WHERE id IN (SELECT id FROM outbox_messages \
                 WHERE sent_at IS NULL AND failed_at IS NULL AND cancelled_at IS NULL \
                   AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3) \
                 ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING id",
        )
        .bind::<Text, _>(instance)
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load::<ClaimedId>(conn)?
        .into_iter()
        .map(|row| row.id)
        .collect(),
        DbConn::Sqlite(_) => write_transaction(conn, |conn| {
            let ids: Vec<String> = outbox::table
                .filter(outbox::sent_at.is_null())
                .filter(outbox::failed_at.is_null())
                .filter(outbox::cancelled_at.is_null())
                .filter(outbox::next_attempt_at.le(now))
                .filter(outbox::claimed_until.is_null().or(outbox::claimed_until.lt(now)))
                .order(outbox::next_attempt_at.asc())
                .limit(limit)
                .select(outbox::id)
                .load(conn)?;
            diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
                .set((outbox::claimed_by.eq(instance), outbox::claimed_until.eq(lease_until)))
                .execute(conn)?;
            Ok::<_, diesel::result::Error>(ids)
        })?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = find_many(conn, &ids)?;
    rows.sort_by_key(|row| row.next_attempt_at);
    Ok(rows)
}

/// The mail server accepted the message.
pub fn mark_sent(conn: &mut DbConn, id: &str, instance: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id).filter(outbox::claimed_by.eq(instance)))
        .set((
            outbox::sent_at.eq(Some(at)),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(None::<String>),
            outbox::delivery_error.eq(None::<String>),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(drop)
}

/// The attempt failed: try again at `retry_at`, or give up (`failed_at`) when it is `None`.
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    instance: &str,
    error: &str,
    class: DeliveryError,
    at: NaiveDateTime,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    diesel::update(outbox::table.find(id).filter(outbox::claimed_by.eq(instance)))
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(Some(error)),
            outbox::delivery_error.eq(Some(class.key())),
            outbox::next_attempt_at.eq(retry_at.unwrap_or(at)),
            outbox::failed_at.eq(if retry_at.is_none() { Some(at) } else { None }),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(drop)
}

/// The message is no longer wanted (its link was voided, its user deleted).
pub fn cancel(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id).filter(outbox::sent_at.is_null()))
        .set((
            outbox::cancelled_at.eq(Some(at)),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(drop)
}

/// A deleted user's messages go with their personal data.
pub fn delete_for_user(conn: &mut DbConn, user_id: &str) -> QueryResult<usize> {
    diesel::delete(outbox::table.filter(outbox::user_id.eq(user_id))).execute(conn)
}

/// What waits in the outbox of every instance, for the metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    /// Not yet accepted by the mail server, nor given up or cancelled.
    pub queued: i64,
    /// Given up after the last attempt.
    pub failed: i64,
    /// The earliest time a queued message was due: how long mail has been stuck.
    pub oldest_due_since: Option<NaiveDateTime>,
}

pub fn backlog(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Backlog> {
    let queued = outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::failed_at.is_null())
        .filter(outbox::cancelled_at.is_null());
    Ok(Backlog {
        queued: queued.count().get_result(conn)?,
        failed: outbox::table
            .filter(outbox::failed_at.is_not_null())
            .count()
            .get_result(conn)?,
        // A retried message is due from its next attempt; a new one from its creation. The
        // earlier of the two says how long the message could have gone out and did not.
        oldest_due_since: queued
            .filter(outbox::next_attempt_at.le(now))
            .select(diesel::dsl::min(outbox::created_at))
            .first(conn)?,
    })
}
