//! Passwords and access tokens.

pub mod password;
pub mod password_threads;
pub mod token;
