//! Signing in with email and password, throttled as `domain::sign_in` decides.
//!
//! An attempt is two transactions around the password check, which runs on the argon2 threads:
//! [`begin`] counts the attempt as a failure before the password is known (so that N parallel
//! guesses count as N), [`finish`] takes that back when the password was right.

use chrono::NaiveDateTime;
use serde_json::Map;

use super::audit as audit_log;
use crate::db::login_failures::{self, AttemptKeys};
use crate::db::rows::UserRow;
use crate::db::{DbConn, users, write_transaction};
use crate::domain::email::EmailAddress;
use crate::domain::sign_in;
use crate::error::AppError;

/// An attempt that may have its password checked: its failure is already counted.
pub struct Attempt {
    /// The account's user, when the address is one; its stored hash is what to check.
    pub user: Option<UserRow>,
    keys: AttemptKeys,
    reserved: Vec<String>,
}

/// The account a typed address counts on: the normalised address, or (for text that is no
/// address, which no user has) what was typed, trimmed, lower-cased and without control
/// characters (PostgreSQL cannot store NUL).
pub fn account_key(typed: &str) -> String {
    match EmailAddress::parse(typed) {
        Ok(email) => email.as_str().to_string(),
        Err(_) => typed
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| !c.is_control())
            .collect(),
    }
}

/// Refuses the attempt (429) when the throttle says so; otherwise counts it as a failure.
pub fn begin(conn: &mut DbConn, typed_email: &str, client: &str, now: NaiveDateTime) -> Result<Attempt, AppError> {
    let email = EmailAddress::parse(typed_email).ok();
    let keys = AttemptKeys {
        account: account_key(typed_email),
        client: client.to_string(),
    };
    write_transaction(conn, |conn| {
        let user = match &email {
            Some(email) => users::find_by_email(conn, email.as_str())?,
            None => None,
        };
        let history = login_failures::history(conn, &keys, user.as_ref().map(|u| u.id.as_str()), now)?;
        sign_in::check_attempt(&history, now).map_err(|t| AppError::too_many_requests(t.retry_after_seconds()))?;
        let reserved = login_failures::reserve(conn, &keys, history.familiar, now)?;
        Ok(Attempt { user, keys, reserved })
    })
}

/// Ends an attempt: with the right password the user is signed in (the reservation is taken
/// back, the address becomes familiar, `last_login_at` is set); otherwise the failure stays
/// counted and `None` is returned.
pub fn finish(
    conn: &mut DbConn,
    attempt: Attempt,
    password_matched: bool,
    now: NaiveDateTime,
) -> Result<Option<UserRow>, AppError> {
    write_transaction(conn, |conn| {
        let Some(user) = attempt.user else {
            login_failures::prune(conn, now)?;
            return Ok(None);
        };
        // Read again: a deactivation may have committed while the password was checked.
        let deactivated = users::find(conn, &user.id)?.map(|current| !current.is_active());
        if password_matched && deactivated == Some(false) {
            login_failures::release(conn, &attempt.reserved)?;
            login_failures::remember_client(conn, &user.id, &attempt.keys.client, now)?;
            users::record_login(conn, &user.id, now)?;
            audit_log::user_event(conn, Some(&user.id), "login.succeeded", &user, Map::new(), now)?;
            return Ok(Some(user));
        }
        // A deactivated user's right password fails as a wrong one does: the same answer, and
        // the failure stays counted, so neither the answer nor the throttle tells them apart.
        login_failures::prune(conn, now)?;
        let mut facts = Map::new();
        if deactivated == Some(true) {
            facts.insert("deactivated".into(), true.into());
        }
        audit_log::user_event(conn, None, "login.failed", &user, facts, now)?;
        Ok(None)
    })
}
