//! The HTTP layer: routes, extractor configuration, middleware and the OpenAPI document.

pub mod api_tokens;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod catalog;
pub mod client_address;
pub mod context;
pub mod contractors;
pub mod corporations;
pub mod export;
pub mod fallback;
pub mod health;
pub mod idempotency;
pub mod invitations;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod problem;
pub mod rate_limit;
pub mod refusals;
pub mod report_settings;
pub mod schema;
pub mod scim;
pub mod scopes;
pub mod session;
pub mod state;
pub mod timestamps;
pub mod users;

use actix_web::{HttpResponse, web};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every documented handler. The server and the `openapi` command both use this,
/// so the served document is always the one the code answers to.
pub fn register_routes(config: &mut ServiceConfig) {
    config
        .service(health::live)
        .service(health::ready)
        .service(session::login)
        .service(session::me)
        .service(users::list_users)
        .service(batch::provision_users)
        .service(users::create_user)
        .service(users::get_user)
        .service(users::update_user)
        .service(users::delete_user)
        .service(corporations::survey_parts)
        .service(corporations::list_corporations)
        .service(corporations::create_corporation)
        .service(corporations::get_corporation)
        .service(corporations::update_corporation)
        .service(audit::list_audit_events)
        .service(invitations::invite_user)
        .service(invitations::inspect_invitation)
        .service(invitations::accept_invitation)
        .service(invitations::request_password_reset)
        .service(invitations::confirm_password_reset)
        .service(contractors::list_contractors)
        .service(contractors::create_contractor)
        .service(contractors::get_contractor)
        .service(contractors::update_contractor)
        .service(contractors::delete_contractor)
        .service(catalog::record_names)
        .service(catalog::list_names)
        .service(report_settings::get_report_settings)
        .service(report_settings::request_report_settings)
        .service(report_settings::list_approvals)
        .service(report_settings::get_approval)
        .service(report_settings::approve)
        .service(report_settings::reject)
        .service(report_settings::cancel)
        .service(api_tokens::create_token)
        .service(api_tokens::list_tokens)
        .service(api_tokens::revoke_token)
        .service(scim::service_provider_config)
        .service(scim::list_resource_types)
        .service(scim::get_resource_type)
        .service(scim::list_schemas)
        .service(scim::get_schema)
        .service(scim::list_users)
        .service(scim::search_all)
        .service(scim::create_user)
        .service(scim::get_user)
        .service(scim::replace_user)
        .service(scim::patch_user)
        .service(scim::delete_user);
}

/// The whole OpenAPI document, as served at `/openapi.json` and printed by `mijnkwh openapi`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut document) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .configure(register_routes)
        .split_for_parts();
    openapi::SharedResponses.modify(&mut document);
    scopes::document_scopes(&mut document);
    document
}

/// Where the document is served, for programs and for Swagger UI.
pub const DOCUMENT_PATH: &str = "/openapi.json";

/// The document as served: its JSON, written once at start and shared by every worker.
pub struct DocumentJson(web::Bytes);

impl DocumentJson {
    pub fn of(document: &utoipa::openapi::OpenApi) -> serde_json::Result<Self> {
        serde_json::to_vec(document).map(|json| DocumentJson(json.into()))
    }
}

/// `GET /openapi.json`.
pub async fn serve_document(document: web::Data<DocumentJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(document.0.clone())
}

/// How extractors answer bad input: problem+json with stable codes, and the body size limit.
pub fn configure_extractors(config: &mut web::ServiceConfig, max_body_bytes: usize) {
    config
        .app_data(
            web::JsonConfig::default()
                .limit(max_body_bytes)
                .error_handler(problem::json_error),
        )
        .app_data(web::PathConfig::default().error_handler(problem::path_error))
        .app_data(web::QueryConfig::default().error_handler(problem::query_error))
        .app_data(web::PayloadConfig::default().limit(max_body_bytes));
}

/// `/swagger-ui` without the slash would be a 404 from the Swagger UI service.
pub async fn redirect_to_swagger_ui() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/swagger-ui/"))
        .finish()
}
