//! The database: one connection type over PostgreSQL and SQLite, its pool and its migrations.
//!
//! The backend is chosen from the scheme of `DATABASE_URL`. We open connections ourselves
//! instead of through the derived `establish`, which tries every backend in turn and then hides
//! the real error behind "Invalid connection url for multiconnection".

pub mod api_tokens;
pub mod audit;
pub mod catalog;
pub mod contractors;
pub mod corporations;
pub mod idempotency;
pub mod login_failures;
pub mod outbox;
pub mod rate_limits;
pub mod report_settings;
pub mod retention;
pub mod rows;
pub mod schema;
pub mod sql;
pub mod types;
pub mod user_tokens;
pub mod users;

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use url::Url;

use crate::config::DatabaseTarget;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs a typed Diesel query on the backend's own connection.
///
/// Through the multi-backend connection Diesel writes a query out as SQL again at every
/// execution, to collect its binds: a sixth of the CPU of `GET /users/{id}` in the profile of
/// BENCHMARKS.md. On the backend's own connection a query of static shape is built once and
/// stays prepared. Used on the paths every request takes.
macro_rules! native {
    ($conn:expr, $c:ident => $query:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($c) => $query,
            $crate::db::DbConn::Sqlite($c) => $query,
        }
    };
}
pub(crate) use native;

pub type DbPool = r2d2::Pool<DbConnectionManager>;
pub type PooledDbConn = r2d2::PooledConnection<DbConnectionManager>;

/// A connection waiting in the pool, with what the pool needs to know to trust it again.
pub struct PoolSlot {
    conn: DbConn,
    returned_at: Instant,
    suspect: bool,
}

impl PoolSlot {
    /// Drops this connection when it goes back to the pool instead of handing it out again:
    /// after an unexpected database error it may be dead (a restarted server), and a busy
    /// pool would otherwise keep giving it out without ever checking it.
    pub fn mark_suspect(&mut self) {
        self.suspect = true;
    }
}

impl std::ops::Deref for PoolSlot {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for PoolSlot {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

/// A connection that came back from work this recently is trusted without a round trip; an
/// idle one is pinged first. A ping on every checkout costs one round trip per request, on
/// PostgreSQL as much as the query itself.
const TRUSTED_AFTER_USE: Duration = Duration::from_secs(1);

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Seconds libpq waits for a PostgreSQL server before giving up, unless the URL says otherwise.
const POSTGRES_CONNECT_TIMEOUT_SECS: &str = "5";

/// Opens connections to the configured backend for the pool.
#[derive(Debug)]
pub struct DbConnectionManager {
    target: DatabaseTarget,
}

impl DbConnectionManager {
    pub fn new(target: DatabaseTarget) -> Self {
        DbConnectionManager { target }
    }
}

impl ManageConnection for DbConnectionManager {
    type Connection = PoolSlot;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<PoolSlot, r2d2::Error> {
        let conn = open_connection(&self.target).map_err(r2d2::Error::ConnectionError)?;
        Ok(PoolSlot {
            conn,
            returned_at: Instant::now(),
            suspect: false,
        })
    }

    fn is_valid(&self, slot: &mut PoolSlot) -> Result<(), r2d2::Error> {
        if slot.returned_at.elapsed() < TRUSTED_AFTER_USE {
            return Ok(());
        }
        slot.conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, slot: &mut PoolSlot) -> bool {
        slot.returned_at = Instant::now();
        slot.suspect || std::thread::panicking() || slot.conn.is_broken()
    }
}

/// Opens one connection, with the server's own error when that fails.
pub fn open_connection(target: &DatabaseTarget) -> ConnectionResult<DbConn> {
    match target {
        DatabaseTarget::Postgres { url } => {
            let url = with_connect_timeout(url.expose());
            PgConnection::establish(&url).map(DbConn::Pg)
        }
        DatabaseTarget::Sqlite { path } => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    ConnectionError::BadConnection(format!("cannot create folder {}: {e}", dir.display()))
                })?;
            }
            let path = path.to_str().ok_or_else(|| {
                ConnectionError::BadConnection(format!("the SQLite path {} is not UTF-8", path.display()))
            })?;
            let mut conn = SqliteConnection::establish(path)?;
            // Foreign keys are off by default in SQLite; WAL lets readers run beside the one
            // writer; the busy timeout makes writers queue instead of failing with SQLITE_BUSY.
            // synchronous=NORMAL under WAL keeps every commit across a process crash.
            conn.batch_execute(
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                 PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
            )
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(DbConn::Sqlite(conn))
        }
    }
}

