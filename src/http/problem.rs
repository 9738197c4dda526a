//! The mapping of the application's errors to `application/problem+json` (RFC 9457): each
//! code's status and its English and Dutch texts, each field's message, and the headers
//! (`Retry-After`, `Allow`).
//!
//! The error itself, and the policy of what becomes which error, is `crate::error`. Internal
//! errors are logged here with the request id and answered without their cause.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use super::context::{Language, RequestContext};
use crate::domain::violation::ViolationKind;
pub use crate::error::{AppError, ErrorCode};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The fixed texts of one code.
struct ProblemText {
    status: StatusCode,
    title: [&'static str; 2],
    detail: [&'static str; 2],
}

/// The status and the texts of each code.
fn text(code: ErrorCode) -> ProblemText {
    use ErrorCode::*;
    let (status, title, detail) = match code {
        MalformedJson => (
            StatusCode::BAD_REQUEST,
            ["Malformed JSON", "Ongeldige JSON"],
            [
                "The request body is not valid JSON.",
                "De inhoud van het verzoek is geen geldige JSON.",
            ],
        ),
        InvalidBody => (
            StatusCode::UNPROCESSABLE_ENTITY,
            ["Invalid request body", "Ongeldige inhoud van het verzoek"],
            [
                "The request body does not have the documented shape.",
                "De inhoud van het verzoek heeft niet de gedocumenteerde vorm.",
            ],
        ),
        UnsupportedMediaType => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ["Unsupported media type", "Niet-ondersteund mediatype"],
            [
                "Send the body as application/json.",
                "Stuur de inhoud als application/json.",
            ],
        ),
        PayloadTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            ["Request body too large", "Verzoek te groot"],
            [
                "The request body exceeds the allowed size.",
                "De inhoud van het verzoek is groter dan toegestaan.",
            ],
        ),
        InvalidHeader => (
            StatusCode::BAD_REQUEST,
            ["Invalid header", "Ongeldige header"],
            [
                "A request header has the wrong format.",
                "Een header van het verzoek heeft een verkeerd formaat.",
            ],
        ),
        HeadersTooLarge => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ["Request headers too large", "Verzoekheaders te groot"],
            [
                "The request headers together exceed 32 kB.",
                "De headers van het verzoek zijn samen groter dan 32 kB.",
            ],
        ),
        InvalidPathParameter => (
            StatusCode::BAD_REQUEST,
            ["Invalid path parameter", "Ongeldige parameter in het pad"],
            [
                "A parameter in the path has the wrong format (ids are UUIDs).",
                "Een parameter in het pad heeft een verkeerd formaat (id's zijn UUID's).",
            ],
        ),
        InvalidQuery => (
            StatusCode::BAD_REQUEST,
            ["Invalid query parameter", "Ongeldige queryparameter"],
            [
                "A query parameter has the wrong format.",
                "Een queryparameter heeft een verkeerd formaat.",
            ],
        ),
        ValidationFailed => (
            StatusCode::UNPROCESSABLE_ENTITY,
            ["Validation failed", "Validatie mislukt"],
            [
                "One or more fields are invalid; see errors.",
                "Een of meer velden zijn ongeldig; zie errors.",
            ],
        ),
        NotFound => (
            StatusCode::NOT_FOUND,
            ["Not found", "Niet gevonden"],
            [
                "The requested resource does not exist.",
                "De gevraagde gegevens bestaan niet.",
            ],
        ),
        MethodNotAllowed => (
            StatusCode::METHOD_NOT_ALLOWED,
            ["Method not allowed", "Methode niet toegestaan"],
            [
                "This path does not support this HTTP method; see the Allow header.",
                "Dit pad ondersteunt deze HTTP-methode niet; zie de Allow-header.",
            ],
        ),
        Unauthorized => (
            StatusCode::UNAUTHORIZED,
            ["Not signed in", "Niet aangemeld"],
            [
                "A valid bearer token is required. Sign in with POST /auth/login.",
                "Een geldig bearer-token is nodig. Meld u aan met POST /auth/login.",
            ],
        ),
        Forbidden => (
            StatusCode::FORBIDDEN,
            ["Forbidden", "Geen toegang"],
            ["Your role may not do this.", "Uw rol mag dit niet doen."],
        ),
        PreconditionFailed => (
            StatusCode::PRECONDITION_FAILED,
            ["Precondition failed", "Voorwaarde niet vervuld"],
            [
                "The resource changed since you read it (If-Match). Read it again and retry.",
                "De gegevens zijn gewijzigd sinds u ze las (If-Match). Lees ze opnieuw en probeer het nog eens.",
            ],
        ),
        TooManyRequests => (
            StatusCode::TOO_MANY_REQUESTS,
            ["Too many requests", "Te veel verzoeken"],
            [
                "Wait before trying again; see Retry-After.",
                "Wacht voordat u het opnieuw probeert; zie Retry-After.",
            ],
        ),
        ServiceUnavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            ["Service unavailable", "Dienst niet beschikbaar"],
            [
                "The database cannot be reached right now. Try again shortly.",
                "De database is op dit moment niet bereikbaar. Probeer het zo opnieuw.",
            ],
        ),
        Internal => (
            StatusCode::INTERNAL_SERVER_ERROR,
            ["Internal error", "Interne fout"],
            [
                "Something went wrong on our side. Quote the request id when you contact support.",
                "Er ging bij ons iets mis. Noem het request-id als u contact opneemt met support.",
            ],
        ),
        InvalidCredentials => (
            StatusCode::UNAUTHORIZED,
            ["Sign-in failed", "Aanmelden mislukt"],
            [
                "The email address or password is incorrect.",
                "Het e-mailadres of wachtwoord is onjuist.",
            ],
        ),
        EmailTaken => (
            StatusCode::CONFLICT,
            ["Email address already in use", "E-mailadres al in gebruik"],
            [
                "This user already exists in the system. The same email address cannot be used twice.",
                "Deze gebruiker bestaat al binnen het systeem. U kunt niet tweemaal hetzelfde e-mail adres gebruiken.",
            ],
        ),
        EmailImmutable => (
            StatusCode::UNPROCESSABLE_ENTITY,
            ["Email address cannot change", "E-mailadres kan niet wijzigen"],
            [
                "A new email address always needs a new user.",
                "Bij een nieuw emailadres moet er altijd een nieuwe gebruiker worden aangemaakt.",
            ],
        ),
        LastMainUser => (
            StatusCode::CONFLICT,
            ["Last main user", "Laatste hoofdgebruiker"],
            [
                "A corporation keeps at least one active main user; make someone else main user first.",
                "Een corporatie houdt minstens één actieve hoofdgebruiker; maak eerst iemand anders hoofdgebruiker.",
            ],
        ),
        CannotDeleteSelf => (
            StatusCode::CONFLICT,
            ["Cannot delete yourself", "U kunt uzelf niet verwijderen"],
            [
                "Ask another main user or KWH to remove your account.",
                "Vraag een andere hoofdgebruiker of KWH uw account te verwijderen.",
            ],
        ),
        CannotDeactivateSelf => (
            StatusCode::CONFLICT,
            ["Cannot deactivate yourself", "U kunt uzelf niet deactiveren"],
            [
                "Ask another main user or KWH to deactivate your account.",
                "Vraag een andere hoofdgebruiker of KWH uw account te deactiveren.",
            ],
        ),
        UserDeactivated => (
            StatusCode::CONFLICT,
            ["User deactivated", "Gebruiker gedeactiveerd"],
            [
                "This user is deactivated and cannot be invited; reactivate them first (PATCH with \"active\": true).",
                "Deze gebruiker is gedeactiveerd en kan niet worden uitgenodigd; activeer de gebruiker eerst weer (PATCH met \"active\": true).",
            ],
        ),
        CorporationExists => (
            StatusCode::CONFLICT,
            ["Corporation code already in use", "Corporatiecode al in gebruik"],
            [
                "A corporation with this code exists already.",
                "Er bestaat al een corporatie met deze code.",
            ],
        ),
        InvitationInvalid => (
            StatusCode::NOT_FOUND,
            ["Invitation link not valid", "Uitnodigingslink ongeldig"],
            [
                "This invitation link is not valid. Check that the whole link was copied.",
                "Deze uitnodigingslink is niet geldig. Controleer of de hele link is gekopieerd.",
            ],
        ),
        InvitationExpired => (
            StatusCode::GONE,
            ["Invitation expired", "Uitnodiging verlopen"],
            [
                "This invitation has expired. Ask your main user to send a new one.",
                "Deze uitnodiging is verlopen. Vraag uw hoofdgebruiker om een nieuwe.",
            ],
        ),
        InvitationUsed => (
            StatusCode::GONE,
            ["Invitation already used", "Uitnodiging al gebruikt"],
            [
                "This invitation was used already. Sign in, or reset your password.",
                "Deze uitnodiging is al gebruikt. Meld u aan, of herstel uw wachtwoord.",
            ],
        ),
        InvitationRevoked => (
            StatusCode::GONE,
            ["Invitation replaced", "Uitnodiging vervangen"],
            [
                "A newer invitation replaced this one; use the link in the latest email.",
                "Een nieuwere uitnodiging heeft deze vervangen; gebruik de link in de laatste e-mail.",
            ],
        ),
        InvitationAlreadyAccepted => (
            StatusCode::CONFLICT,
            ["Invitation already accepted", "Uitnodiging al geaccepteerd"],
            [
                "This user accepted an invitation already; they can reset their password.",
                "Deze gebruiker heeft een uitnodiging al geaccepteerd; die kan het wachtwoord herstellen.",
            ],
        ),
        ResetTokenInvalid => (
            StatusCode::NOT_FOUND,
            ["Reset link not valid", "Herstellink ongeldig"],
            [
                "This password reset link is not valid. Request a new one.",
                "Deze link om uw wachtwoord te herstellen is niet geldig. Vraag een nieuwe aan.",
            ],
        ),
        ResetTokenExpired => (
            StatusCode::GONE,
            ["Reset link expired", "Herstellink verlopen"],
            [
                "This password reset link has expired. Request a new one.",
                "Deze herstellink is verlopen. Vraag een nieuwe aan.",
            ],
        ),
        ResetTokenUsed => (
            StatusCode::GONE,
            ["Reset link already used", "Herstellink al gebruikt"],
            [
                "This password reset link was used already.",
                "Deze herstellink is al gebruikt.",
            ],
        ),
        ExcelDownloadRequiresSingleContractor => (
            StatusCode::UNPROCESSABLE_ENTITY,
            ["Excel only for a single contractor", "Excel alleen voor één aannemer"],
            [
                "Excel download is allowed only when the contractor sees only its own results: no partner names, and at least one own name.",
                "Excel Download mag alleen als de aannemer alleen zijn eigen resultaten ziet: geen andere aannemers, en minstens één eigen notatie.",
            ],
        ),
        InvalidTransition => (
            StatusCode::CONFLICT,
            ["Request already decided", "Aanvraag al afgehandeld"],
            [
                "Only a pending request can be approved, rejected or withdrawn.",
                "Alleen een openstaande aanvraag kan worden goedgekeurd, afgewezen of ingetrokken.",
            ],
        ),
        ApprovalStale => (
            StatusCode::CONFLICT,
            ["Settings changed meanwhile", "Instellingen intussen gewijzigd"],
            [
                "The settings in force changed since this request was made; it must be requested again.",
                "De geldende instellingen zijn gewijzigd sinds deze aanvraag; vraag de wijziging opnieuw aan.",
            ],
        ),
        CannotReviewOwnRequest => (
            StatusCode::FORBIDDEN,
            ["Own request", "Eigen aanvraag"],
            [
                "Another KWH employee must review a change you requested.",
                "Een andere KWH-medewerker moet een door u aangevraagde wijziging beoordelen.",
            ],
        ),
        InvalidIdempotencyKey => (
            StatusCode::BAD_REQUEST,
            ["Invalid Idempotency-Key", "Ongeldige Idempotency-Key"],
            [
                "The Idempotency-Key header must be 1 to 255 visible characters.",
                "De Idempotency-Key-header moet 1 tot 255 zichtbare tekens bevatten.",
            ],
        ),
        IdempotencyKeyReused => (
            StatusCode::UNPROCESSABLE_ENTITY,
            ["Idempotency-Key reused", "Idempotency-Key hergebruikt"],
            [
                "This Idempotency-Key was used for a different request; use a new key.",
                "Deze Idempotency-Key is gebruikt voor een ander verzoek; gebruik een nieuwe sleutel.",
            ],
        ),
        RequestInProgress => (
            StatusCode::CONFLICT,
            ["Request in progress", "Verzoek wordt verwerkt"],
            [
                "A request with this Idempotency-Key is still being handled; retry shortly.",
                "Een verzoek met deze Idempotency-Key wordt nog verwerkt; probeer het zo opnieuw.",
            ],
        ),
        InsufficientScope => (
            StatusCode::FORBIDDEN,
            ["Token scope too narrow", "Token heeft te weinig rechten"],
            [
                "This service token's scope does not include this operation (see the operation's service_token scopes).",
                "Het bereik van dit servicetoken omvat deze bewerking niet (zie de service_token-scopes van de bewerking).",
            ],
        ),
        OwnNameTaken => (
            StatusCode::UNPROCESSABLE_ENTITY,
            [
                "Own name belongs to another contractor",
                "Eigen notatie hoort bij een andere aannemer",
            ],
            [
                "An own name is another contractor's own name (in force or requested); one name belongs to one contractor.",
                "Een eigen notatie is al de eigen notatie van een andere aannemer (geldend of aangevraagd); een notatie hoort bij één aannemer.",
            ],
        ),
        ExternalIdTaken => (
            StatusCode::CONFLICT,
            ["External id already in use", "Extern id al in gebruik"],
            [
                "Another user of this corporation has this external_id.",
                "Een andere gebruiker van deze corporatie heeft dit external_id.",
            ],
        ),
        CorporationLimitReached => (
            StatusCode::CONFLICT,
            ["Too many corporations", "Te veel corporaties"],
            [
                "The system holds at most 1,000 corporations.",
                "Het systeem bevat maximaal 1.000 corporaties.",
            ],
        ),
        ContractorLimitReached => (
            StatusCode::CONFLICT,
            ["Too many contractors", "Te veel aannemers"],
            [
                "A corporation has at most 500 contractors; delete one you no longer work with.",
                "Een corporatie heeft maximaal 500 aannemers; verwijder er een waarmee u niet meer werkt.",
            ],
        ),
        CatalogLimitReached => (
            StatusCode::CONFLICT,
            ["Too many contractor names", "Te veel aannemersnamen"],
            [
                "A corporation's catalog holds at most 5,000 names; these new names do not fit.",
                "De lijst van een corporatie bevat maximaal 5.000 namen; deze nieuwe namen passen er niet bij.",
            ],
        ),
        ApiTokenLimitReached => (
            StatusCode::CONFLICT,
            ["Too many service tokens", "Te veel servicetokens"],
            [
                "A person has at most 25 service tokens in use; revoke one first.",
                "Een persoon heeft maximaal 25 servicetokens in gebruik; trek er eerst een in.",
            ],
        ),
        InvalidFilter => (
            StatusCode::BAD_REQUEST,
            ["Invalid filter", "Ongeldig filter"],
            [
                "The SCIM filter is not one this service understands.",
                "Het SCIM-filter is niet een filter dat deze dienst begrijpt.",
            ],
        ),
        InvalidPatchPath => (
            StatusCode::BAD_REQUEST,
            ["Invalid path", "Ongeldig pad"],
            [
                "A PATCH operation's path names no attribute of a user.",
                "Het pad van een PATCH-bewerking noemt geen attribuut van een gebruiker.",
            ],
        ),
        PatchNoTarget => (
            StatusCode::BAD_REQUEST,
            ["No target", "Geen doel"],
            [
                "A PATCH operation's path or filter matched nothing.",
                "Het pad of filter van een PATCH-bewerking trof niets.",
            ],
        ),
        InvalidAttributeValue => (
            StatusCode::BAD_REQUEST,
            ["Invalid attribute value", "Ongeldige attribuutwaarde"],
            [
                "An attribute has a value a user cannot have.",
                "Een attribuut heeft een waarde die een gebruiker niet kan hebben.",
            ],
        ),
        AttributeImmutable => (
            StatusCode::BAD_REQUEST,
            ["Attribute cannot change", "Attribuut kan niet wijzigen"],
            [
                "The request changes an attribute that cannot change: the userName (the email address, rule 2), or one the service sets (id, meta).",
                "Het verzoek wijzigt een attribuut dat niet kan wijzigen: de userName (het e-mailadres, regel 2), of een dat de dienst zet (id, meta).",
            ],
        ),
        InvalidScimRequest => (
            StatusCode::BAD_REQUEST,
            ["Invalid SCIM request", "Ongeldig SCIM-verzoek"],
            [
                "The request body is not a SCIM request of this kind.",
                "De inhoud van het verzoek is geen SCIM-verzoek van deze soort.",
            ],
        ),
        ListTooLarge => (
            StatusCode::UNPROCESSABLE_ENTITY,
            ["List too large", "Lijst te groot"],
            [
                "More rows match than one answer holds; narrow the list (e.g. with corporation_code).",
                "Er voldoen meer rijen dan één antwoord bevat; beperk de lijst (bijv. met corporation_code).",
            ],
        ),
        ContractorExists => (
            StatusCode::CONFLICT,
            ["Contractor already exists", "Aannemer bestaat al"],
            [
                "This corporation has a contractor with this name already.",
                "Deze corporatie heeft al een aannemer met deze naam.",
            ],
        ),
        ResetTokenRevoked => (
            StatusCode::GONE,
            ["Reset link replaced", "Herstellink vervangen"],
            [
                "A newer reset link replaced this one; use the link in the latest email.",
                "Een nieuwere herstellink heeft deze vervangen; gebruik de link in de laatste e-mail.",
            ],
        ),
    };
    ProblemText { status, title, detail }
}

