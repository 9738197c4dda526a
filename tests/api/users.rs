//! Gebruikersbeheer: PRODUCT.md rules 1–5 and 10 over HTTP, each tried until it should break.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::problem;
use crate::on_both_backends;

fn colleague(email: &str) -> Value {
    json!({"email": email, "first_name": "Jan", "last_name": "Jansen"})
}

on_both_backends! {
    async fn every_seed_field_round_trips_with_unicode_names(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH042").await;
        let created = app.create_user(&main, json!({
            "email": "  Zoe.Muller@IJsselmonde.NL ",
            "user_type": "corporation",
            "first_name": "Zoë",
            "last_name": "Müller-Lüdenscheidt",
            "job_title": "Medewerker Ĳsselmonde",
            "phone": "+31 10 123 45 67",
            "remarks": "Levert huurdersgegevens aan.\nO'Neill vervangt haar.",
            "role": "user",
            "access": ["mijn_kwh", "klantvizier"],
            "email_notifications": ["delivery_reminder", "validation_report"],
            "excel_download": true
        })).await;
        let fetched: Value = main.get_json(&format!("/users/{}", created["id"].as_str().unwrap())).await;
        assert_eq!(created, fetched);
        assert_eq!(fetched["email"], "zoe.muller@ijsselmonde.nl");
        assert_eq!(fetched["corporation_code"], "KWH042");
        assert_eq!(fetched["first_name"], "Zoë");
        assert_eq!(fetched["last_name"], "Müller-Lüdenscheidt");
        assert_eq!(fetched["job_title"], "Medewerker Ĳsselmonde");
        assert_eq!(fetched["phone"], "+31 10 123 45 67");
        assert_eq!(fetched["remarks"], "Levert huurdersgegevens aan.\nO'Neill vervangt haar.");
        assert_eq!(fetched["access"], json!(["mijn_kwh", "klantvizier"]));
        assert_eq!(fetched["email_notifications"], json!(["delivery_reminder", "validation_report"]));
        assert_eq!(fetched["excel_download"], true);
        assert_eq!(fetched["contractor"], Value::Null);
        assert_eq!(fetched["invitation"]["status"], "not_sent");
        assert_eq!(fetched["last_login_at"], Value::Null);
    }

    async fn create_answers_201_with_location_and_etag(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let response = main.post("/users", &colleague("jan@kwh001.example.nl")).await;
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let etag = response.headers()["etag"].to_str().unwrap().to_string();
        let body: Value = response.json().await.unwrap();
        assert_eq!(location, format!("/users/{}", body["id"].as_str().unwrap()));
        let again = main.get(&location).await;
        assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    }

    async fn one_email_is_one_user_even_when_twenty_race(app) {
        let admin = app.admin().await;
        app.create_corporation(&admin, "KWH001").await;
        app.create_corporation(&admin, "KWH002").await;
        let attempts = (0..20).map(|i| {
            let email = if i % 2 == 0 { "Race.Condition@Example.NL" } else { " race.condition@example.nl" };
            let code = if i % 3 == 0 { "KWH001" } else { "KWH002" };
            admin.post("/users", &json!({"email": email, "corporation_code": code, "first_name": "R", "last_name": "C"}))
        });
        let responses = futures_util::future::join_all(attempts).await;
        let mut created = 0;
        for response in responses {
            match response.status().as_u16() {
                201 => created += 1,
                409 => {
                    let body = problem(response, 409).await;
                    assert_eq!(body["code"], "email_taken");
                    // The conflict never tells which corporation holds the address.
                    let text = body.to_string();
                    assert!(!text.contains("KWH001") && !text.contains("KWH002"), "{text}");
                }
                other => panic!("unexpected status {other}: {}", response.text().await.unwrap()),
            }
        }
        assert_eq!(created, 1);
        let page: Value = admin.get_json("/users?q=race.condition").await;
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
    }

    async fn a_deleted_users_address_is_free_again(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let first = app.create_user(&main, colleague("weer@kwh001.example.nl")).await;
        assert_eq!(main.delete(&format!("/users/{}", first["id"].as_str().unwrap())).await.status(), 204);
        let second = app.create_user(&main, colleague("WEER@kwh001.example.nl")).await;
        assert_ne!(first["id"], second["id"]);
    }

    async fn email_never_changes(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = app.create_user(&main, colleague("vast@kwh001.example.nl")).await;
        let id = user["id"].as_str().unwrap();
        let refused = problem(main.patch(&format!("/users/{id}"), &json!({"email": "nieuw@kwh001.example.nl", "first_name": "X"})).await, 422).await;
        assert_eq!(refused["code"], "email_immutable");
        assert_eq!(refused["errors"][0]["field"], "email");
        let dutch = main.request(Method::PATCH, &format!("/users/{id}"))
            .header("Accept-Language", "nl").json(&json!({"email": "nieuw@kwh001.example.nl"})).send().await.unwrap();
        let dutch = problem(dutch, 422).await;
        assert!(dutch["detail"].as_str().unwrap().contains("nieuwe gebruiker"), "{dutch}");
        // Nothing was half-applied.
        let unchanged: Value = main.get_json(&format!("/users/{id}")).await;
        assert_eq!(unchanged["first_name"], "Jan");
        // The same address (in any case) is not a change.
        let same = main.patch(&format!("/users/{id}"), &json!({"email": " VAST@kwh001.example.nl", "first_name": "Joop"})).await;
        assert_eq!(same.status(), 200);
    }

    async fn user_types_allow_only_their_combinations(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let cases = [
            (json!({"email": "a@x.nl", "first_name": "A", "last_name": "B", "access": []}), "access"),
            (json!({"email": "a@x.nl", "first_name": "A", "last_name": "B", "role": "contractor"}), "role"),
            (json!({"email": "a@x.nl", "first_name": "A", "last_name": "B", "role": "kwh_admin"}), "role"),
            (json!({"email": "a@x.nl", "first_name": "A", "last_name": "B", "user_type": "contractor"}), "contractor_id"),
            (json!({"email": "a@x.nl", "first_name": "A", "last_name": "B", "user_type": "contractor",
                    "contractor_id": uuid::Uuid::new_v4(), "excel_download": true}), "excel_download"),
            (json!({"email": "a@x.nl", "first_name": "A", "last_name": "B", "user_type": "kwh"}), "user_type"),
            (json!({"email": "not-an-address", "first_name": "A", "last_name": "B"}), "email"),
            (json!({"email": "a@x.nl", "first_name": " ", "last_name": "B"}), "first_name"),
            (json!({"email": "a@x.nl", "first_name": "A".repeat(101), "last_name": "B"}), "first_name"),
            (json!({"email": "a@x.nl", "first_name": "A", "last_name": "B", "remarks": "r".repeat(2001)}), "remarks"),
            (json!({"email": "a@x.nl", "first_name": "A", "last_name": "B", "access": ["excel"]}), "access[0]"),
        ];
        for (body, field) in cases {
            let response = main.post("/users", &body).await;
            let problem = problem(response, 422).await;
            let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
            assert!(fields.contains(&field), "{body} → {problem}");
        }
        // A contractor user needs an existing contractor; none exists yet.
        let response = main.post("/users", &json!({
            "email": "henk@installatietechniek.nl", "first_name": "Henk", "last_name": "Monteur",
            "user_type": "contractor", "contractor_id": uuid::Uuid::new_v4()
        })).await;
        assert_eq!(problem(response, 422).await["errors"][0]["code"], "unknown_reference");
        let page: Value = main.get_json("/users").await;
        assert_eq!(page["items"].as_array().unwrap().len(), 1, "nothing half-created");
    }

    async fn main_users_see_and_change_only_their_own_corporation(app) {
        let admin = app.admin().await;
        let own = app.corporation_with_main_user(&admin, "KWH001").await;
        let other = app.corporation_with_main_user(&admin, "KWH002").await;
        let theirs = app.create_user(&other, colleague("theirs@kwh002.example.nl")).await;
        let id = theirs["id"].as_str().unwrap();
        for response in [
            own.get(&format!("/users/{id}")).await,
            own.patch(&format!("/users/{id}"), &json!({"first_name": "Hacked"})).await,
            own.delete(&format!("/users/{id}")).await,
            own.get("/corporations/KWH002").await,
        ] {
            assert_eq!(problem(response, 404).await["code"], "not_found");
        }
        let page: Value = own.get_json("/users").await;
        assert!(page["items"].as_array().unwrap().iter().all(|u| u["corporation_code"] == "KWH001"));
        let filtered: Value = own.get_json("/users?corporation_code=KWH002").await;
        assert_eq!(filtered["items"], json!([]));
        let response = own.post("/users", &json!({"email": "x@kwh002.example.nl", "first_name": "X", "last_name": "Y", "corporation_code": "KWH002"})).await;
        // Rule 4: another corporation answers as if it did not exist, whether or not it does.
        assert_eq!(problem(response, 404).await["code"], "not_found");
        let unchanged: Value = other.get_json(&format!("/users/{id}")).await;
        assert_eq!(unchanged["first_name"], "Jan");
    }

    async fn ordinary_users_only_see_themselves(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = app.create_user(&main, colleague("gewoon@kwh001.example.nl")).await;
        let user = app.sign_in_as(&user).await;
        let me: Value = user.get_json("/me").await;
        assert_eq!(me["email"], "gewoon@kwh001.example.nl");
        for path in ["/users", &format!("/users/{}", main.id), "/corporations", "/audit-events", "/corporations/KWH001"] {
            assert_eq!(problem(user.get(path).await, 403).await["code"], "forbidden", "{path}");
        }
        let create = user.post("/users", &colleague("x@kwh001.example.nl")).await;
        assert_eq!(create.status(), 403);
        assert_eq!(user.get("/survey-parts").await.status(), 200);
    }

    async fn the_last_main_user_cannot_be_deleted_or_demoted(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let refused = problem(admin.delete(&format!("/users/{}", main.id)).await, 409).await;
        assert_eq!(refused["code"], "last_main_user");
        let refused = problem(admin.patch(&format!("/users/{}", main.id), &json!({"role": "user"})).await, 409).await;
        assert_eq!(refused["code"], "last_main_user");
        let refused = problem(main.patch(&format!("/users/{}", main.id), &json!({"role": "user"})).await, 409).await;
        assert_eq!(refused["code"], "last_main_user");
        let me: Value = main.get_json("/me").await;
        assert_eq!(me["role"], "main_user");
    }

    async fn nobody_deletes_themselves(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        app.create_user(&main, json!({"email": "tweede@kwh001.example.nl", "first_name": "T", "last_name": "W", "role": "main_user"})).await;
        assert_eq!(problem(main.delete(&format!("/users/{}", main.id)).await, 409).await["code"], "cannot_delete_self");
        assert_eq!(problem(admin.delete(&format!("/users/{}", admin.id)).await, 409).await["code"], "cannot_delete_self");
    }

    async fn two_main_users_demoting_each_other_at_once_leave_one(app) {
        let admin = app.admin().await;
        let first = app.corporation_with_main_user(&admin, "KWH001").await;
        let second = app.create_user(&first, json!({"email": "tweede@kwh001.example.nl", "first_name": "T", "last_name": "W", "role": "main_user"})).await;
        let second = app.sign_in_as(&second).await;
        let (a, b) = tokio::join!(
            first.patch(&format!("/users/{}", second.id), &json!({"role": "user"})),
            second.patch(&format!("/users/{}", first.id), &json!({"role": "user"})),
        );
        let statuses = [a.status().as_u16(), b.status().as_u16()];
        assert!(statuses.contains(&200), "{statuses:?}");
        // The loser either hit the rule or had its own token revoked by the winner's demotion.
        assert!(statuses.iter().any(|s| *s == 409 || *s == 401), "{statuses:?}");
        let page: Value = admin.get_json("/users?corporation_code=KWH001&role=main_user").await;
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
    }

    async fn two_deletions_racing_keep_a_main_user(app) {
        let admin = app.admin().await;
        let first = app.corporation_with_main_user(&admin, "KWH001").await;
        let second = app.create_user(&admin, json!({"email": "tweede@kwh001.example.nl", "corporation_code": "KWH001", "first_name": "T", "last_name": "W", "role": "main_user"})).await;
        let second_id = second["id"].as_str().unwrap().to_string();
        let (a, b) = tokio::join!(admin.delete(&format!("/users/{}", first.id)), admin.delete(&format!("/users/{second_id}")));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [204, 409]);
        let page: Value = admin.get_json("/users?corporation_code=KWH001&role=main_user").await;
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
    }

    async fn a_stale_if_match_answers_412_and_only_one_of_two_edits_wins(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = app.create_user(&main, colleague("etag@kwh001.example.nl")).await;
        let id = user["id"].as_str().unwrap();
        let read = main.get(&format!("/users/{id}")).await;
        let etag = read.headers()["etag"].to_str().unwrap().to_string();
        let edit = |name: &'static str| {
            main.request(Method::PATCH, &format!("/users/{id}"))
                .header("If-Match", etag.clone()).json(&json!({"first_name": name})).send()
        };
        let (a, b) = tokio::join!(edit("Piet"), edit("Klaas"));
        let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 412]);
        let stale = main.request(Method::DELETE, &format!("/users/{id}"))
            .header("If-Match", etag.clone()).send().await.unwrap();
        assert_eq!(problem(stale, 412).await["code"], "precondition_failed");
        let after = main.get(&format!("/users/{id}")).await;
        assert_ne!(after.headers()["etag"].to_str().unwrap(), etag);
    }

    async fn edits_without_if_match_racing_each_other_all_apply(app) {
        // Found by bench/run.sh: without If-Match, the row read before the corporation lock
        // could be stale by the time it was written, and the edit failed with 412.
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = app.create_user(&main, colleague("druk@kwh001.example.nl")).await;
        let id = user["id"].as_str().unwrap();
        let version = |r: &reqwest::Response| r.headers()["etag"].to_str().unwrap().trim_matches('"').parse::<i64>().unwrap();
        let before = version(&main.get(&format!("/users/{id}")).await);
        let edits = (0..12).map(|i| main.patch(&format!("/users/{id}"), &json!({"job_title": format!("Functie {i}")})));
        let statuses: Vec<u16> = futures_util::future::join_all(edits).await.iter().map(|r| r.status().as_u16()).collect();
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
        let after = version(&main.get(&format!("/users/{id}")).await);
        assert_eq!(after - before, 12);
    }

    async fn a_deleted_users_unexpired_token_is_refused(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = app.create_user(&main, colleague("weg@kwh001.example.nl")).await;
        let user = app.sign_in_as(&user).await;
        assert_eq!(user.get("/me").await.status(), 200);
        assert_eq!(main.delete(&format!("/users/{}", user.id)).await.status(), 204);
        assert_eq!(problem(user.get("/me").await, 401).await["code"], "unauthorized");
    }

    async fn patch_is_partial_and_null_clears(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = app.create_user(&main, json!({
            "email": "deel@kwh001.example.nl", "first_name": "D", "last_name": "E", "phone": "010", "job_title": "Boss"
        })).await;
        let id = user["id"].as_str().unwrap();
        let edited: Value = main.patch(&format!("/users/{id}"), &json!({"phone": null, "access": ["mijn_kwh"]})).await.json().await.unwrap();
        assert_eq!(edited["phone"], Value::Null);
        assert_eq!(edited["job_title"], "Boss");
        assert_eq!(edited["access"], json!(["mijn_kwh"]));
        assert_eq!(edited["first_name"], "D");
        let empty = problem(main.patch(&format!("/users/{id}"), &json!({"access": []})).await, 422).await;
        assert_eq!(empty["errors"][0]["field"], "access");
    }

    async fn a_walk_over_1000_users_sees_each_once_while_users_are_added(app) {
        let admin = app.admin().await;
        app.create_corporation(&admin, "KWH001").await;
        let mut conn = app.db();
        let now = chrono::Utc::now().naive_utc();
        let seeded: Vec<String> = (0..1000)
            .map(|i| {
                let new_user = mijnkwh::service::users::NewUser {
                    email: mijnkwh::domain::email::EmailAddress::parse(&format!("u{i}@kwh001.example.nl")).unwrap(),
                    profile: mijnkwh::service::users::Profile {
                        // Few distinct last names, so that ties must be broken by id.
                        first_name: format!("U{i}"), last_name: format!("Achternaam {}", i % 13),
                        job_title: None, phone: None, remarks: None,
                    },
                    kind: mijnkwh::domain::user::resolve_kind(&mijnkwh::domain::user::UserKindInput {
                        corporation_code: Some(mijnkwh::domain::corporation::CorporationCode::parse("KWH001").unwrap()),
                        ..Default::default()
                    }).unwrap(),
                };
                let row = mijnkwh::service::users::new_row(&new_user, now);
                mijnkwh::db::users::insert(&mut conn, &row).unwrap();
                row.id
            })
            .collect();
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut page_number = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/users?corporation_code=KWH001&limit=7&cursor={c}"),
                None => "/users?corporation_code=KWH001&limit=7".to_string(),
            };
            let page: Value = admin.get_json(&path).await;
            seen.extend(page["items"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()));
            // Users join while the walk goes on, before and after the cursor.
            if page_number % 10 == 0 {
                for name in ["Aaaa", "Zzzz"] {
                    app.create_user(&admin, json!({
                        "email": format!("{name}{page_number}@kwh001.example.nl"), "corporation_code": "KWH001",
                        "first_name": "Nieuw", "last_name": name
                    })).await;
                }
            }
            page_number += 1;
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "a user was repeated");
        for id in &seeded {
            assert!(unique.contains(id), "user {id} was skipped");
        }
    }

    async fn lists_filter_and_refuse_bad_parameters(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        app.create_user(&main, json!({"email": "piet@kwh001.example.nl", "first_name": "Piet", "last_name": "Pietersen"})).await;
        let found: Value = main.get_json("/users?q=PIETERS").await;
        assert_eq!(found["items"].as_array().unwrap().len(), 1);
        let none: Value = main.get_json("/users?q=100%25_").await;
        assert_eq!(none["items"], json!([]));
        let mains: Value = main.get_json("/users?role=main_user").await;
        assert_eq!(mains["items"].as_array().unwrap().len(), 1);
        for bad in ["/users?limit=0", "/users?limit=201", "/users?limit=abc", "/users?sort=shoe_size", "/users?cursor=forged", "/users?role=emperor"] {
            assert_eq!(problem(main.get(bad).await, 400).await["code"], "invalid_query", "{bad}");
        }
        let by_email: Value = main.get_json("/users?sort=email").await;
        let emails: Vec<&str> = by_email["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
        let mut sorted = emails.clone();
        sorted.sort();
        assert_eq!(emails, sorted);
    }

    async fn last_login_order_puts_recent_first_and_never_signed_in_last(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let early = app.create_user(&main, colleague("vroeg@kwh001.example.nl")).await;
        app.create_user(&main, colleague("nooit1@kwh001.example.nl")).await;
        app.create_user(&main, colleague("nooit2@kwh001.example.nl")).await;
        app.sign_in_as(&early).await;
        // The main user signs in again, after `early`.
        let main = app.sign_in_as(&main.get_json::<Value>("/me").await).await;
        let mut emails = Vec::new();
        let mut cursor = String::new();
        loop {
            let page: Value = main.get_json(&format!("/users?sort=last_login_at&limit=1{cursor}")).await;
            emails.extend(page["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_string()));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        assert_eq!(emails.len(), 4, "{emails:?}");
        assert_eq!(emails[0], "hoofd@kwh001.example.nl");
        assert_eq!(emails[1], "vroeg@kwh001.example.nl");
        let mut never: Vec<_> = emails[2..].to_vec();
        never.sort();
        assert_eq!(never, ["nooit1@kwh001.example.nl", "nooit2@kwh001.example.nl"]);
    }

    async fn every_change_is_audited_without_personal_data(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let user = app.create_user(&main, json!({"email": "geheim@kwh001.example.nl", "first_name": "Geheime", "last_name": "Naam"})).await;
        let id = user["id"].as_str().unwrap();
        main.patch(&format!("/users/{id}"), &json!({"excel_download": true, "last_name": "Andere Naam"})).await;
        main.delete(&format!("/users/{id}")).await;
        let events: Value = main.get_json(&format!("/audit-events?target_id={id}")).await;
        let actions: Vec<&str> = events["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["user.deleted", "user.updated", "user.created"]);
        let update = &events["items"][1];
        assert_eq!(update["actor"], main.id);
        assert_eq!(update["corporation_code"], "KWH001");
        assert_eq!(update["changes"]["excel_download"], json!({"old": false, "new": true}));
        assert_eq!(update["changes"]["last_name"], json!({"changed": true}));
        let text = events.to_string();
        for personal in ["geheim@", "Geheime", "Naam"] {
            assert!(!text.contains(personal), "{personal} in {text}");
        }
        // Main users see only their own corporation's events; KWH sees all.
        let other = app.corporation_with_main_user(&admin, "KWH002").await;
        let theirs: Value = other.get_json(&format!("/audit-events?target_id={id}")).await;
        assert_eq!(theirs["items"], json!([]));
        let all: Value = admin.get_json("/audit-events?action=login.succeeded&limit=200").await;
        assert!(all["items"].as_array().unwrap().len() >= 3);
    }

    async fn the_audit_log_refuses_updates_and_deletes(app) {
        use diesel::RunQueryDsl;
        let _ = app.admin().await;
        let mut conn = app.db();
        assert!(diesel::sql_query("UPDATE audit_events SET action = 'x'").execute(&mut conn).is_err());
        assert!(diesel::sql_query("DELETE FROM audit_events").execute(&mut conn).is_err());
    }
}
