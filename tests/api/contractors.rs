//! Contractors (aannemers) and their users.

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, problem};
use crate::smtp::SmtpServer;
use crate::{for_each_backend, on_both_backends};

pub async fn create_contractor(session: &Session, name: &str) -> Value {
    let response = session.post("/contractors", &json!({"name": name})).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

on_both_backends! {
    async fn contractors_are_unique_per_corporation_and_private_to_it(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let other = app.corporation_with_main_user(&admin, "KWH002").await;
        let contractor = create_contractor(&main, "Installatietechniek").await;
        assert_eq!(contractor["corporation_code"], "KWH001");
        let again = main.post("/contractors", &json!({"name": " INSTALLATIETECHNIEK "})).await;
        assert_eq!(problem(again, 409).await["code"], "contractor_exists");
        // Another corporation may have its own contractor of that name.
        create_contractor(&other, "Installatietechniek").await;
        let id = contractor["id"].as_str().unwrap();
        for response in [
            other.get(&format!("/contractors/{id}")).await,
            other.patch(&format!("/contractors/{id}"), &json!({"name": "X"})).await,
            other.delete(&format!("/contractors/{id}")).await,
        ] {
            assert_eq!(problem(response, 404).await["code"], "not_found");
        }
        let listed: Value = main.get_json("/contractors").await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        let all: Value = admin.get_json("/contractors").await;
        assert_eq!(all.as_array().unwrap().len(), 2);
        let renamed = main.patch(&format!("/contractors/{id}"), &json!({"name": "Installatietechniek Noord"})).await;
        assert_eq!(renamed.json::<Value>().await.unwrap()["name"], "Installatietechniek Noord");
    }

    async fn contractor_users_need_a_contractor_of_their_own_corporation(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let other = app.corporation_with_main_user(&admin, "KWH002").await;
        let theirs = create_contractor(&other, "Bouwbedrijf Jansen").await;
        let response = main.post("/users", &json!({
            "email": "henk@jansen.example.nl", "first_name": "Henk", "last_name": "Monteur",
            "user_type": "contractor", "contractor_id": theirs["id"]
        })).await;
        assert_eq!(problem(response, 422).await["errors"][0]["code"], "unknown_reference");

        let ours = create_contractor(&main, "Installatietechniek").await;
        let user = app.create_user(&main, json!({
            "email": "henk@installatietechniek.example.nl", "first_name": "Henk", "last_name": "Monteur",
            "user_type": "contractor", "contractor_id": ours["id"]
        })).await;
        assert_eq!(user["role"], "contractor");
        assert_eq!(user["access"], json!(["klantvizier"]));
        assert_eq!(user["email_notifications"], json!([]));
        assert_eq!(user["corporation_code"], "KWH001");
        assert_eq!(user["contractor"], json!({"id": ours["id"], "name": "Installatietechniek"}));
        assert_eq!(user["invitation"]["status"], "sent", "contractor users are invited at once");

        // A kwh_admin may leave the corporation out: it follows from the contractor.
        let by_admin = app.create_user(&admin, json!({
            "email": "piet@installatietechniek.example.nl", "first_name": "Piet", "last_name": "Monteur",
            "user_type": "contractor", "contractor_id": ours["id"]
        })).await;
        assert_eq!(by_admin["corporation_code"], "KWH001");
        let listed: Value = main.get_json(&format!("/users?contractor_id={}", ours["id"].as_str().unwrap())).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 2);
        let moved = main.patch(&format!("/users/{}", user["id"].as_str().unwrap()), &json!({"excel_download": true})).await;
        assert_eq!(problem(moved, 422).await["errors"][0]["field"], "excel_download");
    }

    async fn the_same_change_sent_25_times_at_once_is_made_and_recorded_once(app) {
        use futures_util::future::join_all;
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let contractor = create_contractor(&main, "Installatietechniek").await;
        let id = contractor["id"].as_str().unwrap().to_string();
        let path = format!("/contractors/{id}");
        let recorded = |target: String, action: &'static str| {
            let admin = admin.clone();
            async move {
                let events: Value = admin.get_json(&format!("/audit-events?target_id={target}&action={action}")).await;
                events["items"].as_array().unwrap().len()
            }
        };
        let statuses = |responses: Vec<reqwest::Response>| {
            let mut statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
            statuses.sort();
            statuses
        };

        let renames = join_all((0..25).map(|_| main.patch(&path, &json!({"name": "Installatietechniek Noord"})))).await;
        assert_eq!(statuses(renames), vec![200; 25]);
        assert_eq!(recorded(id.clone(), "contractor.updated").await, 1);

        let updates = join_all((0..25).map(|_| admin.patch("/corporations/KWH001", &json!({"name": "Woonstichting Noord"})))).await;
        assert_eq!(statuses(updates), vec![200; 25]);
        assert_eq!(recorded("KWH001".into(), "corporation.updated").await, 1);

        let token: Value = main.post("/api-tokens", &json!({"name": "HR-koppeling", "scope": "read"})).await.json().await.unwrap();
        let token_path = format!("/api-tokens/{}", token["id"].as_str().unwrap());
        let revocations = join_all((0..25).map(|_| main.delete(&token_path))).await;
        assert_eq!(statuses(revocations), vec![204; 25]);
        assert_eq!(recorded(token["id"].as_str().unwrap().into(), "api_token.revoked").await, 1);

        let removals = join_all((0..25).map(|_| main.delete(&path))).await;
        let mut expected = vec![404; 24];
        expected.insert(0, 204);
        assert_eq!(statuses(removals), expected);
        assert_eq!(recorded(id, "contractor.deleted").await, 1);
    }

    async fn deleting_a_contractor_removes_its_users_in_one_step(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let contractor = create_contractor(&main, "Installatietechniek").await;
        let user = app.create_user(&main, json!({
            "email": "henk@installatietechniek.example.nl", "first_name": "Henk", "last_name": "Monteur",
            "user_type": "contractor", "contractor_id": contractor["id"]
        })).await;
        let henk = app.sign_in_as(&user).await;
        assert_eq!(henk.get("/me").await.status(), 200);
        let id = contractor["id"].as_str().unwrap();
        let deleted = main.delete(&format!("/contractors/{id}")).await;
        assert_eq!(deleted.status(), 204);
        assert_eq!(henk.get("/me").await.status(), 401);
        assert_eq!(main.get(&format!("/contractors/{id}")).await.status(), 404);
        let events: Value = main.get_json(&format!("/audit-events?target_id={id}")).await;
        assert_eq!(events["items"][0]["action"], "contractor.deleted");
        assert_eq!(events["items"][0]["changes"]["deleted_users"], json!([user["id"]]));
    }
}

for_each_backend! {
    async fn contractor_users_get_their_invitation_on_creation(backend) {
        let smtp = SmtpServer::start();
        let Some(app) = TestApp::spawn_with_smtp(backend, &smtp.url()).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let contractor = create_contractor(&main, "Installatietechniek").await;
        app.create_user(&main, json!({
            "email": "henk@installatietechniek.example.nl", "first_name": "Henk", "last_name": "Monteur",
            "user_type": "contractor", "contractor_id": contractor["id"]
        })).await;
        let mail = smtp.wait_for(1).await.remove(0);
        assert_eq!(mail.to, "henk@installatietechniek.example.nl");
        assert!(mail.text.contains("Installatietechniek (aannemer van Woonstichting KWH001)"), "{}", mail.text);
        let accepted = app.post("/invitations/accept").json(&json!({"token": mail.link_token(), "password": "een goed wachtwoord"})).send().await.unwrap();
        assert_eq!(accepted.status(), 200);
    }
}
