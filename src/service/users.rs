//! Creating, editing and deleting users: rules 1–5 and 10 in one transaction each.

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::audit::{self as audit_log, change, changed_personal_field};
use super::callers::{self, Credential};
use super::user_view::{self, UserView};
use crate::db::rows::{InvitationState, UserChanges, UserRow};
use crate::db::types::KeySet;
use crate::db::user_tokens;
use crate::db::users::InsertUserError;
use crate::db::{DbConn, corporations, users, write_transaction};
use crate::domain::corporation::CorporationCode;
use crate::domain::email::EmailAddress;
use crate::domain::user::{
    self as rules, Actor, LockOut, ManagementScope, Role, Standing, UserKind, UserKindInput, UserType, resolve_kind,
};
use crate::domain::user_list::{UserCursor, UserListQuery, UserSort};
use crate::domain::violation::{ViolationKind, Violations};
use crate::error::{AppError, ErrorCode};

/// The personal details of the seed's "Nieuwe gebruiker aanmaken" form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub first_name: String,
    pub last_name: String,
    pub job_title: Option<String>,
    pub phone: Option<String>,
    pub remarks: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: EmailAddress,
    pub profile: Profile,
    pub kind: UserKind,
}

/// A partial edit; `None` leaves a field as it is, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct UserEdit {
    pub email: Option<EmailAddress>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub job_title: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub remarks: Option<Option<String>>,
    /// `Some(None)` removes the external id.
    pub external_id: Option<Option<String>>,
    /// SCIM's `displayName`; `Some(None)` removes it.
    pub display_name: Option<Option<String>>,
    /// `Some(false)` deactivates the user, `Some(true)` reactivates them.
    pub active: Option<bool>,
    pub kind: UserKindInput,
}

/// Rule 4: a user outside the caller's scope answers as if it did not exist.
pub fn find_visible(conn: &mut DbConn, scope: &ManagementScope, id: &str) -> Result<UserRow, AppError> {
    let row = users::find(conn, id)?.ok_or_else(AppError::not_found)?;
    let code = row.corporation_code.clone();
    super::visible_in(scope, code.as_deref(), row)
}

/// As [`find_visible`], with the user's newest invitation read in the same query.
pub fn find_visible_with_invitation(
    conn: &mut DbConn,
    scope: &ManagementScope,
    id: &str,
) -> Result<(UserRow, Option<InvitationState>), AppError> {
    let (row, invitation) = user_tokens::user_with_latest_invitation(conn, id)?.ok_or_else(AppError::not_found)?;
    let code = row.corporation_code.clone();
    Ok((super::visible_in(scope, code.as_deref(), row)?, invitation))
}

/// How a user comes into being besides their record.
#[derive(Debug, Clone)]
pub struct Creation {
    /// The id the integrator's HR system or identity provider knows the user by.
    pub external_id: Option<String>,
    /// SCIM's `displayName`.
    pub display_name: Option<String>,
    /// `false` creates the user deactivated (a SCIM client may do so).
    pub active: bool,
    /// Whether they get their invitation mail at once; a contractor user always does.
    pub invite: bool,
}

impl Creation {
    /// As `POST /users` creates: active, invited later by a main user (a contractor user at
    /// once: "Voor Aannemers hoef je dit niet te doen").
    pub fn with_external_id(external_id: Option<String>) -> Creation {
        Creation {
            external_id,
            display_name: None,
            active: true,
            invite: false,
        }
    }
}

