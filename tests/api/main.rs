//! One integration-test binary: every capability in its own module, every test on both backends.

mod helpers;

mod foundation;
mod roles;
mod session;
mod users;
