//! Settings, read once from flags, the environment and an optional `.env` file into typed values.
//!
//! Every setting is declared once, in [`ConfigArgs`]: the parser, `--help` and the README's
//! tables (held to `--help` by a test) follow from it. A bad value stops the start with one line
//! that names the variable. Secrets are wrapped in [`Secret`] so that they never reach a log
//! line, `Debug` output or `--help`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::error::{ContextKind, ErrorKind};
use clap::{Args, Command, FromArgMatches};
use lettre::message::Mailbox;
use url::Url;

/// A value that must never be printed: its `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it (signing, connecting).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Which database the binary serves, chosen by the scheme of `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// The embedded default: a file, created with its folder when missing.
    Sqlite { path: PathBuf },
    /// Production. The URL may hold a password, so it is kept secret.
    Postgres { url: Secret },
}

impl DatabaseTarget {
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if let Some(path) = value.strip_prefix("sqlite://") {
            if path.is_empty() || path == ":memory:" {
                return Err("a SQLite URL needs a file path, e.g. sqlite://data/mijnkwh.sqlite".into());
            }
            return Ok(DatabaseTarget::Sqlite {
                path: PathBuf::from(path),
            });
        }
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            let url = Url::parse(value).map_err(|e| format!("not a valid PostgreSQL URL: {e}"))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err("a PostgreSQL URL needs a host, e.g. postgres://user@127.0.0.1:5432/mijnkwh".into());
            }
            return Ok(DatabaseTarget::Postgres {
                url: Secret::new(value),
            });
        }
        Err("expected sqlite://PATH or postgres://USER@HOST:PORT/DATABASE".into())
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DatabaseTarget::Postgres { .. })
    }

    /// A description that is safe to log: the PostgreSQL password is masked.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseTarget::Sqlite { path } => format!("sqlite://{}", path.display()),
            DatabaseTarget::Postgres { url } => match Url::parse(url.expose()) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("****"));
                    }
                    parsed.to_string()
                }
                Err(_) => "postgres://[unparsable]".into(),
            },
        }
    }

    /// The folder where files that belong with the data live (the generated JWT key).
    pub fn data_dir(&self) -> PathBuf {
        match self {
            DatabaseTarget::Sqlite { path } => match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            },
            DatabaseTarget::Postgres { .. } => PathBuf::from("data"),
        }
    }
}

impl fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailTransport {
    /// Each message is written as an `.eml` file into this folder.
    File { dir: PathBuf },
    /// Messages are sent through this SMTP server (the URL may hold credentials).
    Smtp { url: Secret },
}

#[derive(Clone, Debug)]
pub struct MailSettings {
    pub transport: MailTransport,
    pub from: Mailbox,
    /// First retry delay; each later one doubles, with jitter, up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// After this many failed attempts a message is marked failed and left for support.
    pub max_attempts: i32,
    /// How often an idle sender looks for due messages (other instances' messages included).
    pub poll_interval: Duration,
    /// How long one SMTP conversation may take.
    pub smtp_timeout: Duration,
}

/// How long data is kept that no longer serves its purpose (see the README's retention table
/// for the reason of each default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionSettings {
    /// Sent and cancelled email, counted from when it was sent or cancelled.
    pub sent_mail: chrono::Duration,
    /// Email given up on, counted from the last attempt: support needs longer to look into it.
    pub failed_mail: chrono::Duration,
    /// Audit events; `None` keeps them (KWH decides the period).
    pub audit_events: Option<chrono::Duration>,
    /// How often each instance purges.
    pub interval: Duration,
}

