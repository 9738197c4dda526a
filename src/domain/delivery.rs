//! Why an email could not be delivered, in words a main user can act on.
//!
//! The mail server's own reply (addresses, host names, software versions) is for KWH support;
//! a main user sees only the class: a mistyped address asks for a new user, a temporary failure
//! for patience, a configuration problem for a call to KWH.

use super::keyed::keyed_enum;

keyed_enum! {
    /// The class of a failed delivery attempt, as the API shows it to everyone.
    pub enum DeliveryError {
        /// The recipient's mailbox does not exist or cannot receive mail (5.1.x; 550, 551, 553).
        MailboxUnavailable = "mailbox_unavailable",
        /// Refused for good for another reason (other permanent 5xx, e.g. a spam policy).
        Rejected = "rejected",
        /// Worth retrying: a 4xx reply, no connection, a timeout.
        TemporaryFailure = "temporary_failure",
        /// Our side is set up wrongly: TLS or authentication with the mail server.
        Configuration = "configuration",
    }
}

/// What went wrong in one attempt, as far as the mail library can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure<'a> {
    /// The server answered with a negative reply: its code and its text.
    Reply { code: u16, text: &'a str },
    /// No conversation: refused or dropped connection, or no answer in time.
    Unreachable,
    /// The TLS handshake failed.
    Tls,
    /// The client could not go on, e.g. no authentication mechanism the server offers.
    Client,
    /// The message could not be built from the recipient's address.
    InvalidRecipient,
}

/// Reply codes of authentication (RFC 4954): our credentials, not the recipient.
const AUTHENTICATION_REPLIES: [u16; 4] = [530, 534, 535, 538];

pub fn classify(failure: Failure<'_>) -> DeliveryError {
    match failure {
        Failure::Unreachable => DeliveryError::TemporaryFailure,
        Failure::Tls | Failure::Client => DeliveryError::Configuration,
        Failure::InvalidRecipient => DeliveryError::MailboxUnavailable,
        Failure::Reply { code, text } => classify_reply(code, enhanced_status(text)),
    }
}

fn classify_reply(code: u16, enhanced: Option<(u8, u16, u16)>) -> DeliveryError {
    if AUTHENTICATION_REPLIES.contains(&code) || matches!(enhanced, Some((_, 7, 8 | 9))) {
        return DeliveryError::Configuration;
    }
    match (code / 100, enhanced) {
        (4, _) => DeliveryError::TemporaryFailure,
        // The enhanced code (RFC 3463) is more precise than the reply code: "550 5.7.1" is a
        // policy refusal, not an unknown mailbox.
        (5, Some((_, 1, _))) => DeliveryError::MailboxUnavailable,
        (5, Some(_)) => DeliveryError::Rejected,
        (5, None) if matches!(code, 550 | 551 | 553) => DeliveryError::MailboxUnavailable,
        (5, None) => DeliveryError::Rejected,
        // Not a negative reply at all: whatever it was, trying again may help.
        _ => DeliveryError::TemporaryFailure,
    }
}

/// The enhanced status code (`class.subject.detail`, RFC 3463) a reply text starts with.
fn enhanced_status(text: &str) -> Option<(u8, u16, u16)> {
    let word = text.split_whitespace().next()?;
    let mut parts = word.split('.');
    let class: u8 = parts.next()?.parse().ok()?;
    let subject: u16 = parts.next()?.parse().ok()?;
    let detail: u16 = parts.next()?.parse().ok()?;
    (parts.next().is_none() && matches!(class, 2 | 4 | 5)).then_some((class, subject, detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, text: &str) -> DeliveryError {
        classify(Failure::Reply { code, text })
    }

    #[test]
    fn an_unknown_mailbox_is_mailbox_unavailable_by_its_enhanced_or_its_reply_code() {
        assert_eq!(
            reply(550, "5.1.1 <jan@example.nl>: Recipient address rejected"),
            DeliveryError::MailboxUnavailable
        );
        assert_eq!(reply(554, "5.1.0 Address rejected"), DeliveryError::MailboxUnavailable);
        for code in [550, 551, 553] {
            assert_eq!(
                reply(code, "No such user here"),
                DeliveryError::MailboxUnavailable,
                "{code}"
            );
        }
    }

    #[test]
    fn another_permanent_refusal_is_rejected_even_on_550() {
        assert_eq!(reply(550, "5.7.1 Message refused by policy"), DeliveryError::Rejected);
        assert_eq!(reply(552, "Message size exceeds fixed limit"), DeliveryError::Rejected);
        assert_eq!(reply(554, "Transaction failed"), DeliveryError::Rejected);
    }

    #[test]
    fn a_4xx_reply_or_no_connection_is_temporary() {
        assert_eq!(reply(451, "4.3.0 Try again later"), DeliveryError::TemporaryFailure);
        assert_eq!(reply(421, "Service not available"), DeliveryError::TemporaryFailure);
        assert_eq!(classify(Failure::Unreachable), DeliveryError::TemporaryFailure);
    }

    #[test]
    fn tls_and_authentication_are_our_configuration() {
        assert_eq!(classify(Failure::Tls), DeliveryError::Configuration);
        assert_eq!(classify(Failure::Client), DeliveryError::Configuration);
        assert_eq!(
            reply(535, "5.7.8 Authentication credentials invalid"),
            DeliveryError::Configuration
        );
        assert_eq!(reply(530, "Authentication required"), DeliveryError::Configuration);
        assert_eq!(
            reply(454, "4.7.9 Temporary authentication failure"),
            DeliveryError::Configuration
        );
    }

    #[test]
    fn only_a_well_formed_enhanced_code_counts() {
        assert_eq!(enhanced_status("5.1.1 unknown"), Some((5, 1, 1)));
        assert_eq!(enhanced_status("5.1 unknown"), None);
        assert_eq!(enhanced_status("3.1.1 unknown"), None);
        assert_eq!(enhanced_status("5.1.1.1 unknown"), None);
        assert_eq!(enhanced_status(""), None);
        // A version number in the text is no status code.
        assert_eq!(reply(552, "Postfix 3.7.2 says no"), DeliveryError::Rejected);
    }

    #[test]
    fn keys_round_trip() {
        for &class in DeliveryError::ALL {
            assert_eq!(DeliveryError::from_key(class.key()), Some(class));
        }
        assert_eq!(DeliveryError::from_key("550"), None);
    }
}
