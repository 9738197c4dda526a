//! Storage of users: plain queries over `&mut DbConn`; rules live in the domain and services.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Bool, Text, Timestamp};

use super::DbConn;
use super::rows::{UserChanges, UserRow};
use super::schema::users;
use super::sql::KeptPrepared;
use crate::domain::user::{Role, UserType};
use crate::domain::user_list::{UserCursor, UserListQuery, UserSort};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Inserting failed because the address is taken (the unique index, rule 1), or otherwise.
#[derive(Debug)]
pub enum InsertUserError {
    EmailTaken,
    ExternalIdTaken,
    /// The contractor was deleted after it was read (the foreign key of `contractor_id`).
    ContractorGone,
    Database(DieselError),
}

impl From<DieselError> for InsertUserError {
    fn from(error: DieselError) -> Self {
        if is_unique_violation_of(&error, "users_email_key", "users.email") {
            InsertUserError::EmailTaken
        } else if is_external_id_violation(&error) {
            InsertUserError::ExternalIdTaken
        } else if is_foreign_key_violation_of(&error, "users_contractor_id_fkey") {
            InsertUserError::ContractorGone
        } else {
            InsertUserError::Database(error)
        }
    }
}

/// PostgreSQL names the violated index; SQLite names the column ("UNIQUE constraint failed: users.email").
/// Another user of the corporation has this external id already.
pub fn is_external_id_violation(error: &DieselError) -> bool {
    is_unique_violation_of(error, "users_corporation_external_id_key", "users.external_id")
}

pub fn is_unique_violation_of(error: &DieselError, index: &str, sqlite_column: &str) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            info.constraint_name() == Some(index) || info.message().contains(sqlite_column)
        }
        _ => false,
    }
}

/// PostgreSQL names the violated key. SQLite names none ("FOREIGN KEY constraint failed"), so
/// a caller uses this where only `constraint` can fail: on an insert of a user the contractor
/// is the only row that can be missing (the corporation was read in the same write transaction
/// and corporations are never deleted).
pub(super) fn is_foreign_key_violation_of(error: &DieselError, constraint: &str) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
            info.constraint_name().is_none_or(|name| name == constraint)
        }
        _ => false,
    }
}

pub fn insert(conn: &mut DbConn, row: &UserRow) -> Result<(), InsertUserError> {
    diesel::insert_into(users::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<UserRow>> {
    super::native!(conn, c => users::table.find(id).first(c).optional())
}

pub fn find_by_external_id(
    conn: &mut DbConn,
    corporation_code: &str,
    external_id: &str,
) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::corporation_code.eq(corporation_code))
        .filter(users::external_id.eq(external_id))
        .first(conn)
        .optional()
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<UserRow>> {
    users::table.filter(users::email.eq(email)).first(conn).optional()
}

/// The users with any of these addresses, in one query (a batch reads its items' at once).
pub fn find_by_emails(conn: &mut DbConn, emails: &[&str]) -> QueryResult<Vec<UserRow>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    users::table.filter(users::email.eq_any(emails)).load(conn)
}

/// The users of these corporations with any of these external ids, in one query; the caller
/// keeps the (corporation, external id) pairs it asked for.
pub fn find_by_external_ids(
    conn: &mut DbConn,
    corporation_codes: &[&str],
    external_ids: &[&str],
) -> QueryResult<Vec<UserRow>> {
    if corporation_codes.is_empty() || external_ids.is_empty() {
        return Ok(Vec::new());
    }
    users::table
        .filter(users::corporation_code.eq_any(corporation_codes))
        .filter(users::external_id.eq_any(external_ids))
        .load(conn)
}

