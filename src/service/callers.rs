//! Who a credential stands for: an access token or a service token resolved against the
//! database, so that a deleted or deactivated user's token, one issued before a demotion or a
//! new password, a revoked or expired service token, or one whose creator's sessions ended
//! stops at once on every instance.

use std::sync::Arc;

use chrono::NaiveDateTime;

use crate::auth::token::{Claims, SERVICE_TOKEN_PREFIX, TokenKeys, link_token_hash};
use crate::db::rows::{CallerRow, UserRow};
use crate::db::{DbConn, api_tokens, users};
use crate::domain::corporation::CorporationCode;
use crate::domain::user::{Actor, Role, TokenScope};
use crate::error::{AppError, ErrorCode};

/// The resolved caller of a request.
#[derive(Clone)]
pub struct Caller {
    pub actor: Actor,
    pub user: UserRow,
    /// The scope of the service token the request came with; `None` for a person's session.
    pub scope: Option<TokenScope>,
}

impl Caller {
    /// Whose stored answers a request may replay: the caller with the rights they have now.
    /// A role change or a new password raises the token version, so an answer stored before
    /// is never replayed to the caller with their new rights (the request runs anew).
    pub fn idempotency_key(&self) -> String {
        match &self.actor.via_token {
            Some(token) => format!("token:{token}:v{}", self.user.token_version),
            None => person_key(&self.user.id, self.user.token_version),
        }
    }
}

/// A person at one token version: whose stored answers and whose request count these are.
fn person_key(user_id: &str, token_version: i32) -> String {
    format!("user:{user_id}:v{token_version}")
}

/// A request's credential as the use case receives it: a caller resolved already, or the
/// verified claims of an access token, which the use case resolves in its own unit of work (on
/// the same connection, and for `GET /users/{id}` in the same statement as its data).
#[derive(Clone)]
pub enum Credential {
    Resolved(Arc<Caller>),
    AccessToken(Claims),
}

impl Credential {
    /// Who the rate limit counts: the token, or the user at this token version. A token of an
    /// older version (one that ended with a new password, a role change or a deactivation) is
    /// counted apart, so whoever still holds it cannot spend the user's own allowance.
    pub fn rate_limit_subject(&self) -> String {
        match self {
            Credential::Resolved(caller) => match &caller.actor.via_token {
                Some(token) => format!("token:{token}"),
                None => caller.idempotency_key(),
            },
            Credential::AccessToken(claims) => person_key(&claims.sub, claims.ver),
        }
    }

    /// The caller, when the credential is still current; `Ok(None)` when it has ended.
    pub fn current(&self, conn: &mut DbConn) -> Result<Option<Arc<Caller>>, AppError> {
        match self {
            Credential::Resolved(caller) => Ok(Some(caller.clone())),
            Credential::AccessToken(claims) => Ok(person(users::find(conn, &claims.sub)?, claims).map(Arc::new)),
        }
    }

    /// The caller, or 401 `unauthorized` when the credential has ended.
    pub fn resolve(&self, conn: &mut DbConn) -> Result<Arc<Caller>, AppError> {
        self.current(conn)?
            .ok_or_else(|| AppError::new(ErrorCode::Unauthorized))
    }
}

/// The person an access token's claims stand for, read from their current row: none when the
/// user is gone, deactivated, or their token version moved on since the token was issued.
pub fn person(row: Option<UserRow>, claims: &Claims) -> Option<Caller> {
    row.filter(|user| is_current(claims, &user.id, user.token_version, user.is_active()))
        .map(|user| caller(user, None))
}

/// As [`person`], from the columns that decide it alone: the actor a read acts as.
pub fn person_actor(row: Option<CallerRow>, claims: &Claims) -> Option<Actor> {
    row.filter(|row| is_current(claims, &row.id, row.token_version, row.deactivated_at.is_none()))
        .map(|row| actor(row.id, row.role, row.corporation_code.as_deref(), None))
}

fn is_current(claims: &Claims, user_id: &str, token_version: i32, active: bool) -> bool {
    user_id == claims.sub && token_version == claims.ver && active
}

/// The caller a bearer credential stands for, when it is current; `Ok(None)` when it is not.
/// Nothing is written for a credential that does not resolve.
pub fn resolve(
    conn: &mut DbConn,
    keys: &TokenKeys,
    credential: &str,
    now: NaiveDateTime,
) -> Result<Option<Caller>, AppError> {
    if credential.starts_with(SERVICE_TOKEN_PREFIX) {
        let Some(grant) = api_tokens::find_by_hash(conn, &link_token_hash(credential))?
            .filter(|t| t.revoked_at.is_none() && t.expires_at > now)
        else {
            return Ok(None);
        };
        // The token lives only while its creator's sessions do (SECURITY.md), and never for a
        // deactivated creator, whatever their version says.
        let Some(user) = users::find(conn, &grant.created_by)?
            .filter(|u| u.token_version == grant.creator_token_version && u.is_active())
        else {
            return Ok(None);
        };
        api_tokens::touch(conn, &grant.id, now)?;
        let mut caller = caller(user, Some((grant.id.clone(), grant.scope)));
        if grant.scope == TokenScope::Scim {
            // An identity provider acts as a main user of the one corporation it provisions,
            // whoever made the token (a kwh_admin's token reaches no other corporation).
            let code = grant
                .corporation_code
                .as_deref()
                .and_then(|c| CorporationCode::parse(c).ok());
            let Some(code) = code else {
                return Err(AppError::internal(anyhow::anyhow!(
                    "scim token {} is bound to no corporation",
                    grant.id
                )));
            };
            caller.actor.role = Role::MainUser;
            caller.actor.corporation_code = Some(code);
        }
        Ok(Some(caller))
    } else {
        let Some(claims) = keys.verify(credential) else {
            return Ok(None);
        };
        Ok(person(users::find(conn, &claims.sub)?, &claims))
    }
}

/// The caller a signed-in user is (sign-in answers with them).
pub fn caller(user: UserRow, token: Option<(String, TokenScope)>) -> Caller {
    let (via_token, scope) = token.unzip();
    let actor = actor(user.id.clone(), user.role, user.corporation_code.as_deref(), via_token);
    Caller { actor, user, scope }
}

fn actor(user_id: String, role: Role, corporation_code: Option<&str>, via_token: Option<String>) -> Actor {
    Actor {
        user_id,
        role,
        corporation_code: corporation_code.and_then(|c| CorporationCode::parse(c).ok()),
        via_token,
    }
}
