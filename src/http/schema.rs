//! What the OpenAPI document promises about inputs that `domain/` parses.
//!
//! The domain decides; these only describe, so that a client (or a generated one, or
//! schemathesis) knows before sending what will be refused. The tests below keep them in step
//! with the domain's own keys and rules.

use super::{batch, catalog, pagination};
use crate::domain::{corporation, delivery, report_settings, text, user, user_list};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{KnownFormat, OpenApi, RefOr};

/// Trimmed, not blank, no control characters but tab and line breaks (`domain::text`).
pub const REQUIRED_TEXT: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// No control characters but tab and line breaks; blank means absent (`domain::text`).
pub const OPTIONAL_TEXT: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// 2 to 20 letters, digits, `-` or `_`, any case (`domain::corporation::CorporationCode`).
pub const CORPORATION_CODE: &str = r"^\s*[A-Za-z0-9_-]{2,20}\s*$";

/// A cursor as this service hands it out (URL-safe base64).
pub const CURSOR: &str = r"^[A-Za-z0-9_-]+$";

/// An HTTP token value: visible ASCII, no spaces at either end.
pub const HEADER_TOKEN: &str = r"^[!-~]([ -~]*[!-~])?$";

/// `If-Match`: `*`, an ETag as this service sends it, or its bare version number.
pub const ETAG: &str = r#"^(\*|(W/)?"[0-9]{1,9}"|[0-9]{1,9})$"#;

const NAME: usize = text::MAX_NAME_LENGTH;
const REMARKS: usize = text::MAX_REMARKS_LENGTH;
const PARAMETER: usize = pagination::MAX_TEXT_PARAMETER_LENGTH;

/// A constraint the domain enforces on one input.
#[derive(Clone, Copy)]
pub enum Rule {
    /// Trimmed, not blank, at most this many characters.
    Text(usize),
    /// At most this many characters; blank means absent.
    OptionalText(usize),
    CorporationCode,
    Email,
    /// A list without repeats, of at least `min` and at most `max` items.
    List {
        min: usize,
        max: Option<usize>,
    },
    /// A list of at most this many items, repeats allowed.
    MaxItems(usize),
    /// A list (repeats allowed) of at most `max_items` texts of at most `max_length` characters.
    TextItems {
        max_items: usize,
        max_length: usize,
    },
}

/// The request bodies' constraints: (component, property, rule).
const BODY_RULES: &[(&str, &str, Rule)] = &[
    ("CreateUserRequest", "email", Rule::Email),
    ("CreateUserRequest", "first_name", Rule::Text(NAME)),
    ("CreateUserRequest", "last_name", Rule::Text(NAME)),
    ("CreateUserRequest", "job_title", Rule::OptionalText(NAME)),
    ("CreateUserRequest", "phone", Rule::OptionalText(NAME)),
    ("CreateUserRequest", "remarks", Rule::OptionalText(REMARKS)),
    ("CreateUserRequest", "external_id", Rule::OptionalText(NAME)),
    ("CreateUserRequest", "corporation_code", Rule::CorporationCode),
    ("CreateUserRequest", "access", Rule::List { min: 1, max: None }),
    (
        "CreateUserRequest",
        "email_notifications",
        Rule::List { min: 0, max: None },
    ),
    ("UpdateUserRequest", "first_name", Rule::Text(NAME)),
    ("UpdateUserRequest", "last_name", Rule::Text(NAME)),
    ("UpdateUserRequest", "job_title", Rule::OptionalText(NAME)),
    ("UpdateUserRequest", "phone", Rule::OptionalText(NAME)),
    ("UpdateUserRequest", "remarks", Rule::OptionalText(REMARKS)),
    ("UpdateUserRequest", "access", Rule::List { min: 1, max: None }),
    (
        "UpdateUserRequest",
        "email_notifications",
        Rule::List { min: 0, max: None },
    ),
    ("CreateApiTokenRequest", "name", Rule::Text(NAME)),
    ("CreateContractorRequest", "name", Rule::Text(NAME)),
    ("CreateContractorRequest", "corporation_code", Rule::CorporationCode),
    ("UpdateContractorRequest", "name", Rule::Text(NAME)),
    ("CreateCorporationRequest", "code", Rule::CorporationCode),
    ("CreateCorporationRequest", "name", Rule::Text(NAME)),
    (
        "CreateCorporationRequest",
        "active_parts",
        Rule::List { min: 0, max: None },
    ),
    ("UpdateCorporationRequest", "name", Rule::Text(NAME)),
    (
        "UpdateCorporationRequest",
        "active_parts",
        Rule::List { min: 0, max: None },
    ),
    (
        "RecordNamesRequest",
        "names",
        Rule::TextItems {
            max_items: catalog::MAX_NAMES_PER_REQUEST,
            max_length: catalog::MAX_NAME_LENGTH,
        },
    ),
    ("RejectRequest", "reason", Rule::Text(REMARKS)),
    ("ReportSettingsBody", "parts", Rule::List { min: 0, max: None }),
    // Names must be in the catalog, which says all there is to say about their text.
    (
        "ReportSettingsBody",
        "own_names",
        Rule::List {
            min: 0,
            max: Some(report_settings::MAX_NAMES_PER_LIST),
        },
    ),
    (
        "ReportSettingsBody",
        "partner_names",
        Rule::List {
            min: 0,
            max: Some(report_settings::MAX_NAMES_PER_LIST),
        },
    ),
    ("BatchRequest", "items", Rule::MaxItems(batch::MAX_ITEMS)),
];

