//! Liveness and readiness for orchestrators and load balancers.

use std::time::Duration;

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::refusals::DatabaseUnreachable;
use super::state::AppState;
use crate::http::problem::{AppError, ErrorCode};

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    /// Always `ok` when the service answers with 200.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// How long readiness waits for a database connection before it answers 503.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Liveness: the process is up and serving HTTP. Does not touch the database.
#[utoipa::path(tag = "health", responses((status = 200, description = "The process serves HTTP", body = HealthStatus)))]
#[get("/health/live")]
pub async fn live() -> web::Json<HealthStatus> {
    web::Json(HealthStatus { status: "ok" })
}

/// Readiness: the database answers. 503 while it cannot be reached; recovers by itself.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = HealthStatus),
        DatabaseUnreachable,
    )
)]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<web::Json<HealthStatus>, AppError> {
    let pool = state.pool.clone();
    web::block(move || {
        let mut conn = pool.get_timeout(READY_TIMEOUT).map_err(|e| {
            tracing::warn!(error = %e, "readiness: no database connection");
            AppError::new(ErrorCode::ServiceUnavailable)
        })?;
        diesel::r2d2::R2D2Connection::ping(&mut **conn).map_err(|e| {
            conn.mark_suspect();
            tracing::warn!(error = %e, "readiness: database did not answer");
            AppError::new(ErrorCode::ServiceUnavailable)
        })
    })
    .await??;
    Ok(web::Json(HealthStatus { status: "ok" }))
}
