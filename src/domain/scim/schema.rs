//! What the filter evaluator and PATCH need to know of a resource's attributes (RFC 7643 §2.2,
//! §7): type, multi-valued or not, whether strings compare with case, and mutability. The
//! same description can later feed `/Schemas`.

/// The core User schema; attributes without a URN belong to it.
pub const CORE_USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Our extension: what a Mijn KWH user has beyond the core schema.
pub const MIJNKWH_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:mijnkwh:2.0:User";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    String,
    Boolean,
    Decimal,
    Integer,
    /// RFC 3339 (`xsd:dateTime`); compared as instants, not as text.
    DateTime,
    Reference,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadWrite,
    /// Set when the resource is made; a PATCH may add it where it had no value, not change it.
    Immutable,
    /// The service provider's alone (`id`, `meta`): a PATCH that targets it fails.
    ReadOnly,
    WriteOnly,
}

#[derive(Debug, Clone, Copy)]
pub struct Attribute {
    /// As the schema spells it; lookups ignore case.
    pub name: &'static str,
    pub kind: AttributeType,
    pub multi_valued: bool,
    /// RFC 7643 §2.2 `caseExact`: whether `eq`, `co`, ordering … respect case.
    pub case_exact: bool,
    pub mutability: Mutability,
    /// RFC 7643 §7 `required`: a create or replace without it is refused.
    pub required: bool,
    pub sub_attributes: &'static [Attribute],
}

impl Attribute {
    pub const fn new(name: &'static str, kind: AttributeType) -> Attribute {
        Attribute {
            name,
            kind,
            multi_valued: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            required: false,
            sub_attributes: &[],
        }
    }

    pub const fn string(name: &'static str) -> Attribute {
        Attribute::new(name, AttributeType::String)
    }

    pub const fn boolean(name: &'static str) -> Attribute {
        Attribute::new(name, AttributeType::Boolean)
    }

    pub const fn complex(name: &'static str, sub_attributes: &'static [Attribute]) -> Attribute {
        let mut attribute = Attribute::new(name, AttributeType::Complex);
        attribute.sub_attributes = sub_attributes;
        attribute
    }

    pub const fn multi_valued(mut self) -> Attribute {
        self.multi_valued = true;
        self
    }

    pub const fn case_exact(mut self) -> Attribute {
        self.case_exact = true;
        self
    }

    pub const fn required(mut self) -> Attribute {
        self.required = true;
        self
    }

    pub const fn mutability(mut self, mutability: Mutability) -> Attribute {
        self.mutability = mutability;
        self
    }

    pub fn sub_attribute(&self, name: &str) -> Option<&Attribute> {
        self.sub_attributes
            .iter()
            .find(|sub| sub.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug)]
pub struct Schema {
    pub urn: &'static str,
    pub attributes: &'static [Attribute],
}

/// A resource type's core schema and its extensions.
#[derive(Debug)]
pub struct ResourceSchema {
    pub core: Schema,
    pub extensions: &'static [Schema],
}

impl ResourceSchema {
    /// The attribute `name` of the schema `urn` (lower or any case; `None` is the core schema).
    pub fn attribute(&self, urn: Option<&str>, name: &str) -> Option<&Attribute> {
        self.schema(urn)?
            .attributes
            .iter()
            .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
    }

