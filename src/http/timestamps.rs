//! Instants in answers, as RFC 3339 in UTC: `2026-12-06T10:56:57.201415Z`.
//!
//! The same text as chrono's own `Serialize` (`SecondsFormat::AutoSi`: no fraction, or 3, 6
//! or 9 digits, whichever is exact), written straight into the answer. chrono's goes through
//! `fmt` piece by piece, and serde_json escapes each piece on its own: a tenth of the
//! instructions of a page of 50 users went to its timestamps (BENCHMARKS.md, session 9).
//! Fields name these with `#[serde(serialize_with = "...")]`; the OpenAPI document is unchanged.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::Serializer;

/// `serialize_with` for a `DateTime<Utc>` field.
pub fn rfc3339<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut text = [0u8; 30];
    match write(at, &mut text) {
        // Only ASCII digits and separators were written.
        Some(length) => serializer.serialize_str(std::str::from_utf8(&text[..length]).unwrap_or_default()),
        None => serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    }
}

/// `serialize_with` for an `Option<DateTime<Utc>>` field: `null` when absent.
pub fn rfc3339_or_null<S: Serializer>(at: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// Writes `at` and returns its length; `None` for what chrono writes in another shape (years
/// outside 0000–9999, a leap second), which the caller leaves to chrono.
fn write(at: &DateTime<Utc>, out: &mut [u8; 30]) -> Option<usize> {
    let year = u32::try_from(at.year()).ok().filter(|year| *year <= 9999)?;
    let nanos = at.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    put(&mut out[0..4], year);
    out[4] = b'-';
    put(&mut out[5..7], at.month());
    out[7] = b'-';
    put(&mut out[8..10], at.day());
    out[10] = b'T';
    put(&mut out[11..13], at.hour());
    out[13] = b':';
    put(&mut out[14..16], at.minute());
    out[16] = b':';
    put(&mut out[17..19], at.second());
    let mut length = 19;
    let (digits, value) = match nanos {
        0 => (0, 0),
        _ if nanos.is_multiple_of(1_000_000) => (3, nanos / 1_000_000),
        _ if nanos.is_multiple_of(1_000) => (6, nanos / 1_000),
        _ => (9, nanos),
    };
    if digits > 0 {
        out[length] = b'.';
        put(&mut out[length + 1..length + 1 + digits], value);
        length += 1 + digits;
    }
    out[length] = b'Z';
    Some(length + 1)
}

/// `value` in decimal, zero-padded to the width of `out`.
fn put(out: &mut [u8], mut value: u32) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn ours(at: &DateTime<Utc>) -> String {
        rfc3339(at, serde_json::value::Serializer)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    fn chronos(at: &DateTime<Utc>) -> String {
        serde_json::to_value(at).unwrap().as_str().unwrap().to_string()
    }

    #[test]
    fn writes_what_chrono_writes_for_every_precision() {
        let second = Utc.with_ymd_and_hms(2026, 12, 6, 10, 56, 57).unwrap();
        for nanos in [
            0,
            1,
            7,
            1_000,
            201_415_000,
            201_000_000,
            999_999_999,
            100,
            120_000,
            5_000_000,
        ] {
            let at = second + chrono::Duration::nanoseconds(nanos);
            assert_eq!(ours(&at), chronos(&at), "{nanos} ns");
        }
        assert_eq!(ours(&second), "2026-12-06T10:56:57Z");
        let micros = second + chrono::Duration::microseconds(201_415);
        assert_eq!(ours(&micros), "2026-12-06T10:56:57.201415Z");
    }

    #[test]
    fn writes_what_chrono_writes_across_the_calendar() {
        // A day's worth of odd instants every 97 days from year 1 to 9999, and the edges.
        let mut at = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
        let step = chrono::Duration::days(97) + chrono::Duration::seconds(3_723) + chrono::Duration::microseconds(17);
        while at < end {
            assert_eq!(ours(&at), chronos(&at));
            at += step;
        }
        assert_eq!(ours(&end), chronos(&end));
    }

    #[test]
    fn leaves_other_shapes_to_chrono() {
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        let before = NaiveDate::from_ymd_opt(-1, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap()
            .and_utc();
        for at in [far, before, leap] {
            assert_eq!(ours(&at), chronos(&at));
        }
        assert_eq!(
            rfc3339_or_null(&None, serde_json::value::Serializer).unwrap(),
            serde_json::Value::Null
        );
    }
}