/// Where operators scrape the metrics (see `http::metrics`).
#[derive(Clone, Debug, Default)]
pub struct MetricsSettings {
    /// A listener of its own that serves only `/metrics`.
    pub addr: Option<SocketAddr>,
    /// When set, `/metrics` on the main listener too, for this bearer token.
    pub token: Option<Secret>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Lines for people at a terminal.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// The first `kwh_admin`, created on a first start when none exists.
#[derive(Clone, Debug, Default)]
pub struct AdminBootstrap {
    pub email: Option<String>,
    pub password: Option<Secret>,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub database: DatabaseTarget,
    pub database_pool_size: u32,
    pub bind_addr: SocketAddr,
    pub public_base_url: Url,
    /// `None` on SQLite means: generate one and keep it beside the database file.
    pub jwt_secret: Option<Secret>,
    pub access_token_ttl: Duration,
    pub invitation_ttl: Duration,
    pub mail: MailSettings,
    pub admin: AdminBootstrap,
    pub cors_origins: Vec<String>,
    pub log_filter: String,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Requests per minute per user or service token; 0 turns the limit off.
    pub rate_limit_per_minute: u32,
    /// How often an instance writes its request counts to the database (and learns the
    /// others'): the bound of what several instances may admit over the limit.
    pub rate_limit_sync: Duration,
    /// Proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// For the crash test only (`FAULT_INJECTION=abort_before_idempotent_commit`): the process
    /// aborts after an idempotent request's handler ran, before its transaction commits.
    pub fault_abort_before_idempotent_commit: bool,
    /// KWH's review mailbox: told of every new report-settings request (none: nobody is).
    pub approvals_notify: Option<String>,
    pub retention: RetentionSettings,
    pub metrics: MetricsSettings,
    pub log_format: LogFormat,
}

/// A configuration value that cannot be used; the message names the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration error in {}: {}", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

fn fail(variable: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.into(),
        problem: problem.into(),
    }
}