/// Query and path parameters, by name wherever they occur.
const PARAMETER_RULES: &[(&str, Rule)] = &[
    ("corporation_code", Rule::CorporationCode),
    ("code", Rule::CorporationCode),
    ("q", Rule::OptionalText(PARAMETER)),
    ("similar_to", Rule::OptionalText(PARAMETER)),
    ("contractor_id", Rule::OptionalText(PARAMETER)),
    ("target_id", Rule::OptionalText(PARAMETER)),
    ("action", Rule::OptionalText(PARAMETER)),
];

/// Writes the domain's input rules into the document.
pub fn describe_inputs(openapi: &mut OpenApi) {
    if let Some(components) = openapi.components.as_mut() {
        for (component, property, rule) in BODY_RULES {
            let schema = components.schemas.get_mut(*component).and_then(|schema| match schema {
                RefOr::T(Schema::Object(object)) => object.properties.get_mut(*property),
                _ => None,
            });
            match schema {
                Some(RefOr::T(schema)) => apply(schema, *rule),
                _ => panic!("{component}.{property} is not in the document"),
            }
        }
    }
    for item in openapi.paths.paths.values_mut() {
        for operation in operations(item) {
            describe_parameters(operation);
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn describe_parameters(operation: &mut Operation) {
    let is_user_list = operation.operation_id.as_deref() == Some("list_users");
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else { continue };
        let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() else {
            continue;
        };
        match (parameter.parameter_in.clone(), parameter.name.as_str()) {
            (ParameterIn::Header, "If-Match") => {
                schema.schema_type = SchemaType::Type(Type::String);
                schema.pattern = Some(ETAG.into());
            }
            (ParameterIn::Header, "Idempotency-Key") => {
                schema.min_length = Some(1);
                schema.pattern = Some(HEADER_TOKEN.into());
            }
            (ParameterIn::Query, "cursor") if is_user_list => schema.pattern = Some(CURSOR.into()),
            (ParameterIn::Query | ParameterIn::Path, name) => {
                if let Some((_, rule)) = PARAMETER_RULES.iter().find(|(n, _)| *n == name) {
                    apply_to_string(schema, *rule);
                }
            }
            _ => {}
        }
    }
}

fn apply(schema: &mut Schema, rule: Rule) {
    match (schema, rule) {
        (Schema::Object(object), _) => apply_to_string(object, rule),
        (Schema::Array(array), Rule::List { min, max }) => {
            array.unique_items = true;
            array.min_items = (min > 0).then_some(min);
            array.max_items = max;
        }
        (Schema::Array(array), Rule::MaxItems(max)) => array.max_items = Some(max),
        (Schema::Array(array), Rule::TextItems { max_items, max_length }) => {
            array.max_items = Some(max_items);
            if let utoipa::openapi::schema::ArrayItems::RefOrSchema(item) = &mut array.items
                && let RefOr::T(Schema::Object(item)) = item.as_mut()
            {
                apply_to_string(item, Rule::Text(max_length));
            }
        }
        (Schema::OneOf(one_of), rule) => {
            for item in &mut one_of.items {
                if let RefOr::T(schema) = item {
                    apply(schema, rule);
                }
            }
        }
        _ => panic!("no such rule for this kind of schema"),
    }
}

fn apply_to_string(object: &mut utoipa::openapi::schema::Object, rule: Rule) {
    match rule {
        Rule::Text(max) => {
            object.min_length = Some(1);
            object.max_length = Some(max);
            object.pattern = Some(REQUIRED_TEXT.into());
        }
        Rule::OptionalText(max) => {
            object.max_length = Some(max);
            object.pattern = Some(OPTIONAL_TEXT.into());
        }
        Rule::CorporationCode => object.pattern = Some(CORPORATION_CODE.into()),
        Rule::Email => {
            object.format = Some(SchemaFormat::KnownFormat(KnownFormat::Email));
            object.max_length = Some(254);
        }
        // A null or an array in a nullable property: nothing to add to the string form.
        Rule::List { .. } | Rule::MaxItems(_) | Rule::TextItems { .. } => {}
    }
}

/// The documented form of a keyed domain enum: a string, one of the domain's own keys, so the
/// document lists exactly what `from_key` accepts (one list of values, the domain's `ALL`).
macro_rules! documented_keys {
    ($($(#[doc = $doc:literal])+ $name:ident => $domain:ty;)+) => {$(
        $(#[doc = $doc])+
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let description = [$($doc),+].map(str::trim).join("\n");
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(description))
                    .enum_values(Some(<$domain>::ALL.iter().map(|value| value.key())))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
        }
    )+};
}

documented_keys! {
    /// `domain::user::UserType`.
    UserType => user::UserType;
    /// `domain::user::Role`.
    Role => user::Role;
    /// `domain::user::Access`: Mijn KWH, Klantvizier.
    Access => user::Access;
    /// `domain::user::Notification`.
    Notification => user::Notification;
    /// `domain::corporation::SurveyPart`.
    SurveyPart => corporation::SurveyPart;
    /// `domain::report_settings::ApprovalStatus`.
    ApprovalStatus => report_settings::ApprovalStatus;
    /// What a service token may do.
    TokenScope => user::TokenScope;
    /// `domain::delivery::DeliveryError`: why an email could not be delivered.
    DeliveryError => delivery::DeliveryError;
    /// The sort orders of `GET /users`.
    UserSort => user_list::UserSort;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The patterns say what the domain decides, on inputs of every kind.
    #[test]
    fn patterns_agree_with_the_domain() {
        let matches = |pattern: &str, input: &str| regex::Regex::new(pattern).unwrap().is_match(input);
        for input in [
            "Henk",
            "  Zoë  ",
            "",
            "   ",
            "a\u{0}b",
            "a\u{9c}",
            "\u{1b}[31m",
            "regel 1\nregel 2",
            "\t",
            "Ĳssel",
        ] {
            assert_eq!(
                matches(REQUIRED_TEXT, input),
                text::required_text(input, 1000).is_ok(),
                "required {input:?}"
            );
            assert_eq!(
                matches(OPTIONAL_TEXT, input),
                text::optional_text(Some(input), 1000).is_ok(),
                "optional {input:?}"
            );
        }
        for input in [
            "KWH042",
            " kwh-01 ",
            "K",
            "",
            "A_B",
            "TOO-LONG-A-CODE-FOR-US",
            "KW H",
            "KWH\u{0}",
        ] {
            assert_eq!(
                matches(CORPORATION_CODE, input),
                corporation::CorporationCode::parse(input).is_ok(),
                "code {input:?}"
            );
        }
        assert!(matches(ETAG, "\"3\"") && matches(ETAG, "W/\"3\"") && matches(ETAG, "*"));
        assert!(matches(ETAG, "3") && !matches(ETAG, "null") && !matches(ETAG, "") && !matches(ETAG, "\"3"));
        assert!(matches(HEADER_TOKEN, "a1-b") && !matches(HEADER_TOKEN, "") && !matches(HEADER_TOKEN, " a"));
    }
}
