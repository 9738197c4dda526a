//! Whether a resource, in its SCIM JSON form, matches a filter (RFC 7644 §3.4.2.2), so that the
//! service can filter in memory what it cannot ask the database.
//!
//! The semantics, where the RFC leaves room:
//! - a multi-valued attribute matches when any of its values does; a complex multi-valued one
//!   compared without a sub-attribute (`emails co "@kwh.nl"`) compares each value's `value`;
//! - strings compare without case unless the schema calls the attribute `caseExact`
//!   (`id`, `externalId`, `meta.version`, … — not `userName`, `emails.value` or `name.*`);
//!   attributes the schema does not know compare without case, like most of RFC 7643's;
//! - `dateTime` attributes compare as instants, so `2024-05-07T12:19:00Z` equals
//!   `2024-05-07T14:19:00+02:00`;
//! - `ne` is `not eq`: an absent attribute is "not equal" to every value, and a user whose
//!   emails include "x" is not matched by `emails.value ne "x"`;
//! - `eq null` holds where the attribute has no value, `ne null` where it has one;
//! - a boolean attribute compared with `"true"`/`"false"` strings reads them as booleans.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::filter::{CompValue, CompareOp, Filter, FilterError};
use super::path::AttrPath;
use super::schema::{Attribute, AttributeType, ResourceSchema};

impl Filter {
    /// Whether `resource` (a SCIM representation, e.g. of a user) matches.
    pub fn matches(&self, resource: &Value, schema: &ResourceSchema) -> bool {
        resource
            .as_object()
            .is_some_and(|object| evaluate(self, object, Scope::Resource, schema))
    }

    /// Refuses comparisons the RFC calls invalid for the attribute's type (ordering or `co`
    /// on a boolean, ordering against `true`/`null`, `co`/`sw`/`ew` with a non-string), so that
    /// a client learns its mistake instead of an empty list. Unknown attributes pass: they
    /// match nothing.
    pub fn check(&self, schema: &ResourceSchema) -> Result<(), FilterError> {
        check(self, Scope::Resource, schema)
    }
}

/// `filter` against one value of the multi-valued `parent` (PATCH's `emails[type eq "work"]`).
pub(crate) fn matches_value(filter: &Filter, value: &Value, parent: &AttrPath, schema: &ResourceSchema) -> bool {
    value
        .as_object()
        .is_some_and(|object| evaluate(filter, object, Scope::ValuesOf(parent), schema))
}

/// Where a filter's paths start: at the resource, or (inside `attr[…]`) at a value of `attr`.
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    Resource,
    ValuesOf(&'a AttrPath),
}

fn evaluate(filter: &Filter, object: &Map<String, Value>, scope: Scope<'_>, schema: &ResourceSchema) -> bool {
    match filter {
        Filter::And(left, right) => evaluate(left, object, scope, schema) && evaluate(right, object, scope, schema),
        Filter::Or(left, right) => evaluate(left, object, scope, schema) || evaluate(right, object, scope, schema),
        Filter::Not(inner) => !evaluate(inner, object, scope, schema),
        Filter::Present(path) => resolve(path, object, scope, false).into_iter().any(has_value),
        Filter::Compare { path, op, value } => {
            let spec = spec_of(path, scope, schema);
            let candidates = resolve(path, object, scope, true);
            match (op, value) {
                (CompareOp::Eq, CompValue::Null) => !candidates.into_iter().any(has_value),
                (CompareOp::Ne, CompValue::Null) => candidates.into_iter().any(has_value),
                (CompareOp::Ne, value) => !candidates.into_iter().any(|c| compare(c, CompareOp::Eq, value, spec)),
                (op, value) => candidates.into_iter().any(|c| compare(c, *op, value, spec)),
            }
        }
        Filter::ValuePath { attr, filter } => resolve(attr, object, scope, false)
            .into_iter()
            .filter_map(Value::as_object)
            .any(|value| evaluate(filter, value, Scope::ValuesOf(attr), schema)),
    }
}