impl ConfigError {
    /// The setting a clap error is about, named by its variable whether the value came from the
    /// environment or a flag; `None` when the error is not about a value (an unknown flag, `--help`).
    pub fn from_clap(error: &clap::Error) -> Option<Self> {
        if error.kind() != ErrorKind::ValueValidation {
            return None;
        }
        // clap names the argument as it renders it ("--bind-addr <BIND_ADDR>").
        let failing = error.get(ContextKind::InvalidArg)?.to_string();
        let mut settings = ConfigArgs::augment_args(Command::new("mijnkwh"));
        settings.build(); // an argument renders only once its command is built
        let arg = settings.get_arguments().find(|arg| arg.to_string() == failing)?;
        let problem = match std::error::Error::source(error) {
            Some(source) => source.to_string(),
            None => error.kind().to_string(),
        };
        Some(fail(&arg.get_env()?.to_string_lossy(), problem))
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/mijnkwh.sqlite";
pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_PUBLIC_BASE_URL: &str = "http://127.0.0.1:8080";
pub const DEFAULT_MAIL_DIR: &str = "data/mail";
pub const DEFAULT_MAIL_FROM: &str = "Mijn KWH <noreply@localhost>";

/// Every setting, declared once: its variable, flag, default, help line and parser.
///
/// `mijnkwh --help` is rendered from this, and `tests/config.rs` holds the README's tables to
/// it. Each value is parsed on its own here (trimmed, so a stray space in an env file is no
/// error); the rules that combine settings live in [`ConfigArgs::validate`]. Secrets, and URLs
/// that may hold a password, hide their values from `--help`.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Settings (environment variables, or lines of a .env file; a flag wins over both)")]
pub struct ConfigArgs {
    /// sqlite://PATH (embedded) or postgres://USER@HOST:PORT/DATABASE (production)
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, value_parser = DatabaseTarget::parse)]
    #[arg(hide_env_values = true)]
    database_url: DatabaseTarget,
    /// Connections per instance, 1 to 200; unset, two per core of this machine (at least 4)
    #[arg(long, env = "DATABASE_POOL_SIZE", value_parser = between(1u32, 200))]
    database_pool_size: Option<u32>,
    /// Where the HTTP server listens
    #[arg(long, env = "BIND_ADDR", default_value = DEFAULT_BIND_ADDR, value_parser = socket_addr)]
    bind_addr: SocketAddr,
    /// Base of the links in emails (the frontend's address)
    #[arg(long, env = "PUBLIC_BASE_URL", default_value = DEFAULT_PUBLIC_BASE_URL, value_parser = http_url)]
    public_base_url: Url,
    /// Signing key of access tokens, at least 32 characters; required on PostgreSQL (unset on SQLite:
    /// generated once beside the database)
    #[arg(long, env = "JWT_SECRET", value_parser = long_secret)]
    #[arg(hide_env_values = true)]
    jwt_secret: Option<Secret>,
    /// Lifetime of access tokens, 60 to 86400 seconds
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECONDS", default_value = "3600", value_parser = between(60u64, 86_400))]
    access_token_ttl_seconds: u64,
    /// file: each message becomes an .eml file in MAIL_DIR; smtp: sent through SMTP_URL
    #[arg(long, env = "MAIL_TRANSPORT", default_value = "file", value_parser = mail_transport)]
    mail_transport: MailTransportKind,
    /// Where the file transport writes
    #[arg(long, env = "MAIL_DIR", default_value = DEFAULT_MAIL_DIR, value_parser = path)]
    mail_dir: PathBuf,
    /// smtp://127.0.0.1:1025, smtps://USER:PASS@HOST:465 or smtp://USER:PASS@HOST:587?tls=required
    #[arg(long, env = "SMTP_URL", value_parser = smtp_url)]
    #[arg(hide_env_values = true)]
    smtp_url: Option<Secret>,
    /// Sender of every email
    #[arg(long, env = "MAIL_FROM", default_value = DEFAULT_MAIL_FROM, value_parser = mailbox)]
    mail_from: Mailbox,
    /// The first kwh_admin, created on a first start without one (with KWH_ADMIN_PASSWORD)
    #[arg(long, env = "KWH_ADMIN_EMAIL", value_parser = text)]
    kwh_admin_email: Option<String>,
    /// The first kwh_admin's password (with KWH_ADMIN_EMAIL)
    #[arg(long, env = "KWH_ADMIN_PASSWORD", value_parser = secret)]
    #[arg(hide_env_values = true)]
    kwh_admin_password: Option<Secret>,
    /// Comma-separated frontend origins allowed to call the API from a browser
    #[arg(long, env = "CORS_ORIGINS", value_parser = comma_list(origin))]
    cors_origins: Option<CommaList<String>>,
    /// Largest accepted request body, 1024 to 67108864 bytes
    #[arg(long, env = "MAX_BODY_BYTES", default_value = "1048576", value_parser = between(1024usize, 64 * 1024 * 1024))]
    max_body_bytes: usize,
    /// Requests per minute per signed-in user or service token (0: no limit)
    #[arg(long, env = "RATE_LIMIT_PER_MINUTE", default_value = "600", value_parser = between(0u32, 1_000_000))]
    rate_limit_per_minute: u32,
    /// How often, 10 to 10000 ms, an instance writes its request counts to the database and reads the others'
    #[arg(long, env = "RATE_LIMIT_SYNC_MS", default_value = "250", value_parser = between(10u64, 10_000))]
    rate_limit_sync_ms: u64,
    /// Comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed
    #[arg(long, env = "TRUSTED_PROXIES", value_parser = comma_list(proxy))]
    trusted_proxies: Option<CommaList<ipnet::IpNet>>,
    /// Tests only: abort_before_idempotent_commit aborts the process inside an idempotent request
    #[arg(long, env = "FAULT_INJECTION", value_parser = fault)]
    fault_injection: Option<Fault>,
    /// Log filter
    #[arg(long, env = "RUST_LOG", default_value = "info", value_parser = log_filter)]
    rust_log: String,
    /// text, or json: one JSON object per line for log shippers
    #[arg(long, env = "LOG_FORMAT", default_value = "text", value_parser = log_format)]
    log_format: LogFormat,
    /// One address (KWH's team mailbox) told of every new report-settings request
    #[arg(long, env = "APPROVALS_NOTIFY", value_parser = email_address)]
    approvals_notify: Option<String>,
    /// A listener of its own for GET /metrics (Prometheus), e.g. 127.0.0.1:9464
    #[arg(long, env = "METRICS_ADDR", value_parser = socket_addr)]
    metrics_addr: Option<SocketAddr>,
    /// At least 32 characters: also serve /metrics on BIND_ADDR, to this bearer token only
    #[arg(long, env = "METRICS_TOKEN", value_parser = long_secret)]
    #[arg(hide_env_values = true)]
    metrics_token: Option<Secret>,
    /// Days sent and cancelled email is kept, 1 to 3650
    #[arg(long, env = "RETENTION_SENT_MAIL_DAYS", default_value = "30", value_parser = between(1u64, 3650))]
    retention_sent_mail_days: u64,
    /// Days email given up on is kept, 1 to 3650
    #[arg(long, env = "RETENTION_FAILED_MAIL_DAYS", default_value = "90", value_parser = between(1u64, 3650))]
    retention_failed_mail_days: u64,
    /// Days audit events are kept, 1 to 36500 (unset: kept; KWH decides)
    #[arg(long, env = "RETENTION_AUDIT_DAYS", value_parser = between(1u64, 36_500))]
    retention_audit_days: Option<u64>,
    /// Minutes between two purges of an instance, 1 to 1440
    #[arg(long, env = "RETENTION_INTERVAL_MINUTES", default_value = "60", value_parser = between(1u64, 1440))]
    retention_interval_minutes: u64,
    /// How long an invitation link works, 1 to 2160 hours
    #[arg(long, env = "INVITATION_TTL_HOURS", default_value = "168", value_parser = between(1u64, 24 * 90))]
    invitation_ttl_hours: u64,
    /// First retry delay of an email (doubling, with jitter), 10 to 3600000 ms
    #[arg(long, env = "MAIL_RETRY_BASE_MS", default_value = "5000", value_parser = between(10u64, 3_600_000))]
    mail_retry_base_ms: u64,
    /// Longest retry delay, 10 to 86400000 ms
    #[arg(long, env = "MAIL_RETRY_MAX_MS", default_value = "3600000", value_parser = between(10u64, 86_400_000))]
    mail_retry_max_ms: u64,
    /// Attempts before a message is marked failed, 1 to 1000
    #[arg(long, env = "MAIL_MAX_ATTEMPTS", default_value = "20", value_parser = between(1i32, 1000))]
    mail_max_attempts: i32,
    /// How often an idle sender looks for due messages, 10 to 60000 ms
    #[arg(long, env = "MAIL_POLL_MS", default_value = "1000", value_parser = between(10u64, 60_000))]
    mail_poll_ms: u64,
    /// One SMTP conversation at most, 1 to 300 seconds
    #[arg(long, env = "SMTP_TIMEOUT_SECONDS", default_value = "15", value_parser = between(1u64, 300))]
    smtp_timeout_seconds: u64,
}

