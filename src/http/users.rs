//! `/users`: the user list and form of the Gebruikersbeheer screens.

use actix_web::http::header::{ContentType, ETAG, IF_MATCH, LOCATION};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Caller, Credential};
use super::pagination::{corporation_parameter, invalid_parameter, page_size, text_parameter};
use super::problem::{AppError, ErrorCode, after_caller};
use super::refusals::{
    EmailTaken, LastMainUserOrSelfDeactivated, LastMainUserOrSelfDeleted, MayNotManageUsers, NoSuchUser,
    OtherCorporationNamed, UserChanged,
};
use super::schema;
use super::state::AppState;
use crate::domain::corporation::CorporationCode;
use crate::domain::email::EmailAddress;
use crate::domain::text::{MAX_NAME_LENGTH, MAX_REMARKS_LENGTH, optional_text, required_text};
use crate::domain::user::{Actor, ManagementScope, Role, UserKindInput, UserType, resolve_kind};
use crate::domain::user_list::{UserCursor, UserListQuery, UserSort};
use crate::domain::violation::{ViolationKind, Violations};
use crate::service::invitations::InvitationView;
use crate::service::management_scope;
use crate::service::user_view::UserView;
use crate::service::users::{self as use_cases, NewUser, Profile, UserEdit};

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: String,
    #[schema(example = "henk@installatietechniek.nl")]
    pub email: String,
    /// `corporation`, `contractor` or `kwh` (KWH staff).
    #[schema(example = "corporation")]
    pub user_type: &'static str,
    #[schema(example = "KWH042")]
    pub corporation_code: Option<String>,
    pub contractor: Option<ContractorRef>,
    pub first_name: String,
    pub last_name: String,
    pub job_title: Option<String>,
    pub phone: Option<String>,
    pub remarks: Option<String>,
    /// `user`, `main_user`, `contractor` or `kwh_admin`.
    #[schema(example = "user")]
    pub role: &'static str,
    /// Subset of `mijn_kwh`, `klantvizier`.
    pub access: Vec<&'static str>,
    /// Subset of `delivery_reminder`, `validation_report`.
    pub email_notifications: Vec<&'static str>,
    /// For contractor users: from their contractor's approved report settings, never from
    /// the user record (and `false` until settings are approved).
    pub excel_download: bool,
    /// The id the integrator's HR system knows this person by.
    pub external_id: Option<String>,
    /// For contractor users: the report settings in force for their contractor (the parts
    /// and names they may see); `null` for others, or before any approval.
    pub report_settings: Option<super::report_settings::ReportSettingsBody>,
    #[serde(serialize_with = "super::timestamps::rfc3339_or_null")]
    pub last_login_at: Option<DateTime<Utc>>,
    /// `false` for a deactivated user: kept with their history, but unable to sign in, and no
    /// credential of theirs works. `PATCH` with `active` deactivates or reactivates.
    pub active: bool,
    /// When the user was deactivated; `null` while active.
    #[serde(serialize_with = "super::timestamps::rfc3339_or_null")]
    pub deactivated_at: Option<DateTime<Utc>>,
    pub invitation: InvitationState,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContractorRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationState {
    /// `not_sent`, `sent`, `accepted` or `expired`.
    #[schema(example = "sent")]
    pub status: &'static str,
    /// When the mail server accepted the invitation; `null` while it is queued.
    #[serde(serialize_with = "super::timestamps::rfc3339_or_null")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "super::timestamps::rfc3339_or_null")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "super::timestamps::rfc3339_or_null")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Delivery of the latest invitation email: `queued`, `sent`, `failed` (see `delivery_error`).
    #[schema(example = "sent")]
    pub delivery: Option<&'static str>,
    /// Why the last delivery attempt failed: `mailbox_unavailable` (no such address: check it,
    /// or create the user anew), `rejected` (refused for good for another reason),
    /// `temporary_failure` (retried by itself) or `configuration` (KWH's mail setup); `null`
    /// when the last attempt did not fail.
    #[schema(value_type = Option<schema::DeliveryError>)]
    pub delivery_error: Option<&'static str>,
    /// The mail server's own text of the last failed attempt. Shown to KWH staff only
    /// (`null` for everyone else): it names hosts and addresses that are not the tenant's.
    pub last_error: Option<String>,
    /// Kept aside until a handler knows that its caller is KWH staff.
    #[serde(skip)]
    #[schema(ignore)]
    server_text: Option<String>,
}

