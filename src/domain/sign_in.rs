//! Sign-in throttling: when an attempt may go on to the password check at all.
//!
//! Designed against two attacks at once (SECURITY.md, "Sign-in throttling"):
//! - someone guessing one account's password, from one address or many;
//! - a stranger who knows only an email address and tries to keep its owner out.
//!
//! and for one crowd: an office of a few hundred people behind one address, each with a typo
//! now and then. Failures are counted on three keys, each with its own rule:
//!
//! - **the pair** (account + client address): five failures are free; after that each attempt
//!   waits a delay that doubles with every further failure, up to an hour. This is the brake
//!   on one guesser, and it touches only that address's attempts for that account.
//! - **the account from unfamiliar addresses** (addresses it has not signed in from in the
//!   last 30 days): after ten such failures in 15 minutes, unfamiliar addresses wait one
//!   minute after the last of them. This is the brake on guessing from many addresses; it
//!   never touches the addresses the owner uses.
//! - **the client address**: after 100 failures in 15 minutes it may only sign in to
//!   accounts that know it. Colleagues who signed in from the office before are never
//!   refused because of the others' failures.
//!
//! A reset of the password or an accepted invitation clears the account's failures.

use chrono::{Duration, NaiveDateTime};
use std::net::IpAddr;

/// Failures of one pair that cost nothing; the next attempt after them waits.
pub const FREE_PAIR_FAILURES: u32 = 5;
/// The first wait of a pair, doubled with every failure after it.
pub const FIRST_PAIR_DELAY_SECONDS: i64 = 30;
/// The longest wait of a pair.
pub const MAX_PAIR_DELAY_SECONDS: i64 = 3600;
/// How long a pair's failures are remembered (the delay can grow within it).
pub const PAIR_WINDOW_HOURS: i64 = 24;

/// Failures from unfamiliar addresses after which unfamiliar addresses wait.
pub const UNFAMILIAR_ACCOUNT_FAILURES: u32 = 10;
/// How long unfamiliar addresses wait after the last unfamiliar failure.
pub const UNFAMILIAR_ACCOUNT_DELAY_SECONDS: i64 = 60;

/// Failures from one address after which it may sign in only to accounts that know it.
pub const CLIENT_FAILURES: u32 = 100;
/// The window of the account-wide and the address counts.
pub const WINDOW_MINUTES: i64 = 15;
/// How long a successful sign-in makes an address familiar to the account.
pub const FAMILIAR_FOR_DAYS: i64 = 30;

/// What is known about an attempt before its password is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptHistory {
    /// Failures of this account from this address within [`PAIR_WINDOW_HOURS`].
    pub pair_failures: u32,
    pub pair_last_failure: Option<NaiveDateTime>,
    /// Failures of this account from unfamiliar addresses within [`WINDOW_MINUTES`].
    pub unfamiliar_failures: u32,
    pub unfamiliar_last_failure: Option<NaiveDateTime>,
    /// Failures from this address, for any account, within [`WINDOW_MINUTES`].
    pub client_failures: u32,
    pub client_oldest_failure: Option<NaiveDateTime>,
    /// Whether the account signed in from this address within [`FAMILIAR_FOR_DAYS`].
    pub familiar: bool,
}

/// Why an attempt is refused before its password is checked, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttled {
    /// This address failed this account too often: the doubling delay.
    Pair { retry_after_seconds: u64 },
    /// This account failed from too many unfamiliar addresses.
    Account { retry_after_seconds: u64 },
    /// This address failed too often, and does not know this account.
    Client { retry_after_seconds: u64 },
}

impl Throttled {
    pub fn retry_after_seconds(self) -> u64 {
        match self {
            Throttled::Pair { retry_after_seconds }
            | Throttled::Account { retry_after_seconds }
            | Throttled::Client { retry_after_seconds } => retry_after_seconds,
        }
    }
}

/// The wait a pair owes after `failures` failures (none while they are free).
pub fn pair_delay(failures: u32) -> Option<Duration> {
    let beyond = failures.checked_sub(FREE_PAIR_FAILURES)?;
    let doubled = FIRST_PAIR_DELAY_SECONDS.saturating_mul(1_i64.checked_shl(beyond.min(30)).unwrap_or(i64::MAX));
    Some(Duration::seconds(doubled.min(MAX_PAIR_DELAY_SECONDS)))
}