impl ConfigArgs {
    /// Reads the settings from `lookup` instead of the process environment, as if each variable
    /// it returns had been set (tests pass a map; the environment is neither read nor changed).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut flags = vec!["mijnkwh".to_string()];
        let mut command = Self::augment_args(Command::new("mijnkwh")).mut_args(|arg| {
            let value = arg.get_env().and_then(|name| lookup(&name.to_string_lossy()));
            if let (Some(value), Some(long)) = (value.filter(|v| !is_blank(v)), arg.get_long()) {
                flags.push(format!("--{long}={value}"));
            }
            arg.env(None::<&str>)
        });
        let matches = command.try_get_matches_from_mut(flags).map_err(|error| {
            ConfigError::from_clap(&error).unwrap_or_else(|| fail("the settings", error.to_string()))
        })?;
        Self::from_arg_matches(&matches).map_err(|error| fail("the settings", error.to_string()))
    }

    /// Checks the rules that combine settings, and gives the typed [`Settings`] the program reads.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        if self.jwt_secret.is_none() && self.database_url.is_postgres() {
            return Err(fail(
                "JWT_SECRET",
                "is required when DATABASE_URL is PostgreSQL (every instance must share it)",
            ));
        }
        let transport = match self.mail_transport {
            MailTransportKind::File => MailTransport::File { dir: self.mail_dir },
            MailTransportKind::Smtp => MailTransport::Smtp {
                url: self
                    .smtp_url
                    .ok_or_else(|| fail("SMTP_URL", "is required when MAIL_TRANSPORT is smtp"))?,
            },
        };
        if self.kwh_admin_email.is_some() != self.kwh_admin_password.is_some() {
            let missing = if self.kwh_admin_email.is_none() {
                "KWH_ADMIN_EMAIL"
            } else {
                "KWH_ADMIN_PASSWORD"
            };
            return Err(fail(missing, "KWH_ADMIN_EMAIL and KWH_ADMIN_PASSWORD are set together"));
        }
        let days = |days: u64| chrono::Duration::days(days as i64);
        Ok(Settings {
            database: self.database_url,
            database_pool_size: self.database_pool_size.unwrap_or_else(default_pool_size),
            bind_addr: self.bind_addr,
            public_base_url: self.public_base_url,
            jwt_secret: self.jwt_secret,
            access_token_ttl: Duration::from_secs(self.access_token_ttl_seconds),
            invitation_ttl: Duration::from_secs(3600 * self.invitation_ttl_hours),
            mail: MailSettings {
                transport,
                from: self.mail_from,
                retry_base: Duration::from_millis(self.mail_retry_base_ms),
                retry_max: Duration::from_millis(self.mail_retry_max_ms),
                max_attempts: self.mail_max_attempts,
                poll_interval: Duration::from_millis(self.mail_poll_ms),
                smtp_timeout: Duration::from_secs(self.smtp_timeout_seconds),
            },
            admin: AdminBootstrap {
                email: self.kwh_admin_email,
                password: self.kwh_admin_password,
            },
            cors_origins: self.cors_origins.map(|list| list.0).unwrap_or_default(),
            log_filter: self.rust_log,
            max_body_bytes: self.max_body_bytes,
            rate_limit_per_minute: self.rate_limit_per_minute,
            rate_limit_sync: Duration::from_millis(self.rate_limit_sync_ms),
            trusted_proxies: self.trusted_proxies.map(|list| list.0).unwrap_or_default(),
            fault_abort_before_idempotent_commit: self.fault_injection == Some(Fault::AbortBeforeIdempotentCommit),
            approvals_notify: self.approvals_notify,
            retention: RetentionSettings {
                sent_mail: days(self.retention_sent_mail_days),
                failed_mail: days(self.retention_failed_mail_days),
                audit_events: self.retention_audit_days.map(days),
                interval: Duration::from_secs(60 * self.retention_interval_minutes),
            },
            metrics: MetricsSettings {
                addr: self.metrics_addr,
                token: self.metrics_token,
            },
            log_format: self.log_format,
        })
    }
}

