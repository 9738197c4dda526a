//! `/contractors`: the maintenance partners (aannemers) of a corporation.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Credential;
use super::pagination::corporation_parameter;
use super::problem::{AppError, after_caller};
use super::refusals::{ContractorNameTaken, ContractorNameTakenOrLimit, ListTooLarge, NoSuchContractor, OnlyManagers};
use super::state::AppState;
pub use super::users::ContractorRef;
use crate::domain::corporation::CorporationCode;
use crate::domain::text::{MAX_NAME_LENGTH, required_text};
use crate::domain::violation::Violations;
use crate::service::contractors::{self as use_cases, Contractor};
use crate::service::management_scope;

#[derive(Debug, Serialize, ToSchema)]
pub struct ContractorResponse {
    pub id: String,
    #[schema(example = "KWH042")]
    pub corporation_code: String,
    #[schema(example = "Installatietechniek")]
    pub name: String,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl From<Contractor> for ContractorResponse {
    fn from(contractor: Contractor) -> Self {
        ContractorResponse {
            id: contractor.id,
            corporation_code: contractor.corporation_code.to_string(),
            name: contractor.name,
            created_at: contractor.created_at.and_utc(),
            updated_at: contractor.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateContractorRequest {
    #[schema(example = "Installatietechniek")]
    pub name: String,
    /// Required for KWH staff; a main user's own corporation otherwise.
    pub corporation_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateContractorRequest {
    pub name: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractorListParams {
    /// KWH staff: only this corporation's contractors.
    pub corporation_code: Option<String>,
}

/// A new contractor's corporation (when named) and name (422 with every violation).
fn new_contractor(body: &CreateContractorRequest) -> Result<(Option<CorporationCode>, String), AppError> {
    let mut violations = Violations::new();
    let name = violations.check("name", required_text(&body.name, MAX_NAME_LENGTH));
    let code = body
        .corporation_code
        .as_deref()
        .and_then(|c| violations.check("corporation_code", CorporationCode::parse(c)));
    match name.filter(|_| violations.is_empty()) {
        Some(name) => Ok((code, name)),
        None => Err(violations.into()),
    }
}

fn parse_name(name: &str) -> Result<String, AppError> {
    let mut violations = Violations::new();
    let name = violations.check("name", required_text(name, MAX_NAME_LENGTH));
    name.ok_or_else(|| violations.into())
}

/// The contractors the caller manages, by name.
///
/// Bounded: a corporation has at most 500 contractors, and one answer holds at most 1,000;
/// KWH staff listing every corporation's contractors beyond that get 422 `list_too_large`
/// and filter by `corporation_code`.
#[utoipa::path(
    tag = "contractors",
    params(ContractorListParams),
    responses(
        (status = 200, description = "Contractors (at most 1,000)", body = [ContractorResponse]),
        ListTooLarge, OnlyManagers,
    )
)]
#[get("/contractors")]
pub async fn list_contractors(
    state: web::Data<AppState>,
    credential: Credential,
    params: Result<web::Query<ContractorListParams>, actix_web::Error>,
) -> Result<web::Json<Vec<ContractorResponse>>, AppError> {
    let params = after_caller(params);
    let contractors = state
        .db_as(credential, move |conn, caller| {
            let requested = corporation_parameter(params?.corporation_code.as_deref())?;
            use_cases::list(conn, &caller.actor, requested)
        })
        .await?;
    Ok(web::Json(contractors.into_iter().map(Into::into).collect()))
}

/// Add a contractor to a corporation. Names are unique per corporation, whatever their case;
/// a corporation has at most 500 contractors.
#[utoipa::path(
    tag = "contractors",
    request_body = CreateContractorRequest,
    responses(
        (status = 201, description = "Created", body = ContractorResponse),
        OnlyManagers, ContractorNameTakenOrLimit,
    )
)]
#[post("/contractors")]
pub async fn create_contractor(
    state: web::Data<AppState>,
    credential: Credential,
    body: Result<web::Json<CreateContractorRequest>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let body = after_caller(body).map(web::Json::into_inner);
    let contractor = state
        .act(credential, move |conn, caller, now| {
            let body = body?;
            management_scope(&caller.actor)?;
            let (code, name) = new_contractor(&body)?;
            use_cases::create(conn, &caller.actor, code, name, now)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/contractors/{}", contractor.id)))
        .json(ContractorResponse::from(contractor)))
}

/// One contractor.
#[utoipa::path(
    tag = "contractors",
    params(("id" = Uuid, Path, description = "The contractor's id")),
    responses(
        (status = 200, description = "The contractor", body = ContractorResponse),
        OnlyManagers, NoSuchContractor,
    )
)]
#[get("/contractors/{id}")]
pub async fn get_contractor(
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
) -> Result<web::Json<ContractorResponse>, AppError> {
    let id = after_caller(id).map(|id| id.into_inner().to_string());
    let contractor = state
        .db_as(credential, move |conn, caller| {
            use_cases::find_visible(conn, &caller.actor, &id?)
        })
        .await?;
    Ok(web::Json(contractor.into()))
}

/// Rename a contractor.
#[utoipa::path(
    tag = "contractors",
    params(("id" = Uuid, Path, description = "The contractor's id")),
    request_body = UpdateContractorRequest,
    responses(
        (status = 200, description = "The renamed contractor", body = ContractorResponse),
        OnlyManagers, NoSuchContractor, ContractorNameTaken,
    )
)]
#[patch("/contractors/{id}")]
pub async fn update_contractor(
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
    body: Result<web::Json<UpdateContractorRequest>, actix_web::Error>,
) -> Result<web::Json<ContractorResponse>, AppError> {
    let id = after_caller(id).map(|id| id.into_inner().to_string());
    let body = after_caller(body);
    let contractor = state
        .act(credential, move |conn, caller, now| {
            let (id, body) = (id?, body?);
            management_scope(&caller.actor)?;
            use_cases::rename(conn, &caller.actor, &id, parse_name(&body.name)?, now)
        })
        .await?;
    Ok(web::Json(contractor.into()))
}

/// Remove a contractor with its users, report settings and approvals, in one step.
#[utoipa::path(
    tag = "contractors",
    params(("id" = Uuid, Path, description = "The contractor's id")),
    responses(
        (status = 204, description = "Removed"),
        OnlyManagers, NoSuchContractor,
    )
)]
#[delete("/contractors/{id}")]
pub async fn delete_contractor(
    state: web::Data<AppState>,
    credential: Credential,
    id: Result<web::Path<Uuid>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let id = after_caller(id).map(|id| id.into_inner().to_string());
    state
        .act(credential, move |conn, caller, now| {
            use_cases::delete(conn, &caller.actor, &id?, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
