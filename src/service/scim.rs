//! SCIM 2.0 provisioning (issue #14): a corporation user as the SCIM `User` resource, and the
//! use cases behind `/scim/v2/Users`.
//!
//! Every change goes through the use cases of the REST API (`service::users`), so tenancy
//! (rule 4), the lock-out guard (rule 5), the unique address (rule 1), the fixed address
//! (rule 2) and the audit log hold exactly as they do there; this module translates between
//! the SCIM form and ours. A `scim` token acts as a main user of its one corporation
//! (`service::callers`), and sees that corporation's own staff only: contractor users stay in
//! the app.
//!
//! Where SCIM and our record differ:
//! - `userName` is the email address and never changes; `emails` mirrors it (the work
//!   address) and is read-only: ignored in a POST or PUT; in a PATCH, setting it to the
//!   userName is accepted as already true (Entra's default mapping sends it), anything else is
//!   refused as a change of the address;
//! - a first and last name are required here; when the identity provider leaves one out,
//!   `displayName` stands in, and failing that the part of the address before the `@`;
//! - PUT replaces what SCIM may clear (`displayName`, `title`, `phoneNumbers`, `externalId`,
//!   and `emailNotifications` when the extension is sent); role, access and Excel download
//!   always have a value, so a PUT without them keeps them, and a PUT without the extension
//!   (a client that does not know it) leaves all of it as it is;
//! - attributes we do not hold (`addresses`, `preferredLanguage`, the enterprise extension …)
//!   are accepted and not kept, so a provider's default attribute mapping does not fail.

use chrono::{NaiveDateTime, SecondsFormat};
use serde_json::{Map, Value, json};

use super::users::{self, Creation, NewUser, Profile, UserEdit};
use crate::db::rows::UserRow;
use crate::db::{DbConn, api_tokens, corporations, users as user_rows, write_transaction};
use crate::domain::email::EmailAddress;
use crate::domain::scim::schema::{CORE_USER_URN, MIJNKWH_USER_URN, USER};
use crate::domain::scim::{self, Filter, PatchError, PatchPath, member};
use crate::domain::text::{MAX_NAME_LENGTH, optional_text, required_text};
use crate::domain::user::{Actor, ManagementScope, Role, UserKindInput, UserType, resolve_kind};
use crate::domain::violation::ViolationKind;
use crate::error::{AppError, ErrorCode};

/// Most users one list answer holds; a larger `count` is lowered (RFC 7644 §3.4.2.4).
pub const MAX_PAGE_SIZE: usize = 200;
/// Most users a filter the database cannot answer is evaluated over; past it the filter
/// answers `tooMany` (RFC 7644 §3.12) instead of reading a whole large corporation per call.
pub const MAX_FILTERED_USERS: usize = 10_000;

/// `meta.version` and the `ETag`: weak, as a version number is (RFC 7644 §3.14).
pub fn version_tag(version: i32) -> String {
    format!("W/\"{version}\"")
}

