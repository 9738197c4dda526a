//! Invitations and password resets (PRODUCT.md rule 6): single-use links that expire, sent
//! through the outbox in the transaction that creates them.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use serde_json::Map;

use super::audit as audit_log;
use crate::db::rows::{InvitationState, OutboxRow, UserRow, UserTokenRow};
/// The purposes of a link, as stored.
pub use crate::db::user_tokens::{INVITATION, PASSWORD_RESET};
use crate::db::{DbConn, api_tokens, corporations, login_failures, outbox, user_tokens, users, write_transaction};
use crate::domain::delivery::DeliveryError;
use crate::domain::user::{Actor, Role};
use crate::error::{AppError, ErrorCode};
use crate::mail::outbox::{OutgoingMail, enqueue};
use crate::mail::templates::{InvitationMail, PasswordResetMail};

/// Invitations one user may be sent per day; more looks like a mistake or abuse.
pub const INVITATIONS_PER_DAY: i64 = 5;
/// At most one reset email per user in this many minutes; requests in between are quietly
/// ignored. A rate, not a daily budget: a stranger who asks for resets of someone else's address
/// can hold its owner up for two minutes at most, and every mail they caused still carries a
/// working link (a new request does not void the open ones).
pub const RESET_MAIL_INTERVAL_MINUTES: i64 = 2;
/// Reset requests one client address may make in [`RESET_CLIENT_WINDOW_MINUTES`], for any
/// addresses; beyond that requests are quietly ignored (an office has room, a sweep has not).
pub const RESET_REQUESTS_PER_CLIENT: i64 = 20;
pub const RESET_CLIENT_WINDOW_MINUTES: i64 = 15;
pub const RESET_LINK_TTL_MINUTES: i64 = 60;

