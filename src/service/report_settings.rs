//! Report settings and their approval (PRODUCT.md rules 7–10): a change never takes effect
//! directly; it waits as a pending approval until a kwh_admin who did not request it approves.

use std::collections::{BTreeSet, HashSet};

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::audit::{self as audit_log, change};
use crate::db::report_settings::{self as store, ApprovalQuery};
use crate::db::rows::{ApprovalRow, ContractorRow, ReportSettingsRow};
use crate::db::{DbConn, catalog, corporations, users, write_transaction};
use crate::domain::corporation::{CorporationCode, SurveyPart};
use crate::domain::report_settings::{
    ApprovalAction, ApprovalStatus, ReportSettings, ReportSettingsInput, Warning, check_list_sizes, dutch_changes,
    transition, validate, warnings,
};
use crate::domain::user::{Actor, Role};
use crate::domain::violation::Violations;
use crate::error::{AppError, ErrorCode};
use crate::mail::outbox::{OutgoingMail, enqueue};
use crate::mail::templates::{ApprovalRequestMail, DecisionMail};

/// The settings in force and the pending request of one contractor.
#[derive(Debug, Clone)]
pub struct SettingsState {
    pub active: Option<ReportSettings>,
    pub pending: Option<Approval>,
}

/// A request as it is shown, with what the reviewer needs beside it.
#[derive(Debug, Clone)]
pub struct Approval {
    pub id: String,
    pub contractor_id: String,
    pub contractor_name: String,
    pub corporation_code: CorporationCode,
    pub status: ApprovalStatus,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub reason: Option<String>,
    /// The settings in force now (`None`: none yet).
    pub current: Option<ReportSettings>,
    pub proposed: ReportSettings,
    pub warnings: Vec<Warning>,
}

/// Which requests a page of the list holds.
#[derive(Debug, Clone)]
pub struct ApprovalFilter {
    /// KWH staff: one corporation's requests; a main user's are its own corporation's anyway.
    pub corporation: Option<CorporationCode>,
    pub status: Option<ApprovalStatus>,
    pub contractor_id: Option<String>,
    /// The id of the last request of the previous page.
    pub cursor: Option<String>,
    pub page_size: i64,
}

#[derive(Debug)]
pub struct ApprovalPage {
    pub items: Vec<Approval>,
    /// The cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
}

/// What a reviewer (or, for `Cancel`, the requester's corporation) does with a pending request.
#[derive(Debug, Clone)]
pub enum Decision {
    Approve,
    Reject { reason: String },
    Cancel,
}

/// The settings in force as the user views read them, an unknown part left out. The use cases
/// here read them with `settings_in_force`, which refuses it instead.
/// The settings in force as stored. A part or name list that does not parse is damage: left
/// out, it would be lost with the next change written over it.
pub fn settings_in_force(row: &ReportSettingsRow) -> Result<ReportSettings, AppError> {
    let owner = format!("report settings of contractor {}", row.contractor_id);
    let names = |field: &str, json: &str| -> Result<Vec<String>, AppError> {
        serde_json::from_str(json)
            .map_err(|e| AppError::internal(anyhow::anyhow!("{owner}: stored {field} {json:?}: {e}")))
    };
    Ok(ReportSettings {
        parts: super::corporations::stored_parts(&row.parts, &owner)?,
        own_names: names("own_names", &row.own_names)?,
        partner_names: names("partner_names", &row.partner_names)?,
        excel_download: row.excel_download,
    })
}

fn active_settings(conn: &mut DbConn, contractor_id: &str) -> Result<Option<ReportSettings>, AppError> {
    store::find_active(conn, contractor_id)?
        .map(|row| settings_in_force(&row))
        .transpose()
}

fn proposed_of(approval: &ApprovalRow) -> Result<ReportSettings, AppError> {
    serde_json::from_str(&approval.proposed).map_err(|e| {
        AppError::internal(anyhow::anyhow!(
            "approval {}: stored proposed settings: {e}",
            approval.id
        ))
    })
}

fn status_of(approval: &ApprovalRow) -> Result<ApprovalStatus, AppError> {
    ApprovalStatus::from_key(&approval.status).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "approval {}: unknown stored status {:?}",
            approval.id,
            approval.status
        ))
    })
}

fn as_input(settings: &ReportSettings) -> ReportSettingsInput {
    ReportSettingsInput {
        parts: settings.parts.iter().map(|p| p.key().to_string()).collect(),
        own_names: settings.own_names.clone(),
        partner_names: settings.partner_names.clone(),
        excel_download: settings.excel_download,
    }
}

