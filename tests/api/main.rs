//! One integration-test binary: every capability in its own module, every test on both backends.

mod helpers;
mod smtp;

mod api_tokens;
mod approvals;
mod batch;
mod bounds;
mod contractors;
mod deactivation;
mod foundation;
mod idempotency;
mod integrity;
mod invitations;
mod operations;
mod outbox;
mod retention;
mod roles;
mod rules;
mod scim;
mod session;
mod trust;
mod users;