/// Applies `changes` to the user `row` read, when their stored version is still the one read,
/// and answers the row as it is then (in the same statement); `None` when the version was
/// another. Every editable column is written (those `changes` leaves alone as `row` holds
/// them): one statement, kept prepared, whatever the edit.
pub fn update_if_version(conn: &mut DbConn, row: &UserRow, changes: &UserChanges) -> QueryResult<Option<UserRow>> {
    let target = users::table
        .filter(users::id.eq(&row.id))
        .filter(users::version.eq(row.version));
    let update = diesel::update(target)
        .set(changes.applied_to(row))
        .returning(users::all_columns);
    super::native!(conn, c => KeptPrepared(&update).get_result(c).optional())
}

/// The user's row, held until the transaction ends (on PostgreSQL; SQLite's write
/// transactions are serial already): the lock and the read in one statement.
pub fn find_for_update(conn: &mut DbConn, id: &str) -> QueryResult<Option<UserRow>> {
    match conn {
        DbConn::Pg(pg) => users::table.find(id).for_update().first(pg).optional(),
        DbConn::Sqlite(_) => find(conn, id),
    }
}

/// Holds the user's row until the transaction ends, so that counts about the user (the
/// day's invitations, the reset interval) are read and acted on by one request at a time.
/// SQLite's write transactions are serial already.
pub fn lock(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        users::table
            .find(id)
            .select(users::id)
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

/// Sets `last_login_at`; the version (the ETag) moves with it, as the user's view changed.
pub fn record_login(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::last_login_at.eq(Some(at)), users::version.eq(users::version + 1)))
        .execute(conn)?;
    Ok(())
}

/// Raises the version (the ETag) of a user whose view changed without an edit of the user
/// (an invitation sent or accepted), so that a stale `If-Match` answers 412.
pub fn touch_version(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::version.eq(users::version + 1))
        .execute(conn)
        .map(drop)
}

/// As [`touch_version`], for every user of a contractor (its name or settings in force changed,
/// which their view shows as `contractor`, `excel_download` and `report_settings`).
pub fn touch_versions_of_contractor(conn: &mut DbConn, contractor_id: &str) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::contractor_id.eq(contractor_id)))
        .set(users::version.eq(users::version + 1))
        .execute(conn)
}

/// Sets a new password and raises the token version, so every earlier access token stops working.
pub fn set_password(conn: &mut DbConn, id: &str, password_hash: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(Some(password_hash)),
            users::token_version.eq(users::token_version + 1),
            users::version.eq(users::version + 1),
            users::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    Ok(diesel::delete(users::table.find(id)).execute(conn)? == 1)
}

/// Active main users of a corporation other than `excluding` (rule 5: a deactivated main user
/// manages nobody, so does not count).
pub fn count_other_active_main_users(conn: &mut DbConn, corporation_code: &str, excluding: &str) -> QueryResult<i64> {
    users::table
        .filter(users::corporation_code.eq(corporation_code))
        .filter(users::role.eq(Role::MainUser))
        .filter(users::deactivated_at.is_null())
        .filter(users::id.ne(excluding))
        .count()
        .get_result(conn)
}

pub fn any_kwh_admin(conn: &mut DbConn) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(users::table.filter(users::role.eq(Role::KwhAdmin)))).get_result(conn)
}

/// `(column, users.id) > (key, id)` as a filter; `column` is one of ours, never input.
macro_rules! after_text {
    ($column:literal, $key:expr, $id:expr) => {
        sql::<Bool>(concat!("(", $column, ", users.id) > ("))
            .bind::<Text, _>($key.clone())
            .sql(", ")
            .bind::<Text, _>($id.clone())
            .sql(")")
    };
}

