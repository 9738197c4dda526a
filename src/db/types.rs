//! The domain's vocabulary as column values: rows hold `Role`, `UserType` and key sets, not
//! the text they are stored as (TEXT on both backends).
//!
//! A stored value that is not a known key is a deserialisation error, which reaches the log as
//! an internal error naming the column's value: never a silent fallback to some default, which
//! could, say, read an unknown role as an ordinary user and let a lock-out check pass.

use std::collections::BTreeSet;
use std::fmt;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

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
        let json = serde_json::to_string(&keys.iter().map(|k| k.key()).collect::<Vec<_>>()).expect("keys serialise");
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
        let keys: Vec<String> = serde_json::from_str(json).map_err(|e| format!("not a JSON array of keys: {e}"))?;
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
    }
}
