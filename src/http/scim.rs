//! `/scim/v2` (RFC 7644) for the corporations' identity providers: discovery and `Users`.
//!
//! Only a service token with the `scim` scope gets in; it acts as a main user of its one
//! corporation and reaches nothing outside `/scim/v2` (the scope list). Every answer is
//! `application/scim+json`, errors included: [`errors_in_scim_form`] rewrites the problem
//! documents of the middleware and the handlers into SCIM error bodies, so a 401, a 404 of an
//! unknown path, a 405 or a 429 reads as SCIM too. Bodies are read as `application/scim+json`
//! or `application/json`, whichever the client sends.

use futures_util::future::LocalBoxFuture;

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, CONTENT_TYPE, ETAG, HeaderValue, LOCATION};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::auth::{Caller, Credential};
use super::fallback::decoded_path;
use super::problem::{AppError, ErrorCode, PROBLEM_CONTENT_TYPE};
use super::refusals::{
    ScimInvalidFilter, ScimInvalidPatch, ScimInvalidReplacement, ScimLastMainUser, ScimLastMainUserDemoted,
    ScimNoSuchResourceType, ScimNoSuchSchema, ScimNoSuchUser, ScimUserChanged, ScimUserNameTaken,
};
use super::state::AppState;
use crate::domain::scim::Projection;
use crate::domain::scim::discovery;
use crate::domain::user::TokenScope;
use crate::service::scim::{self as use_cases, MAX_PAGE_SIZE};

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";
pub const PREFIX: &str = "/scim/v2";
const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// A list without `count` holds this many.
const DEFAULT_PAGE_SIZE: usize = 100;

/// A caller with a `scim` token. A person's session, or a token of another scope (which the
/// scope list already refuses), is not an identity provider.
pub struct ScimCaller(Caller);

impl FromRequest for ScimCaller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<ScimCaller, AppError>>;

    /// A person's ended session is told 401 as anywhere else, a current one 403.
    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(request, payload);
        Box::pin(async move {
            let caller = caller.await?;
            if caller.scope != Some(TokenScope::Scim) {
                return Err(AppError::new(ErrorCode::InsufficientScope)
                    .with_reason("SCIM takes a service token with the scim scope."));
            }
            Ok(ScimCaller(caller))
        })
    }
}

impl ScimCaller {
    /// The identity provider's credential, resolved already, for [`AppState::act`].
    fn credential(self) -> Credential {
        Credential::Resolved(std::sync::Arc::new(self.0))
    }
}

/// Where this service's SCIM endpoint is, for `meta.location`.
fn base_url(state: &AppState) -> String {
    format!(
        "{}{PREFIX}",
        state.settings.public_base_url.as_str().trim_end_matches('/')
    )
}

fn scim(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, SCIM_CONTENT_TYPE))
        .body(body.to_string())
}

/// A user, with its `ETag` (the same as `meta.version`).
fn user_response(status: StatusCode, user: &Value) -> HttpResponse {
    let mut response = scim(status, user);
    if let Some(version) = user["meta"]["version"]
        .as_str()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response.headers_mut().insert(ETAG, version);
    }
    response
}

/// A JSON body, sent as `application/scim+json` or `application/json`.
fn json_body(body: &web::Bytes) -> Result<Value, AppError> {
    serde_json::from_slice(body).map_err(|error| AppError::new(ErrorCode::MalformedJson).with_reason(error.to_string()))
}

/// The version an `If-Match` asks for (`W/"3"`, `"3"`); `None` without one or with `*`.
fn if_match(request: &HttpRequest) -> Result<Option<i32>, AppError> {
    super::users::if_match(request)
}

fn user_id(id: &str) -> Result<String, AppError> {
    uuid::Uuid::parse_str(id)
        .map(|id| id.to_string())
        .map_err(|_| AppError::not_found())
}

/// The service's capabilities.
#[utoipa::path(
    tag = "scim",
    operation_id = "scim_service_provider_config",
    responses(
        (status = 200, description = "What this SCIM service supports", body = Object, content_type = "application/scim+json"),
    )
)]
#[get("/scim/v2/ServiceProviderConfig")]
pub async fn service_provider_config(state: web::Data<AppState>, _caller: ScimCaller) -> HttpResponse {
    scim(
        StatusCode::OK,
        &discovery::service_provider_config(&base_url(&state), MAX_PAGE_SIZE),
    )
}

