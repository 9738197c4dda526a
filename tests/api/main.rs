//! One integration-test binary: every capability in its own module, every test on both backends.

mod helpers;
mod smtp;

mod api_tokens;
mod approvals;
mod batch;
mod contractors;
mod foundation;
mod idempotency;
mod invitations;
mod operations;
mod outbox;
mod retention;
mod roles;
mod session;
mod users;