/// The query of one page of [`list`], boxed for the backend of the connection it runs on.
///
/// A macro rather than a function generic over the backend: Diesel's bounds for that would be
/// longer than the query. Through the multi-backend connection a boxed query is written out as
/// SQL twice per call (once to collect its binds, once as the statement cache's key); on the
/// backend's own connection, once (5% of the instructions of a page, BENCHMARKS.md session 9).
macro_rules! page_query {
    ($query:expr) => {{
        let query: &UserListQuery = $query;
        let mut select = users::table.into_boxed();
        if let Some(code) = &query.corporation_code {
            select = select.filter(users::corporation_code.eq(code.as_str().to_string()));
        }
        if let Some(user_type) = query.user_type {
            select = select.filter(users::user_type.eq(user_type));
        }
        if let Some(role) = query.role {
            select = select.filter(users::role.eq(role));
        }
        if let Some(contractor_id) = &query.contractor_id {
            select = select.filter(users::contractor_id.eq(contractor_id.clone()));
        }
        select = match query.active {
            Some(true) => select.filter(users::deactivated_at.is_null()),
            Some(false) => select.filter(users::deactivated_at.is_not_null()),
            None => select,
        };
        if let Some(text) = &query.text {
            let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
            select = select.filter(
                lower(users::first_name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(users::last_name).like(pattern.clone()).escape('\\'))
                    .or(users::email.like(pattern).escape('\\')),
            );
        }
        // After the cursor as a row-value comparison, which both backends answer with one seek
        // in the (key, id) index; the equivalent `key > k OR (key = k AND id > i)` made SQLite
        // walk the index from the start, so a deep page cost a multiple of the first.
        match (query.sort, &query.after) {
            (UserSort::LastName, Some(UserCursor::Text(key, id))) => {
                select = select.filter(after_text!("users.last_name", key, id));
            }
            (UserSort::Email, Some(UserCursor::Text(key, id))) => {
                select = select.filter(after_text!("users.email", key, id));
            }
            (UserSort::CreatedAt, Some(UserCursor::Time(key, id))) => {
                select = select.filter(
                    sql::<Bool>("(users.created_at, users.id) > (")
                        .bind::<Timestamp, _>(*key)
                        .sql(", ")
                        .bind::<Text, _>(id.clone())
                        .sql(")"),
                );
            }
            (UserSort::LastLoginAt, Some(UserCursor::OptionalTime(Some(key), id))) => {
                select = select.filter(
                    users::last_login_at
                        .lt(*key)
                        .or(users::last_login_at.eq(*key).and(users::id.gt(id.clone())))
                        .or(users::last_login_at.is_null()),
                );
            }
            (UserSort::LastLoginAt, Some(UserCursor::OptionalTime(None, id))) => {
                select = select.filter(users::last_login_at.is_null().and(users::id.gt(id.clone())));
            }
            _ => {}
        }
        select = match query.sort {
            UserSort::LastName => select.order((users::last_name.asc(), users::id.asc())),
            UserSort::Email => select.order((users::email.asc(), users::id.asc())),
            UserSort::CreatedAt => select.order((users::created_at.asc(), users::id.asc())),
            // PostgreSQL and SQLite place NULLs differently; ordering on IS NULL first makes
            // both put the users who never signed in last.
            UserSort::LastLoginAt => select.order((
                users::last_login_at.is_null().asc(),
                users::last_login_at.desc(),
                users::id.asc(),
            )),
        };
        // One row more than the page: it tells whether another page follows.
        select.limit(query.page_size as i64 + 1)
    }};
}

/// One page by keyset (never OFFSET), so a deep page costs what the first one does.
pub fn list(conn: &mut DbConn, query: &UserListQuery) -> QueryResult<Vec<UserRow>> {
    super::native!(conn, c => page_query!(query).load(c))
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A corporation's own staff (not its contractors' users), in the order SCIM pages them.
fn staff(corporation_code: &str) -> users::BoxedQuery<'static, super::MultiBackend> {
    users::table
        .filter(users::corporation_code.eq(corporation_code.to_string()))
        .filter(users::user_type.eq(UserType::Corporation))
        .into_boxed()
}

/// How many of its own staff a corporation has (SCIM's `totalResults`).
pub fn count_staff(conn: &mut DbConn, corporation_code: &str) -> QueryResult<i64> {
    staff(corporation_code).count().get_result(conn)
}

