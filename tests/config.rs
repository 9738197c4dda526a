//! The configuration as an operator meets it: `mijnkwh --help` lists every setting with its
//! default, README.md's tables say the same, and the binary reads a flag before the
//! environment, the environment before `.env`, and a blank variable as unset.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use regex::Regex;

/// The binary with nothing of the caller's environment but `PATH`, started in `dir`.
fn mijnkwh(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mijnkwh"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir);
    command
}

fn help(command: &mut Command) -> String {
    let output = command.arg("--help").output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// Variable → default, as stated somewhere.
type Defaults = BTreeMap<String, Option<String>>;

/// clap writes `[env: NAME=VALUE]` (`[env: NAME]` for a secret) and then, when there is one,
/// `[default: VALUE]`, quoting a value that holds a space.
fn settings_in_help(help: &str) -> Defaults {
    let setting = Regex::new(r"\[env: ([A-Z][A-Z0-9_]*)[^\]]*\]\s*(?:\[default: ([^\]]*)\])?").unwrap();
    setting
        .captures_iter(help)
        .map(|found| {
            let default = found.get(2).map(|d| d.as_str().trim_matches('"').to_string());
            (found[1].to_string(), default)
        })
        .collect()
}

/// The rows of README.md's "variable | default | meaning" tables. The first cell names one or
/// more variables in backticks. A default cell of backticked values only gives their defaults,
/// one per variable in order; any other text ("none", "—", "generated once…") gives none.
fn settings_in_readme(readme: &str) -> Defaults {
    let quoted = Regex::new(r"`([^`]*)`").unwrap();
    let only_quoted = Regex::new(r"^`[^`]*`(\s*,\s*`[^`]*`)*$").unwrap();
    let variable = Regex::new(r"^[A-Z][A-Z0-9_]*$").unwrap();
    let mut settings = Defaults::new();
    let mut in_table = false;
    for line in readme.lines().map(str::trim) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if !line.starts_with('|') {
            in_table = false;
        } else if cells.len() >= 3 && cells[..3] == ["variable", "default", "meaning"] {
            in_table = true;
        } else if in_table && !cells[0].starts_with("---") {
            let names: Vec<&str> = quoted
                .captures_iter(cells[0])
                .map(|c| c.get(1).unwrap().as_str())
                .collect();
            assert!(
                !names.is_empty() && names.iter().all(|name| variable.is_match(name)),
                "a README configuration row names a variable per backticked name (no patterns): {line}"
            );
            let defaults: Vec<Option<String>> = if only_quoted.is_match(cells[1]) {
                quoted.captures_iter(cells[1]).map(|c| Some(c[1].to_string())).collect()
            } else {
                vec![None; names.len()]
            };
            assert_eq!(defaults.len(), names.len(), "one default per variable: {line}");
            for (name, default) in names.into_iter().zip(defaults) {
                let earlier = settings.insert(name.to_string(), default);
                assert!(earlier.is_none(), "{name} is in README's tables twice");
            }
        }
    }
    settings
}

#[test]
fn help_and_the_readme_tables_list_the_same_settings_with_the_same_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let in_help = settings_in_help(&help(&mut mijnkwh(dir.path())));
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let in_readme = settings_in_readme(&readme);
    assert!(in_help.contains_key("DATABASE_URL") && in_readme.contains_key("DATABASE_URL"));

    let only_in_help: Vec<_> = in_help.keys().filter(|name| !in_readme.contains_key(*name)).collect();
    let only_in_readme: Vec<_> = in_readme.keys().filter(|name| !in_help.contains_key(*name)).collect();
    assert!(
        only_in_help.is_empty() && only_in_readme.is_empty(),
        "missing from README's configuration tables: {only_in_help:?}; in README but not in --help: {only_in_readme:?}"
    );
    for (name, default) in &in_help {
        assert_eq!(&in_readme[name], default, "the default of {name}: README, then --help");
    }
}

#[test]
fn every_setting_is_listed_in_the_help_of_serve_too() {
    let dir = tempfile::tempdir().unwrap();
    let top = settings_in_help(&help(&mut mijnkwh(dir.path())));
    let serve = settings_in_help(&help(mijnkwh(dir.path()).arg("serve")));
    assert_eq!(serve, top);
}

#[test]
fn help_never_shows_a_secret_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let text = help(
        mijnkwh(dir.path())
            .env("DATABASE_URL", "postgres://kwh:dbpass-4711@db:5432/kwh")
            .env("JWT_SECRET", "jwt-secret-4711-jwt-secret-4711-jwt")
            .env("SMTP_URL", "smtps://mailer:smtppass-4711@smtp.example.nl:465")
            .env("KWH_ADMIN_PASSWORD", "adminpass-4711")
            .env("METRICS_TOKEN", "metrics-token-4711-metrics-token-4711"),
    );
    assert!(!text.contains("4711"), "{text}");
    assert!(text.contains("[env: JWT_SECRET]"), "{text}");
}

fn migrate(command: &mut Command) -> Output {
    command.arg("migrate").output().unwrap()
}

#[test]
fn a_bad_flag_stops_the_start_with_one_line_naming_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    let output = migrate(mijnkwh(dir.path()).args(["--bind-addr", "everywhere"]));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: configuration error in BIND_ADDR"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn a_flag_wins_over_the_environment_which_wins_over_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=sqlite://from-dotenv/db.sqlite\n").unwrap();
    let database_of = |output: Output| {
        assert!(output.status.success(), "{output:?}");
        let mut created: Vec<String> = ["from-dotenv", "from-env", "from-flag"]
            .into_iter()
            .filter(|folder| dir.path().join(folder).join("db.sqlite").exists())
            .map(String::from)
            .collect();
        for folder in &created {
            std::fs::remove_dir_all(dir.path().join(folder)).unwrap();
        }
        created.pop().filter(|_| created.is_empty())
    };

    assert_eq!(
        database_of(migrate(&mut mijnkwh(dir.path()))).as_deref(),
        Some("from-dotenv")
    );
    let with_env = || {
        let mut command = mijnkwh(dir.path());
        command.env("DATABASE_URL", "sqlite://from-env/db.sqlite");
        command
    };
    assert_eq!(database_of(migrate(&mut with_env())).as_deref(), Some("from-env"));
    let with_flag = migrate(with_env().args(["--database-url", "sqlite://from-flag/db.sqlite"]));
    assert_eq!(database_of(with_flag).as_deref(), Some("from-flag"));
}

#[test]
fn a_blank_variable_means_its_default() {
    let dir = tempfile::tempdir().unwrap();
    let output = migrate(
        mijnkwh(dir.path())
            .env("DATABASE_URL", "")
            .env("BIND_ADDR", " ")
            .env("CORS_ORIGINS", "")
            .env("DATABASE_POOL_SIZE", "")
            .env("RETENTION_AUDIT_DAYS", ""),
    );
    assert!(output.status.success(), "{output:?}");
    assert!(dir.path().join("data/mijnkwh.sqlite").exists(), "the default database");
}
