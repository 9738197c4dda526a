//! The transactional outbox: a message is a row written in the transaction of the change that
//! causes it; a sender in every instance delivers due rows, retries with backoff, and marks
//! them sent once the mail server accepted them.
//!
//! Links are minted at delivery: the token is derived from the link's id and a server key
//! (the same on every attempt, so a retried message carries the link an earlier attempt may
//! already have delivered), its hash stored on the link's row, and the plaintext exists only
//! in the message itself. A link voided before its message goes out cancels the message.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::QueryResult;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use tokio::sync::Notify;
use url::Url;

use super::templates::{self, ApprovalRequestMail, DecisionMail, InvitationMail, PasswordResetMail, Rendered};
use super::transport::{DeliveryFailure, Mailer};
use crate::auth::token::{LinkKey, link_token_hash};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::rows::OutboxRow;
use crate::db::{DbConn, DbPool, outbox, user_tokens};
use crate::domain::delivery::{DeliveryError, Failure, classify};
use crate::metrics::Metrics;

pub enum OutgoingMail {
    Invitation(InvitationMail),
    PasswordReset(PasswordResetMail),
    Decision(DecisionMail),
    ApprovalRequest(ApprovalRequestMail),
}

impl OutgoingMail {
    fn kind(&self) -> &'static str {
        match self {
            OutgoingMail::Invitation(_) => "invitation",
            OutgoingMail::PasswordReset(_) => "password_reset",
            OutgoingMail::Decision(_) => "decision",
            OutgoingMail::ApprovalRequest(_) => "approval_request",
        }
    }

    fn payload(&self) -> String {
        match self {
            OutgoingMail::Invitation(mail) => serde_json::to_string(mail),
            OutgoingMail::PasswordReset(mail) => serde_json::to_string(mail),
            OutgoingMail::Decision(mail) => serde_json::to_string(mail),
            OutgoingMail::ApprovalRequest(mail) => serde_json::to_string(mail),
        }
        .expect("mail payloads serialise")
    }
}

/// Queues a message; call it inside the transaction of the change that causes it.
pub fn enqueue(
    conn: &mut DbConn,
    recipient: &str,
    user_id: Option<&str>,
    mail: &OutgoingMail,
    now: NaiveDateTime,
) -> QueryResult<OutboxRow> {
    let id = uuid::Uuid::now_v7();
    let row = OutboxRow {
        id: id.to_string(),
        kind: mail.kind().to_string(),
        user_id: user_id.map(str::to_string),
        recipient: recipient.to_string(),
        payload: mail.payload(),
        message_id: format!("<{}@mijnkwh>", id.simple()),
        created_at: now,
        next_attempt_at: now,
        attempts: 0,
        last_error: None,
        claimed_by: None,
        claimed_until: None,
        sent_at: None,
        failed_at: None,
        cancelled_at: None,
        delivery_error: None,
    };
    outbox::insert(conn, &row)?;
    Ok(row)
}

/// An instance claims one message at a time, for twice the SMTP timeout: the one attempt a
/// claim covers always ends before the claim does, so no other instance can take the message
/// while it is being sent, and a crashed instance holds up at most one message, briefly.
const CLAIM: i64 = 1;

pub struct Sender {
    pool: DbPool,
    mailer: Mailer,
    clock: Arc<dyn Clock>,
    from: Mailbox,
    public_base_url: Url,
    link_key: LinkKey,
    retry_base: Duration,
    retry_max: Duration,
    max_attempts: i32,
    poll_interval: Duration,
    smtp_timeout: Duration,
    instance: String,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
}

/// What delivering one message needs, prepared in the database.
enum Prepared {
    Send(Message),
    /// The link was used or voided, or the user is gone: nothing to send.
    Cancelled,
    /// The message cannot be built (e.g. an address the mail library refuses): give up.
    Broken(DeliveryFailure),
}

