//! `/contractors/{id}/report-settings` and `/approvals`: the "Instellen" dialog and KWH's
//! GDPR check behind it.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Credential;
use super::contractors::ContractorRef;
use super::pagination::{corporation_parameter, invalid_parameter, page_size, text_parameter};
use super::problem::{AppError, after_caller};
use super::refusals::{
    ApprovalNoLongerValid, NoSuchContractor, NoSuchRequest, NoSuchRequestInScope, NotPending, NotPendingOrStale,
    OnlyManagers, OnlyReviewers,
};
use super::state::AppState;
use crate::domain::report_settings::{ApprovalStatus, ReportSettings, ReportSettingsInput, Warning};
use crate::service::report_settings::{self as use_cases, Approval, ApprovalFilter, Decision};
use chrono::NaiveDateTime;

/// Report settings: which survey parts a contractor sees and whose results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportSettingsBody {
    /// Survey parts, among the corporation's `active_parts`.
    #[serde(default)]
    #[schema(value_type = Vec<super::schema::SurveyPart>, example = json!(["repairs", "maintenance"]))]
    pub parts: Vec<String>,
    /// Catalog spellings that are this contractor itself; at most 100.
    #[serde(default)]
    #[schema(example = json!(["Installatietechniek", "installatietechnik", "Installatie-techniek"]))]
    pub own_names: Vec<String>,
    /// Catalog names of other contractors (e.g. subcontractors) whose results it also sees;
    /// at most 100.
    #[serde(default)]
    #[schema(example = json!([]))]
    pub partner_names: Vec<String>,
    /// May receive the per-respondent Excel export (personal data). Only when
    /// `partner_names` is empty and `own_names` is not.
    #[serde(default)]
    pub excel_download: bool,
}

