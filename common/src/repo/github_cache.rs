//! `github_etag_cache`: GitHub answers per organisation, credential and URL with their ETags, so
//! a repeat request is a conditional one (a 304 costs no rate limit).

use sqlx::PgExecutor;

use crate::{Error, domain::OrgId};

/// The cached (ETag, body) for `key`.
pub async fn get(
    db: impl PgExecutor<'_>,
    org: OrgId,
    key: &str,
) -> Result<Option<(String, Vec<u8>)>, Error> {
    Ok(sqlx::query!(
        "SELECT etag, body FROM github_etag_cache WHERE org_id = $1 AND cache_key = $2",
        org as OrgId,
        key,
    )
    .fetch_optional(db)
    .await?
    .map(|r| (r.etag, r.body)))
}

pub async fn put(
    db: impl PgExecutor<'_>,
    org: OrgId,
    key: &str,
    etag: &str,
    body: &[u8],
) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO github_etag_cache (org_id, cache_key, etag, body) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, cache_key) DO UPDATE SET etag = EXCLUDED.etag, body = EXCLUDED.body, fetched_at = now()",
        org as OrgId,
        key,
        etag,
        body,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Notes that GitHub confirmed the cached answer (304).
pub async fn touch(db: impl PgExecutor<'_>, org: OrgId, key: &str) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE github_etag_cache SET fetched_at = now() WHERE org_id = $1 AND cache_key = $2",
        org as OrgId,
        key,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes answers not fetched (or revalidated) for `older_than_secs`, in every organisation.
pub async fn prune(db: impl PgExecutor<'_>, older_than_secs: i64) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "DELETE FROM github_etag_cache WHERE fetched_at < now() - make_interval(secs => $1::double precision)",
        older_than_secs as f64,
    )
    .execute(db)
    .await?
    .rows_affected())
}