/// Creates a user as [`Creation`] says, in one transaction with its audit record and
/// invitation.
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    new: NewUser,
    creation: Creation,
    invitation_ttl: chrono::Duration,
    now: NaiveDateTime,
) -> Result<UserRow, AppError> {
    let Creation {
        external_id,
        display_name,
        active,
        invite,
    } = creation;
    check_may_create(actor, &new.kind)?;
    write_transaction(conn, |conn| {
        let mut violations = Violations::new();
        if let Some(code) = &new.kind.corporation_code
            && corporations::find(conn, code.as_str())?.is_none()
        {
            violations.add("corporation_code", ViolationKind::UnknownReference);
        }
        let mut new = new;
        if let Some(contractor_id) = &new.kind.contractor_id {
            // A contractor user belongs to an existing contractor, and through it to the
            // contractor's corporation; another corporation's contractor does not exist here.
            let contractor = crate::db::contractors::find(conn, contractor_id)?.filter(|c| {
                new.kind
                    .corporation_code
                    .as_ref()
                    .is_none_or(|code| code.as_str() == c.corporation_code)
            });
            match contractor {
                Some(contractor) => {
                    new.kind.corporation_code = CorporationCode::parse(&contractor.corporation_code).ok()
                }
                None => violations.add("contractor_id", ViolationKind::UnknownReference),
            }
        }
        if !violations.is_empty() {
            return Err(violations.into());
        }
        let mut row = new_row(&new, now);
        row.external_id = external_id;
        row.display_name = display_name;
        if !active {
            row.deactivated_at = Some(now);
        }
        users::insert(conn, &row).map_err(|error| match error {
            InsertUserError::EmailTaken => AppError::new(ErrorCode::EmailTaken),
            InsertUserError::ExternalIdTaken => AppError::new(ErrorCode::ExternalIdTaken),
            // Deleted by a request that ran beside this one: as if it had never existed.
            InsertUserError::ContractorGone => {
                Violations::single("contractor_id", ViolationKind::UnknownReference).into()
            }
            InsertUserError::Database(error) => error.into(),
        })?;
        let mut facts = Map::new();
        facts.insert("user_type".into(), row.user_type.key().into());
        facts.insert("role".into(), row.role.key().into());
        facts.insert("access".into(), Value::from(row.access.to_strings()));
        facts.insert(
            "email_notifications".into(),
            Value::from(row.email_notifications.to_strings()),
        );
        facts.insert("excel_download".into(), row.excel_download.into());
        if !active {
            facts.insert("active".into(), false.into());
        }
        audit_log::user_event(conn, Some(&actor.audit_id()), "user.created", &row, facts, now)?;
        if new.kind.user_type == UserType::Contractor || (invite && active) {
            super::invitations::queue_invitation(conn, &row, Some(actor), "KWH", invitation_ttl, now)?;
            // The invitation is part of the user's version (their ETag): answer the new one.
            return users::find(conn, &row.id)?.ok_or_else(AppError::not_found);
        }
        Ok(row)
    })
}

