//! Mijn KWH user management (Gebruikersbeheer) API.
//!
//! `domain` holds the rules without I/O; `db` the storage; `http` the API over both; `app`
//! wires them into a server.

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod service;
pub mod telemetry;
