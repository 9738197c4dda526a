//! `Idempotency-Key` on every POST: a retry with the same key and body gets the first answer
//! again instead of acting twice. Keys live in the database per actor for 24 hours, so a retry
//! reaches the answer whichever instance takes it, and after a restart.
//!
//! Keys belong to a signed-in caller (user or service token). Requests without one are not
//! stored: the open endpoints (sign-in, accepting an invitation, password resets) are safe to
//! repeat as they are, and their answers may carry a secret that does not belong in the
//! database.

use std::collections::BTreeMap;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, ETAG, HeaderName, HeaderValue, LOCATION};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};
use chrono::Duration;
use sha2::{Digest, Sha256};

use super::problem::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::db::idempotency::{self as store, IdempotencyRow};

pub const HEADER: &str = "idempotency-key";
const MAX_KEY_LENGTH: usize = 255;
const KEPT_FOR_HOURS: i64 = 24;
/// A first request that has not answered after this long is taken to have died with its
/// instance; the key is then free again.
const ABANDONED_AFTER_SECONDS: i64 = 300;
const REPLAYED_HEADERS: [HeaderName; 3] = [CONTENT_TYPE, LOCATION, ETAG];

pub async fn middleware(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = request.headers().get(HEADER).map(|v| v.to_str().map(str::to_string));
    let (Some(key), true) = (key, request.method() == Method::POST) else {
        return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
    };
    let key = key
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LENGTH)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidIdempotencyKey))?;
    let state = request
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("application state");
    // Keys are per caller. Without a valid token there is no caller to keep them for: such a
    // request is refused (401) or goes to one of the open endpoints, which are safe to repeat.
    let Some(actor) = super::auth::caller_key(&request, &state) else {
        return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
    };
    let body = request
        .extract::<web::Bytes>()
        .await
        .map_err(|_| ApiError::new(ErrorCode::PayloadTooLarge))?;
    let fingerprint = fingerprint(request.path(), request.query_string(), &body);
    request.set_payload(Payload::from(body));

    let now = state.now();
    let claim = IdempotencyRow {
        actor: actor.clone(),
        idempotency_key: key.clone(),
        fingerprint: fingerprint.clone(),
        status_code: None,
        response_headers: None,
        response_body: None,
        created_at: now,
        expires_at: now + Duration::hours(KEPT_FOR_HOURS),
    };
    let existing = state
        .db(move |conn| {
            store::prune(conn, now)?;
            let existing = store::claim(conn, &claim)?;
            match existing {
                // Left behind by an instance that died mid-request: take the key over.
                Some(row)
                    if row.status_code.is_none() && (now - row.created_at).num_seconds() > ABANDONED_AFTER_SECONDS =>
                {
                    store::release(conn, &row.actor, &row.idempotency_key)?;
                    Ok(store::claim(conn, &claim)?)
                }
                other => Ok(other),
            }
        })
        .await?;
    if let Some(first) = existing {
        let response = if first.fingerprint != fingerprint {
            ApiError::new(ErrorCode::IdempotencyKeyReused).error_response()
        } else {
            match first.status_code {
                Some(status) => replay(
                    status,
                    first.response_headers.as_deref(),
                    first.response_body.unwrap_or_default(),
                ),
                None => ApiError::new(ErrorCode::RequestInProgress).error_response(),
            }
        };
        return Ok(request.into_response(response));
    }

    let response = next.call(request).await;
    let (request, response) = match response {
        Ok(response) => response.into_parts(),
        Err(error) => {
            state.db(move |conn| Ok(store::release(conn, &actor, &key)?)).await?;
            return Err(error);
        }
    };
    let status = response.status();
    let (head, body) = response.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal))?;
    let headers: BTreeMap<String, String> = REPLAYED_HEADERS
        .iter()
        .filter_map(|name| Some((name.to_string(), head.headers().get(name)?.to_str().ok()?.to_string())))
        .collect();
    let stored_body = String::from_utf8_lossy(&bytes).into_owned();
    let headers_json = serde_json::to_string(&headers).unwrap_or_default();
    state
        .db(move |conn| {
            // A failure on our side is not an answer to keep: the retry should act.
            if status.is_server_error() {
                store::release(conn, &actor, &key)?;
            } else {
                store::complete(
                    conn,
                    &actor,
                    &key,
                    i32::from(status.as_u16()),
                    &headers_json,
                    &stored_body,
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(ServiceResponse::new(
        request,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}

fn fingerprint(path: &str, query: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(path.as_bytes());
    hasher.update(b"?");
    hasher.update(query.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn replay(status: i32, headers: Option<&str>, body: String) -> HttpResponse {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    let headers: BTreeMap<String, String> = headers.and_then(|h| serde_json::from_str(h).ok()).unwrap_or_default();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(&value)) {
            response.insert_header((name, value));
        }
    }
    response.insert_header(("Idempotent-Replayed", "true"));
    response.body(body)
}
