//! The rules of PRODUCT.md as pure Rust: types that can only hold valid values, and functions
//! that check combinations and return `Result`. No database, HTTP, clock or environment here.

pub mod corporation;
pub mod dutch_time;
pub mod email;
pub mod names;
pub mod report_settings;
pub mod text;
pub mod user;
pub mod violation;

pub use violation::{Violation, Violations};