/// Rules 7 and 8 against the corporation's active parts and catalog as they are now.
fn check_against_corporation(
    conn: &mut DbConn,
    corporation_code: &str,
    input: &ReportSettingsInput,
) -> Result<ReportSettings, AppError> {
    check_list_sizes(input)?;
    let corporation = corporations::find(conn, corporation_code)?.ok_or_else(AppError::not_found)?;
    let active_parts =
        super::corporations::stored_parts(&corporation.active_parts, &format!("corporation {}", corporation.code))?;
    let names: Vec<String> = input.own_names.iter().chain(&input.partner_names).cloned().collect();
    let catalog: HashSet<String> = catalog::existing(conn, corporation_code, &names)?.into_iter().collect();
    Ok(validate(input, &active_parts, &catalog)?)
}

pub fn current(conn: &mut DbConn, actor: &Actor, contractor_id: &str) -> Result<SettingsState, AppError> {
    let scope = super::management_scope(actor)?;
    super::contractors::visible_row(conn, &scope, contractor_id)?;
    let active = active_settings(conn, contractor_id)?;
    let pending = store::pending_for(conn, contractor_id)?
        .map(|row| shown(conn, row))
        .transpose()?;
    Ok(SettingsState { active, pending })
}

/// What a change does, field by field, for the audit log (Excel always shows).
fn settings_changes(
    current: Option<&ReportSettings>,
    proposed: &ReportSettings,
    approval_id: &str,
) -> Map<String, Value> {
    let mut changes = Map::new();
    changes.insert("approval_id".into(), approval_id.into());
    let parts = |s: Option<&ReportSettings>| -> Value {
        s.map(|s| s.parts.iter().map(|p| p.key()).collect::<Vec<_>>().into())
            .unwrap_or(Value::Null)
    };
    changes.insert("parts".into(), change(parts(current), parts(Some(proposed))));
    changes.insert(
        "own_names".into(),
        change(
            current.map(|c| Value::from(c.own_names.clone())).unwrap_or(Value::Null),
            proposed.own_names.clone(),
        ),
    );
    changes.insert(
        "partner_names".into(),
        change(
            current
                .map(|c| Value::from(c.partner_names.clone()))
                .unwrap_or(Value::Null),
            proposed.partner_names.clone(),
        ),
    );
    changes.insert(
        "excel_download".into(),
        change(current.is_some_and(|c| c.excel_download), proposed.excel_download),
    );
    changes
}

/// Requests a change: checked now (rules 7, 8), then pending; an older pending request for the
/// contractor is superseded. The settings in force stay as they are. KWH's review mailbox
/// (`reviewers`), when there is one, is told in the same transaction.
pub fn request(
    conn: &mut DbConn,
    actor: &Actor,
    contractor_id: &str,
    input: ReportSettingsInput,
    reviewers: Option<&str>,
    now: NaiveDateTime,
) -> Result<Approval, AppError> {
    let scope = super::management_scope(actor)?;
    let approval = write_transaction(conn, |conn| {
        let contractor = super::contractors::visible_row(conn, &scope, contractor_id)?;
        store::lock_contractor(conn, contractor_id)?;
        let proposed = check_against_corporation(conn, &contractor.corporation_code, &input)?;
        let active = store::find_active(conn, contractor_id)?;
        let current = active.as_ref().map(settings_in_force).transpose()?;
        hold_own_names(
            conn,
            &contractor.corporation_code,
            contractor_id,
            [current.as_ref(), Some(&proposed)],
        )?;
        if let Some(older) = store::pending_for(conn, contractor_id)? {
            store::decide(conn, &older.id, ApprovalStatus::Superseded.key(), None, now, None)?;
            audit_log::contractor_event(
                conn,
                actor,
                "report_settings.superseded",
                &older.contractor_id,
                &older.corporation_code,
                Map::new(),
                now,
            )?;
        }
        let approval = ApprovalRow {
            id: uuid::Uuid::now_v7().to_string(),
            contractor_id: contractor_id.to_string(),
            corporation_code: contractor.corporation_code.clone(),
            status: ApprovalStatus::Pending.key().to_string(),
            proposed: serde_json::to_string(&proposed).map_err(AppError::internal)?,
            based_on_version: active.as_ref().map_or(0, |a| a.version),
            requested_by: actor.user_id.clone(),
            requested_at: now,
            decided_by: None,
            decided_at: None,
            reason: None,
        };
        store::insert_approval(conn, &approval)?;
        audit_log::contractor_event(
            conn,
            actor,
            "report_settings.requested",
            &approval.contractor_id,
            &approval.corporation_code,
            settings_changes(current.as_ref(), &proposed, &approval.id),
            now,
        )?;
        if let Some(reviewers) = reviewers {
            notify_reviewers(
                conn,
                reviewers,
                actor,
                &approval,
                &contractor,
                current.as_ref(),
                &proposed,
            )?;
        }
        Ok::<_, AppError>(approval)
    })?;
    shown(conn, approval)
}

