//! The role × endpoint matrix: every endpoint, every role, own and other corporation.

use serde_json::json;

use crate::helpers::Session;
use crate::on_both_backends;

on_both_backends! {
    async fn every_role_gets_exactly_its_rights(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let other_main = app.corporation_with_main_user(&admin, "KWH002").await;
        let user = app.create_user(&main, json!({"email": "gewoon@kwh001.example.nl", "first_name": "G", "last_name": "W"})).await;
        let user = app.sign_in_as(&user).await;
        let own_target = app.create_user(&main, json!({"email": "doel@kwh001.example.nl", "first_name": "D", "last_name": "L"})).await;
        let own_id = own_target["id"].as_str().unwrap().to_string();
        let foreign = app.create_user(&other_main, json!({"email": "doel@kwh002.example.nl", "first_name": "D", "last_name": "L"})).await;
        let foreign_id = foreign["id"].as_str().unwrap().to_string();
        let own_contractor = crate::contractors::create_contractor(&main, "Installatietechniek").await;
        let own_contractor = own_contractor["id"].as_str().unwrap().to_string();
        let foreign_contractor = crate::contractors::create_contractor(&other_main, "Bouwbedrijf Jansen").await;
        let foreign_contractor = foreign_contractor["id"].as_str().unwrap().to_string();
        let contractor_user = app.create_user(&main, json!({
            "email": "henk@installatietechniek.example.nl", "first_name": "Henk", "last_name": "Monteur",
            "user_type": "contractor", "contractor_id": own_contractor
        })).await;
        let contractor_user = app.sign_in_as(&contractor_user).await;

        let roles: [(&str, &Session); 4] =
            [("kwh_admin", &admin), ("main_user", &main), ("user", &user), ("contractor", &contractor_user)];
        // (method, path, body, expected status for kwh_admin, main_user of KWH001, user, contractor)
        let matrix: Vec<(&str, String, Option<serde_json::Value>, [u16; 4])> = vec![
            ("GET", "/me".into(), None, [200, 200, 200, 200]),
            ("GET", "/survey-parts".into(), None, [200, 200, 200, 200]),
            ("GET", "/corporations".into(), None, [200, 200, 403, 403]),
            ("GET", "/corporations/KWH001".into(), None, [200, 200, 403, 403]),
            ("GET", "/corporations/KWH002".into(), None, [200, 404, 403, 403]),
            ("PATCH", "/corporations/KWH001".into(), Some(json!({"name": "Nieuw"})), [200, 403, 403, 403]),
            ("POST", "/corporations".into(), Some(json!({"code": "NEW1", "name": "N"})), [201, 403, 403, 403]),
            ("GET", "/users".into(), None, [200, 200, 403, 403]),
            ("GET", format!("/users/{own_id}"), None, [200, 200, 403, 403]),
            ("GET", format!("/users/{foreign_id}"), None, [200, 404, 403, 403]),
            ("PATCH", format!("/users/{own_id}"), Some(json!({"phone": "010"})), [200, 200, 403, 403]),
            ("PATCH", format!("/users/{foreign_id}"), Some(json!({"phone": "010"})), [200, 404, 403, 403]),
            ("GET", "/audit-events".into(), None, [200, 200, 403, 403]),
            ("GET", "/contractors".into(), None, [200, 200, 403, 403]),
            ("GET", format!("/contractors/{own_contractor}"), None, [200, 200, 403, 403]),
            ("GET", format!("/contractors/{foreign_contractor}"), None, [200, 404, 403, 403]),
            ("GET", format!("/contractors/{own_contractor}/report-settings"), None, [200, 200, 403, 403]),
            ("GET", format!("/contractors/{foreign_contractor}/report-settings"), None, [200, 404, 403, 403]),
            ("GET", "/corporations/KWH001/contractor-names".into(), None, [200, 200, 403, 403]),
            ("GET", "/corporations/KWH002/contractor-names".into(), None, [200, 404, 403, 403]),
            ("GET", "/approvals".into(), None, [200, 200, 403, 403]),
            ("GET", "/api-tokens".into(), None, [200, 200, 403, 403]),
        ];
        for (method, path, body, expected) in &matrix {
            for ((role, session), expected) in roles.iter().zip(expected) {
                let mut request = session.request(method.parse().unwrap(), path);
                if let Some(body) = body {
                    request = request.json(body);
                }
                let response = request.send().await.unwrap();
                assert_eq!(response.status().as_u16(), *expected, "{role} {method} {path}");
            }
        }
        // Creating and deleting, last because they change what the rows above read.
        for ((role, session), expected) in roles.iter().zip([201u16, 201, 403, 403]) {
            let response = session.post("/users", &json!({"email": format!("nieuw-{role}@kwh001.example.nl"), "corporation_code": "KWH001", "first_name": "N", "last_name": "W"})).await;
            assert_eq!(response.status().as_u16(), expected, "{role} POST /users");
        }
        for (role, session, expected) in
            [("user", &user, 403u16), ("contractor", &contractor_user, 403), ("main_user", &main, 404), ("kwh_admin", &admin, 204)]
        {
            let response = session.delete(&format!("/users/{foreign_id}")).await;
            assert_eq!(response.status().as_u16(), expected, "{role} DELETE foreign user");
        }
    }
}