impl From<&ReportSettings> for ReportSettingsBody {
    fn from(settings: &ReportSettings) -> Self {
        ReportSettingsBody {
            parts: settings.parts.iter().map(|p| p.key().to_string()).collect(),
            own_names: settings.own_names.clone(),
            partner_names: settings.partner_names.clone(),
            excel_download: settings.excel_download,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsChange {
    #[schema(example = "excel_download")]
    pub field: &'static str,
    /// The value in force (any JSON value; `null` when none is in force).
    pub old: serde_json::Value,
    /// The requested value.
    pub new: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewWarning {
    /// `excel_newly_granted`, `partner_names_added` or `own_name_unlike_contractor`.
    #[schema(example = "own_name_unlike_contractor")]
    pub code: &'static str,
    pub message: String,
    /// The names concerned.
    pub names: Vec<String>,
    /// For `own_name_unlike_contractor`: similarity to the contractor's name, 0 to 1.
    pub score: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalResponse {
    pub id: String,
    pub contractor: ContractorRef,
    pub corporation_code: String,
    /// `pending`, `approved`, `rejected`, `superseded` or `cancelled`.
    #[schema(example = "pending")]
    pub status: String,
    pub requested_by: String,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    pub requested_at: DateTime<Utc>,
    /// Seconds since the request was made: how long a pending one has waited for KWH.
    #[schema(example = 5400)]
    pub age_seconds: i64,
    pub decided_by: Option<String>,
    #[serde(serialize_with = "super::timestamps::rfc3339_or_null")]
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// The settings in force now (`null`: none yet).
    pub current: Option<ReportSettingsBody>,
    pub proposed: ReportSettingsBody,
    /// The fields that differ between `current` and `proposed`.
    pub changes: Vec<SettingsChange>,
    /// What the GDPR check should look at.
    pub warnings: Vec<ReviewWarning>,
}

fn warning(warning: &Warning) -> ReviewWarning {
    let message = warning.dutch_message();
    match warning {
        Warning::ExcelNewlyGranted => ReviewWarning {
            code: "excel_newly_granted",
            message,
            names: vec![],
            score: None,
        },
        Warning::PartnerNamesAdded(names) => ReviewWarning {
            code: "partner_names_added",
            message,
            names: names.clone(),
            score: None,
        },
        Warning::PartnerNameOfContractor { name, .. } => ReviewWarning {
            code: "partner_name_of_other_contractor",
            message,
            names: vec![name.clone()],
            score: None,
        },
        Warning::OwnNameUnlikeContractor { name, score } => ReviewWarning {
            code: "own_name_unlike_contractor",
            message,
            names: vec![name.clone()],
            score: Some(*score),
        },
    }
}

fn changes(current: Option<&ReportSettingsBody>, proposed: &ReportSettingsBody) -> Vec<SettingsChange> {
    use serde_json::json;
    let fields = [
        ("parts", current.map(|c| json!(c.parts)), json!(proposed.parts)),
        (
            "own_names",
            current.map(|c| json!(c.own_names)),
            json!(proposed.own_names),
        ),
        (
            "partner_names",
            current.map(|c| json!(c.partner_names)),
            json!(proposed.partner_names),
        ),
        (
            "excel_download",
            current.map(|c| json!(c.excel_download)),
            json!(proposed.excel_download),
        ),
    ];
    fields
        .into_iter()
        .map(|(field, old, new)| SettingsChange {
            field,
            old: old.unwrap_or(serde_json::Value::Null),
            new,
        })
        .filter(|change| change.old != change.new)
        .collect()
}

impl ApprovalResponse {
    /// The request as shown at `now` (its age depends on it).
    fn new(approval: Approval, now: NaiveDateTime) -> Self {
        let current = approval.current.as_ref().map(ReportSettingsBody::from);
        let proposed = ReportSettingsBody::from(&approval.proposed);
        ApprovalResponse {
            changes: changes(current.as_ref(), &proposed),
            warnings: approval.warnings.iter().map(warning).collect(),
            id: approval.id,
            contractor: ContractorRef {
                id: approval.contractor_id,
                name: approval.contractor_name,
            },
            corporation_code: approval.corporation_code.to_string(),
            status: approval.status.key().to_string(),
            requested_by: approval.requested_by,
            requested_at: approval.requested_at.and_utc(),
            age_seconds: (now - approval.requested_at).num_seconds().max(0),
            decided_by: approval.decided_by,
            decided_at: approval.decided_at.map(|t| t.and_utc()),
            reason: approval.reason,
            current,
            proposed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportSettingsState {
    /// The settings in force (`null`: none approved yet).
    pub active: Option<ReportSettingsBody>,
    /// The change waiting for KWH's approval, if any.
    pub pending: Option<ApprovalResponse>,
}

/// A contractor's report settings: those in force, and the change waiting for approval.
#[utoipa::path(
    tag = "approvals",
    params(("id" = Uuid, Path, description = "The contractor's id")),
    responses(
        (status = 200, description = "Settings in force and pending change", body = ReportSettingsState),
        OnlyManagers, NoSuchContractor,
    )
)]
#[get("/contractors/{id}/report-settings")]
pub async fn get_report_settings(
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
) -> Result<web::Json<ReportSettingsState>, AppError> {
    let id = after_caller(id).map(|id| id.into_inner().to_string());
    let now = state.now();
    let current = state
        .db_as(credential, move |conn, caller| {
            use_cases::current(conn, &caller.actor, &id?)
        })
        .await?;
    Ok(web::Json(ReportSettingsState {
        active: current.active.as_ref().map(ReportSettingsBody::from),
        pending: current.pending.map(|approval| ApprovalResponse::new(approval, now)),
    }))
}

/// Request a change of a contractor's report settings. It never takes effect directly: it
/// waits for a KWH employee's approval; a newer request replaces an older pending one.
#[utoipa::path(
    tag = "approvals",
    params(("id" = Uuid, Path, description = "The contractor's id")),
    request_body = ReportSettingsBody,
    responses(
        (status = 202, description = "Pending approval; `Location` names it", body = ApprovalResponse),
        OnlyManagers, NoSuchContractor,
    )
)]
#[put("/contractors/{id}/report-settings")]
pub async fn request_report_settings(
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
    body: Result<web::Json<ReportSettingsBody>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let id = after_caller(id).map(|id| id.into_inner().to_string());
    let input = after_caller(body).map(|body| {
        let body = body.into_inner();
        ReportSettingsInput {
            parts: body.parts,
            own_names: body.own_names,
            partner_names: body.partner_names,
            excel_download: body.excel_download,
        }
    });
    let reviewers = state.settings.approvals_notify.clone();
    let (approval, now) = state
        .act(credential, move |conn, caller, now| {
            let (id, input) = (id?, input?);
            let approval = use_cases::request(conn, &caller.actor, &id, input, reviewers.as_deref(), now)?;
            Ok((approval, now))
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(HttpResponse::Accepted()
        .insert_header((LOCATION, format!("/approvals/{}", approval.id)))
        .json(ApprovalResponse::new(approval, now)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalListParams {
    /// `pending`, `approved`, `rejected`, `superseded` or `cancelled`.
    #[param(value_type = Option<super::schema::ApprovalStatus>)]
    pub status: Option<String>,
    pub contractor_id: Option<String>,
    /// KWH staff: only this corporation's requests.
    pub corporation_code: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<Uuid>)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalPage {
    pub items: Vec<ApprovalResponse>,
    pub next_cursor: Option<String>,
}

/// Report-settings requests, newest first; `status=pending` lists the queue oldest first (the
/// one that has waited longest on top). All for KWH staff, its own corporation's for a main user.
#[utoipa::path(
    tag = "approvals",
    params(ApprovalListParams),
    responses(
        (status = 200, description = "A page of requests", body = ApprovalPage),
        OnlyManagers,
    )
)]
#[get("/approvals")]
pub async fn list_approvals(
    state: web::Data<AppState>,
    credential: Credential,
    params: Result<web::Query<ApprovalListParams>, actix_web::Error>,
) -> Result<web::Json<ApprovalPage>, AppError> {
    let params = after_caller(params).map(web::Query::into_inner);
    let now = state.now();
    let page = state
        .db_as(credential, move |conn, caller| {
            use_cases::list(conn, &caller.actor, approval_filter(params?)?)
        })
        .await?;
    Ok(web::Json(ApprovalPage {
        items: page
            .items
            .into_iter()
            .map(|approval| ApprovalResponse::new(approval, now))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The filter the parameters of the approvals list ask for.
fn approval_filter(params: ApprovalListParams) -> Result<ApprovalFilter, AppError> {
    let page_size = page_size(params.limit)?;
    let status = params
        .status
        .as_deref()
        .map(|s| ApprovalStatus::from_key(s).ok_or_else(|| invalid_parameter("status")))
        .transpose()?;
    if params.cursor.as_deref().is_some_and(|c| Uuid::parse_str(c).is_err()) {
        return Err(invalid_parameter("cursor"));
    }
    Ok(ApprovalFilter {
        corporation: corporation_parameter(params.corporation_code.as_deref())?,
        status,
        contractor_id: text_parameter("contractor_id", params.contractor_id)?,
        cursor: params.cursor,
        page_size,
    })
}

/// One request, with the settings in force beside it, what changes and the warnings.
#[utoipa::path(
    tag = "approvals",
    params(("id" = Uuid, Path, description = "The approval's id")),
    responses(
        (status = 200, description = "The request", body = ApprovalResponse),
        OnlyManagers, NoSuchRequestInScope,
    )
)]
#[get("/approvals/{id}")]
pub async fn get_approval(
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
) -> Result<web::Json<ApprovalResponse>, AppError> {
    let id = after_caller(id).map(|id| id.into_inner().to_string());
    let now = state.now();
    let approval = state
        .db_as(credential, move |conn, caller| {
            use_cases::find_visible(conn, &caller.actor, &id?)
        })
        .await?;
    Ok(web::Json(ApprovalResponse::new(approval, now)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RejectRequest {
    /// Why, for the requester (sent by email).
    #[schema(example = "Excel alleen voor één aannemer; haal de onderaannemer weg.")]
    pub reason: String,
}

/// Runs one decision on a request and answers the request as it now is; a decision may have
/// queued an email, so the sender is woken.
async fn decide_and_show(
    state: &web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
    decision: Result<Decision, AppError>,
) -> Result<web::Json<ApprovalResponse>, AppError> {
    let id = after_caller(id).map(|id| id.into_inner().to_string());
    let (approval, now) = state
        .act(credential, move |conn, caller, now| {
            let (id, decision) = (id?, decision?);
            Ok((use_cases::decide(conn, &caller.actor, &id, decision, now)?, now))
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(web::Json(ApprovalResponse::new(approval, now)))
}

/// Approve a request (KWH staff, not the requester). Checks rules 7 and 8 again against the
/// catalog and active parts as they are now; 409 `approval_stale` when the settings in force
/// changed since the request. The requester is emailed.
#[utoipa::path(
    tag = "approvals",
    params(("id" = Uuid, Path, description = "The approval's id")),
    responses(
        (status = 200, description = "Approved; the settings are in force", body = ApprovalResponse),
        OnlyReviewers, NoSuchRequest, NotPendingOrStale, ApprovalNoLongerValid,
    )
)]
#[post("/approvals/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
) -> Result<web::Json<ApprovalResponse>, AppError> {
    decide_and_show(&state, credential, id, Ok(Decision::Approve)).await
}

/// Reject a request with a reason (KWH staff, not the requester). The requester is emailed.
#[utoipa::path(
    tag = "approvals",
    params(("id" = Uuid, Path, description = "The approval's id")),
    request_body = RejectRequest,
    responses(
        (status = 200, description = "Rejected", body = ApprovalResponse),
        OnlyReviewers, NoSuchRequest, NotPending,
    )
)]
#[post("/approvals/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
    body: Result<web::Json<RejectRequest>, actix_web::Error>,
) -> Result<web::Json<ApprovalResponse>, AppError> {
    let decision = after_caller(body).map(|body| Decision::Reject {
        reason: body.into_inner().reason,
    });
    decide_and_show(&state, credential, id, decision).await
}

/// Withdraw a pending request (the corporation's main users).
#[utoipa::path(
    tag = "approvals",
    params(("id" = Uuid, Path, description = "The approval's id")),
    responses(
        (status = 200, description = "Withdrawn", body = ApprovalResponse),
        OnlyManagers, NoSuchRequestInScope, NotPending,
    )
)]
#[post("/approvals/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
) -> Result<web::Json<ApprovalResponse>, AppError> {
    decide_and_show(&state, credential, id, Ok(Decision::Cancel)).await
}
