//! Issue #14, deactivation: a deactivated user keeps their record and history, cannot sign in,
//! and every credential of theirs stops at once; rule 5 counts only active main users. Each
//! test tries to break one of these.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::api_tokens::create_token;
use crate::for_each_backend;
use crate::helpers::{Session, TestApp, USER_PASSWORD, problem};
use crate::invitations::invite;
use crate::on_both_backends;
use crate::smtp::SmtpServer;

fn colleague(email: &str) -> Value {
    json!({"email": email, "first_name": "Jan", "last_name": "Jansen"})
}

fn second_main_user(code: &str) -> Value {
    json!({
        "email": format!("tweede@{}.example.nl", code.to_lowercase()), "corporation_code": code,
        "first_name": "Tweede", "last_name": "Hoofd", "role": "main_user",
    })
}

/// `PATCH /users/{id}` with `{"active": active}` as `session`.
async fn set_active(session: &Session, id: &str, active: bool) -> reqwest::Response {
    session.patch(&format!("/users/{id}"), &json!({"active": active})).await
}

/// A colleague of `main`'s corporation who has signed in.
async fn signed_in_colleague(app: &TestApp, main: &Session, email: &str) -> Session {
    let user = app.create_user(main, colleague(email)).await;
    app.sign_in_as(&user).await
}

/// A problem body without what differs per request (its id), for comparing two answers.
async fn problem_without_request_id(response: reqwest::Response, status: u16) -> Value {
    let mut body = problem(response, status).await;
    body.as_object_mut().unwrap().remove("request_id");
    body
}

fn is_active(app: &TestApp, id: &str) -> bool {
    use mijnkwh::db::schema::users;
    users::table
        .find(id)
        .select(users::deactivated_at)
        .first::<Option<chrono::NaiveDateTime>>(&mut app.db())
        .unwrap()
        .is_none()
}

