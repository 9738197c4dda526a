//! Idempotency keys as stored: a first request claims its key, its answer is kept with its
//! writes, and a retry with the same request gets that answer (the HTTP side, which reads the
//! header and replays the answer, is `http::idempotency`).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};

use crate::db::DbConn;
use crate::db::idempotency::{self as store, IdempotencyRow};
use crate::error::AppError;

const KEPT_FOR_HOURS: i64 = 24;
/// A first request that has not answered after this long is taken to have died with its
/// instance; the key is then free again.
const ABANDONED_AFTER_SECONDS: i64 = 300;

/// A first request's hold on its key: only the holder may store the answer.
#[derive(Debug, Clone)]
pub struct Claim {
    actor: String,
    key: String,
    claim_id: String,
}

/// An answer as kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// What became of a request's claim on its key.
#[derive(Debug)]
pub enum KeyClaim {
    /// This request is the first with the key: it acts, then stores its answer.
    First(Claim),
    /// The same request answered before: its answer is replayed.
    Answered(StoredAnswer),
    /// The same request is still running.
    InProgress,
    /// The key was used for another request.
    Reused,
    /// The caller's user was deleted meanwhile: their credential has ended.
    OwnerGone,
}

/// Claims `key` of `actor` (whose answers belong to the user `user_id`) for the request with
/// `fingerprint`, once the expired keys are forgotten.
pub fn claim(
    conn: &mut DbConn,
    actor: &str,
    key: &str,
    fingerprint: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<KeyClaim, AppError> {
    let row = IdempotencyRow {
        actor: actor.to_string(),
        idempotency_key: key.to_string(),
        fingerprint: fingerprint.to_string(),
        status_code: None,
        response_headers: None,
        response_body: None,
        created_at: now,
        expires_at: now + Duration::hours(KEPT_FOR_HOURS),
        user_id: Some(user_id.to_string()),
        claim_id: Some(uuid::Uuid::new_v4().to_string()),
    };
    store::prune(conn, now)?;
    let claimed = match store::claim(conn, &row) {
        // Left by a request that never finished: its transaction was rolled back with its
        // instance, so nothing of it happened. The key is free again.
        Ok(Some(earlier))
            if earlier.status_code.is_none() && (now - earlier.created_at).num_seconds() > ABANDONED_AFTER_SECONDS =>
        {
            store::release(conn, &earlier.actor, &earlier.idempotency_key)?;
            store::claim(conn, &row)
        }
        other => other,
    };
    let existing = match claimed {
        Err(error) if store::is_owner_gone(&error) => return Ok(KeyClaim::OwnerGone),
        other => other?,
    };
    let Some(earlier) = existing else {
        return Ok(KeyClaim::First(Claim {
            actor: row.actor,
            key: row.idempotency_key,
            claim_id: row.claim_id.unwrap_or_default(),
        }));
    };
    if earlier.fingerprint != fingerprint {
        return Ok(KeyClaim::Reused);
    }
    let Some(status) = earlier.status_code else {
        return Ok(KeyClaim::InProgress);
    };
    Ok(KeyClaim::Answered(stored_answer(status, earlier)?))
}

/// The answer a completed key holds with its `status`. Headers and body are written with the
/// status, so one that is missing or does not parse is damage, not an answer to replay.
fn stored_answer(status: i32, row: IdempotencyRow) -> Result<StoredAnswer, AppError> {
    let damaged = |what: String| {
        AppError::internal(anyhow::anyhow!(
            "idempotency key {:?} of {}: stored answer {what}",
            row.idempotency_key,
            row.actor
        ))
    };
    let status = u16::try_from(status).map_err(|_| damaged(format!("status {status}")))?;
    let headers = row
        .response_headers
        .as_deref()
        .ok_or_else(|| damaged("without headers".into()))?;
    let headers = serde_json::from_str(headers).map_err(|e| damaged(format!("headers {headers:?}: {e}")))?;
    let body = row
        .response_body
        .clone()
        .ok_or_else(|| damaged("without a body".into()))?;
    Ok(StoredAnswer { status, headers, body })
}

/// What became of a request's claim when it came to keep its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// The answer is kept with the request's writes.
    Kept,
    /// Another request holds the key now (this one ran past the abandonment time).
    TakenOver,
    /// The claim went with its user, deleted while the request ran: their credential ended.
    OwnerGone,
}

/// Keeps the answer of the request holding `claim`, when it still holds it.
pub fn complete(conn: &mut DbConn, claim: &Claim, answer: &StoredAnswer) -> Result<Completion, AppError> {
    let headers = serde_json::to_string(&answer.headers).map_err(AppError::internal)?;
    let status = i32::from(answer.status);
    if store::complete(
        conn,
        &claim.actor,
        &claim.key,
        &claim.claim_id,
        status,
        &headers,
        &answer.body,
    )? {
        return Ok(Completion::Kept);
    }
    // A takeover leaves a claim of its own; only the user's deletion takes the key away.
    Ok(match store::exists(conn, &claim.actor, &claim.key)? {
        true => Completion::TakenOver,
        false => Completion::OwnerGone,
    })
}

/// Frees the key: the first request failed on our side, and a retry should act.
pub fn release(conn: &mut DbConn, claim: &Claim) -> Result<(), AppError> {
    Ok(store::release(conn, &claim.actor, &claim.key)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completed(headers: Option<&str>, body: Option<&str>) -> IdempotencyRow {
        let at = NaiveDateTime::default();
        IdempotencyRow {
            actor: "user:u-1:v0".into(),
            idempotency_key: "k-1".into(),
            fingerprint: "f".into(),
            status_code: Some(201),
            response_headers: headers.map(str::to_string),
            response_body: body.map(str::to_string),
            created_at: at,
            expires_at: at,
            user_id: Some("u-1".into()),
            claim_id: Some("c-1".into()),
        }
    }

    #[test]
    fn a_stored_answer_reads_as_it_was_kept() {
        let answer = stored_answer(201, completed(Some(r#"{"location":"/users/u-2"}"#), Some("{}"))).unwrap();
        assert_eq!(answer.status, 201);
        assert_eq!(answer.headers["location"], "/users/u-2");
        assert_eq!(answer.body, "{}");
    }

    #[test]
    fn a_damaged_stored_answer_is_an_internal_error_naming_its_key() {
        for row in [
            completed(None, Some("{}")),
            completed(Some("not json"), Some("{}")),
            completed(Some("{}"), None),
        ] {
            let error = stored_answer(201, row).unwrap_err();
            assert!(error.is_internal());
            assert!(error.to_string().contains("\"k-1\""), "{error}");
        }
        assert!(
            stored_answer(-1, completed(Some("{}"), Some("{}")))
                .unwrap_err()
                .is_internal()
        );
    }
}
