//! The retention purge on both backends, with the injected clock: rows past their period go,
//! rows within it stay, and two instances purging at once delete each row once.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use mijnkwh::clock::Clock;
use mijnkwh::config::RetentionSettings;
use mijnkwh::db::DbConn;
use mijnkwh::db::rows::{OutboxRow, UserTokenRow};
use mijnkwh::db::schema::{
    audit_events, idempotency_keys, login_failures, outbox_messages, rate_limit_windows, user_tokens,
};
use mijnkwh::service::retention::purge;

use crate::on_both_backends;

fn settings(audit_events: Option<Duration>) -> RetentionSettings {
    RetentionSettings {
        sent_mail: Duration::days(30),
        failed_mail: Duration::days(90),
        audit_events,
        interval: std::time::Duration::from_secs(3600),
    }
}

/// A message with the given outcome at `at` (sent, failed, cancelled, or still queued); its id.
fn message(conn: &mut DbConn, recipient: &str, outcome: &str, at: NaiveDateTime) -> String {
    let id = uuid::Uuid::now_v7();
    let stamp = |name: &str| (outcome == name).then_some(at);
    mijnkwh::db::outbox::insert(
        conn,
        &OutboxRow {
            id: id.to_string(),
            kind: "decision".into(),
            user_id: None,
            recipient: recipient.into(),
            payload: "{}".into(),
            message_id: format!("<{}@mijnkwh>", id.simple()),
            created_at: at,
            next_attempt_at: at,
            attempts: 1,
            last_error: None,
            claimed_by: None,
            claimed_until: None,
            sent_at: stamp("sent"),
            failed_at: stamp("failed"),
            cancelled_at: stamp("cancelled"),
            delivery_error: None,
        },
    )
    .unwrap();
    id.to_string()
}

/// A link created at `created_at`, used or voided five minutes later, carried by `message`.
fn link(
    conn: &mut DbConn,
    user_id: &str,
    purpose: &str,
    created_at: NaiveDateTime,
    (used, revoked): (bool, bool),
    message: Option<&str>,
) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    mijnkwh::db::user_tokens::insert(
        conn,
        &UserTokenRow {
            id: id.clone(),
            user_id: user_id.into(),
            purpose: purpose.into(),
            token_hash: Some(id.clone()),
            outbox_message_id: message.map(str::to_string),
            created_by: None,
            created_at,
            expires_at: created_at + Duration::hours(1),
            used_at: used.then_some(created_at + Duration::minutes(5)),
            revoked_at: revoked.then_some(created_at + Duration::minutes(5)),
            sent_at: None,
        },
    )
    .unwrap();
    id
}

fn recipients(conn: &mut DbConn) -> Vec<String> {
    let mut all: Vec<String> = outbox_messages::table
        .select(outbox_messages::recipient)
        .load(conn)
        .unwrap();
    all.sort();
    all
}