/// Who may create a user of this kind, checked before anything is looked up (the batch calls
/// it first too, so that its answers tell nothing about other corporations):
/// - rule 4: a main user names only its own corporation; any other answers 404, whether or not
///   it exists;
/// - rule 9: only a person signed in as a kwh_admin creates a kwh_admin, never a service token.
pub fn check_may_create(actor: &Actor, kind: &UserKind) -> Result<(), AppError> {
    let scope = super::management_scope(actor)?;
    let creates_kwh_admin = kind.user_type == UserType::Kwh || kind.role == Role::KwhAdmin;
    if creates_kwh_admin && actor.via_token.is_some() {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    if let ManagementScope::Corporation(own) = &scope {
        if kind.corporation_code.as_ref().is_some_and(|code| code != own) {
            return Err(AppError::not_found());
        }
        if creates_kwh_admin {
            return Err(Violations::single("user_type", ViolationKind::NotAllowed).into());
        }
    }
    Ok(())
}

/// No service token changes, deletes or invites a kwh_admin, nor makes one (rule 9): a leaked
/// integration token must not become, or reach, a platform account.
pub fn check_token_may_touch(actor: &Actor, row: &UserRow, new_role: Option<Role>) -> Result<(), AppError> {
    let kwh_admin = row.user_type == UserType::Kwh || row.role == Role::KwhAdmin;
    if actor.via_token.is_some() && (kwh_admin || new_role == Some(Role::KwhAdmin)) {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    Ok(())
}

pub fn new_row(new: &NewUser, now: NaiveDateTime) -> UserRow {
    UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        email: new.email.as_str().to_string(),
        user_type: new.kind.user_type,
        corporation_code: new.kind.corporation_code.as_ref().map(|c| c.as_str().to_string()),
        contractor_id: new.kind.contractor_id.clone(),
        first_name: new.profile.first_name.clone(),
        last_name: new.profile.last_name.clone(),
        job_title: new.profile.job_title.clone(),
        phone: new.profile.phone.clone(),
        remarks: new.profile.remarks.clone(),
        role: new.kind.role,
        access: new.kind.access.clone().into(),
        email_notifications: new.kind.email_notifications.clone().into(),
        excel_download: new.kind.excel_download,
        password_hash: None,
        token_version: 0,
        last_login_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
        external_id: None,
        deactivated_at: None,
        display_name: None,
    }
}

/// The stored kind of a user as the input the rules start from when it is edited.
fn stored_kind(row: &UserRow) -> UserKindInput {
    let user_type = Some(row.user_type);
    UserKindInput {
        user_type,
        role: Some(row.role),
        corporation_code: row
            .corporation_code
            .as_deref()
            .and_then(|c| CorporationCode::parse(c).ok()),
        contractor_id: row.contractor_id.clone(),
        access: Some(row.access.to_strings()),
        email_notifications: Some(row.email_notifications.to_strings()),
        // Contractors' Excel permission is not theirs to carry; see rule 3.
        excel_download: (user_type != Some(UserType::Contractor)).then_some(row.excel_download),
    }
}

/// Which locks an edit takes before it reads the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locking {
    /// The corporation only when the edit may change who is an active main user (it gives
    /// `role` or `active`: rule 5); the user's row always. Edits of different users of one
    /// corporation then do not wait for each other.
    AsNeeded,
    /// The corporation always: for work that edits several users in one transaction (a
    /// batch), whose locks last until its end. Each item takes the corporation before its
    /// user, so two such transactions, or one and a single edit, never wait in a circle.
    Corporation,
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    if_match: Option<i32>,
    edit: UserEdit,
    now: NaiveDateTime,
) -> Result<UserRow, AppError> {
    update_locking(conn, actor, id, if_match, edit, Locking::AsNeeded, now)
}

