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

pub fn list(conn: &mut DbConn, corporation_code: Option<&str>) -> QueryResult<Vec<ContractorRow>> {
    let mut query = contractors::table.into_boxed::<super::MultiBackend>();
    if let Some(code) = corporation_code {
        query = query.filter(contractors::corporation_code.eq(code.to_string()));
    }
    query
        .order((contractors::name_key.asc(), contractors::id.asc()))
        .load(conn)
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

/// Deletes the contractor; its settings and approvals go by cascade. Returns its users' ids,
/// which the caller deletes first.
pub fn user_ids(conn: &mut DbConn, id: &str) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::contractor_id.eq(id))
        .select(users::id)
        .load(conn)
}

pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::delete(contractors::table.find(id)).execute(conn).map(drop)
}