fn timestamp(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The SCIM form of a user; `base_url` is the `/scim/v2` the caller reached.
pub fn resource(row: &UserRow, base_url: &str) -> Value {
    let mut user = json!({
        "schemas": [CORE_USER_URN, MIJNKWH_USER_URN],
        "id": row.id,
        "userName": row.email,
        "name": {
            "givenName": row.first_name,
            "familyName": row.last_name,
        },
        "active": row.is_active(),
        "emails": [{"value": row.email, "type": "work", "primary": true}],
        "meta": {
            "resourceType": "User",
            "created": timestamp(row.created_at),
            "lastModified": timestamp(row.updated_at),
            "location": format!("{base_url}/Users/{}", row.id),
            "version": version_tag(row.version),
        },
        MIJNKWH_USER_URN: {
            "role": row.role.key(),
            "access": row.access.to_strings(),
            "emailNotifications": row.email_notifications.to_strings(),
            "excelDownload": row.excel_download,
        },
    });
    if let Some(external_id) = &row.external_id {
        user["externalId"] = external_id.clone().into();
    }
    if let Some(display_name) = &row.display_name {
        user["displayName"] = display_name.clone().into();
    }
    if let Some(title) = &row.job_title {
        user["title"] = title.clone().into();
    }
    if let Some(phone) = &row.phone {
        user["phoneNumbers"] = json!([{"value": phone, "type": "work"}]);
    }
    user
}

/// What a SCIM body says of a user, checked: the fields we keep, in our types.
#[derive(Debug, Clone)]
struct ScimUser {
    email: EmailAddress,
    first_name: String,
    last_name: String,
    display_name: Option<String>,
    title: Option<String>,
    phone: Option<String>,
    external_id: Option<String>,
    active: Option<bool>,
    /// Whether the body has our extension at all: a client that does not speak it (Okta's PUT
    /// without it) leaves all of it as it is.
    has_extension: bool,
    /// Our extension: `None` where the body leaves it out.
    role: Option<Role>,
    access: Option<Vec<String>>,
    email_notifications: Option<Vec<String>>,
    excel_download: Option<bool>,
}

fn invalid_value(detail: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidAttributeValue).with_reason(detail)
}

/// A boolean, or Entra's `"True"`/`"False"`.
fn boolean(value: &Value, attribute: &str) -> Result<Option<bool>, AppError> {
    match value {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(Some(true)),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(Some(false)),
        _ => Err(invalid_value(format!("`{attribute}` is true or false"))),
    }
}

fn string<'v>(value: Option<&'v Value>, attribute: &str) -> Result<Option<&'v str>, AppError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(invalid_value(format!("`{attribute}` is a string"))),
    }
}

fn strings(value: Option<&Value>, attribute: &str) -> Result<Option<Vec<String>>, AppError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                // A multi-valued string may come as `{"value": "…"}` (RFC 7643 §2.4).
                Value::Object(o) => string(member(o, "value"), attribute)?
                    .map(str::to_string)
                    .ok_or_else(|| invalid_value(format!("`{attribute}` holds strings"))),
                _ => Err(invalid_value(format!("`{attribute}` holds strings"))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(_) => Err(invalid_value(format!("`{attribute}` is a list of strings"))),
    }
}

/// The value of a multi-valued complex attribute a user has one of: the `work` one, else one
/// without a type (the primary one first). Another type (`mobile`, `fax`) is not ours to keep:
/// taken as the work number, it would come back as one, and Entra would correct it forever.
fn work_value<'v>(value: Option<&'v Value>, attribute: &str) -> Result<Option<&'v str>, AppError> {
    let values = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(values)) => values,
        Some(_) => return Err(invalid_value(format!("`{attribute}` is a list"))),
    };
    let objects: Vec<&Map<String, Value>> = values.iter().filter_map(Value::as_object).collect();
    fn kind(object: &Map<String, Value>) -> Option<&str> {
        member(object, "type").and_then(Value::as_str).map(str::trim)
    }
    let primary = |object: &Map<String, Value>| {
        member(object, "primary").is_some_and(|v| boolean(v, "primary").ok().flatten() == Some(true))
    };
    let untyped = || objects.iter().filter(|o| kind(o).is_none_or(str::is_empty));
    let chosen = objects
        .iter()
        .find(|o| kind(o).is_some_and(|k| k.eq_ignore_ascii_case("work")))
        .or_else(|| untyped().find(|o| primary(o)))
        .or_else(|| untyped().next());
    match chosen {
        Some(object) => string(member(object, "value"), &format!("{attribute}.value")),
        None => Ok(None),
    }
}

fn text(value: Option<&str>, attribute: &str) -> Result<Option<String>, AppError> {
    optional_text(value, MAX_NAME_LENGTH).map_err(|kind| invalid_value(format!("`{attribute}`: {}", describe(&kind))))
}