/// libpq waits for an unreachable host as long as TCP does; a start should fail within seconds.
fn with_connect_timeout(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if !parsed.query_pairs().any(|(k, _)| k == "connect_timeout") => {
            parsed
                .query_pairs_mut()
                .append_pair("connect_timeout", POSTGRES_CONNECT_TIMEOUT_SECS);
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// Connects (failing fast with the server's message), runs pending migrations, builds the pool.
pub fn connect_and_migrate(target: &DatabaseTarget, pool_size: u32) -> anyhow::Result<DbPool> {
    let mut first =
        open_connection(target).with_context(|| format!("cannot open the database {}", target.redacted()))?;
    run_migrations(&mut first)?;
    drop(first);
    let pool_size = match target {
        // SQLite runs one writer at a time, and its readers use this process's cores: more
        // connections only add waiting (a writer waiting for the lock sleeps in SQLite's busy
        // handler, holding its connection and a thread). bench/run.sh measured 4 against 8
        // connections on 2 cores: more requests per second in every scenario, a write p99 of
        // 75 ms instead of 167 ms, and 9 MB less resident. So never more than the default,
        // even when more are asked for.
        DatabaseTarget::Sqlite { .. } => pool_size.min(crate::config::default_pool_size()),
        DatabaseTarget::Postgres { .. } => pool_size,
    };
    r2d2::Pool::builder()
        .max_size(pool_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        .build(DbConnectionManager::new(target.clone()))
        .with_context(|| format!("cannot open a connection pool to {}", target.redacted()))
}

/// Runs the migrations this binary embeds that the database has not seen yet; returns their versions.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Pg(pg) => {
            // Several instances may start at once on one database: one migrates, the others wait.
            pg.batch_execute("SELECT pg_advisory_lock(4242001)")?;
            let result = pg
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.iter().map(ToString::to_string).collect());
            pg.batch_execute("SELECT pg_advisory_unlock(4242001)")?;
            result
        }
        DbConn::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect()),
    };
    applied.map_err(|e| anyhow::anyhow!("migrating the database failed: {e}"))
}

/// The current time as the database keeps it: UTC, to the microsecond (PostgreSQL's
/// precision), so that what an answer shows is what a later read returns.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// SQLite has one writer at a time. This process's write transactions take turns here, each
/// woken as soon as the one before it ends, instead of meeting SQLite's lock and sleeping in
/// its busy handler (1, 2, 5, … 100 ms steps) however soon the lock is free. The busy timeout
/// stays the backstop for writers outside this queue (single statements, other processes).
/// One queue per process, not per file: the service has one database (the tests' several
/// applications in one process only take turns across their files).
static SQLITE_WRITER: Mutex<()> = Mutex::new(());

