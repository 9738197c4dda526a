//! Every rule on every path (issue "Every rule on every path"): the batch, service tokens,
//! switched-off parts, Unicode addresses and ETags may not go around PRODUCT.md's rules.

use reqwest::Method;
use serde_json::{Value, json};

use crate::api_tokens::with_new_token;
use crate::approvals::{decide, put_settings, second_admin};
use crate::batch::batch;
use crate::contractors::create_contractor;
use crate::helpers::{Session, TestApp, problem};
use crate::on_both_backends;

/// A problem without what differs per request.
fn comparable(mut problem: Value) -> Value {
    if let Some(fields) = problem.as_object_mut() {
        fields.remove("request_id");
    }
    problem
}

async fn catalog(main: &Session, names: &[&str]) {
    let recorded = main
        .post("/corporations/KWH001/contractor-names", &json!({"names": names}))
        .await;
    assert_eq!(recorded.status(), 200);
}

/// A batch of the items of a JSON array.
async fn batch_as(session: &Session, query: &str, items: Value) -> Value {
    batch(session, query, items.as_array().unwrap().clone()).await
}

/// A corporation with a contractor in the catalog, a contractor user of it, and a reviewer
/// who may decide the admin's and the main user's requests.
async fn contractor_with_user(app: &TestApp, admin: &Session) -> (Session, Session, String, String) {
    let reviewer = second_admin(app, admin).await;
    let main = app.corporation_with_main_user(admin, "KWH001").await;
    let contractor = create_contractor(&main, "Installatietechniek").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    catalog(&main, &["Installatietechniek"]).await;
    let henk = app.create_user(&main, json!({"email": "henk@installatie.example.nl", "first_name": "Henk", "last_name": "M", "user_type": "contractor", "contractor_id": contractor})).await;
    (reviewer, main, contractor, henk["id"].as_str().unwrap().to_string())
}

