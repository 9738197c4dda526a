//! Building audit events: who, when, what, which tenant; never passwords, tokens, names or
//! email addresses (a deleted user's personal data must not live on in the log).

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use crate::db::rows::AuditEventRow;
use crate::db::{DbConn, audit};

pub struct AuditEntry<'a> {
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<&'a str>,
    pub corporation_code: Option<&'a str>,
    pub changes: Map<String, Value>,
}

pub fn record(conn: &mut DbConn, entry: AuditEntry<'_>, at: NaiveDateTime) -> diesel::QueryResult<()> {
    audit::append(
        conn,
        &AuditEventRow {
            id: uuid::Uuid::now_v7().to_string(),
            at,
            actor_id: entry.actor_id.map(str::to_string),
            action: entry.action.to_string(),
            target_type: entry.target_type.to_string(),
            target_id: entry.target_id.map(str::to_string),
            corporation_code: entry.corporation_code.map(str::to_string),
            changes: Value::Object(entry.changes).to_string(),
        },
    )
}

/// An event about a user, in the user's corporation.
pub fn user_event(
    conn: &mut DbConn,
    actor_id: Option<&str>,
    action: &str,
    user: &crate::db::rows::UserRow,
    changes: Map<String, Value>,
    at: NaiveDateTime,
) -> diesel::QueryResult<()> {
    record(
        conn,
        AuditEntry {
            actor_id,
            action,
            target_type: "user",
            target_id: Some(&user.id),
            corporation_code: user.corporation_code.as_deref(),
            changes,
        },
        at,
    )
}

/// `{"old": .., "new": ..}` for a field whose values may be shown.
pub fn change(old: impl Into<Value>, new: impl Into<Value>) -> Value {
    serde_json::json!({ "old": old.into(), "new": new.into() })
}

/// For personal fields: only the fact that they changed.
pub fn changed_personal_field() -> Value {
    serde_json::json!({ "changed": true })
}
