//! Rows as stored, and their conversion from and to domain values.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{audit_events, corporations, users};
use super::types::{KeySet, StoredTime, StoredTimeOrNull};
use crate::domain::user::{Access, Notification, Role, TokenScope, UserType};

#[derive(Debug, Clone, Queryable, Insertable, Identifiable)]
#[diesel(table_name = corporations, primary_key(code))]
pub struct CorporationRow {
    pub code: String,
    pub name: String,
    /// JSON array of survey part keys.
    pub active_parts: String,
    #[diesel(deserialize_as = StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    pub updated_at: NaiveDateTime,
}

/// The columns of a user that decide whether their access token is current and what they
/// may do: what a read needs of its caller (not their personal details or password hash).
#[derive(Debug, Clone, Queryable)]
pub struct CallerRow {
    pub id: String,
    pub role: Role,
    pub corporation_code: Option<String>,
    pub token_version: i32,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub deactivated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Insertable, Identifiable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub user_type: UserType,
    pub corporation_code: Option<String>,
    pub contractor_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub job_title: Option<String>,
    pub phone: Option<String>,
    pub remarks: Option<String>,
    pub role: Role,
    pub access: KeySet<Access>,
    pub email_notifications: KeySet<Notification>,
    pub excel_download: bool,
    pub password_hash: Option<String>,
    pub token_version: i32,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub last_login_at: Option<NaiveDateTime>,
    pub version: i32,
    #[diesel(deserialize_as = StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    pub updated_at: NaiveDateTime,
    /// An id the integrator's HR system owns, unique within the corporation.
    pub external_id: Option<String>,
    /// When the user was deactivated; `None` while active. A deactivated user keeps their
    /// record and history but no credential of theirs works (SECURITY.md).
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub deactivated_at: Option<NaiveDateTime>,
    /// The name an identity provider shows for the user (SCIM `displayName`), as it sent it.
    pub display_name: Option<String>,
}

impl UserRow {
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }
}

/// The fields an edit changes; `None` leaves a column as it is. Written through
/// [`UserChanges::applied_to`], every column at once.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub job_title: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub remarks: Option<Option<String>>,
    pub role: Option<Role>,
    pub access: Option<KeySet<Access>>,
    pub email_notifications: Option<KeySet<Notification>>,
    pub excel_download: Option<bool>,
    pub external_id: Option<Option<String>>,
    pub display_name: Option<Option<String>>,
    /// `Some(Some(at))` deactivates, `Some(None)` reactivates.
    pub deactivated_at: Option<Option<NaiveDateTime>>,
    pub token_version: Option<i32>,
    pub version: Option<i32>,
    pub updated_at: Option<NaiveDateTime>,
}

impl UserChanges {
    /// Every column an edit may change, as `row` holds it with these changes applied.
    pub fn applied_to<'a>(&'a self, row: &'a UserRow) -> EditableColumns<'a> {
        fn or<'a, T: ?Sized>(changed: Option<&'a T>, stored: &'a T) -> &'a T {
            changed.unwrap_or(stored)
        }
        fn text_or<'a>(changed: &'a Option<Option<String>>, stored: &'a Option<String>) -> Option<&'a str> {
            changed.as_ref().unwrap_or(stored).as_deref()
        }
        EditableColumns {
            first_name: or(self.first_name.as_deref(), &row.first_name),
            last_name: or(self.last_name.as_deref(), &row.last_name),
            job_title: text_or(&self.job_title, &row.job_title),
            phone: text_or(&self.phone, &row.phone),
            remarks: text_or(&self.remarks, &row.remarks),
            role: self.role.unwrap_or(row.role),
            access: or(self.access.as_ref(), &row.access),
            email_notifications: or(self.email_notifications.as_ref(), &row.email_notifications),
            excel_download: self.excel_download.unwrap_or(row.excel_download),
            external_id: text_or(&self.external_id, &row.external_id),
            display_name: text_or(&self.display_name, &row.display_name),
            deactivated_at: self.deactivated_at.unwrap_or(row.deactivated_at),
            token_version: self.token_version.unwrap_or(row.token_version),
            version: self.version.unwrap_or(row.version),
            updated_at: self.updated_at.unwrap_or(row.updated_at),
        }
    }
}

/// Every column an edit may change, each written (a `None` as NULL): the `UPDATE` has one
/// shape whatever the edit, which the connection keeps prepared (`db::sql::KeptPrepared`).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct EditableColumns<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub job_title: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub remarks: Option<&'a str>,
    pub role: Role,
    pub access: &'a KeySet<Access>,
    pub email_notifications: &'a KeySet<Notification>,
    pub excel_download: bool,
    pub external_id: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub deactivated_at: Option<NaiveDateTime>,
    pub token_version: i32,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub id: String,
    #[diesel(deserialize_as = StoredTime)]
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub corporation_code: Option<String>,
    /// JSON object: field → {old, new}, or facts of the event.
    pub changes: String,
}

