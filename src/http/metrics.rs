//! `GET /metrics` for Prometheus, and the middleware that counts and times every request.
//!
//! The endpoint is not part of the public API (nor of its OpenAPI document): it is served on
//! its own listener (`METRICS_ADDR`, kept off the public network) and, when `METRICS_TOKEN` is
//! set, also on the main listener to a scraper that sends that token as a bearer token.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, web};

use super::problem::{AppError, ErrorCode};
use super::state::AppState;
use crate::metrics::{self, Metrics};

/// Requests that matched no route are counted under one label, so a scan of random paths
/// cannot grow the number of series.
const UNMATCHED: &str = "unmatched";
const SIGN_IN_ROUTE: &str = "/auth/login";

pub async fn count_requests(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let metrics = request.app_data::<web::Data<AppState>>().map(|s| s.metrics.clone());
    // The methods this API answers, and one value for any other: a client may send any token
    // as a method, and each would otherwise be a new histogram.
    let method = match request.method().as_str() {
        known @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => known.to_string(),
        _ => "other".to_string(),
    };
    let started = Instant::now();
    let outcome = next.call(request).await;
    if let Some(metrics) = metrics {
        let (route, status) = match &outcome {
            Ok(response) => (response.request().match_pattern(), response.status().as_u16()),
            Err(error) => (None, error.as_response_error().status_code().as_u16()),
        };
        observe(
            &metrics,
            &method,
            route.as_deref().unwrap_or(UNMATCHED),
            status,
            started,
        );
    }
    outcome
}

fn observe(metrics: &Metrics, method: &str, route: &str, status: u16, started: Instant) {
    let status_text = status.to_string();
    let labels = [method, route, status_text.as_str()];
    metrics.http_requests.with_label_values(&labels).inc();
    metrics
        .http_request_duration
        .with_label_values(&labels)
        .observe(started.elapsed().as_secs_f64());
    // Sign-ins are read off their answers, so the throttle's design can change without
    // touching what is counted: 401 is a wrong password or account, 429 the throttle.
    if route == SIGN_IN_ROUTE && method == "POST" {
        let outcome = match status {
            200 => Some("succeeded"),
            401 => Some("failed"),
            429 => Some("throttled"),
            _ => None,
        };
        if let Some(outcome) = outcome {
            metrics.sign_ins.with_label_values(&[outcome]).inc();
        }
    }
}

/// The metrics, with the gauges read now (the pool of this instance, the shared outbox).
async fn render(state: &AppState) -> Result<HttpResponse, AppError> {
    let pool = state.pool.state();
    let metrics = state.metrics.clone();
    metrics
        .pool_connections
        .with_label_values(&["in_use"])
        .set(i64::from(pool.connections - pool.idle_connections));
    metrics
        .pool_connections
        .with_label_values(&["idle"])
        .set(i64::from(pool.idle_connections));
    metrics.pool_max_connections.set(i64::from(state.pool.max_size()));
    let now = state.now();
    let gauges = metrics.clone();
    state
        .db(move |conn| Ok(crate::service::monitoring::refresh_outbox_gauges(conn, &gauges, now)?))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, metrics::CONTENT_TYPE))
        .body(metrics.render()))
}

/// `GET /metrics` on the metrics listener, which only operators reach.
pub async fn scrape(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    render(&state).await
}

/// `GET /metrics` on the main listener: only with `Authorization: Bearer METRICS_TOKEN`, and
/// 404 when no token is configured (as if there were no such path).
pub async fn scrape_with_token(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let Some(expected) = &state.settings.metrics.token else {
        return Err(AppError::not_found());
    };
    // The API's one reading of the header (the scheme in any case).
    let presented = super::auth::bearer_token(request.headers())
        .flatten()
        .unwrap_or_default();
    if !same_secret(&presented, expected.expose()) {
        return Err(AppError::new(ErrorCode::Unauthorized));
    }
    render(&state).await
}

/// Compares by SHA-256, so the time taken tells nothing about how much of the token matched.
fn same_secret(presented: &str, expected: &str) -> bool {
    use crate::auth::token::link_token_hash;
    link_token_hash(presented) == link_token_hash(expected)
}
