//! Issue #14: SCIM 2.0 for Entra ID and Okta. The identity providers' documented request
//! sequences replayed over HTTP, their quirks (capitalised ops, `"False"`, userName in another
//! case, PUT instead of PATCH), and every rule of PRODUCT.md holding through SCIM as it does
//! through the REST API.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, problem};
use crate::on_both_backends;
use crate::smtp::SmtpServer;

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const EXTENSION: &str = "urn:ietf:params:scim:schemas:extension:mijnkwh:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM request as an identity provider sends it (`application/scim+json`); the answer's
/// status and body, after checking that it is SCIM too.
async fn scim(session: &Session, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = session.request(method.clone(), &format!("/scim/v2{path}"));
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/scim+json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let text = response.text().await.unwrap();
    if status == 204 {
        assert!(text.is_empty(), "{method} {path}: {text}");
        return (status, Value::Null);
    }
    assert_eq!(
        content_type.as_deref(),
        Some("application/scim+json"),
        "{method} {path}: {status} {text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"));
    if status >= 400 {
        assert_eq!(body["schemas"], json!([ERROR]), "{body}");
        assert_eq!(body["status"], status.to_string(), "{body}");
    }
    (status, body)
}

/// A `scim` token for `code`, made by `maker` (a main user of it, or a kwh_admin naming it).
async fn scim_token(maker: &Session, code: &str, extra: Value) -> Session {
    let mut body = json!({"name": "Entra ID", "scope": "scim", "corporation_code": code});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let response = maker.post("/api-tokens", &body).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let token: Value = response.json().await.unwrap();
    assert_eq!(token["scope"], "scim");
    assert_eq!(token["corporation_code"], code);
    maker.with_token(token["token"].as_str().unwrap())
}

fn filter(expression: &str) -> String {
    format!("/Users?filter={}", urlencoding(expression))
}

fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn count_outbox(app: &TestApp, address: &str) -> i64 {
    use mijnkwh::db::schema::outbox_messages;
    outbox_messages::table
        .filter(outbox_messages::recipient.eq(address))
        .count()
        .get_result(&mut app.db())
        .unwrap()
}

