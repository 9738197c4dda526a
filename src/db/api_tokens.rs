//! Storage of service tokens (by hash only).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::rows::ApiTokenRow;
use super::schema::api_tokens as tokens;

pub fn insert(conn: &mut DbConn, row: &ApiTokenRow) -> QueryResult<()> {
    diesel::insert_into(tokens::table).values(row).execute(conn).map(drop)
}

pub fn find_by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<ApiTokenRow>> {
    tokens::table.filter(tokens::token_hash.eq(hash)).first(conn).optional()
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ApiTokenRow>> {
    tokens::table.find(id).first(conn).optional()
}

/// At most `limit` tokens of one creator, or of everyone (`None`), newest first.
pub fn list(conn: &mut DbConn, created_by: Option<&str>, limit: usize) -> QueryResult<Vec<ApiTokenRow>> {
    let mut query = tokens::table.into_boxed::<super::MultiBackend>();
    if let Some(user) = created_by {
        query = query.filter(tokens::created_by.eq(user.to_string()));
    }
    query
        .order((tokens::created_at.desc(), tokens::id.asc()))
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .load(conn)
}

/// Tokens of this creator that are neither revoked nor expired at `now`.
pub fn count_live(conn: &mut DbConn, created_by: &str, now: NaiveDateTime) -> QueryResult<i64> {
    tokens::table
        .filter(tokens::created_by.eq(created_by))
        .filter(tokens::revoked_at.is_null())
        .filter(tokens::expires_at.gt(now))
        .count()
        .get_result(conn)
}

/// Serialises the creation of one person's tokens inside a write transaction by locking the
/// person's row (PostgreSQL; SQLite's `BEGIN IMMEDIATE` serialises all writers).
pub fn lock_creator(conn: &mut DbConn, created_by: &str) -> QueryResult<()> {
    use super::schema::users;
    match conn {
        DbConn::Pg(pg) => users::table
            .find(created_by)
            .select(users::id)
            .for_update()
            .load::<String>(pg)
            .map(drop),
        DbConn::Sqlite(_) => Ok(()),
    }
}

/// Revokes a live token; whether it was live (a revoked one keeps its time of revocation).
pub fn revoke(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(tokens::table.find(id).filter(tokens::revoked_at.is_null()))
        .set(tokens::revoked_at.eq(Some(at)))
        .execute(conn)
        .map(|revoked| revoked == 1)
}

/// Revokes every live token of a creator (their password was set anew: SECURITY.md).
pub fn revoke_all_of(conn: &mut DbConn, created_by: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        tokens::table
            .filter(tokens::created_by.eq(created_by))
            .filter(tokens::revoked_at.is_null()),
    )
    .set(tokens::revoked_at.eq(Some(at)))
    .execute(conn)
}

/// Notes use at most once a minute, so reading with a token costs no write each time.
pub fn touch(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<()> {
    let a_minute_ago = at - chrono::Duration::minutes(1);
    diesel::update(
        tokens::table
            .find(id)
            .filter(tokens::last_used_at.is_null().or(tokens::last_used_at.lt(a_minute_ago))),
    )
    .set(tokens::last_used_at.eq(Some(at)))
    .execute(conn)
    .map(drop)
}
