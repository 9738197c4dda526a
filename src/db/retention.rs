//! Deleting rows whose period is over, one function per table, in small batches.
//!
//! Each batch reads up to `batch` ids past the cutoff and deletes those ids in one statement.
//! Two instances purging at once may read the same ids; the second `DELETE` then finds them
//! gone and counts nothing, so every row is deleted (and counted) once, and no statement holds
//! its locks for longer than one batch takes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::user_tokens as tokens;
use super::schema::{
    audit_events, audit_retention, idempotency_keys, login_failures, outbox_messages as outbox, rate_limit_windows,
    sign_in_clients,
};
use super::user_tokens::{INVITATION, PASSWORD_RESET};
use super::{DbConn, write_transaction};

/// One batch of a purge: how many ids were past the cutoff, and how many this call deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Batch {
    pub found: usize,
    pub deleted: usize,
}

/// Deletes these messages; the links they carried first copy when they were sent, because a
/// user's invitation shows "sent" for as long as the user exists. Links before messages: the
/// order in which a new invitation locks them (voiding the old link, then cancelling its
/// message), so the two never wait for each other in a circle.
fn delete_outbox(conn: &mut DbConn, ids: Vec<String>) -> QueryResult<Batch> {
    let found = ids.len();
    let deleted = write_transaction(conn, |conn| {
        let sent_at_of_message = outbox::table
            .filter(outbox::id.nullable().eq(tokens::outbox_message_id))
            .select(outbox::sent_at)
            .single_value();
        diesel::update(
            tokens::table
                .filter(tokens::outbox_message_id.eq_any(ids.iter().map(|id| Some(id.as_str()))))
                .filter(tokens::sent_at.is_null()),
        )
        .set(tokens::sent_at.eq(sent_at_of_message))
        .execute(conn)?;
        diesel::delete(outbox::table.filter(outbox::id.eq_any(&ids))).execute(conn)
    })?;
    Ok(Batch { found, deleted })
}

/// Email the mail server accepted, or that was cancelled, before `before`.
pub fn sent_mail(conn: &mut DbConn, before: NaiveDateTime, batch: i64) -> QueryResult<Batch> {
    let ids: Vec<String> = outbox::table
        .filter(outbox::sent_at.lt(before).or(outbox::cancelled_at.lt(before)))
        .select(outbox::id)
        .limit(batch)
        .load(conn)?;
    delete_outbox(conn, ids)
}

/// Email given up on before `before`.
pub fn failed_mail(conn: &mut DbConn, before: NaiveDateTime, batch: i64) -> QueryResult<Batch> {
    let ids: Vec<String> = outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::failed_at.lt(before))
        .select(outbox::id)
        .limit(batch)
        .load(conn)?;
    delete_outbox(conn, ids)
}

/// Links that can no longer be used and are not what a user's invitation shows: password
/// resets used, voided or expired before `before`, and invitations voided before it (by a
/// newer one). A user's newest invitation stays while the user does ("Bevestigd" on the
/// screens).
pub fn spent_links(conn: &mut DbConn, before: NaiveDateTime, batch: i64) -> QueryResult<Batch> {
    let spent_reset = tokens::purpose.eq(PASSWORD_RESET).and(
        tokens::used_at
            .lt(before)
            .or(tokens::revoked_at.lt(before))
            .or(tokens::expires_at.lt(before)),
    );
    let voided_invitation = tokens::purpose.eq(INVITATION).and(tokens::revoked_at.lt(before));
    let ids: Vec<String> = tokens::table
        .filter(spent_reset.or(voided_invitation))
        .select(tokens::id)
        .limit(batch)
        .load(conn)?;
    let found = ids.len();
    let deleted = write_transaction(conn, |conn| {
        diesel::delete(tokens::table.filter(tokens::id.eq_any(&ids))).execute(conn)
    })?;
    Ok(Batch { found, deleted })
}

/// Audit events recorded before `before`. The log refuses any other delete (a trigger): the
/// cutoff is recorded first, in the same transaction, and only moves forward.
pub fn audit_events(conn: &mut DbConn, before: NaiveDateTime, batch: i64) -> QueryResult<Batch> {
    let ids: Vec<String> = audit_events::table
        .filter(audit_events::at.lt(before))
        .select(audit_events::id)
        .limit(batch)
        .load(conn)?;
    let found = ids.len();
    let deleted = write_transaction(conn, |conn| {
        diesel::update(
            audit_retention::table
                .find(1)
                .filter(audit_retention::cutoff.lt(before)),
        )
        .set(audit_retention::cutoff.eq(before))
        .execute(conn)?;
        diesel::delete(audit_events::table.filter(audit_events::id.eq_any(&ids))).execute(conn)
    })?;
    Ok(Batch { found, deleted })
}

/// Failed sign-ins from before `before` (the throttle counts only recent ones).
pub fn sign_in_failures(conn: &mut DbConn, before: NaiveDateTime, batch: i64) -> QueryResult<Batch> {
    let ids: Vec<String> = login_failures::table
        .filter(login_failures::failed_at.lt(before))
        .select(login_failures::id)
        .limit(batch)
        .load(conn)?;
    let found = ids.len();
    let deleted = write_transaction(conn, |conn| {
        diesel::delete(login_failures::table.filter(login_failures::id.eq_any(&ids))).execute(conn)
    })?;
    Ok(Batch { found, deleted })
}

/// Rate-limit windows that started before `before`. The key is (subject, window start), so
/// there is no single id to batch on; the table holds one row per caller and minute, and the
/// limiter already forgets old windows as it goes, so one statement stays short.
pub fn rate_limit_windows(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<Batch> {
    let deleted = write_transaction(conn, |conn| {
        diesel::delete(rate_limit_windows::table.filter(rate_limit_windows::window_start.lt(before))).execute(conn)
    })?;
    Ok(Batch {
        found: deleted,
        deleted,
    })
}

/// Idempotency answers that expired before `before` (keyed by caller and key, as above).
pub fn expired_idempotency_keys(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<Batch> {
    let deleted = write_transaction(conn, |conn| {
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::expires_at.lt(before))).execute(conn)
    })?;
    Ok(Batch {
        found: deleted,
        deleted,
    })
}

/// Addresses an account has not signed in from since `before`: no longer familiar.
pub fn familiar_clients(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<Batch> {
    let deleted =
        diesel::delete(sign_in_clients::table.filter(sign_in_clients::last_success_at.lt(before))).execute(conn)?;
    Ok(Batch {
        found: deleted,
        deleted,
    })
}