/// The resource types: `User`.
#[utoipa::path(
    tag = "scim",
    operation_id = "scim_list_resource_types",
    responses(
        (status = 200, description = "A ListResponse of the resource types", body = Object, content_type = "application/scim+json"),
    )
)]
#[get("/scim/v2/ResourceTypes")]
pub async fn list_resource_types(state: web::Data<AppState>, _caller: ScimCaller) -> HttpResponse {
    scim(
        StatusCode::OK,
        &list_response(vec![discovery::user_resource_type(&base_url(&state))]),
    )
}

/// One resource type by id.
#[utoipa::path(
    tag = "scim",
    operation_id = "scim_get_resource_type",
    params(("id" = String, Path, description = "`User`")),
    responses(
        (status = 200, description = "The resource type", body = Object, content_type = "application/scim+json"),
        ScimNoSuchResourceType,
    )
)]
#[get("/scim/v2/ResourceTypes/{id}")]
pub async fn get_resource_type(
    state: web::Data<AppState>,
    _caller: ScimCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let resource_type = discovery::user_resource_type(&base_url(&state));
    if resource_type["id"] != id.as_str() {
        return Err(AppError::not_found());
    }
    Ok(scim(StatusCode::OK, &resource_type))
}

/// The schemas of `User`: the core schema and the Mijn KWH extension.
#[utoipa::path(
    tag = "scim",
    operation_id = "scim_list_schemas",
    responses(
        (status = 200, description = "A ListResponse of the schemas", body = Object, content_type = "application/scim+json"),
    )
)]
#[get("/scim/v2/Schemas")]
pub async fn list_schemas(state: web::Data<AppState>, _caller: ScimCaller) -> HttpResponse {
    scim(StatusCode::OK, &list_response(discovery::schemas(&base_url(&state))))
}

/// One schema by its URN.
#[utoipa::path(
    tag = "scim",
    operation_id = "scim_get_schema",
    params(("id" = String, Path, description = "The schema's URN")),
    responses(
        (status = 200, description = "The schema", body = Object, content_type = "application/scim+json"),
        ScimNoSuchSchema,
    )
)]
#[get("/scim/v2/Schemas/{id}")]
pub async fn get_schema(
    state: web::Data<AppState>,
    _caller: ScimCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    discovery::schemas(&base_url(&state))
        .into_iter()
        .find(|schema| schema["id"].as_str().is_some_and(|urn| urn.eq_ignore_ascii_case(&id)))
        .map(|schema| scim(StatusCode::OK, &schema))
        .ok_or_else(AppError::not_found)
}

fn list_response(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// An RFC 7644 filter, e.g. `userName eq "jan@kwh001.nl"`.
    pub filter: Option<String>,
    /// 1-based index of the first result (default 1; below 1 counts as 1).
    #[serde(rename = "startIndex")]
    #[param(rename = "startIndex")]
    pub start_index: Option<String>,
    /// Most results (default 100, at most 200; below 0 counts as 0).
    pub count: Option<String>,
    /// Only these attributes (comma-separated); `id` always comes.
    pub attributes: Option<String>,
    /// All but these attributes (comma-separated).
    #[serde(rename = "excludedAttributes")]
    #[param(rename = "excludedAttributes")]
    pub excluded_attributes: Option<String>,
}

/// A whole number as SCIM's paging reads it: out of range is clamped, not refused.
fn whole_number(value: Option<&str>, name: &str, default: usize, min: i64) -> Result<usize, AppError> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => text.parse::<i64>().map(|n| n.max(min) as usize).map_err(|_| {
            AppError::new(ErrorCode::InvalidAttributeValue).with_reason(format!("`{name}` is a whole number"))
        }),
    }
}

/// A list request, from the query (`GET /Users`) or a SearchRequest body (`POST /.search`).
struct Search {
    filter: Option<String>,
    start_index: usize,
    count: usize,
    projection: Projection,
}

async fn search(state: &AppState, caller: ScimCaller, search: Search) -> Result<HttpResponse, AppError> {
    let filter = search.filter.as_deref().map(use_cases::parse_filter).transpose()?;
    let (start_index, count) = (search.start_index, search.count.min(MAX_PAGE_SIZE));
    let actor = caller.0.actor;
    let page = state
        .db(move |conn| use_cases::list(conn, &actor, filter.as_ref(), start_index, count))
        .await?;
    let base = base_url(state);
    let resources: Vec<Value> = page
        .users
        .iter()
        .map(|row| search.projection.apply(use_cases::resource(row, &base)))
        .collect();
    Ok(scim(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_RESPONSE_URN],
            "totalResults": page.total,
            "startIndex": start_index,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    ))
}

