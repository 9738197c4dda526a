//! The messages the product sends, in Dutch, as plain text and HTML alternatives.
//!
//! A template gets only what its reader needs: a first name, the organisation, who invited
//! them, a link and its expiry. No other personal data.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::domain::dutch_time::dutch_date_time;

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What an invitation says, stored in the outbox (the link is added when it is sent).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvitationMail {
    pub token_id: String,
    pub first_name: String,
    /// The corporation, or for a contractor user "{contractor} (aannemer van {corporation})".
    pub organisation: String,
    /// Who sent it: the main user's name, or "KWH" for staff and automatic invitations.
    pub inviter: String,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordResetMail {
    pub token_id: String,
    pub first_name: String,
    pub expires_at: NaiveDateTime,
}

/// A decision about something a person asked for (the report-settings approval reuses this).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionMail {
    pub first_name: String,
    pub subject: String,
    pub approved: bool,
    pub what: String,
    pub reason: Option<String>,
}

/// A new report-settings request, for KWH's review mailbox (`APPROVALS_NOTIFY`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApprovalRequestMail {
    pub approval_id: String,
    pub contractor: String,
    pub corporation: String,
    /// The main user (or KWH employee) who asked.
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
    /// One Dutch line per field that changes.
    pub changes: Vec<String>,
    /// The warnings for the GDPR check, in Dutch.
    pub warnings: Vec<String>,
}

pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn html_page(paragraphs: &[String], link: Option<(&str, &str)>) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family: Arial, sans-serif; line-height: 1.5\">",
    );
    for (index, paragraph) in paragraphs.iter().enumerate() {
        html.push_str(&format!("<p>{}</p>", escape_html(paragraph).replace('\n', "<br>")));
        if index == 1
            && let Some((label, href)) = link
        {
            html.push_str(&format!(
                "<p><a href=\"{}\" style=\"background:#00508c;color:#fff;padding:10px 16px;text-decoration:none\">{}</a></p>\
                 <p style=\"font-size:small\">Werkt de knop niet? Kopieer dan deze link: {}</p>",
                escape_html(href),
                escape_html(label),
                escape_html(href)
            ));
        }
    }
    html.push_str("</body></html>");
    html
}

const SIGNATURE: &str = "Met vriendelijke groet,\nKWH";

/// A message whose link follows its second paragraph, in text and as a button in HTML.
fn with_link(subject: String, paragraphs: &[String], label: &str, link: &str) -> Rendered {
    let mut text = String::new();
    for (index, paragraph) in paragraphs.iter().enumerate() {
        text.push_str(paragraph);
        text.push_str("\n\n");
        if index == 1 {
            text.push_str(link);
            text.push_str("\n\n");
        }
    }
    Rendered {
        subject,
        text: text.trim_end().to_string() + "\n",
        html: html_page(paragraphs, Some((label, link))),
    }
}

pub fn invitation(mail: &InvitationMail, link: &str) -> Rendered {
    let subject = format!("Uitnodiging voor Mijn KWH – {}", mail.organisation);
    let paragraphs = vec![
        format!("Beste {},", mail.first_name),
        format!(
            "{} heeft u uitgenodigd voor Mijn KWH namens {}. Via de link hieronder stelt u uw wachtwoord in.",
            mail.inviter, mail.organisation
        ),
        format!(
            "De link is geldig tot {} en werkt één keer.",
            dutch_date_time(mail.expires_at)
        ),
        "Had u deze uitnodiging niet verwacht? Dan kunt u deze e-mail negeren.".to_string(),
        SIGNATURE.to_string(),
    ];
    with_link(subject, &paragraphs, "Wachtwoord instellen", link)
}

pub fn password_reset(mail: &PasswordResetMail, link: &str) -> Rendered {
    let subject = "Wachtwoord herstellen voor Mijn KWH".to_string();
    let paragraphs = vec![
        format!("Beste {},", mail.first_name),
        "Er is gevraagd om uw wachtwoord voor Mijn KWH te herstellen. Via de link hieronder kiest u een nieuw wachtwoord.".to_string(),
        format!("De link is geldig tot {} en werkt één keer.", dutch_date_time(mail.expires_at)),
        "Heeft u dit niet zelf gevraagd? Dan kunt u deze e-mail negeren; uw wachtwoord blijft zoals het is.".to_string(),
        SIGNATURE.to_string(),
    ];
    with_link(subject, &paragraphs, "Nieuw wachtwoord kiezen", link)
}

