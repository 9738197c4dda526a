//! Where messages go: `.eml` files (the embedded default) or an SMTP server.

use std::time::Duration;

use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailTransport;

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
    pub async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Mailer::File(transport) => transport.send(message).await.map(drop).map_err(|e| e.to_string()),
            Mailer::Smtp(transport) => transport.send(message).await.map(drop).map_err(|e| e.to_string()),
        }
    }
}
