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