/// One page of a corporation's staff by position: SCIM pages by `startIndex`, so OFFSET it is.
pub fn staff_page(conn: &mut DbConn, corporation_code: &str, offset: usize, limit: usize) -> QueryResult<Vec<UserRow>> {
    staff(corporation_code)
        .order((users::created_at.asc(), users::id.asc()))
        .offset(i64::try_from(offset).unwrap_or(i64::MAX))
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .load(conn)
}

/// At most `limit` of a corporation's staff, for a filter evaluated outside the database.
pub fn all_staff(conn: &mut DbConn, corporation_code: &str, limit: usize) -> QueryResult<Vec<UserRow>> {
    staff_page(conn, corporation_code, 0, limit)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::NaiveDate;
    use diesel::sqlite::Sqlite;

    use super::*;
    use crate::db::types::KeySet;
    use crate::domain::user::{Access, Role, UserType};

    fn row() -> UserRow {
        let at = NaiveDate::from_ymd_opt(2024, 5, 7)
            .unwrap()
            .and_hms_opt(12, 19, 0)
            .unwrap();
        UserRow {
            id: "u1".into(),
            email: "jan@kwh001.example.nl".into(),
            user_type: UserType::Corporation,
            corporation_code: Some("KWH001".into()),
            contractor_id: None,
            first_name: "Jan".into(),
            last_name: "Jansen".into(),
            job_title: Some("Opzichter".into()),
            phone: None,
            remarks: Some("oud".into()),
            role: Role::User,
            access: KeySet::new(BTreeSet::from([Access::Klantvizier])),
            email_notifications: KeySet::new(BTreeSet::new()),
            excel_download: false,
            password_hash: None,
            token_version: 3,
            last_login_at: None,
            version: 7,
            created_at: at,
            updated_at: at,
            external_id: None,
            deactivated_at: None,
            display_name: None,
        }
    }

    /// The SQL of the edit's `SET` list (the rest of the statement is fixed), without its values.
    fn sql_of(row: &UserRow, changes: &UserChanges) -> String {
        let update = diesel::update(users::table).set(changes.applied_to(row));
        let text = diesel::debug_query::<Sqlite, _>(&update).to_string();
        text.split(" -- binds:").next().unwrap().to_string()
    }

    #[test]
    fn an_edit_writes_its_changes_over_the_row_as_read() {
        let row = row();
        let later = row.updated_at + chrono::Duration::minutes(5);
        let changes = UserChanges {
            first_name: Some("Johan".into()),
            job_title: Some(None),
            phone: Some(Some("0612345678".into())),
            role: Some(Role::MainUser),
            token_version: Some(4),
            version: Some(8),
            updated_at: Some(later),
            ..UserChanges::default()
        };
        let written = changes.applied_to(&row);
        assert_eq!((written.first_name, written.last_name), ("Johan", "Jansen"));
        assert_eq!(
            (written.job_title, written.phone, written.remarks),
            (None, Some("0612345678"), Some("oud"))
        );
        assert_eq!(
            (written.role, written.token_version, written.version),
            (Role::MainUser, 4, 8)
        );
        assert_eq!(written.updated_at, later);
        assert_eq!(written.access.keys(), row.access.keys());
        assert_eq!((written.excel_download, written.deactivated_at), (false, None));
    }

    // The statement is kept prepared under its text: a text that varied with the edit would
    // prepare again each time, and let callers grow every connection's cache.
    #[test]
    fn every_edit_writes_the_same_statement() {
        let row = row();
        let edits = [
            UserChanges::default(),
            UserChanges {
                first_name: Some("Johan".into()),
                ..UserChanges::default()
            },
            UserChanges {
                job_title: Some(None),
                external_id: Some(Some("HR-1".into())),
                ..UserChanges::default()
            },
            UserChanges {
                deactivated_at: Some(Some(row.updated_at)),
                token_version: Some(4),
                ..UserChanges::default()
            },
        ];
        let first = sql_of(&row, &edits[0]);
        assert!(first.starts_with("UPDATE `users` SET"), "{first}");
        for edit in &edits[1..] {
            assert_eq!(sql_of(&row, edit), first);
        }
    }
}