fn describe(kind: &ViolationKind) -> String {
    match kind {
        ViolationKind::TooLong { max } => format!("at most {max} characters"),
        ViolationKind::Required => "required".into(),
        ViolationKind::InvalidEmail => "not an email address".into(),
        ViolationKind::UnknownValue => "not one of the schema's canonicalValues".into(),
        other => other.code().replace('_', " "),
    }
}

/// Reads a User body (POST, PUT, or a user after PATCH).
fn parse_user(body: &Value) -> Result<ScimUser, AppError> {
    let body = body
        .as_object()
        .ok_or_else(|| AppError::new(ErrorCode::InvalidScimRequest).with_reason("a User is a JSON object"))?;
    let user_name = string(member(body, "userName"), "userName")?
        .ok_or_else(|| invalid_value("`userName` (the email address) is required"))?;
    let email = EmailAddress::parse(user_name)
        .map_err(|_| invalid_value("`userName` is the user's email address, and this is not one"))?;
    let name = match member(body, "name") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(name)) => name.clone(),
        Some(_) => return Err(invalid_value("`name` is an object")),
    };
    let display_name = text(string(member(body, "displayName"), "displayName")?, "displayName")?;
    let local_part = email.as_str().split('@').next().unwrap_or_default().to_string();
    let name_part = |attribute: &str| -> Result<String, AppError> {
        let given = text(
            string(member(&name, attribute), &format!("name.{attribute}"))?,
            attribute,
        )?;
        let chosen = given
            .or_else(|| display_name.clone())
            .unwrap_or_else(|| local_part.clone());
        required_text(&chosen, MAX_NAME_LENGTH)
            .map_err(|kind| invalid_value(format!("`name.{attribute}`: {}", describe(&kind))))
    };
    let first_name = name_part("givenName")?;
    let last_name = name_part("familyName")?;
    let title = text(string(member(body, "title"), "title")?, "title")?;
    let phone = text(
        work_value(member(body, "phoneNumbers"), "phoneNumbers")?,
        "phoneNumbers",
    )?;
    let external_id = text(string(member(body, "externalId"), "externalId")?, "externalId")?;
    let active = match member(body, "active") {
        Some(value) => boolean(value, "active")?,
        None => None,
    };
    // `emails` is read-only (it mirrors userName): what a client sends there is ignored.
    let (has_extension, extension) = match member(body, MIJNKWH_USER_URN) {
        None | Some(Value::Null) => (false, Map::new()),
        Some(Value::Object(extension)) => (true, extension.clone()),
        Some(_) => return Err(invalid_value(format!("`{MIJNKWH_USER_URN}` is an object"))),
    };
    let role = match string(member(&extension, "role"), "role")? {
        None => None,
        Some(key) => match Role::from_key(key.trim()) {
            Some(role @ (Role::User | Role::MainUser)) => Some(role),
            _ => return Err(invalid_value("`role` is `user` or `main_user`")),
        },
    };
    let excel_download = match member(&extension, "excelDownload") {
        Some(value) => boolean(value, "excelDownload")?,
        None => None,
    };
    Ok(ScimUser {
        email,
        first_name,
        last_name,
        display_name,
        title,
        phone,
        external_id,
        active,
        has_extension,
        role,
        access: strings(member(&extension, "access"), "access")?,
        email_notifications: strings(member(&extension, "emailNotifications"), "emailNotifications")?,
        excel_download,
    })
}

/// Our field names in a violation (`access[0]`), as the SCIM attributes a provider knows.
fn scim_attribute(field: &str) -> &str {
    match field.split('[').next().unwrap_or(field) {
        "email" => "userName",
        "first_name" => "name.givenName",
        "last_name" => "name.familyName",
        "job_title" => "title",
        "phone" => "phoneNumbers",
        "external_id" => "externalId",
        "email_notifications" => "emailNotifications",
        "excel_download" => "excelDownload",
        other => other,
    }
}

