//! The signed-in caller, from the `Authorization: Bearer` header.
//!
//! Every request re-reads the user, so that a deleted user's token, or one issued before a
//! demotion or password change (a raised token version), stops working at once on every
//! instance.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::app::AppState;
use crate::db::rows::UserRow;
use crate::db::users;
use crate::domain::corporation::CorporationCode;
use crate::domain::user::{Actor, Role};
use crate::http::problem::{ApiError, ErrorCode};

pub struct Caller {
    pub actor: Actor,
    pub user: UserRow,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let token = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| t.trim().to_string());
        Box::pin(async move {
            let unauthorized = || ApiError::new(ErrorCode::Unauthorized);
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no application state")))?;
            let claims = token.and_then(|t| state.tokens.verify(&t)).ok_or_else(unauthorized)?;
            let user = state
                .db(move |conn| Ok(users::find(conn, &claims.sub)?))
                .await?
                .ok_or_else(unauthorized)?;
            if user.token_version != claims.ver {
                return Err(unauthorized());
            }
            let role = Role::from_key(&user.role).ok_or_else(unauthorized)?;
            let actor = Actor {
                user_id: user.id.clone(),
                role,
                corporation_code: user
                    .corporation_code
                    .as_deref()
                    .and_then(|c| CorporationCode::parse(c).ok()),
            };
            Ok(Caller { actor, user })
        })
    }
}
