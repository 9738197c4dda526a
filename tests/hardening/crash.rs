//! Crash without loss: SIGKILL the real binary in the middle of write load, start it again on
//! the same database, and show that every acknowledged write is there and that no change is
//! there halfway (a user without its audit event, an invitation without its email).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::for_each_backend;
use crate::helpers::{Service, TestDatabase};

const WRITERS: usize = 16;

/// What the service answered, per user: created (with its address), invited, and the job titles
/// it acknowledged, in order. `pending_title` is an edit sent but not answered when it died.
#[derive(Default, Debug)]
struct Ledger {
    created: HashMap<String, String>,
    invited: Vec<String>,
    acknowledged_titles: HashMap<String, String>,
    pending_title: HashMap<String, String>,
}

/// One writer: create a user, invite them, edit them; again, until the service is gone.
async fn write_until_killed(address: String, token: String, writer: usize, ledger: Arc<Mutex<Ledger>>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    for round in 0.. {
        let email = format!("w{writer}-{round}@crash.example.nl");
        let Ok(created) = client
            .post(format!("{address}/users"))
            .bearer_auth(&token)
            .json(&json!({"email": email, "corporation_code": "CRASH1", "first_name": "Kees", "last_name": format!("Crash {writer}-{round}")}))
            .send()
            .await
        else {
            return;
        };
        assert_eq!(created.status(), 201, "create answered {}", created.status());
        let Ok(user) = created.json::<Value>().await else {
            return;
        };
        let id = user["id"].as_str().unwrap().to_string();
        ledger.lock().unwrap().created.insert(id.clone(), email);

        let Ok(invited) = client
            .post(format!("{address}/users/{id}/invite"))
            .bearer_auth(&token)
            .send()
            .await
        else {
            return;
        };
        assert_eq!(invited.status(), 202, "invite answered {}", invited.status());
        ledger.lock().unwrap().invited.push(id.clone());

        for edit in 0..2 {
            let title = format!("Functie {writer}-{round}-{edit}");
            ledger.lock().unwrap().pending_title.insert(id.clone(), title.clone());
            let Ok(edited) = client
                .patch(format!("{address}/users/{id}"))
                .bearer_auth(&token)
                .json(&json!({"job_title": title}))
                .send()
                .await
            else {
                return;
            };
            assert_eq!(edited.status(), 200, "edit answered {}", edited.status());
            let mut ledger = ledger.lock().unwrap();
            ledger.pending_title.remove(&id);
            ledger.acknowledged_titles.insert(id.clone(), title);
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut mijnkwh::db::DbConn, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

for_each_backend! {
    async fn acknowledged_writes_survive_a_sigkill_and_none_is_half_written(backend) {
        let Some(database) = TestDatabase::create(backend) else { return };
        let dir = database.dir();
        let service = Service::start(&database.url(), &dir, &[("RATE_LIMIT_PER_MINUTE", "0")]);
        let client = reqwest::Client::new();
        let admin = service.admin(&client).await;
        let corporation = admin.post("/corporations", &json!({"code": "CRASH1", "name": "Woonstichting Crash"})).await;
        assert_eq!(corporation.status(), 201);

        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| tokio::spawn(write_until_killed(service.address.clone(), admin.token.clone(), w, ledger.clone())))
            .collect();
        // Kill once a fair amount of work is acknowledged, with every writer mid-flight.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while ledger.lock().unwrap().acknowledged_titles.len() < 100 {
            assert!(std::time::Instant::now() < deadline, "the writers made too little progress");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        service.kill();
        for writer in writers {
            writer.await.expect("a writer panicked: the service answered a write with an error");
        }
        let ledger = Arc::try_unwrap(ledger).unwrap().into_inner().unwrap();

        let restarted = Service::start(&database.url(), &dir, &[("RATE_LIMIT_PER_MINUTE", "0")]);
        let admin = restarted.admin(&client).await;
        for (id, email) in &ledger.created {
            let response = admin.get(&format!("/users/{id}")).await;
            assert_eq!(response.status(), 200, "acknowledged user {id} is gone");
            let user: Value = response.json().await.unwrap();
            assert_eq!(user["email"], email.as_str());
            if let Some(title) = ledger.acknowledged_titles.get(id) {
                // The edit in flight at the kill may have committed too; nothing older may show.
                let shown = user["job_title"].as_str().unwrap_or_default();
                let pending = ledger.pending_title.get(id).map(String::as_str);
                assert!(shown == title || Some(shown) == pending, "user {id}: acknowledged {title:?}, shows {shown:?}");
            }
        }
        for id in &ledger.invited {
            let user: Value = admin.get_json(&format!("/users/{id}")).await;
            assert_eq!(user["invitation"]["status"], "sent", "acknowledged invitation of {id} is gone");
        }

        let mut conn = restarted_db(&database);
        let users = count(&mut conn, "SELECT COUNT(*) AS n FROM users WHERE corporation_code = 'CRASH1'");
        // Acknowledged creates, plus at most one unanswered create per writer that committed.
        assert!(users >= ledger.created.len() as i64 && users <= (ledger.created.len() + WRITERS) as i64,
            "{users} users for {} acknowledged creates", ledger.created.len());
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM users u WHERE corporation_code = 'CRASH1' AND NOT EXISTS \
            (SELECT 1 FROM audit_events a WHERE a.target_id = u.id AND a.action = 'user.created')"), 0,
            "a user without its audit event");
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM user_tokens t WHERE NOT EXISTS \
            (SELECT 1 FROM outbox_messages m WHERE m.id = t.outbox_message_id)"), 0,
            "an invitation without its email");
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM user_tokens t WHERE NOT EXISTS \
            (SELECT 1 FROM audit_events a WHERE a.target_id = t.user_id AND a.action = 'invitation.sent')"), 0,
            "an invitation without its audit event");
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM outbox_messages m WHERE m.kind = 'invitation' AND NOT EXISTS \
            (SELECT 1 FROM user_tokens t WHERE t.outbox_message_id = m.id)"), 0,
            "an invitation email without its link");
        if backend == crate::helpers::Backend::Sqlite {
            #[derive(QueryableByName)]
            struct Check {
                #[diesel(sql_type = diesel::sql_types::Text)]
                integrity_check: String,
            }
            let check: Check = diesel::sql_query("PRAGMA integrity_check").get_result(&mut conn).unwrap();
            assert_eq!(check.integrity_check, "ok");
        }
        restarted.kill();
    }
}