    /// The core schema for `None`, else the extension with this URN.
    pub fn schema(&self, urn: Option<&str>) -> Option<&Schema> {
        match urn {
            None => Some(&self.core),
            Some(urn) if urn.eq_ignore_ascii_case(self.core.urn) => Some(&self.core),
            Some(urn) => self
                .extensions
                .iter()
                .find(|schema| schema.urn.eq_ignore_ascii_case(urn)),
        }
    }
}

/// The one address a user has: the userName, shown as the work address. Read-only: a client
/// changes the address, if at all, through userName, which never changes (rule 2).
const EMAIL_SUB_ATTRIBUTES: &[Attribute] = &[
    Attribute::string("value").mutability(Mutability::ReadOnly),
    Attribute::string("type").mutability(Mutability::ReadOnly),
    Attribute::boolean("primary").mutability(Mutability::ReadOnly),
];

/// The one phone number a user has, the work number: only what we keep is declared.
const PHONE_SUB_ATTRIBUTES: &[Attribute] = &[Attribute::string("value"), Attribute::string("type")];

/// A Mijn KWH user as SCIM shows it (issue #14): `userName` is the email address, which never
/// changes (PRODUCT.md rule 2), so it is immutable; `externalId` is case-exact as RFC 7643 §3.1
/// defines it (an identity provider's object id, where case may matter); role, access, email
/// notifications and Excel download live in our extension.
///
/// What always has a value is `required` (`name`, `active`, `role`, `access`,
/// `excelDownload`): a client may leave it out when creating (a default applies), but cannot
/// remove it. Only what we return is declared: clients such as scim2-client refuse a member
/// the schema does not name.
pub static USER: ResourceSchema = ResourceSchema {
    core: Schema {
        urn: CORE_USER_URN,
        attributes: &[
            Attribute::string("id").case_exact().mutability(Mutability::ReadOnly),
            Attribute::string("externalId").case_exact(),
            Attribute::string("userName")
                .mutability(Mutability::Immutable)
                .required(),
            Attribute::complex(
                "name",
                &[
                    Attribute::string("familyName").required(),
                    Attribute::string("givenName").required(),
                ],
            )
            .required(),
            Attribute::string("displayName"),
            Attribute::string("title"),
            Attribute::boolean("active").required(),
            Attribute::complex("emails", EMAIL_SUB_ATTRIBUTES)
                .multi_valued()
                .mutability(Mutability::ReadOnly),
            Attribute::complex("phoneNumbers", PHONE_SUB_ATTRIBUTES).multi_valued(),
            Attribute::complex(
                "meta",
                &[
                    Attribute::string("resourceType").case_exact(),
                    Attribute::new("created", AttributeType::DateTime),
                    Attribute::new("lastModified", AttributeType::DateTime),
                    Attribute::new("location", AttributeType::Reference).case_exact(),
                    Attribute::string("version").case_exact(),
                ],
            )
            .mutability(Mutability::ReadOnly),
        ],
    },
    extensions: &[Schema {
        urn: MIJNKWH_USER_URN,
        attributes: &[
            Attribute::string("role").case_exact().required(),
            Attribute::string("access").case_exact().multi_valued().required(),
            Attribute::string("emailNotifications").case_exact().multi_valued(),
            Attribute::boolean("excelDownload").required(),
        ],
    }],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_and_the_core_urn() {
        assert_eq!(USER.attribute(None, "USERNAME").unwrap().name, "userName");
        assert_eq!(
            USER.attribute(Some(&CORE_USER_URN.to_lowercase()), "title")
                .unwrap()
                .name,
            "title"
        );
        let extension = MIJNKWH_USER_URN.to_lowercase();
        assert_eq!(
            USER.attribute(Some(&extension), "exceldownload").unwrap().kind,
            AttributeType::Boolean
        );
        assert!(
            USER.attribute(None, "excelDownload").is_none(),
            "an extension attribute is not a core one"
        );
        assert!(USER.attribute(Some("urn:x:1.0:User"), "role").is_none());
        let emails = USER.attribute(None, "emails").unwrap();
        assert!(emails.multi_valued);
        assert_eq!(emails.sub_attribute("PRIMARY").unwrap().kind, AttributeType::Boolean);
    }

    #[test]
    fn what_the_service_provider_owns_is_read_only() {
        for name in ["id", "meta"] {
            assert_eq!(USER.attribute(None, name).unwrap().mutability, Mutability::ReadOnly);
        }
        assert_eq!(
            USER.attribute(None, "userName").unwrap().mutability,
            Mutability::Immutable
        );
    }

    #[test]
    fn external_id_is_case_exact_and_user_name_is_not_as_rfc_7643_defines() {
        assert!(USER.attribute(None, "externalId").unwrap().case_exact);
        assert!(!USER.attribute(None, "userName").unwrap().case_exact);
        assert!(USER.attribute(None, "id").unwrap().case_exact);
    }
}
