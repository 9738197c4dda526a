//! Answers for requests that match no handler: 405 with `Allow` when the path exists with other
//! methods, 404 otherwise. The known paths come from the OpenAPI document, so they cannot drift
//! from the handlers.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::OpenApi as OpenApiDocument;

use super::problem::ApiError;

#[derive(Debug, Clone)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<&'static str>)>,
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
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect();
                (segments, methods)
            })
            .collect();
        RouteTable { routes }
    }

    /// The methods this path supports, or `None` when no route has this path.
    pub fn allowed_methods(&self, path: &str) -> Option<Vec<&'static str>> {
        let parts: Vec<&str> = split(path).collect();
        let mut allowed: Vec<&'static str> = Vec::new();
        let mut found = false;
        for (segments, methods) in &self.routes {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(segment, part)| match segment {
                    Segment::Literal(literal) => literal == part,
                    Segment::Parameter => !part.is_empty(),
                });
            if matches {
                found = true;
                for method in methods {
                    if !allowed.contains(method) {
                        allowed.push(method);
                    }
                }
            }
        }
        found.then_some(allowed)
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/')
}

pub async fn no_route(request: HttpRequest, routes: web::Data<Arc<RouteTable>>) -> Result<HttpResponse, ApiError> {
    Err(match routes.allowed_methods(request.path()) {
        Some(methods) => ApiError::method_not_allowed(&methods),
        None => ApiError::not_found(),
    })
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
}
