//! SQL that Diesel's query builder does not write the way a hot path needs.

use diesel::QueryResult;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Text};
use diesel::sqlite::Sqlite;

/// `column IN (SELECT value FROM json_each(?))` on SQLite: one statement for any number of
/// values, bound as one JSON array.
///
/// Diesel writes `eq_any` on SQLite as `IN (?, ?, …)` with one parameter per value, a statement
/// it never keeps prepared: the invitations of a list page were parsed and planned again on
/// every call (a tenth of the CPU of `GET /users?limit=50`). PostgreSQL's `= ANY($1)` has no
/// such problem.
#[derive(Debug, Clone)]
pub struct InJsonArray<C> {
    column: C,
    values_json: String,
}

pub fn in_json_array<C>(column: C, values: &[String]) -> InJsonArray<C> {
    InJsonArray {
        column,
        // A list of strings always serialises.
        values_json: serde_json::to_string(values).unwrap_or_else(|_| "[]".into()),
    }
}

impl<C: Expression> Expression for InJsonArray<C> {
    type SqlType = Bool;
}

impl<C: Expression + AppearsOnTable<QS>, QS: ?Sized> AppearsOnTable<QS> for InJsonArray<C> {}

impl<C: Expression + SelectableExpression<QS>, QS: ?Sized> SelectableExpression<QS> for InJsonArray<C> {}

impl<C> ValidGrouping<()> for InJsonArray<C> {
    type IsAggregate = is_aggregate::Never;
}

impl<C: 'static> QueryId for InJsonArray<C> {
    type QueryId = Self;
    // The SQL is the same whatever the values: the statement can stay prepared.
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for InJsonArray<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.values_json)?;
        out.push_sql("))");
        Ok(())
    }
}

/// A statement whose SQL text is the same on every call, kept prepared by the connection
/// under that text.
///
/// Diesel prepares every `UPDATE` anew for each execution: a `SET` list built from optional
/// fields may differ from one call to the next, so it never keeps one. For `PATCH /users/{id}`
/// SQLite's parse of that statement (with its `RETURNING` of every column) was a quarter of
/// the request's instructions, and PostgreSQL planned it again every time. Wrap only a
/// statement of one shape (every column set, `None` written as NULL): each distinct text
/// stays prepared on each connection for as long as the connection lives, so a shape that
/// varied with the request would let callers grow that cache.
#[derive(Debug, Clone, Copy)]
pub struct KeptPrepared<Q>(pub Q);

impl<Q> QueryId for KeptPrepared<Q> {
    // Keyed by its SQL text, not by its type.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for KeptPrepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryFragment<DB>, DB: diesel::backend::Backend> QueryFragment<DB> for KeptPrepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, Conn> diesel::RunQueryDsl<Conn> for KeptPrepared<Q> {}
