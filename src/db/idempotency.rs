//! Storage of idempotency keys and the answers they replay.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::idempotency_keys as keys;
use super::users::is_unique_violation_of;

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = keys)]
pub struct IdempotencyRow {
    pub actor: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub status_code: Option<i32>,
    /// JSON object of the headers to replay (content type, location, ETag).
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    #[diesel(deserialize_as = super::types::StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::types::StoredTime)]
    pub expires_at: NaiveDateTime,
    /// The user the answer belongs to (the caller, or the service token's creator).
    pub user_id: Option<String>,
    /// Which request holds the claim; only it may complete the key.
    pub claim_id: Option<String>,
}

/// Claims the key for a first request; `Some(existing)` when another request has it.
pub fn claim(conn: &mut DbConn, row: &IdempotencyRow) -> QueryResult<Option<IdempotencyRow>> {
    match diesel::insert_into(keys::table).values(row).execute(conn) {
        Ok(_) => Ok(None),
        Err(error) if is_unique_violation_of(&error, "idempotency_keys_pkey", "idempotency_keys.") => keys::table
            .find((&row.actor, &row.idempotency_key))
            .first(conn)
            .optional(),
        Err(error) => Err(error),
    }
}

/// Whether a claim failed because its user is gone: deleted after their credential was
/// resolved. Its only reference is to `users`.
pub fn is_owner_gone(error: &diesel::result::Error) -> bool {
    super::users::is_foreign_key_violation_of(error, "idempotency_keys_user_id_fkey")
}

/// Stores the answer of the request holding the claim; false when another request holds it now.
pub fn complete(
    conn: &mut DbConn,
    actor: &str,
    key: &str,
    claim_id: &str,
    status: i32,
    headers: &str,
    body: &str,
) -> QueryResult<bool> {
    let updated = diesel::update(keys::table.find((actor, key)).filter(keys::claim_id.eq(claim_id)))
        .set((
            keys::status_code.eq(Some(status)),
            keys::response_headers.eq(Some(headers)),
            keys::response_body.eq(Some(body)),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Whether the key is held by anyone (a claim or an answer).
pub fn exists(conn: &mut DbConn, actor: &str, key: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(keys::table.find((actor, key)))).get_result(conn)
}

/// Frees a key: the first request failed on our side (a retry should act), or it expired.
pub fn release(conn: &mut DbConn, actor: &str, key: &str) -> QueryResult<()> {
    diesel::delete(keys::table.find((actor, key))).execute(conn).map(drop)
}

pub fn prune(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(keys::table.filter(keys::expires_at.lt(now))).execute(conn)
}

/// Stored answers that name this user (their id is in the body): a deleted user's personal data
/// goes with them, and a retry must not be told they were created after they were deleted. An
/// id is a UUID, so the text match finds no other user's answers; the table holds one day of
/// keys, so the scan is small.
pub fn delete_mentioning(conn: &mut DbConn, user_id: &str) -> QueryResult<usize> {
    let pattern = format!("%{}%", user_id.replace(['%', '_', '\\'], ""));
    diesel::delete(keys::table.filter(keys::response_body.like(pattern))).execute(conn)
}
