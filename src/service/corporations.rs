//! Corporations: created and edited by KWH staff, read by their own main users.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use serde_json::Map;

use super::audit::{self as audit_log, AuditEntry, change};
use crate::db::corporations::{self as store, InsertCorporationError};
use crate::db::rows::{CorporationRow, keys_to_json};
use crate::db::{DbConn, write_transaction};
use crate::domain::corporation::{CorporationCode, SurveyPart};
use crate::domain::limits::{MAX_CORPORATIONS, has_room};
use crate::domain::user::{Actor, ManagementScope, Role};
use crate::error::{AppError, ErrorCode};

/// A corporation as the API shows it.
#[derive(Debug, Clone)]
pub struct Corporation {
    pub code: CorporationCode,
    pub name: String,
    /// The survey parts it runs; only these can be granted to its contractors.
    pub active_parts: BTreeSet<SurveyPart>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl TryFrom<CorporationRow> for Corporation {
    type Error = AppError;

    fn try_from(row: CorporationRow) -> Result<Self, AppError> {
        let owner = format!("corporation {}", row.code);
        Ok(Corporation {
            code: stored_code(&row.code, &owner)?,
            active_parts: stored_parts(&row.active_parts, &owner)?,
            name: row.name,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl Corporation {
    fn to_row(&self) -> CorporationRow {
        CorporationRow {
            code: self.code.as_str().to_string(),
            name: self.name.clone(),
            active_parts: parts_json(&self.active_parts),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A corporation code as stored with `owner` (a row named for the log). Every code was parsed
/// before it was stored, so one that is not as parsing leaves it is damage, not a value to
/// pass on (or to tidy up on the way out).
pub(super) fn stored_code(code: &str, owner: &str) -> Result<CorporationCode, AppError> {
    CorporationCode::parse(code)
        .ok()
        .filter(|parsed| parsed.as_str() == code)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("{owner}: stored corporation code {code:?}")))
}

/// Survey parts as stored with `owner` (a JSON array of keys). An unknown key is damage: left
/// out, it would be lost with the next write of the settings that hold it.
pub(super) fn stored_parts(json: &str, owner: &str) -> Result<BTreeSet<SurveyPart>, AppError> {
    let keys: Vec<String> = serde_json::from_str(json)
        .map_err(|e| AppError::internal(anyhow::anyhow!("{owner}: stored survey parts {json:?}: {e}")))?;
    keys.iter()
        .map(|key| {
            SurveyPart::from_key(key)
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("{owner}: unknown stored survey part {key:?}")))
        })
        .collect()
}

fn part_keys(parts: &BTreeSet<SurveyPart>) -> Vec<&'static str> {
    parts.iter().map(|p| p.key()).collect()
}

fn require_kwh_admin(actor: &Actor) -> Result<(), AppError> {
    if actor.role == Role::KwhAdmin {
        Ok(())
    } else {
        Err(AppError::new(ErrorCode::Forbidden))
    }
}

/// Rule 4: another corporation answers as if it did not exist.
pub fn find_visible(conn: &mut DbConn, actor: &Actor, code: &CorporationCode) -> Result<Corporation, AppError> {
    let scope = super::management_scope(actor)?;
    if !scope.includes(Some(code)) {
        return Err(AppError::not_found());
    }
    store::find(conn, code.as_str())?
        .ok_or_else(AppError::not_found)?
        .try_into()
}

pub fn list(conn: &mut DbConn, actor: &Actor) -> Result<Vec<Corporation>, AppError> {
    let rows = match super::management_scope(actor)? {
        ManagementScope::Everything => {
            super::within_bound(store::list(conn, None, MAX_CORPORATIONS + 1)?, MAX_CORPORATIONS)?
        }
        ManagementScope::Corporation(own) => store::list(conn, Some(own.as_str()), 1)?,
    };
    rows.into_iter().map(Corporation::try_from).collect()
}

fn parts_json(parts: &BTreeSet<SurveyPart>) -> String {
    keys_to_json(part_keys(parts))
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    code: CorporationCode,
    name: String,
    active_parts: BTreeSet<SurveyPart>,
    now: NaiveDateTime,
) -> Result<Corporation, AppError> {
    require_kwh_admin(actor)?;
    let corporation = Corporation {
        code,
        name,
        active_parts,
        created_at: now,
        updated_at: now,
    };
    let row = corporation.to_row();
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
        facts.insert("active_parts".into(), part_keys(&corporation.active_parts).into());
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
        Ok(())
    })?;
    Ok(corporation)
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    code: &CorporationCode,
    name: Option<String>,
    active_parts: Option<BTreeSet<SurveyPart>>,
    now: NaiveDateTime,
) -> Result<Corporation, AppError> {
    require_kwh_admin(actor)?;
    write_transaction(conn, |conn| {
        // Locked before it is read, so that what the audit event calls old is what this change
        // replaced, also when another change committed meanwhile.
        store::lock(conn, code.as_str())?;
        let mut corporation: Corporation = store::find(conn, code.as_str())?
            .ok_or_else(AppError::not_found)?
            .try_into()?;
        let mut changes = Map::new();
        if let Some(name) = name.filter(|n| *n != corporation.name) {
            changes.insert("name".into(), change(corporation.name.clone(), name.clone()));
            corporation.name = name;
        }
        let mut switched_off = BTreeSet::new();
        if let Some(new_parts) = active_parts.filter(|p| *p != corporation.active_parts) {
            switched_off = corporation.active_parts.difference(&new_parts).copied().collect();
            changes.insert(
                "active_parts".into(),
                change(part_keys(&corporation.active_parts), part_keys(&new_parts)),
            );
            corporation.active_parts = new_parts;
        }
        if changes.is_empty() {
            return Ok(corporation);
        }
        corporation.updated_at = now;
        store::update(conn, &corporation.to_row())?;
        let code = corporation.code.as_str();
        super::report_settings::remove_switched_off_parts(conn, actor, code, &switched_off, now)?;
        audit_log::record(
            conn,
            AuditEntry {
                actor_id: Some(&actor.audit_id()),
                action: "corporation.updated",
                target_type: "corporation",
                target_id: Some(code),
                corporation_code: Some(code),
                changes,
            },
            now,
        )?;
        Ok(corporation)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(code: &str, active_parts: &str) -> CorporationRow {
        let at = NaiveDateTime::default();
        CorporationRow {
            code: code.into(),
            name: "Woonstichting De Linie".into(),
            active_parts: active_parts.into(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_stored_corporation_reads_as_it_was_written() {
        let corporation = Corporation::try_from(row("KWH042", r#"["repairs","maintenance"]"#)).unwrap();
        assert_eq!(corporation.code.as_str(), "KWH042");
        assert_eq!(
            part_keys(&corporation.active_parts),
            ["repairs", "maintenance"],
            "in the order of SurveyPart"
        );
        assert_eq!(corporation.to_row().active_parts, r#"["repairs","maintenance"]"#);
    }

    #[test]
    fn an_unknown_stored_part_is_an_internal_error_naming_the_corporation_not_a_part_left_out() {
        let error = Corporation::try_from(row("KWH042", r#"["repairs","gardening"]"#)).unwrap_err();
        assert!(error.is_internal());
        assert!(error.to_string().contains("corporation KWH042"), "{error}");
        assert!(error.to_string().contains("gardening"), "{error}");
        assert!(
            Corporation::try_from(row("KWH042", "not json"))
                .unwrap_err()
                .is_internal()
        );
    }

    #[test]
    fn a_stored_code_that_parsing_would_change_is_an_internal_error_not_tidied_up() {
        assert!(stored_code("kwh042", "contractor c-1").unwrap_err().is_internal());
        assert!(stored_code(" KWH042", "contractor c-1").unwrap_err().is_internal());
        assert_eq!(stored_code("KWH042", "contractor c-1").unwrap().as_str(), "KWH042");
    }
}
