//! The SQL to re-seal every sealed column in batches (key rotation).

use sqlx::{AssertSqlSafe, PgExecutor};

pub use crate::crypto::sealed_column::SealedColumn;

/// Up to `limit` rows of `col` not sealed with `active_key_id`, after `after` (row id as text),
/// ordered by id so a run can resume.
pub async fn not_on_key(
    db: impl PgExecutor<'_>,
    col: SealedColumn,
    active_key_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, crate::Error> {
    let (table, id_column, column) = (col.table(), col.id_column(), col.column());
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {id_column}::text, {column} FROM {table}
         WHERE {column} IS NOT NULL AND split_part({column}, '.', 2) <> $1 AND {id_column}::text > $2
         ORDER BY {id_column}::text LIMIT $3"
    )))
    .bind(active_key_id)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Replaces one sealed value, only if it is still the one that was read (no lost update).
pub async fn replace(
    db: impl PgExecutor<'_>,
    col: SealedColumn,
    id: &str,
    old: &str,
    new: &str,
) -> Result<bool, crate::Error> {
    let (table, id_column, column) = (col.table(), col.id_column(), col.column());
    Ok(sqlx::query(AssertSqlSafe(format!(
        "UPDATE {table} SET {column} = $3 WHERE {id_column}::text = $1 AND {column} = $2"
    )))
    .bind(id)
    .bind(old)
    .bind(new)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// How many values of `col` are not on `active_key_id`.
pub async fn count_not_on_key(
    db: impl PgExecutor<'_>,
    col: SealedColumn,
    active_key_id: &str,
) -> Result<i64, crate::Error> {
    let (table, column) = (col.table(), col.column());
    Ok(sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM {table} WHERE {column} IS NOT NULL AND split_part({column}, '.', 2) <> $1"
    )))
    .bind(active_key_id)
    .fetch_one(db)
    .await?)
}
