//! The user as the API shows them: the record, their newest invitation, their contractor, and
//! rule 3's effective Excel permission with the report settings it comes from. One read model
//! behind `GET /users/{id}`, the list, the CSV export and the results of a batch.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;

use super::invitations::{InvitationView, invitation_view, invitation_views};
use super::report_settings::settings_in_force;
use crate::db::rows::{InvitationState, UserRow};
use crate::db::{DbConn, contractors, report_settings};
use crate::domain::report_settings::ReportSettings;
use crate::domain::user::{Access, Notification, Role, UserType};
use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub user_type: UserType,
    pub corporation_code: Option<String>,
    pub contractor: Option<ContractorSummary>,
    pub first_name: String,
    pub last_name: String,
    pub job_title: Option<String>,
    pub phone: Option<String>,
    pub remarks: Option<String>,
    pub role: Role,
    pub access: BTreeSet<Access>,
    pub email_notifications: BTreeSet<Notification>,
    /// Rule 3: a contractor user's comes from their contractor's approved report settings
    /// (false before any approval), everyone else's from their own record.
    pub excel_download: bool,
    pub external_id: Option<String>,
    /// For contractor users: the settings in force for their contractor, once approved.
    pub report_settings: Option<ReportSettings>,
    pub last_login_at: Option<NaiveDateTime>,
    /// `None` while the user is active.
    pub deactivated_at: Option<NaiveDateTime>,
    pub invitation: InvitationView,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The version an `If-Match` names.
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractorSummary {
    pub id: String,
    pub name: String,
}

/// These users as shown, in their order: three queries for any number of users (invitations,
/// and for contractor users their contractors' names and settings).
pub fn views(conn: &mut DbConn, rows: Vec<UserRow>, now: NaiveDateTime) -> Result<Vec<UserView>, AppError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let invitations = invitation_views(conn, &ids, now)?;
    with_invitations(conn, rows, invitations)
}

/// One user as shown, with their invitation as read together with them.
pub fn view_with_invitation(
    conn: &mut DbConn,
    row: UserRow,
    invitation: Option<InvitationState>,
    now: NaiveDateTime,
) -> Result<UserView, AppError> {
    let invitations = invitation
        .map(|invitation| (row.id.clone(), invitation_view(&invitation, now)))
        .into_iter()
        .collect();
    Ok(with_invitations(conn, vec![row], invitations)?.remove(0))
}

/// One user as shown.
pub fn view(conn: &mut DbConn, row: UserRow, now: NaiveDateTime) -> Result<UserView, AppError> {
    Ok(views(conn, vec![row], now)?.remove(0))
}

fn with_invitations(
    conn: &mut DbConn,
    rows: Vec<UserRow>,
    mut invitations: HashMap<String, InvitationView>,
) -> Result<Vec<UserView>, AppError> {
    let contractor_ids: Vec<String> = rows.iter().filter_map(|r| r.contractor_id.clone()).collect();
    // Most users belong to no contractor: then there is nothing to look up.
    let (names, settings) = if contractor_ids.is_empty() {
        Default::default()
    } else {
        (
            contractors::names(conn, &contractor_ids)?,
            report_settings::active_for(conn, &contractor_ids)?,
        )
    };
    rows.into_iter()
        .map(|row| {
            let invitation = invitations.remove(&row.id).unwrap_or_else(InvitationView::not_sent);
            let contractor = row.contractor_id.as_ref().map(|id| ContractorSummary {
                id: id.clone(),
                name: names.get(id).cloned().unwrap_or_default(),
            });
            let report_settings = row
                .contractor_id
                .as_ref()
                .and_then(|id| settings.get(id))
                .map(settings_in_force)
                .transpose()?;
            let excel_download = match &report_settings {
                Some(settings) => settings.excel_download,
                None => row.excel_download,
            };
            Ok(UserView {
                id: row.id,
                email: row.email,
                user_type: row.user_type,
                corporation_code: row.corporation_code,
                contractor,
                first_name: row.first_name,
                last_name: row.last_name,
                job_title: row.job_title,
                phone: row.phone,
                remarks: row.remarks,
                role: row.role,
                access: row.access.into_keys(),
                email_notifications: row.email_notifications.into_keys(),
                excel_download,
                external_id: row.external_id,
                report_settings,
                last_login_at: row.last_login_at,
                deactivated_at: row.deactivated_at,
                invitation,
                created_at: row.created_at,
                updated_at: row.updated_at,
                version: row.version,
            })
        })
        .collect()
}