on_both_backends! {
    async fn a_deactivated_user_is_refused_sign_in_exactly_as_a_wrong_password_is(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let jan = signed_in_colleague(&app, &main, "jan@kwh001.example.nl").await;
        let deactivated = set_active(&main, &jan.id, false).await;
        assert_eq!(deactivated.status(), 200);
        let deactivated: Value = deactivated.json().await.unwrap();
        assert_eq!(deactivated["active"], false);
        assert!(deactivated["deactivated_at"].is_string(), "{deactivated}");

        let right = problem_without_request_id(app.login("jan@kwh001.example.nl", USER_PASSWORD).await, 401).await;
        let wrong = problem_without_request_id(app.login("jan@kwh001.example.nl", "een verkeerd wachtwoord").await, 401).await;
        let unknown = problem_without_request_id(app.login("niemand@kwh001.example.nl", USER_PASSWORD).await, 401).await;
        assert_eq!(right["code"], "invalid_credentials");
        assert_eq!(right, wrong, "the right password of a deactivated user tells nothing");
        assert_eq!(right, unknown);
        // Their record stays, as it was.
        let kept: Value = main.get_json(&format!("/users/{}", jan.id)).await;
        assert_eq!(kept["email"], "jan@kwh001.example.nl");
        assert_eq!(kept["first_name"], "Jan");
    }

    async fn a_deactivated_users_right_password_counts_as_a_failure(app) {
        // Were it taken back as a right password is, the sixth attempt would tell it apart.
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let jan = signed_in_colleague(&app, &main, "jan@kwh001.example.nl").await;
        assert_eq!(set_active(&main, &jan.id, false).await.status(), 200);
        for _ in 0..5 {
            assert_eq!(app.login("jan@kwh001.example.nl", USER_PASSWORD).await.status(), 401);
        }
        assert_eq!(problem(app.login("jan@kwh001.example.nl", USER_PASSWORD).await, 429).await["code"], "too_many_requests");
        assert_eq!(problem(app.login("jan@kwh001.example.nl", "fout").await, 429).await["code"], "too_many_requests");
        // Reactivated, the same password works again once the wait is over.
        assert_eq!(set_active(&main, &jan.id, true).await.status(), 200);
        app.clock.advance(chrono::Duration::seconds(31));
        assert_eq!(app.login("jan@kwh001.example.nl", USER_PASSWORD).await.status(), 200);
    }

    async fn deactivation_ends_the_access_token_at_once_and_reactivation_brings_back_only_the_password(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let jan = signed_in_colleague(&app, &main, "jan@kwh001.example.nl").await;
        assert_eq!(jan.get("/me").await.status(), 200);
        assert_eq!(set_active(&main, &jan.id, false).await.status(), 200);
        assert_eq!(problem(jan.get("/me").await, 401).await["code"], "unauthorized");

        let reactivated = set_active(&main, &jan.id, true).await;
        assert_eq!(reactivated.status(), 200);
        let reactivated: Value = reactivated.json().await.unwrap();
        assert_eq!(reactivated["active"], true);
        assert_eq!(reactivated["deactivated_at"], Value::Null);
        assert_eq!(problem(jan.get("/me").await, 401).await["code"], "unauthorized", "an ended token stays ended");
        let token = app.token_for("jan@kwh001.example.nl", USER_PASSWORD).await;
        let again = app.session_of(token).await;
        assert_eq!(again.id, jan.id);
    }

    async fn deactivation_ends_the_users_service_tokens_for_good(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let second = app.create_user(&main, second_main_user("KWH001")).await;
        let second = app.sign_in_as(&second).await;
        let token = create_token(&second, "provision").await;
        let service = second.with_token(token["token"].as_str().unwrap());
        assert_eq!(service.get("/users").await.status(), 200);
        assert_eq!(set_active(&main, &second.id, false).await.status(), 200);
        assert_eq!(problem(service.get("/users").await, 401).await["code"], "unauthorized");
        let listed: Vec<Value> = admin.get_json("/api-tokens").await;
        let listed = listed.iter().find(|t| t["id"] == token["id"]).unwrap();
        assert!(listed["revoked_at"].is_string(), "the list says it ended: {listed}");
        // Reactivation makes no credential work again but the password.
        assert_eq!(set_active(&main, &second.id, true).await.status(), 200);
        assert_eq!(problem(service.get("/users").await, 401).await["code"], "unauthorized");
    }

    async fn a_deactivated_users_credentials_are_refused_for_their_state_alone(app) {
        // Deactivation ends every credential by its version too; here the state is set in the
        // database without that, and the credentials must still be refused.
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let second = app.create_user(&main, second_main_user("KWH001")).await;
        let second = app.sign_in_as(&second).await;
        let service = second.with_token(create_token(&second, "read").await["token"].as_str().unwrap());
        use mijnkwh::db::schema::users;
        diesel::update(users::table.find(&second.id))
            .set(users::deactivated_at.eq(Some(chrono::Utc::now().naive_utc())))
            .execute(&mut app.db())
            .unwrap();
        assert_eq!(problem(second.get("/me").await, 401).await["code"], "unauthorized");
        assert_eq!(problem(service.get("/me").await, 401).await["code"], "unauthorized");
        assert_eq!(app.login("tweede@kwh001.example.nl", USER_PASSWORD).await.status(), 401);
    }

    async fn lists_show_the_state_and_filter_by_it(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let jan = app.create_user(&main, colleague("jan@kwh001.example.nl")).await;
        let id = jan["id"].as_str().unwrap();
        assert_eq!(jan["active"], true);
        assert_eq!(jan["deactivated_at"], Value::Null);
        app.create_user(&main, colleague("piet@kwh001.example.nl")).await;
        assert_eq!(set_active(&main, id, false).await.status(), 200);

        let emails = |page: &Value| -> Vec<String> {
            page["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_string()).collect()
        };
        let all: Value = main.get_json("/users?sort=email").await;
        assert_eq!(emails(&all), ["hoofd@kwh001.example.nl", "jan@kwh001.example.nl", "piet@kwh001.example.nl"]);
        let shown = all["items"].as_array().unwrap().iter().find(|u| u["id"] == id).unwrap();
        assert_eq!(shown["active"], false);
        let deactivated: Value = main.get_json("/users?active=false").await;
        assert_eq!(emails(&deactivated), ["jan@kwh001.example.nl"]);
        let active: Value = main.get_json("/users?active=true&sort=email").await;
        assert_eq!(emails(&active), ["hoofd@kwh001.example.nl", "piet@kwh001.example.nl"]);
        assert_eq!(problem(main.get("/users?active=misschien").await, 400).await["code"], "invalid_query");
        // Another corporation's list holds none of this one's deactivated users.
        let other = app.corporation_with_main_user(&admin, "KWH002").await;
        let theirs: Value = other.get_json("/users?active=false").await;
        assert_eq!(theirs["items"], json!([]));

        // The spreadsheet shows it in a column of its own, after the existing ones.
        let csv = main.request(Method::GET, "/users?sort=email").header("Accept", "text/csv").send().await.unwrap().text().await.unwrap();
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").collect();
        let header: Vec<&str> = lines[0].split(';').collect();
        assert_eq!(header.len(), 17);
        assert_eq!(header[12], "Excel Download", "existing columns keep their places");
        assert_eq!(header[16], "Actief");
        let active_cells: Vec<&str> = lines[1..4].iter().map(|line| line.split(';').nth(16).unwrap()).collect();
        assert_eq!(active_cells, ["Ja", "Nee", "Ja"]);
    }

    async fn the_last_active_main_user_cannot_be_deactivated(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let refused = problem(set_active(&admin, &main.id, false).await, 409).await;
        assert_eq!(refused["code"], "last_main_user");
        assert!(is_active(&app, &main.id));

        let second = app.create_user(&main, second_main_user("KWH001")).await;
        let second_id = second["id"].as_str().unwrap();
        assert_eq!(set_active(&main, second_id, false).await.status(), 200);
        // A deactivated main user counts for nothing: the first is now the last active one.
        assert_eq!(problem(set_active(&admin, &main.id, false).await, 409).await["code"], "last_main_user");
        let demote = admin.patch(&format!("/users/{}", main.id), &json!({"role": "user"})).await;
        assert_eq!(problem(demote, 409).await["code"], "last_main_user");
        assert_eq!(problem(admin.delete(&format!("/users/{}", main.id)).await, 409).await["code"], "last_main_user");
        // Demoted and deactivated in one edit is refused the same, and changes nothing.
        let both = admin.patch(&format!("/users/{}", main.id), &json!({"role": "user", "active": false})).await;
        assert_eq!(problem(both, 409).await["code"], "last_main_user");
        let me: Value = main.get_json("/me").await;
        assert_eq!((me["role"].as_str(), me["active"].as_bool()), (Some("main_user"), Some(true)));

        // Reactivated, the second one holds the corporation again and the first may go.
        assert_eq!(set_active(&main, second_id, true).await.status(), 200);
        assert_eq!(set_active(&admin, &main.id, false).await.status(), 200);
    }

    async fn a_deactivated_main_user_may_be_deleted_or_demoted_while_another_is_active(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let second = app.create_user(&main, second_main_user("KWH001")).await;
        let second_id = second["id"].as_str().unwrap();
        let third = app.create_user(&main, json!({
            "email": "derde@kwh001.example.nl", "first_name": "Derde", "last_name": "Hoofd", "role": "main_user",
        })).await;
        let third_id = third["id"].as_str().unwrap();
        for id in [second_id, third_id] {
            assert_eq!(set_active(&main, id, false).await.status(), 200);
        }
        let demoted = main.patch(&format!("/users/{second_id}"), &json!({"role": "user"})).await;
        assert_eq!(demoted.status(), 200);
        assert_eq!(main.delete(&format!("/users/{third_id}")).await.status(), 204);
        let page: Value = admin.get_json("/users?corporation_code=KWH001&role=main_user").await;
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
    }

    async fn nobody_deactivates_themselves(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        app.create_user(&main, second_main_user("KWH001")).await;
        assert_eq!(problem(set_active(&main, &main.id, false).await, 409).await["code"], "cannot_deactivate_self");
        assert_eq!(problem(set_active(&admin, &admin.id, false).await, 409).await["code"], "cannot_deactivate_self");
        // Nor through a service token of their own.
        let service = main.with_token(create_token(&main, "provision").await["token"].as_str().unwrap());
        assert_eq!(problem(set_active(&service, &main.id, false).await, 409).await["code"], "cannot_deactivate_self");
        let dutch = main.request(Method::PATCH, &format!("/users/{}", main.id))
            .header("Accept-Language", "nl").json(&json!({"active": false})).send().await.unwrap();
        assert!(problem(dutch, 409).await["detail"].as_str().unwrap().contains("deactiveren"));
        assert_eq!(main.get("/me").await.status(), 200);
    }

    async fn another_corporations_main_user_cannot_be_deactivated_or_found(app) {
        let admin = app.admin().await;
        let own = app.corporation_with_main_user(&admin, "KWH001").await;
        let other = app.corporation_with_main_user(&admin, "KWH002").await;
        app.create_user(&other, second_main_user("KWH002")).await;
        for active in [false, true] {
            assert_eq!(problem(set_active(&own, &other.id, active).await, 404).await["code"], "not_found");
        }
        assert_eq!(other.get("/me").await.status(), 200);
        assert!(is_active(&app, &other.id));
    }

    async fn a_provision_token_deactivates_colleagues_but_never_kwh_staff(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let jan = app.create_user(&main, colleague("jan@kwh001.example.nl")).await;
        let jan_id = jan["id"].as_str().unwrap();
        let service = main.with_token(create_token(&main, "provision").await["token"].as_str().unwrap());
        assert_eq!(set_active(&service, jan_id, false).await.status(), 200);
        assert_eq!(set_active(&service, jan_id, true).await.status(), 200);
        let read = main.with_token(create_token(&main, "read").await["token"].as_str().unwrap());
        assert_eq!(problem(set_active(&read, jan_id, false).await, 403).await["code"], "insufficient_scope");

        let staff = admin.post("/users", &json!({
            "email": "collega@kwh.example.nl", "user_type": "kwh", "first_name": "K", "last_name": "W",
        })).await;
        assert_eq!(staff.status(), 201);
        let staff: Value = staff.json().await.unwrap();
        let admin_service = admin.with_token(create_token(&admin, "provision").await["token"].as_str().unwrap());
        assert_eq!(problem(set_active(&admin_service, staff["id"].as_str().unwrap(), false).await, 403).await["code"], "forbidden");
        // A person signed in as KWH staff may.
        assert_eq!(set_active(&admin, staff["id"].as_str().unwrap(), false).await.status(), 200);
    }

    async fn deactivation_honours_if_match(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let jan = app.create_user(&main, colleague("jan@kwh001.example.nl")).await;
        let id = jan["id"].as_str().unwrap();
        let etag = main.get(&format!("/users/{id}")).await.headers()["etag"].to_str().unwrap().to_string();
        assert_eq!(main.patch(&format!("/users/{id}"), &json!({"job_title": "Monteur"})).await.status(), 200);
        let stale = main.request(Method::PATCH, &format!("/users/{id}"))
            .header("If-Match", etag).json(&json!({"active": false})).send().await.unwrap();
        assert_eq!(problem(stale, 412).await["code"], "precondition_failed");
        assert!(is_active(&app, id));
        let fresh = main.get(&format!("/users/{id}")).await.headers()["etag"].to_str().unwrap().to_string();
        let done = main.request(Method::PATCH, &format!("/users/{id}"))
            .header("If-Match", fresh.clone()).json(&json!({"active": false})).send().await.unwrap();
        assert_eq!(done.status(), 200);
        assert_ne!(done.headers()["etag"].to_str().unwrap(), fresh, "the state is part of the version");
    }

    async fn deactivation_and_reactivation_are_audited(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let jan = signed_in_colleague(&app, &main, "jan@kwh001.example.nl").await;
        assert_eq!(set_active(&main, &jan.id, false).await.status(), 200);
        app.login("jan@kwh001.example.nl", USER_PASSWORD).await;
        assert_eq!(set_active(&main, &jan.id, true).await.status(), 200);
        // Deactivated together with another edit: both are in the log, each as itself.
        let both = main.patch(&format!("/users/{}", jan.id), &json!({"active": false, "job_title": "Oud-medewerker"})).await;
        assert_eq!(both.status(), 200);

        let events: Value = main.get_json(&format!("/audit-events?target_id={}", jan.id)).await;
        let items = events["items"].as_array().unwrap();
        let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions[..5], ["user.deactivated", "user.updated", "user.reactivated", "login.failed", "user.deactivated"], "{actions:?}");
        let deactivated = &items[4];
        assert_eq!(deactivated["actor"], main.id);
        assert_eq!(deactivated["corporation_code"], "KWH001");
        assert_eq!(deactivated["changes"]["service_tokens_revoked"], 0);
        assert_eq!(items[3]["changes"]["deactivated"], true, "a deactivated user's attempt is marked as such");
        assert_eq!(items[2]["actor"], main.id);
        let found: Value = admin.get_json("/audit-events?action=user.deactivated").await;
        assert_eq!(found["items"].as_array().unwrap().len(), 2);
        assert!(!events.to_string().contains("jan@"), "no personal data in the log");
    }

    async fn ten_racing_deactivations_of_two_main_users_leave_one_active(app) {
        let admin = app.admin().await;
        let first = app.corporation_with_main_user(&admin, "KWH001").await;
        let second = app.create_user(&first, second_main_user("KWH001")).await;
        let second = app.sign_in_as(&second).await;
        let ids = [first.id.clone(), second.id.clone()];
        let attempts = (0..10).map(|i| set_active(&admin, &ids[i % 2], false));
        let statuses: Vec<u16> = futures_util::future::join_all(attempts).await.iter().map(|r| r.status().as_u16()).collect();
        assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
        assert!(statuses.contains(&409), "{statuses:?}");
        let active: Vec<bool> = ids.iter().map(|id| is_active(&app, id)).collect();
        assert_eq!(active.iter().filter(|a| **a).count(), 1, "{active:?} after {statuses:?}");
        // And when they deactivate each other, the loser's request ends with its token or the rule.
        let survivor = if active[0] { &first } else { &second };
        let other = if active[0] { &second } else { &first };
        assert_eq!(set_active(&admin, &other.id, true).await.status(), 200);
        let other = app.sign_in_as(&app.user(&admin, &other.id).await).await;
        let mutual = (0..10).map(|i| if i % 2 == 0 { set_active(survivor, &other.id, false) } else { set_active(&other, &survivor.id, false) });
        let statuses: Vec<u16> = futures_util::future::join_all(mutual).await.iter().map(|r| r.status().as_u16()).collect();
        assert!(statuses.iter().all(|s| matches!(s, 200 | 401 | 409)), "{statuses:?}");
        let active = [is_active(&app, &survivor.id), is_active(&app, &other.id)];
        assert_eq!(active.iter().filter(|a| **a).count(), 1, "{active:?} after {statuses:?}");
    }
}