impl Sender {
    pub fn new(
        settings: &Settings,
        link_key: LinkKey,
        pool: DbPool,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Sender> {
        Ok(Sender {
            pool,
            mailer: Mailer::from_settings(&settings.mail.transport, settings.mail.smtp_timeout)?,
            clock,
            from: settings.mail.from.clone(),
            public_base_url: settings.public_base_url.clone(),
            link_key,
            retry_base: settings.mail.retry_base,
            retry_max: settings.mail.retry_max,
            max_attempts: settings.mail.max_attempts,
            poll_interval: settings.mail.poll_interval,
            smtp_timeout: settings.mail.smtp_timeout,
            instance: uuid::Uuid::new_v4().to_string(),
            wake,
            metrics,
        })
    }

    /// Delivers forever: right away when woken, otherwise every poll interval.
    pub async fn run(self) {
        let this = Arc::new(self);
        loop {
            match this.clone().deliver_due().await {
                Ok(count) if count > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(error = %format!("{error:#}"), "outbox: delivering failed"),
            }
            tokio::select! {
                _ = this.wake.notified() => {}
                _ = tokio::time::sleep(this.poll_interval) => {}
            }
        }
    }

    async fn with_db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConn) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            let result = work(&mut conn);
            if result.is_err() {
                conn.mark_suspect();
            }
            result
        })
        .await?
    }

    /// Claims due messages and delivers them; returns how many it claimed.
    pub async fn deliver_due(self: Arc<Self>) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let lease_until = now + chrono::Duration::from_std(self.smtp_timeout * 2)?;
        let instance = self.instance.clone();
        let claimed = self
            .with_db(move |conn| Ok(outbox::claim_due(conn, &instance, now, lease_until, CLAIM)?))
            .await?;
        let count = claimed.len();
        for row in claimed {
            self.deliver(row).await?;
        }
        Ok(count)
    }

    async fn deliver(&self, row: OutboxRow) -> anyhow::Result<()> {
        let this_row = row.clone();
        let from = self.from.clone();
        let links = Links {
            base: self.public_base_url.clone(),
            key: self.link_key.clone(),
        };
        let now = self.clock.now();
        let prepared = self
            .with_db(move |conn| prepare(conn, &this_row, from, &links, now))
            .await?;
        let instance = self.instance.clone();
        let id = row.id.clone();
        let counted = |outcome: &str| self.metrics.mail_deliveries.with_label_values(&[outcome]).inc();
        // A message that cannot be built fails for good; one the server refused may be retried.
        let (error, failed_at, retry_at) = match prepared {
            Prepared::Cancelled => {
                counted("cancelled");
                return self.with_db(move |conn| Ok(outbox::cancel(conn, &id, now)?)).await;
            }
            Prepared::Broken(error) => {
                counted("failed");
                tracing::error!(message = %row.id, error = %error.text, "outbox: message cannot be built");
                (error, now, None)
            }
            Prepared::Send(message) => match self.mailer.send(message).await {
                Ok(()) => {
                    counted("sent");
                    let sent_at = self.clock.now();
                    tracing::info!(message = %row.id, kind = %row.kind, "outbox: sent");
                    return self
                        .with_db(move |conn| Ok(outbox::mark_sent(conn, &id, &instance, sent_at)?))
                        .await;
                }
                Err(error) => {
                    let failed_at = self.clock.now();
                    let retry_at = self.retry_at(row.attempts, failed_at);
                    counted(if retry_at.is_some() { "retry" } else { "failed" });
                    tracing::warn!(message = %row.id, attempt = row.attempts + 1, error = %error.text, class = error.class.key(), "outbox: delivery failed");
                    (error, failed_at, retry_at)
                }
            },
        };
        self.with_db(move |conn| {
            Ok(outbox::mark_failed(
                conn,
                &id,
                &instance,
                &error.text,
                error.class,
                failed_at,
                retry_at,
            )?)
        })
        .await
    }

    /// Exponential backoff with jitter: base × 2^attempts, capped, then 50–100% of that.
    fn retry_at(&self, attempts_before: i32, now: NaiveDateTime) -> Option<NaiveDateTime> {
        if attempts_before + 1 >= self.max_attempts {
            return None;
        }
        let exponential = self
            .retry_base
            .saturating_mul(2u32.saturating_pow(attempts_before.clamp(0, 30) as u32));
        let capped = exponential.min(self.retry_max);
        let jittered = capped.mul_f64(0.5 + rand::random::<f64>() * 0.5);
        Some(now + chrono::Duration::from_std(jittered).unwrap_or(chrono::Duration::hours(1)))
    }
}

