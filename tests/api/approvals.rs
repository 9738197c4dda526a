//! Report settings and their approval (rules 7–10), including the seed's own example.

use reqwest::Method;
use serde_json::{Value, json};

use crate::contractors::create_contractor;
use crate::helpers::{Session, TestApp, problem};
use crate::smtp::SmtpServer;
use crate::{for_each_backend, on_both_backends};

const SPELLINGS: [&str; 3] = ["Installatietechniek", "installatietechnik", "Installatie-techniek"];

/// A second KWH employee, signed in.
/// A second kwh_admin for four-eyes checks, created as operators do with `mijnkwh
/// create-admin`: an account the requester created, directly or through accounts it created,
/// is no second pair of eyes (rule 9).
pub async fn second_admin(app: &TestApp, _admin: &Session) -> Session {
    let email = "tweede.beheerder@kwh.example.nl";
    mijnkwh::service::bootstrap::create_admin(&mut app.db(), email, crate::helpers::USER_PASSWORD, mijnkwh::db::now())
        .unwrap();
    let token = app.token_for(email, crate::helpers::USER_PASSWORD).await;
    app.session_of(token).await
}

/// KWH001 with a main user, contractor Installatietechniek and a catalog with its spellings,
/// a subcontractor and an unrelated company.
async fn seed_example(app: &TestApp, admin: &Session) -> (Session, String) {
    let main = app.corporation_with_main_user(admin, "KWH001").await;
    let contractor = create_contractor(&main, "Installatietechniek").await;
    let names = json!({"names": [SPELLINGS[0], SPELLINGS[1], SPELLINGS[2], "Loodgieter Bakker", "Bouwbedrijf Jansen"]});
    let recorded = main.post("/corporations/KWH001/contractor-names", &names).await;
    assert_eq!(recorded.status(), 200);
    (main, contractor["id"].as_str().unwrap().to_string())
}

pub async fn put_settings(session: &Session, contractor: &str, body: Value) -> reqwest::Response {
    session
        .put(&format!("/contractors/{contractor}/report-settings"), &body)
        .await
}

pub async fn decide(session: &Session, approval: &str, action: &str) -> reqwest::Response {
    let mut request = session.request(Method::POST, &format!("/approvals/{approval}/{action}"));
    if action == "reject" {
        request = request.json(&json!({"reason": "Niet nodig voor het werk"}));
    }
    request.send().await.unwrap()
}

fn own_only(excel: bool) -> Value {
    json!({"parts": ["repairs"], "own_names": SPELLINGS, "partner_names": [], "excel_download": excel})
}

async fn settings(session: &Session, contractor: &str) -> Value {
    session
        .get_json(&format!("/contractors/{contractor}/report-settings"))
        .await
}

