//! The application's error: what a query, a use case or background work returns when it does
//! not succeed, with the stable code a client will read.
//!
//! The policy:
//! - **Rules and refusals** are an [`AppError`] with an [`ErrorCode`] (`email_taken`,
//!   `last_main_user`, ...). The code is the contract: its key never changes once published,
//!   and `http::problem` gives each code its status and its English and Dutch texts.
//! - **Invalid input** is a [`Violations`] list turned into an `AppError` (`validation_failed`,
//!   with every invalid field), so a client can show each field's problem at once.
//! - **Queries** return `diesel::QueryResult`; `?` turns an unforeseen database error into an
//!   internal error, except SQLite's "database is locked" past the busy timeout, which is
//!   overload (`service_unavailable`: retry), not a fault.
//! - **Internal errors** keep their cause for the log (with the request id) and answer 500
//!   without it: no SQL, address or secret reaches a client.
//! - **Background work** (the mail sender, retention) logs its errors and carries on; it never
//!   answers anyone.
//!
//! Nothing here knows HTTP: the mapping to `application/problem+json`, the status codes and the
//! headers live in `http::problem`.

use std::fmt;

use crate::domain::keyed::keyed_enum;
use crate::domain::violation::{Violation, ViolationKind, Violations};

keyed_enum! {
    /// The stable codes a program can branch on. Their keys never change once published.
    pub enum ErrorCode {
        MalformedJson = "malformed_json",
        InvalidBody = "invalid_body",
        UnsupportedMediaType = "unsupported_media_type",
        PayloadTooLarge = "payload_too_large",
        HeadersTooLarge = "headers_too_large",
        InvalidHeader = "invalid_header",
        InvalidPathParameter = "invalid_path_parameter",
        InvalidQuery = "invalid_query",
        ValidationFailed = "validation_failed",
        NotFound = "not_found",
        MethodNotAllowed = "method_not_allowed",
        Unauthorized = "unauthorized",
        Forbidden = "forbidden",
        PreconditionFailed = "precondition_failed",
        TooManyRequests = "too_many_requests",
        ServiceUnavailable = "service_unavailable",
        Internal = "internal_error",
        InvalidCredentials = "invalid_credentials",
        EmailTaken = "email_taken",
        EmailImmutable = "email_immutable",
        LastMainUser = "last_main_user",
        CannotDeleteSelf = "cannot_delete_self",
        CannotDeactivateSelf = "cannot_deactivate_self",
        UserDeactivated = "user_deactivated",
        CorporationExists = "corporation_exists",
        InvitationInvalid = "invitation_invalid",
        InvitationExpired = "invitation_expired",
        InvitationUsed = "invitation_used",
        InvitationRevoked = "invitation_revoked",
        InvitationAlreadyAccepted = "invitation_already_accepted",
        ResetTokenInvalid = "reset_token_invalid",
        ResetTokenExpired = "reset_token_expired",
        ResetTokenUsed = "reset_token_used",
        ResetTokenRevoked = "reset_token_revoked",
        ContractorExists = "contractor_exists",
        ExcelDownloadRequiresSingleContractor = "excel_download_requires_single_contractor",
        InvalidTransition = "invalid_transition",
        ApprovalStale = "approval_stale",
        CannotReviewOwnRequest = "cannot_review_own_request",
        InvalidIdempotencyKey = "invalid_idempotency_key",
        IdempotencyKeyReused = "idempotency_key_reused",
        RequestInProgress = "request_in_progress",
        InsufficientScope = "insufficient_scope",
        ExternalIdTaken = "external_id_taken",
        OwnNameTaken = "own_name_taken",
        CorporationLimitReached = "corporation_limit_reached",
        ContractorLimitReached = "contractor_limit_reached",
        CatalogLimitReached = "catalog_limit_reached",
        ApiTokenLimitReached = "api_token_limit_reached",
        ListTooLarge = "list_too_large",
        // SCIM (RFC 7644 §3.12): each answers 400 with the `scimType` of its name.
        InvalidFilter = "invalid_filter",
        InvalidPatchPath = "invalid_patch_path",
        PatchNoTarget = "patch_no_target",
        InvalidAttributeValue = "invalid_attribute_value",
        AttributeImmutable = "attribute_immutable",
        InvalidScimRequest = "invalid_scim_request",
    }
}

