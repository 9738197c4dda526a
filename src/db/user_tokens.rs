//! Storage of single-use links (invitations, password resets), by hash only.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::rows::{CallerRow, InvitationState, UserRow, UserTokenRow};
use super::schema::outbox_messages as outbox;
use super::schema::user_tokens as tokens;
use super::schema::users;

pub const INVITATION: &str = "invitation";
pub const PASSWORD_RESET: &str = "password_reset";

/// The columns of [`InvitationState`], from a link joined to its email (`LEFT JOIN outbox`).
macro_rules! invitation_state_columns {
    () => {
        (
            tokens::expires_at,
            tokens::used_at,
            tokens::sent_at,
            outbox::id.nullable().is_not_null(),
            outbox::sent_at.nullable(),
            outbox::failed_at.nullable(),
            outbox::cancelled_at.nullable(),
            outbox::delivery_error.nullable(),
            outbox::last_error.nullable(),
        )
    };
}

/// A user with their newest invitation that was not voided.
pub type UserWithInvitation = (UserRow, Option<InvitationState>);

pub fn insert(conn: &mut DbConn, row: &UserTokenRow) -> QueryResult<()> {
    diesel::insert_into(tokens::table).values(row).execute(conn).map(drop)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<UserTokenRow>> {
    tokens::table.find(id).first(conn).optional()
}

pub fn find_by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<UserTokenRow>> {
    tokens::table.filter(tokens::token_hash.eq(hash)).first(conn).optional()
}

/// Voids every open link of this purpose for the user (a new one replaces them).
pub fn revoke_open(
    conn: &mut DbConn,
    user_id: &str,
    purpose: &str,
    at: NaiveDateTime,
) -> QueryResult<Vec<UserTokenRow>> {
    let open: Vec<UserTokenRow> = tokens::table
        .filter(tokens::user_id.eq(user_id))
        .filter(tokens::purpose.eq(purpose))
        .filter(tokens::used_at.is_null())
        .filter(tokens::revoked_at.is_null())
        .load(conn)?;
    let ids: Vec<&String> = open.iter().map(|t| &t.id).collect();
    diesel::update(tokens::table.filter(tokens::id.eq_any(ids)))
        .set(tokens::revoked_at.eq(Some(at)))
        .execute(conn)?;
    Ok(open)
}

/// Records the hash of the token a message is about to carry; false when the link was
/// used or voided meanwhile (the message is then not sent).
pub fn set_hash_if_open(conn: &mut DbConn, id: &str, hash: &str) -> QueryResult<bool> {
    let updated = diesel::update(
        tokens::table
            .find(id)
            .filter(tokens::used_at.is_null())
            .filter(tokens::revoked_at.is_null()),
    )
    .set(tokens::token_hash.eq(Some(hash)))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Uses the link once: false when another request used or voided it first.
pub fn use_once(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(
        tokens::table
            .find(id)
            .filter(tokens::used_at.is_null())
            .filter(tokens::revoked_at.is_null()),
    )
    .set(tokens::used_at.eq(Some(at)))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn count_created_since(
    conn: &mut DbConn,
    user_id: &str,
    purpose: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let recent = tokens::table
        .filter(tokens::user_id.eq(user_id))
        .filter(tokens::purpose.eq(purpose))
        .filter(tokens::created_at.gt(since));
    let count = recent.count().get_result(conn)?;
    let oldest = recent.select(diesel::dsl::min(tokens::created_at)).first(conn)?;
    Ok((count, oldest))
}

/// The standing of the person calling (by the id their access token names) beside the user
/// they read, with that user's newest invitation as [`user_with_latest_invitation`] has it, in
/// one statement: on PostgreSQL `GET /users/{id}` checks the caller and reads its data in a
/// single round trip. `None` when no user has the caller's id; the inner `None` when no user
/// has `user_id`.
pub fn caller_beside_user_with_latest_invitation(
    conn: &mut DbConn,
    caller_id: &str,
    user_id: &str,
) -> QueryResult<Option<(CallerRow, Option<UserWithInvitation>)>> {
    let caller = diesel::alias!(users as caller);
    let query = caller
        .left_join(users::table.on(users::id.eq(user_id.to_string())))
        .left_join(tokens::table.on(open_invitation_of_user()))
        .left_join(outbox::table.on(outbox::id.nullable().eq(tokens::outbox_message_id)))
        .filter(caller.field(users::id).eq(caller_id))
        .order(tokens::created_at.desc())
        .select((
            caller.fields((
                users::id,
                users::role,
                users::corporation_code,
                users::token_version,
                users::deactivated_at,
            )),
            users::all_columns.nullable(),
            invitation_state_columns!().nullable(),
        ));
    type Row = (CallerRow, Option<UserRow>, Option<InvitationState>);
    let row: Option<Row> = super::native!(conn, c => query.first(c).optional()?);
    Ok(row.map(|(caller, user, invitation)| (caller, user.map(|user| (user, invitation)))))
}

/// The join condition of a user's invitations that were not voided.
type OpenInvitationOfUser = diesel::dsl::And<
    diesel::dsl::And<diesel::dsl::Eq<tokens::user_id, users::id>, diesel::dsl::Eq<tokens::purpose, &'static str>>,
    diesel::dsl::IsNull<tokens::revoked_at>,
>;

fn open_invitation_of_user() -> OpenInvitationOfUser {
    tokens::user_id
        .eq(users::id)
        .and(tokens::purpose.eq(INVITATION))
        .and(tokens::revoked_at.is_null())
}

/// A user with their newest invitation that was not voided and its email, in one query: on
/// PostgreSQL a round trip less for `GET /users/{id}` than the user and then
/// [`latest_invitations`].
pub fn user_with_latest_invitation(conn: &mut DbConn, user_id: &str) -> QueryResult<Option<UserWithInvitation>> {
    let query = users::table
        .left_join(tokens::table.on(open_invitation_of_user()))
        .left_join(outbox::table.on(outbox::id.nullable().eq(tokens::outbox_message_id)))
        .filter(users::id.eq(user_id))
        .order(tokens::created_at.desc())
        .select((users::all_columns, invitation_state_columns!().nullable()));
    Ok(super::native!(conn, c => query.first(c).optional()?))
}

/// The newest invitation of each of these users that was not voided, with its email.
pub fn latest_invitations(conn: &mut DbConn, user_ids: &[String]) -> QueryResult<HashMap<String, InvitationState>> {
    let invitations = tokens::table
        .left_join(outbox::table.on(outbox::id.nullable().eq(tokens::outbox_message_id)))
        .filter(tokens::purpose.eq(INVITATION))
        .filter(tokens::revoked_at.is_null())
        .order(tokens::created_at.asc())
        .select((tokens::user_id, invitation_state_columns!()));
    // Each of these is a statement the connection keeps prepared (see `sql::in_json_array`).
    let rows: Vec<(String, InvitationState)> = match (user_ids, conn) {
        ([user_id], conn) => super::native!(conn, c => invitations.filter(tokens::user_id.eq(user_id)).load(c)?),
        (_, DbConn::Pg(c)) => invitations.filter(tokens::user_id.eq_any(user_ids)).load(c)?,
        (_, DbConn::Sqlite(c)) => invitations
            .filter(super::sql::in_json_array(tokens::user_id, user_ids))
            .load(c)?,
    };
    // Oldest first: the newest of a user's invitations is the one the map keeps.
    Ok(rows.into_iter().collect())
}
