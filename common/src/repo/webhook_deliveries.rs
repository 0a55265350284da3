//! `webhook_deliveries` (every delivery received, stored once), `github_repository_hooks` (secrets of
//! hooks RepoPal installed) and the installation → organisation lookup used at ingest.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor, QueryBuilder};
use uuid::Uuid;

use crate::{
    Error,
    domain::{DeliveryId, DeliveryStatus, InstallationId, OrgId},
};

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
    pub installation_id: Option<InstallationId>,
    pub repository_id: Option<i64>,
    /// The JSON payload exactly as received.
    pub payload: Vec<u8>,
}

/// Which of these delivery ids (`X-GitHub-Delivery`) are stored, from any hook.
pub async fn stored_among(
    db: impl PgExecutor<'_>,
    delivery_ids: &[&str],
) -> Result<Vec<String>, Error> {
    if delivery_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = delivery_ids.iter().map(|d| (*d).to_owned()).collect();
    Ok(sqlx::query_scalar!(
        r#"SELECT DISTINCT delivery_id AS "delivery_id!" FROM webhook_deliveries WHERE delivery_id = ANY($1::text[])"#,
        &ids,
    )
    .fetch_all(db)
    .await?)
}

/// A stored delivery: its id and the organisation it was credited to (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub id: DeliveryId,
    pub org: Option<OrgId>,
}

/// Inserts a batch; returns the rows that were new (by position in `batch`). Rows whose
/// (hook id, delivery id) already exists, in the table or earlier in the batch, are skipped.
pub async fn insert_batch(
    tx: &mut PgConnection,
    batch: &[NewDelivery],
) -> Result<Vec<Option<Stored>>, Error> {
    let ids: Vec<Uuid> = batch.iter().map(|_| Uuid::new_v4()).collect();
    let rows = sqlx::query!(
        r#"INSERT INTO webhook_deliveries
             (id, hook_id, delivery_id, event, action, installation_id, repository_id, org_id, payload)
         SELECT d.id, d.hook_id, d.delivery_id, d.event, d.action, d.installation_id, d.repository_id,
                CASE WHEN d.signed_hook IS NULL THEN i.org_id ELSE h.org_id END, d.payload
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bytea[], $9::bigint[])
              WITH ORDINALITY AS d(id, hook_id, delivery_id, event, action, installation_id, repository_id, payload, signed_hook, n)
         LEFT JOIN github_installations i ON i.installation_id = d.installation_id AND d.signed_hook IS NULL
         LEFT JOIN github_repository_hooks h ON h.hook_id = d.signed_hook
         ORDER BY d.hook_id, d.delivery_id
         ON CONFLICT (hook_id, delivery_id) DO NOTHING
         RETURNING id, org_id AS "org_id: OrgId""#,
        &ids,
        &batch.iter().map(|d| d.hook_id.clone()).collect::<Vec<_>>(),
        &batch.iter().map(|d| d.delivery_id.clone()).collect::<Vec<_>>(),
        &batch.iter().map(|d| d.event.clone()).collect::<Vec<_>>(),
        &batch.iter().map(|d| d.action.clone()).collect::<Vec<_>>() as &[Option<String>],
        &batch.iter().map(|d| d.installation_id.map(|i| i.0)).collect::<Vec<_>>() as &[Option<i64>],
        &batch.iter().map(|d| d.repository_id).collect::<Vec<_>>() as &[Option<i64>],
        &batch.iter().map(|d| d.payload.clone()).collect::<Vec<_>>(),
        &batch.iter().map(|d| d.signed_by_hook).collect::<Vec<_>>() as &[Option<i64>],
    )
    .fetch_all(tx)
    .await?;
    let inserted: std::collections::HashMap<Uuid, Option<OrgId>> =
        rows.into_iter().map(|r| (r.id, r.org_id)).collect();
    Ok(ids
        .into_iter()
        .map(|id| {
            inserted.get(&id).map(|org| Stored {
                id: DeliveryId(id),
                org: *org,
            })
        })
        .collect())
}