/// Runs `work` in a transaction that holds the write lock from its first statement.
///
/// On SQLite a plain `BEGIN` takes the write lock only at the first write; two such
/// transactions that both read first then deadlock and one fails with SQLITE_BUSY at once,
/// ignoring the busy timeout. `BEGIN IMMEDIATE` makes writers queue instead. Called inside
/// another transaction, it nests as a savepoint.
pub fn write_transaction<T, E>(conn: &mut DbConn, work: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let mut _writer_turn = None;
    let begun = match conn {
        DbConn::Sqlite(sqlite) => {
            let outermost = AnsiTransactionManager::transaction_manager_status_mut(sqlite)
                .transaction_depth()
                .is_ok_and(|depth| depth.is_none());
            if outermost {
                _writer_turn = Some(SQLITE_WRITER.lock().unwrap_or_else(PoisonError::into_inner));
            }
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        }
        DbConn::Pg(pg) => AnsiTransactionManager::begin_transaction_sql(pg, "BEGIN"),
    };
    match begun {
        Ok(()) => {}
        // Inside another transaction (a dry run wraps whole use cases): a savepoint.
        Err(diesel::result::Error::AlreadyInTransaction) => {
            <DbConn as Connection>::TransactionManager::begin_transaction(conn)?
        }
        Err(error) => return Err(error.into()),
    }
    match work(conn) {
        Ok(value) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            <DbConn as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(error)
        }
    }
}

/// Serialises the transactions that name the same lock until each ends: a PostgreSQL
/// transaction-scoped advisory lock on the name's hash. SQLite's write transactions are serial
/// already, so there it does nothing.
pub fn lock_name_until_commit(conn: &mut DbConn, name: &str) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(name)
            .execute(pg)?;
    }
    Ok(())
}

/// Begins a transaction that ends only with [`end_transaction`], for work that spans several
/// calls (a request's handler and its stored answer). On SQLite it holds the write lock from
/// the start, taking its turn in this process's queue of writers like [`write_transaction`];
/// the queue's turn ends once the lock is held, and the writers after it wait in SQLite's busy
/// handler until this transaction ends.
pub fn begin_write_transaction(conn: &mut DbConn) -> diesel::QueryResult<()> {
    match conn {
        DbConn::Sqlite(sqlite) => {
            let _writer_turn = SQLITE_WRITER.lock().unwrap_or_else(PoisonError::into_inner);
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        }
        DbConn::Pg(pg) => AnsiTransactionManager::begin_transaction_sql(pg, "BEGIN"),
    }
}

/// Whether a transaction is open on the connection.
pub fn in_transaction(conn: &mut DbConn) -> bool {
    let depth = match conn {
        DbConn::Sqlite(sqlite) => AnsiTransactionManager::transaction_manager_status_mut(sqlite).transaction_depth(),
        DbConn::Pg(pg) => AnsiTransactionManager::transaction_manager_status_mut(pg).transaction_depth(),
    };
    depth.is_ok_and(|depth| depth.is_some())
}

/// Commits or rolls back what [`begin_write_transaction`] began.
pub fn end_transaction(conn: &mut DbConn, commit: bool) -> diesel::QueryResult<()> {
    if commit {
        <DbConn as Connection>::TransactionManager::commit_transaction(conn)
    } else {
        <DbConn as Connection>::TransactionManager::rollback_transaction(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_timeout_is_added_once() {
        assert_eq!(
            with_connect_timeout("postgres://u@h:5432/db"),
            "postgres://u@h:5432/db?connect_timeout=5"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?connect_timeout=1"),
            "postgres://u@h/db?connect_timeout=1"
        );
    }

    #[test]
    fn sqlite_connections_enforce_foreign_keys_and_use_wal() {
        let dir = tempfile::tempdir().unwrap();
        let target = DatabaseTarget::Sqlite {
            path: dir.path().join("nested/db.sqlite"),
        };
        let mut conn = open_connection(&target).unwrap();
        #[derive(QueryableByName)]
        struct Pragma {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        let fk: Pragma = diesel::sql_query("SELECT CAST(foreign_keys AS TEXT) AS value FROM pragma_foreign_keys")
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(fk.value, "1");
        let mode: Pragma = diesel::sql_query("SELECT journal_mode AS value FROM pragma_journal_mode")
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(mode.value, "wal");
    }
}
