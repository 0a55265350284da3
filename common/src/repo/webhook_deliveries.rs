//! `webhook_deliveries` (every delivery received, stored once), `github_repository_hooks` (secrets of
//! hooks RepoPal installed) and the installation → organisation lookup used at ingest.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor, QueryBuilder};
use uuid::Uuid;

use crate::{Error, domain::OrgId};

/// A parsed, verified delivery about to be stored.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// `X-GitHub-Hook-ID` as sent (part of the duplicate key, never of the attribution).
    pub hook_id: String,
    /// The repository hook whose secret signed the delivery; `None` when the App's did.
    pub signed_by_hook: Option<i64>,
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<i64>,
    pub repository_id: Option<i64>,
    /// The JSON payload exactly as received.
    pub payload: Vec<u8>,
}

/// Which of these delivery ids (`X-GitHub-Delivery`) are stored, from any hook.
pub async fn stored_among(
    db: impl sqlx::PgExecutor<'_>,
    delivery_ids: &[&str],
) -> Result<Vec<String>, Error> {
    if delivery_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT delivery_id FROM webhook_deliveries WHERE delivery_id = ANY($1::text[])",
    )
    .bind(delivery_ids)
    .fetch_all(db)
    .await?)
}

/// Inserts a batch; returns the ids of the rows that were new (by position in `batch`). Rows whose
/// (hook id, delivery id) already exists, in the table or earlier in the batch, are skipped.
pub async fn insert_batch(
    tx: &mut PgConnection,
    batch: &[NewDelivery],
) -> Result<Vec<Option<Uuid>>, Error> {
    let ids: Vec<Uuid> = batch.iter().map(|_| Uuid::new_v4()).collect();
    let rows: Vec<(Uuid,)> = sqlx::query_as(
        "INSERT INTO webhook_deliveries
             (id, hook_id, delivery_id, event, action, installation_id, repository_id, org_id, payload)
         SELECT d.id, d.hook_id, d.delivery_id, d.event, d.action, d.installation_id, d.repository_id,
                CASE WHEN d.signed_hook IS NULL THEN i.org_id ELSE h.org_id END, d.payload
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bytea[], $9::bigint[])
              WITH ORDINALITY AS d(id, hook_id, delivery_id, event, action, installation_id, repository_id, payload, signed_hook, n)
         LEFT JOIN github_installations i ON i.installation_id = d.installation_id AND d.signed_hook IS NULL
         LEFT JOIN github_repository_hooks h ON h.hook_id = d.signed_hook
         ORDER BY d.hook_id, d.delivery_id
         ON CONFLICT (hook_id, delivery_id) DO NOTHING
         RETURNING id",
    )
    .bind(&ids)
    .bind(batch.iter().map(|d| d.hook_id.clone()).collect::<Vec<_>>())
    .bind(batch.iter().map(|d| d.delivery_id.clone()).collect::<Vec<_>>())
    .bind(batch.iter().map(|d| d.event.clone()).collect::<Vec<_>>())
    .bind(batch.iter().map(|d| d.action.clone()).collect::<Vec<_>>())
    .bind(batch.iter().map(|d| d.installation_id).collect::<Vec<_>>())
    .bind(batch.iter().map(|d| d.repository_id).collect::<Vec<_>>())
    .bind(batch.iter().map(|d| d.payload.clone()).collect::<Vec<_>>())
    .bind(batch.iter().map(|d| d.signed_by_hook).collect::<Vec<_>>())
    .fetch_all(tx)
    .await?;
    let inserted: std::collections::HashSet<Uuid> = rows.into_iter().map(|(id,)| id).collect();
    Ok(ids
        .into_iter()
        .map(|id| inserted.contains(&id).then_some(id))
        .collect())
}

/// The sealed secret of a repository hook RepoPal installed.
pub async fn hook_secret(db: impl PgExecutor<'_>, hook_id: i64) -> Result<Option<String>, Error> {
    Ok(
        sqlx::query_scalar("SELECT secret_sealed FROM github_repository_hooks WHERE hook_id = $1")
            .bind(hook_id)
            .fetch_optional(db)
            .await?,
    )
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Delivery {
    pub id: Uuid,
    pub hook_id: String,
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<i64>,
    pub repository_id: Option<i64>,
    pub org_id: Option<OrgId>,
    pub status: String,
    pub status_detail: Option<String>,
    pub replay_count: i32,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, hook_id, delivery_id, event, action, installation_id, repository_id, org_id, status,
                       status_detail, replay_count, received_at, processed_at";

pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<(Delivery, Vec<u8>)>, Error> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        delivery: Delivery,
        payload: Vec<u8>,
    }
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, payload FROM webhook_deliveries WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.delivery, r.payload)))
}

/// Records the outcome of processing (and the organisation, once known).
pub async fn set_status(
    db: impl PgExecutor<'_>,
    id: Uuid,
    status: &str,
    detail: Option<&str>,
    org: Option<OrgId>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $2, status_detail = $3, org_id = coalesce(org_id, $4), processed_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(detail)
    .bind(org)
    .execute(db)
    .await?;
    Ok(())
}

/// Filters for an organisation's deliveries, newest first.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub event: Option<String>,
    pub status: Option<String>,
    /// Only deliveries older than this one (the cursor).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

pub async fn list(db: impl PgExecutor<'_>, org: OrgId, f: &Filter) -> Result<Vec<Delivery>, Error> {
    let mut q = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM webhook_deliveries WHERE org_id = "
    ));
    q.push_bind(org);
    if let Some(event) = &f.event {
        q.push(" AND event = ").push_bind(event.clone());
    }
    if let Some(status) = &f.status {
        q.push(" AND status = ").push_bind(status.clone());
    }
    super::paging::push_page(&mut q, "received_at", "id", f.before, f.limit);
    Ok(q.build_query_as().fetch_all(db).await?)
}

/// Marks an organisation's delivery for processing again; false when it is not theirs.
pub async fn mark_replayed(tx: &mut PgConnection, org: OrgId, id: Uuid) -> Result<bool, Error> {
    Ok(sqlx::query(
        "UPDATE webhook_deliveries SET status = 'received', status_detail = NULL, processed_at = NULL,
                replay_count = replay_count + 1
         WHERE id = $1 AND org_id = $2",
    )
    .bind(id)
    .bind(org)
    .execute(tx)
    .await?
    .rows_affected()
        == 1)
}
