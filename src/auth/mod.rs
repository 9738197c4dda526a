//! Passwords and access tokens.

pub mod password;
pub mod token;
