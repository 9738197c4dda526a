//! `POST /users/batch`: provisioning from an HR system in one call.

use actix_web::{post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, Credential};
use super::problem::{AppError, ErrorCode, Problem, after_caller};
use super::refusals::OnlyProvisioners;
use super::state::AppState;
use super::users::CreateUserRequest;
use crate::domain::violation::{ViolationKind, Violations};
use crate::service::batch::{self as use_cases, BatchOptions, BatchUser, ItemOutcome};
use crate::service::management_scope;

pub const MAX_ITEMS: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchRequest {
    /// Up to 500 users, each an object as in `POST /users` (with an optional `external_id`). An
    /// item of the wrong shape, also one that is no object, fails on its own (`invalid_body`),
    /// not the whole request.
    #[schema(value_type = Vec<serde_json::Value>)]
    pub items: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchParams {
    /// Report what would happen, change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Queue invitations for newly created corporation users (contractor users always get one).
    #[serde(default)]
    pub invite: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    /// Position of the item in the request.
    pub index: usize,
    /// `created`, `updated`, `unchanged` or `failed`.
    #[schema(example = "created")]
    pub status: &'static str,
    pub id: Option<String>,
    /// Why the item failed, as the single call would have answered.
    pub problem: Option<Problem>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct BatchSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub dry_run: bool,
    pub summary: BatchSummary,
    pub results: Vec<BatchResult>,
}

/// Create or update many users at once, each matched to an existing user by `external_id`
/// (within the corporation) or else by email.
///
/// Items are independent, not all-or-nothing: each runs in its own savepoint under the same
/// rules as the single calls (unique email, immutable email, tenancy, contractor rules), so
/// one bad row of an HR export does not stop the others; the answer says per item what
/// happened. Only a failure of the service itself (5xx) undoes the whole call; retry it with
/// the same `Idempotency-Key`. With `dry_run=true` every item is run and then rolled back: the answer is what
/// would happen, and nothing changes (no rows, no audit events, no email).
#[utoipa::path(
    tag = "integrations",
    params(BatchParams),
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per item", body = BatchResponse),
        OnlyProvisioners,
    )
)]
#[post("/users/batch")]
pub async fn provision_users(
    state: web::Data<AppState>,
    credential: Credential,
    params: Result<web::Query<BatchParams>, actix_web::Error>,
    body: Result<web::Json<BatchRequest>, actix_web::Error>,
) -> Result<web::Json<BatchResponse>, AppError> {
    let params = after_caller(params).map(web::Query::into_inner);
    let body = after_caller(body).map(web::Json::into_inner);
    let invitation_ttl = chrono::Duration::from_std(state.settings.invitation_ttl).map_err(AppError::internal)?;
    let (outcomes, dry_run) = state
        .act(credential, move |conn, caller, now| {
            let (params, items) = (params?, body?.items);
            management_scope(&caller.actor)?;
            if items.len() > MAX_ITEMS {
                return Err(Violations::single("items", ViolationKind::TooLong { max: MAX_ITEMS }).into());
            }
            let parsed = items.into_iter().map(|item| parse_item(item, caller)).collect();
            let options = BatchOptions {
                dry_run: params.dry_run,
                invite: params.invite,
                invitation_ttl,
            };
            let outcomes = use_cases::provision(conn, &caller.actor, parsed, &options, now)?;
            Ok((outcomes, options.dry_run))
        })
        .await?;
    if !dry_run {
        state.mail_wake.notify_one();
    }
    let mut summary = BatchSummary::default();
    let results = outcomes
        .into_iter()
        .enumerate()
        .map(|(index, outcome)| {
            let (status, id, problem) = match outcome {
                ItemOutcome::Created(row) => ("created", Some(row.id), None),
                ItemOutcome::Updated(row) => ("updated", Some(row.id), None),
                ItemOutcome::Unchanged(row) => ("unchanged", Some(row.id), None),
                ItemOutcome::Failed(error) => ("failed", None, Some(super::problem::to_problem(&error))),
            };
            match status {
                "created" => summary.created += 1,
                "updated" => summary.updated += 1,
                "unchanged" => summary.unchanged += 1,
                _ => summary.failed += 1,
            }
            BatchResult {
                index,
                status,
                id,
                problem,
            }
        })
        .collect();
    Ok(web::Json(BatchResponse {
        dry_run,
        summary,
        results,
    }))
}

/// One item of the batch, read and judged as `POST /users` judges its body.
fn parse_item(item: serde_json::Value, caller: &Caller) -> Result<BatchUser, AppError> {
    let item: CreateUserRequest =
        serde_json::from_value(item).map_err(|e| AppError::new(ErrorCode::InvalidBody).with_reason(e.to_string()))?;
    let edit = item.to_edit()?;
    let external_id = item.parsed_external_id()?;
    let new = item.into_new_user(caller)?;
    Ok(BatchUser { new, edit, external_id })
}
