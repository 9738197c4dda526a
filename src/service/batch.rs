//! Bulk provisioning: many users created or updated in one call, each item on its own.
//!
//! Items are independent on purpose: an HR export with one bad row should still provision the
//! other 499, and the caller learns per item what happened. Each item runs in its own
//! savepoint with the same rules as the single calls, inside one transaction per call; only a
//! failure of the service itself (database gone) undoes the whole call, which is then safe to
//! retry. A dry run runs every item the same way and rolls the transaction back, so its
//! answers are the real ones.
//!
//! The users the items name are read once per call, by address and by external id, not twice
//! per item ([`KnownUsers`]); an item that meets a change another request made meanwhile (its
//! user created, deleted or given another external id since) runs once more with lookups of
//! its own.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};

use super::users::{Creation, Locking, NewUser, UserEdit, create, update_locking};
use crate::db::rows::UserRow;
use crate::db::{DbConn, users, write_transaction};
use crate::domain::user::Actor;
use crate::domain::violation::{ViolationKind, Violations};
use crate::error::{AppError, ErrorCode};

/// One row of the provisioning request, parsed: what to create, and the same as an edit.
#[derive(Clone)]
pub struct BatchUser {
    pub new: NewUser,
    pub edit: UserEdit,
    pub external_id: Option<String>,
}

pub enum ItemOutcome {
    Created(UserRow),
    Updated(UserRow),
    Unchanged(UserRow),
    Failed(AppError),
}

pub struct BatchOptions {
    pub dry_run: bool,
    pub invite: bool,
    pub invitation_ttl: Duration,
}

/// Runs every item; `Err` only when the service itself fails.
pub fn provision(
    conn: &mut DbConn,
    actor: &Actor,
    items: Vec<Result<BatchUser, AppError>>,
    options: &BatchOptions,
    now: NaiveDateTime,
) -> Result<Vec<ItemOutcome>, AppError> {
    super::management_scope(actor)?;
    let run = |conn: &mut DbConn| -> Result<Vec<ItemOutcome>, AppError> {
        let mut known = KnownUsers::read(conn, actor, &items)?;
        let mut outcomes = Vec::with_capacity(items.len());
        for item in items {
            let outcome = match item {
                Err(error) => ItemOutcome::Failed(error),
                Ok(item) => {
                    let attempt = |conn: &mut DbConn, known: Option<&KnownUsers>| {
                        let item = item.clone();
                        write_transaction(conn, |conn| upsert(conn, actor, item, known, options, now))
                    };
                    let outcome = match attempt(conn, Some(&known)) {
                        // Changed by another request since the call read its users.
                        Err(error) if may_be_stale(&error) => attempt(conn, None),
                        outcome => outcome,
                    };
                    match outcome {
                        Ok(outcome) => outcome,
                        Err(error) if error.is_service_failure() => return Err(error),
                        Err(error) => ItemOutcome::Failed(error),
                    }
                }
            };
            if let ItemOutcome::Created(row) | ItemOutcome::Updated(row) | ItemOutcome::Unchanged(row) = &outcome {
                known.learn(row);
            }
            outcomes.push(outcome);
        }
        Ok(outcomes)
    };
    if !options.dry_run {
        // One transaction for the call, one savepoint per item: an item's failure undoes only
        // that item, and the whole call costs one commit instead of one per item.
        return write_transaction(conn, run);
    }
    // The outer transaction is always rolled back; each item nests as a savepoint.
    enum DryRun {
        Done(Vec<ItemOutcome>),
        Failed(AppError),
    }
    impl From<diesel::result::Error> for DryRun {
        fn from(error: diesel::result::Error) -> Self {
            DryRun::Failed(error.into())
        }
    }
    let rolled_back: Result<(), DryRun> = write_transaction(conn, |conn| match run(conn) {
        Ok(outcomes) => Err(DryRun::Done(outcomes)),
        Err(error) => Err(DryRun::Failed(error)),
    });
    match rolled_back {
        Err(DryRun::Done(outcomes)) => Ok(outcomes),
        Err(DryRun::Failed(error)) => Err(error),
        Ok(()) => unreachable!("a dry run never commits"),
    }
}

/// The users a call's items name, by address and by (corporation, external id): read in two
/// queries before the first item, and kept as the items create and change them.
#[derive(Default)]
struct KnownUsers {
    by_email: HashMap<String, UserRow>,
    by_external_id: HashMap<(String, String), UserRow>,
}

