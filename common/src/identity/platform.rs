//! Platform administration from the command line (`repopal-api super-admin`): audited with no
//! actor and `via: "cli"`, since whoever runs the CLI has no account here.

use crate::domain::{AuditAction, AuditResource};
use serde_json::json;
use sqlx::PgPool;

use super::{ClientMeta, audit};
use crate::{Error, domain::Email, repo::audit_logs::NewEntry, repo::users};

/// Grants (`on`) or withdraws the super-admin flag of the account with this email and records it;
/// false when there is no such account.
pub async fn set_super_admin_from_cli(
    pool: &PgPool,
    email: &Email,
    on: bool,
) -> Result<bool, Error> {
    let mut tx = pool.begin().await?;
    let Some((user, was)) = users::set_super_admin(&mut *tx, email, on).await? else {
        return Ok(false);
    };
    let action = if on {
        AuditAction::PlatformSuperAdminGrant
    } else {
        AuditAction::PlatformSuperAdminRevoke
    };
    audit(
        &mut *tx,
        &ClientMeta::default(),
        NewEntry::success(action)
            .resource(AuditResource::User, user)
            .meta(json!({ "via": "cli", "email": email.as_str(), "was_super_admin": was })),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
