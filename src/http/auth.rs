//! The signed-in caller, from the `Authorization: Bearer` header.
//!
//! Every request re-reads the user, so that a deleted user's token, or one issued before a
//! demotion or password change (a raised token version), stops working at once on every
//! instance.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::app::AppState;
use crate::auth::token::link_token_hash;
use crate::db::rows::ApiTokenRow;
use crate::db::rows::UserRow;
use crate::db::{DbConn, api_tokens, users};
use crate::domain::corporation::CorporationCode;
use crate::domain::user::{Actor, Role};
use crate::http::problem::{ApiError, ErrorCode};
use chrono::NaiveDateTime;

pub struct Caller {
    pub actor: Actor,
    pub user: UserRow,
}

/// Service tokens start with this, so they are told from access tokens without trying both.
pub const SERVICE_TOKEN_PREFIX: &str = "mkwh_";

fn unauthorized() -> ApiError {
    ApiError::new(ErrorCode::Unauthorized)
}

/// The creator a service token acts as, when the token is known, unrevoked and unexpired.
fn service_token_user(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<(UserRow, ApiTokenRow), ApiError> {
    let grant = api_tokens::find_by_hash(conn, &link_token_hash(token))?
        .filter(|t| t.revoked_at.is_none() && t.expires_at > now)
        .ok_or_else(unauthorized)?;
    let user = users::find(conn, &grant.created_by)?.ok_or_else(unauthorized)?;
    api_tokens::touch(conn, &grant.id, now)?;
    Ok((user, grant))
}

/// A stable key for who is calling, without touching the database: the user of a valid
/// access token, or a service token by its hash. `None` without a usable token.
pub fn caller_key(request: &actix_web::dev::ServiceRequest, state: &AppState) -> Option<String> {
    let token = request
        .headers()
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .trim();
    if token.starts_with(SERVICE_TOKEN_PREFIX) {
        Some(format!("token:{}", link_token_hash(token)))
    } else {
        state.tokens.verify(token).map(|claims| format!("user:{}", claims.sub))
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let token = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| t.trim().to_string());
        let read_only_request = request.method() == actix_web::http::Method::GET;
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no application state")))?;
            let token = token.ok_or_else(unauthorized)?;
            let (user, via_token) = if token.starts_with(SERVICE_TOKEN_PREFIX) {
                let now = state.now();
                let (user, grant) = state.db(move |conn| service_token_user(conn, &token, now)).await?;
                if grant.scope != "provision" && !read_only_request {
                    return Err(ApiError::new(ErrorCode::InsufficientScope));
                }
                (user, Some(grant.id))
            } else {
                let claims = state.tokens.verify(&token).ok_or_else(unauthorized)?;
                let user = state
                    .db(move |conn| Ok(users::find(conn, &claims.sub)?))
                    .await?
                    .ok_or_else(unauthorized)?;
                if user.token_version != claims.ver {
                    return Err(unauthorized());
                }
                (user, None)
            };
            let role = Role::from_key(&user.role).ok_or_else(unauthorized)?;
            let actor = Actor {
                user_id: user.id.clone(),
                role,
                corporation_code: user
                    .corporation_code
                    .as_deref()
                    .and_then(|c| CorporationCode::parse(c).ok()),
                via_token,
            };
            Ok(Caller { actor, user })
        })
    }
}
