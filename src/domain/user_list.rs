//! What a user list asks for: the filters of the Gebruikersbeheer screen, an order, and where
//! the previous page ended.

use chrono::NaiveDateTime;

use super::corporation::CorporationCode;
use super::keyed::keyed_enum;
use super::user::{Role, UserType};

keyed_enum! {
    /// The order of a user list. Every order ends with the id, so that it is total and a cursor
    /// walk never skips or repeats a user.
    pub enum UserSort {
        LastName = "last_name",
        Email = "email",
        CreatedAt = "created_at",
        /// Most recent sign-in first; users who never signed in last.
        LastLoginAt = "last_login_at",
    }
}

/// Where the previous page ended: the sort key and id of its last user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserCursor {
    Text(String, String),
    Time(NaiveDateTime, String),
    /// For the last-login order, where the time may be absent (never signed in).
    OptionalTime(Option<NaiveDateTime>, String),
}

#[derive(Debug, Clone)]
pub struct UserListQuery {
    /// Rule 4: set to the caller's own corporation for a main user, whatever was asked.
    pub corporation_code: Option<CorporationCode>,
    pub user_type: Option<UserType>,
    pub role: Option<Role>,
    pub contractor_id: Option<String>,
    /// Only active users (`true`), only deactivated ones (`false`), or both (`None`).
    pub active: Option<bool>,
    /// Case-insensitive substring of first name, last name or email.
    pub text: Option<String>,
    pub sort: UserSort,
    pub after: Option<UserCursor>,
    /// Users per page.
    pub page_size: usize,
}
