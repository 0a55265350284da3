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
    Ok(sqlx::query_as(
        "SELECT etag, body FROM github_etag_cache WHERE org_id = $1 AND cache_key = $2",
    )
    .bind(org)
    .bind(key)
    .fetch_optional(db)
    .await?)
}

pub async fn put(
    db: impl PgExecutor<'_>,
    org: OrgId,
    key: &str,
    etag: &str,
    body: &[u8],
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO github_etag_cache (org_id, cache_key, etag, body) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, cache_key) DO UPDATE SET etag = EXCLUDED.etag, body = EXCLUDED.body, fetched_at = now()",
    )
    .bind(org)
    .bind(key)
    .bind(etag)
    .bind(body)
    .execute(db)
    .await?;
    Ok(())
}
