//! What the database itself guarantees: no contractor user outlives its contractor, and the
//! migration that added that guarantee keeps the users a database already has.

use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::contractors::create_contractor;
use crate::helpers::{Backend, TestDatabase};
use crate::{for_each_backend, on_both_backends};

/// Users whose contractor_id names no contractor, read from the database itself.
fn orphaned_users(conn: &mut mijnkwh::db::DbConn) -> i64 {
    use mijnkwh::db::schema::{contractors, users};
    users::table
        .filter(users::contractor_id.is_not_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            contractors::table.filter(contractors::id.nullable().eq(users::contractor_id)),
        )))
        .count()
        .get_result(conn)
        .unwrap()
}

on_both_backends! {
    async fn a_contractor_deleted_while_users_are_created_for_it_leaves_no_user_behind(app) {
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        for round in 0..5 {
            let contractor = create_contractor(&main, &format!("Installatietechniek {round}")).await;
            let id = contractor["id"].as_str().unwrap().to_string();
            let creates = (0..10).map(|n| {
                main.post("/users", &json!({
                    "email": format!("monteur{round}-{n}@installatietechniek.example.nl"),
                    "first_name": "Henk", "last_name": format!("Monteur {n}"),
                    "user_type": "contractor", "contractor_id": id,
                }))
            });
            let delete = main.delete(&format!("/contractors/{id}"));
            let (deleted, created) = tokio::join!(delete, join_all(creates));
            assert_eq!(deleted.status(), 204);
            let mut created_ids = Vec::new();
            for response in created {
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap();
                match status {
                    201 => created_ids.push(body["id"].as_str().unwrap().to_string()),
                    // Created after the contractor was gone: it does not exist for the request.
                    422 => assert_eq!(body["errors"][0]["code"], "unknown_reference", "{body}"),
                    other => panic!("round {round}: a create answered {other}: {body}"),
                }
            }
            let listed: Value = admin.get_json(&format!("/users?contractor_id={id}")).await;
            assert_eq!(listed["items"], json!([]), "round {round}");
            for user_id in &created_ids {
                let status = admin.get(&format!("/users/{user_id}")).await.status();
                assert_eq!(status, 404, "round {round}: user {user_id} outlived its contractor");
            }
            assert_eq!(orphaned_users(&mut app.db()), 0, "round {round}");
        }
    }

    async fn the_database_refuses_a_user_of_a_contractor_that_does_not_exist(app) {
        use mijnkwh::db::schema::users;
        let admin = app.admin().await;
        let main = app.corporation_with_main_user(&admin, "KWH001").await;
        let contractor = create_contractor(&main, "Installatietechniek").await;
        let user = app.create_user(&main, json!({
            "email": "henk@installatietechniek.example.nl", "first_name": "Henk", "last_name": "Monteur",
            "user_type": "contractor", "contractor_id": contractor["id"],
        })).await;
        // Past every rule of the service: only the foreign key stands in the way.
        let moved = diesel::update(users::table.find(user["id"].as_str().unwrap()))
            .set(users::contractor_id.eq(Some(uuid::Uuid::new_v4().to_string())))
            .execute(&mut app.db());
        assert!(
            matches!(moved, Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::ForeignKeyViolation, _))),
            "{moved:?}"
        );
    }
}

const FOREIGN_KEY_MIGRATION: &str = "20261201000015";

