//! Invitations ("uitnodigen") and password resets: single-use links sent by email.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Credential;
use super::client_address::client_key;
use super::problem::{AppError, after_caller};
use super::refusals::{
    InvitationLinkEnded, InvitationNotNeeded, MayNotManageUsers, NoSuchUser, ResetLinkEnded, TooManyInvitations,
    UnknownInvitationLink, UnknownResetLink,
};
use super::session::{AccessToken, access_token_for};
use super::state::AppState;
use super::users::UserResponse;
use crate::auth::password;
use crate::domain::email::EmailAddress;
use crate::domain::violation::Violations;
use crate::service::invitations::{self as use_cases, link_error};
use crate::service::invitations::{INVITATION, PASSWORD_RESET};
use crate::service::user_view;

/// Send or re-send a user's invitation email. The previous link stops working.
///
/// Contractor users are invited when they are created. A user who accepted an invitation is
/// not invited again (409); they reset their password. At most 5 invitations per user per day.
#[utoipa::path(
    tag = "invitations",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 202, description = "Queued; the user shows the invitation's state", body = UserResponse),
        MayNotManageUsers, NoSuchUser, InvitationNotNeeded, TooManyInvitations,
    )
)]
#[post("/users/{id}/invite")]
pub async fn invite_user(
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let id = after_caller(id).map(|id| id.into_inner().to_string());
    let ttl = chrono::Duration::from_std(state.settings.invitation_ttl).map_err(AppError::internal)?;
    let body = state
        .act(credential, move |conn, caller, now| {
            let user = use_cases::invite(conn, &caller.actor, &id?, ttl, now)?;
            Ok(UserResponse::from(user_view::view(conn, user, now)?))
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(HttpResponse::Accepted().json(body))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationInfo {
    #[schema(example = "henk@installatietechniek.nl")]
    pub email: String,
    #[schema(example = "Henk")]
    pub first_name: String,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    pub expires_at: DateTime<Utc>,
}

/// Whether an invitation link can be used, with the invitee's email and first name.
///
/// Reading does not use the link up: mail security scanners open links before people do.
#[utoipa::path(
    tag = "invitations",
    params(("token" = String, Path, description = "The token from the invitation link")),
    responses(
        (status = 200, description = "The link can be used", body = InvitationInfo),
        UnknownInvitationLink, InvitationLinkEnded,
    )
)]
#[get("/invitations/{token}")]
pub async fn inspect_invitation(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<web::Json<InvitationInfo>, AppError> {
    let token = token.into_inner();
    let now = state.now();
    let (link, user) = state
        .db(move |conn| use_cases::open_link(conn, INVITATION, &token, now)?.map_err(|p| link_error(INVITATION, p)))
        .await?;
    Ok(web::Json(InvitationInfo {
        email: user.email,
        first_name: user.first_name,
        expires_at: link.expires_at.and_utc(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetPasswordRequest {
    /// The token from the emailed link.
    pub token: String,
    /// 10 to 128 characters, not the email address.
    #[schema(example = "een lang en geheim wachtwoord")]
    pub password: String,
}

/// Checks the link and the password policy, and hashes the password off the async workers.
async fn checked_password_hash(
    state: &web::Data<AppState>,
    purpose: &'static str,
    body: &SetPasswordRequest,
) -> Result<String, AppError> {
    let token = body.token.clone();
    let now = state.now();
    let (_, user) = state
        .db(move |conn| use_cases::open_link(conn, purpose, &token, now)?.map_err(|p| link_error(purpose, p)))
        .await?;
    let mut violations = Violations::new();
    violations.check("password", password::check_policy(&body.password, &user.email));
    if !violations.is_empty() {
        return Err(violations.into());
    }
    let password = body.password.clone();
    state
        .password_work(move || password::hash(&password))
        .await?
        .map_err(AppError::internal)
}

/// Accept an invitation: set the password and sign in.
#[utoipa::path(
    tag = "invitations",
    request_body = SetPasswordRequest,
    responses(
        (status = 200, description = "Accepted and signed in", body = AccessToken),
        UnknownInvitationLink, InvitationLinkEnded,
    )
)]
#[post("/invitations/accept")]
pub async fn accept_invitation(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SetPasswordRequest>,
) -> Result<web::Json<AccessToken>, AppError> {
    let body = body.into_inner();
    let hash = checked_password_hash(&state, INVITATION, &body).await?;
    let client = client_key(&request, &state.settings.trusted_proxies);
    let now = state.now();
    let user = state
        .db(move |conn| use_cases::use_link_to_set_password(conn, INVITATION, &body.token, &hash, Some(&client), now))
        .await?;
    Ok(web::Json(access_token_for(&state, &user.id, user.token_version, now)?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordResetRequest {
    #[schema(example = "henk@installatietechniek.nl")]
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetAccepted {
    #[schema(example = "Als dit e-mailadres bij ons bekend is, is er een e-mail met een herstellink verstuurd.")]
    pub message: &'static str,
}

/// Ask for a password reset email. Always 202 with the same answer: it reveals nothing about
/// whether the address is known. The link works once, for an hour, until the password is set.
/// At most one mail per user every 2 minutes, and 20 requests per client address in 15 minutes;
/// requests beyond those are answered alike and send nothing.
#[utoipa::path(
    tag = "invitations",
    request_body = PasswordResetRequest,
    responses((status = 202, description = "Accepted (whether or not the address is known)", body = PasswordResetAccepted))
)]
#[post("/auth/password-reset")]
pub async fn request_password_reset(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<PasswordResetRequest>,
) -> Result<HttpResponse, AppError> {
    if let Ok(email) = EmailAddress::parse(&body.email) {
        let client = client_key(&request, &state.settings.trusted_proxies);
        let now = state.now();
        state
            .db(move |conn| use_cases::request_password_reset(conn, email.as_str(), &client, now))
            .await?;
        state.mail_wake.notify_one();
    }
    Ok(HttpResponse::Accepted().json(PasswordResetAccepted {
        message: "Als dit e-mailadres bij ons bekend is, is er een e-mail met een herstellink verstuurd.",
    }))
}

/// Set a new password with a reset link. Every access token of the user stops working.
#[utoipa::path(
    tag = "invitations",
    request_body = SetPasswordRequest,
    responses(
        (status = 204, description = "The password is set; sign in with it"),
        UnknownResetLink, ResetLinkEnded,
    )
)]
#[post("/auth/password-reset/confirm")]
pub async fn confirm_password_reset(
    state: web::Data<AppState>,
    body: web::Json<SetPasswordRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let hash = checked_password_hash(&state, PASSWORD_RESET, &body).await?;
    let now = state.now();
    state
        .db(move |conn| use_cases::use_link_to_set_password(conn, PASSWORD_RESET, &body.token, &hash, None, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