for_each_backend! {
    async fn deactivation_voids_the_users_links_and_sends_them_none(backend) {
        let smtp = SmtpServer::start();
        let Some(app) = TestApp::spawn_with_smtp(backend, &smtp.url()).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let jan = app.create_user(&main, colleague("jan@kwh001.example.nl")).await;
        let id = jan["id"].as_str().unwrap();
        assert_eq!(invite(&main, id).await.status(), 202);
        let invitation = smtp.wait_for(1).await.remove(0).link_token();
        let reset_request = app.post("/auth/password-reset").json(&json!({"email": "jan@kwh001.example.nl"})).send().await.unwrap();
        assert_eq!(reset_request.status(), 202);
        let reset = smtp.wait_for(2).await.into_iter().map(|m| m.link_token()).find(|t| *t != invitation).unwrap();
        assert_eq!(app.get(&format!("/invitations/{invitation}")).send().await.unwrap().status(), 200);

        assert_eq!(set_active(&main, id, false).await.status(), 200);
        assert_eq!(problem(app.get(&format!("/invitations/{invitation}")).send().await.unwrap(), 410).await["code"], "invitation_revoked");
        let accept = app.post("/invitations/accept").json(&json!({"token": invitation, "password": "een eigen wachtwoord"})).send().await.unwrap();
        assert_eq!(problem(accept, 410).await["code"], "invitation_revoked");
        let confirm = app.post("/auth/password-reset/confirm").json(&json!({"token": reset, "password": "een eigen wachtwoord"})).send().await.unwrap();
        assert_eq!(problem(confirm, 410).await["code"], "reset_token_revoked");

        // No new link either: the invitation is refused, the reset request answered alike.
        assert_eq!(problem(invite(&main, id).await, 409).await["code"], "user_deactivated");
        app.clock.advance(chrono::Duration::minutes(3));
        let again = app.post("/auth/password-reset").json(&json!({"email": "jan@kwh001.example.nl"})).send().await.unwrap();
        assert_eq!(again.status(), 202);
        let unknown = app.post("/auth/password-reset").json(&json!({"email": "niemand@kwh001.example.nl"})).send().await.unwrap();
        assert_eq!(again.text().await.unwrap(), unknown.text().await.unwrap());
        use mijnkwh::db::schema::outbox_messages;
        let queued: i64 = outbox_messages::table.count().get_result(&mut app.db()).unwrap();
        assert_eq!(queued, 2, "nothing was queued for the deactivated user");

        // Reactivated, they are invited again as before.
        assert_eq!(set_active(&main, id, true).await.status(), 200);
        assert_eq!(invite(&main, id).await.status(), 202);
        let fresh = smtp.wait_for(3).await.into_iter().map(|m| m.link_token()).find(|t| *t != invitation && *t != reset).unwrap();
        let accept = app.post("/invitations/accept").json(&json!({"token": fresh, "password": "een eigen wachtwoord"})).send().await.unwrap();
        assert_eq!(accept.status(), 200);
    }
}
