//! The test application: the real server on port 0 over real HTTP, each test with its own
//! fresh database (a temp SQLite file, or a PostgreSQL database created from
//! `TEST_DATABASE_URL` and dropped afterwards).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use actix_web::dev::ServerHandle;
use diesel::{Connection, RunQueryDsl, pg::PgConnection};
use mijnkwh::app::Application;
use mijnkwh::config::Settings;
use reqwest::{Method, RequestBuilder, Response};
use serde::{Serialize, de::DeserializeOwned};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const TEST_JWT_SECRET: &str = "test-signing-key-that-is-long-enough-0123456789";
pub const ADMIN_EMAIL: &str = "admin@kwh.example.nl";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const USER_PASSWORD: &str = "user-password-for-tests";

pub struct TestApp {
    pub address: String,
    /// The metrics listener, when the test set `METRICS_ADDR`.
    pub metrics_address: Option<String>,
    /// The app's clock: tests move it forward instead of sleeping.
    pub clock: std::sync::Arc<mijnkwh::clock::ShiftedClock>,
    pub client: reqwest::Client,
    pub database: TestDatabase,
    server: ServerHandle,
}

pub enum TestDatabase {
    Sqlite {
        dir: tempfile::TempDir,
    },
    Postgres {
        server_url: url::Url,
        name: String,
        dir: tempfile::TempDir,
    },
}

impl TestDatabase {
    pub fn create(backend: Backend) -> Option<TestDatabase> {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => Some(TestDatabase::Sqlite { dir }),
            Backend::Postgres => {
                let server_url = postgres_server_url()?;
                let name = format!("mijnkwh_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(server_url.as_str())
                    .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"));
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create test database");
                Some(TestDatabase::Postgres { server_url, name, dir })
            }
        }
    }

    pub fn url(&self) -> String {
        match self {
            TestDatabase::Sqlite { dir } => format!("sqlite://{}", dir.path().join("test.sqlite").display()),
            TestDatabase::Postgres { server_url, name, .. } => {
                let mut url = server_url.clone();
                url.set_path(name);
                url.to_string()
            }
        }
    }

    pub fn dir(&self) -> PathBuf {
        match self {
            TestDatabase::Sqlite { dir } | TestDatabase::Postgres { dir, .. } => dir.path().to_path_buf(),
        }
    }

    /// A connection to the server's maintenance database (PostgreSQL only).
    pub fn server_connection(&self) -> PgConnection {
        match self {
            TestDatabase::Postgres { server_url, .. } => PgConnection::establish(server_url.as_str()).unwrap(),
            TestDatabase::Sqlite { .. } => panic!("only PostgreSQL has a server"),
        }
    }

