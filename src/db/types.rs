//! The domain's vocabulary as column values: rows hold `Role`, `UserType` and key sets, not
//! the text they are stored as (TEXT on both backends).
//!
//! A stored value that is not a known key is a deserialisation error, which reaches the log as
//! an internal error naming the column's value: never a silent fallback to some default, which
//! could, say, read an unknown role as an ordinary user and let a lock-out check pass.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;

use super::MultiBackend;

use crate::domain::keyed::Keyed;
use crate::domain::report_settings::ApprovalStatus;
use crate::domain::user::{Role, TokenScope, UserType};

/// A keyed enum in a TEXT column, as its key.
macro_rules! key_column {
    ($($type:ident),+ $(,)?) => {$(
        const _: () = {
            // `foreign_derive`: the derives give `$type` the column impls it needs, while the
            // enum itself stays in the domain, free of Diesel.
            #[derive(diesel::AsExpression, diesel::FromSqlRow)]
            #[diesel(foreign_derive, sql_type = Text)]
            #[allow(dead_code)]
            struct Column($type);
        };

        impl<DB> FromSql<Text, DB> for $type
        where
            DB: Backend,
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let key = String::from_sql(bytes)?;
                $type::from_key(&key)
                    .ok_or_else(|| format!("unknown {} {key:?} stored", stringify!($type)).into())
            }
        }

        impl<DB> ToSql<Text, DB> for $type
        where
            DB: Backend,
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.key().to_sql(out)
            }
        }
    )+};
}

key_column!(UserType, Role, TokenScope, ApprovalStatus);

/// A set of keys in a TEXT column, as a JSON array in key order (`["klantvizier","mijn_kwh"]`).
///
/// The JSON is made once, when the set is made, so that writing the row can lend it to the
/// statement as both backends require.
#[derive(Clone, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct KeySet<T: Keyed> {
    keys: BTreeSet<T>,
    json: String,
}

impl<T: Keyed> KeySet<T> {
    pub fn new(keys: BTreeSet<T>) -> Self {
        // Keys are plain identifiers (the test below holds every key to that), so the array
        // is written without a JSON writer: this runs for every row read.
        let mut json = String::with_capacity(2 + keys.iter().map(|key| key.key().len() + 3).sum::<usize>());
        json.push('[');
        for (position, key) in keys.iter().enumerate() {
            if position > 0 {
                json.push(',');
            }
            json.push('"');
            json.push_str(key.key());
            json.push('"');
        }
        json.push(']');
        KeySet { keys, json }
    }

    pub fn keys(&self) -> &BTreeSet<T> {
        &self.keys
    }

    pub fn into_keys(self) -> BTreeSet<T> {
        self.keys
    }

    /// The keys as text, in order: what the API answers.
    pub fn to_strings(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.key().to_string()).collect()
    }

    fn parse(json: &str) -> Result<Self, String> {
        // Borrowed: keys are written without escapes. One written with them (by hand, never by
        // this service) cannot be borrowed, and is read as an owned string instead.
        let keys: Vec<Cow<str>> = match serde_json::from_str::<Vec<&str>>(json) {
            Ok(keys) => keys.into_iter().map(Cow::Borrowed).collect(),
            Err(_) => serde_json::from_str::<Vec<String>>(json)
                .map_err(|e| format!("not a JSON array of keys: {e}"))?
                .into_iter()
                .map(Cow::Owned)
                .collect(),
        };
        let keys = keys
            .iter()
            .map(|key| T::from_key(key).ok_or_else(|| format!("unknown key {key:?} stored")))
            .collect::<Result<BTreeSet<T>, String>>()?;
        Ok(KeySet::new(keys))
    }
}

impl<T: Keyed> From<BTreeSet<T>> for KeySet<T> {
    fn from(keys: BTreeSet<T>) -> Self {
        KeySet::new(keys)
    }
}

impl<T: Keyed> std::ops::Deref for KeySet<T> {
    type Target = BTreeSet<T>;
    fn deref(&self) -> &BTreeSet<T> {
        &self.keys
    }
}

impl<T: Keyed> fmt::Debug for KeySet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(&self.keys).finish()
    }
}

impl<T: Keyed, DB> FromSql<Text, DB> for KeySet<T>
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let json = String::from_sql(bytes)?;
        Ok(KeySet::parse(&json)?)
    }
}

impl<T: Keyed, DB> ToSql<Text, DB> for KeySet<T>
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.json.as_str().to_sql(out)
    }
}

/// A `Timestamp` column as rows read it: `#[diesel(deserialize_as = StoredTime)]` on a
/// `NaiveDateTime` field.
///
/// SQLite keeps a timestamp as text (`2026-12-06 10:56:57.201415`, as Diesel writes it), and
/// Diesel reads it back with chrono's `parse_from_str`, which interprets its format string
/// anew each time: a tenth of the instructions of a page of 50 users (BENCHMARKS.md, session
/// 9). That shape is read here digit by digit; any other text SQLite may hold (a time written
/// by SQL, a Julian day number) still goes to Diesel. PostgreSQL's binary timestamps are
/// Diesel's as before.
#[derive(diesel::FromSqlRow)]
pub struct StoredTime(NaiveDateTime);

