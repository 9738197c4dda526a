//! The command line: `serve` (the default), `migrate` and `openapi`.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::app::Application;
use crate::config::{self, ConfigArgs, ConfigError, Settings};
use crate::service::{bootstrap, demo};
use crate::{db, http, telemetry};

const FOOTER: &str = "\
Try it: `mijnkwh serve --demo` seeds a demo corporation and prints a main user to sign in with.

Swagger UI is served at http://BIND_ADDR/swagger-ui/ once the service runs.";

#[derive(Debug, Parser)]
#[command(
    name = "mijnkwh",
    version,
    about = "Mijn KWH user management (Gebruikersbeheer) API",
    long_about = "Mijn KWH user management (Gebruikersbeheer) API.\n\n\
Without a command it serves HTTP on the embedded SQLite database under ./data, writing emails as \
files under ./data/mail. Set DATABASE_URL to a postgres:// URL for production.",
    after_help = FOOTER
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (the default). Migrates the database first.
    Serve(ServeArgs),
    /// Apply the pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document (JSON) to standard output.
    Openapi,
    /// Create a kwh_admin (KWH staff) who can sign in, and exit.
    CreateAdmin(CreateAdminArgs),
}

#[derive(Debug, Default, clap::Args)]
struct ServeArgs {
    /// Seed a demo corporation with a main user and colleagues, and print how to sign in.
    #[arg(long)]
    demo: bool,
    /// Allow --demo on PostgreSQL (it is meant for the embedded SQLite database).
    #[arg(long, requires = "demo")]
    force: bool,
}

#[derive(Debug, clap::Args)]
struct CreateAdminArgs {
    /// The new kwh_admin's email address.
    #[arg(long)]
    email: String,
    /// Read the password from standard input instead of generating one (and printing it).
    #[arg(long)]
    password_stdin: bool,
}

/// Parses the command line, runs the command and turns failures into one clear line.
/// Has glibc give every block of 1 MiB or more its own mapping, returned to the system when
/// freed: argon2's 19 MiB of working memory per sign-in (`auth::password::release_work_memory`).
///
/// glibc does so by default only until the first such block is freed; after that it raises the
/// threshold and serves blocks of that size from its arenas, which keep them resident for good.
/// Setting the threshold turns that adjustment off.
fn map_large_blocks_on_their_own() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a setting of glibc's allocator, which reads it under its own
    // lock; called first thing in main, before any thread of ours exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

pub fn main() -> ExitCode {
    map_large_blocks_on_their_own();
    let cli = match parse_command_line() {
        Ok(cli) => cli,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::Openapi) = cli.command {
        return print_openapi();
    }
    let settings = match cli.config.validate() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log_filter, settings.log_format);
    let outcome = match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => serve(settings, args),
        Command::Migrate => migrate(&settings),
        Command::CreateAdmin(args) => create_admin(&settings, args),
        Command::Openapi => unreachable!("handled before the settings are validated"),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Flags, then the environment (with `.env` loaded), then the defaults. A bad setting is one
/// [`ConfigError`]; clap reports everything else itself (and exits, as for `--help`).
fn parse_command_line() -> Result<Cli, ConfigError> {
    config::load_dotenv()?;
    // The top level's arguments are the settings: global, so `mijnkwh serve --bind-addr …` works.
    let command = config::blank_means_unset(Cli::command().mut_args(|setting| setting.global(true)));
    let secrets: Vec<(String, String)> = command
        .get_arguments()
        .filter(|arg| arg.is_hide_env_values_set())
        .filter_map(|arg| Some((arg.get_id().to_string(), arg.get_env()?.to_string_lossy().into_owned())))
        .collect();
    let parsed = command.try_get_matches().and_then(|matches| {
        // A secret on the command line is readable by every local user (`ps`, /proc): refused.
        let on_command_line = |id: &str| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
        // A database URL is a secret only when it holds a password; a SQLite path is not.
        let holds_password =
            |id: &str| {
                id != "database_url"
                    || matches.get_raw(id).into_iter().flatten().any(|value| {
                        url::Url::parse(&value.to_string_lossy()).is_ok_and(|url| url.password().is_some())
                    })
            };
        if let Some((_, variable)) = secrets.iter().find(|(id, _)| on_command_line(id) && holds_password(id)) {
            return Ok(Err(config::secret_given_as_flag(variable)));
        }
        Cli::from_arg_matches(&matches).map(Ok)
    });
    match parsed {
        Ok(cli) => cli,
        Err(error) => match ConfigError::from_clap(&error) {
            Some(config_error) => Err(config_error),
            None => error.exit(),
        },
    }
}

