//! Invitations, password resets and the outbox (rule 6), against a real SMTP server process.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::for_each_backend;
use crate::helpers::{Session, TestApp, problem};
use crate::smtp::{SmtpServer, free_port};

async fn colleague(app: &TestApp, main: &Session, email: &str) -> Value {
    app.create_user(
        main,
        json!({"email": email, "first_name": "Jan", "last_name": "Jansen"}),
    )
    .await
}

/// `POST /users/{id}/invite` as `session` (a request without a body).
pub async fn invite(session: &Session, id: &str) -> reqwest::Response {
    session
        .request(Method::POST, &format!("/users/{id}/invite"))
        .send()
        .await
        .unwrap()
}

async fn accept(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post("/invitations/accept")
        .json(&json!({"token": token, "password": password}))
        .send()
        .await
        .unwrap()
}

for_each_backend! {
    async fn an_invitation_arrives_with_a_link_that_works_once(backend) {
        let smtp = SmtpServer::start();
        let Some(app) = TestApp::spawn_with_smtp(backend, &smtp.url()).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = colleague(&app, &main, "jan@kwh001.example.nl").await;
        let id = user["id"].as_str().unwrap();
        assert_eq!(user["invitation"]["status"], "not_sent");

        let response = invite(&main, id).await;
        assert_eq!(response.status(), 202);
        let mail = smtp.wait_for(1).await.remove(0);
        assert_eq!(mail.to, "jan@kwh001.example.nl");
        assert!(mail.subject.contains("Woonstichting KWH001"), "{}", mail.subject);
        assert!(mail.text.contains("Beste Jan,"));
        assert!(mail.text.contains("Hanneke Hoofd heeft u uitgenodigd"), "{}", mail.text);
        assert!(mail.html.contains("Wachtwoord instellen"));
        let token = mail.link_token();
        assert_eq!(token.len(), 43, "256 bits, URL-safe base64");

        // Reading the link twice (a mail scanner, then the person) does not use it up.
        for _ in 0..2 {
            let info: Value = app.get(&format!("/invitations/{token}")).send().await.unwrap().json().await.unwrap();
            assert_eq!(info["email"], "jan@kwh001.example.nl");
            assert_eq!(info["first_name"], "Jan");
        }
        let shown = app.user(&main, id).await;
        assert_eq!(shown["invitation"]["status"], "sent");
        assert_eq!(shown["invitation"]["delivery"], "sent");
        assert!(shown["invitation"]["sent_at"].is_string());

        let accepted = accept(&app, &token, "een goed wachtwoord").await;
        assert_eq!(accepted.status(), 200);
        let signed_in: Value = accepted.json().await.unwrap();
        let me = app.get("/me").bearer_auth(signed_in["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(me.status(), 200);

        assert_eq!(problem(accept(&app, &token, "een ander wachtwoord").await, 410).await["code"], "invitation_used");
        assert_eq!(problem(app.get(&format!("/invitations/{token}")).send().await.unwrap(), 410).await["code"], "invitation_used");
        let shown = app.user(&main, id).await;
        assert_eq!(shown["invitation"]["status"], "accepted");
        assert!(shown["invitation"]["accepted_at"].is_string());
        assert_eq!(problem(invite(&main, id).await, 409).await["code"], "invitation_already_accepted");
        assert_eq!(app.login("jan@kwh001.example.nl", "een goed wachtwoord").await.status(), 200);
    }

    async fn a_new_invitation_voids_the_previous_link(backend) {
        let smtp = SmtpServer::start();
        let Some(app) = TestApp::spawn_with_smtp(backend, &smtp.url()).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = colleague(&app, &main, "jan@kwh001.example.nl").await;
        let id = user["id"].as_str().unwrap();
        invite(&main, id).await;
        let first = smtp.wait_for(1).await.remove(0).link_token();
        invite(&main, id).await;
        let second = smtp.wait_for(2).await.into_iter().map(|m| m.link_token()).find(|t| *t != first).unwrap();
        assert_eq!(problem(accept(&app, &first, "een goed wachtwoord").await, 410).await["code"], "invitation_revoked");
        assert_eq!(accept(&app, &second, "een goed wachtwoord").await.status(), 200);
    }

    async fn an_expired_link_says_so(backend) {
        let smtp = SmtpServer::start();
        let Some(app) = TestApp::spawn_with_smtp(backend, &smtp.url()).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = colleague(&app, &main, "jan@kwh001.example.nl").await;
        let id = user["id"].as_str().unwrap();
        invite(&main, id).await;
        let token = smtp.wait_for(1).await.remove(0).link_token();
        app.clock.advance(chrono::Duration::days(7) + chrono::Duration::minutes(1));
        assert_eq!(problem(app.get(&format!("/invitations/{token}")).send().await.unwrap(), 410).await["code"], "invitation_expired");
        assert_eq!(problem(accept(&app, &token, "een goed wachtwoord").await, 410).await["code"], "invitation_expired");
        // The main user's token was issued before the jump; sign in again in the new present.
        let main = app.sign_in_as(&app.user(&admin, &main.id).await).await;
        assert_eq!(app.user(&main, id).await["invitation"]["status"], "expired");
        assert_eq!(invite(&main, id).await.status(), 202, "a new invitation can be sent");
        assert_eq!(app.user(&main, id).await["invitation"]["status"], "sent", "the newest invitation is shown");
    }

    async fn accepting_checks_the_password_policy(backend) {
        let smtp = SmtpServer::start();
        let Some(app) = TestApp::spawn_with_smtp(backend, &smtp.url()).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = colleague(&app, &main, "jan@kwh001.example.nl").await;
        invite(&main, user["id"].as_str().unwrap()).await;
        let token = smtp.wait_for(1).await.remove(0).link_token();
        for bad in ["kort", "jan@kwh001.example.nl", &"x".repeat(129)] {
            let refused = problem(accept(&app, &token, bad).await, 422).await;
            assert_eq!(refused["errors"][0]["field"], "password");
        }
        assert_eq!(problem(accept(&app, "not-a-real-token", "een goed wachtwoord").await, 404).await["code"], "invitation_invalid");
        assert_eq!(accept(&app, &token, "een goed wachtwoord").await.status(), 200, "a refused attempt does not use the link");
    }

    async fn invitations_are_limited_per_day(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = colleague(&app, &main, "jan@kwh001.example.nl").await;
        let id = user["id"].as_str().unwrap();
        for _ in 0..5 {
            assert_eq!(invite(&main, id).await.status(), 202);
        }
        let response = invite(&main, id).await;
        assert!(response.headers().contains_key("retry-after"));
        assert_eq!(problem(response, 429).await["code"], "too_many_requests");
    }

    async fn a_password_reset_reveals_nothing_and_revokes_old_tokens(backend) {
        let smtp = SmtpServer::start();
        let Some(app) = TestApp::spawn_with_smtp(backend, &smtp.url()).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let unknown = app.post("/auth/password-reset").json(&json!({"email": "nobody@nowhere.example"})).send().await.unwrap();
        assert_eq!(unknown.status(), 202);
        let unknown_body: Value = unknown.json().await.unwrap();
        let known = app.post("/auth/password-reset").json(&json!({"email": "HOOFD@kwh001.example.nl"})).send().await.unwrap();
        assert_eq!(known.status(), 202);
        assert_eq!(known.json::<Value>().await.unwrap(), unknown_body);
        let mail = smtp.wait_for(1).await.remove(0);
        assert_eq!(mail.to, "hoofd@kwh001.example.nl");
        assert!(mail.subject.contains("Wachtwoord herstellen"));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(smtp.messages().len(), 1, "nothing is sent for an unknown address");

        let token = mail.link_token();
        let confirm = |password: &'static str| app.post("/auth/password-reset/confirm").json(&json!({"token": token, "password": password})).send();
        assert_eq!(confirm("een nieuw wachtwoord").await.unwrap().status(), 204);
        assert_eq!(problem(main.get("/me").await, 401).await["code"], "unauthorized");
        assert_eq!(app.login("hoofd@kwh001.example.nl", "een nieuw wachtwoord").await.status(), 200);
        assert_eq!(problem(confirm("nog een wachtwoord").await.unwrap(), 410).await["code"], "reset_token_used");
        app.clock.advance(chrono::Duration::hours(2));
        let again = app.post("/auth/password-reset").json(&json!({"email": "hoofd@kwh001.example.nl"})).send().await.unwrap();
        assert_eq!(again.status(), 202);
        let later = smtp.wait_for(2).await.into_iter().map(|m| m.link_token()).find(|t| *t != token).unwrap();
        app.clock.advance(chrono::Duration::minutes(61));
        let expired = app.post("/auth/password-reset/confirm").json(&json!({"token": later, "password": "een nieuw wachtwoord"})).send().await.unwrap();
        assert_eq!(problem(expired, 410).await["code"], "reset_token_expired");
    }

    async fn nothing_is_lost_while_the_mail_server_is_down(backend) {
        let port = free_port();
        let Some(app) = TestApp::spawn_with_smtp(backend, &format!("smtp://127.0.0.1:{port}")).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let mut ids = Vec::new();
        for i in 0..50 {
            let user = colleague(&app, &main, &format!("u{i}@kwh001.example.nl")).await;
            let id = user["id"].as_str().unwrap().to_string();
            assert_eq!(invite(&main, &id).await.status(), 202);
            ids.push(id);
        }
        // Delivery failed at least once: the main user sees that it is retried, KWH support
        // also the mail library's own words.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let shown = app.user(&main, &ids[0]).await;
        assert_eq!(shown["invitation"]["delivery"], "queued");
        assert_eq!(shown["invitation"]["delivery_error"], "temporary_failure", "{shown}");
        assert_eq!(shown["invitation"]["last_error"], Value::Null, "{shown}");
        let for_support = app.user(&admin, &ids[0]).await;
        assert!(for_support["invitation"]["last_error"].is_string(), "{for_support}");

        let smtp = SmtpServer::start_on(port);
        let delivered = smtp.wait_for(50).await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let delivered = if smtp.messages().len() > delivered.len() { smtp.messages() } else { delivered };
        let mut per_id: HashMap<String, usize> = HashMap::new();
        for mail in &delivered {
            *per_id.entry(mail.message_id.clone()).or_default() += 1;
        }
        assert_eq!(per_id.len(), 50);
        assert!(per_id.values().all(|n| *n == 1), "a message was sent twice");
        let shown = app.user(&main, &ids[0]).await;
        assert_eq!(shown["invitation"]["delivery"], "sent");
        assert_eq!(shown["invitation"]["delivery_error"], Value::Null, "a delivery that succeeded shows no error");
    }

    async fn main_users_see_the_class_of_a_refused_address_and_only_kwh_staff_the_servers_reply(backend) {
        let smtp = SmtpServer::start_rejecting_recipients();
        let Some(app) = TestApp::spawn_with_smtp(backend, &smtp.url()).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = colleague(&app, &main, "bestaat.niet@kwh001.example.nl").await;
        let id = user["id"].as_str().unwrap();
        assert_eq!(invite(&main, id).await.status(), 202);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let shown = loop {
            let shown = app.user(&main, id).await;
            if !shown["invitation"]["delivery_error"].is_null() {
                break shown;
            }
            assert!(std::time::Instant::now() < deadline, "no failed attempt: {shown}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert_eq!(shown["invitation"]["delivery_error"], "mailbox_unavailable", "{shown}");
        assert_eq!(shown["invitation"]["last_error"], Value::Null, "{shown}");
        let listed: Value = main.get_json("/users?q=bestaat").await;
        assert_eq!(listed["items"][0]["invitation"]["delivery_error"], "mailbox_unavailable");
        assert_eq!(listed["items"][0]["invitation"]["last_error"], Value::Null, "the list shows no server text either");

        let for_support = app.user(&admin, id).await;
        assert_eq!(for_support["invitation"]["delivery_error"], "mailbox_unavailable");
        let reply = for_support["invitation"]["last_error"].as_str().unwrap_or_default();
        assert!(reply.contains("550") && reply.contains("User unknown in virtual mailbox table"), "{for_support}");
        let listed: Value = admin.get_json("/users?q=bestaat").await;
        assert!(listed["items"][0]["invitation"]["last_error"].is_string());
    }

    async fn a_rolled_back_change_leaves_no_message(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = colleague(&app, &main, "jan@kwh001.example.nl").await;
        let mut conn = app.db();
        let row = mijnkwh::db::users::find(&mut conn, user["id"].as_str().unwrap()).unwrap().unwrap();
        let outcome: Result<(), mijnkwh::http::problem::AppError> = mijnkwh::db::write_transaction(&mut conn, |conn| {
            mijnkwh::service::invitations::queue_invitation(conn, &row, None, "KWH", chrono::Duration::days(7), mijnkwh::db::now())?;
            Err(mijnkwh::http::problem::AppError::new(mijnkwh::http::problem::ErrorCode::Internal))
        });
        assert!(outcome.is_err());
        use diesel::prelude::*;
        use mijnkwh::db::schema::{outbox_messages, user_tokens};
        let messages: i64 = outbox_messages::table.count().get_result(&mut conn).unwrap();
        let links: i64 = user_tokens::table.count().get_result(&mut conn).unwrap();
        assert_eq!((messages, links), (0, 0));
    }

    async fn a_deleted_users_messages_go_with_them(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = colleague(&app, &main, "jan@kwh001.example.nl").await;
        let id = user["id"].as_str().unwrap();
        invite(&main, id).await;
        let deleted = main.delete(&format!("/users/{id}")).await;
        assert_eq!(deleted.status(), 204);
        use diesel::prelude::*;
        use mijnkwh::db::schema::{outbox_messages, user_tokens};
        let mut conn = app.db();
        let messages: i64 = outbox_messages::table.filter(outbox_messages::user_id.eq(id)).count().get_result(&mut conn).unwrap();
        let links: i64 = user_tokens::table.filter(user_tokens::user_id.eq(id)).count().get_result(&mut conn).unwrap();
        assert_eq!((messages, links), (0, 0));
    }
}

/// Moves the app's clock to `month`/`day` of next year at 12:00 UTC (before anyone signs in:
/// access tokens are issued on that clock).
fn move_clock_to(app: &TestApp, month: u32, day: u32) -> chrono::NaiveDateTime {
    use chrono::Datelike;
    let real = chrono::Utc::now().naive_utc();
    let target = chrono::NaiveDate::from_ymd_opt(real.year() + 1, month, day)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    app.clock.advance(target - real);
    target
}

/// "dinsdag 08 december 2026, 09:27" for a UTC time `offset_hours` behind Amsterdam, written
/// out here independently of the code under test.
fn amsterdam_text(utc: chrono::DateTime<chrono::Utc>, offset_hours: i64) -> String {
    use chrono::{Datelike, Timelike};
    const DAYS: [&str; 7] = [
        "maandag",
        "dinsdag",
        "woensdag",
        "donderdag",
        "vrijdag",
        "zaterdag",
        "zondag",
    ];
    const MONTHS: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    let local = utc.naive_utc() + chrono::Duration::hours(offset_hours);
    format!(
        "{} {:02} {} {}, {:02}:{:02}",
        DAYS[local.weekday().num_days_from_monday() as usize],
        local.day(),
        MONTHS[local.month0() as usize],
        local.year(),
        local.hour(),
        local.minute()
    )
}

fn rfc3339(value: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .to_utc()
}

for_each_backend! {
    async fn invitation_mails_give_amsterdam_time_in_winter_and_in_summer(backend) {
        // (month, day, hours Amsterdam is ahead of UTC on the day the link expires)
        for (month, day, offset) in [(1, 10, 1), (7, 10, 2)] {
            let smtp = SmtpServer::start();
            let Some(app) = TestApp::spawn_with_smtp(backend, &smtp.url()).await else { return };
            move_clock_to(&app, month, day);
            let admin = app.admin().await;
            let main = app.corporation_with_main_user(&admin, "KWH001").await;
            let user = colleague(&app, &main, "jan@kwh001.example.nl").await;
            let id = user["id"].as_str().unwrap();
            assert_eq!(invite(&main, id).await.status(), 202);
            let mail = smtp.wait_for(1).await.remove(0);
            let expires_at = rfc3339(&app.user(&main, id).await["invitation"]["expires_at"]);
            let local = amsterdam_text(expires_at, offset);
            assert!(mail.text.contains(&format!("geldig tot {local}")), "expected {local} in {}", mail.text);
            assert!(!mail.text.contains("UTC"), "{}", mail.text);
            assert!(!mail.text.contains(&amsterdam_text(expires_at, 0)), "UTC shown: {}", mail.text);
        }
    }

    async fn links_keep_the_path_of_the_public_base_url(backend) {
        for base in ["https://portaal.kwh.nl/mijnkwh", "https://portaal.kwh.nl/mijnkwh/"] {
            let smtp = SmtpServer::start();
            let mut extra = crate::helpers::smtp_settings(&smtp.url());
            extra.push(("PUBLIC_BASE_URL", base.into()));
            let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let Some(app) = TestApp::spawn_with(backend, &extra).await else { return };
            let admin = app.admin().await;
            let main = app.corporation_with_main_user(&admin, "KWH001").await;
            let user = colleague(&app, &main, "jan@kwh001.example.nl").await;
            invite(&main, user["id"].as_str().unwrap()).await;
            let invitation = smtp.wait_for(1).await.remove(0);
            let token = invitation.link_token();
            assert!(
                invitation.text.contains(&format!("https://portaal.kwh.nl/mijnkwh/uitnodiging?token={token}")),
                "{base}: {}", invitation.text
            );
            let reset = app.post("/auth/password-reset").json(&json!({"email": "hoofd@kwh001.example.nl"})).send().await.unwrap();
            assert_eq!(reset.status(), 202);
            let reset = smtp.wait_for(2).await.into_iter().find(|m| m.to.contains("hoofd@")).unwrap();
            assert!(reset.text.contains("https://portaal.kwh.nl/mijnkwh/wachtwoord-herstellen?token="), "{base}: {}", reset.text);
        }
    }

    async fn a_retried_delivery_carries_the_link_an_earlier_attempt_delivered(backend) {
        let smtp = SmtpServer::start();
        let Some(app) = TestApp::spawn_with_smtp(backend, &smtp.url()).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = colleague(&app, &main, "jan@kwh001.example.nl").await;
        invite(&main, user["id"].as_str().unwrap()).await;
        let first = smtp.wait_for(1).await.remove(0);

        // The mail server accepted the message, but the sender saw an error (a timeout after
        // the data was in): the message is due again, as after a failed attempt.
        use diesel::prelude::*;
        use mijnkwh::db::schema::outbox_messages as outbox;
        // First the sender records the delivery; overwriting before that would lose the race
        // to its own `sent_at` and leave nothing to retry.
        let delivered = outbox::recipient.eq("jan@kwh001.example.nl").and(outbox::sent_at.is_not_null());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while outbox::table.filter(delivered).count().get_result::<i64>(&mut app.db()).unwrap() == 0 {
            assert!(std::time::Instant::now() < deadline, "the sender never recorded the delivery");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let retried = diesel::update(outbox::table.filter(outbox::recipient.eq("jan@kwh001.example.nl")))
            .set((
                outbox::sent_at.eq(None::<chrono::NaiveDateTime>),
                outbox::last_error.eq(Some("timed out waiting for the server's answer")),
                outbox::next_attempt_at.eq(mijnkwh::db::now()),
            ))
            .execute(&mut app.db())
            .unwrap();
        assert_eq!(retried, 1);
        let mails = smtp.wait_for(2).await;
        assert_eq!(mails.len(), 2);
        assert_eq!(mails[0].message_id, mails[1].message_id, "the same message, sent twice");
        assert_eq!(mails[0].link_token(), mails[1].link_token(), "both carry one link");
        assert_eq!(accept(&app, &first.link_token(), "een goed wachtwoord").await.status(), 200, "the first mail's link works");
    }
}

crate::on_both_backends! {
    async fn the_spreadsheet_shows_the_last_sign_in_on_amsterdams_clock(app) {
        move_clock_to(&app, 7, 10);
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let response = main.request(Method::GET, "/users?corporation_code=KWH001")
            .header("Accept", "text/csv").send().await.unwrap();
        assert_eq!(response.status(), 200);
        let csv = response.text().await.unwrap();
        let header: Vec<&str> = csv.lines().next().unwrap().trim_start_matches('\u{feff}').split(';').collect();
        let column = header.iter().position(|h| *h == "Laatste aanmelding").unwrap();
        let row: Vec<&str> = csv.lines().find(|l| l.starts_with("hoofd@kwh001")).unwrap().split(';').collect();
        let last_login = rfc3339(&app.user(&main, &main.id).await["last_login_at"]);
        assert_eq!(row[column], amsterdam_text(last_login, 2), "summer time: UTC+2");
    }
}
