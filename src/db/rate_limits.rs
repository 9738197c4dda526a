//! Request counts per caller and minute, in the database so that every instance sees them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::rate_limit_windows as windows;

/// Counts `requests` more of `subject` in the window starting at `window_start`; returns the
/// count including them. One statement on both backends (ON CONFLICT … RETURNING), so that
/// instances adding at once all count.
pub fn add_requests(conn: &mut DbConn, subject: &str, window_start: NaiveDateTime, requests: i32) -> QueryResult<i32> {
    let insert = diesel::insert_into(windows::table).values((
        windows::subject.eq(subject),
        windows::window_start.eq(window_start),
        windows::request_count.eq(requests),
    ));
    let bump = windows::request_count.eq(windows::request_count + requests);
    match conn {
        DbConn::Pg(pg) => insert
            .on_conflict((windows::subject, windows::window_start))
            .do_update()
            .set(bump)
            .returning(windows::request_count)
            .get_result(pg),
        DbConn::Sqlite(sqlite) => insert
            .on_conflict((windows::subject, windows::window_start))
            .do_update()
            .set(bump)
            .returning(windows::request_count)
            .get_result(sqlite),
    }
}

/// Forgets windows that ended before `before`.
pub fn prune(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(windows::table.filter(windows::window_start.lt(before))).execute(conn)
}