    pub fn postgres_name(&self) -> &str {
        match self {
            TestDatabase::Postgres { name, .. } => name,
            TestDatabase::Sqlite { .. } => panic!("only PostgreSQL databases have names"),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { server_url, name, .. } = self
            && let Ok(mut admin) = PgConnection::establish(server_url.as_str())
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

/// `TEST_DATABASE_URL`, or `None` to skip PostgreSQL tests; on CI a missing URL is a failure.
fn postgres_server_url() -> Option<url::Url> {
    match std::env::var("TEST_DATABASE_URL").ok().filter(|v| !v.is_empty()) {
        Some(url) => Some(url::Url::parse(&url).expect("TEST_DATABASE_URL is a URL")),
        None if std::env::var_os("CI").is_some() => {
            panic!("CI is set but TEST_DATABASE_URL is not: the PostgreSQL tests must run on CI")
        }
        None => None,
    }
}

/// The environment a test server starts from; `extra` overrides or adds variables.
pub fn test_settings(database: &TestDatabase, extra: &[(&str, &str)]) -> Settings {
    let url = database.url();
    let mail_dir = database.dir().join("mail").display().to_string();
    Settings::from_lookup(|name| {
        if let Some((_, value)) = extra.iter().find(|(key, _)| *key == name) {
            return Some(value.to_string());
        }
        match name {
            "DATABASE_URL" => Some(url.clone()),
            "BIND_ADDR" => Some("127.0.0.1:0".into()),
            "JWT_SECRET" => Some(TEST_JWT_SECRET.into()),
            "MAIL_DIR" => Some(mail_dir.clone()),
            "DATABASE_POOL_SIZE" => Some("4".into()),
            "KWH_ADMIN_EMAIL" => Some(ADMIN_EMAIL.into()),
            "KWH_ADMIN_PASSWORD" => Some(ADMIN_PASSWORD.into()),
            _ => None,
        }
    })
    .expect("test settings are valid")
}

impl TestApp {
    /// Rate limits count per clock minute: moves the clock to early in a minute when it is late
    /// in one, so that a test cannot straddle two.
    pub fn start_well_inside_a_minute(&self) {
        use chrono::Timelike;
        let second = mijnkwh::clock::Clock::now(self.clock.as_ref()).second();
        if second > 40 {
            self.clock.advance(chrono::Duration::seconds(i64::from(61 - second)));
        }
    }

    /// Starts the app on a fresh database, or `None` when PostgreSQL tests are skipped.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, &[]).await
    }

    pub async fn spawn_with(backend: Backend, extra: &[(&str, &str)]) -> Option<TestApp> {
        let database = TestDatabase::create(backend)?;
        let settings = test_settings(&database, extra);
        let clock = std::sync::Arc::new(mijnkwh::clock::ShiftedClock::default());
        let application = Application::build_with_clock(settings, clock.clone())
            .await
            .expect("the application starts");
        let address = format!("http://127.0.0.1:{}", application.port());
        let metrics_address = application
            .metrics_port()
            .map(|port| format!("http://127.0.0.1:{port}"));
        let server = application.handle();
        tokio::spawn(application.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // The server closes a connection idle for 5 s (actix-web's keep-alive). A pooled
            // connection reused at that instant fails with no answer (a PATCH of the load test
            // did, once in CI): the client lets go of idle connections well before.
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap();
        Some(TestApp {
            address,
            metrics_address,
            clock,
            client,
            database,
            server,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path))
    }
}

/// A signed-in user of a test, making requests as that user.
///
/// The request methods return futures that own their request (the path and body are read when
/// called), so a test can start many at once or hand them to `tokio::join!`.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub token: String,
    client: reqwest::Client,
    address: String,
}

impl Session {
    /// The session of `token` on the service at `address`, with its user's id from `/me`.
    pub async fn signed_in(client: &reqwest::Client, address: &str, token: String) -> Session {
        let mut session = Session {
            id: String::new(),
            token,
            client: client.clone(),
            address: address.to_string(),
        };
        let me: serde_json::Value = session.get_json("/me").await;
        session.id = me["id"].as_str().unwrap().to_string();
        session
    }

    /// The same user acting through another credential of theirs (a service token).
    pub fn with_token(&self, token: &str) -> Session {
        Session {
            token: token.to_string(),
            ..self.clone()
        }
    }

    /// A request with this user's bearer token, for a test that adds headers or a body itself.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(&self.token)
    }

    /// `GET path`, sent.
    pub fn get(&self, path: &str) -> impl Future<Output = Response> + use<> {
        sent(self.request(Method::GET, path))
    }

    /// `GET path`, asserting 200 (the body is in the message otherwise); the body as `T`.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str) -> impl Future<Output = T> + use<T> {
        let response = self.get(path);
        let path = path.to_string();
        async move {
            let response = response.await;
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_eq!(status, 200, "GET {path}: {body}");
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
        }
    }

    /// `POST path` with `body` as JSON, sent.
    pub fn post<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> impl Future<Output = Response> + use<B> {
        sent(self.request(Method::POST, path).json(body))
    }

    /// `PUT path` with `body` as JSON, sent.
    pub fn put<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> impl Future<Output = Response> + use<B> {
        sent(self.request(Method::PUT, path).json(body))
    }

    /// `PATCH path` with `body` as JSON, sent.
    pub fn patch<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> impl Future<Output = Response> + use<B> {
        sent(self.request(Method::PATCH, path).json(body))
    }

    /// `DELETE path`, sent.
    pub fn delete(&self, path: &str) -> impl Future<Output = Response> + use<> {
        sent(self.request(Method::DELETE, path))
    }
}

async fn sent(request: RequestBuilder) -> Response {
    request.send().await.unwrap()
}

