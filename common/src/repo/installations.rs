//! `github_installations`: GitHub App installations and the organisation each is linked to.

use sqlx::PgExecutor;

use crate::{Error, domain::OrgId};

/// Records what an `installation` webhook says about an installation (creating the row if new).
pub async fn apply_event(
    db: impl PgExecutor<'_>,
    installation_id: i64,
    action: &str,
    account_login: Option<&str>,
    account_type: Option<&str>,
) -> Result<Option<OrgId>, Error> {
    Ok(sqlx::query_scalar(
        "INSERT INTO github_installations (installation_id, account_login, account_type, suspended_at, deleted_at)
         VALUES ($1, $3, $4, CASE WHEN $2 = 'suspend' THEN now() END, CASE WHEN $2 = 'deleted' THEN now() END)
         ON CONFLICT (installation_id) DO UPDATE SET
             account_login = coalesce(EXCLUDED.account_login, github_installations.account_login),
             account_type = coalesce(EXCLUDED.account_type, github_installations.account_type),
             suspended_at = CASE WHEN $2 = 'suspend' THEN now()
                                 WHEN $2 = 'unsuspend' THEN NULL
                                 ELSE github_installations.suspended_at END,
             deleted_at = CASE WHEN $2 = 'deleted' THEN now()
                               WHEN $2 = 'created' THEN NULL
                               ELSE github_installations.deleted_at END,
             updated_at = now()
         RETURNING org_id",
    )
    .bind(installation_id)
    .bind(action)
    .bind(account_login)
    .bind(account_type)
    .fetch_one(db)
    .await?)
}

/// The organisation an installation is linked to, if any.
pub async fn org_of(db: impl PgExecutor<'_>, installation_id: i64) -> Result<Option<OrgId>, Error> {
    Ok(sqlx::query_scalar::<_, Option<OrgId>>(
        "SELECT org_id FROM github_installations WHERE installation_id = $1",
    )
    .bind(installation_id)
    .fetch_optional(db)
    .await?
    .flatten())
}

/// When the installation's repositories were last synced.
pub async fn last_synced(
    db: impl PgExecutor<'_>,
    org: OrgId,
    installation_id: i64,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, Error> {
    Ok(
        sqlx::query_scalar::<_, Option<chrono::DateTime<chrono::Utc>>>(
            "SELECT last_synced_at FROM github_installations WHERE installation_id = $1 AND org_id = $2",
        )
        .bind(installation_id)
        .bind(org)
        .fetch_optional(db)
        .await?
        .flatten(),
    )
}

pub async fn mark_synced(db: impl PgExecutor<'_>, installation_id: i64) -> Result<(), Error> {
    sqlx::query(
        "UPDATE github_installations SET last_synced_at = now() WHERE installation_id = $1",
    )
    .bind(installation_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Links an installation to an organisation (creating the row when the webhook has not arrived
/// yet). Refused when it is linked to another organisation.
pub async fn link(
    db: impl PgExecutor<'_>,
    installation_id: i64,
    org: OrgId,
) -> Result<bool, Error> {
    let linked: Option<OrgId> = sqlx::query_scalar(
        "INSERT INTO github_installations (installation_id, org_id) VALUES ($1, $2)
         ON CONFLICT (installation_id) DO UPDATE SET org_id = EXCLUDED.org_id, updated_at = now()
             WHERE github_installations.org_id IS NULL OR github_installations.org_id = EXCLUDED.org_id
         RETURNING org_id",
    )
    .bind(installation_id)
    .bind(org)
    .fetch_optional(db)
    .await?;
    Ok(linked.is_some())
}
