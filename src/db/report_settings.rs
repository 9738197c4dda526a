//! Storage of report settings in force and of approval requests.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rows::{ApprovalRow, ReportSettingsRow};
use super::schema::{approvals, contractor_own_names as own_names, contractors, report_settings};
use super::{DbConn, PgConnection};

pub fn find_active(conn: &mut DbConn, contractor_id: &str) -> QueryResult<Option<ReportSettingsRow>> {
    report_settings::table.find(contractor_id).first(conn).optional()
}

pub fn active_for(conn: &mut DbConn, contractor_ids: &[String]) -> QueryResult<HashMap<String, ReportSettingsRow>> {
    Ok(report_settings::table
        .filter(report_settings::contractor_id.eq_any(contractor_ids))
        .load::<ReportSettingsRow>(conn)?
        .into_iter()
        .map(|row| (row.contractor_id.clone(), row))
        .collect())
}

/// Puts settings in force; the caller holds the contractor's lock.
pub fn put_active(conn: &mut DbConn, row: &ReportSettingsRow) -> QueryResult<()> {
    let updated = diesel::update(report_settings::table.find(&row.contractor_id))
        .set((
            report_settings::parts.eq(&row.parts),
            report_settings::own_names.eq(&row.own_names),
            report_settings::partner_names.eq(&row.partner_names),
            report_settings::excel_download.eq(row.excel_download),
            report_settings::version.eq(row.version),
            report_settings::approval_id.eq(&row.approval_id),
            report_settings::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(report_settings::table).values(row).execute(conn)?;
    }
    Ok(())
}

pub fn find_approval(conn: &mut DbConn, id: &str) -> QueryResult<Option<ApprovalRow>> {
    approvals::table.find(id).first(conn).optional()
}

pub fn pending_for(conn: &mut DbConn, contractor_id: &str) -> QueryResult<Option<ApprovalRow>> {
    approvals::table
        .filter(approvals::contractor_id.eq(contractor_id))
        .filter(approvals::status.eq("pending"))
        .first(conn)
        .optional()
}

pub fn insert_approval(conn: &mut DbConn, row: &ApprovalRow) -> QueryResult<()> {
    diesel::insert_into(approvals::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Moves a pending request to `status`; false when it was no longer pending.
pub fn decide(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    decided_by: Option<&str>,
    at: NaiveDateTime,
    reason: Option<&str>,
) -> QueryResult<bool> {
    let updated = diesel::update(approvals::table.find(id).filter(approvals::status.eq("pending")))
        .set((
            approvals::status.eq(status),
            approvals::decided_by.eq(decided_by),
            approvals::decided_at.eq(Some(at)),
            approvals::reason.eq(reason),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

#[derive(Debug, Clone, Default)]
pub struct ApprovalQuery {
    pub corporation_code: Option<String>,
    pub status: Option<String>,
    pub contractor_id: Option<String>,
    /// The review queue's order: the request that has waited longest first.
    pub oldest_first: bool,
    /// Ids are UUIDv7 (time-ordered): the id of the last request of the previous page.
    pub cursor: Option<String>,
    pub limit: i64,
}

/// Newest first, or oldest first for the review queue.
pub fn list_approvals(conn: &mut DbConn, query: &ApprovalQuery) -> QueryResult<Vec<ApprovalRow>> {
    let mut select = approvals::table.into_boxed::<super::MultiBackend>();
    if let Some(code) = &query.corporation_code {
        select = select.filter(approvals::corporation_code.eq(code.clone()));
    }
    if let Some(status) = &query.status {
        select = select.filter(approvals::status.eq(status.clone()));
    }
    if let Some(contractor) = &query.contractor_id {
        select = select.filter(approvals::contractor_id.eq(contractor.clone()));
    }
    select = match (&query.cursor, query.oldest_first) {
        (Some(after), true) => select.filter(approvals::id.gt(after.clone())),
        (Some(before), false) => select.filter(approvals::id.lt(before.clone())),
        (None, _) => select,
    };
    let select = if query.oldest_first {
        select.order(approvals::id.asc())
    } else {
        select.order(approvals::id.desc())
    };
    select.limit(query.limit).load(conn)
}

/// Serialises changes to one contractor's settings and requests inside a write transaction
/// (SQLite's `BEGIN IMMEDIATE` already serialises every writer).
pub fn lock_contractor(conn: &mut DbConn, contractor_id: &str) -> QueryResult<()> {
    match conn {
        DbConn::Pg(pg) => lock_pg(pg, contractor_id),
        DbConn::Sqlite(_) => Ok(()),
    }
}

fn lock_pg(pg: &mut PgConnection, contractor_id: &str) -> QueryResult<()> {
    contractors::table
        .find(contractor_id)
        .select(contractors::id)
        .for_update()
        .load::<String>(pg)
        .map(drop)
}

/// Serialises the claims of own names in one corporation until the transaction ends
/// (PostgreSQL; SQLite's write transactions are serial already).
pub fn lock_own_names(conn: &mut DbConn, corporation_code: &str) -> QueryResult<()> {
    super::lock_name_until_commit(conn, &format!("own-names:{corporation_code}"))
}

/// Makes `names` the own names this contractor holds (rule 8: one contractor per name in a
/// corporation). `Err(Some(name))` when another contractor holds `name`; nothing changes then.
pub fn claim_own_names(
    conn: &mut DbConn,
    corporation_code: &str,
    contractor_id: &str,
    names: &[String],
) -> QueryResult<Result<(), String>> {
    diesel::delete(own_names::table.filter(own_names::contractor_id.eq(contractor_id))).execute(conn)?;
    for name in names {
        let inserted = super::write_transaction(conn, |conn| {
            diesel::insert_into(own_names::table)
                .values((
                    own_names::corporation_code.eq(corporation_code),
                    own_names::name.eq(name),
                    own_names::contractor_id.eq(contractor_id),
                ))
                .execute(conn)
        });
        match inserted {
            Ok(_) => {}
            Err(error)
                if super::users::is_unique_violation_of(
                    &error,
                    "contractor_own_names_pkey",
                    "contractor_own_names.corporation_code",
                ) =>
            {
                return Ok(Err(name.clone()));
            }
            Err(error) => return Err(error),
        }
    }
    Ok(Ok(()))
}

/// The contractors (other than `except`) whose own names these are, by name.
pub fn own_name_holders(
    conn: &mut DbConn,
    corporation_code: &str,
    names: &[String],
    except: &str,
) -> QueryResult<HashMap<String, String>> {
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String)> = own_names::table
        .inner_join(contractors::table)
        .filter(own_names::corporation_code.eq(corporation_code))
        .filter(own_names::name.eq_any(names))
        .filter(own_names::contractor_id.ne(except))
        .select((own_names::name, contractors::name))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
