//! `attributes` and `excludedAttributes` (RFC 7644 §3.9): which attributes an answer carries.
//!
//! `id` and `schemas` always come. Names compare without case; a sub-attribute is named
//! `name.givenName` (of each value, for a multi-valued one: `emails.value`), an extension's
//! attribute `urn:…:User:role`, a core one also by its full name
//! (`urn:ietf:params:scim:schemas:core:2.0:User:userName`), and naming a complex attribute or an
//! extension names all of it.

use serde_json::{Map, Value};

use super::schema::CORE_USER_URN;

#[derive(Debug, Clone, Default)]
pub struct Projection {
    only: Option<Vec<String>>,
    excluded: Vec<String>,
}

impl Projection {
    /// From the comma-separated query parameters (or a SearchRequest's lists, joined).
    pub fn parse(attributes: Option<&str>, excluded_attributes: Option<&str>) -> Projection {
        let core_prefix = format!("{}:", CORE_USER_URN.to_ascii_lowercase());
        let names = |text: &str| -> Vec<String> {
            text.split(',')
                .map(|name| name.trim().to_ascii_lowercase())
                .map(|name| name.strip_prefix(&core_prefix).map(str::to_string).unwrap_or(name))
                .filter(|name| !name.is_empty())
                .collect()
        };
        Projection {
            only: attributes.map(names).filter(|names| !names.is_empty()),
            excluded: excluded_attributes.map(names).unwrap_or_default(),
        }
    }

    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(members) = resource else {
            return resource;
        };
        let kept = members
            .into_iter()
            .filter_map(|(key, value)| {
                let name = key.to_ascii_lowercase();
                self.keep(&name, value).map(|value| (key, value))
            })
            .collect();
        Value::Object(kept)
    }

    fn names(&self, name: &str) -> bool {
        self.only.as_ref().is_none_or(|only| only.iter().any(|n| n == name))
    }

    fn keep(&self, name: &str, value: Value) -> Option<Value> {
        if name == "id" || name == "schemas" {
            return Some(value);
        }
        if self.excluded.iter().any(|n| n == name) {
            return None;
        }
        let whole = self.names(name);
        match value {
            Value::Object(members) => {
                let kept = self.members(name, whole, members);
                (whole || !kept.is_empty()).then_some(Value::Object(kept))
            }
            // A multi-valued complex attribute: the sub-attributes of each value.
            Value::Array(values) if values.iter().all(Value::is_object) && !values.is_empty() => {
                let kept: Vec<Value> = values
                    .into_iter()
                    .filter_map(|value| match value {
                        Value::Object(members) => Some(self.members(name, whole, members)),
                        _ => None,
                    })
                    .filter(|members| !members.is_empty())
                    .map(Value::Object)
                    .collect();
                (whole || !kept.is_empty()).then_some(Value::Array(kept))
            }
            value => whole.then_some(value),
        }
    }

    /// The members of a complex value (`name.givenName`) or an extension (`urn:…:User:role`)
    /// that the projection keeps.
    fn members(&self, name: &str, whole: bool, members: Map<String, Value>) -> Map<String, Value> {
        let member_named = |list: &[String], member: &str| {
            list.iter()
                .any(|n| *n == format!("{name}.{member}") || *n == format!("{name}:{member}"))
        };
        members
            .into_iter()
            .filter(|(key, _)| {
                let member = key.to_ascii_lowercase();
                !member_named(&self.excluded, &member)
                    && (whole || self.only.as_deref().is_some_and(|only| member_named(only, &member)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "1",
            "userName": "jan@kwh001.nl",
            "name": {"givenName": "Jan", "familyName": "Jansen"},
            "urn:x:User": {"role": "user", "access": ["mijn_kwh"]},
            "meta": {"version": "W/\"1\""},
        })
    }

    #[test]
    fn attributes_keep_what_they_name_and_always_the_id() {
        let only = Projection::parse(Some("USERNAME, name.givenName, urn:x:User:role"), None).apply(user());
        assert_eq!(
            only,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "1",
                "userName": "jan@kwh001.nl",
                "name": {"givenName": "Jan"},
                "urn:x:User": {"role": "user"},
            })
        );
        let whole = Projection::parse(Some("name"), None).apply(user());
        assert_eq!(whole["name"], json!({"givenName": "Jan", "familyName": "Jansen"}));
        assert!(whole.get("meta").is_none());
    }

    #[test]
    fn full_core_names_and_sub_attributes_of_each_value_are_named_too() {
        let mut resource = user();
        resource["emails"] = json!([{"value": "jan@kwh001.nl", "type": "work"}]);
        let only = Projection::parse(
            Some("urn:ietf:params:scim:schemas:core:2.0:User:userName,emails.value"),
            None,
        )
        .apply(resource);
        assert_eq!(only["userName"], "jan@kwh001.nl");
        assert_eq!(only["emails"], json!([{"value": "jan@kwh001.nl"}]));
        assert!(only.get("name").is_none());
    }

    #[test]
    fn excluded_attributes_leave_out_what_they_name_but_never_the_id() {
        let without = Projection::parse(None, Some("meta,name.familyName,id")).apply(user());
        assert!(without.get("meta").is_none());
        assert_eq!(without["name"], json!({"givenName": "Jan"}));
        assert_eq!(without["id"], "1");
        assert_eq!(Projection::default().apply(user()), user());
    }
}
