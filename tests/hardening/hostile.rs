//! Hostile input: every request gets a clear 4xx problem, the service stays up, and its memory
//! stays flat while it refuses them.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{Service, TestDatabase};
use crate::on_both_backends;

/// A client that sends what it is told, without adding its own limits.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// The answer to a hostile request. A body or head over the limit is refused (413, 431) before
/// it is all read, and the connection closed: the client, still sending, may see that close as
/// a reset instead of the answer. That is a refusal too; anything else without an answer is a
/// failure (and the requests after it show that the service is still there).
async fn answer(what: &str, status: u16, request: reqwest::RequestBuilder) -> Option<reqwest::Response> {
    match request.send().await {
        Ok(response) => Some(response),
        Err(error) if matches!(status, 413 | 431) && error.is_request() => None,
        Err(error) => panic!("{what}: no answer ({:?})", error.without_url()),
    }
}

fn nested_json(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// The hostile requests, with the status and code each must get. `address` is the service.
fn hostile_requests(
    client: &reqwest::Client,
    address: &str,
    token: &str,
) -> Vec<(&'static str, reqwest::RequestBuilder, u16, &'static str)> {
    let users = format!("{address}/users");
    let json_post = |body: Vec<u8>| {
        client
            .post(&users)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
    };
    let mut huge_name = br#"{"email":"a@b.nl","corporation_code":"HOST01","last_name":"x","first_name":""#.to_vec();
    huge_name.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    huge_name.extend(br#""}"#);
    let mut big_but_allowed =
        br#"{"email":"a@b.nl","corporation_code":"HOST01","last_name":"x","first_name":""#.to_vec();
    big_but_allowed.extend(std::iter::repeat_n(b'x', 900 * 1024));
    big_but_allowed.extend(br#""}"#);
    let forged_cursor = |raw: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    };
    vec![
        ("a body over the limit (10 MB string)", json_post(huge_name), 413, "payload_too_large"),
        ("a 900 kB name within the body limit", json_post(big_but_allowed), 422, "validation_failed"),
        ("JSON nested 100,000 deep instead of an object", json_post(nested_json(100_000).into_bytes()), 422, "invalid_body"),
        ("JSON nested 100,000 deep in a field", json_post(format!(r#"{{"email":{}}}"#, nested_json(100_000)).into_bytes()), 422, "invalid_body"),
        ("JSON nested 100,000 deep in an unknown field", json_post(format!(r#"{{"email":"a@b.nl","extra":{}}}"#, nested_json(100_000)).into_bytes()), 422, "invalid_body"),
        ("invalid UTF-8 in the body", json_post(b"{\"email\":\"\xff\xfe@b.nl\",\"first_name\":\"a\",\"last_name\":\"b\"}".to_vec()), 400, "malformed_json"),
        ("a NUL byte in a name", json_post(br#"{"email":"nul@b.nl","corporation_code":"HOST01","first_name":"a\u0000b","last_name":"c"}"#.to_vec()), 422, "validation_failed"),
        ("a NUL byte in an email address", json_post(br#"{"email":"n\u0000ul@b.nl","corporation_code":"HOST01","first_name":"a","last_name":"c"}"#.to_vec()), 422, "validation_failed"),
        ("a NUL byte in a corporation code", json_post(br#"{"email":"nul2@b.nl","corporation_code":"HO\u0000T01","first_name":"a","last_name":"c"}"#.to_vec()), 422, "validation_failed"),
        ("a NUL byte in an external id", json_post(br#"{"email":"nul3@b.nl","corporation_code":"HOST01","first_name":"a","last_name":"c","external_id":"x\u0000"}"#.to_vec()), 422, "validation_failed"),
        ("a NUL byte in the search text", client.get(format!("{users}?q=a%00b")).bearer_auth(token), 400, "invalid_query"),
        ("a NUL byte in the email of a sign-in", client.post(format!("{address}/auth/login")).json(&json!({"email": "a\u{0}@b.nl", "password": "whatever-long"})), 401, "invalid_credentials"),
        ("a NUL byte in a path id", client.get(format!("{users}/abc%00def")).bearer_auth(token), 400, "invalid_path_parameter"),
        // Query strings are decoded leniently (invalid UTF-8 becomes U+FFFD): a search for it.
        ("invalid UTF-8 in the query", client.get(format!("{users}?q=%FF%FE")).bearer_auth(token), 200, ""),
        ("a forged bearer token", client.get(&users).bearer_auth("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."), 401, "unauthorized"),
        ("a huge limit", client.get(format!("{users}?limit=99999999999999999999999")).bearer_auth(token), 400, "invalid_query"),
        ("a negative limit", client.get(format!("{users}?limit=-1")).bearer_auth(token), 400, "invalid_query"),
        ("a cursor that is not base64", client.get(format!("{users}?cursor=%%%%")).bearer_auth(token), 400, "invalid_query"),
        ("a cursor of random bytes", client.get(format!("{users}?cursor=AAECAwQFBgcICQ")).bearer_auth(token), 400, "invalid_query"),
        ("a cursor of another sort order", client.get(format!("{users}?sort=email&cursor={}", forged_cursor(r#"{"s":"last_name","k":"a","i":"b"}"#))).bearer_auth(token), 400, "invalid_query"),
        ("a NUL byte in the search contractor", client.get(format!("{users}?contractor_id=a%00b")).bearer_auth(token), 400, "invalid_query"),
        ("a cursor with a NUL byte", client.get(format!("{users}?cursor={}", forged_cursor("{\"s\":\"last_name\",\"k\":\"a\\u0000\",\"i\":\"b\"}"))).bearer_auth(token), 400, "invalid_query"),
        ("a cursor with a bad time", client.get(format!("{users}?sort=created_at&cursor={}", forged_cursor(r#"{"s":"created_at","k":"yesterday","i":"b"}"#))).bearer_auth(token), 400, "invalid_query"),
        ("a 60 kB cursor", client.get(format!("{users}?cursor={}", "A".repeat(60 * 1024))).bearer_auth(token), 400, "invalid_query"),
        // actix-http itself refuses more than 96 headers, and a head over 128 kB while it arrives.
        ("a flood of 500 headers", (0..500).fold(client.get(&users).bearer_auth(token), |r, i| r.header(format!("x-flood-{i}"), "x")), 431, ""),
        ("90 headers of 1 kB", (0..90).fold(client.get(&users).bearer_auth(token), |r, i| r.header(format!("x-flood-{i}"), "x".repeat(1024))), 431, "headers_too_large"),
        ("a 100 kB header", client.get(&users).bearer_auth(token).header("x-large", "x".repeat(100 * 1024)), 431, "headers_too_large"),
        ("a 1 MB bearer token", client.get(&users).bearer_auth("x".repeat(1024 * 1024)), 431, ""),
    ]
}

on_both_backends! {
    async fn hostile_input_gets_a_clear_4xx_and_nothing_is_stored(app) {
        let admin = app.admin().await;
        app.create_corporation(&admin, "HOST01").await;
        let client = raw_client();
        let mut wrong = Vec::new();
        for (what, request, status, code) in hostile_requests(&client, &app.address, &admin.token) {
            let Some(response) = answer(what, status, request).await else { continue };
            let got = response.status().as_u16();
            let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_string());
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            if got != status || (!code.is_empty() && (body["code"] != code || content_type.as_deref() != Some("application/problem+json"))) {
                wrong.push(format!("{what}: expected {status} {code}, got {got} {content_type:?} {body}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
        let users: serde_json::Value = admin.get_json("/users?corporation_code=HOST01").await;
        assert_eq!(users["items"].as_array().unwrap().len(), 0, "a hostile create was stored: {users}");
        assert_eq!(app.get("/health/ready").send().await.unwrap().status(), 200);
    }
}

/// Resident memory of the service's process now, in kB.
fn rss_kb(service: &Service) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", service.child.id())).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Refusing stays cheap: the real process's memory does not grow with the hostile requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_flat_under_hostile_input() {
    let database = TestDatabase::create(crate::helpers::Backend::Sqlite).unwrap();
    let service = Service::start(&database.url(), &database.dir(), &[("RATE_LIMIT_PER_MINUTE", "0")]);
    let client = raw_client();
    let token = service.admin_token(&client).await;
    let round = |n: usize| {
        let client = client.clone();
        let token = token.clone();
        let address = service.address.clone();
        async move {
            for _ in 0..n {
                for (what, request, status, _) in hostile_requests(&client, &address, &token) {
                    let Some(response) = answer(what, status, request).await else {
                        continue;
                    };
                    // Round after round of failed sign-ins trips the sign-in throttle, as it should.
                    let got = response.status().as_u16();
                    assert!(got == status || got == 429, "{what}: {got}");
                }
            }
        }
    };
    // Warm up allocator arenas and pools first; then the same work again must not add memory.
    round(5).await;
    let warmed = rss_kb(&service);
    round(20).await;
    let after = rss_kb(&service);
    eprintln!("RSS after warm-up {warmed} kB, after 20 more rounds {after} kB");
    assert!(after < warmed + 16 * 1024, "memory grew from {warmed} kB to {after} kB");
}
