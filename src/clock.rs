//! The time, injected: handlers and the mail sender ask the application's clock, so tests can
//! move time forward (an invitation expiring) instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{Duration, NaiveDateTime};

pub trait Clock: Send + Sync {
    /// Now, in UTC, to the microsecond (what the database keeps).
    fn now(&self) -> NaiveDateTime;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        crate::db::now()
    }
}

/// The system time moved by an offset that tests can advance.
#[derive(Default)]
pub struct ShiftedClock {
    offset_micros: AtomicI64,
}

impl ShiftedClock {
    pub fn advance(&self, by: Duration) {
        self.offset_micros
            .fetch_add(by.num_microseconds().unwrap_or(i64::MAX), Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> NaiveDateTime {
        crate::db::now() + Duration::microseconds(self.offset_micros.load(Ordering::SeqCst))
    }
}