for_each_backend! {
    async fn the_seed_example_end_to_end(backend) {
        let smtp = SmtpServer::start();
        let Some(app) = TestApp::spawn_with_smtp(backend, &smtp.url()).await else { return };
        let admin = app.admin().await;
        let reviewer = second_admin(&app, &admin).await;
        let (main, contractor) = seed_example(&app, &admin).await;
        let henk = app.create_user(&main, json!({
            "email": "henk@installatietechniek.example.nl", "first_name": "Henk", "last_name": "Monteur",
            "user_type": "contractor", "contractor_id": contractor
        })).await;
        let henk_id = henk["id"].as_str().unwrap().to_string();

        // "Kijk dus ook goed of er verschillende notaties staan voor dezelfde aannemer".
        let ranked: Value = main.get_json("/corporations/KWH001/contractor-names?similar_to=Installatietechniek").await;
        let top: Vec<&str> = ranked.as_array().unwrap()[..3].iter().map(|n| n["name"].as_str().unwrap()).collect();
        for spelling in SPELLINGS {
            assert!(top.contains(&spelling), "{top:?}");
        }
        assert!(ranked[3]["score"].as_f64().unwrap() < ranked[2]["score"].as_f64().unwrap());

        // Excel with a subcontractor is refused when requested.
        let with_partner = json!({"parts": ["repairs", "maintenance"], "own_names": SPELLINGS, "partner_names": ["Loodgieter Bakker"], "excel_download": true});
        let refused = problem(put_settings(&admin, &contractor, with_partner).await, 422).await;
        assert_eq!(refused["code"], "excel_download_requires_single_contractor");

        // Without it, the request waits for approval; nothing changes for Henk yet.
        let requested = put_settings(&admin, &contractor, own_only(true)).await;
        assert_eq!(requested.status(), 202);
        let location = requested.headers()["location"].to_str().unwrap().to_string();
        let approval: Value = requested.json().await.unwrap();
        assert_eq!(location, format!("/approvals/{}", approval["id"].as_str().unwrap()));
        assert_eq!(approval["status"], "pending");
        assert_eq!(approval["current"], Value::Null);
        let warnings: Vec<&str> = approval["warnings"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap()).collect();
        assert_eq!(warnings, ["excel_newly_granted"]);
        assert!(approval["changes"].as_array().unwrap().iter().any(|c| c["field"] == "excel_download" && c["new"] == true));
        let state = settings(&main, &contractor).await;
        assert_eq!(state["active"], Value::Null);
        assert_eq!(state["pending"]["id"], approval["id"]);
        assert_eq!(app.user(&main, &henk_id).await["excel_download"], false);

        let id = approval["id"].as_str().unwrap();
        assert_eq!(problem(decide(&admin, id, "approve").await, 403).await["code"], "cannot_review_own_request");
        assert_eq!(problem(decide(&main, id, "approve").await, 403).await["code"], "forbidden");
        let approved: Value = decide(&reviewer, id, "approve").await.json().await.unwrap();
        assert_eq!(approved["status"], "approved");
        assert_eq!(approved["decided_by"], reviewer.id);

        let shown = app.user(&main, &henk_id).await;
        assert_eq!(shown["excel_download"], true);
        assert_eq!(shown["report_settings"]["own_names"], json!(SPELLINGS));
        assert_eq!(shown["report_settings"]["parts"], json!(["repairs"]));
        assert_eq!(settings(&main, &contractor).await["active"]["excel_download"], true);

        // The requester hears about it.
        let mail = smtp.wait_for(2).await.into_iter().find(|m| m.to == "admin@kwh.example.nl").expect("decision mail");
        assert!(mail.subject.contains("goedgekeurd"), "{}", mail.subject);
        assert!(mail.text.contains("Installatietechniek"));

        // The Excel grant is in the audit log.
        let events: Value = admin.get_json(&format!("/audit-events?target_id={contractor}&action=report_settings.approved")).await;
        assert_eq!(events["items"][0]["changes"]["excel_download"], json!({"old": false, "new": true}));
        assert_eq!(events["items"][0]["actor"], reviewer.id);
    }

    async fn a_rejection_gives_the_requester_the_reason(backend) {
        let smtp = SmtpServer::start();
        let Some(app) = TestApp::spawn_with_smtp(backend, &smtp.url()).await else { return };
        let admin = app.admin().await;
        let (main, contractor) = seed_example(&app, &admin).await;
        let approval: Value = put_settings(&main, &contractor, own_only(true)).await.json().await.unwrap();
        let id = approval["id"].as_str().unwrap();
        let without_reason = admin.post(&format!("/approvals/{id}/reject"), &json!({"reason": " "})).await;
        assert_eq!(problem(without_reason, 422).await["errors"][0]["field"], "reason");
        let rejected: Value = decide(&admin, id, "reject").await.json().await.unwrap();
        assert_eq!(rejected["status"], "rejected");
        assert_eq!(rejected["reason"], "Niet nodig voor het werk");
        let mail = smtp.wait_for(1).await.remove(0);
        assert_eq!(mail.to, "hoofd@kwh001.example.nl");
        assert!(mail.text.contains("afgewezen") && mail.text.contains("Reden: Niet nodig voor het werk"), "{}", mail.text);
        assert_eq!(settings(&main, &contractor).await["active"], Value::Null);
    }
}

