//! Building audit events: who, when, what, which tenant; never passwords, tokens, names or
//! email addresses (a deleted user's personal data must not live on in the log).
//! And reading the log, within the reader's scope (rule 4).

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use crate::db::DbConn;
use crate::db::audit::{self as store, AuditQuery};
use crate::db::rows::AuditEventRow;
use crate::domain::corporation::CorporationCode;
use crate::domain::user::Actor;
use crate::error::AppError;

/// An event of the log as it is shown.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub id: String,
    pub at: NaiveDateTime,
    /// The user or service token that acted; `None` for the system itself and failed sign-ins.
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub corporation_code: Option<CorporationCode>,
    /// Per field `{old, new}`, or facts of the event.
    pub changes: Map<String, Value>,
}

impl TryFrom<AuditEventRow> for AuditEvent {
    type Error = AppError;

    fn try_from(row: AuditEventRow) -> Result<Self, AppError> {
        let owner = format!("audit event {}", row.id);
        let corporation_code = row
            .corporation_code
            .as_deref()
            .map(|code| super::corporations::stored_code(code, &owner))
            .transpose()?;
        let changes = serde_json::from_str(&row.changes)
            .map_err(|e| AppError::internal(anyhow::anyhow!("{owner}: stored changes are no JSON object: {e}")))?;
        Ok(AuditEvent {
            id: row.id,
            at: row.at,
            actor_id: row.actor_id,
            action: row.action,
            target_type: row.target_type,
            target_id: row.target_id,
            corporation_code,
            changes,
        })
    }
}

/// Which events a page of the log holds.
#[derive(Debug, Clone)]
pub struct AuditFilter {
    /// KWH staff: one corporation's events; a main user's are its own corporation's anyway.
    pub corporation: Option<CorporationCode>,
    pub target_id: Option<String>,
    pub action: Option<String>,
    /// The id of the last event of the previous page.
    pub before_id: Option<String>,
    /// How many events to read, newest first.
    pub limit: i64,
}

/// The log, newest first: all of it for KWH staff, its own corporation's for a main user
/// (rule 4: another corporation's log is empty).
pub fn list(conn: &mut DbConn, actor: &Actor, filter: AuditFilter) -> Result<Vec<AuditEvent>, AppError> {
    let scope = super::management_scope(actor)?;
    let Some(corporation) = scope.narrow(filter.corporation) else {
        return Ok(Vec::new());
    };
    let query = AuditQuery {
        corporation_code: corporation.map(|code| code.as_str().to_string()),
        target_id: filter.target_id,
        action: filter.action,
        before_id: filter.before_id,
        limit: filter.limit,
    };
    store::list(conn, &query)?
        .into_iter()
        .map(AuditEvent::try_from)
        .collect()
}

pub struct AuditEntry<'a> {
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<&'a str>,
    pub corporation_code: Option<&'a str>,
    pub changes: Map<String, Value>,
}

pub fn record(conn: &mut DbConn, entry: AuditEntry<'_>, at: NaiveDateTime) -> diesel::QueryResult<()> {
    store::append(
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

/// An event about a contractor (its record or its report settings), in its corporation.
pub fn contractor_event(
    conn: &mut DbConn,
    actor: &crate::domain::user::Actor,
    action: &str,
    contractor_id: &str,
    corporation_code: &str,
    changes: Map<String, Value>,
    at: NaiveDateTime,
) -> diesel::QueryResult<()> {
    record(
        conn,
        AuditEntry {
            actor_id: Some(&actor.audit_id()),
            action,
            target_type: "contractor",
            target_id: Some(contractor_id),
            corporation_code: Some(corporation_code),
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
