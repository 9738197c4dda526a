//! Bounds: no request makes the service hold or check an unbounded number of rows or names.

use serde_json::{Value, json};

use crate::contractors::create_contractor;
use crate::helpers::problem;
use crate::on_both_backends;

on_both_backends! {
    async fn report_settings_name_lists_hold_at_most_a_hundred_names(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let contractor = create_contractor(&app, &main, "Installatietechniek").await;
        let id = contractor["id"].as_str().unwrap();
        let names: Vec<String> = (0..101).map(|n| format!("Installatietechniek {n:03}")).collect();
        let recorded = app.post("/corporations/KWH001/contractor-names").bearer_auth(&main.token)
            .json(&json!({"names": names})).send().await.unwrap();
        assert_eq!(recorded.status(), 200);
        let put = |body: Value| {
            app.client.put(app.url(&format!("/contractors/{id}/report-settings"))).bearer_auth(&main.token).json(&body).send()
        };
        let at_the_limit = put(json!({"parts": ["repairs"], "own_names": names[..100], "partner_names": []})).await.unwrap();
        assert_eq!(at_the_limit.status(), 202, "{}", at_the_limit.text().await.unwrap());

        let over = put(json!({"parts": ["repairs"], "own_names": names, "partner_names": []})).await.unwrap();
        let body = problem(over, 422).await;
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["errors"], json!([{"field": "own_names", "code": "too_many", "message": "At most 100 entries."}]));

        // Far beyond SQLite's limit of bound parameters: refused before any name is looked up.
        let many: Vec<String> = (0..10_000).map(|n| format!("Aannemer {n}")).collect();
        for field in ["own_names", "partner_names"] {
            let mut body = json!({"parts": ["repairs"], "own_names": [], "partner_names": []});
            body[field] = json!(many);
            let refused = problem(put(body).await.unwrap(), 422).await;
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
            let response = app.post("/users/batch").bearer_auth(&main.token).json(&json!({"items": items})).send().await.unwrap();
            assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        }
        let response = app.get("/users").bearer_auth(&main.token).header("Accept", "text/csv").send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers().get("content-length").is_none(), "a streamed body has no length up front");
        assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"gebruikers.csv\"");
        let csv = response.text().await.unwrap();
        let csv = csv.strip_prefix('\u{feff}').expect("a UTF-8 byte order mark for Excel");
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "E-mail;Type gebruiker;CorporatieCode;Aannemer;Voornaam;Achternaam;Functie;Telefoon;Opmerkingen;\
             Rechten;Toegang tot;Email ontvangen voor;Excel Download;Laatste aanmelding;Uitnodiging verzonden;Uitnodiging"
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
        assert_eq!(*p7, "p0007@kwh001.example.nl;Corporatie;KWH001;;Persoon7;Achternaam 7;;;;Gebruiker;Mijn KWH;;Nee;;;Niet verzonden");
    }
}
