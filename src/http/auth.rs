//! Who is calling: the `Authorization: Bearer` header, resolved once per request.
//!
//! [`authenticate`] runs before the rate limit and the idempotency keys, and is the only reader
//! of the header ([`bearer_token`]). It resolves the credential against the database (a deleted
//! user's token, one issued before a demotion or a new password, a revoked or expired service
//! token, one whose creator's sessions ended: all stop at once on every instance), refuses a
//! service token whose scope the operation does not list (403 `insufficient_scope`), and leaves
//! the outcome in the request for the [`Caller`] extractor and the middleware after it. Nothing
//! is written for a credential that does not resolve.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use chrono::NaiveDateTime;

use super::fallback::RouteTable;
use super::state::AppState;
use crate::auth::token::{SERVICE_TOKEN_PREFIX, link_token_hash};
use crate::db::rows::UserRow;
use crate::db::{DbConn, api_tokens, users};
use crate::domain::corporation::CorporationCode;
use crate::domain::user::{Actor, Role, TokenScope};
use crate::http::problem::{AppError, ErrorCode};

#[derive(Clone)]
pub struct Caller {
    pub actor: Actor,
    pub user: UserRow,
    /// The scope of the service token the request came with; `None` for a person's session.
    pub scope: Option<TokenScope>,
}

impl Caller {
    /// A stable key for the rate limit: the user, or the token.
    pub fn key(&self) -> String {
        match &self.actor.via_token {
            Some(token) => format!("token:{token}"),
            None => format!("user:{}", self.user.id),
        }
    }

    /// Whose stored answers a request may replay: the caller with the rights they have now.
    /// A role change or a new password raises the token version, so an answer stored before
    /// is never replayed to the caller with their new rights (the request runs anew).
    pub fn idempotency_key(&self) -> String {
        format!("{}:v{}", self.key(), self.user.token_version)
    }
}

/// What the request's credentials resolved to.
#[derive(Clone)]
pub enum Authentication {
    /// No `Authorization` header.
    Anonymous,
    /// A malformed header, or a credential that is unknown, expired or no longer current.
    Refused,
    Caller(Arc<Caller>),
}

impl Authentication {
    /// The resolved caller of a request that went through [`authenticate`].
    pub fn of(request: &HttpRequest) -> Option<Arc<Caller>> {
        match request.extensions().get::<Authentication>() {
            Some(Authentication::Caller(caller)) => Some(caller.clone()),
            _ => None,
        }
    }
}

/// The one parser of `Authorization`: the scheme is case-insensitive (RFC 9110 §11.1), the
/// credential is what follows it. `None` without the header; `Some(None)` when it is there but
/// is not a bearer credential.
pub fn bearer_token(headers: &HeaderMap) -> Option<Option<String>> {
    let value = headers.get(AUTHORIZATION)?;
    let parsed = value.to_str().ok().and_then(|value| {
        let (scheme, credential) = value.trim().split_once(char::is_whitespace)?;
        let credential = credential.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !credential.is_empty()).then(|| credential.to_string())
    });
    Some(parsed)
}

fn unauthorized() -> AppError {
    AppError::new(ErrorCode::Unauthorized)
}

/// The caller a credential stands for, when it is current; `Ok(None)` when it is not.
fn resolve(conn: &mut DbConn, state: &AppState, token: &str, now: NaiveDateTime) -> Result<Option<Caller>, AppError> {
    if token.starts_with(SERVICE_TOKEN_PREFIX) {
        let Some(grant) = api_tokens::find_by_hash(conn, &link_token_hash(token))?
            .filter(|t| t.revoked_at.is_none() && t.expires_at > now)
        else {
            return Ok(None);
        };
        // The token lives only while its creator's sessions do (SECURITY.md).
        let Some(user) =
            users::find(conn, &grant.created_by)?.filter(|u| u.token_version == grant.creator_token_version)
        else {
            return Ok(None);
        };
        let Some(scope) = TokenScope::from_key(&grant.scope) else {
            tracing::error!(token = %grant.id, scope = %grant.scope, "a service token with an unknown scope");
            return Ok(None);
        };
        api_tokens::touch(conn, &grant.id, now)?;
        Ok(caller(user, Some((grant.id, scope))))
    } else {
        let Some(claims) = state.tokens.verify(token) else {
            return Ok(None);
        };
        Ok(users::find(conn, &claims.sub)?
            .filter(|user| user.token_version == claims.ver)
            .and_then(|user| caller(user, None)))
    }
}

fn caller(user: UserRow, token: Option<(String, TokenScope)>) -> Option<Caller> {
    let Some(role) = Role::from_key(&user.role) else {
        tracing::error!(user = %user.id, role = %user.role, "a user with an unknown role");
        return None;
    };
    let (via_token, scope) = token.unzip();
    let actor = Actor {
        user_id: user.id.clone(),
        role,
        corporation_code: user
            .corporation_code
            .as_deref()
            .and_then(|c| CorporationCode::parse(c).ok()),
        via_token,
    };
    Some(Caller { actor, user, scope })
}

/// Middleware: resolves the credentials once, refuses a service token outside its scope.
pub async fn authenticate(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let outcome = match bearer_token(request.headers()) {
        None => Authentication::Anonymous,
        Some(None) => Authentication::Refused,
        Some(Some(token)) => {
            let state = request
                .app_data::<web::Data<AppState>>()
                .cloned()
                .expect("application state");
            let now = state.now();
            let resolver = state.clone();
            match state.db(move |conn| resolve(conn, &resolver, &token, now)).await {
                Ok(Some(caller)) => Authentication::Caller(Arc::new(caller)),
                Ok(None) => Authentication::Refused,
                Err(error) => return Ok(request.into_response(error.error_response())),
            }
        }
    };
    if let Authentication::Caller(caller) = &outcome
        && let Some(scope) = caller.scope
    {
        let allowed = request.app_data::<web::Data<Arc<RouteTable>>>().and_then(|routes| {
            routes
                .token_scopes(request.path(), request.method().as_str())
                .map(|s| s.contains(&scope))
        });
        if allowed == Some(false) {
            let refusal = AppError::new(ErrorCode::InsufficientScope).error_response();
            return Ok(request.into_response(refusal));
        }
    }
    request.extensions_mut().insert(outcome);
    next.call(request).await.map(ServiceResponse::map_into_boxed_body)
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Ready<Result<Caller, AppError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            Authentication::of(request)
                .map(|c| (*c).clone())
                .ok_or_else(unauthorized),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn parse(value: &str) -> Option<Option<String>> {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        bearer_token(&headers)
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_nothing_else_passes() {
        for value in ["Bearer abc", "bearer abc", "BEARER abc", "bEaReR   abc ", "Bearer\tabc"] {
            assert_eq!(parse(value), Some(Some("abc".into())), "{value:?}");
        }
        for value in ["Basic abc", "Bearer", "Bearer ", "Bearerabc", "abc", ""] {
            assert_eq!(parse(value), Some(None), "{value:?}");
        }
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
