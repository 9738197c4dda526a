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
}