/// Runs the migrations before the foreign key, as a database made by an earlier release has them.
fn migrate_to_before_the_foreign_key(conn: &mut mijnkwh::db::DbConn) {
    fn run<DB, C>(conn: &mut C, folder: &str)
    where
        DB: diesel::backend::Backend,
        C: MigrationHarness<DB>,
        FileBasedMigrations: MigrationSource<DB>,
    {
        let source =
            FileBasedMigrations::from_path(format!("{}/migrations/{folder}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        // Creates diesel's table of applied versions, as running them all would.
        conn.applied_migrations().unwrap();
        let mut migrations = MigrationSource::<DB>::migrations(&source).unwrap();
        migrations.sort_by_key(|m| m.name().version().to_string());
        for migration in migrations
            .iter()
            .filter(|m| m.name().version().to_string().as_str() < FOREIGN_KEY_MIGRATION)
        {
            conn.run_migration(migration.as_ref()).unwrap();
        }
    }
    match conn {
        mijnkwh::db::DbConn::Pg(pg) => run(pg, "postgres"),
        mijnkwh::db::DbConn::Sqlite(sqlite) => run(sqlite, "sqlite"),
    }
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Kept {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    email: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    external_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    password_hash: Option<String>,
}

for_each_backend! {
    async fn adding_the_foreign_key_keeps_existing_users_and_removes_those_left_behind(backend) {
        let Some(database) = TestDatabase::create(backend) else { return };
        let target = mijnkwh::config::DatabaseTarget::parse(&database.url()).unwrap();
        let mut conn = mijnkwh::db::open_connection(&target).unwrap();
        migrate_to_before_the_foreign_key(&mut conn);
        let t = "'2026-11-30 12:00:00'";
        let user = |id: &str, email: &str, user_type: &str, contractor: &str, external: &str| format!(
            "INSERT INTO users (id, email, user_type, corporation_code, contractor_id, first_name, last_name, role, access, \
             email_notifications, password_hash, external_id, created_at, updated_at) VALUES ('{id}', '{email}', '{user_type}', \
             'KWH001', {contractor}, 'Henk', 'Jansen', 'user', '[\"mijn_kwh\"]', '[]', 'hash-of-{id}', {external}, {t}, {t})"
        );
        let setup = [
            format!("INSERT INTO corporations (code, name, active_parts, created_at, updated_at) VALUES ('KWH001', 'W', '[]', {t}, {t})"),
            format!("INSERT INTO contractors (id, corporation_code, name, name_key, created_at, updated_at) VALUES ('c-1', 'KWH001', 'A', 'a', {t}, {t})"),
            user("u-colleague", "piet@example.nl", "corporation", "NULL", "'HR-1'"),
            user("u-contractor", "henk@example.nl", "contractor", "'c-1'", "NULL"),
            // What the race of issue #12 left: a user of a contractor deleted meanwhile.
            user("u-orphan", "kees@example.nl", "contractor", "'c-gone'", "NULL"),
            format!("INSERT INTO user_tokens (id, user_id, purpose, created_at, expires_at) VALUES ('t-1', 'u-colleague', 'invitation', {t}, {t})"),
            format!("INSERT INTO user_tokens (id, user_id, purpose, created_at, expires_at) VALUES ('t-2', 'u-orphan', 'invitation', {t}, {t})"),
            format!("INSERT INTO api_tokens (id, name, token_hash, scope, created_by, created_at, expires_at) VALUES ('a-1', 'HR', 'h', 'read', 'u-colleague', {t}, {t})"),
            format!("INSERT INTO outbox_messages (id, kind, user_id, recipient, message_id, created_at, next_attempt_at) VALUES ('m-1', 'invitation', 'u-orphan', 'kees@example.nl', '<m>', {t}, {t})"),
        ];
        for statement in &setup {
            diesel::sql_query(statement).execute(&mut conn).unwrap();
        }

        let applied = mijnkwh::db::run_migrations(&mut conn).unwrap();
        assert!(applied.contains(&FOREIGN_KEY_MIGRATION.to_string()), "{applied:?}");

        let kept: Vec<Kept> = diesel::sql_query("SELECT id, email, external_id, password_hash FROM users ORDER BY id")
            .load(&mut conn).unwrap();
        assert_eq!(kept, vec![
            Kept { id: "u-colleague".into(), email: "piet@example.nl".into(), external_id: Some("HR-1".into()), password_hash: Some("hash-of-u-colleague".into()) },
            Kept { id: "u-contractor".into(), email: "henk@example.nl".into(), external_id: None, password_hash: Some("hash-of-u-contractor".into()) },
        ]);
        use mijnkwh::db::schema::{api_tokens, outbox_messages, user_tokens};
        let links: Vec<String> = user_tokens::table.select(user_tokens::id).load(&mut conn).unwrap();
        assert_eq!(links, vec!["t-1".to_string()], "the colleague's link stays, the orphan's goes");
        assert_eq!(api_tokens::table.count().get_result::<i64>(&mut conn).unwrap(), 1);
        assert_eq!(outbox_messages::table.count().get_result::<i64>(&mut conn).unwrap(), 0);
        // The rebuilt table keeps its unique indexes (rule 1, external ids) ...
        for duplicate in [
            user("u-2", "piet@example.nl", "corporation", "NULL", "NULL"),
            user("u-3", "other@example.nl", "corporation", "NULL", "'HR-1'"),
        ] {
            let refused = diesel::sql_query(duplicate).execute(&mut conn);
            assert!(matches!(refused, Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))), "{refused:?}");
        }
        // ... and enforces the new key, with its cascade.
        let orphan = diesel::sql_query(user("u-4", "new@example.nl", "contractor", "'c-gone'", "NULL")).execute(&mut conn);
        assert!(matches!(orphan, Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::ForeignKeyViolation, _))), "{orphan:?}");
        diesel::sql_query("DELETE FROM contractors WHERE id = 'c-1'").execute(&mut conn).unwrap();
        assert_eq!(mijnkwh::db::schema::users::table.count().get_result::<i64>(&mut conn).unwrap(), 1);
        // The migration leaves foreign keys on for the connection that ran it.
        if backend == Backend::Sqlite {
            let removed = diesel::sql_query("DELETE FROM users WHERE id = 'u-colleague'").execute(&mut conn);
            assert!(removed.is_ok());
            assert_eq!(user_tokens::table.count().get_result::<i64>(&mut conn).unwrap(), 0, "cascade of foreign keys");
        }
    }
}