/// The corporation's users, filtered and paged.
#[utoipa::path(
    tag = "scim",
    operation_id = "scim_list_users",
    params(ListParams),
    responses(
        (status = 200, description = "A ListResponse of users", body = Object, content_type = "application/scim+json"),
        ScimInvalidFilter,
    )
)]
#[get("/scim/v2/Users")]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: ScimCaller,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let params = params.into_inner();
    let request = Search {
        start_index: whole_number(params.start_index.as_deref(), "startIndex", 1, 1)?,
        count: whole_number(params.count.as_deref(), "count", DEFAULT_PAGE_SIZE, 0)?,
        projection: Projection::parse(params.attributes.as_deref(), params.excluded_attributes.as_deref()),
        filter: params.filter,
    };
    search(&state, caller, request).await
}

const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// Reads a SearchRequest (RFC 7644 §3.4.3).
fn search_request(body: &web::Bytes) -> Result<Search, AppError> {
    let body = json_body(body)?;
    let invalid = |detail: &str| AppError::new(ErrorCode::InvalidScimRequest).with_reason(detail.to_string());
    let body = body
        .as_object()
        .ok_or_else(|| invalid("a SearchRequest is a JSON object"))?;
    let lists_urn = crate::domain::scim::member(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|schemas| {
            schemas
                .iter()
                .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(SEARCH_REQUEST_URN)))
        });
    if !lists_urn {
        return Err(invalid(
            "`schemas` must list urn:ietf:params:scim:api:messages:2.0:SearchRequest",
        ));
    }
    let field = |name: &str| crate::domain::scim::member(body, name);
    let names = |name: &str| -> Result<Option<String>, AppError> {
        match field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| invalid("attribute names are strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|names| Some(names.join(","))),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(invalid("attribute names are a list of strings")),
        }
    };
    let number = |name: &str, default: usize, min: i64| -> Result<usize, AppError> {
        match field(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => whole_number(Some(&n.to_string()), name, default, min),
            Some(_) => {
                Err(AppError::new(ErrorCode::InvalidAttributeValue).with_reason(format!("`{name}` is a whole number")))
            }
        }
    };
    let filter = match field("filter") {
        None | Some(Value::Null) => None,
        Some(Value::String(filter)) => Some(filter.clone()),
        Some(_) => return Err(invalid("`filter` is a string")),
    };
    Ok(Search {
        filter,
        start_index: number("startIndex", 1, 1)?,
        count: number("count", DEFAULT_PAGE_SIZE, 0)?,
        projection: Projection::parse(names("attributes")?.as_deref(), names("excludedAttributes")?.as_deref()),
    })
}

/// Search the corporation's users with a SearchRequest body (RFC 7644 §3.4.3): at the root,
/// over every resource type, which is `User` alone (the same search as `GET /Users`, for
/// clients that keep the filter out of URLs).
#[utoipa::path(
    tag = "scim",
    operation_id = "scim_search_all",
    request_body(content = Object, content_type = "application/scim+json"),
    responses(
        (status = 200, description = "A ListResponse of users", body = Object, content_type = "application/scim+json"),
    )
)]
#[post("/scim/v2/.search")]
pub async fn search_all(
    state: web::Data<AppState>,
    caller: ScimCaller,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let request = search_request(&body)?;
    search(&state, caller, request).await
}

/// Create a user of the token's corporation. Unless the token says otherwise, they get their
/// invitation mail.
#[utoipa::path(
    tag = "scim",
    operation_id = "scim_create_user",
    request_body(content = Object, content_type = "application/scim+json"),
    responses(
        (status = 201, description = "Created; `Location` names the user", body = Object, content_type = "application/scim+json"),
        ScimUserNameTaken,
    )
)]
#[post("/scim/v2/Users")]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: ScimCaller,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let body = json_body(&body)?;
    let ttl = chrono::Duration::from_std(state.settings.invitation_ttl).map_err(AppError::internal)?;
    let row = state
        .act(caller.credential(), move |conn, caller, now| {
            use_cases::create(conn, &caller.actor, &body, ttl, now)
        })
        .await?;
    state.mail_wake.notify_one();
    let user = use_cases::resource(&row, &base_url(&state));
    let mut response = user_response(StatusCode::CREATED, &user);
    if let Some(location) = user["meta"]["location"]
        .as_str()
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// One user.
#[utoipa::path(
    tag = "scim",
    operation_id = "scim_get_user",
    params(
        ("id" = String, Path, description = "The user's id"),
        ListParams,
    ),
    responses(
        (status = 200, description = "The user", body = Object, content_type = "application/scim+json"),
        ScimNoSuchUser,
    )
)]
#[get("/scim/v2/Users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: ScimCaller,
    id: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let id = user_id(&id)?;
    let projection = Projection::parse(params.attributes.as_deref(), params.excluded_attributes.as_deref());
    let actor = caller.0.actor;
    let row = state.db(move |conn| use_cases::show(conn, &actor, &id)).await?;
    // Without `meta` (projected out) no ETag either: clients put the header in `meta.version`.
    let user = projection.apply(use_cases::resource(&row, &base_url(&state)));
    Ok(user_response(StatusCode::OK, &user))
}

