//! `/corporations/{code}/contractor-names`: the catalog "Alle aannemers".

use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Credential;
use super::pagination::text_parameter;
use super::problem::{AppError, after_caller};
use super::refusals::{CatalogLimitReached, NoSuchCorporationInScope, OnlyManagers};
use super::state::AppState;
use crate::domain::corporation::CorporationCode;
use crate::domain::violation::{ViolationKind, Violations};
use crate::service::catalog::{self as use_cases, ContractorName};

/// Names one request may carry (one delivered file's worth).
pub const MAX_NAMES_PER_REQUEST: usize = 5000;
pub const MAX_NAME_LENGTH: usize = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct ContractorNameResponse {
    /// The spelling exactly as it appeared in a delivered file.
    #[schema(example = "Installatie-techniek")]
    pub name: String,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    pub first_seen_at: DateTime<Utc>,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    pub last_seen_at: DateTime<Utc>,
    /// How many deliveries contained this spelling.
    pub seen_count: i32,
    /// With `similar_to`: how alike this spelling is, 0 to 1 (1: the same after folding case,
    /// accents, punctuation, spaces and legal forms).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 0.947)]
    pub score: Option<f64>,
}

fn response(name: ContractorName, score: Option<f64>) -> ContractorNameResponse {
    ContractorNameResponse {
        name: name.name,
        first_seen_at: name.first_seen_at.and_utc(),
        last_seen_at: name.last_seen_at.and_utc(),
        seen_count: name.seen_count,
        score,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordNamesRequest {
    /// The contractor names of one delivered file; repeats are counted once.
    #[schema(example = json!(["Installatietechniek", "installatietechnik", "Installatie-techniek", "Bouwbedrijf Jansen"]))]
    pub names: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogParams {
    /// Case-insensitive part of a name.
    pub q: Option<String>,
    /// Rank the catalog by likeness to this name, best first, with a `score`.
    pub similar_to: Option<String>,
}

fn parse_code(code: &str) -> Result<CorporationCode, AppError> {
    CorporationCode::parse(code).map_err(|_| AppError::not_found())
}

/// Record the contractor names seen in a delivered data file. Re-posting a file adds no
/// spelling twice; it counts the delivery and updates `last_seen_at`. A catalog holds at most
/// 5,000 spellings.
#[utoipa::path(
    tag = "contractors",
    params(("code" = String, Path, description = "The corporation code")),
    request_body = RecordNamesRequest,
    responses(
        (status = 200, description = "The posted names as the catalog now has them", body = [ContractorNameResponse]),
        CatalogLimitReached, OnlyManagers, NoSuchCorporationInScope,
    )
)]
#[post("/corporations/{code}/contractor-names")]
pub async fn record_names(
    state: web::Data<AppState>,
    credential: Credential,
    code: web::Path<String>,
    body: Result<web::Json<RecordNamesRequest>, actix_web::Error>,
) -> Result<web::Json<Vec<ContractorNameResponse>>, AppError> {
    let code = parse_code(&code);
    let names = after_caller(body).and_then(|body| names_to_record(&body));
    let recorded = state
        .act(credential, move |conn, caller, now| {
            use_cases::record(conn, &caller.actor, &code?, &names?, now)
        })
        .await?;
    Ok(web::Json(
        recorded.into_iter().map(|name| response(name, None)).collect(),
    ))
}

/// The names of a request, trimmed and each once (422 with every violation).
fn names_to_record(body: &RecordNamesRequest) -> Result<Vec<String>, AppError> {
    let mut violations = Violations::new();
    if body.names.len() > MAX_NAMES_PER_REQUEST {
        violations.add(
            "names",
            ViolationKind::TooLong {
                max: MAX_NAMES_PER_REQUEST,
            },
        );
    }
    let mut names: Vec<String> = Vec::new();
    for (index, name) in body.names.iter().enumerate() {
        match crate::domain::text::required_text(name, MAX_NAME_LENGTH) {
            Ok(name) if !names.contains(&name) => names.push(name),
            Ok(_) => {}
            Err(kind) => violations.add(format!("names[{index}]"), kind),
        }
    }
    if !violations.is_empty() {
        return Err(violations.into());
    }
    Ok(names)
}

/// The catalog ("Alle aannemers"): every spelling of a contractor name in the corporation's
/// delivered files. With `similar_to`, the likely spellings of one contractor come first.
/// At most 5,000 names: the catalog holds no more.
#[utoipa::path(
    tag = "contractors",
    params(("code" = String, Path, description = "The corporation code"), CatalogParams),
    responses(
        (status = 200, description = "Catalog names", body = [ContractorNameResponse]),
        OnlyManagers, NoSuchCorporationInScope,
    )
)]
#[get("/corporations/{code}/contractor-names")]
pub async fn list_names(
    state: web::Data<AppState>,
    credential: Credential,
    code: web::Path<String>,
    params: Result<web::Query<CatalogParams>, actix_web::Error>,
) -> Result<web::Json<Vec<ContractorNameResponse>>, AppError> {
    let code = code.into_inner();
    let params = after_caller(params).map(web::Query::into_inner);
    let found = state
        .db_as(credential, move |conn, caller| {
            let code = parse_code(&code)?;
            let params = params?;
            let q = text_parameter("q", params.q)?;
            let similar_to = text_parameter("similar_to", params.similar_to)?;
            use_cases::search(conn, &caller.actor, &code, q.as_deref(), similar_to.as_deref())
        })
        .await?;
    Ok(web::Json(
        found.into_iter().map(|(name, score)| response(name, score)).collect(),
    ))
}