/// Loads `.env` from the working folder, when there is one. A variable the process already has
/// wins over the file.
pub fn load_dotenv() -> Result<(), ConfigError> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        // A missing .env is the normal case; a broken one is worth a clear stop.
        Err(error) if error.not_found() => Ok(()),
        // dotenvy's message quotes the line, which may hold a secret: only say where.
        Err(dotenvy::Error::LineParse(_, position)) => Err(fail(
            ".env",
            format!("a line cannot be read (at character {position}; its text is not shown, it may hold a secret)"),
        )),
        Err(error) => Err(fail(".env", error.to_string())),
    }
}

/// A secret given as a flag: every local user could read it from the process list.
pub fn secret_given_as_flag(variable: &str) -> ConfigError {
    fail(
        variable,
        "is a secret: set it in the environment or .env, not as a flag (a command line is visible to every local user)",
    )
}

/// A blank variable means "the default" (`CORS_ORIGINS: ${CORS_ORIGINS:-}` in
/// docker-compose.yml), but clap would parse the empty text: such an argument stops reading
/// its variable. (Only its `[env: …]` hint in `--help` goes with it.)
pub fn blank_means_unset(command: Command) -> Command {
    command.mut_args(|arg| {
        let blank = arg
            .get_env()
            .and_then(std::env::var_os)
            .is_some_and(|value| is_blank(&value.to_string_lossy()));
        if blank { arg.env(None::<&str>) } else { arg }
    })
}

