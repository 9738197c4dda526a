//! Service tokens: shown once, act as their creator within their scope, revoked at once.

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, problem};
use crate::on_both_backends;

pub async fn create_token(app: &TestApp, session: &Session, scope: &str) -> Value {
    let response = app
        .post("/api-tokens")
        .bearer_auth(&session.token)
        .json(&json!({"name": "HR-koppeling", "scope": scope}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

on_both_backends! {
    async fn a_provision_token_acts_as_its_creator_and_is_audited_as_itself(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let other = app.corporation_with_main_user(&admin, "KWH002").await;
        let foreign = app.create_user(&other, json!({"email": "x@kwh002.example.nl", "first_name": "X", "last_name": "Y"})).await;
        let token = create_token(&app, &main, "provision").await;
        let secret = token["token"].as_str().unwrap();
        assert!(secret.starts_with("mkwh_"));
        let listed: Value = app.get("/api-tokens").bearer_auth(&main.token).send().await.unwrap().json().await.unwrap();
        assert_eq!(listed[0]["id"], token["id"]);
        assert!(listed[0].get("token").is_none(), "the secret is shown once");

        let created = app.post("/users").bearer_auth(secret).json(&json!({"email": "via.token@kwh001.example.nl", "first_name": "V", "last_name": "T"})).send().await.unwrap();
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.unwrap();
        assert_eq!(created["corporation_code"], "KWH001");
        let foreign_id = foreign["id"].as_str().unwrap();
        assert_eq!(app.get(&format!("/users/{foreign_id}")).bearer_auth(secret).send().await.unwrap().status(), 404);
        // Service tokens are outside every token's scope: a token never mints another.
        let minted = app.post("/api-tokens").bearer_auth(secret).json(&json!({"name": "n", "scope": "read"})).send().await.unwrap();
        assert_eq!(problem(minted, 403).await["code"], "insufficient_scope");

        let events: Value = app.get(&format!("/audit-events?target_id={}", created["id"].as_str().unwrap()))
            .bearer_auth(&main.token).send().await.unwrap().json().await.unwrap();
        assert_eq!(events["items"][0]["actor"], format!("api_token:{}", token["id"].as_str().unwrap()));
        let listed: Value = app.get("/api-tokens").bearer_auth(&main.token).send().await.unwrap().json().await.unwrap();
        assert!(listed[0]["last_used_at"].is_string());
    }

    async fn a_read_token_cannot_write_and_a_revoked_token_is_refused_at_once(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let token = create_token(&app, &main, "read").await;
        let secret = token["token"].as_str().unwrap();
        assert_eq!(app.get("/users").bearer_auth(secret).send().await.unwrap().status(), 200);
        let write = app.post("/users").bearer_auth(secret).json(&json!({"email": "nee@kwh001.example.nl", "first_name": "N", "last_name": "E"})).send().await.unwrap();
        assert_eq!(problem(write, 403).await["code"], "insufficient_scope");
        let id = token["id"].as_str().unwrap();
        let revoked = app.client.delete(app.url(&format!("/api-tokens/{id}"))).bearer_auth(&main.token).send().await.unwrap();
        assert_eq!(revoked.status(), 204);
        assert_eq!(problem(app.get("/users").bearer_auth(secret).send().await.unwrap(), 401).await["code"], "unauthorized");
        assert_eq!(problem(app.get("/users").bearer_auth("mkwh_made-up").send().await.unwrap(), 401).await["code"], "unauthorized");
    }

    async fn a_token_never_does_more_than_its_creator_can_now(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let second = app.create_user(&main, json!({"email": "tweede@kwh001.example.nl", "first_name": "T", "last_name": "W", "role": "main_user"})).await;
        let second = app.sign_in_as(&second).await;
        let token = create_token(&app, &second, "provision").await;
        let secret = token["token"].as_str().unwrap();
        assert_eq!(app.get("/users").bearer_auth(secret).send().await.unwrap().status(), 200);
        let demoted = app.client.patch(app.url(&format!("/users/{}", second.id))).bearer_auth(&main.token).json(&json!({"role": "user"})).send().await.unwrap();
        assert_eq!(demoted.status(), 200);
        // The token died with the rights its creator had: refused as unknown, and listed revoked.
        assert_eq!(problem(app.get("/users").bearer_auth(secret).send().await.unwrap(), 401).await["code"], "unauthorized");
        let listed: Value = app.get("/api-tokens").bearer_auth(&admin.token).send().await.unwrap().json().await.unwrap();
        let listed = listed.as_array().unwrap().iter().find(|t| t["id"] == token["id"]).unwrap();
        assert!(listed["revoked_at"].is_string(), "{listed}");
        let user = app.create_user(&main, json!({"email": "gewoon@kwh001.example.nl", "first_name": "G", "last_name": "W"})).await;
        let user = app.sign_in_as(&user).await;
        let refused = app.post("/api-tokens").bearer_auth(&user.token).json(&json!({"name": "n", "scope": "read"})).send().await.unwrap();
        assert_eq!(problem(refused, 403).await["code"], "forbidden");
    }
}

crate::for_each_backend! {
    async fn each_caller_has_its_own_rate_limit(backend) {
        let Some(app) = TestApp::spawn_with(backend, &[("RATE_LIMIT_PER_MINUTE", "20")]).await else { return };
        // Counting happens per clock minute: start well inside one, so the test cannot straddle two.
        use chrono::Timelike;
        let second = mijnkwh::clock::Clock::now(app.clock.as_ref()).second();
        if second > 40 {
            app.clock.advance(chrono::Duration::seconds(i64::from(61 - second)));
        }
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let mut last_remaining = u64::MAX;
        for _ in 0..20 {
            let response = app.get("/me").bearer_auth(&main.token).send().await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["ratelimit-limit"], "20");
            let remaining: u64 = response.headers()["ratelimit-remaining"].to_str().unwrap().parse().unwrap();
            assert!(remaining < last_remaining);
            last_remaining = remaining;
        }
        assert_eq!(last_remaining, 0);
        let refused = app.get("/me").bearer_auth(&main.token).send().await.unwrap();
        let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after));
        assert_eq!(problem(refused, 429).await["code"], "too_many_requests");
        // Somebody else is not held back by it.
        assert_eq!(app.get("/me").bearer_auth(&admin.token).send().await.unwrap().status(), 200);
        // The next minute starts afresh.
        app.clock.advance(chrono::Duration::seconds(60));
        let main = app.sign_in_as(&app.user(&admin, &main.id).await).await;
        assert_eq!(app.get("/me").bearer_auth(&main.token).send().await.unwrap().status(), 200);
    }
}
