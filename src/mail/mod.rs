//! Email: Dutch templates, the transports (files or SMTP) and the outbox sender.

pub mod outbox;
pub mod templates;
pub mod transport;