/// A use case's refusal in SCIM's words: invalid fields are `invalidValue` (or `mutability`
/// for the address), naming the SCIM attributes.
fn in_scim_terms(error: AppError) -> AppError {
    match error.code() {
        ErrorCode::ValidationFailed | ErrorCode::EmailImmutable => {
            let immutable = error.code() == ErrorCode::EmailImmutable
                || error
                    .violations()
                    .iter()
                    .any(|v| matches!(v.kind, ViolationKind::EmailImmutable | ViolationKind::Immutable));
            let attributes: Vec<String> = error
                .violations()
                .iter()
                .map(|v| format!("{} ({})", scim_attribute(&v.field), describe(&v.kind)))
                .collect();
            let code = if immutable {
                ErrorCode::AttributeImmutable
            } else {
                ErrorCode::InvalidAttributeValue
            };
            AppError::new(code).with_reason(attributes.join(", "))
        }
        _ => error,
    }
}

fn patch_error(error: PatchError) -> AppError {
    let code = match error.scim_type() {
        scim::ScimType::InvalidFilter => ErrorCode::InvalidFilter,
        scim::ScimType::InvalidSyntax => ErrorCode::InvalidScimRequest,
        scim::ScimType::InvalidPath => ErrorCode::InvalidPatchPath,
        scim::ScimType::NoTarget => ErrorCode::PatchNoTarget,
        scim::ScimType::InvalidValue => ErrorCode::InvalidAttributeValue,
        scim::ScimType::Mutability => ErrorCode::AttributeImmutable,
    };
    AppError::new(code).with_reason(error.detail().to_string())
}

/// Parses `filter`, refusing comparisons the RFC calls invalid (400 `invalidFilter`).
pub fn parse_filter(input: &str) -> Result<Filter, AppError> {
    let filter = Filter::parse(input).and_then(|filter| filter.check(&USER).map(|()| filter));
    filter.map_err(|error| AppError::new(ErrorCode::InvalidFilter).with_reason(error.to_string()))
}

/// Parses a PatchOp body.
pub fn parse_patch(body: &Value) -> Result<Vec<scim::PatchOperation>, AppError> {
    scim::parse_patch_request(body).map_err(patch_error)
}

fn corporation(actor: &Actor) -> Result<String, AppError> {
    match super::management_scope(actor)? {
        ManagementScope::Corporation(code) => Ok(code.as_str().to_string()),
        // Only a `scim` token reaches here, and it always acts within one corporation.
        ManagementScope::Everything => Err(AppError::new(ErrorCode::Forbidden)),
    }
}

