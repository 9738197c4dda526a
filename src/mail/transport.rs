//! Where messages go: `.eml` files (the embedded default) or an SMTP server.

use std::error::Error as _;
use std::time::Duration;

use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailTransport;
use crate::domain::delivery::{DeliveryError, Failure, classify};

/// A failed attempt: the mail library's description with the server's reply (for KWH support
/// only), and its class (for everyone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    pub text: String,
    pub class: DeliveryError,
}

impl DeliveryFailure {
    pub fn new(text: impl Into<String>, class: DeliveryError) -> Self {
        DeliveryFailure {
            text: text.into(),
            class,
        }
    }
}

fn smtp_failure(error: &lettre::transport::smtp::Error) -> DeliveryFailure {
    let reply = error.source().map(ToString::to_string).unwrap_or_default();
    let failure = match error.status() {
        Some(code) => Failure::Reply {
            code: code.to_string().parse().unwrap_or(0),
            text: &reply,
        },
        None if error.is_tls() => Failure::Tls,
        None if error.is_client() => Failure::Client,
        None => Failure::Unreachable,
    };
    DeliveryFailure::new(error.to_string(), classify(failure))
}

pub enum Mailer {
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Mailer {
    /// `timeout` cuts off an SMTP conversation that hangs; the message is retried later.
    pub fn from_settings(transport: &MailTransport, timeout: Duration) -> anyhow::Result<Mailer> {
        match transport {
            MailTransport::File { dir } => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("cannot create MAIL_DIR {}: {e}", dir.display()))?;
                Ok(Mailer::File(AsyncFileTransport::new(dir)))
            }
            MailTransport::Smtp { url } => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| anyhow::anyhow!("SMTP_URL cannot be used: {e}"))?
                    .timeout(Some(timeout))
                    .build();
                Ok(Mailer::Smtp(transport))
            }
        }
    }

    /// Hands the message over; `Err` carries a description safe to store and show to support.
    pub async fn send(&self, message: Message) -> Result<(), DeliveryFailure> {
        match self {
            // The mail folder is ours: a failure to write there is our configuration.
            Mailer::File(transport) => transport
                .send(message)
                .await
                .map(drop)
                .map_err(|e| DeliveryFailure::new(e.to_string(), DeliveryError::Configuration)),
            Mailer::Smtp(transport) => transport.send(message).await.map(drop).map_err(|e| smtp_failure(&e)),
        }
    }
}
