//! Use cases: each runs its rules and storage in one transaction, with its audit event.

pub mod api_tokens;
pub mod audit;
pub mod batch;
pub mod bootstrap;
pub mod callers;
pub mod catalog;
pub mod contractors;
pub mod corporations;
pub mod demo;
pub mod idempotency;
pub mod invitations;
pub mod monitoring;
pub mod rate_limits;
pub mod report_settings;
pub mod retention;
pub mod scim;
pub mod sign_in;
pub mod user_view;
pub mod users;

use crate::domain::user::{Actor, ManagementScope};
use crate::error::{AppError, ErrorCode};

/// What the caller may manage; roles that see only themselves are refused (403).
pub fn management_scope(actor: &Actor) -> Result<ManagementScope, AppError> {
    actor
        .management_scope()
        .ok_or_else(|| AppError::new(ErrorCode::Forbidden))
}

/// A list read with one row more than `max`: that row means more match than one answer holds
/// (rows from before a bound existed), which answers `list_too_large` instead of a list that
/// is silently cut short.
pub fn within_bound<T>(mut rows: Vec<T>, max: usize) -> Result<Vec<T>, AppError> {
    if rows.len() > max {
        rows.clear();
        return Err(AppError::new(ErrorCode::ListTooLarge));
    }
    Ok(rows)
}

/// Rule 4: a row of another corporation answers as if it did not exist (404).
pub fn visible_in<T>(scope: &ManagementScope, corporation_code: Option<&str>, row: T) -> Result<T, AppError> {
    let code = corporation_code.and_then(|c| crate::domain::corporation::CorporationCode::parse(c).ok());
    if scope.includes(code.as_ref()) {
        Ok(row)
    } else {
        Err(AppError::not_found())
    }
}