pub fn decision(mail: &DecisionMail) -> Rendered {
    let verdict = if mail.approved { "goedgekeurd" } else { "afgewezen" };
    let mut paragraphs = vec![
        format!("Beste {},", mail.first_name),
        format!("Uw aanvraag is {verdict} door KWH: {}.", mail.what),
    ];
    if let Some(reason) = &mail.reason {
        paragraphs.push(format!("Reden: {reason}"));
    }
    paragraphs.push(SIGNATURE.to_string());
    let text = paragraphs.join("\n\n") + "\n";
    Rendered {
        subject: mail.subject.clone(),
        text,
        html: html_page(&paragraphs, None),
    }
}

pub fn approval_request(mail: &ApprovalRequestMail) -> Rendered {
    let subject = format!(
        "Te controleren: rapportage-instellingen {} ({})",
        mail.contractor, mail.corporation
    );
    let bullets = |lines: &[String]| lines.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n");
    let mut paragraphs = vec![
        "Beste collega,".to_string(),
        format!(
            "{} heeft op {} een wijziging van de rapportage-instellingen van {} ({}) aangevraagd. \
             De wijziging gaat pas in na goedkeuring door KWH; de aanvrager krijgt bericht zodra de \
             instellingen zijn gecheckt.",
            mail.requested_by,
            dutch_date_time(mail.requested_at),
            mail.contractor,
            mail.corporation
        ),
        format!("Wat verandert:\n{}", bullets(&mail.changes)),
    ];
    if mail.warnings.is_empty() {
        paragraphs.push("Geen waarschuwingen.".to_string());
    } else {
        paragraphs.push(format!("Let op bij de AVG-check:\n{}", bullets(&mail.warnings)));
    }
    paragraphs.push(format!(
        "Aanvraag: {} (GET /approvals/{}).",
        mail.approval_id, mail.approval_id
    ));
    paragraphs.push(SIGNATURE.replace("KWH", "Mijn KWH"));
    let text = paragraphs.join("\n\n") + "\n";
    Rendered {
        subject,
        text,
        html: html_page(&paragraphs, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2024, 5, 7)
            .unwrap()
            .and_hms_opt(14, 19, 0)
            .unwrap()
    }

    #[test]
    fn an_invitation_gives_its_expiry_on_amsterdams_clock() {
        let mail = InvitationMail {
            token_id: "t".into(),
            first_name: "Jan".into(),
            organisation: "Woonstichting".into(),
            inviter: "KWH".into(),
            expires_at: at(),
        };
        let rendered = invitation(&mail, "https://mijn.kwh.nl/uitnodiging?token=abc");
        assert!(
            rendered.text.contains("dinsdag 07 mei 2024, 16:19"),
            "{}",
            rendered.text
        );
        assert!(!rendered.text.contains("UTC"));
    }

    #[test]
    fn invitations_name_the_organisation_the_inviter_and_hold_the_link() {
        let mail = InvitationMail {
            token_id: "t".into(),
            first_name: "Zoë".into(),
            organisation: "Woonstichting <De Linie>".into(),
            inviter: "Hanneke de Hoofdgebruiker".into(),
            expires_at: at(),
        };
        let rendered = invitation(&mail, "https://mijn.kwh.nl/uitnodiging?token=abc");
        assert!(rendered.subject.contains("Woonstichting <De Linie>"));
        assert!(rendered.text.contains("Beste Zoë,"));
        assert!(rendered.text.contains("Hanneke de Hoofdgebruiker heeft u uitgenodigd"));
        assert!(rendered.text.contains("https://mijn.kwh.nl/uitnodiging?token=abc"));
        assert!(rendered.html.contains("&lt;De Linie&gt;"), "HTML is escaped");
        assert!(!rendered.html.contains("<De Linie>"));
    }

    #[test]
    fn rejections_give_the_reason() {
        let rendered = decision(&DecisionMail {
            first_name: "Jan".into(),
            subject: "Rapportage-instellingen afgewezen".into(),
            approved: false,
            what: "de rapportage-instellingen van Installatietechniek".into(),
            reason: Some("Excel alleen voor één aannemer".into()),
        });
        assert!(rendered.text.contains("afgewezen"));
        assert!(rendered.text.contains("Reden: Excel alleen voor één aannemer"));
    }
}
