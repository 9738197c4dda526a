//! Settings, read once from the environment (and an optional `.env` file) into typed values.
//!
//! Every variable of PRODUCT.md's configuration table is parsed here; a bad value stops the
//! start with one line that names the variable. Secrets are wrapped in [`Secret`] so that they
//! never reach a log line or `Debug` output.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    pub variable: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration error in {}: {}", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/mijnkwh.sqlite";
pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_PUBLIC_BASE_URL: &str = "http://127.0.0.1:8080";
pub const DEFAULT_MAIL_DIR: &str = "data/mail";
pub const DEFAULT_MAIL_FROM: &str = "Mijn KWH <noreply@localhost>";

impl Settings {
    /// Reads the process environment, after loading `.env` when there is one.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is the normal case; a broken one is worth a clear stop.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(error) if error.not_found() => {}
            Err(error) => {
                return Err(ConfigError {
                    variable: ".env",
                    problem: error.to_string(),
                });
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Parses settings from any source of variables (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let fail = |variable: &'static str, problem: String| ConfigError { variable, problem };

        let database_url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        let database = DatabaseTarget::parse(&database_url).map_err(|p| fail("DATABASE_URL", p))?;

        let database_pool_size = match var("DATABASE_POOL_SIZE") {
            None => 10,
            Some(v) => v.parse::<u32>().ok().filter(|n| (1..=200).contains(n)).ok_or_else(|| {
                fail(
                    "DATABASE_POOL_SIZE",
                    format!("expected a number from 1 to 200, got {v:?}"),
                )
            })?,
        };

        let bind = var("BIND_ADDR").unwrap_or_else(|| DEFAULT_BIND_ADDR.into());
        let bind_addr = bind.parse::<SocketAddr>().map_err(|_| {
            fail(
                "BIND_ADDR",
                format!("expected IP:PORT such as 127.0.0.1:8080, got {bind:?}"),
            )
        })?;

        let base = var("PUBLIC_BASE_URL").unwrap_or_else(|| DEFAULT_PUBLIC_BASE_URL.into());
        let public_base_url = Url::parse(&base)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| fail("PUBLIC_BASE_URL", format!("expected an http(s) URL, got {base:?}")))?;

        let jwt_secret = var("JWT_SECRET").map(Secret::new);
        if let Some(secret) = &jwt_secret
            && secret.expose().len() < 32
        {
            return Err(fail("JWT_SECRET", "must be at least 32 characters long".into()));
        }
        if jwt_secret.is_none() && database.is_postgres() {
            return Err(fail(
                "JWT_SECRET",
                "is required when DATABASE_URL is PostgreSQL (every instance must share it)".into(),
            ));
        }

        let access_token_ttl = match var("ACCESS_TOKEN_TTL_SECONDS") {
            None => Duration::from_secs(3600),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|s| (60..=86_400).contains(s))
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    fail(
                        "ACCESS_TOKEN_TTL_SECONDS",
                        format!("expected seconds from 60 to 86400, got {v:?}"),
                    )
                })?,
        };

        let number =
            |name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| -> Result<u64, ConfigError> {
                match var(name) {
                    None => Ok(default),
                    Some(v) => v.parse::<u64>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
                        fail(
                            name,
                            format!("expected a number from {} to {}, got {v:?}", range.start(), range.end()),
                        )
                    }),
                }
            };
        let invitation_ttl = Duration::from_secs(3600 * number("INVITATION_TTL_HOURS", 168, 1..=24 * 90)?);
        let retry_base = Duration::from_millis(number("MAIL_RETRY_BASE_MS", 5_000, 10..=3_600_000)?);
        let retry_max = Duration::from_millis(number("MAIL_RETRY_MAX_MS", 3_600_000, 10..=86_400_000)?);
        let max_attempts = number("MAIL_MAX_ATTEMPTS", 20, 1..=1000)? as i32;
        let poll_interval = Duration::from_millis(number("MAIL_POLL_MS", 1_000, 10..=60_000)?);
        let smtp_timeout = Duration::from_secs(number("SMTP_TIMEOUT_SECONDS", 15, 1..=300)?);

        let transport = match var("MAIL_TRANSPORT").as_deref().unwrap_or("file") {
            "file" => MailTransport::File {
                dir: PathBuf::from(var("MAIL_DIR").unwrap_or_else(|| DEFAULT_MAIL_DIR.into())),
            },
            "smtp" => {
                let url = var("SMTP_URL")
                    .ok_or_else(|| fail("SMTP_URL", "is required when MAIL_TRANSPORT is smtp".into()))?;
                let parsed = Url::parse(&url).map_err(|e| fail("SMTP_URL", format!("not a valid URL: {e}")))?;
                if !matches!(parsed.scheme(), "smtp" | "smtps") || parsed.host_str().is_none() {
                    return Err(fail(
                        "SMTP_URL",
                        "expected smtp://HOST:PORT or smtps://USER:PASS@HOST:PORT".into(),
                    ));
                }
                MailTransport::Smtp { url: Secret::new(url) }
            }
            other => {
                return Err(fail("MAIL_TRANSPORT", format!("expected file or smtp, got {other:?}")));
            }
        };
        let from_text = var("MAIL_FROM").unwrap_or_else(|| DEFAULT_MAIL_FROM.into());
        let from = from_text.parse::<Mailbox>().map_err(|e| {
            fail(
                "MAIL_FROM",
                format!("not a mailbox such as \"Mijn KWH <noreply@example.nl>\": {e}"),
            )
        })?;

        let admin = AdminBootstrap {
            email: var("KWH_ADMIN_EMAIL"),
            password: var("KWH_ADMIN_PASSWORD").map(Secret::new),
        };
        if admin.email.is_some() != admin.password.is_some() {
            let missing = if admin.email.is_none() {
                "KWH_ADMIN_EMAIL"
            } else {
                "KWH_ADMIN_PASSWORD"
            };
            return Err(fail(
                missing,
                "KWH_ADMIN_EMAIL and KWH_ADMIN_PASSWORD are set together".into(),
            ));
        }

        let cors_origins = match var("CORS_ORIGINS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|origin| parse_origin(origin).map_err(|p| fail("CORS_ORIGINS", p)))
                .collect::<Result<_, _>>()?,
        };

        let log_filter = var("RUST_LOG").unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log_filter)
            .map_err(|e| fail("RUST_LOG", format!("not a valid log filter: {e}")))?;

        let max_body_bytes = match var("MAX_BODY_BYTES") {
            None => 1024 * 1024,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1024..=64 * 1024 * 1024).contains(n))
                .ok_or_else(|| {
                    fail(
                        "MAX_BODY_BYTES",
                        format!("expected bytes from 1024 to 67108864, got {v:?}"),
                    )
                })?,
        };

        let rate_limit_per_minute = number("RATE_LIMIT_PER_MINUTE", 600, 0..=1_000_000)? as u32;

        let trusted_proxies = match var("TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|proxy| {
                    proxy
                        .parse::<ipnet::IpNet>()
                        .or_else(|_| proxy.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| fail("TRUSTED_PROXIES", format!("not an address or CIDR range: {proxy:?}")))
                })
                .collect::<Result<_, _>>()?,
        };

        let fault_abort_before_idempotent_commit = match var("FAULT_INJECTION").as_deref() {
            None => false,
            Some("abort_before_idempotent_commit") => true,
            Some(other) => return Err(fail("FAULT_INJECTION", format!("unknown fault {other:?}"))),
        };

        let days = |days: u64| chrono::Duration::days(days as i64);
        let retention = RetentionSettings {
            sent_mail: days(number("RETENTION_SENT_MAIL_DAYS", 30, 1..=3650)?),
            failed_mail: days(number("RETENTION_FAILED_MAIL_DAYS", 90, 1..=3650)?),
            audit_events: match var("RETENTION_AUDIT_DAYS") {
                None => None,
                Some(_) => Some(days(number("RETENTION_AUDIT_DAYS", 0, 1..=36_500)?)),
            },
            interval: Duration::from_secs(60 * number("RETENTION_INTERVAL_MINUTES", 60, 1..=1440)?),
        };

        let metrics = MetricsSettings {
            addr: match var("METRICS_ADDR") {
                None => None,
                Some(addr) => Some(addr.parse::<SocketAddr>().map_err(|_| {
                    fail(
                        "METRICS_ADDR",
                        format!("expected IP:PORT such as 127.0.0.1:9464, got {addr:?}"),
                    )
                })?),
            },
            token: var("METRICS_TOKEN").map(Secret::new),
        };
        if metrics.token.as_ref().is_some_and(|t| t.expose().len() < 32) {
            return Err(fail("METRICS_TOKEN", "must be at least 32 characters long".into()));
        }

        let log_format = match var("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(fail("LOG_FORMAT", format!("expected text or json, got {other:?}"))),
        };

        let approvals_notify = match var("APPROVALS_NOTIFY") {
            None => None,
            Some(address) => {
                let parsed = crate::domain::email::EmailAddress::parse(&address).map_err(|_| {
                    fail(
                        "APPROVALS_NOTIFY",
                        format!("expected one email address, got {address:?}"),
                    )
                })?;
                Some(parsed.as_str().to_string())
            }
        };

        Ok(Settings {
            rate_limit_per_minute,
            trusted_proxies,
            fault_abort_before_idempotent_commit,
            approvals_notify,
            retention,
            metrics,
            log_format,
            database,
            database_pool_size,
            bind_addr,
            public_base_url,
            jwt_secret,
            access_token_ttl,
            invitation_ttl,
            mail: MailSettings {
                transport,
                from,
                retry_base,
                retry_max,
                max_attempts,
                poll_interval,
                smtp_timeout,
            },
            admin,
            cors_origins,
            log_filter,
            max_body_bytes,
        })
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

/// A CORS origin is a scheme, host and optional port, without a path.
fn parse_origin(origin: &str) -> Result<String, String> {
    let url = Url::parse(origin).map_err(|_| format!("{origin:?} is not an origin such as https://mijn.kwh.nl"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || url.path() != "/" {
        return Err(format!("{origin:?} is not an origin such as https://mijn.kwh.nl"));
    }
    Ok(origin.trim_end_matches('/').to_string())
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
}