on_both_backends! {
    async fn names_and_parts_must_come_from_the_corporation(app) {
        let admin = app.admin().await;
        let (main, contractor) = seed_example(&app, &admin).await;
        let cases = [
            (json!({"parts": ["contact"], "own_names": ["Installatietechniek"]}), "parts[0]", "part_not_active"),
            (json!({"parts": ["repairs"], "own_names": ["Onbekend BV"]}), "own_names[0]", "unknown_reference"),
            (json!({"parts": ["repairs"], "own_names": ["Installatietechniek", "Installatietechniek"]}), "own_names[1]", "duplicate"),
            (json!({"parts": ["repairs"], "own_names": ["Installatietechniek"], "partner_names": ["Installatietechniek"]}), "partner_names[0]", "duplicate"),
            (json!({"parts": ["repairs"], "own_names": [], "excel_download": true}), "excel_download", "excel_download_requires_single_contractor"),
        ];
        for (body, field, code) in cases {
            let refused = problem(put_settings(&main, &contractor, body.clone()).await, 422).await;
            let errors = refused["errors"].as_array().unwrap();
            assert!(errors.iter().any(|e| e["field"] == field && e["code"] == code), "{body} → {refused}");
        }
        assert_eq!(settings(&main, &contractor).await["pending"], Value::Null, "nothing half-requested");
    }

    async fn approval_checks_the_rules_again_as_they_are_now(app) {
        let admin = app.admin().await;
        let (main, contractor) = seed_example(&app, &admin).await;
        let body = json!({"parts": ["repairs", "maintenance"], "own_names": SPELLINGS});
        let approval: Value = put_settings(&main, &contractor, body).await.json().await.unwrap();
        let narrowed = admin.patch("/corporations/KWH001", &json!({"active_parts": ["repairs"]})).await;
        assert_eq!(narrowed.status(), 200);
        let refused = problem(decide(&admin, approval["id"].as_str().unwrap(), "approve").await, 422).await;
        assert_eq!(refused["errors"][0]["code"], "part_not_active");
        assert_eq!(settings(&main, &contractor).await["active"], Value::Null);
    }

    async fn a_stale_request_cannot_be_approved(app) {
        let admin = app.admin().await;
        let (main, contractor) = seed_example(&app, &admin).await;
        let first: Value = put_settings(&main, &contractor, own_only(false)).await.json().await.unwrap();
        assert_eq!(decide(&admin, first["id"].as_str().unwrap(), "approve").await.status(), 200);
        let second: Value = put_settings(&main, &contractor, own_only(true)).await.json().await.unwrap();
        // The lock on the contractor keeps this from happening through the API; the version
        // pin is the backstop should the settings in force change some other way.
        use diesel::prelude::*;
        use mijnkwh::db::schema::report_settings;
        diesel::update(report_settings::table.find(&contractor)).set(report_settings::version.eq(7)).execute(&mut app.db()).unwrap();
        let stale = problem(decide(&admin, second["id"].as_str().unwrap(), "approve").await, 409).await;
        assert_eq!(stale["code"], "approval_stale");
        assert_eq!(settings(&main, &contractor).await["active"]["excel_download"], false);
    }

    async fn a_newer_request_supersedes_and_decided_requests_stay_decided(app) {
        let admin = app.admin().await;
        let (main, contractor) = seed_example(&app, &admin).await;
        let first: Value = put_settings(&main, &contractor, own_only(false)).await.json().await.unwrap();
        let second: Value = put_settings(&main, &contractor, own_only(true)).await.json().await.unwrap();
        let first_id = first["id"].as_str().unwrap();
        let shown: Value = admin.get_json(&format!("/approvals/{first_id}")).await;
        assert_eq!(shown["status"], "superseded");
        for action in ["approve", "reject", "cancel"] {
            assert_eq!(problem(decide(&admin, first_id, action).await, 409).await["code"], "invalid_transition", "{action}");
        }
        let second_id = second["id"].as_str().unwrap();
        assert_eq!(decide(&main, second_id, "cancel").await.status(), 200);
        assert_eq!(problem(decide(&admin, second_id, "approve").await, 409).await["code"], "invalid_transition");
        let pending: Value = admin.get_json("/approvals?status=pending").await;
        assert_eq!(pending["items"], json!([]));
        let all: Value = main.get_json("/approvals").await;
        let statuses: Vec<&str> = all["items"].as_array().unwrap().iter().map(|a| a["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["cancelled", "superseded"]);
    }

    async fn another_corporation_sees_none_of_it(app) {
        let admin = app.admin().await;
        let (main, contractor) = seed_example(&app, &admin).await;
        let other = app.corporation_with_main_user(&admin, "KWH002").await;
        let approval: Value = put_settings(&main, &contractor, own_only(false)).await.json().await.unwrap();
        let id = approval["id"].as_str().unwrap();
        for response in [
            other.get(&format!("/contractors/{contractor}/report-settings")).await,
            put_settings(&other, &contractor, own_only(false)).await,
            other.get(&format!("/approvals/{id}")).await,
            decide(&other, id, "cancel").await,
            other.get("/corporations/KWH001/contractor-names").await,
            other.post("/corporations/KWH001/contractor-names", &json!({"names": ["X"]})).await,
        ] {
            assert_eq!(problem(response, 404).await["code"], "not_found");
        }
        let theirs: Value = other.get_json("/approvals").await;
        assert_eq!(theirs["items"], json!([]));
    }

    async fn the_catalog_counts_deliveries_without_duplicating_spellings(app) {
        let admin = app.admin().await;
        let (main, _) = seed_example(&app, &admin).await;
        let again = main.post("/corporations/KWH001/contractor-names", &json!({"names": ["Installatietechniek", "Installatietechniek", "Nieuw Bedrijf"]})).await;
        let answered: Value = again.json().await.unwrap();
        assert_eq!(answered.as_array().unwrap().len(), 2);
        let catalog: Value = main.get_json("/corporations/KWH001/contractor-names").await;
        assert_eq!(catalog.as_array().unwrap().len(), 6);
        let known = catalog.as_array().unwrap().iter().find(|n| n["name"] == "Installatietechniek").unwrap();
        assert_eq!(known["seen_count"], 2);
        let filtered: Value = main.get_json("/corporations/KWH001/contractor-names?q=BAKKER").await;
        assert_eq!(filtered.as_array().unwrap().len(), 1);
        let empty = main.post("/corporations/KWH001/contractor-names", &json!({"names": [" "]})).await;
        assert_eq!(problem(empty, 422).await["errors"][0]["field"], "names[0]");
    }

    async fn ten_racing_decisions_leave_exactly_one(app) {
        let admin = app.admin().await;
        let (main, contractor) = seed_example(&app, &admin).await;
        let approval: Value = put_settings(&main, &contractor, own_only(true)).await.json().await.unwrap();
        let id = approval["id"].as_str().unwrap();
        let calls = (0..10).map(|i| decide(&admin, id, if i % 2 == 0 { "approve" } else { "reject" }));
        let responses = futures_util::future::join_all(calls).await;
        let mut statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
        statuses.sort();
        assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
        let events: Value = admin.get_json(&format!("/audit-events?target_id={contractor}")).await;
        let decisions = events["items"].as_array().unwrap().iter()
            .filter(|e| e["action"] == "report_settings.approved" || e["action"] == "report_settings.rejected").count();
        assert_eq!(decisions, 1);
    }

    async fn a_request_racing_an_approval_stays_consistent(app) {
        let admin = app.admin().await;
        let (main, contractor) = seed_example(&app, &admin).await;
        for round in 0..5 {
            let first: Value = put_settings(&main, &contractor, own_only(round % 2 == 0)).await.json().await.unwrap();
            let first_id = first["id"].as_str().unwrap().to_string();
            let with_partner = json!({"parts": ["repairs"], "own_names": SPELLINGS, "partner_names": ["Loodgieter Bakker"]});
            let (approved, requested) = tokio::join!(
                decide(&admin, &first_id, "approve"),
                put_settings(&main, &contractor, with_partner),
            );
            assert_eq!(requested.status(), 202);
            let state = settings(&admin, &contractor).await;
            let pending = &state["pending"];
            assert_eq!(pending["proposed"]["partner_names"], json!(["Loodgieter Bakker"]));
            match approved.status().as_u16() {
                // Approved first: the new request is based on what it put in force.
                200 => assert_eq!(pending["current"], state["active"]),
                // Superseded first: the approval was refused and nothing changed.
                409 => {}
                other => panic!("unexpected {other}"),
            }
            // Never an Excel grant beside partner names.
            let active = &state["active"];
            let no_partners = active["partner_names"].as_array().is_none_or(|p| p.is_empty());
            assert!(active["excel_download"] != true || no_partners, "{active}");
            let pending_count: Value = admin.get_json(&format!("/approvals?status=pending&contractor_id={contractor}")).await;
            assert_eq!(pending_count["items"].as_array().unwrap().len(), 1);
            decide(&main, pending["id"].as_str().unwrap(), "cancel").await;
        }
    }
}

for_each_backend! {
    async fn a_new_request_puts_one_mail_to_kwhs_review_mailbox_in_the_outbox(backend) {
        let smtp = SmtpServer::start();
        let mut extra = crate::helpers::smtp_settings(&smtp.url());
        extra.push(("APPROVALS_NOTIFY", "Team.AVG@kwh.example.nl".into()));
        let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let Some(app) = TestApp::spawn_with(backend, &extra).await else { return };
        let admin = app.admin().await;
        let (main, contractor) = seed_example(&app, &admin).await;
        let with_partner = json!({"parts": ["repairs"], "own_names": SPELLINGS, "partner_names": ["Loodgieter Bakker"]});
        assert_eq!(put_settings(&main, &contractor, with_partner).await.status(), 202);

        let review = smtp.wait_for(1).await.into_iter().find(|m| m.to.contains("team.avg@kwh.example.nl"))
            .expect("a mail to the review mailbox");
        assert!(review.subject.contains("Installatietechniek"), "{}", review.subject);
        assert!(review.text.contains("Hanneke Hoofd heeft op"), "{}", review.text);
        assert!(review.text.contains("Onderdelen: (nog niets ingesteld) → Reparaties"), "{}", review.text);
        assert!(review.text.contains("Resultaten van andere aannemers: (nog niets ingesteld) → Loodgieter Bakker"), "{}", review.text);
        assert!(review.text.contains("De aannemer gaat resultaten van andere aannemers zien: Loodgieter Bakker."), "{}", review.text);

        // A second request supersedes the first and tells the reviewers once more: one mail per request.
        assert_eq!(put_settings(&main, &contractor, own_only(true)).await.status(), 202);
        use diesel::prelude::*;
        use mijnkwh::db::schema::outbox_messages as outbox;
        let queued: Vec<(String, String)> = outbox::table
            .filter(outbox::kind.eq("approval_request"))
            .select((outbox::recipient, outbox::payload))
            .load(&mut app.db())
            .unwrap();
        assert_eq!(queued.len(), 2, "{queued:?}");
        assert!(queued.iter().all(|(to, _)| to == "team.avg@kwh.example.nl"));
        assert!(queued.iter().any(|(_, payload)| payload.contains("Excel Download: (nog niets ingesteld) → Ja")));
        let messages = smtp.wait_for(2).await;
        let reviews: Vec<_> = messages.iter().filter(|m| m.to.contains("team.avg@")).collect();
        assert_eq!(reviews.len(), 2);
        assert!(reviews.iter().any(|m| m.text.contains("Excel Download (persoonsgegevens) wordt nieuw toegekend.")));
    }
}

on_both_backends! {
    async fn without_a_review_mailbox_a_request_queues_no_mail(app) {
        let admin = app.admin().await;
        let (main, contractor) = seed_example(&app, &admin).await;
        assert_eq!(put_settings(&main, &contractor, own_only(false)).await.status(), 202);
        use diesel::prelude::*;
        use mijnkwh::db::schema::outbox_messages as outbox;
        let queued: i64 = outbox::table.filter(outbox::kind.eq("approval_request")).count().get_result(&mut app.db()).unwrap();
        assert_eq!(queued, 0);
    }

    async fn the_pending_queue_lists_the_longest_waiting_first_with_its_age(app) {
        let admin = app.admin().await;
        let (main, first) = seed_example(&app, &admin).await;
        let second = create_contractor(&main, "Bouwbedrijf Jansen").await["id"].as_str().unwrap().to_string();
        assert_eq!(put_settings(&main, &first, own_only(false)).await.status(), 202);
        app.clock.advance(chrono::Duration::minutes(30));
        let other = json!({"parts": ["repairs"], "own_names": ["Bouwbedrijf Jansen"], "partner_names": []});
        assert_eq!(put_settings(&main, &second, other).await.status(), 202);
        app.clock.advance(chrono::Duration::minutes(10));
        let admin = app.admin().await;

        let queue: Value = admin.get_json("/approvals?status=pending").await;
        let items = queue["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["contractor"]["id"], first.as_str(), "oldest first");
        let ages: Vec<i64> = items.iter().map(|i| i["age_seconds"].as_i64().unwrap()).collect();
        assert!((2400..2460).contains(&ages[0]), "{ages:?}");
        assert!((600..660).contains(&ages[1]), "{ages:?}");

        // Pages of the queue keep its order.
        let page: Value = admin.get_json("/approvals?status=pending&limit=1").await;
        assert_eq!(page["items"][0]["contractor"]["id"], first.as_str());
        let cursor = page["next_cursor"].as_str().unwrap();
        let next: Value = admin.get_json(&format!("/approvals?status=pending&limit=1&cursor={cursor}")).await;
        assert_eq!(next["items"][0]["contractor"]["id"], second.as_str());
        assert!(next["next_cursor"].is_null());

        // Every other list stays newest first.
        let all: Value = admin.get_json("/approvals").await;
        assert_eq!(all["items"][0]["contractor"]["id"], second.as_str());
    }
}
