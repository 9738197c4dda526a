//! Request logging: one span per request with its id, and one line when it ends.
//!
//! Paths and queries are logged with tokens redacted: invitation and reset links carry
//! single-use secrets (`/invitations/{token}`, `?token=`), and logs outlive them.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

pub struct RedactingRootSpan;

impl RootSpanBuilder for RedactingRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request_id_of(request);
        let target = redact_target(request.uri().path_and_query().map(|p| p.as_str()).unwrap_or(""));
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            target = %target,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("status", status.as_u16());
        span.in_scope(|| {
            if status.is_server_error() {
                tracing::error!(status = status.as_u16(), "request failed");
            } else {
                tracing::info!(status = status.as_u16(), "request handled");
            }
        });
    }
}

fn request_id_of(request: &ServiceRequest) -> String {
    use actix_web::HttpMessage;
    request
        .extensions()
        .get::<RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// Path segments after these hold secrets, except for the named actions beside them.
const SECRET_AFTER: &[(&str, &[&str])] = &[("invitations", &["accept"])];

/// Replaces secrets in a path and query with `[redacted]`.
pub fn redact_target(target: &str) -> String {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let mut previous = String::new();
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| {
            // Compared decoded, as the router reads them: `/invit%61tions/…` is an invitation.
            let decoded = super::fallback::decode_segment(segment);
            let secret = SECRET_AFTER.iter().any(|(parent, actions)| {
                previous == *parent && !segment.is_empty() && !actions.contains(&decoded.as_str())
            });
            previous = decoded;
            if secret {
                "[redacted]".to_string()
            } else {
                segment.to_string()
            }
        })
        .collect();
    let mut redacted = segments.join("/");
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _))
                    if super::fallback::decode_segment(key)
                        .to_ascii_lowercase()
                        .contains("token") =>
                {
                    format!("{key}=[redacted]")
                }
                _ => pair.to_string(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&pairs.join("&"));
    }
    redacted
}

#[cfg(test)]
mod tests {
    use super::redact_target;

    #[test]
    fn tokens_never_reach_the_log() {
        assert_eq!(redact_target("/invitations/abc123secret"), "/invitations/[redacted]");
        assert_eq!(redact_target("/invitations/accept"), "/invitations/accept");
        assert_eq!(redact_target("/reset?token=s3cret&x=1"), "/reset?token=[redacted]&x=1");
        assert_eq!(redact_target("/users/42?q=jan"), "/users/42?q=jan");
        assert_eq!(
            redact_target("/invit%61tions/abc123secret"),
            "/invit%61tions/[redacted]"
        );
        assert_eq!(redact_target("/reset?t%6Fken=s3cret"), "/reset?t%6Fken=[redacted]");
        assert_eq!(
            redact_target("/invitations/abc?access_token=zz"),
            "/invitations/[redacted]?access_token=[redacted]"
        );
    }
}
