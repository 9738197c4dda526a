//! Use cases: each runs its rules and storage in one transaction, with its audit event.

pub mod audit;
pub mod bootstrap;
pub mod corporations;
pub mod demo;
pub mod users;