/// A user of the caller's corporation's own staff; anyone else is not found (rule 4).
fn find_staff(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<UserRow, AppError> {
    let row = user_rows::find(conn, id)?;
    staff_only(actor, row)
}

/// The row, when it is one of the caller's corporation's own staff; else not found (rule 4).
fn staff_only(actor: &Actor, row: Option<UserRow>) -> Result<UserRow, AppError> {
    let code = corporation(actor)?;
    row.filter(|row| row.user_type == UserType::Corporation && row.corporation_code.as_deref() == Some(code.as_str()))
        .ok_or_else(AppError::not_found)
}

pub fn show(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<UserRow, AppError> {
    find_staff(conn, actor, id)
}

/// One page of a list: how many match in all, and the page's users.
pub struct UserPage {
    pub total: usize,
    pub users: Vec<UserRow>,
}

/// `GET /Users`: the corporation's staff matching `filter`, from `start_index` (1-based), at
/// most `count`. An equality on `userName`, `externalId` or `id` is one indexed lookup (what
/// Entra and Okta ask before every create); anything else is evaluated over the SCIM form.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    filter: Option<&Filter>,
    start_index: usize,
    count: usize,
) -> Result<UserPage, AppError> {
    let code = corporation(actor)?;
    let count = count.min(MAX_PAGE_SIZE);
    let offset = start_index.saturating_sub(1);
    let Some(filter) = filter else {
        let total = user_rows::count_staff(conn, &code)? as usize;
        let users = user_rows::staff_page(conn, &code, offset, count)?;
        return Ok(UserPage { total, users });
    };
    let candidates = match filter.as_simple_equality() {
        Some((path, value)) if path.is_core("userName") || path.is_core("emails.value") => {
            match EmailAddress::parse(value) {
                Ok(email) => user_rows::find_by_email(conn, email.as_str())?.into_iter().collect(),
                Err(_) => Vec::new(),
            }
        }
        // No stored value holds a control character (`domain::text`), and PostgreSQL refuses a
        // NUL in a parameter outright: such a value matches nothing.
        Some((_, value)) if value.chars().any(char::is_control) => Vec::new(),
        Some((path, value)) if path.is_core("externalId") => user_rows::find_by_external_id(conn, &code, value)?
            .into_iter()
            .collect(),
        Some((path, value)) if path.is_core("id") => match uuid::Uuid::parse_str(value) {
            Ok(id) => user_rows::find(conn, &id.to_string())?.into_iter().collect(),
            Err(_) => Vec::new(),
        },
        _ => super::within_bound(
            user_rows::all_staff(conn, &code, MAX_FILTERED_USERS + 1)?,
            MAX_FILTERED_USERS,
        )?,
    };
    let matching: Vec<UserRow> = candidates
        .into_iter()
        .filter(|row| row.user_type == UserType::Corporation && row.corporation_code.as_deref() == Some(code.as_str()))
        .filter(|row| filter.matches(&resource(row, ""), &USER))
        .collect();
    let total = matching.len();
    let users = matching.into_iter().skip(offset).take(count).collect();
    Ok(UserPage { total, users })
}

/// `POST /Users`. The new user gets an invitation mail (they have no password yet), unless the
/// token was made not to send one, or the user is created inactive.
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    body: &Value,
    invitation_ttl: chrono::Duration,
    now: NaiveDateTime,
) -> Result<UserRow, AppError> {
    let user = parse_user(body)?;
    let code = corporation(actor)?;
    let kind = resolve_kind(&UserKindInput {
        user_type: Some(UserType::Corporation),
        role: user.role,
        corporation_code: actor.corporation_code.clone(),
        contractor_id: None,
        access: user.access,
        email_notifications: user.email_notifications,
        excel_download: user.excel_download,
    })
    .map_err(|violations| in_scim_terms(violations.into()))?;
    debug_assert_eq!(kind.corporation_code.as_ref().map(|c| c.as_str()), Some(code.as_str()));
    let invites = match &actor.via_token {
        Some(token) => api_tokens::find(conn, token)?.is_none_or(|token| token.invites_new_users),
        None => true,
    };
    let active = user.active.unwrap_or(true);
    let new = NewUser {
        email: user.email,
        profile: Profile {
            first_name: user.first_name,
            last_name: user.last_name,
            job_title: user.title,
            phone: user.phone,
            remarks: None,
        },
        kind,
    };
    let creation = Creation {
        external_id: user.external_id,
        display_name: user.display_name,
        active,
        invite: invites && active,
    };
    users::create(conn, actor, new, creation, invitation_ttl, now).map_err(in_scim_terms)
}

/// The edit that makes the stored user what a whole SCIM form says (PUT, or a user after
/// PATCH): what SCIM may clear is cleared when absent; our extension is kept when absent.
fn replacement(row: &UserRow, user: ScimUser) -> Result<UserEdit, AppError> {
    if user.email.as_str() != row.email {
        return Err(AppError::new(ErrorCode::AttributeImmutable)
            .with_reason("`userName` is the email address, which never changes (rule 2)"));
    }
    Ok(UserEdit {
        email: None,
        first_name: Some(user.first_name),
        last_name: Some(user.last_name),
        job_title: Some(user.title),
        phone: Some(user.phone),
        remarks: None,
        external_id: Some(user.external_id),
        display_name: Some(user.display_name),
        active: user.active,
        kind: UserKindInput {
            role: user.role,
            access: user.access,
            // Not required, so a form with the extension but without it has none (PATCH
            // `remove`); the required ones keep their value when absent.
            email_notifications: match user.has_extension {
                true => Some(user.email_notifications.unwrap_or_default()),
                false => None,
            },
            excel_download: user.excel_download,
            ..UserKindInput::default()
        },
    })
}

