//! Requests per caller and minute, counted so that the limit holds across instances without a
//! database write per request (the headers and the refusal are `http::rate_limit`).
//!
//! The first request of a caller in a minute on an instance counts in the database, in one
//! statement, and so learns what every instance counted so far. Later ones of that minute count
//! here, in [`RequestCounter`], and [`sync`] writes them to the database every
//! `RATE_LIMIT_SYNC_MS`, reading back the shared count. So the count an instance decides by
//! misses what the *other* instances admitted since their last completed write (SECURITY.md
//! says how much that can be). One instance alone is exact.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration as StdDuration;

use chrono::{Duration, NaiveDateTime};

use super::callers::{Caller, Credential};
use crate::clock::Clock;
use crate::db::{DbConn, DbPool, rate_limits};
use crate::error::AppError;

/// Counts one request of `subject` in the minute starting at `window_start` in the database;
/// returns how many it has made in that minute on every instance, this one included.
pub fn count_request(conn: &mut DbConn, subject: &str, window_start: NaiveDateTime) -> Result<u64, AppError> {
    let count = rate_limits::add_requests(conn, subject, window_start, 1)?;
    if count == 1 {
        // The first request of a new window: a good moment to forget old ones.
        rate_limits::prune(conn, window_start - Duration::minutes(2))?;
    }
    u64::try_from(count).map_err(|_| AppError::internal(anyhow::anyhow!("{subject}: negative request count {count}")))
}

/// The first request of a credential in a minute on this instance: resolves it (an access
/// token of a read comes unresolved) and, when it is current, counts the request as
/// [`count_request`] does. `None` for a credential that has ended: nothing is counted.
pub fn count_first_request(
    conn: &mut DbConn,
    credential: &Credential,
    subject: &str,
    window_start: NaiveDateTime,
) -> Result<Option<(u64, Arc<Caller>)>, AppError> {
    let Some(caller) = credential.current(conn)? else {
        return Ok(None);
    };
    Ok(Some((count_request(conn, subject, window_start)?, caller)))
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Window {
    subject: String,
    start: NaiveDateTime,
}

#[derive(Debug, Default)]
struct Tally {
    /// What the database counted, every instance, when this instance last wrote or read it.
    shared: u64,
    /// Counted here and being written now.
    in_flight: u64,
    /// Counted here since.
    unsent: u64,
}

/// This instance's counts of the minutes it has seen, between two writes to the database.
#[derive(Debug, Default)]
pub struct RequestCounter {
    windows: Mutex<HashMap<Window, Tally>>,
}

/// Requests of one caller in one minute, counted here and not yet in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsent {
    subject: String,
    start: NaiveDateTime,
    requests: u64,
}

