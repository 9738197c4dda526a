//! The discovery documents of RFC 7644 §4 (`/ServiceProviderConfig`, `/ResourceTypes`,
//! `/Schemas`), written from the same schema description the filter and PATCH use, so that what
//! we announce is what we do.

use serde_json::{Value, json};

use super::schema::{Attribute, AttributeType, CORE_USER_URN, MIJNKWH_USER_URN, Mutability, Schema, USER};
use crate::domain::user::{Access, Notification, Role};

pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SERVICE_PROVIDER_CONFIG_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// What this service supports (RFC 7643 §5): PATCH, filters (up to `max_results` a page) and
/// ETags; no bulk, sorting or password changes (passwords are the user's own, set through
/// their invitation).
pub fn service_provider_config(base_url: &str, max_results: usize) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_URN],
        "documentationUri": format!("{base_url}/Schemas"),
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Service token",
            "description": "A Mijn KWH service token with the scim scope (POST /api-tokens), as Authorization: Bearer.",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base_url}/ServiceProviderConfig")},
    })
}

/// The one resource type: `User`.
pub fn user_resource_type(base_url: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A colleague at the housing association (corporation user).",
        "schema": CORE_USER_URN,
        // Required: every user has a role, access and an Excel setting. A client may still
        // leave the extension out when creating; the defaults then apply.
        "schemaExtensions": [{"schema": MIJNKWH_USER_URN, "required": true}],
        "meta": {"resourceType": "ResourceType", "location": format!("{base_url}/ResourceTypes/User")},
    })
}

/// Every schema of the `User` resource: the core schema and our extension.
pub fn schemas(base_url: &str) -> Vec<Value> {
    std::iter::once(&USER.core)
        .chain(USER.extensions)
        .map(|schema| schema_document(schema, base_url))
        .collect()
}

fn schema_document(schema: &Schema, base_url: &str) -> Value {
    let (name, description) = if schema.urn == CORE_USER_URN {
        ("User", "User Account")
    } else {
        (
            "Mijn KWH user",
            "What a Mijn KWH user has beyond the core schema: role, access, mail and Excel download.",
        )
    };
    json!({
        "schemas": [SCHEMA_URN],
        "id": schema.urn,
        "name": name,
        "description": description,
        "attributes": schema.attributes.iter().map(|a| attribute_document(a, None)).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base_url}/Schemas/{}", schema.urn)},
    })
}

fn attribute_document(attribute: &Attribute, parent: Option<&str>) -> Value {
    let kind = match attribute.kind {
        AttributeType::String => "string",
        AttributeType::Boolean => "boolean",
        AttributeType::Decimal => "decimal",
        AttributeType::Integer => "integer",
        AttributeType::DateTime => "dateTime",
        AttributeType::Reference => "reference",
        AttributeType::Complex => "complex",
    };
    let mutability = match attribute.mutability {
        Mutability::ReadWrite => "readWrite",
        Mutability::Immutable => "immutable",
        Mutability::ReadOnly => "readOnly",
        Mutability::WriteOnly => "writeOnly",
    };
    let unique = parent.is_none() && matches!(attribute.name, "id" | "userName");
    let mut document = json!({
        "name": attribute.name,
        "type": kind,
        "multiValued": attribute.multi_valued,
        "description": description(parent, attribute.name),
        "required": attribute.required,
        "caseExact": attribute.case_exact,
        "mutability": mutability,
        "returned": if attribute.name == "id" { "always" } else { "default" },
        "uniqueness": if unique { "server" } else { "none" },
    });
    if attribute.kind == AttributeType::Complex {
        document["subAttributes"] = attribute
            .sub_attributes
            .iter()
            .map(|sub| attribute_document(sub, Some(attribute.name)))
            .collect::<Vec<_>>()
            .into();
    }
    if attribute.kind == AttributeType::Reference {
        document["referenceTypes"] = json!(["uri"]);
    }
    let canonical: Option<Vec<&str>> = match (parent, attribute.name) {
        (None, "role") => Some(vec![Role::User.key(), Role::MainUser.key()]),
        (None, "access") => Some(Access::ALL.iter().map(|a| a.key()).collect()),
        (None, "emailNotifications") => Some(Notification::ALL.iter().map(|n| n.key()).collect()),
        (Some("emails" | "phoneNumbers"), "type") => Some(vec!["work"]),
        _ => None,
    };
    if let Some(values) = canonical {
        document["canonicalValues"] = values.into();
    }
    document
}

fn description(parent: Option<&str>, name: &str) -> &'static str {
    match (parent, name) {
        (None, "id") => "Our identifier of the user.",
        (None, "externalId") => "The identity provider's identifier of the user, unique within the corporation.",
        (None, "userName") => {
            "The user's email address: unique, and never changed once set (PRODUCT.md rules 1 and 2)."
        }
        (None, "name") => {
            "The user's name; given and family name are both kept (when one is missing, displayName stands in)."
        }
        (None, "displayName") => "The name the identity provider shows for the user, kept as sent.",
        (None, "title") => "Job title (functie).",
        (None, "active") => "False deactivates the user: they cannot sign in and every credential of theirs ends.",
        (None, "emails") => "The user's one address, the userName, as the work address: read-only.",
        (None, "phoneNumbers") => "The work phone number; a user has one.",
        (None, "meta") => "Resource metadata; meta.version is the ETag.",
        (None, "role") => "user or main_user (a main user manages the corporation's users).",
        (None, "access") => "The portals the user may use.",
        (None, "emailNotifications") => "The mails the user receives.",
        (None, "excelDownload") => "Whether the user may download reports as Excel.",
        (_, "value") => "The value.",
        (_, "type") => "The kind of value.",
        (_, "primary") => "Whether this is the primary value.",
        (_, "display") => "A readable form of the value.",
        _ => "See RFC 7643.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_announces_our_keys_as_canonical_values() {
        let documents = schemas("https://mijn.kwh.nl/scim/v2");
        let extension = documents.iter().find(|d| d["id"] == MIJNKWH_USER_URN).unwrap();
        let role = extension["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "role")
            .unwrap();
        assert_eq!(role["canonicalValues"], json!(["user", "main_user"]));
        let core = documents.iter().find(|d| d["id"] == CORE_USER_URN).unwrap();
        let user_name = core["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "userName")
            .unwrap();
        assert_eq!(
            (user_name["required"].as_bool(), user_name["uniqueness"].as_str()),
            (Some(true), Some("server"))
        );
        assert_eq!(user_name["mutability"], "immutable");
    }
}