impl KnownUsers {
    /// Only items the caller may create are looked up, as each single call would: no answer
    /// depends on another corporation's data the caller had no business asking about.
    fn read(conn: &mut DbConn, actor: &Actor, items: &[Result<BatchUser, AppError>]) -> Result<KnownUsers, AppError> {
        let wanted: Vec<&BatchUser> = items
            .iter()
            .filter_map(|item| item.as_ref().ok())
            .filter(|item| super::users::check_may_create(actor, &item.new.kind).is_ok())
            .collect();
        let emails: Vec<&str> = wanted.iter().map(|item| item.new.email.as_str()).collect();
        let mut codes: Vec<&str> = Vec::new();
        let mut external_ids: Vec<&str> = Vec::new();
        for item in &wanted {
            if let (Some(code), Some(external_id)) = (&item.new.kind.corporation_code, &item.external_id) {
                codes.push(code.as_str());
                external_ids.push(external_id);
            }
        }
        codes.sort_unstable();
        codes.dedup();
        let mut known = KnownUsers::default();
        for row in users::find_by_emails(conn, &emails)? {
            known.by_email.insert(row.email.clone(), row);
        }
        for row in users::find_by_external_ids(conn, &codes, &external_ids)? {
            if let Some(key) = external_key(&row) {
                known.by_external_id.insert(key, row);
            }
        }
        Ok(known)
    }

    fn learn(&mut self, row: &UserRow) {
        // An item may have given the user another external id: the old one names nobody now.
        self.by_external_id.retain(|_, known| known.id != row.id);
        if let Some(key) = external_key(row) {
            self.by_external_id.insert(key, row.clone());
        }
        self.by_email.insert(row.email.clone(), row.clone());
    }
}

fn external_key(row: &UserRow) -> Option<(String, String)> {
    Some((row.corporation_code.clone()?, row.external_id.clone()?))
}

/// Whether an item's failure may come from users read before another request changed them:
/// such an item runs again with lookups of its own.
fn may_be_stale(error: &AppError) -> bool {
    matches!(
        error.code(),
        ErrorCode::EmailTaken | ErrorCode::ExternalIdTaken | ErrorCode::NotFound | ErrorCode::EmailImmutable
    )
}

/// One item: `known` holds the users read for the call, `None` has the item look its own up.
fn upsert(
    conn: &mut DbConn,
    actor: &Actor,
    item: BatchUser,
    known: Option<&KnownUsers>,
    options: &BatchOptions,
    now: NaiveDateTime,
) -> Result<ItemOutcome, AppError> {
    // Tenancy and roles first, as the single call checks them: nothing is looked up for an
    // item the caller may not create, so no answer depends on another corporation's data.
    super::users::check_may_create(actor, &item.new.kind)?;
    let corporation = item.new.kind.corporation_code.as_ref().map(|c| c.as_str().to_string());
    let by_external_id = match (&item.external_id, corporation) {
        (Some(external_id), Some(code)) => match known {
            Some(known) => known.by_external_id.get(&(code, external_id.clone())).cloned(),
            None => users::find_by_external_id(conn, &code, external_id)?,
        },
        _ => None,
    };
    let existing = match by_external_id {
        Some(row) => {
            if row.email != item.new.email.as_str() {
                return Err(Violations::single("email", ViolationKind::EmailImmutable).into());
            }
            Some(row)
        }
        None => match known {
            Some(known) => known.by_email.get(item.new.email.as_str()).cloned(),
            None => users::find_by_email(conn, item.new.email.as_str())?,
        },
    };
    match existing {
        None => {
            let creation = Creation {
                invite: options.invite,
                ..Creation::with_external_id(item.external_id)
            };
            // Contractor users are invited on creation whatever `invite` says.
            let row = create(conn, actor, item.new, creation, options.invitation_ttl, now)?;
            Ok(ItemOutcome::Created(row))
        }
        Some(row) => {
            // Another corporation's user is invisible; for this address it is simply taken.
            let scope = super::management_scope(actor)?;
            let code = row.corporation_code.clone();
            if super::visible_in(&scope, code.as_deref(), ()).is_err() {
                return Err(AppError::new(ErrorCode::EmailTaken));
            }
            // One transaction for the whole call: its items lock as a batch must.
            let updated = update_locking(conn, actor, &row.id, None, item.edit, Locking::Corporation, now)?;
            Ok(if updated.version == row.version {
                ItemOutcome::Unchanged(updated)
            } else {
                ItemOutcome::Updated(updated)
            })
        }
    }
}