impl From<InvitationView> for InvitationState {
    fn from(view: InvitationView) -> Self {
        InvitationState {
            status: view.status,
            sent_at: view.sent_at.map(utc),
            accepted_at: view.accepted_at.map(utc),
            expires_at: view.expires_at.map(utc),
            delivery: view.delivery,
            delivery_error: view.delivery_error.map(|class| class.key()),
            last_error: None,
            server_text: view.last_error,
        }
    }
}

impl UserResponse {
    /// The mail server's text of a failed invitation, for a KWH staff caller only; whoever
    /// renders a user without asking shows no server text.
    pub fn for_caller(mut self, actor: &Actor) -> Self {
        if actor.role == Role::KwhAdmin {
            self.invitation.last_error = self.invitation.server_text.take();
        }
        self
    }
}

fn utc(time: NaiveDateTime) -> DateTime<Utc> {
    time.and_utc()
}

impl From<UserView> for UserResponse {
    fn from(user: UserView) -> Self {
        UserResponse {
            id: user.id,
            email: user.email,
            user_type: user.user_type.key(),
            corporation_code: user.corporation_code,
            contractor: user.contractor.map(|c| ContractorRef { id: c.id, name: c.name }),
            first_name: user.first_name,
            last_name: user.last_name,
            job_title: user.job_title,
            phone: user.phone,
            remarks: user.remarks,
            role: user.role.key(),
            access: user.access.iter().map(|a| a.key()).collect(),
            email_notifications: user.email_notifications.iter().map(|n| n.key()).collect(),
            excel_download: user.excel_download,
            external_id: user.external_id,
            report_settings: user.report_settings.as_ref().map(Into::into),
            last_login_at: user.last_login_at.map(utc),
            active: user.deactivated_at.is_none(),
            deactivated_at: user.deactivated_at.map(utc),
            invitation: user.invitation.into(),
            created_at: utc(user.created_at),
            updated_at: utc(user.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    #[schema(example = "henk@woonstad.nl")]
    pub email: String,
    /// `corporation` (default) or `contractor`; a kwh_admin may also create `kwh` staff.
    #[schema(value_type = Option<schema::UserType>)]
    pub user_type: Option<String>,
    /// Required for a kwh_admin; a main user's own corporation otherwise.
    pub corporation_code: Option<String>,
    /// For contractor users: their contractor.
    pub contractor_id: Option<String>,
    #[schema(example = "Henk")]
    pub first_name: String,
    #[schema(example = "de Vries")]
    pub last_name: String,
    pub job_title: Option<String>,
    pub phone: Option<String>,
    pub remarks: Option<String>,
    /// `user` (default) or `main_user` for corporation users.
    #[schema(value_type = Option<schema::Role>)]
    pub role: Option<String>,
    #[schema(value_type = Option<Vec<schema::Access>>, example = json!(["klantvizier"]))]
    pub access: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<schema::Notification>>, example = json!(["delivery_reminder"]))]
    pub email_notifications: Option<Vec<String>>,
    pub excel_download: Option<bool>,
    /// An id your HR system knows this person by; unique within the corporation. Bulk
    /// provisioning matches on it before the email address.
    #[schema(example = "HR-004512")]
    pub external_id: Option<String>,
}

/// A partial edit: absent fields stay as they are; `null` clears job_title, phone or remarks.
///
/// A user's email address, type, corporation and contractor never change. A client may send
/// them back as it read them; a different value answers 422 (`email_immutable`, `immutable`).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    #[schema(ignore)]
    pub email: Option<String>,
    #[schema(ignore)]
    pub user_type: Option<String>,
    #[schema(ignore)]
    pub corporation_code: Option<String>,
    #[schema(ignore)]
    pub contractor_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub job_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub remarks: Option<Option<String>>,
    /// The id the integrator's HR system knows the user by, unique per corporation
    /// (409 `external_id_taken`); `null` removes it.
    #[serde(default, deserialize_with = "present")]
    pub external_id: Option<Option<String>>,
    #[schema(value_type = Option<schema::Role>)]
    pub role: Option<String>,
    #[schema(value_type = Option<Vec<schema::Access>>)]
    pub access: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<schema::Notification>>)]
    pub email_notifications: Option<Vec<String>>,
    pub excel_download: Option<bool>,
    /// `false` deactivates the user: they cannot sign in, and their access tokens, service
    /// tokens and open invitation and reset links end at once; their record and audit history
    /// stay. `true` reactivates them: they sign in again with the password they had (no new
    /// credential is made). Nobody deactivates themselves (409 `cannot_deactivate_self`), nor
    /// the last active main user of a corporation (409 `last_main_user`).
    pub active: Option<bool>,
}

