//! Storage of the contractor name catalog ("Alle aannemers").

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::DbConn;
use super::rows::ContractorNameRow;
use super::schema::contractor_names as names;

/// Records that `name` was seen: a new spelling is added, a known one counted again.
/// MultiConnection has no ON CONFLICT, so each backend runs the same upsert itself.
pub fn record_seen(conn: &mut DbConn, corporation_code: &str, name: &str, at: NaiveDateTime) -> QueryResult<()> {
    let row = ContractorNameRow {
        id: uuid::Uuid::new_v4().to_string(),
        corporation_code: corporation_code.to_string(),
        name: name.to_string(),
        first_seen_at: at,
        last_seen_at: at,
        seen_count: 1,
    };
    let insert = diesel::insert_into(names::table).values(row);
    let update = (
        names::last_seen_at.eq(excluded(names::last_seen_at)),
        names::seen_count.eq(names::seen_count + 1),
    );
    match conn {
        DbConn::Pg(pg) => insert
            .on_conflict((names::corporation_code, names::name))
            .do_update()
            .set(update)
            .execute(pg),
        DbConn::Sqlite(sqlite) => insert
            .on_conflict((names::corporation_code, names::name))
            .do_update()
            .set(update)
            .execute(sqlite),
    }
    .map(drop)
}

/// At most `limit` names of the catalog, alphabetically.
pub fn list(conn: &mut DbConn, corporation_code: &str, limit: usize) -> QueryResult<Vec<ContractorNameRow>> {
    names::table
        .filter(names::corporation_code.eq(corporation_code))
        .order(names::name.asc())
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .load(conn)
}

pub fn count(conn: &mut DbConn, corporation_code: &str) -> QueryResult<i64> {
    names::table
        .filter(names::corporation_code.eq(corporation_code))
        .count()
        .get_result(conn)
}

/// The catalog's rows of these spellings, alphabetically.
pub fn named(conn: &mut DbConn, corporation_code: &str, wanted: &[String]) -> QueryResult<Vec<ContractorNameRow>> {
    names::table
        .filter(names::corporation_code.eq(corporation_code))
        .filter(names::name.eq_any(wanted))
        .order(names::name.asc())
        .load(conn)
}

/// Which of `wanted` are in the corporation's catalog (exact spellings).
pub fn existing(conn: &mut DbConn, corporation_code: &str, wanted: &[String]) -> QueryResult<Vec<String>> {
    names::table
        .filter(names::corporation_code.eq(corporation_code))
        .filter(names::name.eq_any(wanted))
        .select(names::name)
        .load(conn)
}
