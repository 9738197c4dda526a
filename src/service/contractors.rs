//! Contractors (aannemers): maintenance partners of one corporation.

use chrono::NaiveDateTime;
use serde_json::Map;

use super::audit::{self as audit_log, change};
use crate::db::contractors::{self as store, WriteContractorError, name_key};
use crate::db::rows::ContractorRow;
use crate::db::{DbConn, corporations, outbox, users, write_transaction};
use crate::domain::corporation::CorporationCode;
use crate::domain::limits::{MAX_CONTRACTORS_PER_CORPORATION, MAX_LISTED_ROWS, has_room};
use crate::domain::user::{Actor, ManagementScope};
use crate::domain::violation::{ViolationKind, Violations};
use crate::error::{AppError, ErrorCode};

/// A contractor as the API shows it.
#[derive(Debug, Clone)]
pub struct Contractor {
    pub id: String,
    pub corporation_code: CorporationCode,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl TryFrom<ContractorRow> for Contractor {
    type Error = AppError;

    fn try_from(row: ContractorRow) -> Result<Self, AppError> {
        Ok(Contractor {
            corporation_code: super::corporations::stored_code(
                &row.corporation_code,
                &format!("contractor {}", row.id),
            )?,
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn name_error(error: WriteContractorError) -> AppError {
    match error {
        WriteContractorError::NameTaken => AppError::new(ErrorCode::ContractorExists),
        WriteContractorError::Database(error) => error.into(),
    }
}

/// Rule 4: another corporation's contractor answers as if it did not exist.
pub(super) fn visible_row(conn: &mut DbConn, scope: &ManagementScope, id: &str) -> Result<ContractorRow, AppError> {
    let row = store::find(conn, id)?.ok_or_else(AppError::not_found)?;
    let code = row.corporation_code.clone();
    super::visible_in(scope, Some(&code), row)
}

pub fn find_visible(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<Contractor, AppError> {
    let scope = super::management_scope(actor)?;
    visible_row(conn, &scope, id)?.try_into()
}

pub fn list(conn: &mut DbConn, actor: &Actor, requested: Option<CorporationCode>) -> Result<Vec<Contractor>, AppError> {
    let scope = super::management_scope(actor)?;
    match scope.narrow(requested) {
        None => Ok(Vec::new()),
        Some(code) => {
            let rows = store::list(conn, code.as_ref().map(CorporationCode::as_str), MAX_LISTED_ROWS + 1)?;
            super::within_bound(rows, MAX_LISTED_ROWS)?
                .into_iter()
                .map(Contractor::try_from)
                .collect()
        }
    }
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    corporation: Option<CorporationCode>,
    name: String,
    now: NaiveDateTime,
) -> Result<Contractor, AppError> {
    let scope = super::management_scope(actor)?;
    let corporation = match (&scope, corporation) {
        (ManagementScope::Corporation(own), None) => own.clone(),
        (ManagementScope::Everything, Some(code)) => code,
        (ManagementScope::Corporation(own), Some(code)) if &code == own => code,
        (ManagementScope::Corporation(_), Some(_)) => {
            return Err(Violations::single("corporation_code", ViolationKind::NotAllowed).into());
        }
        (ManagementScope::Everything, None) => {
            return Err(Violations::single("corporation_code", ViolationKind::Required).into());
        }
    };
    write_transaction(conn, |conn| {
        if corporations::find(conn, corporation.as_str())?.is_none() {
            return Err(Violations::single("corporation_code", ViolationKind::UnknownReference).into());
        }
        // Counted under the corporation's lock, so that two creates cannot both take the last place.
        corporations::lock(conn, corporation.as_str())?;
        if !has_room(
            store::count_in(conn, corporation.as_str())?,
            1,
            MAX_CONTRACTORS_PER_CORPORATION,
        ) {
            return Err(AppError::new(ErrorCode::ContractorLimitReached));
        }
        let row = ContractorRow {
            id: uuid::Uuid::new_v4().to_string(),
            corporation_code: corporation.as_str().to_string(),
            name_key: name_key(&name),
            name,
            created_at: now,
            updated_at: now,
        };
        store::insert(conn, &row).map_err(name_error)?;
        let mut facts = Map::new();
        facts.insert("name".into(), row.name.clone().into());
        audit_log::contractor_event(
            conn,
            actor,
            "contractor.created",
            &row.id,
            &row.corporation_code,
            facts,
            now,
        )?;
        row.try_into()
    })
}

pub fn rename(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    name: String,
    now: NaiveDateTime,
) -> Result<Contractor, AppError> {
    let scope = super::management_scope(actor)?;
    write_transaction(conn, |conn| {
        // Locked before it is read: a rename or removal that committed meanwhile is then seen,
        // so the same change sent twice at once is made and recorded once.
        store::lock(conn, id)?;
        let row = visible_row(conn, &scope, id)?;
        if row.name == name {
            return row.try_into();
        }
        store::rename(conn, id, &name, now).map_err(name_error)?;
        crate::db::users::touch_versions_of_contractor(conn, id)?;
        let mut changes = Map::new();
        changes.insert("name".into(), change(row.name.clone(), name.clone()));
        audit_log::contractor_event(
            conn,
            actor,
            "contractor.updated",
            &row.id,
            &row.corporation_code,
            changes,
            now,
        )?;
        store::find(conn, id)?.ok_or_else(AppError::not_found)?.try_into()
    })
}

/// Removes the contractor with its users, report settings and approvals, in one transaction.
pub fn delete(conn: &mut DbConn, actor: &Actor, id: &str, now: NaiveDateTime) -> Result<(), AppError> {
    let scope = super::management_scope(actor)?;
    write_transaction(conn, |conn| {
        // Locked before it is read: a removal that committed meanwhile leaves nothing to find
        // (404, no second audit event); and before its users are read: a user created for it
        // meanwhile is then either committed and read here, or waits and fails on the foreign
        // key once it is gone.
        store::lock(conn, id)?;
        let row = visible_row(conn, &scope, id)?;
        let user_ids = store::user_ids(conn, id)?;
        for user_id in &user_ids {
            users::delete(conn, user_id)?;
            outbox::delete_for_user(conn, user_id)?;
        }
        store::delete(conn, id)?;
        let mut facts = Map::new();
        facts.insert("deleted_users".into(), serde_json::Value::from(user_ids));
        audit_log::contractor_event(
            conn,
            actor,
            "contractor.deleted",
            &row.id,
            &row.corporation_code,
            facts,
            now,
        )?;
        Ok(())
    })
}