/// `PUT /Users/{id}` (Okta updates and deactivates this way).
pub fn replace(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    if_match: Option<i32>,
    body: &Value,
    now: NaiveDateTime,
) -> Result<UserRow, AppError> {
    let user = parse_user(body)?;
    write_transaction(conn, |conn| {
        let row = find_staff(conn, actor, id)?;
        let edit = replacement(&row, user)?;
        users::update(conn, actor, id, if_match, edit, now).map_err(in_scim_terms)
    })
}

/// `PATCH /Users/{id}` (Entra's way): the operations applied to the user's SCIM form, and the
/// result stored as a PUT of it would be. A PATCH that changes nothing writes nothing (Entra
/// sends `active: true` again and again).
pub fn patch(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    if_match: Option<i32>,
    operations: &[scim::PatchOperation],
    now: NaiveDateTime,
) -> Result<UserRow, AppError> {
    write_transaction(conn, |conn| {
        // The form the operations apply to is read under the locks the update takes (the
        // corporation, as a SCIM form always carries `active`, then the user), so nothing
        // commits between the read and the write: no lost change, and no 412 unasked for.
        let code = find_staff(conn, actor, id)?.corporation_code;
        if let Some(code) = &code {
            corporations::lock(conn, code)?;
        }
        let row = staff_only(actor, user_rows::find_for_update(conn, id)?)?;
        if if_match.is_some_and(|expected| expected != row.version) {
            return Err(AppError::new(ErrorCode::PreconditionFailed));
        }
        let operations = without_the_address_as_it_is(operations, &row)?;
        let mut form = resource(&row, "");
        scim::apply_patch(&mut form, &operations, &USER).map_err(patch_error)?;
        let edit = replacement(&row, parse_user(&form)?)?;
        users::update(conn, actor, id, Some(row.version), edit, now).map_err(in_scim_terms)
    })
}

/// The operations on `emails` that set it to the address it has (Entra maps the work email
/// beside the userName) are dropped; any other operation naming `emails` changes the address,
/// which never changes (rule 2).
fn without_the_address_as_it_is(
    operations: &[scim::PatchOperation],
    row: &UserRow,
) -> Result<Vec<scim::PatchOperation>, AppError> {
    let mut kept = Vec::with_capacity(operations.len());
    for operation in operations {
        // Without a path, each member of the value is an operation of its own (`emails`,
        // `emails[type eq "work"].value`, …): the address is checked in those too.
        if let (None, Some(Value::Object(members))) = (&operation.path, &operation.value) {
            let as_operations: Vec<scim::PatchOperation> = members
                .iter()
                .filter_map(|(key, value)| {
                    let path = PatchPath::parse(key).ok()?;
                    Some(scim::PatchOperation {
                        op: operation.op,
                        path: Some(path),
                        value: Some(value.clone()),
                    })
                })
                .collect();
            without_the_address_as_it_is(&as_operations, row)?;
            kept.push(operation.clone());
            continue;
        }
        let path = match &operation.path {
            Some(PatchPath::Attribute(attr)) => Some(attr),
            Some(PatchPath::ValueFilter { attr, .. }) => Some(attr),
            _ => None,
        };
        let names_emails = path.is_some_and(|attr| {
            attr.name().eq_ignore_ascii_case("emails")
                && attr.schema().is_none_or(|urn| urn.eq_ignore_ascii_case(CORE_USER_URN))
        });
        if !names_emails {
            kept.push(operation.clone());
            continue;
        }
        let mut addresses = Vec::new();
        collect_strings(operation.value.as_ref(), &mut addresses);
        let unchanged = operation.op != scim::PatchOp::Remove
            && !addresses.is_empty()
            && addresses
                .iter()
                .all(|address| EmailAddress::parse(address).is_ok_and(|a| a.as_str() == row.email));
        if !unchanged {
            return Err(AppError::new(ErrorCode::AttributeImmutable)
                .with_reason("`emails` mirrors `userName`, the address, which never changes (rule 2)"));
        }
    }
    Ok(kept)
}

