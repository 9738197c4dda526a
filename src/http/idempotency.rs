//! `Idempotency-Key` on every POST: a retry with the same key and body gets the first answer
//! again instead of acting twice. Keys live in the database per actor for 24 hours, so a retry
//! reaches the answer whichever instance takes it, and after a restart.
//!
//! Keys belong to a signed-in caller (user or service token) and are deleted with the user.
//! The handler's writes and the stored answer commit in one transaction
//! ([`RequestTransaction`]): a crash before that commit leaves nothing, so the retry acts once;
//! after it, the retry gets the answer. Requests without a caller are not stored: the open
//! endpoints (sign-in, accepting an invitation, password resets) are safe to repeat as they
//! are, and their answers carry secrets. No stored answer holds a secret (SECRET_FIELDS).

use std::collections::BTreeMap;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, ETAG, HeaderName, HeaderValue, LOCATION};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use sha2::{Digest, Sha256};

use super::auth::Authentication;
use super::problem::{AppError, ErrorCode};
use super::state::{AppState, RequestTransaction};
use crate::service::idempotency::{self as use_cases, Completion, KeyClaim, StoredAnswer};

pub const HEADER: &str = "idempotency-key";
const MAX_KEY_LENGTH: usize = 255;
const REPLAYED_HEADERS: [HeaderName; 3] = [CONTENT_TYPE, LOCATION, ETAG];

/// Operations whose answers are never kept, whoever calls: they sign in or set passwords, and
/// their answers may hold an access token. They are safe to repeat as they are.
const NEVER_STORED: [&str; 4] = [
    "/auth/login",
    "/invitations/accept",
    "/auth/password-reset",
    "/auth/password-reset/confirm",
];

/// Top-level fields of an answer that hold a secret shown once (the new service token's
/// `token`): a replay leaves them out, so no secret is ever kept in the database.
const SECRET_FIELDS: [&str; 2] = ["token", "access_token"];