impl RequestCounter {
    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<Window, Tally>> {
        // A panic while holding the lock leaves counts that are still counts.
        self.windows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a request here when this instance knows the caller's minute already; returns the
    /// count to decide by. `None`: the first here, to be counted in the database.
    pub fn count_here(&self, subject: &str, window_start: NaiveDateTime) -> Option<u64> {
        let mut windows = self.windows();
        let key = Window {
            subject: subject.to_string(),
            start: window_start,
        };
        let tally = windows.get_mut(&key)?;
        tally.unsent += 1;
        Some(tally.shared + tally.in_flight + tally.unsent)
    }

    /// What the database counted for the caller's minute, after this instance's first request
    /// in it (two first requests at once: the larger count is the later one).
    pub fn learn(&self, subject: &str, window_start: NaiveDateTime, shared: u64) {
        let key = Window {
            subject: subject.to_string(),
            start: window_start,
        };
        let mut windows = self.windows();
        let tally = windows.entry(key).or_default();
        tally.shared = tally.shared.max(shared);
    }

    /// Takes what is to be written, and forgets minutes that ended before `keep_from`.
    fn take_unsent(&self, keep_from: NaiveDateTime) -> Vec<Unsent> {
        let mut windows = self.windows();
        windows.retain(|window, _| window.start >= keep_from);
        windows
            .iter_mut()
            .filter(|(_, tally)| tally.unsent > 0)
            .map(|(window, tally)| {
                tally.in_flight += tally.unsent;
                let requests = std::mem::take(&mut tally.unsent);
                Unsent {
                    subject: window.subject.clone(),
                    start: window.start,
                    requests,
                }
            })
            .collect()
    }

    /// The database took `unsent` and now counts `shared` (or, on `None`, did not take it: it
    /// is counted again with the next write).
    fn written(&self, unsent: &Unsent, shared: Option<u64>) {
        let key = Window {
            subject: unsent.subject.clone(),
            start: unsent.start,
        };
        let mut windows = self.windows();
        let tally = windows.entry(key).or_default();
        tally.in_flight = tally.in_flight.saturating_sub(unsent.requests);
        match shared {
            Some(shared) => tally.shared = tally.shared.max(shared),
            None => tally.unsent += unsent.requests,
        }
    }
}

/// Writes this instance's unsent counts every `interval`, and reads back the shared ones.
pub async fn sync(pool: DbPool, counter: Arc<RequestCounter>, clock: Arc<dyn Clock>, interval: StdDuration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = clock.now();
        let batch = counter.take_unsent(now - Duration::minutes(2));
        if batch.is_empty() {
            continue;
        }
        let (pool, counter) = (pool.clone(), counter.clone());
        let written = tokio::task::spawn_blocking(move || {
            let mut conn = match pool.get() {
                Ok(conn) => conn,
                Err(error) => {
                    tracing::warn!(error = %error, "rate limit: no connection to write the counts; next interval");
                    batch.iter().for_each(|unsent| counter.written(unsent, None));
                    return;
                }
            };
            for unsent in &batch {
                let requests = i32::try_from(unsent.requests).unwrap_or(i32::MAX);
                match rate_limits::add_requests(&mut conn, &unsent.subject, unsent.start, requests) {
                    Ok(shared) => counter.written(unsent, u64::try_from(shared).ok()),
                    Err(error) => {
                        tracing::warn!(error = %error, "rate limit: writing a count failed; next interval");
                        counter.written(unsent, None);
                    }
                }
            }
        })
        .await;
        if let Err(error) = written {
            tracing::error!(error = %error, "rate limit: the writer stopped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(m: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(10, m, 0)
            .unwrap()
    }

    #[test]
    fn a_minute_seen_before_counts_here_on_top_of_the_shared_count() {
        let counter = RequestCounter::default();
        assert_eq!(
            counter.count_here("user:a", minute(1)),
            None,
            "the first goes to the database"
        );
        counter.learn("user:a", minute(1), 7);
        assert_eq!(counter.count_here("user:a", minute(1)), Some(8));
        assert_eq!(counter.count_here("user:a", minute(1)), Some(9));
        assert_eq!(counter.count_here("user:b", minute(1)), None);
        assert_eq!(
            counter.count_here("user:a", minute(2)),
            None,
            "a new minute starts afresh"
        );
    }

    #[test]
    fn a_write_keeps_the_count_and_a_failed_one_is_tried_again() {
        let counter = RequestCounter::default();
        counter.learn("user:a", minute(1), 1);
        counter.count_here("user:a", minute(1));
        counter.count_here("user:a", minute(1));
        let batch = counter.take_unsent(minute(0));
        assert_eq!(
            batch,
            vec![Unsent {
                subject: "user:a".into(),
                start: minute(1),
                requests: 2
            }]
        );
        // While the write is under way the count does not drop.
        assert_eq!(counter.count_here("user:a", minute(1)), Some(4));
        counter.written(&batch[0], None);
        let again = counter.take_unsent(minute(0));
        assert_eq!(again[0].requests, 3, "the failed write's requests and the new one");
        // The database counted other instances' requests too: 10 in all.
        counter.written(&again[0], Some(10));
        assert_eq!(counter.count_here("user:a", minute(1)), Some(11));
    }

    #[test]
    fn ended_minutes_are_forgotten() {
        let counter = RequestCounter::default();
        counter.learn("user:a", minute(1), 1);
        counter.take_unsent(minute(3));
        assert_eq!(counter.count_here("user:a", minute(1)), None);
    }
}
