//! What every handler may reach (the pool, the settings, the keys, the clock), and how a
//! request runs its database work: off the async workers, joined to the request's transaction
//! when the idempotency middleware holds one.

use std::sync::Arc;

use actix_web::web;
use chrono::NaiveDateTime;
use tokio::sync::Notify;

use crate::auth::password_threads::PasswordThreads;
use crate::auth::token::TokenKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{self, DbConn, DbPool};
use crate::error::{AppError, ErrorCode};
use crate::metrics::Metrics;
use crate::service::callers::{Caller, Credential};

/// What every handler may reach: the database pool and the settings.
pub struct AppState {
    pub pool: DbPool,
    pub settings: Arc<Settings>,
    pub tokens: TokenKeys,
    pub clock: Arc<dyn Clock>,
    /// Wakes this instance's mail sender after a change queued a message.
    pub mail_wake: Arc<Notify>,
    /// One argon2id run per core at a time (see [`AppState::password_work`]).
    pub password_threads: PasswordThreads,
    pub metrics: Arc<Metrics>,
    /// This instance's request counts between two writes (`service::rate_limits`).
    pub request_counter: Arc<crate::service::rate_limits::RequestCounter>,
}

impl AppState {
    pub fn now(&self) -> NaiveDateTime {
        self.clock.now()
    }

    /// Runs database work on the blocking thread pool, never on an async worker.
    ///
    /// Inside a request that holds a [`RequestTransaction`] (an idempotent POST), the work joins
    /// that transaction: the use case's own transaction becomes a savepoint, and its writes
    /// commit together with the stored answer, or not at all.
    pub async fn db<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        if let Ok(transaction) = REQUEST_TRANSACTION.try_with(Clone::clone) {
            return transaction.run(move |conn| work(conn)).await;
        }
        let pool = self.pool.clone();
        // Waiting counts from here: for a blocking thread first, then for a connection.
        let waited = WaitingForConnection::start(self.metrics.pool_waiting.clone());
        web::block(move || {
            let checked_out = pool.get();
            drop(waited);
            let mut conn = checked_out.map_err(|e| {
                tracing::warn!(error = %e, "no database connection");
                AppError::new(ErrorCode::ServiceUnavailable)
            })?;
            let result = work(&mut conn);
            if result.as_ref().is_err_and(AppError::is_internal) {
                conn.mark_suspect();
            }
            result
        })
        .await?
    }
}

impl AppState {
    /// Runs a use case as the request's caller, resolved in the same hop and on the same
    /// connection as the use case itself (401 `unauthorized` when the credential has ended).
    pub async fn db_as<T, F>(&self, credential: Credential, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn, Arc<Caller>) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.db(move |conn| {
            let caller = credential.resolve(conn)?;
            work(conn, caller)
        })
        .await
    }

    /// Runs a change as the request's caller at this moment: the credential is resolved in the
    /// same hop and on the same connection as the change (401 `unauthorized` when it has ended,
    /// before anything of the request is judged), and the use case gets the caller and the
    /// request's time.
    pub async fn act<T, F>(&self, credential: Credential, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn, &Caller, NaiveDateTime) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let now = self.now();
        self.db_as(credential, move |conn, caller| work(conn, &caller, now))
            .await
    }
}

/// One connection with an open transaction, which every database call of a request joins
/// (see [`AppState::db`]). Begun and ended by the idempotency middleware.
///
/// The connection lives on a thread of its own for the request. On the shared blocking
/// threads, SQLite writers waiting for this transaction's lock could hold every one of them,
/// and the request could then never run the work that ends it.
#[derive(Clone)]
pub struct RequestTransaction {
    jobs: std::sync::mpsc::Sender<TransactionJob>,
}

type TransactionJob = Box<dyn FnOnce(&mut db::PooledDbConn) + Send>;

tokio::task_local! {
    static REQUEST_TRANSACTION: RequestTransaction;
}

