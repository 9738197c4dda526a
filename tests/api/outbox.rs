//! The outbox under failure: several instances, and a process killed with mail queued.

use std::collections::HashMap;
use std::time::Duration;

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::for_each_backend;
use crate::helpers::{Backend, Service, TestApp, TestDatabase, smtp_settings, test_settings};
use crate::invitations::invite;
use crate::smtp::{SmtpServer, free_port};

/// Queues one invitation for each of `count` new users, all in one transaction.
fn queue_invitations(conn: &mut mijnkwh::db::DbConn, count: usize) {
    let now = mijnkwh::db::now();
    mijnkwh::db::write_transaction(conn, |conn| {
        for i in 0..count {
            let new_user = mijnkwh::service::users::NewUser {
                email: mijnkwh::domain::email::EmailAddress::parse(&format!("bulk{i}@kwh001.example.nl")).unwrap(),
                profile: mijnkwh::service::users::Profile {
                    first_name: format!("Bulk{i}"),
                    last_name: "Gebruiker".into(),
                    job_title: None,
                    phone: None,
                    remarks: None,
                },
                kind: mijnkwh::domain::user::resolve_kind(&mijnkwh::domain::user::UserKindInput {
                    corporation_code: Some(mijnkwh::domain::corporation::CorporationCode::parse("KWH001").unwrap()),
                    ..Default::default()
                })
                .unwrap(),
            };
            let row = mijnkwh::service::users::new_row(&new_user, now);
            mijnkwh::db::users::insert(conn, &row).unwrap();
            mijnkwh::service::invitations::queue_invitation(conn, &row, None, "KWH", chrono::Duration::days(7), now)?;
        }
        Ok::<_, mijnkwh::http::problem::AppError>(())
    })
    .unwrap();
}

fn count_by_message_id(messages: &[crate::smtp::Mail]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for mail in messages {
        *counts.entry(mail.message_id.clone()).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_send_each_message_once() {
    let smtp = SmtpServer::start();
    let Some(first) = TestApp::spawn_with_smtp(Backend::Postgres, &smtp.url()).await else {
        return;
    };
    let admin = first.admin().await;
    first.create_corporation(&admin, "KWH001").await;
    let settings = smtp_settings(&smtp.url());
    let extra: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let second = mijnkwh::app::Application::build(test_settings(&first.database, &extra))
        .await
        .unwrap();
    let second_handle = second.handle();
    tokio::spawn(second.run_until_stopped());

    queue_invitations(&mut first.db(), 100);
    let delivered = smtp.wait_for(100).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let delivered = if smtp.messages().len() > delivered.len() {
        smtp.messages()
    } else {
        delivered
    };
    let counts = count_by_message_id(&delivered);
    assert_eq!(counts.len(), 100);
    assert!(counts.values().all(|n| *n == 1), "a message went out twice");

    use mijnkwh::db::schema::outbox_messages;
    let senders: Vec<Option<String>> = outbox_messages::table
        .select(outbox_messages::claimed_by)
        .distinct()
        .load(&mut first.db())
        .unwrap();
    assert_eq!(senders.len(), 2, "both instances delivered: {senders:?}");
    second_handle.stop(false).await;
}

/// The real binary, on `database_url`, sending to `smtp_url`.
fn start_binary(database_url: &str, smtp_url: &str, dir: &std::path::Path) -> Service {
    Service::start(
        database_url,
        dir,
        &[
            ("MAIL_TRANSPORT", "smtp"),
            ("SMTP_URL", smtp_url),
            ("MAIL_RETRY_BASE_MS", "50"),
            ("MAIL_RETRY_MAX_MS", "300"),
            ("MAIL_POLL_MS", "50"),
            ("SMTP_TIMEOUT_SECONDS", "1"),
        ],
    )
}

for_each_backend! {
    async fn queued_mail_survives_a_killed_process(backend) {
        let Some(database) = TestDatabase::create(backend) else { return };
        let port = free_port();
        let smtp_url = format!("smtp://127.0.0.1:{port}");
        let dir = database.dir();
        let service = start_binary(&database.url(), &smtp_url, &dir);
        let admin = service.admin(&reqwest::Client::new()).await;
        let created = admin.post("/corporations", &json!({"code": "KWH001", "name": "Woonstichting Een"})).await;
        assert_eq!(created.status(), 201);
        for i in 0..5 {
            let user: Value = admin
                .post("/users", &json!({"email": format!("k{i}@kwh001.example.nl"), "corporation_code": "KWH001", "first_name": "K", "last_name": "W"}))
                .await.json().await.unwrap();
            let invited = invite(&admin, user["id"].as_str().unwrap()).await;
            assert_eq!(invited.status(), 202);
        }
        // No mail server yet: everything is queued. Kill without warning.
        service.kill();

        let smtp = SmtpServer::start_on(port);
        let restarted = start_binary(&database.url(), &smtp_url, &dir);
        let delivered = smtp.wait_for(5).await;
        restarted.kill();
        let counts = count_by_message_id(&delivered);
        assert_eq!(counts.len(), 5);
        assert!(counts.values().all(|n| *n == 1));
    }
}