on_both_backends! {
    async fn a_batch_tells_nothing_about_another_corporations_users(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let other = app.corporation_with_main_user(&admin, "KWH002").await;
        let provisioned = batch_as(&other, "", json!([
            {"email": "hr1@kwh002.example.nl", "first_name": "H", "last_name": "R", "external_id": "HR-1"}
        ])).await;
        assert_eq!(provisioned["summary"]["created"], 1);
        // Probing KWH002 from KWH001: its HR number with its own address, with another address,
        // an HR number it does not have, and a corporation that does not exist at all.
        let probe = batch_as(&main, "?dry_run=true", json!([
            {"email": "hr1@kwh002.example.nl", "first_name": "H", "last_name": "R", "external_id": "HR-1", "corporation_code": "KWH002"},
            {"email": "ander@kwh002.example.nl", "first_name": "H", "last_name": "R", "external_id": "HR-1", "corporation_code": "KWH002"},
            {"email": "ander@kwh002.example.nl", "first_name": "H", "last_name": "R", "external_id": "HR-404", "corporation_code": "KWH002"},
            {"email": "ander@kwh999.example.nl", "first_name": "H", "last_name": "R", "external_id": "HR-1", "corporation_code": "KWH999"},
        ])).await;
        let answers: Vec<Value> = probe["results"].as_array().unwrap().iter().map(|r| comparable(r["problem"].clone())).collect();
        assert_eq!(answers[0]["code"], "not_found", "{answers:?}");
        assert!(answers.iter().all(|a| *a == answers[0]), "identical answers: {answers:?}");
    }

    async fn every_single_call_rule_holds_through_the_batch(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let other = app.corporation_with_main_user(&admin, "KWH002").await;
        app.create_user(&other, json!({"email": "elders@kwh002.example.nl", "first_name": "E", "last_name": "L"})).await;
        let own_contractor = create_contractor(&main, "Eigen Aannemer").await;
        let taken = app.create_user(&main, json!({"email": "bezet@kwh001.example.nl", "first_name": "B", "last_name": "Z"})).await;
        assert!(taken["id"].is_string());
        // The same bodies through POST /users and as batch items: the same outcome, by code.
        let cases = [
            ("email taken in another corporation (rule 1)", json!({"email": "ELDERS@kwh002.example.nl", "first_name": "B", "last_name": "Z"}), "email_taken"),
            ("invalid email", json!({"email": "geen-adres", "first_name": "B", "last_name": "Z"}), "validation_failed"),
            ("another corporation (rule 4)", json!({"email": "x@kwh002.example.nl", "first_name": "B", "last_name": "Z", "corporation_code": "KWH002"}), "not_found"),
            ("a kwh_admin by a main user (rule 3)", json!({"email": "x@kwh.example.nl", "first_name": "B", "last_name": "Z", "user_type": "kwh"}), "validation_failed"),
            ("contractor user with mijn_kwh access (rule 3)", json!({"email": "c@x.example.nl", "first_name": "B", "last_name": "Z", "user_type": "contractor", "contractor_id": own_contractor["id"], "access": ["mijn_kwh"]}), "validation_failed"),
            ("unknown contractor", json!({"email": "c@y.example.nl", "first_name": "B", "last_name": "Z", "user_type": "contractor", "contractor_id": "00000000-0000-4000-8000-000000000000"}), "validation_failed"),
        ];
        for (rule, body, code) in &cases {
            let single = main.post("/users", body).await;
            let status = single.status().as_u16();
            let single: Value = single.json().await.unwrap();
            assert_eq!(single["code"], *code, "single call, {rule}: {single}");
            let through_batch = batch_as(&main, "", json!([body])).await;
            let item = &through_batch["results"][0];
            assert_eq!(item["status"], "failed", "{rule}");
            assert_eq!(item["problem"]["code"], *code, "batch, {rule}: {item}");
            assert_eq!(item["problem"]["status"], status, "{rule}");
        }
        // An item that is no object fails on its own; the others go on.
        let mixed = batch_as(&main, "", json!([42, {"email": "goed@kwh001.example.nl", "first_name": "G", "last_name": "D"}])).await;
        assert_eq!(mixed["results"][0]["status"], "failed");
        assert_eq!(mixed["results"][0]["problem"]["code"], "invalid_body");
        assert_eq!(mixed["results"][1]["status"], "created");
    }

    async fn an_integrator_keeps_the_link_to_a_user_matched_by_email(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = app.create_user(&main, json!({"email": "jan@kwh001.example.nl", "first_name": "Jan", "last_name": "J"})).await;
        let id = user["id"].as_str().unwrap();
        let matched = batch_as(&main, "", json!([{"email": "jan@kwh001.example.nl", "first_name": "Jan", "last_name": "J", "external_id": "HR-7"}])).await;
        assert_eq!(matched["results"][0]["status"], "updated", "{matched}");
        assert_eq!(app.user(&main, id).await["external_id"], "HR-7");
        // The HR system changed the address: one user, and the rule says so.
        let moved = batch_as(&main, "", json!([{"email": "jan.nieuw@kwh001.example.nl", "first_name": "Jan", "last_name": "J", "external_id": "HR-7"}])).await;
        assert_eq!(moved["results"][0]["problem"]["code"], "email_immutable");
        // PATCH sets it too; another user's id is a conflict.
        let other = app.create_user(&main, json!({"email": "piet@kwh001.example.nl", "first_name": "Piet", "last_name": "P"})).await;
        let other_id = other["id"].as_str().unwrap();
        let clash = main.patch(&format!("/users/{other_id}"), &json!({"external_id": "HR-7"})).await;
        assert_eq!(problem(clash, 409).await["code"], "external_id_taken");
        let set = main.patch(&format!("/users/{other_id}"), &json!({"external_id": "HR-8"})).await;
        assert_eq!(set.status(), 200);
        assert_eq!(set.json::<Value>().await.unwrap()["external_id"], "HR-8");
        let cleared = main.patch(&format!("/users/{other_id}"), &json!({"external_id": null})).await;
        assert_eq!(cleared.json::<Value>().await.unwrap()["external_id"], Value::Null);
    }

    async fn no_service_token_makes_reaches_or_becomes_a_kwh_admin(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let other_admin = app.create_user(&admin, json!({"email": "ander@kwh.example.nl", "user_type": "kwh", "first_name": "A", "last_name": "B"})).await;
        let other_admin_id = other_admin["id"].as_str().unwrap();
        let colleague = app.create_user(&admin, json!({"email": "c@kwh001.example.nl", "corporation_code": "KWH001", "first_name": "C", "last_name": "D"})).await;
        let colleague_id = colleague["id"].as_str().unwrap();
        let provision = with_new_token(&admin, "provision").await;
        let kwh = json!({"email": "nieuw@kwh.example.nl", "user_type": "kwh", "first_name": "N", "last_name": "W"});
        let as_role = json!({"email": "nieuw2@kwh.example.nl", "role": "kwh_admin", "first_name": "N", "last_name": "W"});
        // A kwh user is refused for the token (403); a corporation user with the kwh_admin role
        // cannot exist at all (422, rule 3). Neither path creates anything.
        for (body, status, code) in [(&kwh, 403, "forbidden"), (&as_role, 422, "validation_failed")] {
            let created = provision.post("/users", body).await;
            assert_eq!(problem(created, status).await["code"], code, "{body}");
            let through_batch = batch_as(&provision, "?invite=true", json!([body])).await;
            assert_eq!(through_batch["results"][0]["problem"]["code"], code, "{through_batch}");
        }
        let listed: Value = admin.get_json("/users?q=nieuw").await;
        assert_eq!(listed["items"], json!([]));
        let promote = provision.patch(&format!("/users/{colleague_id}"), &json!({"role": "kwh_admin"})).await;
        assert_eq!(problem(promote, 403).await["code"], "forbidden");
        for (method, path, body) in [
            ("PATCH", format!("/users/{other_admin_id}"), Some(json!({"phone": "010"}))),
            ("POST", format!("/users/{other_admin_id}/invite"), None),
            ("DELETE", format!("/users/{other_admin_id}"), None),
        ] {
            let mut request = provision.request(method.parse().unwrap(), &path);
            if let Some(body) = body {
                request = request.json(&body);
            }
            assert_eq!(problem(request.send().await.unwrap(), 403).await["code"], "forbidden", "{method} {path}");
        }
        // A main user's token cannot either, and a signed-in kwh_admin can, audited.
        let main_token = with_new_token(&main, "provision").await;
        let created = main_token.post("/users", &kwh).await;
        assert_eq!(created.status(), 403);
        let created = app.create_user(&admin, kwh.clone()).await;
        let events: Value = admin.get_json(&format!("/audit-events?target_id={}", created["id"].as_str().unwrap())).await;
        assert_eq!(events["items"][0]["action"], "user.created");
        assert_eq!(events["items"][0]["actor"], admin.id);
    }

    async fn a_kwh_admin_the_requester_created_cannot_decide_the_request(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let contractor = create_contractor(&main, "Installatietechniek").await;
        let contractor = contractor["id"].as_str().unwrap();
        catalog(&main, &["Installatietechniek"]).await;
        let puppet = app.create_user(&admin, json!({"email": "pop@kwh.example.nl", "user_type": "kwh", "first_name": "P", "last_name": "P"})).await;
        let puppet = app.sign_in_as(&puppet).await;
        let requested = put_settings(&admin, contractor, json!({"parts": ["repairs"], "own_names": ["Installatietechniek"], "partner_names": [], "excel_download": true})).await;
        assert_eq!(requested.status(), 202);
        let id = requested.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
        for action in ["approve", "reject"] {
            assert_eq!(problem(decide(&puppet, &id, action).await, 403).await["code"], "cannot_review_own_request", "{action}");
        }
        // Nor one the requester created through another account it created.
        let chained = app.create_user(&puppet, json!({"email": "pop2@kwh.example.nl", "user_type": "kwh", "first_name": "P", "last_name": "Q"})).await;
        let chained = app.sign_in_as(&chained).await;
        assert_eq!(problem(decide(&chained, &id, "approve").await, 403).await["code"], "cannot_review_own_request");
        let reviewer = second_admin(&app, &admin).await;
        assert_eq!(decide(&reviewer, &id, "approve").await.status(), 200);
    }

    async fn an_own_name_belongs_to_one_contractor_in_force_or_pending(app) {
        let admin = app.admin().await;
        let reviewer = second_admin(&app, &admin).await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let first = create_contractor(&main, "Installatietechniek").await["id"].as_str().unwrap().to_string();
        let second = create_contractor(&main, "Installatietechniek Zuid").await["id"].as_str().unwrap().to_string();
        catalog(&main, &["Installatietechniek", "Installatietechniek Zuid", "Installatie Zuid"]).await;
        let own = |names: &[&str], excel: bool| json!({"parts": ["repairs"], "own_names": names, "partner_names": [], "excel_download": excel});
        let requested = put_settings(&main, &first, own(&["Installatietechniek"], true)).await;
        let id = requested.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
        assert_eq!(decide(&reviewer, &id, "approve").await.status(), 200);
        // The second contractor claims the first one's own name, with Excel: refused.
        let claim = put_settings(&main, &second, own(&["Installatietechniek Zuid", "Installatietechniek"], true)).await;
        assert_eq!(problem(claim, 422).await["code"], "own_name_taken");
        // A pending request holds its names too.
        let pending = put_settings(&main, &first, own(&["Installatietechniek", "Installatie Zuid"], true)).await;
        assert_eq!(pending.status(), 202);
        let pending_id = pending.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
        let claim = put_settings(&main, &second, own(&["Installatie Zuid"], false)).await;
        assert_eq!(problem(claim, 422).await["code"], "own_name_taken");
        // Withdrawn, the name is free again.
        assert_eq!(decide(&main, &pending_id, "cancel").await.status(), 200);
        let claim = put_settings(&main, &second, own(&["Installatie Zuid", "Installatietechniek Zuid"], true)).await;
        assert_eq!(claim.status(), 202);
        // Naming the first one's own name as a partner is possible, and the reviewer is told whose it is.
        let partner = put_settings(&main, &second, json!({"parts": ["repairs"], "own_names": ["Installatietechniek Zuid"], "partner_names": ["Installatietechniek"], "excel_download": false})).await;
        assert_eq!(partner.status(), 202);
        let warnings = partner.json::<Value>().await.unwrap()["warnings"].clone();
        let warning = warnings.as_array().unwrap().iter().find(|w| w["code"] == "partner_name_of_other_contractor").unwrap_or_else(|| panic!("{warnings}"));
        assert_eq!(warning["names"], json!(["Installatietechniek"]));
        assert!(warning["message"].as_str().unwrap().contains("aannemer Installatietechniek"), "{warning}");
    }

    async fn two_contractors_trading_own_names_at_once_are_both_refused_cleanly(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let first = create_contractor(&main, "Bouw Een").await["id"].as_str().unwrap().to_string();
        let second = create_contractor(&main, "Bouw Twee").await["id"].as_str().unwrap().to_string();
        catalog(&main, &["Bouw Een", "Bouw Twee"]).await;
        let own = |name: &str| json!({"parts": ["repairs"], "own_names": [name], "partner_names": [], "excel_download": false});
        assert_eq!(put_settings(&main, &first, own("Bouw Een")).await.status(), 202);
        assert_eq!(put_settings(&main, &second, own("Bouw Twee")).await.status(), 202);
        for round in 0..5 {
            // Each asks for the other's name at the same moment: without one order of claims,
            // each would wait for the other's rows.
            let (a, b) = futures_util::join!(
                put_settings(&main, &first, json!({"parts": ["repairs"], "own_names": ["Bouw Een", "Bouw Twee"], "partner_names": [], "excel_download": false})),
                put_settings(&main, &second, json!({"parts": ["repairs"], "own_names": ["Bouw Twee", "Bouw Een"], "partner_names": [], "excel_download": false})),
            );
            assert_eq!((a.status().as_u16(), b.status().as_u16()), (422, 422), "round {round}");
        }
    }

    async fn a_part_switched_off_leaves_the_settings_in_force_and_on_again_grants_nothing(app) {
        let admin = app.admin().await;
        let (reviewer, main, contractor, henk_id) = contractor_with_user(&app, &admin).await;
        let requested = put_settings(&main, &contractor, json!({"parts": ["repairs", "maintenance"], "own_names": ["Installatietechniek"], "partner_names": [], "excel_download": false})).await;
        let id = requested.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
        assert_eq!(decide(&reviewer, &id, "approve").await.status(), 200);
        let before = main.get(&format!("/users/{henk_id}")).await;
        let etag = before.headers()["etag"].to_str().unwrap().to_string();
        assert_eq!(before.json::<Value>().await.unwrap()["report_settings"]["parts"], json!(["repairs", "maintenance"]));

        let off = admin.patch("/corporations/KWH001", &json!({"active_parts": ["repairs"]})).await;
        assert_eq!(off.status(), 200);
        let state: Value = main.get_json(&format!("/contractors/{contractor}/report-settings")).await;
        assert_eq!(state["active"]["parts"], json!(["repairs"]));
        let after = main.get(&format!("/users/{henk_id}")).await;
        assert_ne!(after.headers()["etag"].to_str().unwrap(), etag, "the view changed, so does its ETag");
        assert_eq!(after.json::<Value>().await.unwrap()["report_settings"]["parts"], json!(["repairs"]));
        let stale = main.request(Method::PATCH, &format!("/users/{henk_id}")).header("If-Match", &etag).json(&json!({"phone": "010"})).send().await.unwrap();
        assert_eq!(problem(stale, 412).await["code"], "precondition_failed");
        let history: Value = admin.get_json(&format!("/approvals?contractor_id={contractor}")).await;
        let history = history["items"].as_array().cloned().unwrap_or_else(|| history.as_array().cloned().unwrap_or_default());
        assert!(history.iter().any(|a| a["status"] == "approved" && a["reason"].as_str().is_some_and(|r| r.contains("uitgeschakeld"))), "{history:?}");

        let on = admin.patch("/corporations/KWH001", &json!({"active_parts": ["repairs", "maintenance"]})).await;
        assert_eq!(on.status(), 200);
        let state: Value = main.get_json(&format!("/contractors/{contractor}/report-settings")).await;
        assert_eq!(state["active"]["parts"], json!(["repairs"]), "switching on grants nothing by itself");
    }

    async fn a_stale_if_match_after_a_settings_approval_answers_412(app) {
        let admin = app.admin().await;
        let (reviewer, main, contractor, henk_id) = contractor_with_user(&app, &admin).await;
        let read = main.get(&format!("/users/{henk_id}")).await;
        let etag = read.headers()["etag"].to_str().unwrap().to_string();
        let requested = put_settings(&main, &contractor, json!({"parts": ["repairs"], "own_names": ["Installatietechniek"], "partner_names": [], "excel_download": true})).await;
        let id = requested.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
        assert_eq!(decide(&reviewer, &id, "approve").await.status(), 200);
        let now_shown: Value = app.user(&main, &henk_id).await;
        assert_eq!(now_shown["excel_download"], true);
        let stale = main.request(Method::PATCH, &format!("/users/{henk_id}")).header("If-Match", &etag).json(&json!({"phone": "010"})).send().await.unwrap();
        assert_eq!(problem(stale, 412).await["code"], "precondition_failed");
    }

    async fn one_mailbox_is_one_user_across_unicode_forms(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        for (first, second) in [("jan@müller.de", "jan@xn--mller-kva.de"), ("piet@kwh.nl", "piet@ｋｗｈ.nl"), ("ｋｅｅｓ@kwh.nl", "KEES@KWH.NL")] {
            let created = app.create_user(&main, json!({"email": first, "first_name": "A", "last_name": "B"})).await;
            let again = main.post("/users", &json!({"email": second, "first_name": "A", "last_name": "B"})).await;
            assert_eq!(problem(again, 409).await["code"], "email_taken", "{first} / {second}");
            assert!(created["email"].as_str().unwrap().is_ascii(), "stored and mailed in the canonical form: {created}");
        }
        assert_eq!(app.create_user(&main, json!({"email": "jan@muller.de", "first_name": "A", "last_name": "B"})).await["email"], "jan@muller.de");
        assert_eq!(app.create_user(&main, json!({"email": "straße@kwh.nl", "first_name": "A", "last_name": "B"})).await["email"], "straße@kwh.nl");
        assert_eq!(app.create_user(&main, json!({"email": "strasse@kwh.nl", "first_name": "A", "last_name": "B"})).await["email"], "strasse@kwh.nl");
    }
}
