//! Signing in, tokens and their revocation.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TEST_JWT_SECRET, problem};
use crate::on_both_backends;

fn sign(claims: serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

on_both_backends! {
    async fn sign_in_returns_a_bearer_token_and_sets_last_login(app) {
        let response = app.login(" Admin@KWH.example.nl ", ADMIN_PASSWORD).await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        let me: serde_json::Value = app
            .get("/me")
            .bearer_auth(body["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["email"], ADMIN_EMAIL);
        assert_eq!(me["role"], "kwh_admin");
        assert!(me["last_login_at"].is_string());
    }

    async fn failed_sign_ins_look_alike_whatever_the_reason(app) {
        let admin = app.admin().await;
        app.create_corporation(&admin, "KWH001").await;
        // A user who has not set a password yet.
        app.create_user(&admin, serde_json::json!({
            "email": "nopassword@kwh001.example.nl", "corporation_code": "KWH001",
            "first_name": "Nog", "last_name": "Geen Wachtwoord"
        })).await;
        let mut bodies = Vec::new();
        for (email, password) in [
            ("nobody@kwh.example.nl", "whatever-password"),
            (ADMIN_EMAIL, "wrong-password-here"),
            ("nopassword@kwh001.example.nl", "whatever-password"),
        ] {
            let mut body = problem(app.login(email, password).await, 401).await;
            assert_eq!(body["code"], "invalid_credentials");
            body.as_object_mut().unwrap().remove("request_id");
            bodies.push(body);
        }
        assert_eq!(bodies[0], bodies[1]);
        assert_eq!(bodies[1], bodies[2]);
    }

    async fn repeated_failures_are_throttled_with_retry_after(app) {
        for _ in 0..5 {
            assert_eq!(app.login(ADMIN_EMAIL, "wrong-password-here").await.status(), 401);
        }
        let response = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");
        assert_eq!(problem(response, 429).await["code"], "too_many_requests");
    }

    async fn forged_expired_and_foreign_tokens_are_refused(app) {
        let admin = app.admin().await;
        let now = chrono::Utc::now().timestamp();
        let claims = |iat: i64, exp: i64, aud: &str| serde_json::json!({
            "iss": "mijnkwh", "aud": aud, "sub": admin.id, "iat": iat, "exp": exp, "ver": 0
        });
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let unsigned = format!(
            "{}.{}.",
            engine.encode(r#"{"alg":"none","typ":"JWT"}"#),
            engine.encode(claims(now, now + 600, "mijnkwh-api").to_string())
        );
        let mut tampered = admin.token.clone();
        let middle = tampered.len() / 2;
        tampered.replace_range(middle..middle + 1, if &admin.token[middle..middle + 1] == "A" { "B" } else { "A" });
        for (what, token) in [
            ("garbage", "not-a-token".to_string()),
            ("alg none", unsigned),
            ("tampered", tampered),
            ("expired", sign(claims(now - 7200, now - 3600, "mijnkwh-api"), TEST_JWT_SECRET)),
            ("wrong audience", sign(claims(now, now + 600, "someone-else"), TEST_JWT_SECRET)),
            ("other key", sign(claims(now, now + 600, "mijnkwh-api"), "another-secret-that-is-long-enough-0123")),
        ] {
            let response = app.get("/me").bearer_auth(&token).send().await.unwrap();
            assert_eq!(problem(response, 401).await["code"], "unauthorized", "{what}");
        }
        let missing = app.get("/me").send().await.unwrap();
        assert_eq!(problem(missing, 401).await["code"], "unauthorized");
        assert_eq!(admin.get("/me").await.status(), 200);
    }

    async fn tokens_stop_working_when_the_user_is_deleted_or_demoted(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let colleague = app.create_user(&main, serde_json::json!({
            "email": "collega@kwh001.example.nl", "first_name": "Co", "last_name": "Llega", "role": "main_user"
        })).await;
        let colleague = app.sign_in_as(&colleague).await;
        assert_eq!(colleague.get("/users").await.status(), 200);

        let demote = main.patch(&format!("/users/{}", colleague.id), &serde_json::json!({"role": "user"})).await;
        assert_eq!(demote.status(), 200);
        assert_eq!(colleague.get("/me").await.status(), 401);

        let delete = main.delete(&format!("/users/{}", colleague.id)).await;
        assert_eq!(delete.status(), 204);
        let relogin = app.login("collega@kwh001.example.nl", crate::helpers::USER_PASSWORD).await;
        assert_eq!(relogin.status(), 401);
    }
}