/// Tells `"field": null` (clear it) from an absent field (keep it).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

fn parse_key<T>(
    violations: &mut Violations,
    field: &str,
    value: Option<&str>,
    from_key: fn(&str) -> Option<T>,
) -> Option<T> {
    let value = value?;
    let parsed = from_key(value.trim());
    if parsed.is_none() {
        violations.add(field, ViolationKind::UnknownValue);
    }
    parsed
}

fn parse_corporation(violations: &mut Violations, value: Option<&str>) -> Option<CorporationCode> {
    violations.check("corporation_code", CorporationCode::parse(value?))
}

impl CreateUserRequest {
    /// The same fields as an edit of an existing user: what is given, and nothing else.
    pub fn to_edit(&self) -> Result<UserEdit, Violations> {
        UpdateUserRequest {
            email: Some(self.email.clone()),
            user_type: self.user_type.clone(),
            corporation_code: self.corporation_code.clone(),
            contractor_id: self.contractor_id.clone(),
            first_name: Some(self.first_name.clone()),
            last_name: Some(self.last_name.clone()),
            job_title: self.job_title.clone().map(Some),
            phone: self.phone.clone().map(Some),
            remarks: self.remarks.clone().map(Some),
            // Given, it is set (a user matched by email gains the link); absent, kept.
            external_id: self.external_id.clone().map(Some),
            role: self.role.clone(),
            access: self.access.clone(),
            email_notifications: self.email_notifications.clone(),
            excel_download: self.excel_download,
            active: None,
        }
        .into_edit()
    }

    /// The trimmed external id, when one is given.
    pub fn parsed_external_id(&self) -> Result<Option<String>, Violations> {
        let mut violations = Violations::new();
        let id = violations.check(
            "external_id",
            optional_text(self.external_id.as_deref(), MAX_NAME_LENGTH),
        );
        violations.finish(|| id.flatten())
    }

    pub fn into_new_user(self, caller: &Caller) -> Result<NewUser, Violations> {
        let mut violations = Violations::new();
        let email = violations.check("email", EmailAddress::parse(&self.email));
        let first_name = violations.check("first_name", required_text(&self.first_name, MAX_NAME_LENGTH));
        let last_name = violations.check("last_name", required_text(&self.last_name, MAX_NAME_LENGTH));
        let job_title = violations.check("job_title", optional_text(self.job_title.as_deref(), MAX_NAME_LENGTH));
        let phone = violations.check("phone", optional_text(self.phone.as_deref(), MAX_NAME_LENGTH));
        let remarks = violations.check("remarks", optional_text(self.remarks.as_deref(), MAX_REMARKS_LENGTH));
        let user_type = parse_key(
            &mut violations,
            "user_type",
            self.user_type.as_deref(),
            UserType::from_key,
        );
        let role = parse_key(&mut violations, "role", self.role.as_deref(), Role::from_key);
        let mut corporation_code = parse_corporation(&mut violations, self.corporation_code.as_deref());
        // A main user works in its own corporation; naming another one is refused later.
        if corporation_code.is_none()
            && user_type != Some(UserType::Kwh)
            && let Some(ManagementScope::Corporation(own)) = caller.actor.management_scope()
        {
            corporation_code = Some(own);
        }
        let contractor_id = self.contractor_id.as_deref().and_then(|id| {
            let parsed = Uuid::parse_str(id.trim()).map(|u| u.to_string()).ok();
            if parsed.is_none() {
                violations.add("contractor_id", ViolationKind::UnknownReference);
            }
            parsed
        });
        let kind = resolve_kind(&UserKindInput {
            user_type,
            role,
            corporation_code,
            contractor_id,
            access: self.access,
            email_notifications: self.email_notifications,
            excel_download: self.excel_download,
        });
        let kind = match kind {
            Ok(kind) => Some(kind),
            Err(more) => {
                for violation in more.into_vec() {
                    violations.add(violation.field, violation.kind);
                }
                None
            }
        };
        match (email, first_name, last_name, job_title, phone, remarks, kind) {
            (
                Some(email),
                Some(first_name),
                Some(last_name),
                Some(job_title),
                Some(phone),
                Some(remarks),
                Some(kind),
            ) if violations.is_empty() => Ok(NewUser {
                email,
                profile: Profile {
                    first_name,
                    last_name,
                    job_title,
                    phone,
                    remarks,
                },
                kind,
            }),
            _ => Err(violations),
        }
    }
}

