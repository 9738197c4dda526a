//! Failed sign-ins and the addresses accounts signed in from, kept in the database so that the
//! throttle holds across instances (the policy is `domain::sign_in`).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{login_failures, sign_in_clients};
use crate::domain::sign_in::{AttemptHistory, FAMILIAR_FOR_DAYS, PAIR_WINDOW_HOURS, WINDOW_MINUTES};

/// The keys one attempt is counted on (see `domain::sign_in`).
#[derive(Debug, Clone)]
pub struct AttemptKeys {
    /// The normalised address that was typed (also for unknown or invalid ones).
    pub account: String,
    /// The client's address group (`domain::sign_in::client_group`).
    pub client: String,
}

impl AttemptKeys {
    fn pair(&self) -> String {
        format!("pair:{}|{}", self.account, self.client)
    }
    fn unfamiliar(&self) -> String {
        format!("account:{}", self.account)
    }
    fn client(&self) -> String {
        format!("client:{}", self.client)
    }
}

/// Serialises attempts on the same keys until the end of the transaction. SQLite's write
/// transactions are serial already (`BEGIN IMMEDIATE`); on PostgreSQL two attempts would
/// otherwise both count the failures before either is written, and both go on.
fn lock_keys(conn: &mut DbConn, keys: &AttemptKeys) -> QueryResult<()> {
    let mut names = [keys.pair(), keys.unfamiliar(), keys.client()];
    // One order for every transaction, so that two never wait for each other's locks.
    names.sort();
    for name in names {
        super::lock_name_until_commit(conn, &name)?;
    }
    Ok(())
}

/// Locks the attempt's keys and reads what the throttle decides on. Call inside the write
/// transaction that then reserves the failure.
pub fn history(
    conn: &mut DbConn,
    keys: &AttemptKeys,
    user_id: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<AttemptHistory> {
    lock_keys(conn, keys)?;
    let window_start = now - Duration::minutes(WINDOW_MINUTES);
    let (pair_failures, pair_last_failure) = count_and(
        conn,
        &keys.pair(),
        now - Duration::hours(PAIR_WINDOW_HOURS),
        Edge::Newest,
    )?;
    let (unfamiliar_failures, unfamiliar_last_failure) =
        count_and(conn, &keys.unfamiliar(), window_start, Edge::Newest)?;
    let (client_failures, client_oldest_failure) = count_and(conn, &keys.client(), window_start, Edge::Oldest)?;
    let familiar = match user_id {
        Some(user_id) => diesel::select(diesel::dsl::exists(
            sign_in_clients::table
                .filter(sign_in_clients::user_id.eq(user_id))
                .filter(sign_in_clients::client.eq(&keys.client))
                .filter(sign_in_clients::last_success_at.gt(now - Duration::days(FAMILIAR_FOR_DAYS))),
        ))
        .get_result(conn)?,
        None => false,
    };
    Ok(AttemptHistory {
        pair_failures,
        pair_last_failure,
        unfamiliar_failures,
        unfamiliar_last_failure,
        client_failures,
        client_oldest_failure,
        familiar,
    })
}

enum Edge {
    Oldest,
    Newest,
}

fn count_and(
    conn: &mut DbConn,
    key: &str,
    since: NaiveDateTime,
    edge: Edge,
) -> QueryResult<(u32, Option<NaiveDateTime>)> {
    let recent = login_failures::table
        .filter(login_failures::throttle_key.eq(key))
        .filter(login_failures::failed_at.gt(since));
    let count: i64 = recent.count().get_result(conn)?;
    let at = match edge {
        Edge::Oldest => recent.select(diesel::dsl::min(login_failures::failed_at)).first(conn)?,
        Edge::Newest => recent.select(diesel::dsl::max(login_failures::failed_at)).first(conn)?,
    };
    Ok((u32::try_from(count).unwrap_or(u32::MAX), at))
}

/// Counts the attempt as a failure before its password is checked, so that parallel guesses
/// count as many; returns the rows to take back if the password turns out right.
pub fn reserve(conn: &mut DbConn, keys: &AttemptKeys, familiar: bool, at: NaiveDateTime) -> QueryResult<Vec<String>> {
    let mut counted = vec![keys.pair(), keys.client()];
    if !familiar {
        counted.push(keys.unfamiliar());
    }
    counted
        .into_iter()
        .map(|key| count_row(conn, &key, &keys.account, at))
        .collect()
}

/// One counted row of `key` for `account`; its id.
fn count_row(conn: &mut DbConn, key: &str, account: &str, at: NaiveDateTime) -> QueryResult<String> {
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::id.eq(&id),
            login_failures::throttle_key.eq(key),
            login_failures::failed_at.eq(at),
            login_failures::account.eq(account),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Takes back a reservation: the password was right, so the attempt was no failure.
pub fn release(conn: &mut DbConn, ids: &[String]) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::id.eq_any(ids)))
        .execute(conn)
        .map(drop)
}

/// Forgets every failure of an account (its owner proved themselves by mail), from any
/// address. The addresses' own counts of them go too: they were this account's.
pub fn clear_account(conn: &mut DbConn, account: &str) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::account.eq(account))).execute(conn)
}

/// Notes that the user signed in from this address: it is familiar for 30 days.
pub fn remember_client(conn: &mut DbConn, user_id: &str, client: &str, at: NaiveDateTime) -> QueryResult<()> {
    let insert = diesel::insert_into(sign_in_clients::table).values((
        sign_in_clients::user_id.eq(user_id),
        sign_in_clients::client.eq(client),
        sign_in_clients::last_success_at.eq(at),
    ));
    let refresh = sign_in_clients::last_success_at.eq(at);
    match conn {
        DbConn::Pg(pg) => insert
            .on_conflict((sign_in_clients::user_id, sign_in_clients::client))
            .do_update()
            .set(refresh)
            .execute(pg)
            .map(drop),
        DbConn::Sqlite(sqlite) => insert
            .on_conflict((sign_in_clients::user_id, sign_in_clients::client))
            .do_update()
            .set(refresh)
            .execute(sqlite)
            .map(drop),
    }
}

/// Counts a password-reset request of a client address; false (and nothing counted) when the
/// address made `max` of them within `window` already.
pub fn count_reset_request(
    conn: &mut DbConn,
    client: &str,
    account: &str,
    now: NaiveDateTime,
    max: i64,
    window: Duration,
) -> QueryResult<bool> {
    let key = format!("reset:{client}");
    super::lock_name_until_commit(conn, &key)?;
    let (count, _) = count_and(conn, &key, now - window, Edge::Newest)?;
    if i64::from(count) >= max {
        return Ok(false);
    }
    count_row(conn, &key, account, now)?;
    Ok(true)
}

/// Forgets failures older than the longest window, so the table stays small.
pub fn prune(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(now - Duration::hours(PAIR_WINDOW_HOURS))))
        .execute(conn)
}
