//! The append-only audit log.

use diesel::prelude::*;

use super::DbConn;
use super::rows::AuditEventRow;
use super::schema::audit_events;

pub fn append(conn: &mut DbConn, event: &AuditEventRow) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values(event)
        .execute(conn)
        .map(drop)
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub corporation_code: Option<String>,
    pub target_id: Option<String>,
    pub action: Option<String>,
    /// The id of the last event of the previous page; ids are UUIDv7, ordered by time.
    pub before_id: Option<String>,
    pub limit: i64,
}

/// Newest first, by keyset on the time-ordered id.
pub fn list(conn: &mut DbConn, query: &AuditQuery) -> QueryResult<Vec<AuditEventRow>> {
    let mut select = audit_events::table.into_boxed::<super::MultiBackend>();
    if let Some(code) = &query.corporation_code {
        select = select.filter(audit_events::corporation_code.eq(code.clone()));
    }
    if let Some(target) = &query.target_id {
        select = select.filter(audit_events::target_id.eq(target.clone()));
    }
    if let Some(action) = &query.action {
        select = select.filter(audit_events::action.eq(action.clone()));
    }
    if let Some(before) = &query.before_id {
        select = select.filter(audit_events::id.lt(before.clone()));
    }
    select.order(audit_events::id.desc()).limit(query.limit).load(conn)
}

/// Who created a user, by the audit log's `user.created` event (the log is append-only, so
/// this cannot be rewritten later; `None` for the first administrator and the demo).
pub fn creator_of_user(conn: &mut DbConn, user_id: &str) -> QueryResult<Option<String>> {
    audit_events::table
        .filter(audit_events::target_id.eq(user_id))
        .filter(audit_events::action.eq("user.created"))
        .select(audit_events::actor_id)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}

/// The accounts that created this user, its creator's creator and so on, nearest first (at most
/// `depth` of them; the first administrator ends every chain).
pub fn creators_of_user(conn: &mut DbConn, user_id: &str, depth: usize) -> QueryResult<Vec<String>> {
    let mut chain = Vec::new();
    let mut current = user_id.to_string();
    while chain.len() < depth {
        match creator_of_user(conn, &current)? {
            Some(creator) if !chain.contains(&creator) && creator != user_id => {
                chain.push(creator.clone());
                current = creator;
            }
            _ => break,
        }
    }
    Ok(chain)
}