/// Sends (or re-sends) a user's invitation; the previous link stops working.
pub fn invite(
    conn: &mut DbConn,
    actor: &Actor,
    user_id: &str,
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<UserRow, AppError> {
    let scope = super::management_scope(actor)?;
    write_transaction(conn, |conn| {
        super::users::find_visible(conn, &scope, user_id)?;
        // Locked before anything is decided: two invitations at once must not both see room
        // under the day's cap, nor one be queued for a user deactivated meanwhile.
        let user = users::find_for_update(conn, user_id)?.ok_or_else(AppError::not_found)?;
        let code = user.corporation_code.clone();
        let user = super::visible_in(&scope, code.as_deref(), user)?;
        super::users::check_token_may_touch(actor, &user, None)?;
        if !user.is_active() {
            return Err(AppError::new(ErrorCode::UserDeactivated));
        }
        if user.password_hash.is_some() {
            return Err(AppError::new(ErrorCode::InvitationAlreadyAccepted));
        }
        let (recent, oldest) = user_tokens::count_created_since(conn, &user.id, INVITATION, now - Duration::hours(24))?;
        if recent >= INVITATIONS_PER_DAY {
            let retry = oldest
                .map(|t| (t + Duration::hours(24) - now).num_seconds())
                .unwrap_or(3600);
            return Err(AppError::too_many_requests(retry.max(1) as u64));
        }
        let inviter = inviter_name(conn, actor)?;
        queue_invitation(conn, &user, Some(actor), &inviter, ttl, now)?;
        Ok(user)
    })
}

fn inviter_name(conn: &mut DbConn, actor: &Actor) -> Result<String, AppError> {
    if actor.role == Role::KwhAdmin {
        return Ok("KWH".into());
    }
    Ok(users::find(conn, &actor.user_id)?
        .map(|u| format!("{} {}", u.first_name, u.last_name))
        .unwrap_or_else(|| "KWH".into()))
}

/// Creates the link and queues its email; voids earlier links of the user. Inside the caller's
/// transaction, so a user is never created without the invitation they were promised.
///
/// The link is made by `actor`'s user; the audit log names the actor itself (a service token
/// acting for them, where one did). `None`: the system.
pub fn queue_invitation(
    conn: &mut DbConn,
    user: &UserRow,
    actor: Option<&Actor>,
    inviter: &str,
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    void_open_links(conn, &user.id, INVITATION, now)?;
    let corporation = match &user.corporation_code {
        Some(code) => corporations::find(conn, code)?
            .map(|c| c.name)
            .unwrap_or_else(|| code.clone()),
        None => "KWH".to_string(),
    };
    let contractor = match &user.contractor_id {
        Some(id) => crate::db::contractors::find(conn, id)?.map(|c| c.name),
        None => None,
    };
    let organisation = match contractor {
        Some(contractor) => format!("{contractor} (aannemer van {corporation})"),
        None => corporation,
    };
    let link = new_link(user, INVITATION, actor.map(|a| a.user_id.as_str()), now, now + ttl);
    user_tokens::insert(conn, &link)?;
    let mail = OutgoingMail::Invitation(InvitationMail {
        token_id: link.id.clone(),
        first_name: user.first_name.clone(),
        organisation,
        inviter: inviter.to_string(),
        expires_at: link.expires_at,
    });
    let message = enqueue(conn, &user.email, Some(&user.id), &mail, now)?;
    attach_message(conn, &link, &message)?;
    users::touch_version(conn, &user.id)?;
    let mut facts = Map::new();
    facts.insert("expires_at".into(), link.expires_at.and_utc().to_rfc3339().into());
    let audit_actor = actor.map(Actor::audit_id);
    audit_log::user_event(conn, audit_actor.as_deref(), "invitation.sent", user, facts, now)?;
    Ok(())
}

fn new_link(
    user: &UserRow,
    purpose: &str,
    created_by: Option<&str>,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> UserTokenRow {
    UserTokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user.id.clone(),
        purpose: purpose.to_string(),
        token_hash: None,
        outbox_message_id: None,
        created_by: created_by.map(str::to_string),
        created_at: now,
        expires_at,
        used_at: None,
        revoked_at: None,
        sent_at: None,
    }
}

fn attach_message(conn: &mut DbConn, link: &UserTokenRow, message: &OutboxRow) -> diesel::QueryResult<()> {
    use crate::db::schema::user_tokens::dsl;
    use diesel::prelude::*;
    diesel::update(dsl::user_tokens.find(&link.id))
        .set(dsl::outbox_message_id.eq(Some(&message.id)))
        .execute(conn)
        .map(drop)
}

/// Voids the user's open links of this purpose, and cancels their messages not yet sent;
/// answers how many links it voided.
fn void_open_links(conn: &mut DbConn, user_id: &str, purpose: &str, now: NaiveDateTime) -> diesel::QueryResult<usize> {
    let voided = user_tokens::revoke_open(conn, user_id, purpose, now)?;
    for link in &voided {
        if let Some(message) = &link.outbox_message_id {
            outbox::cancel(conn, message, now)?;
        }
    }
    Ok(voided.len())
}

/// Voids every open link of the user, invitation and reset, as [`void_open_links`] does.
pub fn void_all_open_links(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> diesel::QueryResult<usize> {
    Ok(void_open_links(conn, user_id, INVITATION, now)? + void_open_links(conn, user_id, PASSWORD_RESET, now)?)
}

/// Why a link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    Invalid,
    Expired,
    Used,
    Revoked,
}

/// The link a token opens, and its user, when it can still be used.
pub fn open_link(
    conn: &mut DbConn,
    purpose: &str,
    token: &str,
    now: NaiveDateTime,
) -> Result<Result<(UserTokenRow, UserRow), LinkProblem>, AppError> {
    let hash = crate::auth::token::link_token_hash(token);
    let Some(link) = user_tokens::find_by_hash(conn, &hash)?.filter(|l| l.purpose == purpose) else {
        return Ok(Err(LinkProblem::Invalid));
    };
    if link.used_at.is_some() {
        return Ok(Err(LinkProblem::Used));
    }
    if link.revoked_at.is_some() {
        return Ok(Err(LinkProblem::Revoked));
    }
    if link.expires_at <= now {
        return Ok(Err(LinkProblem::Expired));
    }
    match users::find(conn, &link.user_id)? {
        // Deactivation voids a user's links; a link is never a way back in.
        Some(user) if !user.is_active() => Ok(Err(LinkProblem::Revoked)),
        // Whoever has a password set it themselves; an invitation cannot replace it.
        Some(user) if purpose == INVITATION && user.password_hash.is_some() => Ok(Err(LinkProblem::Revoked)),
        Some(user) => Ok(Ok((link, user))),
        None => Ok(Err(LinkProblem::Invalid)),
    }
}

pub fn link_error(purpose: &str, problem: LinkProblem) -> AppError {
    let code = match (purpose == INVITATION, problem) {
        (true, LinkProblem::Invalid) => ErrorCode::InvitationInvalid,
        (true, LinkProblem::Expired) => ErrorCode::InvitationExpired,
        (true, LinkProblem::Used) => ErrorCode::InvitationUsed,
        (true, LinkProblem::Revoked) => ErrorCode::InvitationRevoked,
        (false, LinkProblem::Invalid) => ErrorCode::ResetTokenInvalid,
        (false, LinkProblem::Expired) => ErrorCode::ResetTokenExpired,
        (false, LinkProblem::Used) => ErrorCode::ResetTokenUsed,
        (false, LinkProblem::Revoked) => ErrorCode::ResetTokenRevoked,
    };
    AppError::new(code)
}

/// Uses a link to set the user's password (SECURITY.md, the credential table). Ends, in the same
/// transaction: every other open link of the user, invitation or reset; every access token
/// (the token version is raised) and so every service token of the user; the account's
/// sign-in failures. Accepting an invitation also signs the user in, from `sign_in_from`.
/// Two requests with one link: the first wins, the second learns the link was used.
pub fn use_link_to_set_password(
    conn: &mut DbConn,
    purpose: &str,
    token: &str,
    password_hash: &str,
    sign_in_from: Option<&str>,
    now: NaiveDateTime,
) -> Result<UserRow, AppError> {
    write_transaction(conn, |conn| {
        let (link, user) = open_link(conn, purpose, token, now)?.map_err(|p| link_error(purpose, p))?;
        if !user_tokens::use_once(conn, &link.id, now)? {
            return Err(link_error(purpose, LinkProblem::Used));
        }
        users::set_password(conn, &user.id, password_hash, now)?;
        void_all_open_links(conn, &user.id, now)?;
        api_tokens::revoke_all_of(conn, &user.id, now)?;
        login_failures::clear_account(conn, &user.email)?;
        let action = if purpose == INVITATION {
            "invitation.accepted"
        } else {
            "password_reset.confirmed"
        };
        audit_log::user_event(conn, Some(&user.id), action, &user, Map::new(), now)?;
        if let Some(client) = sign_in_from {
            users::record_login(conn, &user.id, now)?;
            login_failures::remember_client(conn, &user.id, client, now)?;
        }
        users::find(conn, &user.id)?.ok_or_else(AppError::not_found)
    })
}

/// Queues a reset email when the address belongs to a user; says nothing either way.
pub fn request_password_reset(
    conn: &mut DbConn,
    email: &str,
    client: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    write_transaction(conn, |conn| {
        if !login_failures::count_reset_request(
            conn,
            client,
            email,
            now,
            RESET_REQUESTS_PER_CLIENT,
            Duration::minutes(RESET_CLIENT_WINDOW_MINUTES),
        )? {
            return Ok(());
        }
        // A deactivated user is answered as an unknown address is: alike, and with no mail.
        let Some(user) = users::find_by_email(conn, email)?.filter(UserRow::is_active) else {
            return Ok(());
        };
        // Two requests at once must not both find the interval free.
        users::lock(conn, &user.id)?;
        let (recent, _) = user_tokens::count_created_since(
            conn,
            &user.id,
            PASSWORD_RESET,
            now - Duration::minutes(RESET_MAIL_INTERVAL_MINUTES),
        )?;
        if recent > 0 {
            return Ok(());
        }
        let link = new_link(
            &user,
            PASSWORD_RESET,
            None,
            now,
            now + Duration::minutes(RESET_LINK_TTL_MINUTES),
        );
        user_tokens::insert(conn, &link)?;
        let mail = OutgoingMail::PasswordReset(PasswordResetMail {
            token_id: link.id.clone(),
            first_name: user.first_name.clone(),
            expires_at: link.expires_at,
        });
        let message = enqueue(conn, &user.email, Some(&user.id), &mail, now)?;
        attach_message(conn, &link, &message)?;
        audit_log::user_event(conn, None, "password_reset.requested", &user, Map::new(), now)?;
        Ok(())
    })
}

/// What the user list shows of a user's invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationView {
    /// `not_sent`, `sent`, `accepted` or `expired`.
    pub status: &'static str,
    pub sent_at: Option<NaiveDateTime>,
    pub accepted_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    /// `queued`, `sent`, `failed` or `cancelled`; `None` before any invitation.
    pub delivery: Option<&'static str>,
    /// The class of the last failed attempt, for everyone.
    pub delivery_error: Option<DeliveryError>,
    /// The mail server's own text of it: for KWH staff only.
    pub last_error: Option<String>,
}

