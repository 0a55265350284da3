//! Keyset pagination shared by list queries: newest first by (time, id), strictly before a cursor.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

/// Appends `AND (time, id) < cursor` (when there is one) and `ORDER BY time DESC, id DESC LIMIT n`.
/// `time` and `id` are constant column names of the caller's query.
pub fn push_page(
    q: &mut QueryBuilder<Postgres>,
    time: &'static str,
    id: &'static str,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) {
    if let Some((at, row)) = before {
        q.push(format!(" AND ({time}, {id}) < ("))
            .push_bind(at)
            .push(", ")
            .push_bind(row)
            .push(")");
    }
    q.push(format!(" ORDER BY {time} DESC, {id} DESC LIMIT "))
        .push_bind(limit);
}