/// As [`update`], with the locks `locking` says.
pub fn update_locking(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    if_match: Option<i32>,
    edit: UserEdit,
    locking: Locking,
    now: NaiveDateTime,
) -> Result<UserRow, AppError> {
    let scope = super::management_scope(actor)?;
    write_transaction(conn, |conn| {
        // Always the corporation before the user: no two edits wait in a circle.
        let may_change_standing = edit.kind.role.is_some() || edit.active.is_some();
        let lock_corporation = may_change_standing || locking == Locking::Corporation;
        if lock_corporation && let Some(code) = find_visible(conn, &scope, id)?.corporation_code {
            corporations::lock(conn, &code)?;
        }
        // Read under the lock: an edit that committed while we waited is in it, so an edit
        // without If-Match applies to the user as it is now instead of failing.
        let row = users::find_for_update(conn, id)?.ok_or_else(AppError::not_found)?;
        let code = row.corporation_code.clone();
        let row = super::visible_in(&scope, code.as_deref(), row)?;
        check_token_may_touch(actor, &row, edit.kind.role)?;
        if if_match.is_some_and(|expected| expected != row.version) {
            return Err(AppError::new(ErrorCode::PreconditionFailed));
        }
        let mut violations = Violations::new();
        if edit.email.as_ref().is_some_and(|email| email.as_str() != row.email) {
            violations.add("email", ViolationKind::EmailImmutable);
        }
        let stored = stored_kind(&row);
        let requested = &edit.kind;
        if requested.user_type.is_some_and(|t| Some(t) != stored.user_type) {
            violations.add("user_type", ViolationKind::Immutable);
        }
        if requested.corporation_code.is_some() && requested.corporation_code != stored.corporation_code {
            violations.add("corporation_code", ViolationKind::Immutable);
        }
        if requested.contractor_id.is_some() && requested.contractor_id != stored.contractor_id {
            violations.add("contractor_id", ViolationKind::Immutable);
        }
        if requested.role == Some(Role::KwhAdmin) && actor.role != Role::KwhAdmin {
            violations.add("role", ViolationKind::NotAllowed);
        }
        let merged = UserKindInput {
            user_type: stored.user_type,
            corporation_code: stored.corporation_code.clone(),
            role: requested.role.or(stored.role),
            contractor_id: requested.contractor_id.clone().or(stored.contractor_id.clone()),
            access: requested.access.clone().or(stored.access.clone()),
            email_notifications: requested
                .email_notifications
                .clone()
                .or(stored.email_notifications.clone()),
            excel_download: requested.excel_download.or(stored.excel_download),
        };
        let kind = match resolve_kind(&merged) {
            Ok(kind) => Some(kind),
            Err(more) => {
                for violation in more.into_vec() {
                    violations.add(violation.field, violation.kind);
                }
                None
            }
        };
        let Some(kind) = kind.filter(|_| violations.is_empty()) else {
            return Err(violations.into());
        };

        let current = standing(&row);
        let new = Standing {
            role: kind.role,
            active: edit.active.unwrap_or(current.active),
        };
        if new != current {
            let others = match &row.corporation_code {
                Some(code) => users::count_other_active_main_users(conn, code, &row.id)? as u64,
                None => u64::MAX,
            };
            rules::check_edit(&actor.user_id, &row.id, current, new, others).map_err(lock_out_error)?;
        }

        let (mut changes, audit) = diff(&row, &edit, &kind, now);
        let activation = (new.active != current.active).then_some(new.active);
        if let Some(active) = activation {
            changes.deactivated_at = Some((!active).then_some(now));
            if !active {
                // Every credential ends at once: the access tokens by their version, the
                // service tokens by their creator's version (and revoked below).
                changes.token_version = Some(row.token_version + 1);
            }
            changes.version = Some(row.version + 1);
            changes.updated_at = Some(now);
        }
        if audit.is_empty() && activation.is_none() {
            return Ok(row);
        }
        let ends_sessions = changes.token_version.is_some();
        let updated = match users::update_if_version(conn, &row, &changes) {
            Ok(Some(updated)) => updated,
            Ok(None) => return Err(AppError::new(ErrorCode::PreconditionFailed)),
            Err(error) if users::is_external_id_violation(&error) => {
                return Err(AppError::new(ErrorCode::ExternalIdTaken));
            }
            Err(error) => return Err(error.into()),
        };
        let revoked_tokens = if ends_sessions {
            // Their service tokens stop with their access tokens (the version check refuses
            // them already); revoked, the list says so too.
            crate::db::api_tokens::revoke_all_of(conn, &row.id, now)?
        } else {
            0
        };
        if !audit.is_empty() {
            audit_log::user_event(conn, Some(&actor.audit_id()), "user.updated", &row, audit, now)?;
        }
        match activation {
            Some(false) => {
                // No open link may set a password of theirs, nor its mail still go out.
                let voided_links = super::invitations::void_all_open_links(conn, &row.id, now)?;
                let mut facts = Map::new();
                facts.insert("service_tokens_revoked".into(), revoked_tokens.into());
                facts.insert("links_voided".into(), voided_links.into());
                audit_log::user_event(conn, Some(&actor.audit_id()), "user.deactivated", &row, facts, now)?;
            }
            Some(true) => {
                audit_log::user_event(conn, Some(&actor.audit_id()), "user.reactivated", &row, Map::new(), now)?;
            }
            None => {}
        }
        // What follows the update touches other tables only: the row it answered is current.
        Ok(updated)
    })
}

