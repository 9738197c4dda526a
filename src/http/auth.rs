//! Who is calling: the `Authorization: Bearer` header, read once per request.
//!
//! [`authenticate`] runs before the rate limit and the idempotency keys, and is the only reader
//! of the header ([`bearer_token`]). An access token is only verified here (signature, expiry)
//! and resolved by the use case, on its own connection in its own unit of work
//! ([`Credential`], [`AppState::act`]): one hop to the database per request instead of two, and
//! for `GET /users/{id}` one statement. The use case resolves it before it judges anything of
//! the request (its path, its query, its body), so a deleted user's token, one issued before a
//! demotion or a new password, or a deactivated user's is refused (401) first, on every
//! instance at once. A service token is resolved here, against the database (a revoked or
//! expired one, one whose creator's sessions ended, stops at once), so that one whose scope the
//! operation does not list gets 403 `insufficient_scope` before anything else runs; so is an
//! access token under `/scim/v2`, which only service tokens may call (401 or 403 before the
//! body). Nothing is written for a credential that does not resolve.

use std::future::{Ready, ready};
use std::sync::Arc;

use futures_util::future::LocalBoxFuture;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};

use super::fallback::RouteTable;
use super::problem::{AppError, ErrorCode};
use super::state::AppState;
use crate::auth::token::{Claims, SERVICE_TOKEN_PREFIX};
use crate::domain::user::TokenScope;
use crate::service::callers;
pub use crate::service::callers::{Caller, Credential};

/// What the request's credentials came to.
#[derive(Clone)]
pub enum Authentication {
    /// No `Authorization` header.
    Anonymous,
    /// A malformed header, or a credential that is unknown, expired or no longer current.
    Refused,
    Caller(Arc<Caller>),
    /// An access token, verified but not yet looked up (see the module's text).
    AccessToken(Claims),
}

impl Authentication {
    /// The request's credential, resolved or not; `None` without a usable one.
    pub fn credential(request: &HttpRequest) -> Option<Credential> {
        match request.extensions().get::<Authentication>()? {
            Authentication::Caller(caller) => Some(Credential::Resolved(caller.clone())),
            Authentication::AccessToken(claims) => Some(Credential::AccessToken(claims.clone())),
            Authentication::Anonymous | Authentication::Refused => None,
        }
    }

    /// Whether the request came with a credential that is malformed, unknown or no longer
    /// current (found out so far).
    pub fn is_refused(request: &HttpRequest) -> bool {
        matches!(
            request.extensions().get::<Authentication>(),
            Some(Authentication::Refused)
        )
    }

    /// Records that a later step found the request's credential ended (the rate limit, when
    /// it resolves an access token to count the first request of a minute; the idempotency
    /// keys, when they claim a key): the handler refuses it (401) without looking it up again.
    /// A credential found current is not recorded: the use case resolves it once more in its
    /// own unit of work (for a change, inside the change's transaction).
    pub fn refuse(request: &HttpRequest) {
        request.extensions_mut().insert(Authentication::Refused);
    }
}

/// The one parser of `Authorization`: the scheme is case-insensitive (RFC 9110 §11.1), the
/// credential is what follows it. `None` without the header; `Some(None)` when it is there but
/// is not a bearer credential.
pub fn bearer_token(headers: &HeaderMap) -> Option<Option<String>> {
    let value = headers.get(AUTHORIZATION)?;
    let parsed = value.to_str().ok().and_then(|value| {
        let (scheme, credential) = value.trim().split_once(char::is_whitespace)?;
        let credential = credential.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !credential.is_empty()).then(|| credential.to_string())
    });
    Some(parsed)
}

fn unauthorized() -> AppError {
    AppError::new(ErrorCode::Unauthorized)
}

