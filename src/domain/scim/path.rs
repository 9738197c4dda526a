//! Attribute paths (RFC 7644 §3.10: `[URN ":"] ATTRNAME ["." subAttr]`) in one normal form, so
//! that `userName`, `USERNAME` and `urn:ietf:params:scim:schemas:core:2.0:User:userName` are
//! one path. Attribute names and schema URNs are case-insensitive in SCIM (RFC 7643 §2.1).

use std::fmt;

use super::schema::CORE_USER_URN;

/// A normalised attribute path: lower case, without the core User schema's URN (the default
/// schema of every attribute), with an extension's URN kept (`role` of our extension is not
/// the `role` of another).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    schema: Option<String>,
    name: String,
    sub_attr: Option<String>,
}

impl AttrPath {
    /// `name` or `name.subAttr`, optionally behind a schema URN.
    pub fn parse(input: &str) -> Result<AttrPath, String> {
        match parse_name(input)? {
            ParsedName::Attribute(path) => Ok(path),
            ParsedName::Schema(urn) => Err(format!("`{urn}` is a schema, not an attribute")),
        }
    }

    /// A core attribute, for code that names one: `AttrPath::core("emails", Some("value"))`.
    pub fn core(name: &str, sub_attr: Option<&str>) -> AttrPath {
        AttrPath {
            schema: None,
            name: name.to_ascii_lowercase(),
            sub_attr: sub_attr.map(str::to_ascii_lowercase),
        }
    }

    /// The lower-case URN of an extension schema; `None` for the core User schema.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn sub_attr(&self) -> Option<&str> {
        self.sub_attr.as_deref()
    }

    /// Whether this is the core attribute written `dotted` (`"userName"`, `"emails.value"`).
    pub fn is_core(&self, dotted: &str) -> bool {
        let (name, sub) = match dotted.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (dotted, None),
        };
        self.schema.is_none()
            && self.name.eq_ignore_ascii_case(name)
            && match (&self.sub_attr, sub) {
                (None, None) => true,
                (Some(own), Some(sub)) => own.eq_ignore_ascii_case(sub),
                _ => false,
            }
    }

    pub(crate) fn with_schema(mut self, schema: Option<&str>) -> AttrPath {
        self.schema = schema.map(normalise_urn);
        self
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// What a path token names: an attribute, or (in PATCH) a whole extension schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParsedName {
    Attribute(AttrPath),
    /// A lower-case schema URN without an attribute after it.
    Schema(String),
}

/// Splits a path token into its URN and attribute.
///
/// The ABNF (`URI ":" ATTRNAME`) cannot tell `…:2.0:User` (a schema) from `…:2.0:User:title`
/// (an attribute of it) by itself: a colon ends both. SCIM's schema URNs end in a version and
/// a resource type (`…:core:2.0:User`, `…:extension:enterprise:2.0:User`), so a token whose
/// last-but-one segment is a version is a schema, and otherwise its last segment is the
/// attribute.
pub(crate) fn parse_name(input: &str) -> Result<ParsedName, String> {
    let (urn, attribute) = match input.rsplit_once(':') {
        None => (None, input),
        Some((head, last)) => {
            let before_last = head.rsplit(':').next().unwrap_or_default();
            if is_version(before_last) {
                check_urn(input)?;
                return Ok(ParsedName::Schema(normalise_urn(input)));
            }
            check_urn(head)?;
            (Some(head), last)
        }
    };
    let (name, sub_attr) = match attribute.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (attribute, None),
    };
    for part in std::iter::once(name).chain(sub_attr) {
        if !is_attribute_name(part) {
            return Err(format!("`{input}` is not an attribute path"));
        }
    }
    let schema = urn
        .map(normalise_urn)
        .filter(|urn| urn != &CORE_USER_URN.to_ascii_lowercase());
    Ok(ParsedName::Attribute(AttrPath {
        schema,
        name: name.to_ascii_lowercase(),
        sub_attr: sub_attr.map(str::to_ascii_lowercase),
    }))
}

/// RFC 7643 §2.1 `ATTRNAME = ALPHA *(nameChar)`; `$ref` (§2.3.7) is the one name with a `$`.
pub(crate) fn is_attribute_name(part: &str) -> bool {
    let mut chars = part.chars();
    let first_ok = match chars.next() {
        Some('$') => part.eq_ignore_ascii_case("$ref"),
        Some(c) => c.is_ascii_alphabetic(),
        None => false,
    };
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn check_urn(urn: &str) -> Result<(), String> {
    let scheme_ok = urn.get(..4).is_some_and(|scheme| scheme.eq_ignore_ascii_case("urn:"));
    if scheme_ok && urn.chars().all(|c| c.is_ascii_alphanumeric() || "-._:".contains(c)) {
        Ok(())
    } else {
        Err(format!("`{urn}` is not a schema URN"))
    }
}

fn is_version(segment: &str) -> bool {
    segment.starts_with(|c: char| c.is_ascii_digit()) && segment.chars().all(|c| c.is_ascii_digit() || c == '.')
}

fn normalise_urn(urn: &str) -> String {
    urn.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(input: &str) -> AttrPath {
        AttrPath::parse(input).unwrap()
    }

    #[test]
    fn the_core_user_urn_is_the_default_schema_and_drops_out() {
        assert_eq!(
            path("urn:ietf:params:scim:schemas:core:2.0:User:userName"),
            path("userName")
        );
        assert_eq!(
            path("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:name.givenName"),
            AttrPath::core("name", Some("givenName"))
        );
    }

    #[test]
    fn names_are_compared_without_case() {
        let p = path("Name.GivenName");
        assert_eq!(p.name(), "name");
        assert_eq!(p.sub_attr(), Some("givenname"));
        assert!(p.is_core("name.givenName"));
        assert!(!p.is_core("name"));
        assert_eq!(p.to_string(), "name.givenname");
    }

    #[test]
    fn an_extension_urn_stays_part_of_the_path() {
        let p = path("urn:ietf:params:scim:schemas:extension:mijnkwh:2.0:User:role");
        assert_eq!(
            p.schema(),
            Some("urn:ietf:params:scim:schemas:extension:mijnkwh:2.0:user")
        );
        assert_eq!(p.name(), "role");
        assert!(!p.is_core("role"));
        let manager = path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
        assert_eq!(manager.sub_attr(), Some("value"));
        assert_eq!(
            manager.to_string(),
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.value"
        );
    }

    #[test]
    fn a_urn_without_attribute_names_a_schema() {
        assert_eq!(
            parse_name("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
            Ok(ParsedName::Schema(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user".into()
            ))
        );
        assert!(AttrPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").is_err());
    }

    #[test]
    fn refuses_what_is_not_a_path() {
        for bad in [
            "",
            "1abc",
            "name.",
            ".name",
            "name.given.name",
            "na me",
            "name[",
            "http://x:title",
            "urn:a b:title",
            "$value",
            "tïtle",
            "urn:ietf:params:scim:schemas:core:2.0:User:",
        ] {
            assert!(AttrPath::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(path("members.$ref").sub_attr(), Some("$ref"));
        assert_eq!(path("x-custom_1").name(), "x-custom_1");
    }
}