/// Rule 8: the contractor holds the own names of these settings (in force and pending) and
/// no others; a name another contractor holds refuses the change (422 `own_name_taken`).
fn hold_own_names(
    conn: &mut DbConn,
    corporation_code: &str,
    contractor_id: &str,
    settings: [Option<&ReportSettings>; 2],
) -> Result<(), AppError> {
    let names: BTreeSet<String> = settings
        .into_iter()
        .flatten()
        .flat_map(|s| s.own_names.iter().cloned())
        .collect();
    let names: Vec<String> = names.into_iter().collect();
    // One claimer per corporation at a time: two contractors trading names at once would
    // otherwise each wait for the other's rows (a deadlock on PostgreSQL).
    store::lock_own_names(conn, corporation_code)?;
    store::claim_own_names(conn, corporation_code, contractor_id, &names)?
        .map_err(|name| AppError::new(ErrorCode::OwnNameTaken).with_reason(format!("'{name}'")))
}

/// A request that ends undecided (rejected, cancelled) gives up the names only it held.
fn release_pending_own_names(conn: &mut DbConn, approval: &ApprovalRow) -> Result<(), AppError> {
    let in_force = active_settings(conn, &approval.contractor_id)?;
    hold_own_names(
        conn,
        &approval.corporation_code,
        &approval.contractor_id,
        [in_force.as_ref(), None],
    )
}

/// Tells KWH's review mailbox what a new request changes and what to look at, through the
/// outbox like every other mail: the seed promises the requester a message once the settings
/// are checked, so someone at KWH must know there is something to check.
fn notify_reviewers(
    conn: &mut DbConn,
    reviewers: &str,
    actor: &Actor,
    approval: &ApprovalRow,
    contractor: &ContractorRow,
    current: Option<&ReportSettings>,
    proposed: &ReportSettings,
) -> Result<(), AppError> {
    let corporation = corporations::find(conn, &contractor.corporation_code)?
        .map(|c| format!("{}, {}", c.name, c.code))
        .unwrap_or_else(|| contractor.corporation_code.clone());
    let requested_by = users::find(conn, &actor.user_id)?
        .map(|u| format!("{} {}", u.first_name, u.last_name))
        .unwrap_or_else(|| "KWH".into());
    let holders = store::own_name_holders(
        conn,
        &contractor.corporation_code,
        &proposed.partner_names,
        &contractor.id,
    )?;
    let mail = OutgoingMail::ApprovalRequest(ApprovalRequestMail {
        approval_id: approval.id.clone(),
        contractor: contractor.name.clone(),
        corporation,
        requested_by,
        requested_at: approval.requested_at,
        changes: dutch_changes(current, proposed),
        warnings: warnings(current, proposed, &contractor.name, &holders)
            .iter()
            .map(Warning::dutch_message)
            .collect(),
    });
    enqueue(conn, reviewers, None, &mail, approval.requested_at)?;
    Ok(())
}

