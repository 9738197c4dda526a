//! What a service token may call, by scope: an allow-list (SECURITY.md, "Scopes").
//!
//! The list is written into the OpenAPI document, as a `service_token` security requirement per
//! scope on each operation it allows; the server enforces what the document says (the
//! authentication middleware asks [`super::fallback::RouteTable`], built from the document).
//! An operation not listed here answers 403 `insufficient_scope` to every service token.
//!
//! Left out on purpose: report settings and approvals (GDPR decisions, taken by people);
//! contractors and corporations (the tenancy a token acts within); the contractor-name catalog
//! (a name there is what report settings may grant Excel over: no token plants one); service
//! tokens themselves (a token never mints, lists or revokes tokens).

use utoipa::openapi::OpenApi as OpenApiDocument;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};

use crate::domain::user::TokenScope;

pub const SERVICE_TOKEN_SCHEME: &str = "service_token";

const READ: &[TokenScope] = &[TokenScope::Read, TokenScope::Provision];
const PROVISION: &[TokenScope] = &[TokenScope::Provision];
/// `scim` reaches `/scim/v2` and nothing else; no other scope reaches `/scim/v2`.
const SCIM: &[TokenScope] = &[TokenScope::Scim];

/// (method, path template, the scopes that may call it).
pub const SERVICE_TOKEN_OPERATIONS: &[(&str, &str, &[TokenScope])] = &[
    ("GET", "/me", READ),
    ("GET", "/survey-parts", READ),
    ("GET", "/users", READ),
    ("GET", "/users/{id}", READ),
    ("POST", "/users", PROVISION),
    ("PATCH", "/users/{id}", PROVISION),
    ("DELETE", "/users/{id}", PROVISION),
    ("POST", "/users/{id}/invite", PROVISION),
    ("POST", "/users/batch", PROVISION),
    ("GET", "/corporations", READ),
    ("GET", "/corporations/{code}", READ),
    ("GET", "/corporations/{code}/contractor-names", READ),
    ("GET", "/contractors", READ),
    ("GET", "/contractors/{id}", READ),
    ("GET", "/contractors/{id}/report-settings", READ),
    ("GET", "/approvals", READ),
    ("GET", "/approvals/{id}", READ),
    ("GET", "/audit-events", READ),
    ("GET", "/scim/v2/ServiceProviderConfig", SCIM),
    ("GET", "/scim/v2/ResourceTypes", SCIM),
    ("GET", "/scim/v2/ResourceTypes/{id}", SCIM),
    ("GET", "/scim/v2/Schemas", SCIM),
    ("GET", "/scim/v2/Schemas/{id}", SCIM),
    ("GET", "/scim/v2/Users", SCIM),
    ("POST", "/scim/v2/.search", SCIM),
    ("POST", "/scim/v2/Users", SCIM),
    ("GET", "/scim/v2/Users/{id}", SCIM),
    ("PUT", "/scim/v2/Users/{id}", SCIM),
    ("PATCH", "/scim/v2/Users/{id}", SCIM),
    ("DELETE", "/scim/v2/Users/{id}", SCIM),
];

/// Writes the allow-list into the document: the scheme, and on each listed operation one
/// `service_token` requirement per scope that may call it (alternatives, as OpenAPI reads a
/// list of requirements).
pub fn document_scopes(openapi: &mut OpenApiDocument) {
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SERVICE_TOKEN_SCHEME,
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A service token (`mkwh_…`) from POST /api-tokens. It acts as its creator, limited to \
                     the operations that list its scope (`read`, `provision`, or `scim` for `/scim/v2` \
                     only); any other answers 403 `insufficient_scope`.",
                ))
                .build(),
        ),
    );
    for (method, template, scopes) in SERVICE_TOKEN_OPERATIONS {
        let item = openapi
            .paths
            .paths
            .get_mut(*template)
            .unwrap_or_else(|| panic!("the scope list names {template}, which the document lacks"));
        let operation = match *method {
            "GET" => item.get.as_mut(),
            "POST" => item.post.as_mut(),
            "PATCH" => item.patch.as_mut(),
            "PUT" => item.put.as_mut(),
            "DELETE" => item.delete.as_mut(),
            _ => None,
        }
        .unwrap_or_else(|| panic!("the scope list names {method} {template}, which the document lacks"));
        let security = operation.security.get_or_insert_with(Vec::new);
        for scope in *scopes {
            security.push(SecurityRequirement::new(SERVICE_TOKEN_SCHEME, [scope.key()]));
        }
    }
}

/// The scopes an operation's security requirements allow (from the served document).
pub fn scopes_of(operation: &utoipa::openapi::path::Operation) -> Vec<TokenScope> {
    let Ok(serde_json::Value::Array(requirements)) = serde_json::to_value(&operation.security) else {
        return Vec::new();
    };
    requirements
        .iter()
        .filter_map(|requirement| requirement.get(SERVICE_TOKEN_SCHEME)?.as_array().cloned())
        .flatten()
        .filter_map(|scope| TokenScope::from_key(scope.as_str()?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_states_each_listed_scope_and_no_other() {
        let document = super::super::openapi_document();
        let mut listed = 0;
        for (template, item) in &document.paths.paths {
            for (method, operation) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PATCH", &item.patch),
                ("PUT", &item.put),
                ("DELETE", &item.delete),
            ] {
                let Some(operation) = operation else { continue };
                let expected = SERVICE_TOKEN_OPERATIONS
                    .iter()
                    .find(|(m, t, _)| *m == method && t == template)
                    .map(|(_, _, scopes)| scopes.to_vec())
                    .unwrap_or_default();
                listed += usize::from(!expected.is_empty());
                assert_eq!(scopes_of(operation), expected, "{method} {template}");
            }
        }
        assert_eq!(listed, SERVICE_TOKEN_OPERATIONS.len());
    }
}
