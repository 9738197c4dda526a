//! `/corporations` and `/survey-parts`.

use std::collections::BTreeSet;

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Caller, Credential};
use super::problem::{AppError, after_caller};
use super::refusals::{
    CorporationTakenOrLimit, NoSuchCorporation, NoSuchCorporationInScope, OnlyKwhStaff, OnlyManagers,
};
use super::state::AppState;
use crate::domain::corporation::{CorporationCode, SurveyPart, parse_key_set};
use crate::domain::text::{MAX_NAME_LENGTH, required_text};
use crate::domain::violation::Violations;
use crate::service::corporations::{self as use_cases, Corporation};

#[derive(Debug, Serialize, ToSchema)]
pub struct CorporationResponse {
    #[schema(example = "KWH042")]
    pub code: String,
    #[schema(example = "Woonstichting De Linie")]
    pub name: String,
    /// The survey parts this corporation runs; only these can be granted to its contractors.
    #[schema(example = json!(["repairs", "maintenance"]))]
    pub active_parts: Vec<String>,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl From<Corporation> for CorporationResponse {
    fn from(corporation: Corporation) -> Self {
        CorporationResponse {
            code: corporation.code.to_string(),
            name: corporation.name,
            active_parts: corporation.active_parts.iter().map(|p| p.key().to_string()).collect(),
            created_at: corporation.created_at.and_utc(),
            updated_at: corporation.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCorporationRequest {
    #[schema(example = "KWH042")]
    pub code: String,
    #[schema(example = "Woonstichting De Linie")]
    pub name: String,
    #[schema(value_type = Vec<super::schema::SurveyPart>, example = json!(["repairs", "maintenance"]))]
    #[serde(default)]
    pub active_parts: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateCorporationRequest {
    pub name: Option<String>,
    #[schema(value_type = Option<Vec<super::schema::SurveyPart>>)]
    pub active_parts: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyPartResponse {
    #[schema(example = "repairs")]
    pub key: &'static str,
    #[schema(example = "Reparaties")]
    pub label: &'static str,
}

fn parse_code(code: &str) -> Result<CorporationCode, AppError> {
    // A code that cannot exist names no corporation.
    CorporationCode::parse(code).map_err(|_| AppError::not_found())
}

/// The survey parts (onderdelen) with their Dutch labels.
#[utoipa::path(
    tag = "corporations",
    responses((status = 200, description = "The ten survey parts", body = [SurveyPartResponse]))
)]
#[get("/survey-parts")]
pub async fn survey_parts(_caller: Caller) -> web::Json<Vec<SurveyPartResponse>> {
    web::Json(
        SurveyPart::ALL
            .iter()
            .map(|p| SurveyPartResponse {
                key: p.key(),
                label: p.dutch_label(),
            })
            .collect(),
    )
}

/// Corporations: all of them for KWH staff, its own for a main user. There are at most 1,000.
#[utoipa::path(
    tag = "corporations",
    responses(
        (status = 200, description = "The corporations the caller may see", body = [CorporationResponse]),
        OnlyManagers,
    )
)]
#[get("/corporations")]
pub async fn list_corporations(
    state: web::Data<AppState>,
    credential: Credential,
) -> Result<web::Json<Vec<CorporationResponse>>, AppError> {
    let corporations = state
        .db_as(credential, move |conn, caller| use_cases::list(conn, &caller.actor))
        .await?;
    Ok(web::Json(corporations.into_iter().map(Into::into).collect()))
}

/// One corporation.
#[utoipa::path(
    tag = "corporations",
    params(("code" = String, Path, description = "The corporation code, e.g. KWH042")),
    responses(
        (status = 200, description = "The corporation", body = CorporationResponse),
        OnlyManagers, NoSuchCorporationInScope,
    )
)]
#[get("/corporations/{code}")]
pub async fn get_corporation(
    state: web::Data<AppState>,
    credential: Credential,
    code: web::Path<String>,
) -> Result<web::Json<CorporationResponse>, AppError> {
    let code = code.into_inner();
    let corporation = state
        .db_as(credential, move |conn, caller| {
            use_cases::find_visible(conn, &caller.actor, &parse_code(&code)?)
        })
        .await?;
    Ok(web::Json(corporation.into()))
}

fn parse_parts(keys: &[String], violations: &mut Violations) -> BTreeSet<SurveyPart> {
    parse_key_set("active_parts", keys, SurveyPart::from_key, violations)
}

/// Create a corporation (KWH staff).
#[utoipa::path(
    tag = "corporations",
    request_body = CreateCorporationRequest,
    responses(
        (status = 201, description = "Created", body = CorporationResponse),
        OnlyKwhStaff, CorporationTakenOrLimit,
    )
)]
#[post("/corporations")]
pub async fn create_corporation(
    state: web::Data<AppState>,
    credential: Credential,
    body: Result<web::Json<CreateCorporationRequest>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let new = after_caller(body).and_then(|body| new_corporation(&body));
    let corporation = state
        .act(credential, move |conn, caller, now| {
            let (code, name, parts) = new?;
            use_cases::create(conn, &caller.actor, code, name, parts, now)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/corporations/{}", corporation.code)))
        .json(CorporationResponse::from(corporation)))
}

/// A new corporation's code, name and active parts (422 with every violation).
fn new_corporation(
    body: &CreateCorporationRequest,
) -> Result<(CorporationCode, String, BTreeSet<SurveyPart>), AppError> {
    let mut violations = Violations::new();
    let code = violations.check("code", CorporationCode::parse(&body.code));
    let name = violations.check("name", required_text(&body.name, MAX_NAME_LENGTH));
    let parts = parse_parts(&body.active_parts, &mut violations);
    let (Some(code), Some(name)) = (code, name) else {
        return Err(violations.into());
    };
    if !violations.is_empty() {
        return Err(violations.into());
    }
    Ok((code, name, parts))
}

/// Edit a corporation's name or active parts (KWH staff).
#[utoipa::path(
    tag = "corporations",
    params(("code" = String, Path, description = "The corporation code, e.g. KWH042")),
    request_body = UpdateCorporationRequest,
    responses(
        (status = 200, description = "The edited corporation", body = CorporationResponse),
        OnlyKwhStaff, NoSuchCorporation,
    )
)]
#[patch("/corporations/{code}")]
pub async fn update_corporation(
    state: web::Data<AppState>,
    credential: Credential,
    code: web::Path<String>,
    body: Result<web::Json<UpdateCorporationRequest>, actix_web::Error>,
) -> Result<web::Json<CorporationResponse>, AppError> {
    let code = parse_code(&code);
    let edit = after_caller(body).and_then(|body| corporation_edit(&body));
    let corporation = state
        .act(credential, move |conn, caller, now| {
            let (code, (name, parts)) = (code?, edit?);
            use_cases::update(conn, &caller.actor, &code, name, parts, now)
        })
        .await?;
    Ok(web::Json(corporation.into()))
}

/// What an edit of a corporation changes: its name, its active parts (422 with every violation).
fn corporation_edit(
    body: &UpdateCorporationRequest,
) -> Result<(Option<String>, Option<BTreeSet<SurveyPart>>), AppError> {
    let mut violations = Violations::new();
    let name = body
        .name
        .as_deref()
        .and_then(|n| violations.check("name", required_text(n, MAX_NAME_LENGTH)));
    let parts = body
        .active_parts
        .as_deref()
        .map(|keys| parse_parts(keys, &mut violations));
    if !violations.is_empty() {
        return Err(violations.into());
    }
    Ok((name, parts))
}
