//! `/api-tokens`: named service tokens for integrators' scripts.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Credential;
use super::problem::{AppError, after_caller};
use super::refusals::{
    NoSuchTokenOfYours, OnlyManagers, OnlyManagersInPerson, OtherCorporationForScim, TokenLimitReached,
};
use super::state::AppState;
use crate::domain::corporation::CorporationCode;
use crate::domain::text::{MAX_NAME_LENGTH, required_text};
use crate::domain::user::TokenScope;
use crate::domain::violation::{ViolationKind, Violations};
use crate::service::api_tokens::{self as use_cases, ApiTokenView, TokenRequest};

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiTokenResponse {
    pub id: String,
    #[schema(example = "AFAS-koppeling")]
    pub name: String,
    /// `read` (GET only), `provision` (may also create, edit and delete users) or `scim`
    /// (`/scim/v2` only, for one corporation).
    #[schema(value_type = super::schema::TokenScope, example = "provision")]
    pub scope: String,
    pub created_by: String,
    /// The corporation a `scim` token provisions; absent for other scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "KWH001")]
    pub corporation_code: Option<String>,
    /// For a `scim` token: whether the users it creates get an invitation mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invites_new_users: Option<bool>,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    pub expires_at: DateTime<Utc>,
    #[serde(serialize_with = "super::timestamps::rfc3339_or_null")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "super::timestamps::rfc3339_or_null")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// The secret, only in the answer that creates it. Send it as `Authorization: Bearer …`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

fn response(view: ApiTokenView, token: Option<String>) -> ApiTokenResponse {
    ApiTokenResponse {
        id: view.id,
        name: view.name,
        scope: view.scope.key().to_string(),
        created_by: view.created_by,
        invites_new_users: view.invites_new_users,
        corporation_code: view.corporation_code,
        created_at: view.created_at.and_utc(),
        expires_at: view.expires_at.and_utc(),
        last_used_at: view.last_used_at.map(|t| t.and_utc()),
        revoked_at: view.revoked_at.map(|t| t.and_utc()),
        token,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateApiTokenRequest {
    #[schema(example = "AFAS-koppeling")]
    pub name: String,
    /// `read`, `provision` or `scim`.
    #[schema(value_type = super::schema::TokenScope, example = "provision")]
    pub scope: String,
    /// `scim` only: the corporation its identity provider provisions. A main user's own by
    /// default; KWH staff must name one.
    #[schema(example = "KWH001")]
    pub corporation_code: Option<String>,
    /// `scim` only: whether users it creates get an invitation mail (default `true`). Turn it
    /// off for an association that will sign in through single sign-on.
    pub invites_new_users: Option<bool>,
    /// 1 to 365 (default 90). A whole number, which JSON may also write as `30.0`.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 365)]
    pub expires_in_days: Option<serde_json::Number>,
}

/// Create a service token that acts as you, limited by its scope. The secret is in this
/// answer only; it is stored hashed. A person has at most 25 tokens in use (neither revoked
/// nor expired).
///
/// A `scim` token is for an identity provider (Entra ID, Okta): it acts as a main user of one
/// corporation, at `/scim/v2` only.
#[utoipa::path(
    tag = "integrations",
    request_body = CreateApiTokenRequest,
    responses(
        (status = 201, description = "Created; `token` holds the secret", body = ApiTokenResponse),
        TokenLimitReached, OnlyManagersInPerson, OtherCorporationForScim,
    )
)]
#[post("/api-tokens")]
pub async fn create_token(
    state: web::Data<AppState>,
    credential: Credential,
    body: Result<web::Json<CreateApiTokenRequest>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let request = after_caller(body).and_then(|body| token_request(body.into_inner()));
    let created = state
        .act(credential, move |conn, caller, now| {
            use_cases::create(conn, &caller.actor, request?, now)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api-tokens/{}", created.token.id)))
        .json(response(created.token, Some(created.secret))))
}

/// What a request for a new token asks, judged (422 with every violation).
fn token_request(body: CreateApiTokenRequest) -> Result<TokenRequest, AppError> {
    let mut violations = Violations::new();
    let name = violations.check("name", required_text(&body.name, MAX_NAME_LENGTH));
    let scope = TokenScope::from_key(&body.scope);
    if scope.is_none() {
        violations.add("scope", ViolationKind::UnknownValue);
    }
    let days = match &body.expires_in_days {
        None => Some(90),
        Some(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() <= 365.0)
                .map(|f| f as i64)
        }),
    };
    let days = days.filter(|days| (1..=365).contains(days)).unwrap_or(0);
    if days == 0 {
        violations.add("expires_in_days", ViolationKind::NotAllowed);
    }
    let corporation_code = body
        .corporation_code
        .as_deref()
        .and_then(|code| violations.check("corporation_code", CorporationCode::parse(code)));
    let (Some(name), Some(scope), true) = (name, scope, violations.is_empty()) else {
        return Err(violations.into());
    };
    Ok(TokenRequest {
        name,
        scope,
        valid_for: chrono::Duration::days(days),
        corporation_code,
        invites_new_users: body.invites_new_users,
    })
}

/// Your service tokens (KWH staff: everyone's), without their secrets: the newest 200, revoked
/// and expired ones included.
#[utoipa::path(
    tag = "integrations",
    responses(
        (status = 200, description = "Tokens", body = [ApiTokenResponse]),
        OnlyManagers,
    )
)]
#[get("/api-tokens")]
pub async fn list_tokens(
    state: web::Data<AppState>,
    credential: Credential,
) -> Result<web::Json<Vec<ApiTokenResponse>>, AppError> {
    let tokens = state
        .db_as(credential, move |conn, caller| use_cases::list(conn, &caller.actor))
        .await?;
    Ok(web::Json(
        tokens.into_iter().map(|token| response(token, None)).collect(),
    ))
}

/// Revoke a service token; its next request is refused.
#[utoipa::path(
    tag = "integrations",
    params(("id" = Uuid, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        OnlyManagers, NoSuchTokenOfYours,
    )
)]
#[delete("/api-tokens/{id}")]
pub async fn revoke_token(
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let id = after_caller(id).map(|id| id.into_inner().to_string());
    state
        .act(credential, move |conn, caller, now| {
            use_cases::revoke(conn, &caller.actor, &id?, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
