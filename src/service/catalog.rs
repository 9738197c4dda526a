//! The contractor name catalog of a corporation: every spelling seen in delivered files.

use chrono::NaiveDateTime;
use serde_json::Map;

use super::audit::{self as audit_log, AuditEntry};
use crate::db::rows::ContractorNameRow;
use crate::db::{DbConn, catalog, corporations, write_transaction};
use crate::domain::corporation::CorporationCode;
use crate::domain::limits::{MAX_CATALOG_NAMES_PER_CORPORATION, has_room};
use crate::domain::names::similarity;
use crate::domain::user::Actor;
use crate::error::{AppError, ErrorCode};

/// One spelling of a contractor name in the catalog.
#[derive(Debug, Clone)]
pub struct ContractorName {
    /// The spelling exactly as it appeared in a delivered file.
    pub name: String,
    pub first_seen_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    /// How many deliveries contained this spelling.
    pub seen_count: i32,
}

impl From<ContractorNameRow> for ContractorName {
    fn from(row: ContractorNameRow) -> Self {
        ContractorName {
            name: row.name,
            first_seen_at: row.first_seen_at,
            last_seen_at: row.last_seen_at,
            seen_count: row.seen_count,
        }
    }
}

/// The corporation, when the actor may see its catalog (rule 4: otherwise it does not exist).
fn visible_corporation(conn: &mut DbConn, actor: &Actor, code: &CorporationCode) -> Result<(), AppError> {
    let scope = super::management_scope(actor)?;
    if !scope.includes(Some(code)) || corporations::find(conn, code.as_str())?.is_none() {
        return Err(AppError::not_found());
    }
    Ok(())
}

/// Records the names of one delivered file. Posting the same file again adds no spelling.
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    code: &CorporationCode,
    names: &[String],
    now: NaiveDateTime,
) -> Result<Vec<ContractorName>, AppError> {
    write_transaction(conn, |conn| {
        visible_corporation(conn, actor, code)?;
        // Counted under the corporation's lock, so that two posts cannot both take the last places.
        corporations::lock(conn, code.as_str())?;
        let known = catalog::existing(conn, code.as_str(), names)?;
        let new = names.len().saturating_sub(known.len());
        if !has_room(
            catalog::count(conn, code.as_str())?,
            new,
            MAX_CATALOG_NAMES_PER_CORPORATION,
        ) {
            return Err(AppError::new(ErrorCode::CatalogLimitReached));
        }
        for name in names {
            catalog::record_seen(conn, code.as_str(), name, now)?;
        }
        let added: Vec<&String> = names.iter().filter(|n| !known.contains(n)).collect();
        if !added.is_empty() {
            let mut facts = Map::new();
            facts.insert("added".into(), serde_json::json!(added));
            audit_log::record(
                conn,
                AuditEntry {
                    actor_id: Some(&actor.audit_id()),
                    action: "contractor_names.added",
                    target_type: "corporation",
                    target_id: Some(code.as_str()),
                    corporation_code: Some(code.as_str()),
                    changes: facts,
                },
                now,
            )?;
        }
        let named = catalog::named(conn, code.as_str(), names)?;
        Ok(named.into_iter().map(ContractorName::from).collect())
    })
}

/// The catalog, optionally filtered by `q` (case-insensitive part) and ranked by likeness to
/// `similar_to` (best first, with the score).
pub fn search(
    conn: &mut DbConn,
    actor: &Actor,
    code: &CorporationCode,
    q: Option<&str>,
    similar_to: Option<&str>,
) -> Result<Vec<(ContractorName, Option<f64>)>, AppError> {
    visible_corporation(conn, actor, code)?;
    let q = q.map(str::to_lowercase);
    let listed = catalog::list(conn, code.as_str(), MAX_CATALOG_NAMES_PER_CORPORATION + 1)?;
    let mut names: Vec<(ContractorName, Option<f64>)> = super::within_bound(listed, MAX_CATALOG_NAMES_PER_CORPORATION)?
        .into_iter()
        .filter(|row| q.as_ref().is_none_or(|q| row.name.to_lowercase().contains(q)))
        .map(|row| {
            let score = similar_to.map(|target| similarity(target, &row.name));
            (ContractorName::from(row), score)
        })
        .collect();
    if similar_to.is_some() {
        names.sort_by(|a, b| {
            b.1.unwrap_or(0.0)
                .total_cmp(&a.1.unwrap_or(0.0))
                .then_with(|| a.0.name.cmp(&b.0.name))
        });
    }
    Ok(names)
}