impl InvitationView {
    pub fn not_sent() -> Self {
        InvitationView {
            status: "not_sent",
            sent_at: None,
            accepted_at: None,
            expires_at: None,
            delivery: None,
            delivery_error: None,
            last_error: None,
        }
    }
}

/// The invitation state of each of these users, in one query whatever their number.
pub fn invitation_views(
    conn: &mut DbConn,
    user_ids: &[String],
    now: NaiveDateTime,
) -> diesel::QueryResult<HashMap<String, InvitationView>> {
    let links = user_tokens::latest_invitations(conn, user_ids)?;
    Ok(links
        .into_iter()
        .map(|(user_id, invitation)| (user_id, invitation_view(&invitation, now)))
        .collect())
}

/// What the API shows of a user's newest invitation and its email (the email may have been
/// purged; the link remembers when it was sent).
pub fn invitation_view(invitation: &InvitationState, now: NaiveDateTime) -> InvitationView {
    let sent_at = invitation.sent_at.or(invitation.email_sent_at);
    let delivery = match (sent_at, invitation.has_email) {
        (Some(_), _) => Some("sent"),
        (None, true) => Some(match (invitation.email_failed_at, invitation.email_cancelled_at) {
            (Some(_), _) => "failed",
            (None, Some(_)) => "cancelled",
            (None, None) => "queued",
        }),
        (None, false) => None,
    };
    let status = match (invitation.used_at, invitation.expires_at <= now) {
        (Some(_), _) => "accepted",
        (None, true) => "expired",
        (None, false) => "sent",
    };
    InvitationView {
        status,
        sent_at,
        accepted_at: invitation.used_at,
        expires_at: Some(invitation.expires_at),
        delivery,
        delivery_error: invitation.delivery_error.as_deref().and_then(DeliveryError::from_key),
        last_error: invitation.last_error.clone(),
    }
}