/// The values `path` names, arrays flattened. With `compare_value`, the values of a complex
/// attribute stand for their `value` sub-attribute.
fn resolve<'v>(
    path: &AttrPath,
    object: &'v Map<String, Value>,
    scope: Scope<'_>,
    compare_value: bool,
) -> Vec<&'v Value> {
    let container = match (scope, path.schema()) {
        (Scope::Resource, Some(urn)) => get(object, urn).and_then(Value::as_object),
        _ => Some(object),
    };
    let mut values = flatten(container.and_then(|container| get(container, path.name())));
    if let Some(sub) = path.sub_attr() {
        values = values
            .into_iter()
            .flat_map(|value| flatten(value.as_object().and_then(|v| get(v, sub))))
            .collect();
    } else if compare_value {
        values = values
            .into_iter()
            .flat_map(|value| match value.as_object() {
                Some(complex) => flatten(get(complex, "value")),
                None => vec![value],
            })
            .collect();
    }
    values
}

fn flatten(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None => Vec::new(),
        Some(Value::Array(values)) => values.iter().collect(),
        Some(value) => vec![value],
    }
}

/// The member `name` of a JSON object, whatever the case of either.
pub fn get<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

/// RFC 7644: "If the attribute has a non-empty value, or if it contains a non-empty node for
/// complex attributes, there is a match."
fn has_value(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(values) => values.iter().any(has_value),
        Value::Object(members) => members.values().any(has_value),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// The schema's description of what `path` compares: for a complex multi-valued attribute
/// without a sub-attribute, its `value`.
fn spec_of<'s>(path: &AttrPath, scope: Scope<'_>, schema: &'s ResourceSchema) -> Option<&'s Attribute> {
    let attribute = match scope {
        Scope::Resource => schema.attribute(path.schema(), path.name())?,
        Scope::ValuesOf(parent) => {
            let sub = schema
                .attribute(parent.schema(), parent.name())?
                .sub_attribute(path.name())?;
            return if path.sub_attr().is_some() { None } else { Some(sub) };
        }
    };
    match path.sub_attr() {
        Some(sub) => attribute.sub_attribute(sub),
        None if attribute.kind == AttributeType::Complex => attribute.sub_attribute("value"),
        None => Some(attribute),
    }
}

fn compare(candidate: &Value, op: CompareOp, value: &CompValue, spec: Option<&Attribute>) -> bool {
    let kind = spec.map(|spec| spec.kind);
    match (candidate, value) {
        (Value::String(have), CompValue::String(want)) => {
            if kind == Some(AttributeType::DateTime)
                && !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
                && let (Ok(have), Ok(want)) = (
                    chrono::DateTime::parse_from_rfc3339(have),
                    chrono::DateTime::parse_from_rfc3339(want),
                )
            {
                return ordered(op, have.cmp(&want));
            }
            let case_exact = spec.is_some_and(|spec| spec.case_exact);
            let (have, want) = if case_exact {
                (have.clone(), want.clone())
            } else {
                (have.to_lowercase(), want.to_lowercase())
            };
            match op {
                CompareOp::Co => have.contains(&want),
                CompareOp::Sw => have.starts_with(&want),
                CompareOp::Ew => have.ends_with(&want),
                _ => ordered(op, have.cmp(&want)),
            }
        }
        (Value::Number(have), CompValue::Number(want)) => match (have.as_f64(), want.as_f64()) {
            (Some(have), Some(want)) => have.partial_cmp(&want).is_some_and(|order| ordered(op, order)),
            _ => false,
        },
        (Value::Bool(have), CompValue::Bool(want)) => op == CompareOp::Eq && have == want,
        (Value::Bool(have), CompValue::String(want)) if kind == Some(AttributeType::Boolean) => {
            op == CompareOp::Eq && want.eq_ignore_ascii_case(if *have { "true" } else { "false" })
        }
        _ => false,
    }
}

fn ordered(op: CompareOp, order: Ordering) -> bool {
    match op {
        CompareOp::Eq => order == Ordering::Equal,
        CompareOp::Gt => order == Ordering::Greater,
        CompareOp::Ge => order != Ordering::Less,
        CompareOp::Lt => order == Ordering::Less,
        CompareOp::Le => order != Ordering::Greater,
        CompareOp::Ne | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn check(filter: &Filter, scope: Scope<'_>, schema: &ResourceSchema) -> Result<(), FilterError> {
    match filter {
        Filter::And(left, right) | Filter::Or(left, right) => {
            check(left, scope, schema)?;
            check(right, scope, schema)
        }
        Filter::Not(inner) => check(inner, scope, schema),
        Filter::Present(_) => Ok(()),
        Filter::ValuePath { attr, filter } => check(filter, Scope::ValuesOf(attr), schema),
        Filter::Compare { path, op, value } => {
            let boolean = spec_of(path, scope, schema).is_some_and(|spec| spec.kind == AttributeType::Boolean);
            let problem = match op {
                CompareOp::Eq | CompareOp::Ne => None,
                CompareOp::Co | CompareOp::Sw | CompareOp::Ew if boolean || !matches!(value, CompValue::String(_)) => {
                    Some("needs a string")
                }
                CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
                    if boolean || matches!(value, CompValue::Bool(_) | CompValue::Null) =>
                {
                    Some("orders strings, numbers and dates, not booleans or null")
                }
                _ => None,
            };
            match problem {
                Some(problem) => Err(FilterError::about(format!("`{path} {}` {problem}", op.as_str()))),
                None => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::schema::USER;
    use super::*;

    fn user() -> Value {
        json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:mijnkwh:2.0:User"
            ],
            "id": "0190c2a4-7b1e-7cc0-8000-000000000001",
            "externalId": "AbC-123",
            "userName": "Henk.deVries@Woonstad.nl",
            "name": { "givenName": "Henk", "familyName": "de Vries" },
            "title": "Medewerker Verhuur",
            "active": true,
            "emails": [{ "value": "henk.devries@woonstad.nl", "type": "work", "primary": true }],
            "phoneNumbers": [
                { "value": "010-1234567", "type": "work" },
                { "value": "06-12345678", "type": "mobile" }
            ],
            "meta": {
                "resourceType": "User",
                "created": "2024-05-07T12:19:00Z",
                "lastModified": "2024-05-07T14:19:00+02:00",
                "version": "W/\"3\""
            },
            "urn:ietf:params:scim:schemas:extension:mijnkwh:2.0:User": {
                "role": "main_user",
                "access": ["mijn_kwh", "klantvizier"],
                "emailNotifications": [],
                "excelDownload": false
            }
        })
    }

    fn matches(filter: &str) -> bool {
        let filter = Filter::parse(filter).unwrap();
        filter.check(&USER).unwrap();
        filter.matches(&user(), &USER)
    }

    #[test]
    fn user_name_matches_without_case_as_entra_expects() {
        assert!(matches(r#"userName eq "henk.devries@woonstad.nl""#));
        assert!(matches(r#"USERNAME EQ "HENK.DEVRIES@WOONSTAD.NL""#));
        assert!(matches(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "henk.devries@woonstad.nl""#
        ));
        assert!(!matches(r#"userName eq "henk@woonstad.nl""#));
    }

    #[test]
    fn case_exact_attributes_respect_case() {
        assert!(matches(r#"externalId eq "AbC-123""#));
        assert!(!matches(r#"externalId eq "abc-123""#));
        assert!(!matches(r#"id eq "0190C2A4-7B1E-7CC0-8000-000000000001""#));
        assert!(matches(r#"meta.version eq "W/\"3\"""#));
    }

    #[test]
    fn every_operator_on_strings() {
        assert!(matches(r#"title co "verhuur""#));
        assert!(matches(r#"title sw "medewerker""#));
        assert!(matches(r#"title ew "VERHUUR""#));
        assert!(matches(r#"title gt "Medewerker""#));
        assert!(matches(r#"title ge "medewerker verhuur""#));
        assert!(matches(r#"title lt "N""#));
        assert!(matches(r#"title le "medewerker verhuur""#));
        assert!(matches(r#"title ne "Directeur""#));
        assert!(!matches(r#"title ne "medewerker verhuur""#));
        assert!(matches(r#"name.familyName eq "DE VRIES""#));
    }

    #[test]
    fn multi_valued_attributes_match_when_any_value_does() {
        assert!(matches(r#"phoneNumbers.value eq "06-12345678""#));
        assert!(matches(r#"phoneNumbers[type eq "work" and value sw "010"]"#));
        assert!(!matches(r#"phoneNumbers[type eq "mobile" and value sw "010"]"#));
        assert!(
            matches(r#"emails co "@woonstad.nl""#),
            "a complex value compares its value"
        );
        assert!(matches(r#"emails[type eq "work"].value eq "Henk.deVries@woonstad.nl""#));
        assert!(!matches(
            r#"emails[type eq "home"].value eq "henk.devries@woonstad.nl""#
        ));
        assert!(matches(
            r#"urn:ietf:params:scim:schemas:extension:mijnkwh:2.0:User:access eq "klantvizier""#
        ));
        assert!(!matches(r#"phoneNumbers.value ne "06-12345678""#), "ne is not eq");
    }

    #[test]
    fn present_means_a_non_empty_value() {
        assert!(matches("title pr"));
        assert!(matches("emails pr"));
        assert!(matches("name pr"));
        assert!(!matches("nickName pr"));
        assert!(!matches(
            "urn:ietf:params:scim:schemas:extension:mijnkwh:2.0:User:emailNotifications pr"
        ));
        assert!(matches(
            "urn:ietf:params:scim:schemas:extension:mijnkwh:2.0:User:excelDownload pr"
        ));
        assert!(matches("nickName eq null"));
        assert!(matches("title ne null"));
    }

    #[test]
    fn booleans_and_numbers() {
        assert!(matches("active eq true"));
        assert!(!matches("active eq false"));
        assert!(matches("active ne false"));
        assert!(matches(r#"active eq "True""#), "a boolean given as a string");
        assert!(matches(
            "urn:ietf:params:scim:schemas:extension:mijnkwh:2.0:User:excelDownload eq false"
        ));
        let with_count = json!({ "count": 3 });
        assert!(Filter::parse("count gt 2.5").unwrap().matches(&with_count, &USER));
        assert!(Filter::parse("count le 3").unwrap().matches(&with_count, &USER));
        assert!(!Filter::parse("count lt 3").unwrap().matches(&with_count, &USER));
    }

    #[test]
    fn date_times_compare_as_instants() {
        assert!(matches(r#"meta.lastModified eq "2024-05-07T12:19:00Z""#));
        assert!(matches(r#"meta.lastModified gt "2024-05-07T13:00:00+02:00""#));
        assert!(matches(r#"meta.created ge "2024-05-07T12:19:00.000Z""#));
        assert!(!matches(r#"meta.created lt "2024-01-01T00:00:00Z""#));
        assert!(matches(r#"meta.created sw "2024-05""#), "sw still compares text");
    }

    #[test]
    fn logic_follows_precedence() {
        assert!(matches(r#"title pr and userName eq "x" or active eq true"#));
        assert!(!matches(r#"title pr and (userName eq "x" or active eq false)"#));
        assert!(matches(r#"not (userName eq "x")"#));
        assert!(!matches(r#"not (active eq true) or nickName pr"#));
    }

    #[test]
    fn a_resource_that_is_not_an_object_matches_nothing() {
        assert!(!Filter::parse("id pr").unwrap().matches(&json!([1]), &USER));
    }

    #[test]
    fn comparisons_the_rfc_refuses_are_invalid_filters() {
        for bad in [
            "active gt true",
            r#"active co "t""#,
            "title gt null",
            "title co 3",
            r#"emails[type eq "work" and primary gt false]"#,
        ] {
            let error = Filter::parse(bad).unwrap().check(&USER).unwrap_err();
            assert_eq!(error.scim_type().as_str(), "invalidFilter", "{bad}");
        }
        Filter::parse(r#"meta.created gt "2024-01-01T00:00:00Z" and nickName sw "x""#)
            .unwrap()
            .check(&USER)
            .unwrap();
    }
}
