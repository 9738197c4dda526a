//! Cursor pagination shared by the lists: the page size, and splitting off the next cursor.

use super::problem::{AppError, ErrorCode};
use crate::domain::corporation::CorporationCode;

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 200;

/// The requested page size, 1 to 200 (default 50).
pub fn page_size(limit: Option<i64>) -> Result<i64, AppError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if (1..=MAX_PAGE_SIZE).contains(&limit) {
        Ok(limit)
    } else {
        Err(invalid_parameter("limit"))
    }
}

/// The longest free-text query parameter (a search, an id to filter on).
pub const MAX_TEXT_PARAMETER_LENGTH: usize = 200;

/// A free-text query parameter: at most 200 characters and no control characters (a NUL is
/// refused by PostgreSQL); blank means absent.
pub fn text_parameter(name: &str, value: Option<String>) -> Result<Option<String>, AppError> {
    // Before trimming: a lone vertical tab or other control character is refused as the
    // documented pattern says (which allows tabs and line breaks, as in free text), not
    // trimmed away into "no filter".
    if value
        .as_deref()
        .is_some_and(|v| v.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(invalid_parameter(name));
    }
    crate::domain::text::optional_text(value.as_deref(), MAX_TEXT_PARAMETER_LENGTH).map_err(|_| invalid_parameter(name))
}

/// The `corporation_code` filter of a list, parsed; a code that cannot exist is a 400.
pub fn corporation_parameter(value: Option<&str>) -> Result<Option<CorporationCode>, AppError> {
    value
        .map(CorporationCode::parse)
        .transpose()
        .map_err(|_| invalid_parameter("corporation_code"))
}

pub fn invalid_parameter(name: &str) -> AppError {
    AppError::new(ErrorCode::InvalidQuery).with_reason(format!("{name}: unsupported value"))
}

/// Rows were fetched with one extra row beyond `page_size`: that row says another page exists,
/// and the cursor is made from the last row shown.
pub fn split_page<T>(mut rows: Vec<T>, page_size: i64, cursor_of: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    if rows.len() as i64 > page_size {
        rows.truncate(page_size as usize);
        let cursor = rows.last().map(cursor_of);
        (rows, cursor)
    } else {
        (rows, None)
    }
}