on_both_backends! {
    async fn rows_past_their_period_go_and_rows_within_it_stay(app) {
        let admin = app.admin().await;
        let mut conn = app.db();
        diesel::delete(outbox_messages::table).execute(&mut conn).unwrap();
        let start = app.clock.now();
        let day = Duration::days(1);

        let accepted_invitations_mail = message(&mut conn, "sent-old", "sent", start);
        message(&mut conn, "sent-recent", "sent", start + day * 2);
        message(&mut conn, "cancelled-old", "cancelled", start);
        message(&mut conn, "failed-old", "failed", start - day * 60);
        message(&mut conn, "failed-recent", "failed", start);
        message(&mut conn, "queued-old", "queued", start - day * 200);

        let old_reset = link(&mut conn, &admin.id, "password_reset", start - day * 3, (true, false), None);
        let recent_reset = link(&mut conn, &admin.id, "password_reset", start + day * 30, (false, false), None);
        let voided_invitation = link(&mut conn, &admin.id, "invitation", start - day * 3, (false, true), None);
        let accepted_invitation =
            link(&mut conn, &admin.id, "invitation", start - day, (true, false), Some(&accepted_invitations_mail));

        let later = start + Duration::days(31);
        // Failed sign-ins count for the throttle's longest window (a day): one past it, one within.
        for (key, at) in [("account:old", later - Duration::hours(25)), ("account:recent", later - Duration::hours(2))] {
            diesel::insert_into(login_failures::table).values((
                login_failures::id.eq(uuid::Uuid::now_v7().to_string()),
                login_failures::throttle_key.eq(key),
                login_failures::failed_at.eq(at),
            )).execute(&mut conn).unwrap();
        }
        mijnkwh::db::rate_limits::add_requests(&mut conn, "old", later - Duration::hours(2), 1).unwrap();
        mijnkwh::db::rate_limits::add_requests(&mut conn, "recent", later - Duration::minutes(1), 1).unwrap();
        for (key, expires_at) in [("expired", later - Duration::minutes(1)), ("live", later + Duration::hours(1))] {
            diesel::insert_into(idempotency_keys::table).values((
                idempotency_keys::actor.eq("tester"),
                idempotency_keys::idempotency_key.eq(key),
                idempotency_keys::fingerprint.eq("f"),
                idempotency_keys::created_at.eq(expires_at - Duration::hours(24)),
                idempotency_keys::expires_at.eq(expires_at),
            )).execute(&mut conn).unwrap();
        }
        let audit_before: i64 = audit_events::table.count().get_result(&mut conn).unwrap();
        assert!(audit_before > 0);

        app.clock.advance(Duration::days(31));
        let now = app.clock.now();
        let purged = purge(&mut conn, &settings(None), now).unwrap();

        assert_eq!(recipients(&mut conn), ["failed-recent", "queued-old", "sent-recent"]);
        assert_eq!(purged.get("outbox_messages"), Some(&3));
        let links: Vec<String> = user_tokens::table.select(user_tokens::id).load(&mut conn).unwrap();
        assert!(links.contains(&recent_reset) && links.contains(&accepted_invitation), "what still matters stays");
        assert!(!links.contains(&old_reset) && !links.contains(&voided_invitation));
        assert_eq!(purged.get("user_tokens"), Some(&2));
        let failures: Vec<String> = login_failures::table.select(login_failures::throttle_key).load(&mut conn).unwrap();
        assert_eq!(failures, ["account:recent"]);
        let windows: Vec<String> = rate_limit_windows::table.select(rate_limit_windows::subject).load(&mut conn).unwrap();
        assert_eq!(windows, ["recent"]);
        let keys: Vec<String> = idempotency_keys::table.select(idempotency_keys::idempotency_key).load(&mut conn).unwrap();
        assert_eq!(keys, ["live"]);
        let audit_after: i64 = audit_events::table.count().get_result(&mut conn).unwrap();
        assert_eq!(audit_after, audit_before, "audit events are kept unless a period is set");

        // The accepted invitation still shows when it was sent and accepted, its email gone.
        let kept_sent_at: Option<NaiveDateTime> = user_tokens::table.find(&accepted_invitation)
            .select(user_tokens::sent_at).first(&mut conn).unwrap();
        assert_eq!(kept_sent_at, Some(start), "the link copied its message's sent_at");
        let shown = app.user(&app.admin().await, &admin.id).await;
        assert_eq!(shown["invitation"]["status"], "accepted", "{shown}");
        assert_eq!(shown["invitation"]["delivery"], "sent", "{shown}");
        assert_eq!(shown["invitation"]["sent_at"], start.and_utc().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true), "{shown}");

        // A period for the audit log removes what is older, and only that.
        let recent_event_at: NaiveDateTime = audit_events::table.select(diesel::dsl::max(audit_events::at))
            .first::<Option<NaiveDateTime>>(&mut conn).unwrap().unwrap();
        let purged = purge(&mut conn, &settings(Some(Duration::days(30))), now).unwrap();
        let left: Vec<NaiveDateTime> = audit_events::table.select(audit_events::at).load(&mut conn).unwrap();
        assert!(purged.get("audit_events").is_some_and(|n| *n > 0), "{purged:?}");
        assert!(left.iter().all(|at| *at >= now - Duration::days(30)), "{left:?}");
        assert!(left.contains(&recent_event_at));
        // Within the period the log is still append-only: no delete, no update.
        assert!(diesel::delete(audit_events::table).execute(&mut conn).is_err());
        assert!(diesel::update(audit_events::table).set(audit_events::action.eq("x")).execute(&mut conn).is_err());
    }

    async fn two_instances_purging_at_once_delete_each_row_once(app) {
        let mut conn = app.db();
        diesel::delete(outbox_messages::table).execute(&mut conn).unwrap();
        let long_ago = app.clock.now() - Duration::days(100);
        let rows = 3 * mijnkwh::service::retention::BATCH as usize + 7;
        mijnkwh::db::write_transaction(&mut conn, |conn| {
            for i in 0..rows {
                message(conn, &format!("old-{i}"), "sent", long_ago);
            }
            Ok::<_, diesel::result::Error>(())
        }).unwrap();
        message(&mut conn, "recent", "sent", app.clock.now());

        let now = app.clock.now();
        let purgers: Vec<_> = (0..2).map(|_| {
            let mut conn = app.db();
            std::thread::spawn(move || purge(&mut conn, &settings(None), now).unwrap())
        }).collect();
        let counts: Vec<usize> = purgers.into_iter()
            .map(|p| p.join().unwrap().get("outbox_messages").copied().unwrap_or(0))
            .collect();
        assert_eq!(counts.iter().sum::<usize>(), rows, "each row counted once: {counts:?}");
        assert_eq!(recipients(&mut conn), ["recent"]);
    }
}