/// The HTTP status of a code.
pub fn status(code: ErrorCode) -> StatusCode {
    text(code).status
}

fn pick(texts: [&'static str; 2], language: Language) -> &'static str {
    match language {
        Language::English => texts[0],
        Language::Dutch => texts[1],
    }
}

/// The problem as the client would receive it for this request (language, request id).
pub fn to_problem(error: &AppError) -> Problem {
    problem(error, &RequestContext::current())
}

fn problem(error: &AppError, context: &RequestContext) -> Problem {
    let code = error.code();
    let text = text(code);
    let language = context.language;
    let mut detail = pick(text.detail, language).to_string();
    if let Some(reason) = error.reason() {
        detail.push(' ');
        detail.push_str(reason);
    }
    Problem {
        problem_type: format!("urn:mijnkwh:problem:{}", code.key()),
        title: pick(text.title, language).to_string(),
        status: text.status.as_u16(),
        detail,
        code: code.key().to_string(),
        errors: error
            .violations()
            .iter()
            .map(|violation| ProblemFieldError {
                field: violation.field.clone(),
                code: violation.kind.code().to_string(),
                message: pick_owned(violation_message(violation.kind), language),
            })
            .collect(),
        request_id: context.request_id.clone(),
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        status(self.code())
    }

    fn error_response(&self) -> HttpResponse {
        let context = RequestContext::current();
        if let Some(internal) = self.internal_cause() {
            tracing::error!(request_id = context.request_id.as_deref(), error = %format!("{internal:#}"), "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        if let Some(seconds) = self.retry_after_secs() {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(problem(self, &context))
    }
}

/// actix's blocking pool refused or lost a task: a fault of this process.
impl From<actix_web::error::BlockingError> for AppError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        AppError::internal(anyhow::anyhow!("blocking task failed: {error}"))
    }
}

/// 405 with the `Allow` header naming the methods the path has.
pub fn method_not_allowed(allowed: &[&str]) -> HttpResponse {
    let mut response = AppError::new(ErrorCode::MethodNotAllowed).error_response();
    if let Ok(allow) = HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

/// An error as the client receives it (RFC 9457 problem details).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:mijnkwh:problem:validation_failed",
    "title": "Validation failed",
    "status": 422,
    "detail": "One or more fields are invalid; see errors.",
    "code": "validation_failed",
    "errors": [{"field": "email", "code": "invalid_email", "message": "Not a valid email address."}],
    "request_id": "7f0c5a9e-2b7a-4a52-8c55-1d2b8a4b6e10"
}))]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:mijnkwh:problem:` followed by `code`.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub problem_type: String,
    /// Short summary, in English or Dutch (`Accept-Language: nl`).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for a person.
    pub detail: String,
    /// Stable machine-readable code to branch on.
    pub code: String,
    /// For validation problems: each invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemFieldError>,
    /// The id of the request, also in the `X-Request-Id` header; quote it to support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemFieldError {
    /// The field's name in the request (dotted for nested fields).
    pub field: String,
    /// Stable machine-readable code.
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// A field's message in both languages: (English, Dutch).
type Localized = (String, String);

fn pick_owned((en, nl): Localized, language: Language) -> String {
    match language {
        Language::English => en,
        Language::Dutch => nl,
    }
}

fn localized(en: impl Into<String>, nl: impl Into<String>) -> Localized {
    (en.into(), nl.into())
}

fn violation_message(kind: ViolationKind) -> Localized {
    use ViolationKind::*;
    match kind {
        Required => localized("This field is required.", "Dit veld is verplicht."),
        TooLong { max } => localized(format!("At most {max} characters."), format!("Maximaal {max} tekens.")),
        TooShort { min } => localized(format!("At least {min} characters."), format!("Minimaal {min} tekens.")),
        TooMany { max } => localized(format!("At most {max} entries."), format!("Maximaal {max} items.")),
        InvalidEmail => localized("Not a valid email address.", "Geen geldig e-mailadres."),
        InvalidCorporationCode => localized(
            "2 to 20 letters, digits, - or _ (e.g. KWH042).",
            "2 tot 20 letters, cijfers, - of _ (bijv. KWH042).",
        ),
        UnknownValue => localized(
            "Unknown value; see the documented values.",
            "Onbekende waarde; zie de gedocumenteerde waarden.",
        ),
        Duplicate => localized(
            "This value appears more than once.",
            "Deze waarde komt meer dan eens voor.",
        ),
        MustNotBeEmpty => localized("Choose at least one.", "Kies er minstens één."),
        NotAllowedForUserType => localized(
            "Not allowed for this type of user.",
            "Niet toegestaan voor dit type gebruiker.",
        ),
        ContradictsUserType => localized("Does not fit this type of user.", "Past niet bij dit type gebruiker."),
        EmailImmutable => localized(
            "A new email address always needs a new user.",
            "Bij een nieuw emailadres moet er altijd een nieuwe gebruiker worden aangemaakt.",
        ),
        Immutable => localized("This field cannot be changed.", "Dit veld kan niet worden gewijzigd."),
        NotAllowed => localized(
            "This value is not allowed here.",
            "Deze waarde is hier niet toegestaan.",
        ),
        PartNotActive => localized(
            "The corporation does not run this survey part.",
            "De corporatie voert dit onderdeel niet uit.",
        ),
        ExcelRequiresSingleContractor => localized(
            "Only for a contractor that sees only its own results.",
            "Alleen voor een aannemer die alleen zijn eigen resultaten ziet.",
        ),
        UnknownReference => localized("No such item exists.", "Dit bestaat niet."),
    }
}

// What actix answers by itself, turned into problems with stable codes.

pub fn json_error(error: JsonPayloadError, _request: &HttpRequest) -> actix_web::Error {
    let api_error = match &error {
        JsonPayloadError::ContentType => AppError::new(ErrorCode::UnsupportedMediaType),
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            AppError::new(ErrorCode::PayloadTooLarge)
        }
        JsonPayloadError::Deserialize(inner) if inner.is_data() => {
            AppError::new(ErrorCode::InvalidBody).with_reason(inner.to_string())
        }
        JsonPayloadError::Deserialize(inner) => AppError::new(ErrorCode::MalformedJson).with_reason(inner.to_string()),
        JsonPayloadError::Payload(actix_web::error::PayloadError::Overflow) => {
            AppError::new(ErrorCode::PayloadTooLarge)
        }
        other => AppError::new(ErrorCode::MalformedJson).with_reason(other.to_string()),
    };
    api_error.into()
}

/// A path, query or body extractor's refusal, kept until the caller is known: a use case
/// resolves its caller itself, and an ended credential is answered 401 before malformed input
/// is answered 400 (the handler takes `Result<web::Path<_>, actix_web::Error>` and applies `?`
/// to this after the caller resolved).
pub fn after_caller<T>(extracted: Result<T, actix_web::Error>) -> Result<T, AppError> {
    extracted.map_err(|error| match error.as_error::<AppError>() {
        Some(refusal) => refusal.answer_copy(),
        None => AppError::internal(anyhow::anyhow!("an extractor refused with a foreign error: {error}")),
    })
}

pub fn path_error(error: PathError, _request: &HttpRequest) -> actix_web::Error {
    AppError::new(ErrorCode::InvalidPathParameter)
        .with_reason(error.to_string())
        .into()
}

pub fn query_error(error: QueryPayloadError, _request: &HttpRequest) -> actix_web::Error {
    AppError::new(ErrorCode::InvalidQuery)
        .with_reason(error.to_string())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_text_in_both_languages() {
        for &code in ErrorCode::ALL {
            let text = text(code);
            assert_ne!(text.title[0], text.title[1], "{code:?} title untranslated");
            assert_ne!(text.detail[0], text.detail[1], "{code:?} detail untranslated");
        }
    }

    #[test]
    fn internal_causes_stay_out_of_the_body() {
        let error = AppError::internal(anyhow::anyhow!("password=hunter2 connection refused"));
        let body = serde_json::to_string(&problem(&error, &RequestContext::default())).unwrap();
        assert!(!body.contains("hunter2"));
        assert!(body.contains("internal_error"));
    }
}