impl RequestTransaction {
    /// Checks out a connection and begins the transaction (on SQLite holding the write lock
    /// from the start, as every write transaction here does).
    pub async fn begin(state: &AppState) -> Result<RequestTransaction, AppError> {
        let pool = state.pool.clone();
        let (jobs, queue) = std::sync::mpsc::channel::<TransactionJob>();
        let (begun, started) = tokio::sync::oneshot::channel::<Result<(), AppError>>();
        std::thread::Builder::new()
            .name("request-transaction".into())
            .spawn(move || {
                let mut conn = match pool.get() {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "no database connection");
                        let _ = begun.send(Err(AppError::new(ErrorCode::ServiceUnavailable)));
                        return;
                    }
                };
                if let Err(e) = db::begin_write_transaction(&mut conn) {
                    let _ = begun.send(Err(e.into()));
                    return;
                }
                let _ = begun.send(Ok(()));
                for job in queue {
                    job(&mut conn);
                }
                // Every handle is gone without `finish` (the request was dropped): nothing of
                // it may stay.
                if db::in_transaction(&mut conn) && db::end_transaction(&mut conn, false).is_err() {
                    conn.mark_suspect();
                }
            })
            .map_err(|e| AppError::internal(anyhow::anyhow!("cannot start a transaction thread: {e}")))?;
        started
            .await
            .map_err(|_| AppError::internal(anyhow::anyhow!("the transaction thread ended early")))??;
        Ok(RequestTransaction { jobs })
    }

    /// Runs `future` (the rest of the request) with this transaction as its database.
    pub async fn scope<F: Future>(&self, future: F) -> F::Output {
        REQUEST_TRANSACTION.scope(self.clone(), future).await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut db::PooledDbConn) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: TransactionJob = Box::new(move |conn| {
            let _ = answer.send(work(conn));
        });
        self.jobs
            .send(job)
            .map_err(|_| AppError::internal(anyhow::anyhow!("the request's transaction has ended")))?;
        answered
            .await
            .map_err(|_| AppError::internal(anyhow::anyhow!("the request's transaction has ended")))?
    }

    /// Rolls everything of the request back. The connection goes back to the pool.
    pub async fn roll_back(self) -> Result<(), AppError> {
        self.finish(|_| Ok(()), |_| false).await
    }

    /// Runs `last` in the transaction, then commits when `commits` says so of its outcome,
    /// rolls back otherwise (and on any error). The connection goes back to the pool either way.
    pub async fn finish<T: Send + 'static>(
        self,
        last: impl FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        commits: fn(&T) -> bool,
    ) -> Result<T, AppError> {
        self.run(move |conn| {
            let outcome = last(conn);
            let ended = db::end_transaction(conn, outcome.as_ref().is_ok_and(commits));
            if ended.is_err() || outcome.as_ref().is_err_and(AppError::is_internal) {
                conn.mark_suspect();
            }
            ended?;
            outcome
        })
        .await
    }
}

/// One unit of database work on the waiting gauge: raised when it starts waiting, lowered once
/// when it has its connection (or failed to get one, or was dropped before it ran).
struct WaitingForConnection(prometheus::IntGauge);

impl WaitingForConnection {
    fn start(gauge: prometheus::IntGauge) -> Self {
        gauge.inc();
        WaitingForConnection(gauge)
    }
}

impl Drop for WaitingForConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl AppState {
    /// Runs a password hash or verification on the argon2 threads, at most one per core at once.
    ///
    /// Each argon2id run holds 19 MiB for tens of milliseconds. Without the gate a burst of
    /// sign-ins starts one per waiting request: memory grows with the burst while no sign-in
    /// finishes sooner, the cores being the limit either way. The others wait in the queue.
    pub async fn password_work<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.password_threads
            .run(work)
            .await
            .map_err(|_| AppError::internal(anyhow::anyhow!("a password check failed on its thread")))
    }
}