/// Whether an attempt may have its password checked now. Checked before the password, so the
/// answer can never tell a right password from a wrong one.
pub fn check_attempt(history: &AttemptHistory, now: NaiveDateTime) -> Result<(), Throttled> {
    let wait_until = |last: Option<NaiveDateTime>, delay: Duration| {
        let until = last? + delay;
        (until > now).then(|| (until - now).num_seconds().max(1) as u64)
    };
    if let Some(retry_after_seconds) =
        pair_delay(history.pair_failures).and_then(|delay| wait_until(history.pair_last_failure, delay))
    {
        return Err(Throttled::Pair { retry_after_seconds });
    }
    if history.familiar {
        return Ok(());
    }
    if history.unfamiliar_failures >= UNFAMILIAR_ACCOUNT_FAILURES
        && let Some(retry_after_seconds) = wait_until(
            history.unfamiliar_last_failure,
            Duration::seconds(UNFAMILIAR_ACCOUNT_DELAY_SECONDS),
        )
    {
        return Err(Throttled::Account { retry_after_seconds });
    }
    if history.client_failures >= CLIENT_FAILURES {
        let retry_after_seconds =
            wait_until(history.client_oldest_failure, Duration::minutes(WINDOW_MINUTES)).unwrap_or(1);
        return Err(Throttled::Client { retry_after_seconds });
    }
    Ok(())
}

/// The address a throttle counts: an IPv4 address as it is, an IPv6 address by its /64 (one
/// household or office network is given a whole /64, and can pick any address in it).
pub fn client_group(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(minutes: i64) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
            + Duration::minutes(minutes)
    }

    #[test]
    fn five_failures_of_a_pair_are_free_then_the_delay_doubles_up_to_an_hour() {
        assert_eq!(pair_delay(0), None);
        assert_eq!(pair_delay(4), None);
        assert_eq!(pair_delay(5), Some(Duration::seconds(30)));
        assert_eq!(pair_delay(6), Some(Duration::seconds(60)));
        assert_eq!(pair_delay(7), Some(Duration::seconds(120)));
        assert_eq!(pair_delay(12), Some(Duration::seconds(3600)));
        assert_eq!(pair_delay(u32::MAX), Some(Duration::seconds(3600)));
    }

    #[test]
    fn a_pair_over_its_free_failures_waits_from_its_last_failure() {
        let history = AttemptHistory {
            pair_failures: 6,
            pair_last_failure: Some(at(0)),
            ..Default::default()
        };
        assert_eq!(
            check_attempt(&history, at(0)),
            Err(Throttled::Pair {
                retry_after_seconds: 60
            })
        );
        assert_eq!(check_attempt(&history, at(1)), Ok(()));
    }

    #[test]
    fn familiar_addresses_ignore_the_account_wide_and_the_address_counts() {
        let crowded = AttemptHistory {
            unfamiliar_failures: 500,
            unfamiliar_last_failure: Some(at(0)),
            client_failures: 5000,
            client_oldest_failure: Some(at(-1)),
            familiar: true,
            ..Default::default()
        };
        assert_eq!(check_attempt(&crowded, at(0)), Ok(()));
        let stranger = AttemptHistory {
            familiar: false,
            ..crowded
        };
        assert!(matches!(
            check_attempt(&stranger, at(0)),
            Err(Throttled::Account { .. })
        ));
    }

    #[test]
    fn an_unfamiliar_address_waits_at_most_a_minute_for_the_account_wide_count() {
        let history = AttemptHistory {
            unfamiliar_failures: UNFAMILIAR_ACCOUNT_FAILURES,
            unfamiliar_last_failure: Some(at(0)),
            ..Default::default()
        };
        assert_eq!(
            check_attempt(&history, at(0)),
            Err(Throttled::Account {
                retry_after_seconds: 60
            })
        );
        assert_eq!(check_attempt(&history, at(1)), Ok(()));
        let fewer = AttemptHistory {
            unfamiliar_failures: UNFAMILIAR_ACCOUNT_FAILURES - 1,
            ..history
        };
        assert_eq!(check_attempt(&fewer, at(0)), Ok(()));
    }

    #[test]
    fn an_office_address_refuses_nothing_below_a_hundred_failures() {
        let office = AttemptHistory {
            client_failures: CLIENT_FAILURES - 1,
            client_oldest_failure: Some(at(-10)),
            ..Default::default()
        };
        assert_eq!(check_attempt(&office, at(0)), Ok(()));
        let attacked = AttemptHistory {
            client_failures: CLIENT_FAILURES,
            ..office
        };
        assert_eq!(
            check_attempt(&attacked, at(0)),
            Err(Throttled::Client {
                retry_after_seconds: 300
            })
        );
    }

    #[test]
    fn ipv6_addresses_count_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_group(a), client_group(b));
        assert_ne!(client_group(a), client_group(other));
        assert_eq!(client_group("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(client_group("192.0.2.7".parse().unwrap()), "192.0.2.7");
    }
}
