//! Bounds: no request makes the service hold or check an unbounded number of rows or names.

use reqwest::Method;
use serde_json::{Value, json};

use crate::contractors::create_contractor;
use crate::helpers::problem;
use crate::on_both_backends;

on_both_backends! {
    async fn report_settings_name_lists_hold_at_most_a_hundred_names(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let contractor = create_contractor(&main, "Installatietechniek").await;
        let id = contractor["id"].as_str().unwrap();
        let names: Vec<String> = (0..101).map(|n| format!("Installatietechniek {n:03}")).collect();
        let recorded = main.post("/corporations/KWH001/contractor-names", &json!({"names": names})).await;
        assert_eq!(recorded.status(), 200);
        let put = |body: Value| {
            main.put(&format!("/contractors/{id}/report-settings"), &body)
        };
        let at_the_limit = put(json!({"parts": ["repairs"], "own_names": names[..100], "partner_names": []})).await;
        assert_eq!(at_the_limit.status(), 202, "{}", at_the_limit.text().await.unwrap());

        let over = put(json!({"parts": ["repairs"], "own_names": names, "partner_names": []})).await;
        let body = problem(over, 422).await;
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["errors"], json!([{"field": "own_names", "code": "too_many", "message": "At most 100 entries."}]));

        // Far beyond SQLite's limit of bound parameters: refused before any name is looked up.
        let many: Vec<String> = (0..10_000).map(|n| format!("Aannemer {n}")).collect();
        for field in ["own_names", "partner_names"] {
            let mut body = json!({"parts": ["repairs"], "own_names": [], "partner_names": []});
            body[field] = json!(many);
            let refused = problem(put(body).await, 422).await;
            assert_eq!(refused["errors"].as_array().unwrap().len(), 1, "{refused}");
            assert_eq!(refused["errors"][0]["field"], field);
            assert_eq!(refused["errors"][0]["code"], "too_many");
        }
    }

    async fn the_spreadsheet_streams_every_user_page_by_page_with_its_dutch_header(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        // 1,200 colleagues and the main user: three pages of 500, the last one partly full.
        let mut expected: Vec<String> = vec!["hoofd@kwh001.example.nl".into()];
        for chunk in (0..1_200).collect::<Vec<usize>>().chunks(500) {
            let items: Vec<Value> = chunk.iter().map(|i| json!({
                "email": format!("p{i:04}@kwh001.example.nl"), "first_name": format!("Persoon{i}"),
                // Names that sort otherwise than the addresses, with ties broken by id.
                "last_name": format!("Achternaam {}", i % 37), "access": ["mijn_kwh"],
            })).collect();
            expected.extend(items.iter().map(|item| item["email"].as_str().unwrap().to_string()));
            let response = main.post("/users/batch", &json!({"items": items})).await;
            assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        }
        let response = main.request(Method::GET, "/users").header("Accept", "text/csv").send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers().get("content-length").is_none(), "a streamed body has no length up front");
        assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"gebruikers.csv\"");
        let csv = response.text().await.unwrap();
        let csv = csv.strip_prefix('\u{feff}').expect("a UTF-8 byte order mark for Excel");
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "E-mail;Type gebruiker;CorporatieCode;Aannemer;Voornaam;Achternaam;Functie;Telefoon;Opmerkingen;\
             Rechten;Toegang tot;Email ontvangen voor;Excel Download;Laatste aanmelding;Uitnodiging verzonden;Uitnodiging;Actief"
        );
        assert_eq!(lines.last(), Some(&""), "the file ends with a line break");
        let rows = &lines[1..lines.len() - 1];
        assert_eq!(rows.len(), expected.len(), "every user once");
        let emails: Vec<&str> = rows.iter().map(|row| row.split(';').next().unwrap()).collect();
        let unique: std::collections::HashSet<&&str> = emails.iter().collect();
        assert_eq!(unique.len(), expected.len(), "no user twice");
        // In the list's order: by last name, ties by id (which the test cannot know, so only
        // the last names are compared in order).
        let last_names: Vec<&str> = rows.iter().map(|row| row.split(';').nth(5).unwrap()).collect();
        let mut sorted = last_names.clone();
        sorted.sort();
        assert_eq!(last_names, sorted);
        let mut wanted: Vec<&str> = expected.iter().map(String::as_str).collect();
        wanted.sort();
        let mut got = emails.clone();
        got.sort();
        assert_eq!(got, wanted);
        let p7 = rows.iter().find(|row| row.starts_with("p0007@")).unwrap();
        assert_eq!(*p7, "p0007@kwh001.example.nl;Corporatie;KWH001;;Persoon7;Achternaam 7;;;;Gebruiker;Mijn KWH;;Nee;;;Niet verzonden;Ja");
    }
}

/// Rows written straight into the database: the setup of a limit test, not what it tests.
fn insert_rows(app: &crate::helpers::TestApp, table: &str, columns: &str, rows: impl Iterator<Item = String>) {
    use diesel::RunQueryDsl;
    let values: Vec<String> = rows.collect();
    diesel::sql_query(format!("INSERT INTO {table} ({columns}) VALUES {}", values.join(", ")))
        .execute(&mut app.db())
        .unwrap();
}