/// Whether the operation at `path` (a request's path, or the pattern the router matched) lists
/// `scope` in the document's allow-list; `None` when the document has no such operation.
fn scope_allows(request: &HttpRequest, path: &str, scope: TokenScope) -> Option<bool> {
    let routes = request.app_data::<web::Data<Arc<RouteTable>>>()?;
    let scopes = routes.token_scopes(path, request.method().as_str())?;
    Some(scopes.contains(&scope))
}

/// Middleware: resolves the credentials once, refuses a service token outside its scope.
pub async fn authenticate(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let outcome = match bearer_token(request.headers()) {
        None => Authentication::Anonymous,
        Some(None) => Authentication::Refused,
        Some(Some(token)) => {
            let state = request
                .app_data::<web::Data<AppState>>()
                .cloned()
                .expect("application state");
            let now = state.now();
            // SCIM is for service tokens: a person's token there is resolved at once, so that an
            // ended one is told 401 (and a current one 403) before the body is read.
            let scim = super::fallback::decoded_path(request.path()).starts_with(super::scim::PREFIX);
            if !token.starts_with(SERVICE_TOKEN_PREFIX) && !scim {
                let outcome = state
                    .tokens
                    .verify(&token)
                    .map_or(Authentication::Refused, Authentication::AccessToken);
                request.extensions_mut().insert(outcome);
                return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
            }
            let resolver = state.clone();
            match state
                .db(move |conn| callers::resolve(conn, &resolver.tokens, &token, now))
                .await
            {
                Ok(Some(caller)) => Authentication::Caller(Arc::new(caller)),
                Ok(None) => Authentication::Refused,
                Err(error) => return Ok(request.into_response(error.error_response())),
            }
        }
    };
    if let Authentication::Caller(caller) = &outcome
        && let Some(scope) = caller.scope
        && scope_allows(request.request(), request.path(), scope) == Some(false)
    {
        let refusal = AppError::new(ErrorCode::InsufficientScope).error_response();
        return Ok(request.into_response(refusal));
    }
    request.extensions_mut().insert(outcome);
    next.call(request).await.map(ServiceResponse::map_into_boxed_body)
}

/// The request's credential for a use case that resolves it itself ([`AppState::db_as`]); 401
/// without one. For a service token, the scope check once more on the route the router matched.
impl FromRequest for Credential {
    type Error = AppError;
    type Future = Ready<Result<Credential, AppError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(credential(request))
    }
}

fn credential(request: &HttpRequest) -> Result<Credential, AppError> {
    let credential = Authentication::credential(request).ok_or_else(unauthorized)?;
    if let Credential::Resolved(caller) = &credential
        && let Some(scope) = caller.scope
    {
        // A path the middleware's table did not recognise is refused here, not let through.
        let allowed = request
            .match_pattern()
            .and_then(|pattern| scope_allows(request, &pattern, scope));
        if allowed != Some(true) {
            return Err(AppError::new(ErrorCode::InsufficientScope));
        }
    }
    Ok(credential)
}

/// The caller, resolved before the handler runs (for an access token, in a hop of its own:
/// handlers that reach the database take a [`Credential`] instead).
impl FromRequest for Caller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Caller, AppError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let credential = credential(request);
        let state = request.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let credential = credential?;
            let caller = match (&credential, state) {
                (Credential::Resolved(caller), _) => caller.clone(),
                (Credential::AccessToken(_), Some(state)) => state.db(move |conn| credential.resolve(conn)).await?,
                (Credential::AccessToken(_), None) => return Err(unauthorized()),
            };
            Ok((*caller).clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn parse(value: &str) -> Option<Option<String>> {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        bearer_token(&headers)
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_nothing_else_passes() {
        for value in ["Bearer abc", "bearer abc", "BEARER abc", "bEaReR   abc ", "Bearer\tabc"] {
            assert_eq!(parse(value), Some(Some("abc".into())), "{value:?}");
        }
        for value in ["Basic abc", "Bearer", "Bearer ", "Bearerabc", "abc", ""] {
            assert_eq!(parse(value), Some(None), "{value:?}");
        }
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
