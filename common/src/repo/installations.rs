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
