//! The OpenAPI document: paths come from the handlers registered in [`super::routes`]; this
//! module adds what every operation shares (the bearer scheme and the infrastructure errors).

use utoipa::openapi::RefOr;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDocument, Ref};
use utoipa::{Modify, OpenApi};

use super::problem::{PROBLEM_CONTENT_TYPE, Problem, ProblemFieldError};
use super::schema::{ApprovalStatus, UserSort};

pub const BEARER_SCHEME: &str = "bearer_auth";

/// The operations anyone may call: signing in, the links of invitations and password resets,
/// and health. Every other operation asks for a bearer token, so a new one is documented as
/// closed until it is listed here; the trust tests call each operation the document closes
/// without a token and expect 401 (tests/api/trust.rs), so a handler that forgot its caller
/// fails them.
const OPEN_OPERATIONS: &[(&str, &str)] = &[
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("POST", "/auth/login"),
    ("POST", "/auth/password-reset"),
    ("POST", "/auth/password-reset/confirm"),
    ("GET", "/invitations/{token}"),
    ("POST", "/invitations/accept"),
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Mijn KWH Gebruikersbeheer API",
        description = "User management of Mijn KWH: housing associations (woningcorporaties) and their \
maintenance partners (aannemers) manage colleagues, contractors and report settings.\n\n\
Sign in with `POST /auth/login`, then press **Authorize** and paste the `access_token`.\n\n\
Errors are `application/problem+json` (RFC 9457) with a stable `code`; send `Accept-Language: nl` \
for Dutch texts.",
        version = env!("CARGO_PKG_VERSION"),
    ),
    servers((url = "/", description = "This service: the API is served at the root of the address that serves this document")),
    // utoipa collects the schemas that bodies name, not those that a query parameter names
    // through `value_type`: those must be registered here, or their `$ref` dangles (the test
    // `every_ref_resolves` below catches one that is forgotten).
    components(schemas(Problem, ProblemFieldError, ApprovalStatus, UserSort)),
    tags(
        (name = "session", description = "Signing in, and the signed-in user"),
        (name = "users", description = "Gebruikersbeheer: colleagues and contractor users"),
        (name = "invitations", description = "Invitations and password resets: single-use links sent by email"),
        (name = "contractors", description = "Maintenance partners (aannemers) of a corporation"),
        (name = "approvals", description = "Report settings (Rapportage-instellingen) and KWH's approval of changes"),
        (name = "corporations", description = "Housing associations and the survey parts they run"),
        (name = "integrations", description = "Service tokens and bulk provisioning for HR systems"),
        (name = "audit", description = "The append-only audit log"),
        (name = "scim", description = "SCIM 2.0 (RFC 7644) for identity providers (Entra ID, Okta): a service token with the scim scope. Errors are SCIM error bodies, not problem documents."),
        (name = "health", description = "Liveness and readiness for orchestrators"),
    )
)]
pub struct ApiDoc;

/// Adds to every operation the errors its shape implies, so no endpoint forgets them, and
/// says of every open operation that it is open. Applied after the handlers' paths are
/// collected (see [`super::openapi_document`]).
pub struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        // utoipa fills the license from Cargo.toml, which names none (the service is not
        // published): an empty license name says nothing, so the document names none either.
        openapi.info.license = None;
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The access_token from POST /auth/login, or a service token."))
                    .build(),
            ),
        );
        for (template, path) in openapi.paths.paths.iter_mut() {
            for (method, operation) in [
                ("GET", &mut path.get),
                ("PUT", &mut path.put),
                ("POST", &mut path.post),
                ("DELETE", &mut path.delete),
                ("PATCH", &mut path.patch),
            ] {
                let Some(operation) = operation else { continue };
                // An open operation says so with `security: []`, instead of leaving a reader or
                // a linter to guess.
                operation.security = Some(if OPEN_OPERATIONS.contains(&(method, template.as_str())) {
                    Vec::new()
                } else {
                    vec![SecurityRequirement::new(BEARER_SCHEME, Vec::<String>::new())]
                });
                add_shared_responses(operation);
            }
            if let Some(post) = &mut path.post {
                accept_idempotency_key(post);
            }
        }
        super::scim::document_scim_errors(openapi);
        // Last, so that it also describes the parameters added above (Idempotency-Key).
        super::schema::describe_inputs(openapi);
    }
}