/// The sealed secret of a repository hook RepoPal installed.
pub async fn hook_secret(db: impl PgExecutor<'_>, hook_id: i64) -> Result<Option<String>, Error> {
    Ok(sqlx::query_scalar!(
        "SELECT secret_sealed FROM github_repository_hooks WHERE hook_id = $1",
        hook_id,
    )
    .fetch_optional(db)
    .await?)
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Delivery {
    pub id: DeliveryId,
    pub hook_id: String,
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<InstallationId>,
    pub repository_id: Option<i64>,
    pub org_id: Option<OrgId>,
    pub status: DeliveryStatus,
    pub status_detail: Option<String>,
    pub replay_count: i32,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// The delivery and its payload. `owner` is the organisation it was credited to when stored
/// (`None`: to none), so one organisation's job never reads another's delivery.
pub async fn find(
    db: impl PgExecutor<'_>,
    owner: Option<OrgId>,
    id: DeliveryId,
) -> Result<Option<(Delivery, Vec<u8>)>, Error> {
    let row = sqlx::query!(
        r#"SELECT id AS "id: DeliveryId", hook_id, delivery_id, event, action,
                installation_id AS "installation_id: InstallationId", repository_id, org_id AS "org_id: OrgId",
                status AS "status: DeliveryStatus", status_detail, replay_count, received_at, processed_at, payload
         FROM webhook_deliveries WHERE id = $1 AND org_id IS NOT DISTINCT FROM $2"#,
        id as DeliveryId,
        owner as Option<OrgId>,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        let delivery = Delivery {
            id: r.id,
            hook_id: r.hook_id,
            delivery_id: r.delivery_id,
            event: r.event,
            action: r.action,
            installation_id: r.installation_id,
            repository_id: r.repository_id,
            org_id: r.org_id,
            status: r.status,
            status_detail: r.status_detail,
            replay_count: r.replay_count,
            received_at: r.received_at,
            processed_at: r.processed_at,
        };
        (delivery, r.payload)
    }))
}

/// How processing a delivery ended, and the organisation it turned out to belong to.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    pub status: DeliveryStatus,
    pub detail: Option<&'a str>,
    /// Credited when the delivery had no organisation yet (an installation just linked).
    pub org: Option<OrgId>,
}

/// Records the outcome of processing on the delivery `owner` holds (see [`find`]).
pub async fn set_status(
    db: impl PgExecutor<'_>,
    owner: Option<OrgId>,
    id: DeliveryId,
    outcome: &Outcome<'_>,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE webhook_deliveries SET status = $3, status_detail = $4, org_id = coalesce(org_id, $5),
                processed_at = now()
         WHERE id = $1 AND org_id IS NOT DISTINCT FROM $2",
        id as DeliveryId,
        owner as Option<OrgId>,
        outcome.status as DeliveryStatus,
        outcome.detail,
        outcome.org as Option<OrgId>,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Filters for an organisation's deliveries, newest first.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub event: Option<String>,
    pub status: Option<DeliveryStatus>,
    /// Only deliveries older than this one (the cursor).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// Dynamic SQL: only the filters given are applied.
pub async fn list(db: impl PgExecutor<'_>, org: OrgId, f: &Filter) -> Result<Vec<Delivery>, Error> {
    let mut q = QueryBuilder::new(
        "SELECT id, hook_id, delivery_id, event, action, installation_id, repository_id, org_id, status,
                status_detail, replay_count, received_at, processed_at
         FROM webhook_deliveries WHERE org_id = ",
    );
    q.push_bind(org);
    if let Some(event) = &f.event {
        q.push(" AND event = ").push_bind(event.clone());
    }
    if let Some(status) = f.status {
        q.push(" AND status = ").push_bind(status);
    }
    super::paging::push_page(&mut q, "received_at", "id", f.before, f.limit);
    Ok(q.build_query_as().fetch_all(db).await?)
}

/// Marks an organisation's delivery for processing again; false when it is not theirs.
pub async fn mark_replayed(
    tx: &mut PgConnection,
    org: OrgId,
    id: DeliveryId,
) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "UPDATE webhook_deliveries SET status = $3, status_detail = NULL, processed_at = NULL,
                replay_count = replay_count + 1
         WHERE id = $1 AND org_id = $2",
        id as DeliveryId,
        org as OrgId,
        DeliveryStatus::Received as DeliveryStatus,
    )
    .execute(tx)
    .await?
    .rows_affected()
        == 1)
}