/// What minting a link needs: where the frontend is, and the key tokens are derived with.
struct Links {
    base: Url,
    key: LinkKey,
}

/// Mints the link (if the message carries one) and builds the message.
fn prepare(
    conn: &mut DbConn,
    row: &OutboxRow,
    from: Mailbox,
    links: &Links,
    now: NaiveDateTime,
) -> anyhow::Result<Prepared> {
    let rendered = match row.kind.as_str() {
        "invitation" => {
            let mail: InvitationMail = serde_json::from_str(&row.payload)?;
            match mint_link(conn, &mail.token_id, links, "uitnodiging", now)? {
                Some(link) => templates::invitation(&mail, &link),
                None => return Ok(Prepared::Cancelled),
            }
        }
        "password_reset" => {
            let mail: PasswordResetMail = serde_json::from_str(&row.payload)?;
            match mint_link(conn, &mail.token_id, links, "wachtwoord-herstellen", now)? {
                Some(link) => templates::password_reset(&mail, &link),
                None => return Ok(Prepared::Cancelled),
            }
        }
        "decision" => templates::decision(&serde_json::from_str::<DecisionMail>(&row.payload)?),
        "approval_request" => templates::approval_request(&serde_json::from_str::<ApprovalRequestMail>(&row.payload)?),
        other => {
            return Ok(Prepared::Broken(DeliveryFailure::new(
                format!("unknown message kind {other}"),
                DeliveryError::Configuration,
            )));
        }
    };
    Ok(match build_message(row, from, rendered) {
        Ok(message) => Prepared::Send(message),
        Err(error) => Prepared::Broken(error),
    })
}

/// The link's token, or `None` when the link was used, voided or has expired.
fn mint_link(
    conn: &mut DbConn,
    token_id: &str,
    links: &Links,
    page: &str,
    now: NaiveDateTime,
) -> anyhow::Result<Option<String>> {
    let Some(link) = user_tokens::find(conn, token_id)? else {
        return Ok(None);
    };
    if link.expires_at <= now {
        return Ok(None);
    }
    let token = links.key.token_for(token_id);
    if !user_tokens::set_hash_if_open(conn, token_id, &link_token_hash(&token))? {
        return Ok(None);
    }
    Ok(Some(frontend_link(&links.base, page, &token)))
}

/// `PUBLIC_BASE_URL/page?token=…`, keeping the base's path with or without its trailing
/// slash (a frontend under `/mijnkwh` gets `/mijnkwh/uitnodiging`; `Url::join` would drop the
/// last segment of a base without the slash).
pub fn frontend_link(base: &Url, page: &str, token: &str) -> String {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(page);
    }
    url.query_pairs_mut().append_pair("token", token);
    url.to_string()
}

fn build_message(row: &OutboxRow, from: Mailbox, rendered: Rendered) -> Result<Message, DeliveryFailure> {
    let to: Mailbox = row
        .recipient
        .parse()
        .map_err(|e| DeliveryFailure::new(format!("recipient refused: {e}"), classify(Failure::InvalidRecipient)))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(row.message_id.clone()))
        .multipart(MultiPart::alternative_plain_html(rendered.text, rendered.html))
        .map_err(|e| DeliveryFailure::new(format!("message cannot be built: {e}"), DeliveryError::Configuration))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_base_path_with_or_without_its_slash() {
        for base in ["https://portaal.kwh.nl/mijnkwh", "https://portaal.kwh.nl/mijnkwh/"] {
            assert_eq!(
                frontend_link(&Url::parse(base).unwrap(), "uitnodiging", "abc"),
                "https://portaal.kwh.nl/mijnkwh/uitnodiging?token=abc",
                "{base}"
            );
        }
        for base in ["https://mijn.kwh.nl", "https://mijn.kwh.nl/"] {
            assert_eq!(
                frontend_link(&Url::parse(base).unwrap(), "wachtwoord-herstellen", "abc"),
                "https://mijn.kwh.nl/wachtwoord-herstellen?token=abc"
            );
        }
    }
}
