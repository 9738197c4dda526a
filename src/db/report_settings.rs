//! Storage of report settings in force and of approval requests.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rows::{ApprovalRow, ReportSettingsRow};
use super::schema::{approvals, contractors, report_settings};
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