pub async fn middleware(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = request.headers().get(HEADER).map(|v| v.to_str().map(str::to_string));
    let (Some(key), true) = (key, request.method() == Method::POST) else {
        return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
    };
    let state = request
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("application state");
    // Refusals are responses, not errors: the SCIM layer outside rewrites responses only.
    let Some(key) = key.ok().filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LENGTH) else {
        if has_ended(&state, request.request()).await? {
            return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
        }
        return Ok(request.into_response(AppError::new(ErrorCode::InvalidIdempotencyKey).error_response()));
    };
    // Keys are per caller, resolved in full before anything is replayed (a deleted user, a
    // revoked or outdated token gets nothing). Without a caller there is no one to keep them
    // for: such a request is refused (401) or goes to one of the open endpoints.
    let Some(credential) = Authentication::credential(request.request()) else {
        return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
    };
    if NEVER_STORED.contains(&super::fallback::decoded_path(request.path()).as_str()) {
        return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
    }
    let Ok(body) = request.extract::<web::Bytes>().await else {
        if has_ended(&state, request.request()).await? {
            return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
        }
        return Ok(request.into_response(AppError::new(ErrorCode::PayloadTooLarge).error_response()));
    };
    let fingerprint = fingerprint(request.path(), request.query_string(), &body);
    request.set_payload(Payload::from(body));

    let now = state.now();
    // The claim commits on its own, so that a retry meanwhile learns the key is in use (409)
    // on any instance. It holds no effect: the handler's writes and the answer commit
    // together below, or not at all. An access token is resolved in the same hop, and once
    // more by the handler inside the request's transaction: a token that ends meanwhile
    // changes nothing (on SQLite that transaction holds the write lock from its start).
    let claimed = state
        .db(move |conn| {
            let Some(caller) = credential.current(conn)? else {
                return Ok(KeyClaim::OwnerGone);
            };
            let (actor, user_id) = (caller.idempotency_key(), &caller.user.id);
            use_cases::claim(conn, &actor, &key, &fingerprint, user_id, now)
        })
        .await?;
    let claim = match claimed {
        KeyClaim::First(claim) => claim,
        KeyClaim::Answered(answer) => return Ok(request.into_response(replay(answer)?)),
        KeyClaim::InProgress => {
            return Ok(request.into_response(AppError::new(ErrorCode::RequestInProgress).error_response()));
        }
        KeyClaim::Reused => {
            return Ok(request.into_response(AppError::new(ErrorCode::IdempotencyKeyReused).error_response()));
        }
        KeyClaim::OwnerGone => {
            // An ended credential: the handler refuses it (401), with nothing kept.
            Authentication::refuse(request.request());
            return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
        }
    };

    let release = {
        let (state, claim) = (state.clone(), claim.clone());
        move || async move { state.db(move |conn| use_cases::release(conn, &claim)).await }
    };
    let transaction = match RequestTransaction::begin(&state).await {
        Ok(transaction) => transaction,
        Err(error) => {
            release().await?;
            return Err(error.into());
        }
    };
    let response = transaction.scope(next.call(request)).await;
    let (request, response) = match response {
        Ok(response) => response.into_parts(),
        Err(error) => {
            transaction.roll_back().await?;
            release().await?;
            return Err(error);
        }
    };
    let status = response.status();
    let (head, body) = response.into_parts();
    let bytes = match actix_web::body::to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            transaction.roll_back().await?;
            release().await?;
            return Err(AppError::new(ErrorCode::Internal).into());
        }
    };
    // A failure on our side is not an answer to keep: nothing of it commits, the retry acts.
    // Nor is a credential that ended while the request ran (401: the handler checks it again
    // in this transaction): its claim may be gone with its user, and it has no answer to own.
    if status.is_server_error() || status == StatusCode::UNAUTHORIZED {
        transaction.roll_back().await?;
        release().await?;
        return Ok(ServiceResponse::new(
            request,
            head.set_body(bytes).map_into_boxed_body(),
        ));
    }
    let headers: BTreeMap<String, String> = REPLAYED_HEADERS
        .iter()
        .filter_map(|name| Some((name.to_string(), head.headers().get(name)?.to_str().ok()?.to_string())))
        .collect();
    let answer = StoredAnswer {
        status: status.as_u16(),
        headers,
        body: without_secrets(&bytes),
    };
    let abort_before_commit = state.settings.fault_abort_before_idempotent_commit;
    let completion = transaction
        .finish(
            move |conn| {
                let completion = use_cases::complete(conn, &claim, &answer)?;
                if abort_before_commit {
                    tracing::error!("FAULT_INJECTION: aborting between the handler and the commit");
                    std::process::abort();
                }
                Ok(completion)
            },
            |completion| *completion == Completion::Kept,
        )
        .await?;
    let refusal = match completion {
        Completion::Kept => {
            return Ok(ServiceResponse::new(
                request,
                head.set_body(bytes).map_into_boxed_body(),
            ));
        }
        // This request ran past the abandonment time and another one holds the key now: the
        // other request acts; this one's writes were rolled back.
        Completion::TakenOver => ErrorCode::RequestInProgress,
        // The caller's user was deleted while the request ran: their credential ended, and
        // nothing of the request stays.
        Completion::OwnerGone => ErrorCode::Unauthorized,
    };
    Ok(ServiceResponse::new(request, AppError::new(refusal).error_response()))
}

/// Whether the request's credential has ended, asked before the key or the body is refused:
/// an ended credential is told 401 (by the handler) whatever it sent, as without the key.
async fn has_ended(state: &AppState, request: &HttpRequest) -> Result<bool, AppError> {
    if Authentication::is_refused(request) {
        return Ok(true);
    }
    let Some(credential) = Authentication::credential(request) else {
        return Ok(false);
    };
    let ended = state.db(move |conn| Ok(credential.current(conn)?.is_none())).await?;
    if ended {
        Authentication::refuse(request);
    }
    Ok(ended)
}

/// The answer as it may be kept: without the fields that hold a secret.
fn without_secrets(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut fields)) => {
            for field in SECRET_FIELDS {
                fields.remove(field);
            }
            serde_json::Value::Object(fields).to_string()
        }
        _ => String::from_utf8_lossy(body).into_owned(),
    }
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

/// The first answer again, marked as a replay.
fn replay(answer: StoredAnswer) -> Result<HttpResponse, AppError> {
    let status = StatusCode::from_u16(answer.status)
        .map_err(|e| AppError::internal(anyhow::anyhow!("stored answer status {}: {e}", answer.status)))?;
    let mut response = HttpResponse::build(status);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(&value)) {
            response.insert_header((name, value));
        }
    }
    response.insert_header(("Idempotent-Replayed", "true"));
    Ok(response.body(answer.body))
}
