//! Storage of corporations.

use diesel::prelude::*;

use super::rows::CorporationRow;
use super::schema::corporations;
use super::users::is_unique_violation_of;
use super::{DbConn, PgConnection};

pub enum InsertCorporationError {
    CodeTaken,
    Database(diesel::result::Error),
}

pub fn insert(conn: &mut DbConn, row: &CorporationRow) -> Result<(), InsertCorporationError> {
    diesel::insert_into(corporations::table)
        .values(row)
        .execute(conn)
        .map(drop)
        .map_err(|error| {
            if is_unique_violation_of(&error, "corporations_pkey", "corporations.code") {
                InsertCorporationError::CodeTaken
            } else {
                InsertCorporationError::Database(error)
            }
        })
}

pub fn find(conn: &mut DbConn, code: &str) -> QueryResult<Option<CorporationRow>> {
    corporations::table.find(code).first(conn).optional()
}

/// At most `limit` corporations, by code.
pub fn list(conn: &mut DbConn, only: Option<&str>, limit: usize) -> QueryResult<Vec<CorporationRow>> {
    let mut query = corporations::table
        .into_boxed::<super::MultiBackend>()
        .order(corporations::code.asc());
    if let Some(code) = only {
        query = query.filter(corporations::code.eq(code.to_string()));
    }
    query.limit(i64::try_from(limit).unwrap_or(i64::MAX)).load(conn)
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    corporations::table.count().get_result(conn)
}

/// Serialises the creation of corporations inside a write transaction, so that two creates
/// cannot both see room for one more (PostgreSQL; SQLite's `BEGIN IMMEDIATE` serialises all
/// writers). A transaction-scoped advisory lock: there is no row to lock before the insert.
pub fn lock_creation(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Pg(pg) => diesel::sql_query("SELECT pg_advisory_xact_lock(4242002)")
            .execute(pg)
            .map(drop),
        DbConn::Sqlite(_) => Ok(()),
    }
}

pub fn update(conn: &mut DbConn, row: &CorporationRow) -> QueryResult<()> {
    diesel::update(corporations::table.find(&row.code))
        .set((
            corporations::name.eq(&row.name),
            corporations::active_parts.eq(&row.active_parts),
            corporations::updated_at.eq(row.updated_at),
        ))
        .execute(conn)
        .map(drop)
}

/// Serialises changes to one corporation's users inside a write transaction, so that two
/// requests cannot each remove "another" main user and leave none (rule 5). SQLite's
/// `BEGIN IMMEDIATE` already serialises all writers.
///
/// `FOR NO KEY UPDATE`, not `FOR UPDATE`: it serialises these requests alike, but does not
/// conflict with the key-share lock PostgreSQL takes to check a foreign key to the
/// corporation (a user or a token inserted for it), which would otherwise deadlock with a
/// transaction that locked a user row first.
pub fn lock(conn: &mut DbConn, code: &str) -> QueryResult<()> {
    match conn {
        DbConn::Pg(pg) => lock_pg(pg, code),
        DbConn::Sqlite(_) => Ok(()),
    }
}

fn lock_pg(pg: &mut PgConnection, code: &str) -> QueryResult<()> {
    corporations::table
        .find(code)
        .select(corporations::code)
        .for_no_key_update()
        .load::<String>(pg)
        .map(drop)
}
