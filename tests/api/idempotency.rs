//! `Idempotency-Key` on POST: a retry gets the first answer instead of acting twice.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Session, problem, test_settings};
use crate::on_both_backends;

fn new_user(email: &str) -> Value {
    json!({"email": email, "corporation_code": "KWH001", "first_name": "Retry", "last_name": "Veilig"})
}

async fn count_users(session: &Session, q: &str) -> usize {
    let page: Value = session.get_json(&format!("/users?q={q}")).await;
    page["items"].as_array().unwrap().len()
}

on_both_backends! {
    async fn a_retry_gets_the_first_answer_and_acts_once(app) {
        let admin = app.admin().await;
        app.create_corporation(&admin, "KWH001").await;
        let send = || admin.request(Method::POST, "/users").header("Idempotency-Key", "hr-sync-0001").json(&new_user("retry@kwh001.example.nl")).send();
        let first = send().await.unwrap();
        assert_eq!(first.status(), 201);
        let location = first.headers()["location"].clone();
        let first_body: Value = first.json().await.unwrap();
        let again = send().await.unwrap();
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.headers()["location"], location);
        assert_eq!(again.json::<Value>().await.unwrap(), first_body);
        assert_eq!(count_users(&admin, "retry@").await, 1);

        let other_body = admin.request(Method::POST, "/users").header("Idempotency-Key", "hr-sync-0001")
            .json(&new_user("someone.else@kwh001.example.nl")).send().await.unwrap();
        assert_eq!(problem(other_body, 422).await["code"], "idempotency_key_reused");
        assert_eq!(count_users(&admin, "someone.else").await, 0);

        // A refused first answer is an answer too: the retry gets the same 409.
        let taken = || admin.request(Method::POST, "/users").header("Idempotency-Key", "hr-sync-0002").json(&new_user("RETRY@kwh001.example.nl")).send();
        assert_eq!(problem(taken().await.unwrap(), 409).await["code"], "email_taken");
        assert_eq!(problem(taken().await.unwrap(), 409).await["code"], "email_taken");
    }

    async fn simultaneous_requests_with_one_key_act_once(app) {
        let admin = app.admin().await;
        app.create_corporation(&admin, "KWH001").await;
        let attempts = (0..10).map(|_| {
            admin.request(Method::POST, "/users").header("Idempotency-Key", "same-key").json(&new_user("samen@kwh001.example.nl")).send()
        });
        let responses = futures_util::future::join_all(attempts).await;
        let mut ids = Vec::new();
        for response in responses {
            let response = response.unwrap();
            match response.status().as_u16() {
                201 => ids.push(response.json::<Value>().await.unwrap()["id"].clone()),
                409 => assert_eq!(problem(response, 409).await["code"], "request_in_progress"),
                other => panic!("unexpected {other}"),
            }
        }
        assert!(!ids.is_empty());
        assert!(ids.iter().all(|id| *id == ids[0]), "every 201 is the first answer");
        assert_eq!(count_users(&admin, "samen@").await, 1);
    }

    async fn keys_belong_to_their_caller(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let by_admin = admin.request(Method::POST, "/contractors").header("Idempotency-Key", "k1")
            .json(&json!({"name": "Installatietechniek", "corporation_code": "KWH001"})).send().await.unwrap();
        assert_eq!(by_admin.status(), 201);
        let by_main = main.request(Method::POST, "/contractors").header("Idempotency-Key", "k1")
            .json(&json!({"name": "Bouwbedrijf Jansen"})).send().await.unwrap();
        assert_eq!(by_main.status(), 201, "another caller's key does not clash");
        let bad = main.request(Method::POST, "/contractors").header("Idempotency-Key", "x".repeat(256))
            .json(&json!({"name": "Z"})).send().await.unwrap();
        assert_eq!(problem(bad, 400).await["code"], "invalid_idempotency_key");
    }

    async fn a_retry_after_a_restart_reaches_the_first_answer(app) {
        let admin = app.admin().await;
        app.create_corporation(&admin, "KWH001").await;
        let first: Value = admin.request(Method::POST, "/users").header("Idempotency-Key", "before-restart")
            .json(&new_user("restart@kwh001.example.nl")).send().await.unwrap().json().await.unwrap();
        // Another process on the same database: a restarted instance, or its neighbour.
        let restarted = mijnkwh::app::Application::build(test_settings(&app.database, &[])).await.unwrap();
        let address = format!("http://127.0.0.1:{}", restarted.port());
        let handle = restarted.handle();
        tokio::spawn(restarted.run_until_stopped());
        let retried = app.client.post(format!("{address}/users")).bearer_auth(&admin.token).header("Idempotency-Key", "before-restart")
            .json(&new_user("restart@kwh001.example.nl")).send().await.unwrap();
        assert_eq!(retried.status(), 201);
        assert_eq!(retried.json::<Value>().await.unwrap()["id"], first["id"]);
        handle.stop(false).await;
    }

    async fn answers_holding_a_secret_are_not_stored(app) {
        let response = app.post("/auth/login").header("Idempotency-Key", "login-1")
            .json(&json!({"email": crate::helpers::ADMIN_EMAIL, "password": crate::helpers::ADMIN_PASSWORD})).send().await.unwrap();
        assert_eq!(response.status(), 200);
        use diesel::prelude::*;
        let stored: i64 = mijnkwh::db::schema::idempotency_keys::table.count().get_result(&mut app.db()).unwrap();
        assert_eq!(stored, 0);
    }
}