/// A `Nullable<Timestamp>` column as rows read it: `#[diesel(deserialize_as = StoredTimeOrNull)]`
/// on an `Option<NaiveDateTime>` field.
#[derive(diesel::FromSqlRow)]
pub struct StoredTimeOrNull(Option<NaiveDateTime>);

impl From<StoredTime> for NaiveDateTime {
    fn from(time: StoredTime) -> NaiveDateTime {
        time.0
    }
}

impl From<StoredTimeOrNull> for Option<NaiveDateTime> {
    fn from(time: StoredTimeOrNull) -> Option<NaiveDateTime> {
        time.0
    }
}

impl FromSql<Timestamp, Sqlite> for StoredTime {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if let Some(time) = parse_sqlite_timestamp(value.read_text()) {
            return Ok(StoredTime(time));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(StoredTime)
    }
}

impl FromSql<Timestamp, Pg> for StoredTime {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(StoredTime)
    }
}

impl FromSql<Timestamp, MultiBackend> for StoredTime {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl<DB> FromSql<Nullable<Timestamp>, DB> for StoredTimeOrNull
where
    DB: Backend,
    StoredTime: FromSql<Timestamp, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        StoredTime::from_sql(value).map(|time| StoredTimeOrNull(Some(time.0)))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(value) => Self::from_sql(value),
            None => Ok(StoredTimeOrNull(None)),
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS`, with an optional fraction of 1 to 9 digits; `None` for anything else.
fn parse_sqlite_timestamp(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || [bytes[4], bytes[7], bytes[10], bytes[13], bytes[16]] != *b"-- ::" {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes[range].iter().try_fold(0u32, |sum, &digit| {
            digit.is_ascii_digit().then(|| sum * 10 + u32::from(digit - b'0'))
        })
    };
    let nanos = match &bytes[19..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            number(20..bytes.len())? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(number(0..4)?).ok()?, number(5..7)?, number(8..10)?)?;
    date.and_hms_nano_opt(number(11..13)?, number(14..16)?, number(17..19)?, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::Access;

    #[test]
    fn a_key_set_reads_back_what_it_wrote_and_refuses_unknown_keys() {
        let set = KeySet::new(BTreeSet::from([Access::Klantvizier, Access::MijnKwh]));
        let again = KeySet::<Access>::parse(&set.json).unwrap();
        assert_eq!(again, set);
        assert!(KeySet::<Access>::parse(r#"["klantvizier","admin"]"#).is_err());
        assert!(KeySet::<Access>::parse("not json").is_err());
        assert_eq!(KeySet::<Access>::parse("[]").unwrap().len(), 0);
        // Written by hand with escapes or spaces: read all the same.
        let escaped = KeySet::<Access>::parse(r#"[ "klant\u0076izier", "mijn_kwh" ]"#).unwrap();
        assert_eq!(escaped, set);
    }

    #[test]
    fn a_stored_sqlite_timestamp_reads_as_chrono_reads_it() {
        for text in [
            "2026-12-06 10:56:57.201415",
            "2026-12-06 10:56:57",
            "2026-12-06 10:56:57.2",
            "2026-12-06 10:56:57.123456789",
            "0001-01-01 00:00:00",
            "9999-12-31 23:59:59.999999",
            "2024-02-29 12:00:00.000001",
        ] {
            let chrono = NaiveDateTime::parse_from_str(text, "%F %T%.f").unwrap();
            assert_eq!(parse_sqlite_timestamp(text), Some(chrono), "{text}");
        }
        // Other shapes and impossible dates are left to Diesel, which refuses or reads them.
        for text in [
            "2026-12-06T10:56:57",
            "2026-12-06 10:56:57.",
            "2026-12-06 10:56:57.1234567890",
            "2026-12-06 10:56:57+00:00",
            "2023-02-29 12:00:00",
            "2026-13-06 10:56:57",
            "2026-12-06 24:00:00",
            "2026-12-06 10:5x:57",
            "2460650.5",
            "",
            "2026-12-06 10:56:57.+1",
        ] {
            assert_eq!(parse_sqlite_timestamp(text), None, "{text}");
        }
    }

    #[test]
    fn every_key_is_written_as_json_would_write_it() {
        use crate::domain::user::Notification;
        let all = KeySet::new(Access::ALL.iter().copied().collect());
        let expected = serde_json::to_string(&Access::ALL.iter().map(|a| a.key()).collect::<Vec<_>>()).unwrap();
        assert_eq!(all.json, expected);
        let all = KeySet::new(Notification::ALL.iter().copied().collect());
        let expected = serde_json::to_string(&Notification::ALL.iter().map(|n| n.key()).collect::<Vec<_>>()).unwrap();
        assert_eq!(all.json, expected);
        assert_eq!(KeySet::<Access>::new(BTreeSet::new()).json, "[]");
    }
}