/// Every POST takes an `Idempotency-Key`; a retry with it gets the first answer again.
fn accept_idempotency_key(operation: &mut Operation) {
    let parameter = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "A key of your choice (1 to 255 characters, e.g. a UUID). A retry with the same key and body \
             gets the first answer again (with `Idempotent-Replayed: true`) instead of acting twice; \
             kept 24 hours per signed-in caller (requests without a token are not kept: \
             the open endpoints are safe to repeat as they are).",
        ))
        .schema(Some(
            ObjectBuilder::new().schema_type(Type::String).max_length(Some(255)),
        ))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(RefOr::T(parameter));
    for (status, description) in [
        ("400", "Malformed Idempotency-Key (`invalid_idempotency_key`)"),
        (
            "409",
            "A request with this Idempotency-Key is still being handled (`request_in_progress`)",
        ),
        (
            "422",
            "This Idempotency-Key was used for another request (`idempotency_key_reused`)",
        ),
    ] {
        add_problem_response(operation, status, description);
    }
}

fn add_problem_response(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| problem_response(description).into());
}

/// A response with a problem+json body (the shared ones here, an operation's own refusals in
/// [`super::refusals`]).
pub fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn add_shared_responses(operation: &mut Operation) {
    let mut shared = vec![
        (
            "500",
            "Internal error (`internal_error`); quote the request id to support",
        ),
        ("431", "Request headers over 32 kB together (`headers_too_large`)"),
    ];
    if operation.request_body.is_some() {
        shared.push(("400", "Malformed JSON (`malformed_json`)"));
        shared.push(("413", "Request body too large (`payload_too_large`)"));
        shared.push(("415", "Body is not application/json (`unsupported_media_type`)"));
        shared.push(("422", "Invalid fields (`validation_failed`, `invalid_body`)"));
    }
    let has_parameters_in = |place: ParameterIn| {
        operation.parameters.iter().flatten().any(|parameter| match parameter {
            RefOr::T(parameter) => parameter.parameter_in == place,
            RefOr::Ref(_) => false,
        })
    };
    if has_parameters_in(ParameterIn::Path) {
        shared.push(("400", "Malformed path parameter (`invalid_path_parameter`)"));
    }
    if has_parameters_in(ParameterIn::Header) {
        shared.push(("400", "Malformed header (`invalid_header`)"));
    }
    if has_parameters_in(ParameterIn::Query) {
        shared.push(("400", "Malformed query parameter (`invalid_query`)"));
    }
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        shared.push(("401", "Missing, expired or revoked token (`unauthorized`)"));
    }
    for (status, description) in shared {
        add_problem_response(operation, status, description);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Every `"$ref"` string anywhere in the document, with where it stands.
    fn refs(value: &Value, at: &mut Vec<String>, found: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", Value::String(target)) => found.push((at.join("/"), target.clone())),
                        _ => {
                            at.push(key.replace('~', "~0").replace('/', "~1"));
                            refs(value, at, found);
                            at.pop();
                        }
                    }
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    at.push(index.to_string());
                    refs(item, at, found);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    /// Generators stop at the first `$ref` they cannot resolve (openapi-typescript, and
    /// openapi-spec-validator rejects the document), so every one must point into the document.
    #[test]
    fn every_ref_resolves() {
        let document = serde_json::to_value(crate::http::openapi_document()).unwrap();
        let mut found = Vec::new();
        refs(&document, &mut vec!["#".to_string()], &mut found);
        // The document refers to its components a few hundred times; none at all would mean
        // this walk looked at nothing.
        assert!(found.len() > 100, "only {} $refs found", found.len());
        let dangling: Vec<String> = found
            .iter()
            .filter(|(_, target)| {
                let resolved = target.strip_prefix('#').and_then(|pointer| document.pointer(pointer));
                !target.starts_with("#/components/") || resolved.is_none()
            })
            .map(|(at, target)| format!("{at}: {target}"))
            .collect();
        assert!(
            dangling.is_empty(),
            "$refs that resolve to nothing:\n{}",
            dangling.join("\n")
        );
    }

    /// The open operations are exactly these, each saying so with `security: []`; every other
    /// operation asks for the bearer token.
    #[test]
    fn open_operations_say_so_and_all_others_need_the_token() {
        let document = serde_json::to_value(crate::http::openapi_document()).unwrap();
        let mut open = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                match operation.get("security") {
                    Some(Value::Array(requirements)) if requirements.is_empty() => {
                        open.push(format!("{} {path}", method.to_uppercase()))
                    }
                    // The person's session first; service-token scopes may follow (http::scopes).
                    Some(requirements) => assert_eq!(
                        requirements[0],
                        serde_json::json!({ super::BEARER_SCHEME: [] }),
                        "{method} {path}"
                    ),
                    None => panic!("{method} {path} declares no security"),
                }
            }
        }
        open.sort();
        assert_eq!(
            open,
            [
                "GET /health/live",
                "GET /health/ready",
                "GET /invitations/{token}",
                "POST /auth/login",
                "POST /auth/password-reset",
                "POST /auth/password-reset/confirm",
                "POST /invitations/accept",
            ]
        );
    }
}