impl UpdateUserRequest {
    fn into_edit(self) -> Result<UserEdit, Violations> {
        let mut violations = Violations::new();
        let email = self
            .email
            .as_deref()
            .and_then(|e| violations.check("email", EmailAddress::parse(e)));
        let first_name = self
            .first_name
            .as_deref()
            .and_then(|v| violations.check("first_name", required_text(v, MAX_NAME_LENGTH)));
        let last_name = self
            .last_name
            .as_deref()
            .and_then(|v| violations.check("last_name", required_text(v, MAX_NAME_LENGTH)));
        let mut optional = |field: &str, value: Option<Option<String>>, max: usize| {
            value.and_then(|v| violations.check(field, optional_text(v.as_deref(), max)))
        };
        let job_title = optional("job_title", self.job_title, MAX_NAME_LENGTH);
        let phone = optional("phone", self.phone, MAX_NAME_LENGTH);
        let remarks = optional("remarks", self.remarks, MAX_REMARKS_LENGTH);
        let external_id = optional("external_id", self.external_id, MAX_NAME_LENGTH);
        let user_type = parse_key(
            &mut violations,
            "user_type",
            self.user_type.as_deref(),
            UserType::from_key,
        );
        let role = parse_key(&mut violations, "role", self.role.as_deref(), Role::from_key);
        let corporation_code = parse_corporation(&mut violations, self.corporation_code.as_deref());
        let kind = UserKindInput {
            user_type,
            role,
            corporation_code,
            contractor_id: self.contractor_id,
            access: self.access,
            email_notifications: self.email_notifications,
            excel_download: self.excel_download,
        };
        violations.finish(|| UserEdit {
            email,
            first_name,
            last_name,
            job_title,
            phone,
            remarks,
            external_id,
            display_name: None,
            active: self.active,
            kind,
        })
    }
}

fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` header asks for: `None` without the header or with `*`.
pub(super) fn if_match(request: &HttpRequest) -> Result<Option<i32>, AppError> {
    let Some(value) = request.headers().get(IF_MATCH) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or("").trim();
    if value == "*" {
        return Ok(None);
    }
    // The form this API sends (`"7"`, weak or not), or the bare version: nothing else.
    let tag = value.strip_prefix("W/").unwrap_or(value);
    let version = match tag.strip_prefix('"') {
        Some(quoted) => quoted.strip_suffix('"'),
        None if !value.starts_with("W/") => Some(tag),
        None => None,
    };
    version
        .filter(|v| (1..=9).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<i32>().ok())
        .map(Some)
        .ok_or_else(|| AppError::new(ErrorCode::InvalidHeader).with_reason("If-Match: not an ETag of this API"))
}

/// A user, shown to this caller, with the `ETag` of its version.
fn with_etag(mut response: actix_web::HttpResponseBuilder, user: UserView, actor: &Actor) -> HttpResponse {
    let version = user.version;
    let body = UserResponse::from(user).for_caller(actor);
    response.insert_header((ETAG, etag(version))).json(body)
}

/// Create a user.
///
/// A main user creates users in its own corporation; a kwh_admin names the corporation.
#[utoipa::path(
    tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created; `Location` names the new user", body = UserResponse),
        MayNotManageUsers, OtherCorporationNamed, EmailTaken,
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    credential: Credential,
    body: Result<web::Json<CreateUserRequest>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let body = after_caller(body).map(web::Json::into_inner);
    let ttl = chrono::Duration::from_std(state.settings.invitation_ttl).map_err(AppError::internal)?;
    let (user, actor) = state
        .act(credential, move |conn, caller, now| {
            let body = body?;
            management_scope(&caller.actor)?;
            let external_id = body.parsed_external_id()?;
            let new_user = body.into_new_user(caller)?;
            let user = use_cases::create_and_show(conn, &caller.actor, new_user, external_id, ttl, now)?;
            Ok((user, caller.actor.clone()))
        })
        .await?;
    state.mail_wake.notify_one();
    let mut created = HttpResponse::Created();
    created.insert_header((LOCATION, format!("/users/{}", user.id)));
    Ok(with_etag(created, user, &actor))
}

/// One user, with its `ETag` for a later `If-Match`.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = UserResponse, headers(("ETag" = String, description = "Version for If-Match"))),
        MayNotManageUsers, NoSuchUser,
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let id = after_caller(id).map(|id| id.into_inner().to_string());
    let now = state.now();
    // Not `db_as`: `show_to` checks the token in the statement that reads the user. A
    // malformed id reads nothing, so the token is checked alone first (401 before 400).
    let (user, actor) = state
        .db(move |conn| match id {
            Ok(id) => use_cases::show_to(conn, &credential, &id, now),
            Err(refusal) => {
                credential.resolve(conn)?;
                Err(refusal)
            }
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), user, &actor))
}

/// Edit a user (partial). The email address never changes (422 `email_immutable`).
///
/// Send `If-Match` with the `ETag` you read to be told (412) when someone changed the user
/// meanwhile. Demoting or deactivating the last active main user answers 409 `last_main_user`.
/// `"active": false` deactivates the user (every credential of theirs ends at once),
/// `"active": true` reactivates them.
#[utoipa::path(
    tag = "users",
    params(
        ("id" = Uuid, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read before the edit"),
    ),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The edited user", body = UserResponse),
        MayNotManageUsers, NoSuchUser, LastMainUserOrSelfDeactivated, UserChanged,
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    request: HttpRequest,
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
    body: Result<web::Json<UpdateUserRequest>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let id = after_caller(id).map(|id| id.into_inner().to_string());
    let body = after_caller(body).map(web::Json::into_inner);
    let expected = if_match(&request);
    let (user, actor) = state
        .act(credential, move |conn, caller, now| {
            let (id, body) = (id?, body?);
            management_scope(&caller.actor)?;
            let (expected, edit) = (expected?, body.into_edit()?);
            let user = use_cases::update_and_show(conn, &caller.actor, &id, expected, edit, now)?;
            Ok((user, caller.actor.clone()))
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), user, &actor))
}

/// Delete a user: their personal data leaves the system; the audit log keeps only the id.
#[utoipa::path(
    tag = "users",
    params(
        ("id" = Uuid, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read before the deletion"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        MayNotManageUsers, NoSuchUser, LastMainUserOrSelfDeleted, UserChanged,
    )
)]
#[delete("/users/{id}")]
pub async fn delete_user(
    request: HttpRequest,
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let id = after_caller(id).map(|id| id.into_inner().to_string());
    let expected = if_match(&request);
    state
        .act(credential, move |conn, caller, now| {
            let id = id?;
            management_scope(&caller.actor)?;
            use_cases::delete(conn, &caller.actor, &id, expected?, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Case-insensitive part of a first name, last name or email address.
    pub q: Option<String>,
    #[param(value_type = Option<schema::UserType>)]
    pub user_type: Option<String>,
    #[param(value_type = Option<schema::Role>)]
    pub role: Option<String>,
    pub corporation_code: Option<String>,
    pub contractor_id: Option<String>,
    /// `true`: only active users; `false`: only deactivated ones; absent: both.
    pub active: Option<bool>,
    /// `last_name` (default), `email`, `created_at`, or `last_login_at` (most recent first,
    /// never signed in last); ties are ordered by id.
    #[param(value_type = Option<schema::UserSort>)]
    pub sort: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserResponse>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct CursorToken {
    s: String,
    k: String,
    i: String,
}

fn encode_cursor(cursor: UserCursor, sort: UserSort) -> String {
    let (key, id) = match cursor {
        UserCursor::Text(key, id) => (key, id),
        UserCursor::Time(at, id) => (rfc3339(at), id),
        UserCursor::OptionalTime(at, id) => (at.map(rfc3339).unwrap_or_default(), id),
    };
    let token = CursorToken {
        s: sort.key().into(),
        k: key,
        i: id,
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).expect("cursor serialises"))
}

fn rfc3339(time: NaiveDateTime) -> String {
    time.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn decode_cursor(sort: UserSort, cursor: &str) -> Result<UserCursor, AppError> {
    let invalid = || AppError::new(ErrorCode::InvalidQuery).with_reason("cursor: not a cursor of this list");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let token: CursorToken = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    // A forged cursor may carry anything; NUL and other control characters never reach SQL.
    let clean = |text: &str| !text.chars().any(char::is_control);
    if token.s != sort.key() || !clean(&token.k) || !clean(&token.i) {
        return Err(invalid());
    }
    match sort {
        UserSort::CreatedAt => DateTime::parse_from_rfc3339(&token.k)
            .map(|t| UserCursor::Time(t.naive_utc(), token.i))
            .map_err(|_| invalid()),
        UserSort::LastLoginAt if token.k.is_empty() => Ok(UserCursor::OptionalTime(None, token.i)),
        UserSort::LastLoginAt => DateTime::parse_from_rfc3339(&token.k)
            .map(|t| UserCursor::OptionalTime(Some(t.naive_utc()), token.i))
            .map_err(|_| invalid()),
        UserSort::LastName | UserSort::Email => Ok(UserCursor::Text(token.k, token.i)),
    }
}

/// The users the caller manages, a page at a time.
///
/// Cursor pagination: the order is total (ties broken by id), so walking `next_cursor` never
/// skips or repeats a user, even while users are added.
#[utoipa::path(
    tag = "users",
    params(UserListParams),
    responses(
        (status = 200, description = "A page of users; with `Accept: text/csv`, every matching user as a spreadsheet (semicolon-separated, UTF-8, Dutch column names of the Gebruikersbeheer screens), streamed page by page",
            content((UserPage = "application/json"), (String = "text/csv"))),
        MayNotManageUsers,
    )
)]
#[get("/users")]
pub async fn list_users(
    request: HttpRequest,
    state: web::Data<AppState>,
    credential: Credential,
    params: Result<web::Query<UserListParams>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let params = after_caller(params).map(web::Query::into_inner);
    let now = state.now();
    if wants_csv(&request) {
        let caller = state.db(move |conn| credential.resolve(conn)).await?;
        management_scope(&caller.actor)?;
        let (requested, query) = list_query(params?)?;
        return super::export::users_csv(state, caller.actor.clone(), requested, query, now).await;
    }
    let page = state
        .db_as(credential, move |conn, caller| {
            // Who may list comes before what they asked for, as on every other operation.
            management_scope(&caller.actor)?;
            let (requested, query) = list_query(params?)?;
            let sort = query.sort;
            let page = use_cases::list(conn, &caller.actor, requested, query, now)?;
            let next_cursor = page
                .more
                .then(|| {
                    page.users
                        .last()
                        .map(|last| encode_cursor(use_cases::cursor_after(sort, last), sort))
                })
                .flatten();
            Ok(UserPage {
                items: page
                    .users
                    .into_iter()
                    .map(|user| UserResponse::from(user).for_caller(&caller.actor))
                    .collect(),
                next_cursor,
            })
        })
        .await?;
    // Written into a buffer the size of a page (a user is about 670 bytes of JSON) rather than
    // one that starts at 128 bytes and is copied each time it doubles.
    let mut body = Vec::with_capacity(64 + page.items.len() * USER_JSON_BYTES);
    serde_json::to_writer(&mut body, &page).map_err(AppError::internal)?;
    Ok(HttpResponse::Ok().content_type(ContentType::json()).body(body))
}

/// About the length of one user in a list's JSON, rounded up.
const USER_JSON_BYTES: usize = 768;

/// The list's parameters as a query, with the corporation asked for (narrowed to the caller's
/// scope by the use case, rule 4).
fn list_query(params: UserListParams) -> Result<(Option<CorporationCode>, UserListQuery), AppError> {
    let limit = page_size(params.limit)?;
    let sort =
        UserSort::from_key(params.sort.as_deref().unwrap_or("last_name")).ok_or_else(|| invalid_parameter("sort"))?;
    let after = params.cursor.as_deref().map(|c| decode_cursor(sort, c)).transpose()?;
    let requested = corporation_parameter(params.corporation_code.as_deref())?;
    let user_type = params
        .user_type
        .as_deref()
        .map(|t| UserType::from_key(t).ok_or_else(|| invalid_parameter("user_type")))
        .transpose()?;
    let role = params
        .role
        .as_deref()
        .map(|r| Role::from_key(r).ok_or_else(|| invalid_parameter("role")))
        .transpose()?;
    let contractor_id = text_parameter("contractor_id", params.contractor_id)?;
    let text = text_parameter("q", params.q)?;
    let query = UserListQuery {
        // Set by the use case from the caller's scope and `requested` (rule 4).
        corporation_code: None,
        user_type,
        role,
        contractor_id,
        active: params.active,
        text,
        sort,
        after,
        page_size: limit as usize,
    };
    Ok((requested, query))
}

/// The spreadsheet when asked for it: `Accept: text/csv` (and not JSON first).
fn wants_csv(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .next()
                .is_some_and(|first| first.trim().starts_with("text/csv"))
        })
}
