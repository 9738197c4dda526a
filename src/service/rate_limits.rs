//! Requests per caller and minute, counted in the database so that the limit holds across
//! instances (the headers and the refusal are `http::rate_limit`).

use chrono::{Duration, NaiveDateTime};

use crate::db::{DbConn, rate_limits};
use crate::error::AppError;

/// Counts one request of `subject` in the minute starting at `window_start`; returns how many
/// it has made in that minute, this one included.
pub fn count_request(conn: &mut DbConn, subject: &str, window_start: NaiveDateTime) -> Result<u64, AppError> {
    let count = rate_limits::count_request(conn, subject, window_start)?;
    if count == 1 {
        // The first request of a new window: a good moment to forget old ones.
        rate_limits::prune(conn, window_start - Duration::minutes(2))?;
    }
    u64::try_from(count).map_err(|_| AppError::internal(anyhow::anyhow!("{subject}: negative request count {count}")))
}