fn print_openapi() -> ExitCode {
    match http::openapi_document().to_pretty_json() {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: cannot render the OpenAPI document: {error}");
            ExitCode::FAILURE
        }
    }
}

fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let mut conn = db::open_connection(&settings.database)
        .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", settings.database.redacted()))?;
    let applied = db::run_migrations(&mut conn)?;
    if applied.is_empty() {
        println!("The database is up to date.");
    } else {
        println!("Applied {} migration(s): {}", applied.len(), applied.join(", "));
    }
    Ok(())
}

fn create_admin(settings: &Settings, args: CreateAdminArgs) -> anyhow::Result<()> {
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        crate::auth::token::random_token()
    };
    let mut conn = db::open_connection(&settings.database)
        .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", settings.database.redacted()))?;
    db::run_migrations(&mut conn)?;
    bootstrap::create_admin(&mut conn, &args.email, &password, crate::db::now())?;
    if args.password_stdin {
        println!("Created kwh_admin {}.", args.email.trim());
    } else {
        println!("Created kwh_admin {} with password {password}", args.email.trim());
    }
    Ok(())
}

fn seed_demo(settings: &Settings, force: bool) -> anyhow::Result<()> {
    if settings.database.is_postgres() && !force {
        anyhow::bail!("--demo seeds example people and is meant for SQLite; add --force to seed PostgreSQL anyway");
    }
    let mut conn = db::open_connection(&settings.database)
        .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", settings.database.redacted()))?;
    db::run_migrations(&mut conn)?;
    match demo::seed(&mut conn, crate::db::now())? {
        Some(login) => println!(
            "Demo corporation {} seeded. Sign in as main user {} with password {}",
            demo::DEMO_CORPORATION,
            login.email,
            login.password
        ),
        None => println!(
            "Demo corporation {} exists already (seeded before).",
            demo::DEMO_CORPORATION
        ),
    }
    Ok(())
}

fn serve(settings: Settings, args: ServeArgs) -> anyhow::Result<()> {
    if args.demo {
        seed_demo(&settings, args.force)?;
    }
    actix_web::rt::System::new().block_on(async move {
        let database = settings.database.redacted();
        let bind_addr = settings.bind_addr;
        let metrics_addr = settings.metrics.addr;
        let mut application = Application::build(settings).await?;
        let base = format!("http://{}:{}", display_host(bind_addr), application.port());
        let created_admin = application.created_admin.take();
        let metrics_port = application.metrics_port();
        let running = application.run_until_signalled()?;
        tracing::info!(database = %database, "serving on {base}");
        println!("Mijn KWH API is running on {base} (database {database}).");
        println!("Swagger UI: {base}/swagger-ui/");
        if let (Some(addr), Some(port)) = (metrics_addr, metrics_port) {
            println!("Metrics: http://{}:{port}/metrics", display_host(addr));
        }
        if let Some(admin) = created_admin {
            match admin.generated_password {
                // Printed once, to the console only: it is never logged and never shown again.
                Some(password) => println!(
                    "Created the first kwh_admin: {} with password {password}\n\
                     Sign in with POST /auth/login in Swagger UI, then press Authorize and paste the access_token.",
                    admin.email
                ),
                None => println!("Created the first kwh_admin {} from KWH_ADMIN_EMAIL.", admin.email),
            }
        } else {
            println!("Sign in with POST /auth/login in Swagger UI, then press Authorize and paste the access_token.");
        }
        running.await?;
        Ok(())
    })
}

/// `0.0.0.0` is where the server listens, not an address a browser can open.
fn display_host(addr: std::net::SocketAddr) -> String {
    match addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".into(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    }
}
