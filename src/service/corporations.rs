//! Corporations: created and edited by KWH staff, read by their own main users.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use serde_json::Map;

use super::audit::{self as audit_log, AuditEntry, change};
use crate::db::corporations::{self as store, InsertCorporationError};
use crate::db::rows::{CorporationRow, keys_from_json, keys_to_json};
use crate::db::{DbConn, write_transaction};
use crate::domain::corporation::{CorporationCode, SurveyPart};
use crate::domain::limits::{MAX_CORPORATIONS, has_room};
use crate::domain::user::{Actor, ManagementScope, Role};
use crate::error::{AppError, ErrorCode};

fn require_kwh_admin(actor: &Actor) -> Result<(), AppError> {
    if actor.role == Role::KwhAdmin {
        Ok(())
    } else {
        Err(AppError::new(ErrorCode::Forbidden))
    }
}

/// Rule 4: another corporation answers as if it did not exist.
pub fn find_visible(conn: &mut DbConn, actor: &Actor, code: &CorporationCode) -> Result<CorporationRow, AppError> {
    let scope = super::management_scope(actor)?;
    if !scope.includes(Some(code)) {
        return Err(AppError::not_found());
    }
    store::find(conn, code.as_str())?.ok_or_else(AppError::not_found)
}

pub fn list(conn: &mut DbConn, actor: &Actor) -> Result<Vec<CorporationRow>, AppError> {
    match super::management_scope(actor)? {
        ManagementScope::Everything => {
            super::within_bound(store::list(conn, None, MAX_CORPORATIONS + 1)?, MAX_CORPORATIONS)
        }
        ManagementScope::Corporation(own) => Ok(store::list(conn, Some(own.as_str()), 1)?),
    }
}

fn parts_json(parts: &BTreeSet<SurveyPart>) -> String {
    keys_to_json(parts.iter().map(|p| p.key()))
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    code: CorporationCode,
    name: String,
    active_parts: BTreeSet<SurveyPart>,
    now: NaiveDateTime,
) -> Result<CorporationRow, AppError> {
    require_kwh_admin(actor)?;
    let row = CorporationRow {
        code: code.as_str().to_string(),
        name,
        active_parts: parts_json(&active_parts),
        created_at: now,
        updated_at: now,
    };
    write_transaction(conn, |conn| {
        store::lock_creation(conn)?;
        if !has_room(store::count(conn)?, 1, MAX_CORPORATIONS) {
            return Err(AppError::new(ErrorCode::CorporationLimitReached));
        }
        store::insert(conn, &row).map_err(|e| match e {
            InsertCorporationError::CodeTaken => AppError::new(ErrorCode::CorporationExists),
            InsertCorporationError::Database(e) => e.into(),
        })?;
        let mut facts = Map::new();
        facts.insert("name".into(), row.name.clone().into());
        facts.insert("active_parts".into(), keys_from_json(&row.active_parts).into());
        audit_log::record(
            conn,
            AuditEntry {
                actor_id: Some(&actor.audit_id()),
                action: "corporation.created",
                target_type: "corporation",
                target_id: Some(&row.code),
                corporation_code: Some(&row.code),
                changes: facts,
            },
            now,
        )?;
        Ok(row)
    })
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    code: &CorporationCode,
    name: Option<String>,
    active_parts: Option<BTreeSet<SurveyPart>>,
    now: NaiveDateTime,
) -> Result<CorporationRow, AppError> {
    require_kwh_admin(actor)?;
    write_transaction(conn, |conn| {
        let mut row = store::find(conn, code.as_str())?.ok_or_else(AppError::not_found)?;
        let mut changes = Map::new();
        if let Some(name) = name.filter(|n| *n != row.name) {
            changes.insert("name".into(), change(row.name.clone(), name.clone()));
            row.name = name;
        }
        let mut switched_off = BTreeSet::new();
        if let Some(new_parts) = active_parts.filter(|p| parts_json(p) != row.active_parts) {
            switched_off = keys_from_json(&row.active_parts)
                .iter()
                .filter_map(|k| SurveyPart::from_key(k))
                .filter(|part| !new_parts.contains(part))
                .collect();
            let parts = parts_json(&new_parts);
            changes.insert(
                "active_parts".into(),
                change(keys_from_json(&row.active_parts), keys_from_json(&parts)),
            );
            row.active_parts = parts;
        }
        if changes.is_empty() {
            return Ok(row);
        }
        row.updated_at = now;
        store::update(conn, &row)?;
        super::report_settings::remove_switched_off_parts(conn, actor, &row.code, &switched_off, now)?;
        audit_log::record(
            conn,
            AuditEntry {
                actor_id: Some(&actor.audit_id()),
                action: "corporation.updated",
                target_type: "corporation",
                target_id: Some(&row.code),
                corporation_code: Some(&row.code),
                changes,
            },
            now,
        )?;
        Ok(row)
    })
}
