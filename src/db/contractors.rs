//! Storage of contractors (aannemers).

use std::collections::HashMap;

use diesel::prelude::*;

use super::DbConn;
use super::rows::ContractorRow;
use super::schema::{contractors, users};
use super::users::is_unique_violation_of;

pub enum WriteContractorError {
    NameTaken,
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for WriteContractorError {
    fn from(error: diesel::result::Error) -> Self {
        if is_unique_violation_of(
            &error,
            "contractors_corporation_name_key",
            "contractors.corporation_code",
        ) {
            WriteContractorError::NameTaken
        } else {
            WriteContractorError::Database(error)
        }
    }
}

/// The key under which a contractor's name is unique in its corporation.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

pub fn insert(conn: &mut DbConn, row: &ContractorRow) -> Result<(), WriteContractorError> {
    diesel::insert_into(contractors::table).values(row).execute(conn)?;
    Ok(())
}

pub fn rename(conn: &mut DbConn, id: &str, name: &str, at: chrono::NaiveDateTime) -> Result<(), WriteContractorError> {
    diesel::update(contractors::table.find(id))
        .set((
            contractors::name.eq(name),
            contractors::name_key.eq(name_key(name)),
            contractors::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ContractorRow>> {
    contractors::table.find(id).first(conn).optional()
}

/// At most `limit` contractors, by name.
pub fn list(conn: &mut DbConn, corporation_code: Option<&str>, limit: usize) -> QueryResult<Vec<ContractorRow>> {
    let mut query = contractors::table.into_boxed::<super::MultiBackend>();
    if let Some(code) = corporation_code {
        query = query.filter(contractors::corporation_code.eq(code.to_string()));
    }
    query
        .order((contractors::name_key.asc(), contractors::id.asc()))
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .load(conn)
}

pub fn count_in(conn: &mut DbConn, corporation_code: &str) -> QueryResult<i64> {
    contractors::table
        .filter(contractors::corporation_code.eq(corporation_code))
        .count()
        .get_result(conn)
}

/// Names of these contractors, for showing them beside their users.
pub fn names(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, String>> {
    Ok(contractors::table
        .filter(contractors::id.eq_any(ids))
        .select((contractors::id, contractors::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// Locks the contractor's row until the transaction ends (PostgreSQL). A user's insert needs a
/// share lock on it for its foreign key, so no user is added to a contractor while it is
/// locked. SQLite's `BEGIN IMMEDIATE` already serialises all writers.
pub fn lock(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    match conn {
        DbConn::Pg(pg) => contractors::table
            .find(id)
            .select(contractors::id)
            .for_update()
            .load::<String>(pg)
            .map(drop),
        DbConn::Sqlite(_) => Ok(()),
    }
}

/// The ids of the contractor's users, which the caller deletes before the contractor (whose
/// settings and approvals go by cascade).
pub fn user_ids(conn: &mut DbConn, id: &str) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::contractor_id.eq(id))
        .select(users::id)
        .load(conn)
}

/// Deletes the contractor; its settings, approvals and any user not deleted first go by cascade.
pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::delete(contractors::table.find(id)).execute(conn).map(drop)
}