/// What an edit changes: the columns to write, and the audit record of it.
fn diff(row: &UserRow, edit: &UserEdit, kind: &UserKind, now: NaiveDateTime) -> (UserChanges, Map<String, Value>) {
    let mut changes = UserChanges::default();
    let mut audit = Map::new();
    if let Some(first_name) = edit.first_name.as_ref().filter(|v| **v != row.first_name) {
        changes.first_name = Some(first_name.clone());
        audit.insert("first_name".into(), changed_personal_field());
    }
    if let Some(last_name) = edit.last_name.as_ref().filter(|v| **v != row.last_name) {
        changes.last_name = Some(last_name.clone());
        audit.insert("last_name".into(), changed_personal_field());
    }
    for (name, new, old, column) in [
        ("job_title", &edit.job_title, &row.job_title, &mut changes.job_title),
        ("phone", &edit.phone, &row.phone, &mut changes.phone),
        ("remarks", &edit.remarks, &row.remarks, &mut changes.remarks),
        (
            "display_name",
            &edit.display_name,
            &row.display_name,
            &mut changes.display_name,
        ),
    ] {
        if let Some(new) = new.as_ref().filter(|v| *v != old) {
            *column = Some(new.clone());
            audit.insert(name.into(), changed_personal_field());
        }
    }
    if let Some(external_id) = edit.external_id.as_ref().filter(|v| **v != row.external_id) {
        changes.external_id = Some(external_id.clone());
        audit.insert(
            "external_id".into(),
            change(row.external_id.clone(), external_id.clone()),
        );
    }
    if kind.role != row.role {
        changes.role = Some(kind.role);
        audit.insert("role".into(), change(row.role.key(), kind.role.key()));
        // A changed role must not keep working through tokens issued under the old one.
        changes.token_version = Some(row.token_version + 1);
    }
    if kind.access != *row.access.keys() {
        let access = KeySet::new(kind.access.clone());
        audit.insert("access".into(), change(row.access.to_strings(), access.to_strings()));
        changes.access = Some(access);
    }
    if kind.email_notifications != *row.email_notifications.keys() {
        let notifications = KeySet::new(kind.email_notifications.clone());
        audit.insert(
            "email_notifications".into(),
            change(row.email_notifications.to_strings(), notifications.to_strings()),
        );
        changes.email_notifications = Some(notifications);
    }
    if kind.excel_download != row.excel_download {
        audit.insert("excel_download".into(), change(row.excel_download, kind.excel_download));
        changes.excel_download = Some(kind.excel_download);
    }
    if !audit.is_empty() {
        changes.version = Some(row.version + 1);
        changes.updated_at = Some(now);
    }
    (changes, audit)
}

pub fn delete(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    if_match: Option<i32>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let scope = super::management_scope(actor)?;
    write_transaction(conn, |conn| {
        let mut row = find_visible(conn, &scope, id)?;
        check_token_may_touch(actor, &row, None)?;
        if let Some(code) = row.corporation_code.clone() {
            corporations::lock(conn, &code)?;
        }
        // Read again under the locks (the user's row too, which an edit of their details takes
        // alone): whether they are an active main user (rule 5), and the version If-Match
        // names, are decided by what committed while we waited.
        let locked = users::find_for_update(conn, id)?.ok_or_else(AppError::not_found)?;
        let code = locked.corporation_code.clone();
        row = super::visible_in(&scope, code.as_deref(), locked)?;
        if if_match.is_some_and(|expected| expected != row.version) {
            return Err(AppError::new(ErrorCode::PreconditionFailed));
        }
        let others = match &row.corporation_code {
            Some(code) => users::count_other_active_main_users(conn, code, &row.id)? as u64,
            None => u64::MAX,
        };
        rules::check_deletion(&actor.user_id, &row.id, standing(&row), others).map_err(lock_out_error)?;
        users::delete(conn, &row.id)?;
        // Their queued and sent messages hold their address, and stored answers (a retry's
        // replay of their creation) their details: personal data leaves with them.
        crate::db::outbox::delete_for_user(conn, &row.id)?;
        crate::db::idempotency::delete_mentioning(conn, &row.id)?;
        let mut facts = Map::new();
        facts.insert("role".into(), row.role.key().into());
        facts.insert("user_type".into(), row.user_type.key().into());
        audit_log::user_event(conn, Some(&actor.audit_id()), "user.deleted", &row, facts, now)?;
        Ok(())
    })
}

/// What rule 5 counts of a stored user.
fn standing(row: &UserRow) -> Standing {
    Standing {
        role: row.role,
        active: row.is_active(),
    }
}

fn lock_out_error(lock_out: LockOut) -> AppError {
    match lock_out {
        LockOut::LastMainUser => AppError::new(ErrorCode::LastMainUser),
        LockOut::SelfDeletion => AppError::new(ErrorCode::CannotDeleteSelf),
        LockOut::SelfDeactivation => AppError::new(ErrorCode::CannotDeactivateSelf),
    }
}