fn is_blank(value: &str) -> bool {
    value.trim().is_empty()
}

impl Settings {
    /// Parses settings from any source of variables (a map in tests); see [`ConfigArgs`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        ConfigArgs::from_lookup(lookup)?.validate()
    }

    /// The settings a test (or a tool) starts from: a SQLite file and files for mail.
    pub fn for_sqlite_file(path: &Path) -> Self {
        let dir = path.parent().unwrap_or(Path::new("."));
        let database_url = format!("sqlite://{}", path.display());
        let mail_dir = dir.join("mail").display().to_string();
        Self::from_lookup(|name| match name {
            "DATABASE_URL" => Some(database_url.clone()),
            "BIND_ADDR" => Some("127.0.0.1:0".into()),
            "MAIL_DIR" => Some(mail_dir.clone()),
            _ => None,
        })
        .expect("the built-in defaults are valid")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MailTransportKind {
    File,
    Smtp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    AbortBeforeIdempotentCommit,
}

/// A comma-separated list, parsed as one value; empty items (a trailing comma) are skipped.
#[derive(Clone, Debug)]
struct CommaList<T>(Vec<T>);

/// Two connections per core of this machine, at least 4. On PostgreSQL each connection is a
/// server process: with more of them busy than the cores can run, one is often stopped mid-
/// statement while others wait for what it holds. On 2 cores, 10 connections gave `GET
/// /users/{id}` a p99 of 18–665 ms and 4 gave 8–10 ms, at 15% more requests per second
/// (BENCHMARKS.md). A PostgreSQL on a larger machine of its own may want more: set it.
pub fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    (2 * cores).max(4)
}

// The value parsers. Each sees the value as written and trims it.

/// A number in `min..=max`.
fn between<T>(min: T, max: T) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy + Send + Sync + 'static,
{
    move |value| {
        value
            .trim()
            .parse::<T>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| format!("expected a number from {min} to {max}, got {value:?}"))
    }
}

fn comma_list<T>(
    item: fn(&str) -> Result<T, String>,
) -> impl Fn(&str) -> Result<CommaList<T>, String> + Clone + Send + Sync + 'static
where
    T: Clone + Send + Sync + 'static,
{
    move |value| {
        value
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(item)
            .collect::<Result<_, _>>()
            .map(CommaList)
    }
}

fn text(value: &str) -> Result<String, String> {
    Ok(value.trim().to_string())
}

fn path(value: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(value.trim()))
}

fn secret(value: &str) -> Result<Secret, String> {
    Ok(Secret::new(value.trim()))
}

fn long_secret(value: &str) -> Result<Secret, String> {
    match value.trim() {
        short if short.len() < 32 => Err("must be at least 32 characters long".into()),
        long => Ok(Secret::new(long)),
    }
}

fn socket_addr(value: &str) -> Result<SocketAddr, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("expected IP:PORT such as 127.0.0.1:8080, got {value:?}"))
}

fn http_url(value: &str) -> Result<Url, String> {
    Url::parse(value.trim())
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        .ok_or_else(|| format!("expected an http(s) URL, got {value:?}"))
}

