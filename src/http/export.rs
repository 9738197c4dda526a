//! The user list as the main user's spreadsheet: the columns of the Gebruikersbeheer screens.
//!
//! The body streams: each page of users is read from the database when the client has taken
//! the one before, so an export of any size holds one page in memory, never the whole list.

use actix_web::web::{self, Bytes};
use actix_web::{HttpResponse, http::header};
use chrono::NaiveDateTime;
use futures_util::stream::{self, StreamExt};

use super::problem::AppError;
use super::state::AppState;
use super::users::UserResponse;
use crate::domain::corporation::CorporationCode;
use crate::domain::dutch_time::dutch_date_time;
use crate::domain::user::Actor;
use crate::domain::user_list::UserListQuery;
use crate::service::users as use_cases;

/// Users per database read: 500 rows of text are some 150 kB.
const PAGE: usize = 500;

/// New columns go at the end, so that a spreadsheet built on the old ones keeps working.
const COLUMNS: [&str; 17] = [
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
    "Actief",
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

/// Every user the query matches, in its order, as a streamed CSV download.
///
/// The first page is read before answering, so that a database that does not answer gives a
/// problem+json (503) rather than a cut-off file. A later page that fails can only end the
/// body early: the client sees an incomplete transfer, never a shorter file that looks whole.
pub async fn users_csv(
    state: web::Data<AppState>,
    actor: Actor,
    requested: Option<CorporationCode>,
    mut query: UserListQuery,
    now: NaiveDateTime,
) -> Result<HttpResponse, AppError> {
    query.after = None;
    query.page_size = PAGE;
    let export = Export { actor, requested };
    let first = read_page(&state, export.clone(), query, now).await?;
    let head = format!("\u{feff}{}\r\n{}", COLUMNS.join(";"), first.csv);
    let rest = stream::unfold(first.next, move |next| {
        let state = state.clone();
        let export = export.clone();
        async move {
            let page = read_page(&state, export, next?, now).await;
            Some(match page {
                Ok(page) => (Ok(Bytes::from(page.csv)), page.next),
                Err(error) => {
                    tracing::error!(error = ?error, "users export: a page could not be read; the body ends early");
                    (Err(std::io::Error::other("the export was interrupted")), None)
                }
            })
        }
    });
    let body = stream::once(async move { Ok(Bytes::from(head)) }).chain(rest);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"gebruikers.csv\""))
        .streaming(body))
}

/// One page as CSV lines, and the query of the page after it (`None` after the last).
struct Page {
    csv: String,
    next: Option<UserListQuery>,
}

/// Who exports, and which corporation they asked for: each page is read in their scope.
#[derive(Clone)]
struct Export {
    actor: Actor,
    requested: Option<CorporationCode>,
}

async fn read_page(
    state: &AppState,
    export: Export,
    mut query: UserListQuery,
    now: NaiveDateTime,
) -> Result<Page, AppError> {
    state
        .db(move |conn| {
            let page = use_cases::list(conn, &export.actor, export.requested, query.clone(), now)?;
            let after = page
                .users
                .last()
                .filter(|_| page.more)
                .map(|last| use_cases::cursor_after(query.sort, last));
            let mut csv = String::new();
            for user in page.users {
                csv.push_str(&line(&UserResponse::from(user)));
                csv.push_str("\r\n");
            }
            let next = after.map(|after| {
                query.after = Some(after);
                query
            });
            Ok(Page { csv, next })
        })
        .await
}

fn yes_no(value: bool) -> &'static str {
    if value { "Ja" } else { "Nee" }
}

fn line(user: &UserResponse) -> String {
    let list = |keys: &[&str]| keys.iter().map(|k| dutch(k)).collect::<Vec<_>>().join(", ");
    let when =
        |at: Option<chrono::DateTime<chrono::Utc>>| at.map(|t| dutch_date_time(t.naive_utc())).unwrap_or_default();
    let values = [
        user.email.clone(),
        dutch(user.user_type).to_string(),
        user.corporation_code.clone().unwrap_or_default(),
        user.contractor.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
        user.first_name.clone(),
        user.last_name.clone(),
        user.job_title.clone().unwrap_or_default(),
        user.phone.clone().unwrap_or_default(),
        user.remarks.clone().unwrap_or_default(),
        dutch(user.role).to_string(),
        list(&user.access),
        list(&user.email_notifications),
        yes_no(user.excel_download).to_string(),
        when(user.last_login_at),
        when(user.invitation.sent_at),
        dutch(user.invitation.status).to_string(),
        yes_no(user.active).to_string(),
    ];
    values.iter().map(|v| field(v)).collect::<Vec<_>>().join(";")
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
