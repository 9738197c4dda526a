//! `/audit-events`: the append-only log of every change, newest first.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Credential;
use super::pagination::{corporation_parameter, invalid_parameter, page_size, split_page, text_parameter};
use super::problem::{AppError, after_caller};
use super::refusals::OnlyManagers;
use super::state::AppState;
use crate::service::audit::{self as use_cases, AuditEvent, AuditFilter};
use crate::service::management_scope;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventResponse {
    pub id: String,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    pub at: DateTime<Utc>,
    /// The user who acted; absent for the system itself (start-up) and failed sign-ins.
    pub actor: Option<String>,
    #[schema(example = "user.updated")]
    pub action: String,
    pub target: AuditTarget,
    pub corporation_code: Option<String>,
    /// Per field `{old, new}`; personal fields only `{changed: true}`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTarget {
    #[schema(example = "user")]
    pub r#type: String,
    pub id: Option<String>,
}

impl From<AuditEvent> for AuditEventResponse {
    fn from(event: AuditEvent) -> Self {
        AuditEventResponse {
            id: event.id,
            at: event.at.and_utc(),
            actor: event.actor_id,
            action: event.action,
            target: AuditTarget {
                r#type: event.target_type,
                id: event.target_id,
            },
            corporation_code: event.corporation_code.map(|code| code.to_string()),
            changes: serde_json::Value::Object(event.changes),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
    /// Only events about this target id (a user id, a corporation code).
    pub target_id: Option<String>,
    /// Only this action, e.g. `user.updated`.
    pub action: Option<String>,
    /// KWH staff: only this corporation's events.
    pub corporation_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEventResponse>,
    pub next_cursor: Option<String>,
}

/// The audit log, newest first: all of it for KWH staff, its own corporation's for a main user.
#[utoipa::path(
    tag = "audit",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of events", body = AuditPage),
        OnlyManagers,
    )
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    credential: Credential,
    params: Result<web::Query<AuditParams>, actix_web::Error>,
) -> Result<web::Json<AuditPage>, AppError> {
    let params = after_caller(params).map(web::Query::into_inner);
    let (events, limit) = state
        .db_as(credential, move |conn, caller| {
            // Refused (403) before any parameter is read.
            management_scope(&caller.actor)?;
            let filter = audit_filter(params?)?;
            let page_size = filter.limit - 1;
            Ok((use_cases::list(conn, &caller.actor, filter)?, page_size))
        })
        .await?;
    let (events, next_cursor) = split_page(events, limit, |event| event.id.clone());
    Ok(web::Json(AuditPage {
        items: events.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// The filter the parameters ask for, one more than a page (that one tells a next page).
fn audit_filter(params: AuditParams) -> Result<AuditFilter, AppError> {
    let limit = page_size(params.limit)?;
    if params
        .cursor
        .as_deref()
        .is_some_and(|c| uuid::Uuid::parse_str(c).is_err())
    {
        return Err(invalid_parameter("cursor"));
    }
    Ok(AuditFilter {
        corporation: corporation_parameter(params.corporation_code.as_deref())?,
        target_id: text_parameter("target_id", params.target_id)?,
        action: text_parameter("action", params.action)?,
        before_id: params.cursor,
        limit: limit + 1,
    })
}
