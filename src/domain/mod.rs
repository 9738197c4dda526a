//! The rules of PRODUCT.md as pure Rust: types that can only hold valid values, and functions
//! that check combinations and return `Result`. No database, HTTP, clock or environment here.

pub mod corporation;
pub mod delivery;
pub mod dutch_time;
pub mod email;
pub mod keyed;
pub mod limits;
pub mod names;
pub mod report_settings;
pub mod scim;
pub mod sign_in;
pub mod text;
pub mod user;
pub mod user_list;
pub mod violation;

pub use violation::{Violation, Violations};