/// The addresses in an `emails` operation's value: a string, `{"value": …}`, or a list of them
/// (`type` and `primary` are not addresses).
fn collect_strings<'v>(value: Option<&'v Value>, into: &mut Vec<&'v str>) {
    match value {
        Some(Value::String(s)) => into.push(s),
        Some(Value::Array(values)) => values.iter().for_each(|v| collect_strings(Some(v), into)),
        Some(Value::Object(object)) => collect_strings(member(object, "value"), into),
        _ => {}
    }
}

/// `DELETE /Users/{id}`: the user and their personal data go, as in the REST API.
pub fn delete(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    if_match: Option<i32>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    write_transaction(conn, |conn| {
        find_staff(conn, actor, id)?;
        users::delete(conn, actor, id, if_match, now)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(value: Value) -> Result<ScimUser, AppError> {
        parse_user(&value)
    }

    #[test]
    fn entra_strings_for_booleans_and_a_missing_given_name_are_understood() {
        let user = body(json!({
            "userName": "Jan.Jansen@KWH001.example.nl",
            "active": "False",
            "displayName": "Jan Jansen",
            "name": {"familyName": "Jansen"},
            "emails": [{"type": "work", "value": "jan.jansen@kwh001.example.nl", "primary": "true"}],
            "phoneNumbers": [{"type": "mobile", "value": "06", "primary": true}, {"type": "Work", "value": "010-1234567"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Wonen"},
        }))
        .unwrap();
        assert_eq!(user.email.as_str(), "jan.jansen@kwh001.example.nl");
        assert_eq!(user.active, Some(false));
        assert_eq!(
            (user.first_name.as_str(), user.last_name.as_str()),
            ("Jan Jansen", "Jansen")
        );
        assert_eq!(user.phone.as_deref(), Some("010-1234567"));
    }

    #[test]
    fn emails_are_read_only_and_a_platform_role_or_a_non_address_is_refused() {
        let user = body(json!({"userName": "a@b.nl", "emails": [{"value": "c@d.nl", "primary": true}]})).unwrap();
        assert_eq!(
            user.email.as_str(),
            "a@b.nl",
            "emails mirrors userName; what is sent there is ignored"
        );
        let error = body(json!({"userName": "a@b.nl", MIJNKWH_USER_URN: {"role": "kwh_admin"}})).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidAttributeValue);
        let error = body(json!({"userName": "geen adres"})).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidAttributeValue);
        let error = body(json!({"userName": "a@b.nl", "active": "misschien"})).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidAttributeValue);
    }

    #[test]
    fn a_mobile_number_is_not_the_work_number() {
        let user =
            body(json!({"userName": "a@b.nl", "phoneNumbers": [{"type": "mobile", "value": "06", "primary": true}]}))
                .unwrap();
        assert_eq!(user.phone, None);
        let user = body(json!({"userName": "a@b.nl", "phoneNumbers": [{"value": "010"}]})).unwrap();
        assert_eq!(user.phone.as_deref(), Some("010"));
    }

    #[test]
    fn without_names_the_address_stands_in() {
        let user = body(json!({"userName": "piet@kwh001.example.nl"})).unwrap();
        assert_eq!((user.first_name.as_str(), user.last_name.as_str()), ("piet", "piet"));
    }
}
