//! The service foundation: health, problem+json for what actix answers by itself, the OpenAPI
//! document, Swagger UI and start-up failures.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;

use crate::helpers::{Backend, TestApp, problem};
use crate::on_both_backends;

on_both_backends! {
    async fn liveness_and_readiness_answer_ok(app) {
        for path in ["/health/live", "/health/ready"] {
            let response = app.get(path).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            assert!(response.headers().contains_key("x-request-id"));
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["status"], "ok");
        }
    }

    async fn unknown_route_is_a_problem_404(app) {
        let body = problem(app.get("/no/such/route").send().await.unwrap(), 404).await;
        assert_eq!(body["code"], "not_found");
        assert!(body["request_id"].is_string());
    }

    async fn wrong_method_is_a_problem_405_with_allow(app) {
        let response = app.client.delete(app.url("/health/live")).send().await.unwrap();
        assert_eq!(response.headers()["allow"], "GET");
        let body = problem(response, 405).await;
        assert_eq!(body["code"], "method_not_allowed");
        let response = app.post("/health/ready").json(&serde_json::json!({})).send().await.unwrap();
        assert_eq!(problem(response, 405).await["code"], "method_not_allowed");
    }

    async fn dutch_texts_when_asked(app) {
        let response = app.get("/no/such/route").header("Accept-Language", "nl-NL,nl;q=0.9").send().await.unwrap();
        let body = problem(response, 404).await;
        assert_eq!(body["title"], "Niet gevonden");
        let english = problem(app.get("/no/such/route").send().await.unwrap(), 404).await;
        assert_eq!(english["title"], "Not found");
    }

    async fn swagger_ui_is_served_and_redirected(app) {
        let redirect = app.get("/swagger-ui").send().await.unwrap();
        assert_eq!(redirect.status(), 308);
        assert_eq!(redirect.headers()["location"], "/swagger-ui/");
        let page = app.get("/swagger-ui/").send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("swagger-ui"));
        let document: serde_json::Value = app.get("/openapi.json").send().await.unwrap().json().await.unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        assert!(document["components"]["securitySchemes"]["bearer_auth"].is_object());
    }

    async fn cors_is_closed_by_default(app) {
        let response = app
            .client
            .request(reqwest::Method::OPTIONS, app.url("/health/live"))
            .header("Origin", "https://evil.example")
            .header("Access-Control-Request-Method", "GET")
            .send()
            .await
            .unwrap();
        assert!(!response.headers().contains_key("access-control-allow-origin"));
    }
}

#[tokio::test]
async fn cors_allows_the_configured_frontend() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("CORS_ORIGINS", "https://mijn.kwh.nl")])
        .await
        .unwrap();
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/health/live"))
        .header("Origin", "https://mijn.kwh.nl")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "https://mijn.kwh.nl");
}

/// A page on the frontend's origin can read these headers only if CORS exposes them (the
/// browser test of `.ci/frontend.sh` reads each one in Chromium).
#[tokio::test]
async fn cors_exposes_the_headers_a_frontend_reads() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("CORS_ORIGINS", "https://mijn.kwh.nl")])
        .await
        .unwrap();
    let response = app
        .client
        .get(app.url("/health/live"))
        .header("Origin", "https://mijn.kwh.nl")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "https://mijn.kwh.nl");
    let exposed: Vec<String> = response
        .headers()
        .get_all("access-control-expose-headers")
        .iter()
        .flat_map(|value| value.to_str().unwrap().split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    for header in ["etag", "location", "retry-after", "x-request-id", "idempotent-replayed"] {
        assert!(
            exposed.iter().any(|name| name == header),
            "{header} is not exposed: {exposed:?}"
        );
    }
}

#[test]
fn openapi_document_matches_the_committed_snapshot() {
    let generated = mijnkwh::http::openapi_document().to_pretty_json().unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi.json differs from what the code generates; regenerate it with:\n    \
         cargo run --quiet -- openapi > openapi/openapi.json"
    );
}

