//! Signing in, and the signed-in user's own record.

use actix_web::{HttpRequest, get, post, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Credential;
use super::client_address::client_key;
use super::problem::{AppError, ErrorCode};
use super::refusals::{TooManyFailedSignIns, WrongCredentials};
use super::state::AppState;
use super::users::UserResponse;
use crate::auth::password;
use crate::service::{sign_in, user_view};

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(example = "hoofdgebruiker@demo.nl")]
    pub email: String,
    #[schema(example = "een-lang-wachtwoord")]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessToken {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    pub expires_in: i64,
}

/// Sign in with email and password.
///
/// Answers the same 401 for an unknown address, a wrong password and a user who has not set a
/// password yet. Failures are throttled before the password is checked (SECURITY.md, "Sign-in
/// throttling"): after 5 failures of one account from one address, that address waits 30
/// seconds, doubling with each further failure up to an hour; after 10 failures of one
/// account from addresses it never signed in from, such addresses wait a minute; after 100
/// failures from one address, it may sign in only to accounts that signed in from it before.
/// A refused attempt answers 429 with `Retry-After`.
#[utoipa::path(
    tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = AccessToken),
        WrongCredentials, TooManyFailedSignIns,
    )
)]
#[post("/auth/login")]
pub async fn login(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<web::Json<AccessToken>, AppError> {
    let LoginRequest { email, password } = body.into_inner();
    let client = client_key(&request, &state.settings.trusted_proxies);
    let now = state.now();
    let attempt = state.db(move |conn| sign_in::begin(conn, &email, &client, now)).await?;
    let stored_hash = attempt.user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = state
        .password_work(move || password::verify(&password, stored_hash.as_deref()))
        .await?;
    let user = state
        .db(move |conn| sign_in::finish(conn, attempt, matches, now))
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::InvalidCredentials))?;
    Ok(web::Json(access_token_for(&state, &user.id, user.token_version, now)?))
}

/// The answer of every route that signs a user in.
pub fn access_token_for(
    state: &AppState,
    user_id: &str,
    token_version: i32,
    now: NaiveDateTime,
) -> Result<AccessToken, AppError> {
    let access_token = state
        .tokens
        .issue(user_id, token_version, now.and_utc().timestamp())
        .map_err(AppError::internal)?;
    Ok(AccessToken {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl_seconds,
    })
}

/// The signed-in user's own record.
#[utoipa::path(
    tag = "session",
    responses((status = 200, description = "The caller", body = UserResponse))
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, credential: Credential) -> Result<web::Json<UserResponse>, AppError> {
    let now = state.now();
    Ok(web::Json(
        state
            .db_as(credential, move |conn, caller| {
                Ok(user_view::view(conn, caller.user.clone(), now)?.into())
            })
            .await?,
    ))
}
