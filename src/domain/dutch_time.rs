//! Times as people in the Netherlands read them: Amsterdam's wall clock, in the seed's format
//! ("dinsdag 07 mei 2024, 14:19"). The API keeps RFC 3339 UTC; only what a person reads outside
//! it (mail texts, spreadsheet cells) goes through here.

use chrono::{Datelike, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Europe::Amsterdam;

const WEEKDAYS: [&str; 7] = [
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
];
const MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

/// A UTC instant (as the database keeps it) on Amsterdam's clock, written as the Mijn KWH
/// screens write it. The time-zone database decides CET or CEST, so the daylight-saving
/// changes on the last Sundays of March and October fall where they really do.
pub fn dutch_date_time(utc: NaiveDateTime) -> String {
    let local = Amsterdam.from_utc_datetime(&utc);
    format!(
        "{} {:02} {} {}, {:02}:{:02}",
        WEEKDAYS[local.weekday().num_days_from_monday() as usize],
        local.day(),
        MONTHS[local.month0() as usize],
        local.year(),
        local.hour(),
        local.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    #[test]
    fn the_seeds_example_is_summer_time_two_hours_ahead_of_utc() {
        assert_eq!(dutch_date_time(utc(2024, 5, 7, 12, 19)), "dinsdag 07 mei 2024, 14:19");
    }

    #[test]
    fn winter_time_is_one_hour_ahead_of_utc() {
        assert_eq!(
            dutch_date_time(utc(2026, 12, 8, 8, 27)),
            "dinsdag 08 december 2026, 09:27"
        );
    }

    #[test]
    fn clocks_go_forward_on_the_last_sunday_of_march() {
        // 29 March 2026: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
        assert_eq!(dutch_date_time(utc(2026, 3, 29, 0, 59)), "zondag 29 maart 2026, 01:59");
        assert_eq!(dutch_date_time(utc(2026, 3, 29, 1, 0)), "zondag 29 maart 2026, 03:00");
    }

    #[test]
    fn clocks_go_back_on_the_last_sunday_of_october() {
        // 25 October 2026: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:30 happens twice.
        assert_eq!(
            dutch_date_time(utc(2026, 10, 25, 0, 30)),
            "zondag 25 oktober 2026, 02:30"
        );
        assert_eq!(
            dutch_date_time(utc(2026, 10, 25, 1, 30)),
            "zondag 25 oktober 2026, 02:30"
        );
        assert_eq!(
            dutch_date_time(utc(2026, 10, 25, 2, 0)),
            "zondag 25 oktober 2026, 03:00"
        );
    }

    #[test]
    fn the_local_date_can_differ_from_the_utc_date() {
        // 23:30 UTC on New Year's Eve is already the next year in Amsterdam.
        assert_eq!(
            dutch_date_time(utc(2026, 12, 31, 23, 30)),
            "vrijdag 01 januari 2027, 00:30"
        );
    }
}