/// Rule 4 for approvals: KWH staff see all, a main user its own corporation's.
fn visible_row(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<ApprovalRow, AppError> {
    let scope = super::management_scope(actor)?;
    let approval = store::find_approval(conn, id)?.ok_or_else(AppError::not_found)?;
    let code = approval.corporation_code.clone();
    super::visible_in(&scope, Some(&code), approval)
}

pub fn find_visible(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<Approval, AppError> {
    let approval = visible_row(conn, actor, id)?;
    shown(conn, approval)
}

/// The request with the settings in force beside it and the warnings for its reviewer.
fn shown(conn: &mut DbConn, approval: ApprovalRow) -> Result<Approval, AppError> {
    let contractor_name = crate::db::contractors::find(conn, &approval.contractor_id)?
        .map(|c| c.name)
        .unwrap_or_default();
    let current = active_settings(conn, &approval.contractor_id)?;
    let proposed = proposed_of(&approval)?;
    let holders = store::own_name_holders(
        conn,
        &approval.corporation_code,
        &proposed.partner_names,
        &approval.contractor_id,
    )?;
    let warnings = warnings(current.as_ref(), &proposed, &contractor_name, &holders);
    let status = status_of(&approval)?;
    let corporation_code =
        super::corporations::stored_code(&approval.corporation_code, &format!("approval {}", approval.id))?;
    Ok(Approval {
        id: approval.id,
        contractor_id: approval.contractor_id,
        contractor_name,
        corporation_code,
        status,
        requested_by: approval.requested_by,
        requested_at: approval.requested_at,
        decided_by: approval.decided_by,
        decided_at: approval.decided_at,
        reason: approval.reason,
        current,
        proposed,
        warnings,
    })
}

/// Requests newest first, or the review queue (`pending`) oldest first; all for KWH staff,
/// its own corporation's for a main user (rule 4: another corporation's list is empty).
pub fn list(conn: &mut DbConn, actor: &Actor, filter: ApprovalFilter) -> Result<ApprovalPage, AppError> {
    let scope = super::management_scope(actor)?;
    let Some(corporation) = scope.narrow(filter.corporation) else {
        return Ok(ApprovalPage {
            items: Vec::new(),
            next_cursor: None,
        });
    };
    let query = ApprovalQuery {
        corporation_code: corporation.map(|code| code.as_str().to_string()),
        // The one that has waited longest on top.
        oldest_first: filter.status == Some(ApprovalStatus::Pending),
        status: filter.status.map(|status| status.key().to_string()),
        contractor_id: filter.contractor_id,
        cursor: filter.cursor,
        limit: filter.page_size + 1,
    };
    let mut rows = store::list_approvals(conn, &query)?;
    // The row beyond the page only says that another follows; it is cut before the requests
    // are shown, as each costs queries of its own.
    let more = rows.len() as i64 > filter.page_size;
    if more {
        rows.pop();
    }
    let next_cursor = rows.last().filter(|_| more).map(|row| row.id.clone());
    let items = rows.into_iter().map(|row| shown(conn, row)).collect::<Result<_, _>>()?;
    Ok(ApprovalPage { items, next_cursor })
}

/// Runs one decision and shows the request as it now is.
pub fn decide(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    decision: Decision,
    now: NaiveDateTime,
) -> Result<Approval, AppError> {
    let decided = match decision {
        Decision::Approve => approve(conn, actor, id, now)?,
        Decision::Reject { reason } => reject(conn, actor, id, &reason, now)?,
        Decision::Cancel => cancel(conn, actor, id, now)?,
    };
    shown(conn, decided)
}

/// Loads the request under its contractor's lock and checks the move is allowed.
fn decidable(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    action: ApprovalAction,
) -> Result<(ApprovalRow, ApprovalStatus), AppError> {
    let approval = visible_row(conn, actor, id)?;
    store::lock_contractor(conn, &approval.contractor_id)?;
    let approval = store::find_approval(conn, id)?.ok_or_else(AppError::not_found)?;
    let status = status_of(&approval)?;
    let next = transition(status, action).map_err(|_| AppError::new(ErrorCode::InvalidTransition))?;
    Ok((approval, next))
}

/// Rule 9: the decider is a kwh_admin who is neither the requester nor an account the requester
/// created, directly or through accounts it created (a second account of one person is no
/// second pair of eyes). No service token gets
/// here: approvals are outside every scope.
fn require_reviewer(conn: &mut DbConn, actor: &Actor, approval: &ApprovalRow) -> Result<(), AppError> {
    if actor.role != Role::KwhAdmin || actor.via_token.is_some() {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    if actor.user_id == approval.requested_by {
        return Err(AppError::new(ErrorCode::CannotReviewOwnRequest));
    }
    // Through any chain: the requester created an admin who created the reviewer, and so on.
    if crate::db::audit::creators_of_user(conn, &actor.user_id, 32)?.contains(&approval.requested_by) {
        return Err(AppError::new(ErrorCode::CannotReviewOwnRequest)
            .with_reason("the requester created the reviewer's account".to_string()));
    }
    Ok(())
}

/// Approves: the request must still be pending, based on the settings in force, and valid
/// against the corporation's catalog and active parts as they are now (rule 8 again).
fn approve(conn: &mut DbConn, actor: &Actor, id: &str, now: NaiveDateTime) -> Result<ApprovalRow, AppError> {
    if actor.role != Role::KwhAdmin {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    write_transaction(conn, |conn| {
        let (approval, next) = decidable(conn, actor, id, ApprovalAction::Approve)?;
        require_reviewer(conn, actor, &approval)?;
        let active = store::find_active(conn, &approval.contractor_id)?;
        if active.as_ref().map_or(0, |a| a.version) != approval.based_on_version {
            return Err(AppError::new(ErrorCode::ApprovalStale));
        }
        let current = active.as_ref().map(settings_in_force).transpose()?;
        let proposed =
            check_against_corporation(conn, &approval.corporation_code, &as_input(&proposed_of(&approval)?))?;
        if !store::decide(conn, id, next.key(), Some(&actor.user_id), now, None)? {
            return Err(AppError::new(ErrorCode::InvalidTransition));
        }
        hold_own_names(
            conn,
            &approval.corporation_code,
            &approval.contractor_id,
            [Some(&proposed), None],
        )?;
        store::put_active(
            conn,
            &ReportSettingsRow {
                contractor_id: approval.contractor_id.clone(),
                parts: crate::db::rows::keys_to_json(proposed.parts.iter().map(|p| p.key())),
                own_names: serde_json::to_string(&proposed.own_names).map_err(AppError::internal)?,
                partner_names: serde_json::to_string(&proposed.partner_names).map_err(AppError::internal)?,
                excel_download: proposed.excel_download,
                version: approval.based_on_version + 1,
                approval_id: Some(approval.id.clone()),
                updated_at: now,
            },
        )?;
        users::touch_versions_of_contractor(conn, &approval.contractor_id)?;
        audit_log::contractor_event(
            conn,
            actor,
            "report_settings.approved",
            &approval.contractor_id,
            &approval.corporation_code,
            settings_changes(current.as_ref(), &proposed, id),
            now,
        )?;
        notify_requester(conn, &approval, true, None, now)?;
        store::find_approval(conn, id)?.ok_or_else(AppError::not_found)
    })
}

fn reject(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<ApprovalRow, AppError> {
    let reason = crate::domain::text::required_text(reason, crate::domain::text::MAX_REMARKS_LENGTH)
        .map_err(|kind| Violations::single("reason", kind))?;
    if actor.role != Role::KwhAdmin {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    write_transaction(conn, |conn| {
        let (approval, next) = decidable(conn, actor, id, ApprovalAction::Reject)?;
        require_reviewer(conn, actor, &approval)?;
        if !store::decide(conn, id, next.key(), Some(&actor.user_id), now, Some(&reason))? {
            return Err(AppError::new(ErrorCode::InvalidTransition));
        }
        release_pending_own_names(conn, &approval)?;
        let mut facts = Map::new();
        facts.insert("approval_id".into(), id.into());
        facts.insert("reason".into(), reason.clone().into());
        audit_log::contractor_event(
            conn,
            actor,
            "report_settings.rejected",
            &approval.contractor_id,
            &approval.corporation_code,
            facts,
            now,
        )?;
        notify_requester(conn, &approval, false, Some(reason.clone()), now)?;
        store::find_approval(conn, id)?.ok_or_else(AppError::not_found)
    })
}

/// Withdraws a pending request: its corporation's main users (and KWH staff).
fn cancel(conn: &mut DbConn, actor: &Actor, id: &str, now: NaiveDateTime) -> Result<ApprovalRow, AppError> {
    write_transaction(conn, |conn| {
        let (approval, next) = decidable(conn, actor, id, ApprovalAction::Cancel)?;
        if !store::decide(conn, id, next.key(), Some(&actor.user_id), now, None)? {
            return Err(AppError::new(ErrorCode::InvalidTransition));
        }
        release_pending_own_names(conn, &approval)?;
        let mut facts = Map::new();
        facts.insert("approval_id".into(), id.into());
        audit_log::contractor_event(
            conn,
            actor,
            "report_settings.cancelled",
            &approval.contractor_id,
            &approval.corporation_code,
            facts,
            now,
        )?;
        store::find_approval(conn, id)?.ok_or_else(AppError::not_found)
    })
}

/// The decision by email to whoever asked, through the outbox (same transaction).
fn notify_requester(
    conn: &mut DbConn,
    approval: &ApprovalRow,
    approved: bool,
    reason: Option<String>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let Some(requester) = users::find(conn, &approval.requested_by)? else {
        return Ok(());
    };
    let contractor = crate::db::contractors::find(conn, &approval.contractor_id)?
        .map(|c| c.name)
        .unwrap_or_default();
    let verdict = if approved { "goedgekeurd" } else { "afgewezen" };
    let mail = OutgoingMail::Decision(DecisionMail {
        first_name: requester.first_name.clone(),
        subject: format!("Rapportage-instellingen {contractor} {verdict}"),
        approved,
        what: format!("de wijziging van de rapportage-instellingen van {contractor}"),
        reason,
    });
    enqueue(conn, &requester.email, Some(&requester.id), &mail, now)?;
    Ok(())
}

/// Rule 7: survey parts the corporation switched off leave every contractor's settings in force,
/// in the transaction that switches them off. Each change is a decided request in the
/// contractor's approval history (requested and decided by whoever switched the parts off, with
/// the reason), audited, and its contractor users' views (and ETags) change with it. Switching a
/// part on again grants nothing: it was removed, not hidden.
pub fn remove_switched_off_parts(
    conn: &mut DbConn,
    actor: &Actor,
    corporation_code: &str,
    switched_off: &BTreeSet<SurveyPart>,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    if switched_off.is_empty() {
        return Ok(0);
    }
    let mut changed = 0;
    // Every contractor, also any beyond the cap on new ones (from before the cap).
    for contractor in crate::db::contractors::list(conn, Some(corporation_code), usize::MAX)? {
        store::lock_contractor(conn, &contractor.id)?;
        let Some(row) = store::find_active(conn, &contractor.id)? else {
            continue;
        };
        let current = settings_in_force(&row)?;
        if current.parts.is_disjoint(switched_off) {
            continue;
        }
        let mut reduced = current.clone();
        reduced.parts.retain(|part| !switched_off.contains(part));
        let removed: Vec<&str> = switched_off.iter().map(|p| p.key()).collect();
        let approval = ApprovalRow {
            id: uuid::Uuid::now_v7().to_string(),
            contractor_id: contractor.id.clone(),
            corporation_code: corporation_code.to_string(),
            status: ApprovalStatus::Approved.key().to_string(),
            proposed: serde_json::to_string(&reduced).map_err(AppError::internal)?,
            based_on_version: row.version,
            requested_by: actor.user_id.clone(),
            requested_at: now,
            decided_by: Some(actor.user_id.clone()),
            decided_at: Some(now),
            reason: Some(format!(
                "Systeemwijziging: onderdeel {} is uitgeschakeld voor de corporatie.",
                removed.join(", ")
            )),
        };
        store::insert_approval(conn, &approval)?;
        store::put_active(
            conn,
            &ReportSettingsRow {
                parts: crate::db::rows::keys_to_json(reduced.parts.iter().map(|p| p.key())),
                version: row.version + 1,
                approval_id: Some(approval.id.clone()),
                updated_at: now,
                ..row
            },
        )?;
        users::touch_versions_of_contractor(conn, &contractor.id)?;
        let mut facts = settings_changes(Some(&current), &reduced, &approval.id);
        facts.insert("reason".into(), "survey_parts_switched_off".into());
        audit_log::contractor_event(
            conn,
            actor,
            "report_settings.parts_removed",
            &approval.contractor_id,
            &approval.corporation_code,
            facts,
            now,
        )?;
        changed += 1;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(parts: &str, own_names: &str) -> ReportSettingsRow {
        ReportSettingsRow {
            contractor_id: "c-1".into(),
            parts: parts.into(),
            own_names: own_names.into(),
            partner_names: "[]".into(),
            excel_download: true,
            version: 3,
            approval_id: None,
            updated_at: NaiveDateTime::default(),
        }
    }

    #[test]
    fn settings_in_force_read_as_they_were_written() {
        let settings = settings_in_force(&row(r#"["repairs"]"#, r#"["Installatietechniek"]"#)).unwrap();
        assert_eq!(settings.parts, BTreeSet::from([SurveyPart::Repairs]));
        assert_eq!(settings.own_names, ["Installatietechniek"]);
        assert!(settings.partner_names.is_empty());
        assert!(settings.excel_download);
    }

    #[test]
    fn an_unknown_part_in_force_is_an_internal_error_naming_the_contractor_not_a_part_dropped() {
        let error = settings_in_force(&row(r#"["repairs","gardening"]"#, "[]")).unwrap_err();
        assert!(error.is_internal());
        assert!(error.to_string().contains("contractor c-1"), "{error}");
        assert!(settings_in_force(&row("[]", "not json")).unwrap_err().is_internal());
    }
}
