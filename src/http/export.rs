//! The user list as the main user's spreadsheet: the columns of the Gebruikersbeheer screens.

use chrono::NaiveDateTime;

use super::users::user_responses;
use crate::db::DbConn;
use crate::db::users::{self as store, UserCursor, UserListQuery, UserSort};
use crate::domain::dutch_time::dutch_date_time;

/// More rows than any corporation has; a bound so one request cannot run without end.
const MAX_ROWS: usize = 100_000;
const PAGE: i64 = 500;

const COLUMNS: [&str; 16] = [
    "E-mail",
    "Type gebruiker",
    "CorporatieCode",
    "Aannemer",
    "Voornaam",
    "Achternaam",
    "Functie",
    "Telefoon",
    "Opmerkingen",
    "Rechten",
    "Toegang tot",
    "Email ontvangen voor",
    "Excel Download",
    "Laatste aanmelding",
    "Uitnodiging verzonden",
    "Uitnodiging",
];

/// One field, quoted when needed. A leading `=`, `+`, `-` or `@` would make a spreadsheet run
/// it as a formula, so such text gets a leading apostrophe.
fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn dutch(key: &str) -> &str {
    match key {
        "corporation" => "Corporatie",
        "contractor" => "Aannemer",
        "kwh" => "KWH",
        "user" => "Gebruiker",
        "main_user" => "Hoofdgebruiker",
        "kwh_admin" => "KWH medewerker",
        "mijn_kwh" => "Mijn KWH",
        "klantvizier" => "Klantvizier",
        "delivery_reminder" => "Herinnering voor aanleveren",
        "validation_report" => "Validatieverslag aangeleverd bestand",
        "not_sent" => "Niet verzonden",
        "sent" => "Verzonden",
        "accepted" => "Bevestigd",
        "expired" => "Verlopen",
        other => other,
    }
}

/// Every user the query matches, walked page by page in its order.
pub fn users_csv(conn: &mut DbConn, mut query: UserListQuery, now: NaiveDateTime) -> diesel::QueryResult<String> {
    let mut csv = String::from("\u{feff}");
    csv.push_str(&COLUMNS.join(";"));
    csv.push_str("\r\n");
    query.after = None;
    query.limit = PAGE;
    let mut written = 0;
    loop {
        let rows = store::list(conn, &query)?;
        let Some(last) = rows.last() else { break };
        query.after = Some(match query.sort {
            UserSort::LastName => UserCursor::Text(last.last_name.clone(), last.id.clone()),
            UserSort::Email => UserCursor::Text(last.email.clone(), last.id.clone()),
            UserSort::CreatedAt => UserCursor::Time(last.created_at, last.id.clone()),
            UserSort::LastLoginAt => UserCursor::OptionalTime(last.last_login_at, last.id.clone()),
        });
        let full_page = rows.len() as i64 == PAGE;
        for user in user_responses(conn, rows, now)? {
            let list = |keys: &[String]| keys.iter().map(|k| dutch(k)).collect::<Vec<_>>().join(", ");
            let when = |at: Option<chrono::DateTime<chrono::Utc>>| {
                at.map(|t| dutch_date_time(t.naive_utc())).unwrap_or_default()
            };
            let values = [
                user.email.clone(),
                dutch(&user.user_type).to_string(),
                user.corporation_code.clone().unwrap_or_default(),
                user.contractor.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
                user.first_name.clone(),
                user.last_name.clone(),
                user.job_title.clone().unwrap_or_default(),
                user.phone.clone().unwrap_or_default(),
                user.remarks.clone().unwrap_or_default(),
                dutch(&user.role).to_string(),
                list(&user.access),
                list(&user.email_notifications),
                if user.excel_download { "Ja" } else { "Nee" }.to_string(),
                when(user.last_login_at),
                when(user.invitation.sent_at),
                dutch(&user.invitation.status).to_string(),
            ];
            csv.push_str(&values.iter().map(|v| field(v)).collect::<Vec<_>>().join(";"));
            csv.push_str("\r\n");
            written += 1;
        }
        if !full_page || written >= MAX_ROWS {
            break;
        }
    }
    Ok(csv)
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("Jansen"), "Jansen");
        assert_eq!(field("a;b"), "\"a;b\"");
        assert_eq!(field("zegt \"hoi\""), "\"zegt \"\"hoi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("+31 10 123"), "'+31 10 123");
    }
}
