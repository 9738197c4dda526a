//! Answers for requests that match no handler: 405 with `Allow` when the path exists with other
//! methods, 404 otherwise. The known paths come from the OpenAPI document, so they cannot drift
//! from the handlers.
//!
//! A literal path wins over a template: `/users/batch` is only `POST`, even though
//! `/users/{id}` would take a `PATCH` of it (and then fail on "batch" not being an id).

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::OpenApi as OpenApiDocument;

use super::problem::{self, AppError};
use super::scopes::scopes_of;
use crate::domain::user::TokenScope;

#[derive(Debug, Clone)]
pub struct RouteTable {
    routes: Vec<Route>,
}

#[derive(Debug, Clone)]
struct Route {
    segments: Vec<Segment>,
    /// Each method of the path, with the service-token scopes its operation allows.
    methods: Vec<(&'static str, Vec<TokenScope>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter,
}

impl RouteTable {
    pub fn from_openapi(document: &OpenApiDocument) -> Self {
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = split(template)
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Parameter
                        } else {
                            Segment::Literal(s.to_string())
                        }
                    })
                    .collect();
                let methods = [
                    ("GET", &item.get),
                    ("POST", &item.post),
                    ("PUT", &item.put),
                    ("PATCH", &item.patch),
                    ("DELETE", &item.delete),
                ]
                .into_iter()
                .filter_map(|(method, operation)| Some((method, scopes_of(operation.as_ref()?))))
                .collect();
                Route { segments, methods }
            })
            .collect();
        RouteTable { routes }
    }

    /// The methods of the most specific routes matching this path (the most literal segments),
    /// or `None` when no route has this path.
    pub fn allowed_methods(&self, path: &str) -> Option<Vec<&'static str>> {
        let mut allowed: Vec<&'static str> = Vec::new();
        for route in self.most_specific(path)? {
            for (method, _) in &route.methods {
                if !allowed.contains(method) {
                    allowed.push(method);
                }
            }
        }
        Some(allowed)
    }

    /// The service-token scopes that may call this method on this path; `None` when no route
    /// takes it (the request then ends as 404 or 405 anyway).
    pub fn token_scopes(&self, path: &str, method: &str) -> Option<&[TokenScope]> {
        self.most_specific(path)?
            .into_iter()
            .find_map(|route| route.methods.iter().find(|(m, _)| *m == method))
            .map(|(_, scopes)| scopes.as_slice())
    }

    /// The routes matching this path with the most literal segments. Segments are compared
    /// percent-decoded, as the router compares them: `/api%2Dtokens` is `/api-tokens`.
    fn most_specific(&self, path: &str) -> Option<Vec<&Route>> {
        let parts: Vec<String> = split(path).map(decode_segment).collect();
        let mut best: Option<(usize, Vec<&Route>)> = None;
        for route in &self.routes {
            let matches = route.segments.len() == parts.len()
                && route.segments.iter().zip(&parts).all(|(segment, part)| match segment {
                    Segment::Literal(literal) => literal == part,
                    Segment::Parameter => !part.is_empty(),
                });
            if !matches {
                continue;
            }
            let literals = route
                .segments
                .iter()
                .filter(|s| matches!(s, Segment::Literal(_)))
                .count();
            match &mut best {
                Some((most, _)) if *most > literals => {}
                Some((most, routes)) if *most == literals => routes.push(route),
                _ => best = Some((literals, vec![route])),
            }
        }
        best.map(|(_, routes)| routes)
    }
}

/// One path segment as the router reads it (an encoded `/` stays within its segment).
pub fn decode_segment(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// A request path as the router reads it, segment by segment.
pub fn decoded_path(path: &str) -> String {
    path.split('/').map(decode_segment).collect::<Vec<_>>().join("/")
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/')
}

/// Refuses (405) a method the most specific route of a path does not have, before a less
/// specific route can take the request.
pub async fn refuse_other_methods(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let refusal = request
        .app_data::<web::Data<Arc<RouteTable>>>()
        .and_then(|routes| routes.allowed_methods(request.path()))
        .filter(|allowed| !allowed.contains(&request.method().as_str()))
        .map(|allowed| problem::method_not_allowed(&allowed));
    match refusal {
        Some(refused) => Ok(request.into_response(refused)),
        None => next.call(request).await.map(ServiceResponse::map_into_boxed_body),
    }
}

/// 405 for a path that exists with other methods; 404 otherwise, also for one the table knows
/// with this very method that the router still did not take (a trailing slash: `/users/`).
pub async fn no_route(request: HttpRequest, routes: web::Data<Arc<RouteTable>>) -> Result<HttpResponse, AppError> {
    match routes.allowed_methods(request.path()) {
        Some(methods) if !methods.contains(&request.method().as_str()) => Ok(problem::method_not_allowed(&methods)),
        _ => Err(AppError::not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};

    #[test]
    fn paths_with_parameters_answer_their_methods() {
        let paths = PathsBuilder::new()
            .path("/users", PathItem::new(HttpMethod::Get, OperationBuilder::new()))
            .path("/users/{id}", PathItem::new(HttpMethod::Patch, OperationBuilder::new()))
            .build();
        let document = utoipa::openapi::OpenApiBuilder::new().paths(paths).build();
        let table = RouteTable::from_openapi(&document);
        assert_eq!(table.allowed_methods("/users"), Some(vec!["GET"]));
        assert_eq!(table.allowed_methods("/users/abc"), Some(vec!["PATCH"]));
        assert_eq!(table.allowed_methods("/users/abc/x"), None);
        assert_eq!(table.allowed_methods("/nothing"), None);
    }

    #[test]
    fn encoded_segments_match_as_the_router_decodes_them() {
        let paths = PathsBuilder::new()
            .path("/api-tokens", PathItem::new(HttpMethod::Get, OperationBuilder::new()))
            .path("/users/{id}", PathItem::new(HttpMethod::Patch, OperationBuilder::new()))
            .build();
        let document = utoipa::openapi::OpenApiBuilder::new().paths(paths).build();
        let table = RouteTable::from_openapi(&document);
        assert_eq!(table.allowed_methods("/api%2Dtokens"), Some(vec!["GET"]));
        assert_eq!(table.allowed_methods("/%75sers/abc"), Some(vec!["PATCH"]));
        assert_eq!(table.token_scopes("/api%2dtokens", "GET"), Some(&[][..]));
        assert_eq!(decoded_path("/auth/log%69n"), "/auth/login");
    }

    #[test]
    fn a_literal_path_wins_over_a_template() {
        let paths = PathsBuilder::new()
            .path("/users/batch", PathItem::new(HttpMethod::Post, OperationBuilder::new()))
            .path("/users/{id}", PathItem::new(HttpMethod::Patch, OperationBuilder::new()))
            .build();
        let document = utoipa::openapi::OpenApiBuilder::new().paths(paths).build();
        let table = RouteTable::from_openapi(&document);
        assert_eq!(table.allowed_methods("/users/batch"), Some(vec!["POST"]));
        assert_eq!(table.allowed_methods("/users/abc"), Some(vec!["PATCH"]));
    }
}
