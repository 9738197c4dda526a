//! Service tokens: shown once, act as their creator within their scope, revoked at once.

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, problem};
use crate::on_both_backends;

pub async fn create_token(session: &Session, scope: &str) -> Value {
    let response = session
        .post("/api-tokens", &json!({"name": "HR-koppeling", "scope": scope}))
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

/// `session` acting through a new service token of its own with `scope`.
pub async fn with_new_token(session: &Session, scope: &str) -> Session {
    session.with_token(create_token(session, scope).await["token"].as_str().unwrap())
}

on_both_backends! {
    async fn a_provision_token_acts_as_its_creator_and_is_audited_as_itself(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let other = app.corporation_with_main_user(&admin, "KWH002").await;
        let foreign = app.create_user(&other, json!({"email": "x@kwh002.example.nl", "first_name": "X", "last_name": "Y"})).await;
        let token = create_token(&main, "provision").await;
        let secret = token["token"].as_str().unwrap();
        assert!(secret.starts_with("mkwh_"));
        let service = main.with_token(secret);
        let listed: Value = main.get_json("/api-tokens").await;
        assert_eq!(listed[0]["id"], token["id"]);
        assert!(listed[0].get("token").is_none(), "the secret is shown once");

        let created = service.post("/users", &json!({"email": "via.token@kwh001.example.nl", "first_name": "V", "last_name": "T"})).await;
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.unwrap();
        assert_eq!(created["corporation_code"], "KWH001");
        let foreign_id = foreign["id"].as_str().unwrap();
        assert_eq!(service.get(&format!("/users/{foreign_id}")).await.status(), 404);
        // Service tokens are outside every token's scope: a token never mints another.
        let minted = service.post("/api-tokens", &json!({"name": "n", "scope": "read"})).await;
        assert_eq!(problem(minted, 403).await["code"], "insufficient_scope");

        let events: Value = main.get_json(&format!("/audit-events?target_id={}", created["id"].as_str().unwrap())).await;
        assert_eq!(events["items"][0]["actor"], format!("api_token:{}", token["id"].as_str().unwrap()));
        let listed: Value = main.get_json("/api-tokens").await;
        assert!(listed[0]["last_used_at"].is_string());
    }

    async fn a_read_token_cannot_write_and_a_revoked_token_is_refused_at_once(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let token = create_token(&main, "read").await;
        let service = main.with_token(token["token"].as_str().unwrap());
        assert_eq!(service.get("/users").await.status(), 200);
        let write = service.post("/users", &json!({"email": "nee@kwh001.example.nl", "first_name": "N", "last_name": "E"})).await;
        assert_eq!(problem(write, 403).await["code"], "insufficient_scope");
        let id = token["id"].as_str().unwrap();
        let revoked = main.delete(&format!("/api-tokens/{id}")).await;
        assert_eq!(revoked.status(), 204);
        assert_eq!(problem(service.get("/users").await, 401).await["code"], "unauthorized");
        assert_eq!(problem(app.get("/users").bearer_auth("mkwh_made-up").send().await.unwrap(), 401).await["code"], "unauthorized");
    }

    async fn a_token_never_does_more_than_its_creator_can_now(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let second = app.create_user(&main, json!({"email": "tweede@kwh001.example.nl", "first_name": "T", "last_name": "W", "role": "main_user"})).await;
        let second = app.sign_in_as(&second).await;
        let token = create_token(&second, "provision").await;
        let service = second.with_token(token["token"].as_str().unwrap());
        assert_eq!(service.get("/users").await.status(), 200);
        let demoted = main.patch(&format!("/users/{}", second.id), &json!({"role": "user"})).await;
        assert_eq!(demoted.status(), 200);
        // The token died with the rights its creator had: refused as unknown, and listed revoked.
        assert_eq!(problem(service.get("/users").await, 401).await["code"], "unauthorized");
        let listed: Value = admin.get_json("/api-tokens").await;
        let listed = listed.as_array().unwrap().iter().find(|t| t["id"] == token["id"]).unwrap();
        assert!(listed["revoked_at"].is_string(), "{listed}");
        let user = app.create_user(&main, json!({"email": "gewoon@kwh001.example.nl", "first_name": "G", "last_name": "W"})).await;
        let user = app.sign_in_as(&user).await;
        let refused = user.post("/api-tokens", &json!({"name": "n", "scope": "read"})).await;
        assert_eq!(problem(refused, 403).await["code"], "forbidden");
    }
}

crate::for_each_backend! {
    async fn each_caller_has_its_own_rate_limit(backend) {
        let Some(app) = TestApp::spawn_with(backend, &[("RATE_LIMIT_PER_MINUTE", "20")]).await else { return };
        app.start_well_inside_a_minute();
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let mut last_remaining = u64::MAX;
        for _ in 0..20 {
            let response = main.get("/me").await;
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["ratelimit-limit"], "20");
            let remaining: u64 = response.headers()["ratelimit-remaining"].to_str().unwrap().parse().unwrap();
            assert!(remaining < last_remaining);
            last_remaining = remaining;
        }
        assert_eq!(last_remaining, 0);
        let refused = main.get("/me").await;
        let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after));
        assert_eq!(problem(refused, 429).await["code"], "too_many_requests");
        // Somebody else is not held back by it.
        assert_eq!(admin.get("/me").await.status(), 200);
        // The next minute starts afresh.
        app.clock.advance(chrono::Duration::seconds(60));
        let main = app.sign_in_as(&app.user(&admin, &main.id).await).await;
        assert_eq!(main.get("/me").await.status(), 200);
    }

    async fn the_rate_limit_holds_across_two_instances_within_one_sync_interval(backend) {
        let extra = [("RATE_LIMIT_PER_MINUTE", "20"), ("RATE_LIMIT_SYNC_MS", "50")];
        let Some(app) = TestApp::spawn_with(backend, &extra).await else { return };
        app.start_well_inside_a_minute();
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        // A second instance on the same database and clock.
        let other = mijnkwh::app::Application::build_with_clock(crate::helpers::test_settings(&app.database, &extra), app.clock.clone())
            .await
            .unwrap();
        let other_address = format!("http://127.0.0.1:{}", other.port());
        let other_handle = other.handle();
        tokio::spawn(other.run_until_stopped());
        let on_other = || app.client.get(format!("{other_address}/me")).bearer_auth(&main.token).send();
        let pause = || tokio::time::sleep(std::time::Duration::from_millis(200));

        let mut admitted = 0;
        for _ in 0..10 {
            admitted += u32::from(main.get("/me").await.status() == 200);
        }
        pause().await;
        for _ in 0..10 {
            admitted += u32::from(on_other().await.unwrap().status() == 200);
        }
        assert_eq!(admitted, 20, "twenty, on either instance");
        // Each instance learns the other's count with its next write: beyond that interval,
        // both refuse. (Within it, an instance that has been idle may admit what it admits
        // in one interval: SECURITY.md.)
        pause().await;
        main.get("/me").await;
        on_other().await.unwrap();
        pause().await;
        assert_eq!(main.get("/me").await.status(), 429);
        assert_eq!(on_other().await.unwrap().status(), 429);
        other_handle.stop(false).await;
    }
}
