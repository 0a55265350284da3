//! Every column that holds a sealed secret, and the SQL to re-seal them in batches (key rotation).

use sqlx::{AssertSqlSafe, PgExecutor};

/// A sealed column: its table, the row id column (bound into the ciphertext) and the column itself.
#[derive(Debug, Clone, Copy)]
pub struct SealedColumn {
    pub table: &'static str,
    pub id_column: &'static str,
    pub column: &'static str,
}

/// All of them. A new sealed column must be added here, or key rotation will not cover it.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn {
        table: "oauth_connections",
        id_column: "id",
        column: "access_token_sealed",
    },
    SealedColumn {
        table: "oauth_connections",
        id_column: "id",
        column: "refresh_token_sealed",
    },
    SealedColumn {
        table: "github_repository_hooks",
        id_column: "hook_id",
        column: "secret_sealed",
    },
    SealedColumn {
        table: "github_installation_tokens",
        id_column: "installation_id",
        column: "token_sealed",
    },
    SealedColumn {
        table: "integrations",
        id_column: "id",
        column: "credentials_sealed",
    },
];

/// Up to `limit` rows of `col` not sealed with `active_key_id`, after `after` (row id as text),
/// ordered by id so a run can resume.
pub async fn not_on_key(
    db: impl PgExecutor<'_>,
    col: SealedColumn,
    active_key_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, crate::Error> {
    let SealedColumn {
        table,
        id_column,
        column,
    } = col;
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
    let SealedColumn {
        table,
        id_column,
        column,
    } = col;
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
    let SealedColumn { table, column, .. } = col;
    Ok(sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM {table} WHERE {column} IS NOT NULL AND split_part({column}, '.', 2) <> $1"
    )))
    .bind(active_key_id)
    .fetch_one(db)
    .await?)
}
