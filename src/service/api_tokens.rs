//! Named service tokens for integrators: shown once, stored hashed, revocable at once.

use chrono::{Duration, NaiveDateTime};
use serde_json::Map;

use super::audit::{self as audit_log, AuditEntry};
use crate::auth::token::{SERVICE_TOKEN_PREFIX, link_token_hash, random_token};
use crate::db::rows::ApiTokenRow;
use crate::db::{DbConn, api_tokens, corporations, users, write_transaction};
use crate::domain::corporation::CorporationCode;
use crate::domain::limits::{MAX_LISTED_API_TOKENS, MAX_LIVE_API_TOKENS_PER_USER, has_room};
use crate::domain::user::{Actor, ManagementScope, Role, TokenScope};
use crate::domain::violation::{ViolationKind, Violations};
use crate::error::{AppError, ErrorCode};

/// A service token as its owner sees it: never its secret or its hash.
#[derive(Debug, Clone)]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    pub scope: TokenScope,
    pub created_by: String,
    /// The corporation a `scim` token provisions.
    pub corporation_code: Option<String>,
    /// For a `scim` token: whether its new users get an invitation mail.
    pub invites_new_users: Option<bool>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl From<&ApiTokenRow> for ApiTokenView {
    fn from(row: &ApiTokenRow) -> Self {
        ApiTokenView {
            id: row.id.clone(),
            name: row.name.clone(),
            scope: row.scope,
            created_by: row.created_by.clone(),
            corporation_code: (row.scope == TokenScope::Scim)
                .then(|| row.corporation_code.clone())
                .flatten(),
            invites_new_users: (row.scope == TokenScope::Scim).then_some(row.invites_new_users),
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// What a person asks for when making a token.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub name: String,
    pub scope: TokenScope,
    pub valid_for: Duration,
    /// For `scim`: the corporation it provisions. A main user's own (the default); a
    /// kwh_admin names one.
    pub corporation_code: Option<CorporationCode>,
    /// For `scim`: whether new users get an invitation mail (default yes).
    pub invites_new_users: Option<bool>,
}

/// A token just made, with the secret shown in this answer only.
pub struct NewApiToken {
    pub token: ApiTokenView,
    pub secret: String,
}

/// Only people with a session make tokens: a token cannot mint another.
fn require_person(actor: &Actor) -> Result<ManagementScope, AppError> {
    let scope = super::management_scope(actor)?;
    if actor.via_token.is_some() {
        Err(AppError::new(ErrorCode::Forbidden))
    } else {
        Ok(scope)
    }
}

/// The corporation a new `scim` token provisions.
fn scim_corporation(
    conn: &mut DbConn,
    scope: &ManagementScope,
    requested: Option<CorporationCode>,
) -> Result<String, AppError> {
    let code = match (scope, requested) {
        (ManagementScope::Corporation(own), None) => own.clone(),
        (ManagementScope::Corporation(own), Some(requested)) if requested == *own => requested,
        (ManagementScope::Corporation(_), Some(_)) => return Err(AppError::not_found()),
        (ManagementScope::Everything, None) => {
            return Err(Violations::single("corporation_code", ViolationKind::Required).into());
        }
        (ManagementScope::Everything, Some(requested)) => requested,
    };
    if corporations::find(conn, code.as_str())?.is_none() {
        return Err(Violations::single("corporation_code", ViolationKind::UnknownReference).into());
    }
    Ok(code.as_str().to_string())
}

fn record(
    conn: &mut DbConn,
    actor: &Actor,
    action: &str,
    token: &ApiTokenRow,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let mut facts = Map::new();
    facts.insert("name".into(), token.name.clone().into());
    facts.insert("scope".into(), token.scope.key().into());
    if token.scope == TokenScope::Scim {
        facts.insert("invites_new_users".into(), token.invites_new_users.into());
    }
    audit_log::record(
        conn,
        AuditEntry {
            actor_id: Some(&actor.audit_id()),
            action,
            target_type: "api_token",
            target_id: Some(&token.id),
            corporation_code: token.corporation_code.as_deref(),
            changes: facts,
        },
        now,
    )
}

/// Creates a token acting as `actor`; returns it with its secret, which is never shown again.
///
/// A `scim` token is bound to one corporation: a main user's own, or the one a kwh_admin names
/// (rule 4: a main user naming another answers 404, whether or not it exists).
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    request: TokenRequest,
    now: NaiveDateTime,
) -> Result<NewApiToken, AppError> {
    let scope = require_person(actor)?;
    let corporation_code = match request.scope {
        TokenScope::Scim => Some(scim_corporation(conn, &scope, request.corporation_code)?),
        _ => {
            let mut violations = Violations::new();
            if request.corporation_code.is_some() {
                violations.add("corporation_code", ViolationKind::NotAllowed);
            }
            if request.invites_new_users.is_some() {
                violations.add("invites_new_users", ViolationKind::NotAllowed);
            }
            if !violations.is_empty() {
                return Err(violations.into());
            }
            actor.corporation_code.as_ref().map(|c| c.as_str().to_string())
        }
    };
    let secret = format!("{SERVICE_TOKEN_PREFIX}{}", random_token());
    let mut row = ApiTokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        name: request.name,
        token_hash: link_token_hash(&secret),
        scope: request.scope,
        created_by: actor.user_id.clone(),
        corporation_code,
        created_at: now,
        expires_at: now + request.valid_for,
        last_used_at: None,
        revoked_at: None,
        creator_token_version: 0,
        invites_new_users: request.invites_new_users.unwrap_or(true),
    };
    write_transaction(conn, |conn| {
        api_tokens::lock_creator(conn, &row.created_by)?;
        if !has_room(
            api_tokens::count_live(conn, &row.created_by, now)?,
            1,
            MAX_LIVE_API_TOKENS_PER_USER,
        ) {
            return Err(AppError::new(ErrorCode::ApiTokenLimitReached));
        }
        // Bound to the creator's sessions as they are now (SECURITY.md, the credential table).
        row.creator_token_version = users::find(conn, &actor.user_id)?
            .ok_or_else(|| AppError::new(ErrorCode::Unauthorized))?
            .token_version;
        api_tokens::insert(conn, &row)?;
        record(conn, actor, "api_token.created", &row, now)?;
        Ok::<_, AppError>(())
    })?;
    Ok(NewApiToken {
        token: ApiTokenView::from(&row),
        secret,
    })
}

/// A person's own tokens; KWH staff see everyone's.
pub fn list(conn: &mut DbConn, actor: &Actor) -> Result<Vec<ApiTokenView>, AppError> {
    super::management_scope(actor)?;
    let owner = (actor.role != Role::KwhAdmin).then_some(actor.user_id.as_str());
    Ok(api_tokens::list(conn, owner, MAX_LISTED_API_TOKENS)?
        .iter()
        .map(ApiTokenView::from)
        .collect())
}

/// Revokes a token at once: its next request is refused.
pub fn revoke(conn: &mut DbConn, actor: &Actor, id: &str, now: NaiveDateTime) -> Result<(), AppError> {
    super::management_scope(actor)?;
    write_transaction(conn, |conn| {
        let token = api_tokens::find(conn, id)?
            .filter(|t| actor.role == Role::KwhAdmin || t.created_by == actor.user_id)
            .ok_or_else(AppError::not_found)?;
        // Revoking a revoked token answers as the first time did, and records nothing again.
        if api_tokens::revoke(conn, id, now)? {
            record(conn, actor, "api_token.revoked", &token, now)?;
        }
        Ok(())
    })
}
