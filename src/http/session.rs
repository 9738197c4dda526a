//! Signing in, and the signed-in user's own record.

use actix_web::{HttpRequest, get, post, web};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::problem::{ApiError, ErrorCode, Problem};
use super::users::{UserResponse, user_response};
use crate::app::AppState;
use crate::auth::password;
use crate::db::{login_failures, users, write_transaction};
use crate::domain::email::EmailAddress;
use crate::service::audit::{self as audit_log, AuditEntry};

/// Failed sign-ins allowed per account and per client address within the window.
const MAX_FAILURES: i64 = 5;
const FAILURE_WINDOW_MINUTES: i64 = 15;

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
/// password yet. After 5 failures in 15 minutes for one account or one client address, answers
/// 429 with `Retry-After` until the oldest failure leaves the window.
#[utoipa::path(
    tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = AccessToken),
        (status = 401, description = "Wrong email or password (`invalid_credentials`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts (`too_many_requests`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<web::Json<AccessToken>, ApiError> {
    let body = body.into_inner();
    // No user has an invalid address: such a sign-in is only throttled (on what was typed,
    // without control characters, which PostgreSQL cannot store) and fails like any other.
    let email = EmailAddress::parse(&body.email).ok().map(|e| e.as_str().to_string());
    let account = email.clone().unwrap_or_else(|| {
        let typed = body.email.trim().to_lowercase();
        typed.chars().filter(|c| !c.is_control()).collect()
    });
    let client = request.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    let throttle_keys = vec![format!("account:{account}"), format!("ip:{client}")];
    let now = state.now();
    let window_start = now - Duration::minutes(FAILURE_WINDOW_MINUTES);

    let keys = throttle_keys.clone();
    let lookup_email = email.clone();
    let user = state
        .db(move |conn| {
            for key in &keys {
                let (failures, oldest) = login_failures::since(conn, key, window_start)?;
                if failures >= MAX_FAILURES {
                    let retry_at = oldest.unwrap_or(now) + Duration::minutes(FAILURE_WINDOW_MINUTES);
                    return Err(ApiError::too_many_requests((retry_at - now).num_seconds().max(1) as u64));
                }
            }
            match &lookup_email {
                Some(email) => Ok(users::find_by_email(conn, email)?),
                None => Ok(None),
            }
        })
        .await?;

    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password = body.password;
    let matches = state
        .password_work(move || password::verify(&password, stored_hash.as_deref()))
        .await?;

    let user = match user {
        Some(user) if matches => user,
        other => {
            let target = other.map(|u| (u.id, u.corporation_code));
            state
                .db(move |conn| {
                    write_transaction(conn, |conn| {
                        login_failures::prune(conn, window_start)?;
                        login_failures::record(conn, &throttle_keys, now)?;
                        if let Some((id, corporation)) = &target {
                            audit_log::record(
                                conn,
                                AuditEntry {
                                    actor_id: None,
                                    action: "login.failed",
                                    target_type: "user",
                                    target_id: Some(id),
                                    corporation_code: corporation.as_deref(),
                                    changes: Default::default(),
                                },
                                now,
                            )?;
                        }
                        Ok::<_, ApiError>(())
                    })
                })
                .await?;
            return Err(ApiError::new(ErrorCode::InvalidCredentials));
        }
    };

    let access_token = state
        .tokens
        .issue(&user.id, user.token_version, now.and_utc().timestamp())
        .map_err(ApiError::internal)?;
    state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                users::record_login(conn, &user.id, now)?;
                audit_log::record(
                    conn,
                    AuditEntry {
                        actor_id: Some(&user.id),
                        action: "login.succeeded",
                        target_type: "user",
                        target_id: Some(&user.id),
                        corporation_code: user.corporation_code.as_deref(),
                        changes: Default::default(),
                    },
                    now,
                )?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(web::Json(AccessToken {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl_seconds,
    }))
}

/// The signed-in user's own record.
#[utoipa::path(
    tag = "session",
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The caller", body = UserResponse))
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<UserResponse>, ApiError> {
    let now = state.now();
    let user = caller.user;
    Ok(web::Json(
        state.db(move |conn| Ok(user_response(conn, user, now)?)).await?,
    ))
}
