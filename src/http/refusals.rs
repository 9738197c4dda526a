//! The refusals the operations document, each written once. An operation lists those it can
//! answer beside its success (`responses((status = 200, ..), OnlyManagers, NoSuchContractor)`);
//! each is a problem+json body with its stable code in the description. Under `/scim/v2` the
//! same refusals are shown as SCIM error bodies ([`super::scim::document_scim_errors`]).
//!
//! What every operation of a shape can answer (401, 431, 500, the body's and the parameters'
//! 400s, Idempotency-Key's) is added by [`super::openapi::SharedResponses`], not listed here.

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::RefOr;
use utoipa::openapi::response::Response;

use super::openapi::problem_response;

/// Declares each refusal as a type the `responses(..)` of `#[utoipa::path]` takes.
macro_rules! refusals {
    ($($name:ident = $status:literal, $description:literal;)*) => {$(
        #[doc = $description]
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                BTreeMap::from([($status.to_string(), problem_response($description).into())])
            }
        }
    )*};
}

refusals! {
    WrongCredentials = 401, "Wrong email or password (`invalid_credentials`)";
    OnlyManagers = 403, "Only main users and KWH staff (`forbidden`)";
    OnlyManagersInPerson = 403, "Only main users and KWH staff, signed in themselves (`forbidden`)";
    OnlyKwhStaff = 403, "Only KWH staff (`forbidden`)";
    OnlyReviewers = 403, "Not KWH staff, or the requester (`forbidden`, `cannot_review_own_request`)";
    OnlyProvisioners = 403, "Only main users, KWH staff and provision tokens (`forbidden`, `insufficient_scope`)";
    MayNotManageUsers = 403, "The caller's role may not manage users (`forbidden`)";
    NoSuchUser = 404, "No such user in the caller's scope (`not_found`)";
    NoSuchContractor = 404, "No such contractor in the caller's scope (`not_found`)";
    NoSuchCorporation = 404, "No such corporation (`not_found`)";
    NoSuchCorporationInScope = 404, "No such corporation in the caller's scope (`not_found`)";
    NoSuchRequest = 404, "No such request (`not_found`)";
    NoSuchRequestInScope = 404, "No such request in the caller's scope (`not_found`)";
    NoSuchTokenOfYours = 404, "No such token of yours (`not_found`)";
    OtherCorporationNamed = 404, "A main user named another corporation, whether or not it exists (`not_found`, rule 4)";
    OtherCorporationForScim = 404, "A main user named another corporation for a `scim` token (`not_found`, rule 4)";
    UnknownInvitationLink = 404, "Unknown link (`invitation_invalid`)";
    UnknownResetLink = 404, "Unknown link (`reset_token_invalid`)";
    EmailTaken = 409, "The email address is in use (`email_taken`)";
    LastMainUserOrSelfDeactivated = 409, "The last active main user would be demoted or deactivated (`last_main_user`), or the caller would deactivate themselves (`cannot_deactivate_self`)";
    LastMainUserOrSelfDeleted = 409, "The last main user, or oneself (`last_main_user`, `cannot_delete_self`)";
    InvitationNotNeeded = 409, "The user accepted an invitation already (`invitation_already_accepted`), or is deactivated (`user_deactivated`: reactivate them first)";
    ContractorNameTaken = 409, "The name exists in this corporation (`contractor_exists`)";
    ContractorNameTakenOrLimit = 409, "The name exists in this corporation (`contractor_exists`), or it has 500 contractors (`contractor_limit_reached`)";
    CorporationTakenOrLimit = 409, "The code is in use (`corporation_exists`), or there are 1,000 corporations (`corporation_limit_reached`)";
    CatalogLimitReached = 409, "The new names would take the catalog past 5,000 (`catalog_limit_reached`); nothing is recorded";
    TokenLimitReached = 409, "25 tokens are in use already (`api_token_limit_reached`): revoke one";
    NotPending = 409, "Not pending (`invalid_transition`)";
    NotPendingOrStale = 409, "Not pending, or stale (`invalid_transition`, `approval_stale`)";
    InvitationLinkEnded = 410, "`invitation_expired`, `invitation_used` or `invitation_revoked`";
    ResetLinkEnded = 410, "`reset_token_expired`, `reset_token_used` or `reset_token_revoked`";
    UserChanged = 412, "The user changed since it was read (`precondition_failed`)";
    ListTooLarge = 422, "More than 1,000 match (`list_too_large`): filter by `corporation_code`";
    ApprovalNoLongerValid = 422, "No longer valid (`validation_failed`, `excel_download_requires_single_contractor`)";
    TooManyFailedSignIns = 429, "Too many failed attempts (`too_many_requests`)";
    TooManyInvitations = 429, "Too many invitations today (`too_many_requests`)";
    DatabaseUnreachable = 503, "The database cannot be reached (`service_unavailable`)";
    // Under /scim/v2, in the words of SCIM (`scimType` where one applies).
    ScimInvalidFilter = 400, "An invalid filter (`invalidFilter`) or one matching too many users to evaluate (`tooMany`)";
    ScimInvalidPatch = 400, "An invalid operation (`invalidSyntax`, `invalidPath`, `noTarget`, `invalidValue`, `mutability`)";
    ScimInvalidReplacement = 400, "An invalid value, or a changed userName (`mutability`)";
    ScimNoSuchUser = 404, "No such user in the token's corporation";
    ScimNoSuchResourceType = 404, "No such resource type";
    ScimNoSuchSchema = 404, "No such schema";
    ScimUserNameTaken = 409, "The userName (email address) is in use (`uniqueness`)";
    ScimLastMainUserDemoted = 409, "The last active main user would be demoted or deactivated";
    ScimLastMainUser = 409, "The last active main user";
    ScimUserChanged = 412, "The user changed since it was read";
}
