//! SCIM 2.0 (RFC 7643, RFC 7644) for the corporations' identity providers, Entra ID and Okta
//! (issue #14), as pure functions over the SCIM JSON form of a user: the filter language and
//! its evaluation, and PATCH. The service maps users to and from that form and decides what to
//! store; nothing here knows the database or HTTP.
//!
//! Why a parser of our own: the crates that parse SCIM filters either stopped in early 2024 with
//! a matcher over `Serialize` collections rather than a tree (`scim-filter`), or are a whole SCIM
//! model library whose filter feature brings a generated LALR parser and two dependencies
//! (`scim_v2`); either way we would still write the evaluation and PATCH, which is where the
//! providers' quirks live. The grammar is small; its limits are ours to choose.

pub mod discovery;
mod evaluate;
pub mod filter;
pub mod patch;
pub mod path;
pub mod projection;
pub mod schema;

pub use evaluate::get as member;
pub use filter::{CompValue, CompareOp, Filter, FilterError};
pub use patch::{PatchError, PatchOp, PatchOperation, PatchPath, apply_patch, parse_patch_request};
pub use path::AttrPath;
pub use projection::Projection;
pub use schema::{Attribute, AttributeType, Mutability, ResourceSchema, Schema};

/// The `scimType` of an RFC 7644 §3.12 error response (always with status 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    Mutability,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::Mutability => "mutability",
        }
    }
}
