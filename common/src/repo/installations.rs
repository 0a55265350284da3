//! `github_installations`: GitHub App installations and the organisation each is linked to.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::{
    Error,
    domain::{InstallationAction, InstallationId, OrgId},
};

/// What an `installation` webhook says about the installation's account.
#[derive(Debug, Clone, Copy, Default)]
pub struct Account<'a> {
    pub login: Option<&'a str>,
    pub kind: Option<&'a str>,
}

/// Records what an `installation` webhook says about an installation (creating the row if new).
/// Returns the organisation it is linked to, if any.
pub async fn apply_event(
    db: impl PgExecutor<'_>,
    installation: InstallationId,
    action: InstallationAction,
    account: Account<'_>,
) -> Result<Option<OrgId>, Error> {
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO github_installations (installation_id, account_login, account_type, suspended_at, deleted_at)
         VALUES ($1, $2, $3, CASE WHEN $4 THEN now() END, CASE WHEN $6 THEN now() END)
         ON CONFLICT (installation_id) DO UPDATE SET
             account_login = coalesce(EXCLUDED.account_login, github_installations.account_login),
             account_type = coalesce(EXCLUDED.account_type, github_installations.account_type),
             suspended_at = CASE WHEN $4 THEN now()
                                 WHEN $5 THEN NULL
                                 ELSE github_installations.suspended_at END,
             deleted_at = CASE WHEN $6 THEN now()
                               WHEN $7 THEN NULL
                               ELSE github_installations.deleted_at END,
             updated_at = now()
         RETURNING org_id AS "org_id: OrgId""#,
        installation as InstallationId,
        account.login,
        account.kind,
        action == InstallationAction::Suspend,
        action == InstallationAction::Unsuspend,
        action == InstallationAction::Deleted,
        action == InstallationAction::Created,
    )
    .fetch_one(db)
    .await?)
}

/// The organisation an installation is linked to, if any. Unscoped by design: this is how a
/// delivery or a sync finds its organisation in the first place.
pub async fn org_of(
    db: impl PgExecutor<'_>,
    installation: InstallationId,
) -> Result<Option<OrgId>, Error> {
    Ok(sqlx::query_scalar!(
        r#"SELECT org_id AS "org_id: OrgId" FROM github_installations WHERE installation_id = $1"#,
        installation as InstallationId,
    )
    .fetch_optional(db)
    .await?
    .flatten())
}

/// When the organisation's installation last had its repositories synced.
pub async fn last_synced(
    db: impl PgExecutor<'_>,
    org: OrgId,
    installation: InstallationId,
) -> Result<Option<DateTime<Utc>>, Error> {
    Ok(sqlx::query_scalar!(
        "SELECT last_synced_at FROM github_installations WHERE installation_id = $1 AND org_id = $2",
        installation as InstallationId,
        org as OrgId,
    )
    .fetch_optional(db)
    .await?
    .flatten())
}

/// Stamps the organisation's installation as synced now.
pub async fn mark_synced(
    db: impl PgExecutor<'_>,
    org: OrgId,
    installation: InstallationId,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE github_installations SET last_synced_at = now() WHERE installation_id = $1 AND org_id = $2",
        installation as InstallationId,
        org as OrgId,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Links an installation to an organisation (creating the row when the webhook has not arrived
/// yet). Refused when it is linked to another organisation.
pub async fn link(
    db: impl PgExecutor<'_>,
    installation: InstallationId,
    org: OrgId,
) -> Result<bool, Error> {
    let linked = sqlx::query_scalar!(
        "INSERT INTO github_installations (installation_id, org_id) VALUES ($1, $2)
         ON CONFLICT (installation_id) DO UPDATE SET org_id = EXCLUDED.org_id, updated_at = now()
             WHERE github_installations.org_id IS NULL OR github_installations.org_id = EXCLUDED.org_id
         RETURNING 1 AS one",
        installation as InstallationId,
        org as OrgId,
    )
    .fetch_optional(db)
    .await?;
    Ok(linked.is_some())
}