fn contractor_rows(code: &'static str, range: std::ops::Range<usize>) -> impl Iterator<Item = String> {
    range.map(move |n| {
        format!(
            "('{}', '{code}', 'Aannemer {n}', 'aannemer {n}', '2026-11-30 12:00:00', '2026-11-30 12:00:00')",
            uuid::Uuid::new_v4()
        )
    })
}

const CONTRACTOR_COLUMNS: &str = "id, corporation_code, name, name_key, created_at, updated_at";

on_both_backends! {
    async fn a_corporation_has_at_most_500_contractors(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        insert_rows(&app, "contractors", CONTRACTOR_COLUMNS, contractor_rows("KWH001", 0..499));
        let last = create_contractor(&main, "De vijfhonderdste").await;
        let refused = main.post("/contractors", &json!({"name": "Eén te veel"})).await;
        assert_eq!(problem(refused, 409).await["code"], "contractor_limit_reached");
        let listed: Value = main.get_json("/contractors").await;
        assert_eq!(listed.as_array().unwrap().len(), 500);
        let id = last["id"].as_str().unwrap();
        assert_eq!(main.delete(&format!("/contractors/{id}")).await.status(), 204);
        create_contractor(&main, "Weer ruimte").await;
    }

    async fn a_list_of_every_corporations_contractors_holds_at_most_1000(app) {
        let admin = app.admin().await;
        for code in ["KWH001", "KWH002", "KWH003"] {
            app.create_corporation(&admin, code).await;
        }
        insert_rows(&app, "contractors", CONTRACTOR_COLUMNS,
            contractor_rows("KWH001", 0..334).chain(contractor_rows("KWH002", 0..334)).chain(contractor_rows("KWH003", 0..333)));
        let all = admin.get("/contractors").await;
        assert_eq!(problem(all, 422).await["code"], "list_too_large");
        let one: Value = admin.get_json("/contractors?corporation_code=KWH002").await;
        assert_eq!(one.as_array().unwrap().len(), 334);
        use diesel::RunQueryDsl;
        diesel::sql_query("DELETE FROM contractors WHERE name = 'Aannemer 0' AND corporation_code = 'KWH003'").execute(&mut app.db()).unwrap();
        let all: Value = admin.get_json("/contractors").await;
        assert_eq!(all.as_array().unwrap().len(), 1_000, "exactly the bound is listed");
    }

    async fn a_catalog_holds_at_most_5000_names(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let post = |names: Vec<String>| main.post("/corporations/KWH001/contractor-names", &json!({"names": names}));
        let names: Vec<String> = (0..5_000).map(|n| format!("Aannemer {n:04}")).collect();
        assert_eq!(post(names.clone()).await.status(), 200);
        let refused = post(vec!["Aannemer 0001".into(), "Nieuwe Aannemer".into()]).await;
        assert_eq!(problem(refused, 409).await["code"], "catalog_limit_reached");
        // Spellings it knows are still counted: a re-delivered file needs no room.
        let again: Value = post(vec!["Aannemer 0001".into()]).await.json().await.unwrap();
        assert_eq!(again[0]["seen_count"], 2);
        let listed: Value = main.get_json("/corporations/KWH001/contractor-names").await;
        assert_eq!(listed.as_array().unwrap().len(), 5_000);
        assert!(listed.as_array().unwrap().iter().all(|n| n["name"] != "Nieuwe Aannemer"), "a refused post records nothing");
    }

    async fn a_person_has_at_most_25_service_tokens_in_use(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let create = || main.post("/api-tokens", &json!({"name": "HR-koppeling", "scope": "read"}));
        let mut first = None;
        for _ in 0..25 {
            let response = create().await;
            assert_eq!(response.status(), 201);
            first.get_or_insert(response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string());
        }
        assert_eq!(problem(create().await, 409).await["code"], "api_token_limit_reached");
        // KWH staff have a count of their own.
        let theirs = admin.post("/api-tokens", &json!({"name": "KWH", "scope": "read"})).await;
        assert_eq!(theirs.status(), 201);
        let revoked = main.delete(&format!("/api-tokens/{}", first.unwrap())).await;
        assert_eq!(revoked.status(), 204);
        assert_eq!(create().await.status(), 201, "a revoked token frees its place");
        let listed: Value = main.get_json("/api-tokens").await;
        assert_eq!(listed.as_array().unwrap().len(), 26, "revoked ones stay listed");
    }

    async fn there_are_at_most_1000_corporations(app) {
        let admin = app.admin().await;
        insert_rows(&app, "corporations", "code, name, active_parts, created_at, updated_at",
            (0..999).map(|n| format!("('C{n:04}', 'Woonstichting {n}', '[]', '2026-11-30 12:00:00', '2026-11-30 12:00:00')")));
        app.create_corporation(&admin, "KWH001").await;
        let refused = admin.post("/corporations", &json!({"code": "KWH002", "name": "Woonstichting KWH002", "active_parts": []})).await;
        assert_eq!(problem(refused, 409).await["code"], "corporation_limit_reached");
        let listed: Value = admin.get_json("/corporations").await;
        assert_eq!(listed.as_array().unwrap().len(), 1_000);
    }
}