on_both_backends! {
    async fn entra_provisions_updates_disables_and_deletes_a_user(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let entra = scim_token(&main, "KWH001", json!({})).await;

        // Entra looks the user up first, then creates them.
        let (status, found) = scim(&entra, Method::GET, &filter(r#"userName eq "Anna.de.Vries@KWH001.example.nl""#), None).await;
        assert_eq!((status, found["totalResults"].clone()), (200, json!(0)), "{found}");
        let create = json!({
            "schemas": [CORE, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Anna.de.Vries@KWH001.example.nl",
            "active": true,
            "displayName": "Anna de Vries",
            "emails": [{"primary": true, "type": "work", "value": "Anna.de.Vries@KWH001.example.nl"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Anna de Vries", "familyName": "de Vries", "givenName": "Anna"},
            "title": "Woonconsulent",
            "roles": [],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Wonen"},
        });
        let (status, created) = scim(&entra, Method::POST, "/Users", Some(create.clone())).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_string();
        assert_eq!(created["userName"], "anna.de.vries@kwh001.example.nl");
        assert_eq!(created["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
        assert_eq!(created[EXTENSION]["role"], "user");
        // The same userName again: SCIM's uniqueness (rule 1), in any case.
        let (status, again) = scim(&entra, Method::POST, "/Users", Some(create)).await;
        assert_eq!((status, again["scimType"].clone()), (409, json!("uniqueness")), "{again}");

        // Looked up by userName in another case, and by externalId.
        let (_, found) = scim(&entra, Method::GET, &filter(r#"userName eq "anna.DE.vries@kwh001.example.nl""#), None).await;
        assert_eq!(found["totalResults"], 1, "{found}");
        assert_eq!(found["Resources"][0]["id"], id.as_str());
        let (_, found) = scim(&entra, Method::GET, &filter(r#"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#), None).await;
        assert_eq!(found["totalResults"], 1, "{found}");

        // Capitalised ops, value filters in paths, attributes we do not keep.
        let (status, patched) = scim(&entra, Method::PATCH, &format!("/Users/{id}"), Some(json!({
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": "name.familyName", "value": "de Vries-Jansen"},
                {"op": "Add", "path": "phoneNumbers[type eq \"work\"].value", "value": "010-1234567"},
                {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "06-12345678"},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "anna.de.vries@kwh001.example.nl"},
                {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Verhuur"},
                {"op": "Replace", "path": "preferredLanguage", "value": "nl-NL"},
            ],
        }))).await;
        assert_eq!(status, 200, "{patched}");
        assert_eq!(patched["name"]["familyName"], "de Vries-Jansen");
        assert_eq!(patched["phoneNumbers"], json!([{"value": "010-1234567", "type": "work"}]), "one number, the work one");
        let rest = app.user(&main, &id).await;
        assert_eq!((rest["last_name"].clone(), rest["phone"].clone()), (json!("de Vries-Jansen"), json!("010-1234567")));

        // Entra's periodic `active: true` changes nothing, not even the version.
        let version = patched["meta"]["version"].clone();
        let (status, same) = scim(&entra, Method::PATCH, &format!("/Users/{id}"), Some(json!({
            "schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "True"}],
        }))).await;
        assert_eq!((status, same["meta"]["version"].clone()), (200, version), "{same}");

        // Disabled with the string "False", then enabled again without a path.
        let (status, disabled) = scim(&entra, Method::PATCH, &format!("/Users/{id}"), Some(json!({
            "schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
        }))).await;
        assert_eq!((status, disabled["active"].clone()), (200, json!(false)), "{disabled}");
        assert_eq!(app.user(&main, &id).await["active"], false);
        let (_, inactive) = scim(&entra, Method::GET, &filter("active eq false"), None).await;
        assert_eq!(inactive["totalResults"], 1, "{inactive}");
        let (status, enabled) = scim(&entra, Method::PATCH, &format!("/Users/{id}"), Some(json!({
            "schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": true}}],
        }))).await;
        assert_eq!((status, enabled["active"].clone()), (200, json!(true)), "{enabled}");

        // Changing the address is refused (rule 2), through userName or emails.
        for operation in [
            json!({"op": "Replace", "path": "userName", "value": "anna@elders.example.nl"}),
            json!({"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "anna@elders.example.nl"}),
        ] {
            let (status, refused) = scim(&entra, Method::PATCH, &format!("/Users/{id}"), Some(json!({"schemas": [PATCH_OP], "Operations": [operation]}))).await;
            assert_eq!((status, refused["scimType"].clone()), (400, json!("mutability")), "{refused}");
        }

        // Every change is audited with the token as the actor.
        let events: Value = main.get_json(&format!("/audit-events?target_id={id}")).await;
        let events = events["items"].as_array().cloned().unwrap_or_default();
        let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
        for action in ["user.created", "user.updated", "user.deactivated", "user.reactivated"] {
            assert!(actions.contains(&action), "{action} in {actions:?}");
        }
        assert!(events.iter().all(|e| e["actor"].as_str().is_some_and(|a| a.starts_with("api_token:"))), "{events:?}");

        let (status, _) = scim(&entra, Method::DELETE, &format!("/Users/{id}"), None).await;
        assert_eq!(status, 204);
        let (status, gone) = scim(&entra, Method::GET, &format!("/Users/{id}"), None).await;
        assert_eq!(status, 404, "{gone}");
        assert_eq!(main.get(&format!("/users/{id}")).await.status(), 404);
    }

    async fn okta_creates_then_updates_and_deactivates_with_put(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let okta = scim_token(&admin, "KWH001", json!({"invites_new_users": false})).await;
        let (status, found) = scim(&okta, Method::GET, &format!("{}&startIndex=1&count=100", filter(r#"userName eq "piet@kwh001.example.nl""#)), None).await;
        assert_eq!((status, found["totalResults"].clone(), found["Resources"].clone()), (200, json!(0), json!([])));
        let user = json!({
            "schemas": [CORE],
            "userName": "piet@kwh001.example.nl",
            "name": {"givenName": "Piet", "familyName": "Pieters"},
            "emails": [{"primary": true, "value": "piet@kwh001.example.nl", "type": "work"}],
            "displayName": "Piet Pieters",
            "locale": "en-US",
            "externalId": "00u1ab2cd3EF4gh5i6j7",
            "groups": [],
            "password": "1mz050nq",
            "active": true,
        });
        let (status, created) = scim(&okta, Method::POST, "/Users", Some(user.clone())).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_string();
        let (status, shown) = scim(&okta, Method::GET, &format!("/Users/{id}"), None).await;
        assert_eq!((status, shown["userName"].clone()), (200, json!("piet@kwh001.example.nl")));
        // The token was made not to invite: no mail is queued for Okta's users.
        assert_eq!(count_outbox(&app, "piet@kwh001.example.nl"), 0);

        let mut changed = user.clone();
        changed["id"] = id.clone().into();
        changed["name"]["familyName"] = "Pietersen".into();
        changed["title"] = "Opzichter".into();
        let (status, replaced) = scim(&okta, Method::PUT, &format!("/Users/{id}"), Some(changed.clone())).await;
        assert_eq!(status, 200, "{replaced}");
        assert_eq!((replaced["name"]["familyName"].clone(), replaced["title"].clone()), (json!("Pietersen"), json!("Opzichter")));

        // PUT with the version read: a stale one answers 412.
        let stale = created["meta"]["version"].as_str().unwrap().to_string();
        let response = okta.request(Method::PUT, &format!("/scim/v2/Users/{id}")).header("If-Match", stale)
            .header("Content-Type", "application/scim+json").body(changed.to_string()).send().await.unwrap();
        assert_eq!(response.status(), 412);

        // Deactivation and reactivation by PUT; the title not sent is cleared, as PUT replaces.
        changed["active"] = false.into();
        changed.as_object_mut().unwrap().remove("title");
        let (status, off) = scim(&okta, Method::PUT, &format!("/Users/{id}"), Some(changed.clone())).await;
        assert_eq!((status, off["active"].clone()), (200, json!(false)), "{off}");
        assert!(off.get("title").is_none(), "{off}");
        changed["active"] = true.into();
        let (status, on) = scim(&okta, Method::PUT, &format!("/Users/{id}"), Some(changed.clone())).await;
        assert_eq!((status, on["active"].clone()), (200, json!(true)), "{on}");
        // Another userName in a PUT is a change of address: refused.
        changed["userName"] = "piet@elders.example.nl".into();
        let (status, refused) = scim(&okta, Method::PUT, &format!("/Users/{id}"), Some(changed)).await;
        assert_eq!((status, refused["scimType"].clone()), (400, json!("mutability")), "{refused}");
        // The main user sees Okta's changes in the app.
        assert_eq!(app.user(&main, &id).await["last_name"], "Pietersen");
    }

    async fn the_last_main_user_cannot_be_deactivated_demoted_or_deleted_through_scim(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let entra = scim_token(&admin, "KWH001", json!({})).await;
        let path = format!("/Users/{}", main.id);
        for operations in [
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
            json!([{"op": "Replace", "path": format!("{EXTENSION}:role"), "value": "user"}]),
        ] {
            let (status, refused) = scim(&entra, Method::PATCH, &path, Some(json!({"schemas": [PATCH_OP], "Operations": operations}))).await;
            assert_eq!(status, 409, "{refused}");
        }
        let (status, _) = scim(&entra, Method::DELETE, &path, None).await;
        assert_eq!(status, 409);
        assert_eq!(app.user(&main, &main.id).await["active"], true);
        // With a second main user (made through SCIM), the first may go.
        let (status, second) = scim(&entra, Method::POST, "/Users", Some(json!({
            "schemas": [CORE, EXTENSION], "userName": "tweede@kwh001.example.nl",
            "name": {"givenName": "Tweede", "familyName": "Hoofd"},
            EXTENSION: {"role": "main_user", "access": ["mijn_kwh"]},
        }))).await;
        assert_eq!((status, second[EXTENSION]["role"].clone()), (201, json!("main_user")), "{second}");
        let (status, off) = scim(&entra, Method::PATCH, &path, Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": false}]}))).await;
        assert_eq!((status, off["active"].clone()), (200, json!(false)), "{off}");
        // Deactivated, the main user's session ended at once.
        assert_eq!(problem(main.get("/me").await, 401).await["code"], "unauthorized");
    }

    async fn a_scim_token_reaches_its_own_corporations_staff_and_nothing_else(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let other = app.corporation_with_main_user(&admin, "KWH002").await;
        let foreign = app.create_user(&other, json!({"email": "x@kwh002.example.nl", "first_name": "X", "last_name": "Y"})).await;
        let contractor: Value = main.post("/contractors", &json!({"name": "Bouwbedrijf Jansen"})).await.json().await.unwrap();
        let contractor_user = app.create_user(&main, json!({"email": "c@jansen.example.nl", "first_name": "C", "last_name": "J",
            "user_type": "contractor", "contractor_id": contractor["id"]})).await;
        let entra = scim_token(&main, "KWH001", json!({})).await;
        for id in [foreign["id"].as_str().unwrap(), contractor_user["id"].as_str().unwrap()] {
            for method in [Method::GET, Method::DELETE] {
                let (status, body) = scim(&entra, method.clone(), &format!("/Users/{id}"), None).await;
                assert_eq!(status, 404, "{method} {body}");
            }
            let (status, _) = scim(&entra, Method::PATCH, &format!("/Users/{id}"), Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "x"}]}))).await;
            assert_eq!(status, 404);
        }
        let (_, all) = scim(&entra, Method::GET, "/Users", None).await;
        let names: Vec<&str> = all["Resources"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["hoofd@kwh001.example.nl"], "{all}");
        assert_eq!(all["totalResults"], 1);
        let (_, found) = scim(&entra, Method::GET, &filter(r#"userName eq "x@kwh002.example.nl""#), None).await;
        assert_eq!(found["totalResults"], 0, "another corporation's user is not found");
        // Creating in another corporation is impossible: the token's corporation is the only one.
        let (status, created) = scim(&entra, Method::POST, "/Users", Some(json!({"schemas": [CORE], "userName": "nieuw@kwh001.example.nl", "name": {"givenName": "N", "familyName": "W"}}))).await;
        assert_eq!(status, 201);
        assert_eq!(app.user(&admin, created["id"].as_str().unwrap()).await["corporation_code"], "KWH001");

        // Nothing outside /scim/v2, and no person or other token inside it.
        for path in ["/users", "/me", "/api-tokens", "/audit-events"] {
            assert_eq!(problem(entra.get(path).await, 403).await["code"], "insufficient_scope", "{path}");
        }
        let (status, refused) = scim(&main, Method::GET, "/Users", None).await;
        assert_eq!(status, 403, "{refused}");
        let provision = crate::api_tokens::with_new_token(&main, "provision").await;
        let (status, _) = scim(&provision, Method::GET, "/Users", None).await;
        assert_eq!(status, 403);
        let anonymous = main.with_token("mkwh_made-up");
        let (status, _) = scim(&anonymous, Method::GET, "/ServiceProviderConfig", None).await;
        assert_eq!(status, 401);
    }

    async fn twenty_five_identical_creates_at_once_make_one_user_and_one_invitation(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let entra = scim_token(&main, "KWH001", json!({})).await;
        let body = json!({"schemas": [CORE], "userName": "tegelijk@kwh001.example.nl", "name": {"givenName": "T", "familyName": "G"}});
        let creates = (0..25).map(|_| scim(&entra, Method::POST, "/Users", Some(body.clone())));
        let answers = futures_util::future::join_all(creates).await;
        let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
        assert!(answers.iter().all(|(status, body)| *status == 201 || (*status == 409 && body["scimType"] == "uniqueness")), "{answers:?}");
        assert_eq!(count_outbox(&app, "tegelijk@kwh001.example.nl"), 1);
    }

    async fn odd_requests_get_scim_answers_and_a_deleted_user_leaves_no_stored_answer(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let entra = scim_token(&main, "KWH001", json!({})).await;
        // A NUL in an equality filter matches nothing (PostgreSQL refuses it as a parameter).
        for expression in ["externalId eq \"\\u0000\"", "id eq \"\\u0000\""] {
            let (status, found) = scim(&entra, Method::GET, &filter(expression), None).await;
            assert_eq!((status, found["totalResults"].clone()), (200, json!(0)), "{expression}: {found}");
        }
        // A retried create after the user was deleted is not answered from the stored answer,
        // and that answer, with the user's details, is gone.
        let create = || entra.request(Method::POST, "/scim/v2/Users").header("Idempotency-Key", "maak-geheim")
            .header("Content-Type", "application/scim+json")
            .body(json!({"schemas": [CORE], "userName": "geheim@kwh001.example.nl", "name": {"givenName": "Geheim", "familyName": "Persoon"}}).to_string())
            .send();
        let first: Value = create().await.unwrap().json().await.unwrap();
        let id = first["id"].as_str().unwrap().to_string();
        let (status, _) = scim(&entra, Method::DELETE, &format!("/Users/{id}"), None).await;
        assert_eq!(status, 204);
        let stored: Vec<Option<String>> = mijnkwh::db::schema::idempotency_keys::table
            .select(mijnkwh::db::schema::idempotency_keys::response_body)
            .load(&mut app.db()).unwrap();
        assert!(stored.iter().flatten().all(|body| !body.contains("Geheim")), "{stored:?}");
        let again = create().await.unwrap();
        assert!(again.headers().get("idempotent-replayed").is_none());
        let again: Value = again.json().await.unwrap();
        assert_ne!(again["id"], first["id"], "{again}");
        // Setting emails to another address without a path is refused as a change of it.
        let (status, refused) = scim(&entra, Method::PATCH, &format!("/Users/{}", main.id), Some(json!({"schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "value": {"emails": [{"value": "nieuw@elders.example.nl", "type": "work"}]}}]}))).await;
        assert_eq!((status, refused["scimType"].clone()), (400, json!("mutability")), "{refused}");
        // What other layers refuse is SCIM too: a body over the limit, a bad Idempotency-Key,
        // a path with a trailing slash or a doubled one.
        let big = format!("{{\"x\":\"{}\"}}", "a".repeat(3_000_000));
        let response = entra.request(Method::POST, "/scim/v2/Users").header("Content-Type", "application/scim+json").body(big).send().await.unwrap();
        assert_eq!(response.status(), 413);
        assert_eq!(response.headers()["content-type"], "application/scim+json");
        let response = entra.request(Method::POST, "/scim/v2/Users").header("Idempotency-Key", "k".repeat(256))
            .header("Content-Type", "application/scim+json").body("{}").send().await.unwrap();
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()["content-type"], "application/scim+json");
        let (status, _) = scim(&entra, Method::GET, "/Users/", None).await;
        assert_eq!(status, 404);
        let response = entra.request(Method::GET, "//scim/v2/Users").send().await.unwrap();
        assert!(response.status().is_client_error());
        assert_eq!(response.headers()["content-type"], "application/scim+json");
        assert_eq!(problem(main.get("/users/").await, 404).await["code"], "not_found");
    }

    async fn who_may_make_a_scim_token_and_for_which_corporation(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        app.create_corporation(&admin, "KWH002").await;
        let make = |session: &Session, body: Value| session.post("/api-tokens", &body);
        // A main user's own corporation by default; another answers 404 (rule 4).
        let own: Value = make(&main, json!({"name": "Entra", "scope": "scim"})).await.json().await.unwrap();
        assert_eq!((own["corporation_code"].clone(), own["invites_new_users"].clone()), (json!("KWH001"), json!(true)));
        assert_eq!(problem(make(&main, json!({"name": "Entra", "scope": "scim", "corporation_code": "KWH002"})).await, 404).await["code"], "not_found");
        assert_eq!(problem(make(&main, json!({"name": "Entra", "scope": "scim", "corporation_code": "KWH999"})).await, 404).await["code"], "not_found");
        // KWH staff must name an existing one.
        let missing = problem(make(&admin, json!({"name": "Entra", "scope": "scim"})).await, 422).await;
        assert_eq!(missing["errors"][0]["field"], "corporation_code");
        let unknown = problem(make(&admin, json!({"name": "Entra", "scope": "scim", "corporation_code": "KWH999"})).await, 422).await;
        assert_eq!(unknown["errors"][0]["field"], "corporation_code");
        // The SCIM settings mean nothing to another scope: refused, not ignored.
        let refused = problem(make(&main, json!({"name": "HR", "scope": "provision", "invites_new_users": false})).await, 422).await;
        assert_eq!(refused["errors"][0]["field"], "invites_new_users");
        // A token cannot make one.
        let provision = crate::api_tokens::with_new_token(&main, "provision").await;
        assert_eq!(make(&provision, json!({"name": "Entra", "scope": "scim"})).await.status(), 403);
    }

    async fn scim_errors_are_scim_bodies_and_filters_follow_the_rfc(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let entra = scim_token(&main, "KWH001", json!({})).await;
        for (expression, expected) in [
            (r#"userName eq "hoofd@kwh001.example.nl""#, 1),
            (r#"USERNAME EQ "HOOFD@KWH001.EXAMPLE.NL""#, 1),
            (r#"userName sw "hoofd" and active eq true"#, 1),
            (r#"name.familyName co "oof" or title pr"#, 1),
            (r#"not (userName ew "kwh001.example.nl")"#, 0),
            (r#"emails[type eq "work" and value co "@kwh001"]"#, 1),
            (r#"meta.created gt "2000-01-01T00:00:00Z""#, 1),
            (r#"urn:ietf:params:scim:schemas:extension:mijnkwh:2.0:User:role eq "main_user""#, 1),
        ] {
            let (status, found) = scim(&entra, Method::GET, &filter(expression), None).await;
            assert_eq!((status, found["totalResults"].clone()), (200, json!(expected)), "{expression}: {found}");
        }
        for expression in [r#"userName eq"#, r#"userName zz "x""#, r#"active gt true"#, r#"(userName eq "x""#] {
            let (status, refused) = scim(&entra, Method::GET, &filter(expression), None).await;
            assert_eq!((status, refused["scimType"].clone()), (400, json!("invalidFilter")), "{expression}: {refused}");
        }
        let (status, refused) = scim(&entra, Method::POST, "/Users", Some(json!({"schemas": [CORE], "name": {"givenName": "Geen"}}))).await;
        assert_eq!((status, refused["scimType"].clone()), (400, json!("invalidValue")), "{refused}");
        let response = entra.request(Method::POST, "/scim/v2/Users").header("Content-Type", "application/scim+json").body("{niet json").send().await.unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["scimType"], "invalidSyntax");
        let path = format!("/Users/{}", main.id);
        let (status, refused) = scim(&entra, Method::PATCH, &path, Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "Move", "path": "title"}]}))).await;
        assert_eq!((status, refused["scimType"].clone()), (400, json!("invalidSyntax")), "{refused}");
        let (status, refused) = scim(&entra, Method::PATCH, &path, Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "id", "value": "x"}]}))).await;
        assert_eq!((status, refused["scimType"].clone()), (400, json!("mutability")), "{refused}");
        let (status, _) = scim(&entra, Method::GET, "/Users/niet-een-id", None).await;
        assert_eq!(status, 404);
        let (status, _) = scim(&entra, Method::GET, "/Groups", None).await;
        assert_eq!(status, 404);
        let (status, refused) = scim(&entra, Method::PUT, "/Schemas", Some(json!({}))).await;
        assert_eq!(status, 405, "{refused}");

        // Paging: startIndex is 1-based, count is capped and may be 0.
        for n in 0..3 {
            let (status, _) = scim(&entra, Method::POST, "/Users", Some(json!({"schemas": [CORE], "userName": format!("u{n}@kwh001.example.nl"), "name": {"givenName": "U", "familyName": format!("{n}")}}))).await;
            assert_eq!(status, 201);
        }
        let (_, page) = scim(&entra, Method::GET, "/Users?startIndex=2&count=2", None).await;
        assert_eq!((page["totalResults"].clone(), page["startIndex"].clone(), page["itemsPerPage"].clone()), (json!(4), json!(2), json!(2)), "{page}");
        let (_, none) = scim(&entra, Method::GET, "/Users?count=0", None).await;
        assert_eq!((none["totalResults"].clone(), none["Resources"].clone()), (json!(4), json!([])));
        let (_, projected) = scim(&entra, Method::GET, "/Users?attributes=userName&count=1", None).await;
        let keys: Vec<&String> = projected["Resources"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, vec!["id", "schemas", "userName"], "{projected}");

        // Discovery says what we do.
        let (_, config) = scim(&entra, Method::GET, "/ServiceProviderConfig", None).await;
        assert_eq!((config["patch"]["supported"].clone(), config["bulk"]["supported"].clone(), config["etag"]["supported"].clone()), (json!(true), json!(false), json!(true)));
        let (_, schemas) = scim(&entra, Method::GET, "/Schemas", None).await;
        assert_eq!(schemas["totalResults"], 2);
        let (status, _) = scim(&entra, Method::GET, &format!("/Schemas/{EXTENSION}"), None).await;
        assert_eq!(status, 200);
        let (_, types) = scim(&entra, Method::GET, "/ResourceTypes", None).await;
        assert_eq!(types["Resources"][0]["endpoint"], "/Users");
    }
}

crate::for_each_backend! {
    async fn a_user_provisioned_by_scim_is_invited_and_signs_in(backend) {
        let smtp = SmtpServer::start();
        let Some(app) = TestApp::spawn_with_smtp(backend, &smtp.url()).await else { return };
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let entra = scim_token(&main, "KWH001", json!({})).await;
        let (status, created) = scim(&entra, Method::POST, "/Users", Some(json!({
            "schemas": [CORE], "userName": "nieuw@kwh001.example.nl", "name": {"givenName": "Nieuw", "familyName": "Lid"}, "active": true,
        }))).await;
        assert_eq!(status, 201, "{created}");
        // The answer's version is the stored one: a PATCH with it as If-Match goes through.
        let version = created["meta"]["version"].as_str().unwrap().to_string();
        let response = entra.request(Method::PATCH, &format!("/scim/v2/Users/{}", created["id"].as_str().unwrap()))
            .header("If-Match", version).header("Content-Type", "application/scim+json")
            .body(json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "title", "value": "Medewerker"}]}).to_string())
            .send().await.unwrap();
        assert_eq!(response.status(), 200);
        let mail = smtp.wait_for(1).await.remove(0);
        let token = mail.link_token();
        let accept = app.post("/invitations/accept").json(&json!({"token": token, "password": "een eigen wachtwoord"})).send().await.unwrap();
        assert_eq!(accept.status(), 200, "{}", accept.text().await.unwrap());
        assert_eq!(app.login("nieuw@kwh001.example.nl", "een eigen wachtwoord").await.status(), 200);
        // Created inactive: no mail.
        let (status, _) = scim(&entra, Method::POST, "/Users", Some(json!({
            "schemas": [CORE], "userName": "later@kwh001.example.nl", "name": {"givenName": "L", "familyName": "A"}, "active": "False",
        }))).await;
        assert_eq!(status, 201);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(smtp.messages().len(), 1, "no invitation for a user created inactive");
    }
}