/// `GET /users/{id}`: one user in the caller's scope, as shown.
pub fn show(conn: &mut DbConn, actor: &Actor, id: &str, now: NaiveDateTime) -> Result<UserView, AppError> {
    let scope = super::management_scope(actor)?;
    let (row, invitation) = find_visible_with_invitation(conn, &scope, id)?;
    user_view::view_with_invitation(conn, row, invitation, now)
}

/// `GET /users/{id}` as the request's caller, with that caller: an access token is resolved
/// in the same statement that reads the user and their invitation (one round trip).
pub fn show_to(
    conn: &mut DbConn,
    credential: &Credential,
    id: &str,
    now: NaiveDateTime,
) -> Result<(UserView, Actor), AppError> {
    let claims = match credential {
        Credential::Resolved(caller) => return Ok((show(conn, &caller.actor, id, now)?, caller.actor.clone())),
        Credential::AccessToken(claims) => claims,
    };
    let found = user_tokens::caller_beside_user_with_latest_invitation(conn, &claims.sub, id)?;
    let (caller_row, user) = found.map_or((None, None), |(caller_row, user)| (Some(caller_row), user));
    let actor = callers::person_actor(caller_row, claims).ok_or_else(|| AppError::new(ErrorCode::Unauthorized))?;
    let scope = super::management_scope(&actor)?;
    let (row, invitation) = user.ok_or_else(AppError::not_found)?;
    let code = row.corporation_code.clone();
    let row = super::visible_in(&scope, code.as_deref(), row)?;
    Ok((user_view::view_with_invitation(conn, row, invitation, now)?, actor))
}

/// `POST /users`: creates the user (see [`create`]) and shows them.
pub fn create_and_show(
    conn: &mut DbConn,
    actor: &Actor,
    new: NewUser,
    external_id: Option<String>,
    invitation_ttl: chrono::Duration,
    now: NaiveDateTime,
) -> Result<UserView, AppError> {
    let row = create(
        conn,
        actor,
        new,
        Creation::with_external_id(external_id),
        invitation_ttl,
        now,
    )?;
    user_view::view(conn, row, now)
}

/// `PATCH /users/{id}`: edits the user (see [`update`]) and shows them.
pub fn update_and_show(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    if_match: Option<i32>,
    edit: UserEdit,
    now: NaiveDateTime,
) -> Result<UserView, AppError> {
    let row = update(conn, actor, id, if_match, edit, now)?;
    user_view::view(conn, row, now)
}

/// One page of a user list, and whether more follow.
pub struct UserPage {
    pub users: Vec<UserView>,
    /// The last user of a full page, when another page follows.
    pub more: bool,
}

/// `GET /users` and its CSV export: one page of the users the caller manages.
///
/// Rule 4: a main user's list holds its own corporation only; asking for another corporation
/// gives an empty page, as if it had no users, whether or not it exists.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    requested_corporation: Option<CorporationCode>,
    mut query: UserListQuery,
    now: NaiveDateTime,
) -> Result<UserPage, AppError> {
    let scope = super::management_scope(actor)?;
    let Some(corporation_code) = scope.narrow(requested_corporation) else {
        return Ok(UserPage {
            users: Vec::new(),
            more: false,
        });
    };
    query.corporation_code = corporation_code;
    let mut rows = users::list(conn, &query)?;
    let more = rows.len() > query.page_size;
    rows.truncate(query.page_size);
    Ok(UserPage {
        users: user_view::views(conn, rows, now)?,
        more,
    })
}

/// Where a list continues after this user, in the list's order.
pub fn cursor_after(sort: UserSort, last: &UserView) -> UserCursor {
    match sort {
        UserSort::LastName => UserCursor::Text(last.last_name.clone(), last.id.clone()),
        UserSort::Email => UserCursor::Text(last.email.clone(), last.id.clone()),
        UserSort::CreatedAt => UserCursor::Time(last.created_at, last.id.clone()),
        UserSort::LastLoginAt => UserCursor::OptionalTime(last.last_login_at, last.id.clone()),
    }
}