fn smtp_url(value: &str) -> Result<Secret, String> {
    let value = value.trim();
    let url = Url::parse(value).map_err(|e| format!("not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "smtp" | "smtps") || url.host_str().is_none() {
        return Err("expected smtp://HOST:PORT or smtps://USER:PASS@HOST:PORT".into());
    }
    Ok(Secret::new(value))
}

fn mail_transport(value: &str) -> Result<MailTransportKind, String> {
    match value.trim() {
        "file" => Ok(MailTransportKind::File),
        "smtp" => Ok(MailTransportKind::Smtp),
        other => Err(format!("expected file or smtp, got {other:?}")),
    }
}

fn mailbox(value: &str) -> Result<Mailbox, String> {
    value
        .trim()
        .parse()
        .map_err(|e| format!("not a mailbox such as \"Mijn KWH <noreply@example.nl>\": {e}"))
}

fn email_address(value: &str) -> Result<String, String> {
    crate::domain::email::EmailAddress::parse(value)
        .map(|address| address.as_str().to_string())
        .map_err(|_| format!("expected one email address, got {value:?}"))
}

/// A CORS origin is a scheme, host and optional port, without a path.
fn origin(origin: &str) -> Result<String, String> {
    let url = Url::parse(origin).map_err(|_| format!("{origin:?} is not an origin such as https://mijn.kwh.nl"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || url.path() != "/" {
        return Err(format!("{origin:?} is not an origin such as https://mijn.kwh.nl"));
    }
    Ok(origin.trim_end_matches('/').to_string())
}

fn proxy(proxy: &str) -> Result<ipnet::IpNet, String> {
    proxy
        .parse::<ipnet::IpNet>()
        .or_else(|_| proxy.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("not an address or CIDR range: {proxy:?}"))
}

fn fault(value: &str) -> Result<Fault, String> {
    match value.trim() {
        "abort_before_idempotent_commit" => Ok(Fault::AbortBeforeIdempotentCommit),
        other => Err(format!("unknown fault {other:?}")),
    }
}

fn log_filter(value: &str) -> Result<String, String> {
    let value = value.trim();
    tracing_subscriber::EnvFilter::try_new(value).map_err(|e| format!("not a valid log filter: {e}"))?;
    Ok(value.to_string())
}

fn log_format(value: &str) -> Result<LogFormat, String> {
    match value.trim() {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("expected text or json, got {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = settings(&[]).unwrap();
        assert_eq!(
            s.database,
            DatabaseTarget::Sqlite {
                path: PathBuf::from("data/mijnkwh.sqlite")
            }
        );
        assert_eq!(s.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(
            s.mail.transport,
            MailTransport::File {
                dir: PathBuf::from("data/mail")
            }
        );
        assert_eq!(s.access_token_ttl, Duration::from_secs(3600));
        assert!(s.cors_origins.is_empty());
        assert_eq!(s.database.data_dir(), PathBuf::from("data"));
        assert_eq!(s.retention.sent_mail, chrono::Duration::days(30));
        assert_eq!(s.retention.failed_mail, chrono::Duration::days(90));
        assert_eq!(
            s.retention.audit_events, None,
            "audit events are kept unless KWH decides"
        );
        assert!(s.metrics.addr.is_none() && s.metrics.token.is_none());
        assert_eq!(s.log_format, LogFormat::Text);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (vars, variable) in [
            (vec![("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (vec![("DATABASE_URL", "postgres://")], "DATABASE_URL"),
            (vec![("MAIL_TRANSPORT", "pigeon")], "MAIL_TRANSPORT"),
            (vec![("MAIL_TRANSPORT", "smtp")], "SMTP_URL"),
            (vec![("BIND_ADDR", "everywhere")], "BIND_ADDR"),
            (vec![("PUBLIC_BASE_URL", "ftp://x")], "PUBLIC_BASE_URL"),
            (vec![("CORS_ORIGINS", "https://a.nl/path")], "CORS_ORIGINS"),
            (vec![("MAIL_FROM", "not a mailbox")], "MAIL_FROM"),
            (vec![("KWH_ADMIN_EMAIL", "a@b.nl")], "KWH_ADMIN_PASSWORD"),
            (vec![("JWT_SECRET", "short")], "JWT_SECRET"),
            (vec![("RUST_LOG", "info,[=")], "RUST_LOG"),
            (vec![("APPROVALS_NOTIFY", "team at kwh")], "APPROVALS_NOTIFY"),
            (vec![("RETENTION_SENT_MAIL_DAYS", "0")], "RETENTION_SENT_MAIL_DAYS"),
            (vec![("RETENTION_AUDIT_DAYS", "forever")], "RETENTION_AUDIT_DAYS"),
            (vec![("METRICS_ADDR", "anywhere")], "METRICS_ADDR"),
            (vec![("METRICS_TOKEN", "short")], "METRICS_TOKEN"),
            (vec![("LOG_FORMAT", "xml")], "LOG_FORMAT"),
            (vec![("MAIL_FROM", "--help")], "MAIL_FROM"),
            (vec![("TRUSTED_PROXIES", "10.0.0.0/8, proxy")], "TRUSTED_PROXIES"),
            (vec![("SMTP_TIMEOUT_SECONDS", "301")], "SMTP_TIMEOUT_SECONDS"),
        ] {
            let error = settings(&vars).unwrap_err();
            assert_eq!(error.variable, variable, "{vars:?}");
            assert!(error.to_string().contains(variable));
        }
    }

    #[test]
    fn postgres_requires_a_shared_jwt_secret() {
        let error = settings(&[("DATABASE_URL", "postgres://postgres@127.0.0.1/x")]).unwrap_err();
        assert_eq!(error.variable, "JWT_SECRET");
        let ok = settings(&[
            ("DATABASE_URL", "postgres://postgres@127.0.0.1/x"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ]);
        assert!(ok.unwrap().database.is_postgres());
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = settings(&[
            ("DATABASE_URL", "postgres://kwh:hunter2hunter2@db:5432/kwh"),
            ("JWT_SECRET", "a-very-secret-signing-key-of-32-chars!"),
            ("MAIL_TRANSPORT", "smtp"),
            ("SMTP_URL", "smtps://mailer:mailpass@smtp.example.nl:465"),
            ("KWH_ADMIN_EMAIL", "admin@kwh.nl"),
            ("KWH_ADMIN_PASSWORD", "adminpassword1"),
        ])
        .unwrap();
        let printed = format!("{s:?}");
        for secret in ["hunter2hunter2", "a-very-secret", "mailpass", "adminpassword1"] {
            assert!(!printed.contains(secret), "{secret} leaked in {printed}");
        }
        assert!(printed.contains("postgres://kwh:****@db:5432/kwh"));
    }

    #[test]
    fn cors_origins_are_a_comma_separated_list() {
        let s = settings(&[("CORS_ORIGINS", "https://mijn.kwh.nl, http://localhost:3000/")]).unwrap();
        assert_eq!(s.cors_origins, vec!["https://mijn.kwh.nl", "http://localhost:3000"]);
    }

    #[test]
    fn a_blank_value_means_the_default() {
        let s = settings(&[
            ("BIND_ADDR", "  "),
            ("CORS_ORIGINS", ""),
            ("RETENTION_AUDIT_DAYS", ""),
            ("MAIL_TRANSPORT", ""),
        ])
        .unwrap();
        assert_eq!(s.bind_addr.to_string(), DEFAULT_BIND_ADDR);
        assert!(s.cors_origins.is_empty());
        assert_eq!(s.retention.audit_events, None);
        assert!(matches!(s.mail.transport, MailTransport::File { .. }));
    }

    #[test]
    fn values_are_read_without_surrounding_spaces() {
        let s = settings(&[
            ("DATABASE_POOL_SIZE", " 4 "),
            ("LOG_FORMAT", "json\n"),
            ("TRUSTED_PROXIES", " 10.0.0.1 , 192.168.0.0/16 ,"),
            ("RETENTION_AUDIT_DAYS", " 365"),
        ])
        .unwrap();
        assert_eq!(s.database_pool_size, 4);
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.trusted_proxies.len(), 2);
        assert_eq!(s.retention.audit_events, Some(chrono::Duration::days(365)));
    }

    #[test]
    fn every_setting_is_a_variable_with_the_flag_of_the_same_name() {
        let command = ConfigArgs::augment_args(Command::new("mijnkwh"));
        for arg in command.get_arguments() {
            let variable = arg.get_env().map(|name| name.to_string_lossy().into_owned());
            let flag = arg.get_long().map(|long| long.replace('-', "_").to_uppercase());
            assert!(variable.is_some() && variable == flag, "{:?}", arg.get_id());
        }
    }
}