/// Replace a user (Okta's way of updating and deactivating). `userName` must stay the same.
#[utoipa::path(
    tag = "scim",
    operation_id = "scim_replace_user",
    params(
        ("id" = String, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag (meta.version) read before"),
    ),
    request_body(content = Object, content_type = "application/scim+json"),
    responses(
        (status = 200, description = "The user as stored", body = Object, content_type = "application/scim+json"),
        ScimInvalidReplacement, ScimLastMainUserDemoted, ScimUserChanged,
    )
)]
#[put("/scim/v2/Users/{id}")]
pub async fn replace_user(
    request: HttpRequest,
    state: web::Data<AppState>,
    caller: ScimCaller,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let id = user_id(&id)?;
    let expected = if_match(&request)?;
    let body = json_body(&body)?;
    let row = state
        .act(caller.credential(), move |conn, caller, now| {
            use_cases::replace(conn, &caller.actor, &id, expected, &body, now)
        })
        .await?;
    Ok(user_response(
        StatusCode::OK,
        &use_cases::resource(&row, &base_url(&state)),
    ))
}

/// Change a user by PatchOp (Entra's way). Op names in any case, booleans as strings, value
/// filters in paths (`phoneNumbers[type eq "work"].value`).
#[utoipa::path(
    tag = "scim",
    operation_id = "scim_patch_user",
    params(
        ("id" = String, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag (meta.version) read before"),
    ),
    request_body(content = Object, content_type = "application/scim+json"),
    responses(
        (status = 200, description = "The user as stored", body = Object, content_type = "application/scim+json"),
        ScimInvalidPatch, ScimLastMainUserDemoted, ScimUserChanged,
    )
)]
#[patch("/scim/v2/Users/{id}")]
pub async fn patch_user(
    request: HttpRequest,
    state: web::Data<AppState>,
    caller: ScimCaller,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let id = user_id(&id)?;
    let expected = if_match(&request)?;
    let operations = use_cases::parse_patch(&json_body(&body)?)?;
    let row = state
        .act(caller.credential(), move |conn, caller, now| {
            use_cases::patch(conn, &caller.actor, &id, expected, &operations, now)
        })
        .await?;
    Ok(user_response(
        StatusCode::OK,
        &use_cases::resource(&row, &base_url(&state)),
    ))
}

