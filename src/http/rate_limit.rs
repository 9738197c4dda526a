//! Requests per signed-in caller (user or service token) per minute, counted so that the limit
//! holds across instances (`service::rate_limits`: the first request of a minute in the
//! database, the others here and written in batches). Answers carry `RateLimit-Limit`,
//! `RateLimit-Remaining` and `RateLimit-Reset`; over the limit, 429 with `Retry-After`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use chrono::{Duration, DurationRound, Timelike};

use super::problem::AppError;
use super::state::AppState;
use crate::service::callers::Credential;
use crate::service::rate_limits as use_cases;

pub async fn middleware(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("application state");
    let limit = state.settings.rate_limit_per_minute;
    // Only credentials that resolve are counted: a made-up token writes nothing (it is refused).
    let credential = super::auth::Authentication::credential(request.request());
    let (Some(mut credential), true) = (credential, limit > 0) else {
        return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
    };
    let subject = credential.rate_limit_subject();
    let now = state.now();
    let window = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    let reset = u64::from(60 - now.second());
    let count = match state.request_counter.count_here(&subject, window) {
        Some(count) => count,
        None => {
            // The first request of the minute here: counted in the database, in the same hop
            // that resolves a read's access token (one that has ended is not counted).
            let (counted, presented) = (subject.clone(), credential.clone());
            let first = state
                .db(move |conn| use_cases::count_first_request(conn, &presented, &counted, window))
                .await?;
            let Some((count, caller)) = first else {
                super::auth::Authentication::refuse(request.request());
                return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
            };
            // Not recorded for the handler: its use case resolves the token once more in its own
            // unit of work (for a change, in the change's transaction), one statement at most
            // once a minute.
            credential = Credential::Resolved(caller);
            state.request_counter.learn(&subject, window, count);
            count
        }
    };
    if count > u64::from(limit) && matches!(credential, Credential::AccessToken(_)) {
        // Refused for its count, a read's token is first checked: one that ended is told so
        // (401), not to wait for a minute that would change nothing.
        let caller = state.db(move |conn| credential.current(conn)).await?;
        if caller.is_none() {
            super::auth::Authentication::refuse(request.request());
            return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
        }
    }
    let remaining = u64::from(limit).saturating_sub(count);
    let mut response = if count > u64::from(limit) {
        let mut refused = request.into_response(AppError::too_many_requests(reset).error_response());
        refused.headers_mut().insert(RETRY_AFTER, HeaderValue::from(reset));
        refused
    } else {
        next.call(request).await?.map_into_boxed_body()
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("ratelimit-limit", u64::from(limit)),
        ("ratelimit-remaining", remaining),
        ("ratelimit-reset", reset),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
    Ok(response)
}
