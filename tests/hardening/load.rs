//! Load without loss: mixed load (creates, invitations, edits, deletes, reads) at 64 connections
//! for LOAD_TEST_SECONDS (default 60), then a consistency check against the database: every
//! 201 is there unless its 204 came too, no 5xx, no orphan rows.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use rand::Rng;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp};

const CONNECTIONS: usize = 64;

/// The machine's cores are shared: one backend's load at a time.
static ONE_LOAD_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Default)]
struct Outcome {
    created: HashSet<String>,
    deleted: HashSet<String>,
    statuses: BTreeMap<String, usize>,
    server_errors: Vec<String>,
}

fn seconds() -> u64 {
    std::env::var("LOAD_TEST_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

async fn client_loop(admin: Session, worker: usize, until: Instant, outcome: Arc<Mutex<Outcome>>) {
    let mut mine: Vec<String> = Vec::new();
    // A user may be invited 5 times a day (then 429, as it should): stay under that.
    let mut invitations: std::collections::HashMap<String, usize> = Default::default();
    let mut round = 0;
    while Instant::now() < until {
        round += 1;
        let dice = rand::rng().random_range(0..100);
        let known = (!mine.is_empty()).then(|| mine[rand::rng().random_range(0..mine.len())].clone());
        let target = known.clone();
        let (label, request) = match (dice, known) {
            (0..35, _) | (_, None) => (
                "POST /users",
                admin.request(Method::POST, "/users").json(&json!({
                    "email": format!("l{worker}-{round}@load.example.nl"),
                    "corporation_code": "LOAD01", "first_name": "Lotte", "last_name": format!("Last {worker}-{round}"),
                })),
            ),
            (35..45, Some(id)) if invitations.get(&id).copied().unwrap_or(0) < 5 => {
                *invitations.entry(id.clone()).or_default() += 1;
                (
                    "POST /users/{id}/invite",
                    admin.request(Method::POST, &format!("/users/{id}/invite")),
                )
            }
            (45..65, Some(id)) => (
                "PATCH /users/{id}",
                admin
                    .request(Method::PATCH, &format!("/users/{id}"))
                    .json(&json!({"job_title": format!("Rol {round}")})),
            ),
            (65..72, Some(id)) => (
                "DELETE /users/{id}",
                admin.request(Method::DELETE, &format!("/users/{id}")),
            ),
            (72..90, Some(id)) => ("GET /users/{id}", admin.request(Method::GET, &format!("/users/{id}"))),
            _ => (
                "GET /users",
                admin.request(Method::GET, "/users?corporation_code=LOAD01&limit=50"),
            ),
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => panic!("{label}: no answer: {error:?}"),
        };
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let mut outcome = outcome.lock().unwrap();
        *outcome.statuses.entry(format!("{label} {status}")).or_default() += 1;
        if status >= 500 {
            outcome.server_errors.push(format!("{label}: {status} {body}"));
        }
        match (label, status) {
            ("POST /users", 201) => {
                let id = body["id"].as_str().expect("an id").to_string();
                outcome.created.insert(id.clone());
                mine.push(id);
            }
            ("DELETE /users/{id}", 204) => {
                let id = target.expect("a delete has a target");
                mine.retain(|m| *m != id);
                outcome.deleted.insert(id);
            }
            _ => {}
        }
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn load_then_check(backend: Backend) {
    let _turn = ONE_LOAD_AT_A_TIME.lock().await;
    // The per-caller limit stays on, high enough not to refuse: its counter is part of the load.
    let Some(app) = TestApp::spawn_with(
        backend,
        &[("RATE_LIMIT_PER_MINUTE", "1000000"), ("DATABASE_POOL_SIZE", "10")],
    )
    .await
    else {
        return;
    };
    let admin = app.admin().await;
    app.create_corporation(&admin, "LOAD01").await;
    let outcome = Arc::new(Mutex::new(Outcome::default()));
    let until = Instant::now() + Duration::from_secs(seconds());
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|w| tokio::spawn(client_loop(admin.clone(), w, until, outcome.clone())))
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let outcome = Arc::try_unwrap(outcome).ok().unwrap().into_inner().unwrap();
    eprintln!("{backend:?} load: {:#?}", outcome.statuses);
    assert!(
        outcome.server_errors.is_empty(),
        "5xx under load: {:#?}",
        outcome.server_errors
    );
    let unexpected: Vec<_> = outcome
        .statuses
        .keys()
        // 408: actix gave up waiting for a request head (client and server share this test's two
        // runtime threads under load); refused before reading, so nothing to lose.
        .filter(|k| {
            ![" 200", " 201", " 202", " 204", " 408"]
                .iter()
                .any(|ok| k.ends_with(ok))
        })
        .collect();
    // Every worker edits and deletes only its own users, so nothing should ever be missing.
    assert!(unexpected.is_empty(), "unexpected answers: {unexpected:?}");
    assert!(
        outcome.created.len() > 100,
        "too little load: {} creates",
        outcome.created.len()
    );

    let mut conn = app.db();
    let stored: HashSet<String> = diesel::sql_query("SELECT id FROM users WHERE corporation_code = 'LOAD01'")
        .load::<Id>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|row| row.id)
        .collect();
    let expected: HashSet<String> = outcome.created.difference(&outcome.deleted).cloned().collect();
    assert_eq!(stored.len(), expected.len(), "users stored vs. created minus deleted");
    assert!(
        expected.iter().all(|id| stored.contains(id)),
        "an acknowledged create is missing"
    );

    for (what, sql) in [
        (
            "invitation links without their user",
            "SELECT COUNT(*) AS n FROM user_tokens t WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id)",
        ),
        (
            "emails of users that are gone",
            "SELECT COUNT(*) AS n FROM outbox_messages m WHERE m.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = m.user_id)",
        ),
        (
            "invitation links without their email",
            "SELECT COUNT(*) AS n FROM user_tokens t WHERE NOT EXISTS (SELECT 1 FROM outbox_messages m WHERE m.id = t.outbox_message_id)",
        ),
        (
            "users without their creation in the audit trail",
            "SELECT COUNT(*) AS n FROM users u WHERE u.corporation_code = 'LOAD01' AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.target_id = u.id AND a.action = 'user.created')",
        ),
        (
            "deletions in the audit trail of users still there",
            "SELECT COUNT(*) AS n FROM audit_events a WHERE a.action = 'user.deleted' AND EXISTS (SELECT 1 FROM users u WHERE u.id = a.target_id)",
        ),
        (
            "audit events about users that never were",
            "SELECT COUNT(*) AS n FROM audit_events a WHERE a.target_type = 'user' AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.target_id) AND NOT EXISTS (SELECT 1 FROM audit_events d WHERE d.target_id = a.target_id AND d.action = 'user.deleted')",
        ),
    ] {
        let orphans = diesel::sql_query(sql).get_result::<Count>(&mut conn).unwrap().n;
        assert_eq!(orphans, 0, "{what}: {orphans}");
    }
    let deletions = diesel::sql_query("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'user.deleted'")
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n;
    assert_eq!(
        deletions as usize,
        outcome.deleted.len(),
        "one audit event per acknowledged delete"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_loses_nothing_on_sqlite() {
    load_then_check(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_loses_nothing_on_postgres() {
    load_then_check(Backend::Postgres).await;
}