impl TestApp {
    /// A direct connection to the test's database, for setting up what no endpoint does yet.
    pub fn db(&self) -> mijnkwh::db::DbConn {
        let target = mijnkwh::config::DatabaseTarget::parse(&self.database.url()).unwrap();
        mijnkwh::db::open_connection(&target).unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post("/auth/login")
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn token_for(&self, email: &str, password: &str) -> String {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), 200, "sign-in of {email}");
        let body: serde_json::Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn admin(&self) -> Session {
        let token = self.token_for(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        self.session_of(token).await
    }

    /// The session of an access token, with its user's id from `/me`.
    pub async fn session_of(&self, token: String) -> Session {
        Session::signed_in(&self.client, &self.address, token).await
    }

    pub async fn create_corporation(&self, admin: &Session, code: &str) {
        let response = admin
            .post(
                "/corporations",
                &serde_json::json!({"code": code, "name": format!("Woonstichting {code}"), "active_parts": ["repairs", "maintenance"]}),
            )
            .await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }

    /// Creates a user as `session` through the API and returns its JSON.
    pub async fn create_user(&self, session: &Session, body: serde_json::Value) -> serde_json::Value {
        let response = session.post("/users", &body).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json().await.unwrap()
    }

    /// Gives a user a password directly (invitations set it in the product) and signs in.
    pub async fn sign_in_as(&self, user: &serde_json::Value) -> Session {
        use diesel::prelude::*;
        use mijnkwh::db::schema::users;
        let id = user["id"].as_str().unwrap().to_string();
        let hash = mijnkwh::auth::password::hash(USER_PASSWORD).unwrap();
        diesel::update(users::table.find(&id))
            .set(users::password_hash.eq(Some(hash)))
            .execute(&mut self.db())
            .unwrap();
        let token = self.token_for(user["email"].as_str().unwrap(), USER_PASSWORD).await;
        Session {
            id,
            token,
            client: self.client.clone(),
            address: self.address.clone(),
        }
    }

    /// A corporation with one signed-in main user.
    pub async fn corporation_with_main_user(&self, admin: &Session, code: &str) -> Session {
        self.create_corporation(admin, code).await;
        let main = self
            .create_user(
                admin,
                serde_json::json!({
                    "email": format!("hoofd@{}.example.nl", code.to_lowercase()),
                    "corporation_code": code,
                    "first_name": "Hanneke",
                    "last_name": "Hoofd",
                    "role": "main_user",
                    "access": ["mijn_kwh", "klantvizier"],
                }),
            )
            .await;
        self.sign_in_as(&main).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting and close the pool before the database is dropped.
        let server = self.server.clone();
        tokio::spawn(async move { server.stop(false).await });
    }
}

/// Reads a problem+json body, asserting the content type and the status it carries.
pub async fn problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let body: serde_json::Value = response.json().await.expect("a JSON problem body");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    assert_eq!(
        body["type"],
        format!("urn:mijnkwh:problem:{}", body["code"].as_str().unwrap())
    );
    body
}

/// Settings for sending through a real SMTP server, retrying fast.
pub fn smtp_settings(smtp_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("MAIL_TRANSPORT", "smtp".into()),
        ("SMTP_URL", smtp_url.into()),
        ("MAIL_RETRY_BASE_MS", "50".into()),
        ("MAIL_RETRY_MAX_MS", "500".into()),
        ("MAIL_POLL_MS", "50".into()),
        ("SMTP_TIMEOUT_SECONDS", "2".into()),
    ]
}

impl TestApp {
    pub async fn spawn_with_smtp(backend: Backend, smtp_url: &str) -> Option<TestApp> {
        let settings = smtp_settings(smtp_url);
        let extra: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Self::spawn_with(backend, &extra).await
    }

    /// A user's JSON as the API shows it to `session`.
    pub async fn user(&self, session: &Session, id: &str) -> serde_json::Value {
        session.get_json(&format!("/users/{id}")).await
    }
}

/// Runs the test body once per backend with `backend` bound, for tests that start the app
/// themselves (with a mail server, two instances, …).
#[macro_export]
macro_rules! for_each_backend {
    ($(async fn $name:ident($backend:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $backend = $crate::helpers::Backend::Sqlite;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $backend = $crate::helpers::Backend::Postgres;
                $body
            }
        }
    )*};
}

/// Runs the test body once on SQLite and once on PostgreSQL (skipped locally without
/// `TEST_DATABASE_URL`, a failure on CI).
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($app:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let Some($app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await else { return };
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await else {
                    eprintln!("skipped: TEST_DATABASE_URL is not set");
                    return;
                };
                $body
            }
        }
    )*};
}

/// The real `mijnkwh` binary as a child process, for what an in-process server cannot show:
/// a SIGKILL, the memory of the process, mail that must survive a restart.
pub struct Service {
    pub child: Child,
    pub address: String,
}

impl Service {
    /// Starts the binary on `database_url` with mail written to files under `dir`.
    pub fn start(database_url: &str, dir: &Path, extra: &[(&str, &str)]) -> Service {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mijnkwh"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("JWT_SECRET", TEST_JWT_SECRET)
            .env("KWH_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("KWH_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("MAIL_DIR", dir.join("mail"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (name, value) in extra {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the binary starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("the first line");
        let address = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Service { child, address }
    }

    /// SIGKILL: no shutdown, no flushing, no goodbye.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }

    /// The built-in kwh_admin, signed in through `client`.
    pub async fn admin(&self, client: &reqwest::Client) -> Session {
        let token = self.admin_token(client).await;
        Session::signed_in(client, &self.address, token).await
    }

    pub async fn admin_token(&self, client: &reqwest::Client) -> String {
        let login: serde_json::Value = client
            .post(format!("{}/auth/login", self.address))
            .json(&serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        login["access_token"].as_str().expect("a token").to_string()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
