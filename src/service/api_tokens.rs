//! Named service tokens for integrators: shown once, stored hashed, revocable at once.

use chrono::{Duration, NaiveDateTime};
use serde_json::Map;

use super::audit::{self as audit_log, AuditEntry};
use crate::auth::token::{SERVICE_TOKEN_PREFIX, link_token_hash, random_token};
use crate::db::rows::ApiTokenRow;
use crate::db::{DbConn, api_tokens, users, write_transaction};
use crate::domain::limits::{MAX_LISTED_API_TOKENS, MAX_LIVE_API_TOKENS_PER_USER, has_room};
use crate::domain::user::{Actor, Role, TokenScope};
use crate::error::{AppError, ErrorCode};

/// A service token as its owner sees it: never its secret or its hash.
#[derive(Debug, Clone)]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    pub scope: TokenScope,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl TryFrom<&ApiTokenRow> for ApiTokenView {
    type Error = AppError;

    fn try_from(row: &ApiTokenRow) -> Result<Self, AppError> {
        let scope = TokenScope::from_key(&row.scope).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "api token {}: unknown stored scope {:?}",
                row.id,
                row.scope
            ))
        })?;
        Ok(ApiTokenView {
            id: row.id.clone(),
            name: row.name.clone(),
            scope,
            created_by: row.created_by.clone(),
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

/// A token just made, with the secret shown in this answer only.
pub struct NewApiToken {
    pub token: ApiTokenView,
    pub secret: String,
}

/// Only people with a session make tokens: a token cannot mint another.
fn require_person(actor: &Actor) -> Result<(), AppError> {
    super::management_scope(actor)?;
    if actor.via_token.is_some() {
        Err(AppError::new(ErrorCode::Forbidden))
    } else {
        Ok(())
    }
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
    facts.insert("scope".into(), token.scope.clone().into());
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
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    name: String,
    scope: TokenScope,
    valid_for: Duration,
    now: NaiveDateTime,
) -> Result<NewApiToken, AppError> {
    require_person(actor)?;
    let secret = format!("{SERVICE_TOKEN_PREFIX}{}", random_token());
    let mut row = ApiTokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        token_hash: link_token_hash(&secret),
        scope: scope.key().to_string(),
        created_by: actor.user_id.clone(),
        corporation_code: actor.corporation_code.as_ref().map(|c| c.as_str().to_string()),
        created_at: now,
        expires_at: now + valid_for,
        last_used_at: None,
        revoked_at: None,
        creator_token_version: 0,
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
        token: ApiTokenView::try_from(&row)?,
        secret,
    })
}

/// A person's own tokens; KWH staff see everyone's.
pub fn list(conn: &mut DbConn, actor: &Actor) -> Result<Vec<ApiTokenView>, AppError> {
    super::management_scope(actor)?;
    let owner = (actor.role != Role::KwhAdmin).then_some(actor.user_id.as_str());
    api_tokens::list(conn, owner, MAX_LISTED_API_TOKENS)?
        .iter()
        .map(ApiTokenView::try_from)
        .collect()
}

/// Revokes a token at once: its next request is refused.
pub fn revoke(conn: &mut DbConn, actor: &Actor, id: &str, now: NaiveDateTime) -> Result<(), AppError> {
    super::management_scope(actor)?;
    write_transaction(conn, |conn| {
        let token = api_tokens::find(conn, id)?
            .filter(|t| actor.role == Role::KwhAdmin || t.created_by == actor.user_id)
            .ok_or_else(AppError::not_found)?;
        api_tokens::revoke(conn, id, now)?;
        record(conn, actor, "api_token.revoked", &token, now)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scope: &str) -> ApiTokenRow {
        let at = NaiveDateTime::default();
        ApiTokenRow {
            id: "t-1".into(),
            name: "AFAS-koppeling".into(),
            token_hash: "hash".into(),
            scope: scope.into(),
            created_by: "u-1".into(),
            corporation_code: Some("KWH001".into()),
            created_at: at,
            expires_at: at,
            last_used_at: None,
            revoked_at: None,
            creator_token_version: 0,
        }
    }

    #[test]
    fn a_stored_scope_reads_as_its_token_scope() {
        assert_eq!(ApiTokenView::try_from(&row("read")).unwrap().scope, TokenScope::Read);
        assert_eq!(
            ApiTokenView::try_from(&row("provision")).unwrap().scope,
            TokenScope::Provision
        );
    }

    #[test]
    fn an_unknown_stored_scope_is_an_internal_error_naming_the_token() {
        let error = ApiTokenView::try_from(&row("admin")).unwrap_err();
        assert!(error.is_internal());
        assert!(error.to_string().contains("api token t-1"), "{error}");
    }
}
