//! Failed sign-ins, kept in the database so that the throttle holds across instances.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::login_failures;

pub fn record(conn: &mut DbConn, keys: &[String], at: NaiveDateTime) -> QueryResult<()> {
    for key in keys {
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::id.eq(uuid::Uuid::now_v7().to_string()),
                login_failures::throttle_key.eq(key),
                login_failures::failed_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The failures for `key` after `since`: how many, and when the oldest of them happened.
pub fn since(conn: &mut DbConn, key: &str, since: NaiveDateTime) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let recent = login_failures::table
        .filter(login_failures::throttle_key.eq(key))
        .filter(login_failures::failed_at.gt(since));
    let count = recent.count().get_result(conn)?;
    let oldest = recent.select(diesel::dsl::min(login_failures::failed_at)).first(conn)?;
    Ok((count, oldest))
}

/// Forgets failures older than `before`, so the table stays small.
pub fn prune(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(before))).execute(conn)
}
