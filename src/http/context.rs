//! What every response needs to know about its request: the language asked for and the
//! request id. Kept in a task-local for the duration of the request, so that errors can be
//! rendered in Dutch and carry the id without threading the request through every function.

use actix_web::HttpMessage;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{ACCEPT_LANGUAGE, HeaderName, HeaderValue};
use std::future::Future;
use tracing_actix_web::RequestId;

/// The languages human-readable texts are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    English,
    Dutch,
}

impl Language {
    /// Picks Dutch when the client prefers it over English (`nl`, `nl-NL`, `nl;q=0.9, en;q=0.5`).
    pub fn from_accept_language(header: Option<&str>) -> Language {
        let Some(header) = header else { return Language::English };
        let mut best = (Language::English, 0.0_f32);
        for entry in header.split(',') {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let language = match primary {
                "nl" => Language::Dutch,
                "en" => Language::English,
                _ => continue,
            };
            if quality > best.1 {
                best = (language, quality);
            }
        }
        best.0
    }
}

#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub language: Language,
    pub request_id: Option<String>,
}

tokio::task_local! {
    static REQUEST_CONTEXT: RequestContext;
}

impl RequestContext {
    /// The context of the request being handled, or the default outside a request.
    pub fn current() -> RequestContext {
        REQUEST_CONTEXT.try_with(Clone::clone).unwrap_or_default()
    }
}

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Middleware body: runs the rest of the request inside its context and returns the id.
pub fn with_request_context<S, B>(
    request: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let language = Language::from_accept_language(request.headers().get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    let request_id = request.extensions().get::<RequestId>().map(ToString::to_string);
    let context = RequestContext {
        language,
        request_id: request_id.clone(),
    };
    // Some services do part of their work in `call` itself, so that runs in the context too.
    let response = REQUEST_CONTEXT.sync_scope(context.clone(), || service.call(request));
    REQUEST_CONTEXT.scope(context, async move {
        let mut response = response.await?;
        if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
            response.headers_mut().insert(REQUEST_ID_HEADER, id);
        }
        Ok(response)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dutch_only_when_preferred() {
        let pick = |h| Language::from_accept_language(Some(h));
        assert_eq!(pick("nl"), Language::Dutch);
        assert_eq!(pick("nl-NL,nl;q=0.9,en;q=0.5"), Language::Dutch);
        assert_eq!(pick("en-GB,en;q=0.9,nl;q=0.8"), Language::English);
        assert_eq!(pick("de-DE, fr"), Language::English);
        assert_eq!(pick("de, nl;q=0.3"), Language::Dutch);
        assert_eq!(Language::from_accept_language(None), Language::English);
    }
}