/// Delete a user: their personal data leaves the system, as `DELETE /users/{id}` does. The
/// last active main user cannot be deleted (409).
#[utoipa::path(
    tag = "scim",
    operation_id = "scim_delete_user",
    params(
        ("id" = String, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag (meta.version) read before"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        ScimNoSuchUser, ScimLastMainUser,
    )
)]
#[delete("/scim/v2/Users/{id}")]
pub async fn delete_user(
    request: HttpRequest,
    state: web::Data<AppState>,
    caller: ScimCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = user_id(&id)?;
    let expected = if_match(&request)?;
    state
        .act(caller.credential(), move |conn, caller, now| {
            use_cases::delete(conn, &caller.actor, &id, expected, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An error as SCIM clients read it (RFC 7644 §3.12).
#[derive(Debug, Serialize, ToSchema)]
pub struct ScimError {
    /// `["urn:ietf:params:scim:api:messages:2.0:Error"]`.
    pub schemas: Vec<String>,
    /// The HTTP status, as a string.
    #[schema(example = "409")]
    pub status: String,
    /// `invalidFilter`, `invalidPath`, `noTarget`, `invalidValue`, `mutability`,
    /// `invalidSyntax`, `uniqueness` or `tooMany`, where one applies.
    #[serde(rename = "scimType", skip_serializing_if = "Option::is_none")]
    #[schema(rename = "scimType")]
    pub scim_type: Option<String>,
    pub detail: String,
}

/// In the document, the errors under `/scim/v2` (the shared ones included) are SCIM error
/// bodies, as [`errors_in_scim_form`] makes them.
pub fn document_scim_errors(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, RefOr};
    let components = openapi.components.get_or_insert_with(Default::default);
    components.schemas.insert("ScimError".into(), ScimError::schema());
    for (template, item) in openapi.paths.paths.iter_mut() {
        if !template.starts_with(PREFIX) {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in operation.responses.responses.iter_mut() {
                let RefOr::T(response) = response else { continue };
                let is_error = status.starts_with('4') || status.starts_with('5');
                if response.content.shift_remove(PROBLEM_CONTENT_TYPE).is_some()
                    || (is_error && response.content.contains_key(SCIM_CONTENT_TYPE))
                {
                    response.content.insert(
                        SCIM_CONTENT_TYPE.to_string(),
                        RefOr::T(
                            ContentBuilder::new()
                                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ScimError"))))
                                .build(),
                        ),
                    );
                }
            }
        }
    }
}

/// Whether a request path is under `/scim/v2` as the router reads it (decoded, with repeated
/// slashes as one).
fn is_under_scim(path: &str) -> bool {
    let path = decoded_path(path);
    let mut segments = path.split('/').filter(|segment| !segment.is_empty());
    segments.next() == Some("scim") && segments.next() == Some("v2")
}

/// The `scimType` of a refusal, where RFC 7644 §3.12 names one.
fn scim_type(code: &str) -> Option<&'static str> {
    Some(match ErrorCode::from_key(code)? {
        ErrorCode::InvalidFilter => "invalidFilter",
        ErrorCode::InvalidPatchPath => "invalidPath",
        ErrorCode::PatchNoTarget => "noTarget",
        ErrorCode::InvalidAttributeValue | ErrorCode::ValidationFailed | ErrorCode::InvalidBody => "invalidValue",
        ErrorCode::InvalidQuery | ErrorCode::InvalidHeader | ErrorCode::InvalidPathParameter => "invalidValue",
        ErrorCode::AttributeImmutable | ErrorCode::EmailImmutable => "mutability",
        ErrorCode::InvalidScimRequest | ErrorCode::MalformedJson => "invalidSyntax",
        ErrorCode::EmailTaken | ErrorCode::ExternalIdTaken => "uniqueness",
        ErrorCode::ListTooLarge => "tooMany",
        _ => return None,
    })
}

/// Middleware: under `/scim/v2`, every problem document becomes a SCIM error body (RFC 7644
/// §3.12) with the same status, except that invalid input is 400 as SCIM has it, not 422. The
/// headers that matter to a client (`Retry-After`, `Allow`) stay.
pub async fn errors_in_scim_form(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !is_under_scim(request.path()) {
        return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
    }
    // The middleware inside answer their refusals as responses, not errors, so that they
    // arrive here to be rewritten (an error would pass by: the request cannot be kept for it,
    // as the router needs it whole).
    let response = next.call(request).await?.map_into_boxed_body();
    let content_type = response.headers().get(CONTENT_TYPE).map(|v| v.as_bytes().to_vec());
    let is_scim = content_type
        .as_deref()
        .is_some_and(|v| v.starts_with(SCIM_CONTENT_TYPE.as_bytes()));
    if response.status().as_u16() < 400 || is_scim {
        return Ok(response);
    }
    // A problem document (ours), or an error actix rendered itself (a body over the limit as
    // text): either way a SCIM error body with the same status.
    let is_problem = content_type.is_some_and(|v| v.starts_with(PROBLEM_CONTENT_TYPE.as_bytes()));
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let problem: Value = match (is_problem, to_bytes(body).await) {
        (true, Ok(bytes)) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let status = match head.status() {
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::BAD_REQUEST,
        status => status,
    };
    let mut body = json!({
        "schemas": [ERROR_URN],
        "status": status.as_u16().to_string(),
        "detail": problem["detail"].as_str().unwrap_or_else(|| status.canonical_reason().unwrap_or("Error")),
    });
    if let Some(kind) = problem["code"].as_str().and_then(scim_type) {
        body["scimType"] = kind.into();
    }
    let mut scim_response = scim(status, &body);
    for name in [
        header::RETRY_AFTER,
        header::ALLOW,
        header::HeaderName::from_static("x-request-id"),
    ] {
        if let Some(value) = head.headers().get(&name) {
            scim_response.headers_mut().insert(name, value.clone());
        }
    }
    Ok(ServiceResponse::new(request, scim_response))
}
