//! Limits on what a request carries, checked before any other work is done for it.

use actix_web::ResponseError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use super::problem::{AppError, ErrorCode};

/// The most header bytes (names and values) a request may carry. actix-http stops reading a
/// request head at 128 kB only while it arrives in pieces; a head that arrives at once passes,
/// so the limit is ours. 32 kB leaves room for any real token, cookie or forwarding chain.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

pub async fn header_size(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        let refused = AppError::new(ErrorCode::HeadersTooLarge).error_response();
        return Ok(request.into_response(refused));
    }
    next.call(request).await.map(ServiceResponse::map_into_boxed_body)
}