/// A failure of a use case: its code, and what a client or the log needs besides.
#[derive(Debug)]
pub struct AppError {
    code: ErrorCode,
    /// Said after the code's fixed detail, in every language (e.g. the JSON parser's message).
    reason: Option<String>,
    /// For `validation_failed` (and the two rule codes that come from a field): each field.
    violations: Vec<Violation>,
    /// For `too_many_requests`: when the same request may succeed again.
    retry_after_secs: Option<u64>,
    /// The cause of an internal error: logged, never sent.
    internal: Option<anyhow::Error>,
}

impl AppError {
    pub fn new(code: ErrorCode) -> Self {
        AppError {
            code,
            reason: None,
            violations: Vec::new(),
            retry_after_secs: None,
            internal: None,
        }
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        AppError {
            internal: Some(error.into()),
            ..AppError::new(ErrorCode::Internal)
        }
    }

    pub fn not_found() -> Self {
        AppError::new(ErrorCode::NotFound)
    }

    /// A throttle or limit refused the request; it may be tried again after `seconds`.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        AppError {
            retry_after_secs: Some(retry_after_secs),
            ..AppError::new(ErrorCode::TooManyRequests)
        }
    }

    /// An unexpected failure (500), such as a database error nobody foresaw.
    pub fn is_internal(&self) -> bool {
        self.code == ErrorCode::Internal
    }

    /// The service, not the request, is in trouble (a fault, or overload): work that spans
    /// several items (a batch) ends whole instead of answering item by item.
    pub fn is_service_failure(&self) -> bool {
        matches!(self.code, ErrorCode::Internal | ErrorCode::ServiceUnavailable)
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }

    pub fn internal_cause(&self) -> Option<&anyhow::Error> {
        self.internal.as_ref()
    }

    /// The same answer to the client, without an internal cause (which is not copied: it is
    /// logged where it happened).
    pub fn answer_copy(&self) -> AppError {
        AppError {
            code: self.code,
            reason: self.reason.clone(),
            violations: self.violations.clone(),
            retry_after_secs: self.retry_after_secs,
            internal: None,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.key())?;
        if let Some(reason) = &self.reason {
            write!(f, ": {reason}")?;
        }
        if let Some(internal) = &self.internal {
            write!(f, ": {internal:#}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        // SQLite's one writer stayed busy past the busy timeout: the service is overloaded,
        // not broken, and the request may be retried (503, not 500).
        if let diesel::result::Error::DatabaseError(_, info) = &error
            && info.message().contains("database is locked")
        {
            tracing::warn!(error = %error, "the database stayed locked past the busy timeout");
            return AppError::new(ErrorCode::ServiceUnavailable);
        }
        AppError::internal(error)
    }
}

impl From<Violations> for AppError {
    /// Invalid fields; an attempt to change an email address is its own code (rule 2), and so
    /// is Excel for a contractor that sees others' results (rule 8).
    fn from(violations: Violations) -> Self {
        let violations = violations.into_vec();
        let code = if violations.iter().any(|v| v.kind == ViolationKind::EmailImmutable) {
            ErrorCode::EmailImmutable
        } else if violations
            .iter()
            .any(|v| v.kind == ViolationKind::ExcelRequiresSingleContractor)
        {
            ErrorCode::ExcelDownloadRequiresSingleContractor
        } else {
            ErrorCode::ValidationFailed
        };
        AppError {
            violations,
            ..AppError::new(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_the_internal_one_keeps_its_published_key() {
        let mut keys: Vec<_> = ErrorCode::ALL.iter().map(|c| c.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), ErrorCode::ALL.len());
        assert_eq!(ErrorCode::Internal.key(), "internal_error");
    }

    #[test]
    fn a_changed_email_outranks_other_violations() {
        let mut violations = Violations::new();
        violations.add("first_name", ViolationKind::Required);
        violations.add("email", ViolationKind::EmailImmutable);
        let error = AppError::from(violations);
        assert_eq!(error.code(), ErrorCode::EmailImmutable);
        assert_eq!(error.violations().len(), 2);
    }
}