/// Stores a set of keys as a JSON array in a TEXT column (both backends share TEXT).
pub fn keys_to_json<'a>(keys: impl IntoIterator<Item = &'a str>) -> String {
    serde_json::to_string(&keys.into_iter().collect::<Vec<_>>()).expect("strings serialise")
}

/// Reads a JSON array of keys; a corrupt value reads as empty rather than failing every list.
pub fn keys_from_json(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = super::schema::outbox_messages)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub recipient: String,
    /// JSON object with what the template needs; never a secret.
    pub payload: String,
    pub message_id: String,
    #[diesel(deserialize_as = StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    pub next_attempt_at: NaiveDateTime,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub claimed_by: Option<String>,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub claimed_until: Option<NaiveDateTime>,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub sent_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub failed_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub cancelled_at: Option<NaiveDateTime>,
    /// The class of `last_error` (`domain::delivery::DeliveryError`), the part everyone sees.
    pub delivery_error: Option<String>,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = super::schema::user_tokens)]
pub struct UserTokenRow {
    pub id: String,
    pub user_id: String,
    /// `invitation` or `password_reset`.
    pub purpose: String,
    pub token_hash: Option<String>,
    pub outbox_message_id: Option<String>,
    pub created_by: Option<String>,
    #[diesel(deserialize_as = StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    pub expires_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub used_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub revoked_at: Option<NaiveDateTime>,
    /// When the mail server accepted the message carrying the link (kept after the message
    /// itself is purged).
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub sent_at: Option<NaiveDateTime>,
}

/// What a user's view shows of an invitation: the link's times and the delivery of the email
/// that carries it. Only these columns are read: not the link's hash and creator, nor the
/// email's recipient and payload (the most of a message row), which a page of users would
/// otherwise read, copy and drop for every user.
#[derive(Debug, Clone, Queryable)]
pub struct InvitationState {
    #[diesel(deserialize_as = StoredTime)]
    pub expires_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub used_at: Option<NaiveDateTime>,
    /// When the mail server accepted the email (the link keeps it after the email is purged).
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub sent_at: Option<NaiveDateTime>,
    /// Whether the email still exists: it is purged some time after it was sent.
    pub has_email: bool,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub email_sent_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub email_failed_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub email_cancelled_at: Option<NaiveDateTime>,
    /// The class of the email's last failed attempt (`domain::delivery::DeliveryError`), read
    /// as its key: a class this build does not know shows as none instead of failing the page.
    pub delivery_error: Option<String>,
    /// The mail server's own text of it.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = super::schema::contractors)]
pub struct ContractorRow {
    pub id: String,
    pub corporation_code: String,
    pub name: String,
    pub name_key: String,
    #[diesel(deserialize_as = StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = super::schema::contractor_names)]
pub struct ContractorNameRow {
    pub id: String,
    pub corporation_code: String,
    pub name: String,
    #[diesel(deserialize_as = StoredTime)]
    pub first_seen_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    pub last_seen_at: NaiveDateTime,
    pub seen_count: i32,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = super::schema::report_settings)]
pub struct ReportSettingsRow {
    pub contractor_id: String,
    pub parts: String,
    pub own_names: String,
    pub partner_names: String,
    pub excel_download: bool,
    pub version: i32,
    pub approval_id: Option<String>,
    #[diesel(deserialize_as = StoredTime)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = super::schema::approvals)]
pub struct ApprovalRow {
    pub id: String,
    pub contractor_id: String,
    pub corporation_code: String,
    pub status: String,
    /// The requested settings as JSON.
    pub proposed: String,
    pub based_on_version: i32,
    pub requested_by: String,
    #[diesel(deserialize_as = StoredTime)]
    pub requested_at: NaiveDateTime,
    pub decided_by: Option<String>,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub decided_at: Option<NaiveDateTime>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = super::schema::api_tokens)]
pub struct ApiTokenRow {
    pub id: String,
    pub name: String,
    pub token_hash: String,
    pub scope: TokenScope,
    pub created_by: String,
    pub corporation_code: Option<String>,
    #[diesel(deserialize_as = StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    pub expires_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub last_used_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = StoredTimeOrNull)]
    pub revoked_at: Option<NaiveDateTime>,
    /// The creator's token version when it was made; it works only while that is current.
    pub creator_token_version: i32,
    /// A `scim` token's choice: whether the users it creates get an invitation mail.
    pub invites_new_users: bool,
}