/// Readiness follows the database: 503 while it is gone, 200 again once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_goes_503_and_recovers_when_postgres_goes_away() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    assert_eq!(app.get("/health/ready").send().await.unwrap().status(), 200);

    let name = app.database.postgres_name().to_string();
    let away = format!("{name}_away");
    let mut server = app.database.server_connection();
    // The pool reconnects quickly, so rename in a loop until no session holds the database.
    let renamed = (0..50).any(|_| {
        let _ = diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .execute(&mut server);
        diesel::sql_query(format!("ALTER DATABASE {name} RENAME TO {away}"))
            .execute(&mut server)
            .is_ok()
    });
    assert!(renamed, "could not take the database away");

    let body = problem(app.get("/health/ready").send().await.unwrap(), 503).await;
    assert_eq!(body["code"], "service_unavailable");
    assert_eq!(app.get("/health/live").send().await.unwrap().status(), 200);

    diesel::sql_query(format!("ALTER DATABASE {away} RENAME TO {name}"))
        .execute(&mut server)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if app.get("/health/ready").send().await.unwrap().status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "readiness did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mijnkwh"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    command
}

#[test]
fn a_bad_database_url_stops_the_start_with_one_clear_line() {
    let output = binary().env("DATABASE_URL", "mysql://nope").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: configuration error in DATABASE_URL"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn an_unreachable_postgres_fails_fast_with_the_servers_own_error() {
    let started = Instant::now();
    let output = binary()
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/mijnkwh")
        .env("JWT_SECRET", crate::helpers::TEST_JWT_SECRET)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot open the database") && stderr.contains("127.0.0.1"),
        "{stderr}"
    );
    assert!(!stderr.contains("Invalid connection url"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_missing_postgres_database_is_named_in_the_error() {
    let Ok(server) = std::env::var("TEST_DATABASE_URL") else {
        return;
    };
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path("mijnkwh_no_such_database");
    let output = binary()
        .env("DATABASE_URL", url.as_str())
        .env("JWT_SECRET", crate::helpers::TEST_JWT_SECRET)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("\"mijnkwh_no_such_database\" does not exist"),
        "{stderr}"
    );
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let child = binary()
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("db/x.sqlite").display()),
        )
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("MAIL_DIR", dir.path().join("mail"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let child = &mut child.0;
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first_line).unwrap();
    assert!(first_line.contains("running on http://127.0.0.1:"), "{first_line}");
    assert!(dir.path().join("db/x.sqlite").exists(), "the SQLite folder is created");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(35);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "the server did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child process that does not outlive a failing test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn migration_folders_have_identical_names() {
    let names = |backend: &str| {
        let mut names: Vec<String> = std::fs::read_dir(format!("{}/migrations/{backend}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert!(!names("sqlite").is_empty());
    assert_eq!(names("sqlite"), names("postgres"));
}

on_both_backends! {
    async fn malformed_json_is_a_problem_400(app) {
        let response = app.post("/auth/login").header("content-type", "application/json").body("{\"email\": ").send().await.unwrap();
        assert_eq!(problem(response, 400).await["code"], "malformed_json");
    }

    async fn a_body_of_the_wrong_shape_is_a_problem_422(app) {
        let response = app.post("/auth/login").json(&serde_json::json!({"email": 42})).send().await.unwrap();
        assert_eq!(problem(response, 422).await["code"], "invalid_body");
    }

    async fn a_wrong_content_type_is_a_problem_415(app) {
        let response = app.post("/auth/login").header("content-type", "text/plain").body("email=a").send().await.unwrap();
        assert_eq!(problem(response, 415).await["code"], "unsupported_media_type");
    }

    async fn a_body_over_the_limit_is_a_problem_413(app) {
        let huge = format!("{{\"email\": \"{}\", \"password\": \"x\"}}", "a".repeat(2 * 1024 * 1024));
        let response = app.post("/auth/login").header("content-type", "application/json").body(huge).send().await.unwrap();
        assert_eq!(problem(response, 413).await["code"], "payload_too_large");
    }

    async fn a_malformed_path_parameter_is_a_problem_400(app) {
        let admin = app.admin().await;
        let response = admin.get("/users/not-a-uuid").await;
        assert_eq!(problem(response, 400).await["code"], "invalid_path_parameter");
    }
}