for_each_backend! {
    async fn a_crash_before_the_answer_is_kept_lets_the_retry_act_exactly_once(backend) {
        let Some(database) = TestDatabase::create(backend) else { return };
        let dir = database.dir();
        let client = reqwest::Client::new();
        let create = |address: String, token: String| {
            let client = client.clone();
            async move {
                client.post(format!("{address}/users")).bearer_auth(&token).header("Idempotency-Key", "hr-42")
                    .json(&json!({"email": "eenmaal@crash.example.nl", "corporation_code": "CRASH1", "first_name": "E", "last_name": "M"}))
                    .send().await
            }
        };
        let service = Service::start(&database.url(), &dir, &[("RATE_LIMIT_PER_MINUTE", "0")]);
        let admin = service.admin(&client).await;
        let token = admin.token.clone();
        let corporation = admin.post("/corporations", &json!({"code": "CRASH1", "name": "Crash", "active_parts": ["repairs"]})).await;
        assert_eq!(corporation.status(), 201);
        service.kill();

        // The handler runs, then the process dies before its transaction commits: the client
        // sees the connection drop, as after a crash between the handler and the answer.
        let faulty = Service::start(&database.url(), &dir, &[("RATE_LIMIT_PER_MINUTE", "0"), ("FAULT_INJECTION", "abort_before_idempotent_commit")]);
        assert!(create(faulty.address.clone(), token.clone()).await.is_err(), "the process died before answering");
        drop(faulty);

        let restarted = Service::start(&database.url(), &dir, &[("RATE_LIMIT_PER_MINUTE", "0")]);
        let mut conn = restarted_db(&database);
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM users WHERE corporation_code = 'CRASH1'"), 0,
            "nothing of the crashed request remains");
        // The claim of the dead request is taken over once it is old enough; until then a
        // retry learns the request is in progress.
        let early = create(restarted.address.clone(), token.clone()).await.unwrap();
        assert_eq!(early.status(), 409);
        diesel::sql_query("UPDATE idempotency_keys SET created_at = created_at - INTERVAL '10 minutes'")
            .execute(&mut conn)
            .or_else(|_| diesel::sql_query("UPDATE idempotency_keys SET created_at = datetime(created_at, '-10 minutes')").execute(&mut conn))
            .unwrap();
        let retried = create(restarted.address.clone(), token.clone()).await.unwrap();
        assert_eq!(retried.status(), 201);
        let replayed = create(restarted.address.clone(), token.clone()).await.unwrap();
        assert_eq!(replayed.headers()["idempotent-replayed"], "true");
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM users WHERE corporation_code = 'CRASH1'"), 1, "acted exactly once");
        restarted.kill();
    }
}

fn restarted_db(database: &TestDatabase) -> mijnkwh::db::DbConn {
    let target = mijnkwh::config::DatabaseTarget::parse(&database.url()).unwrap();
    mijnkwh::db::open_connection(&target).unwrap()
}
