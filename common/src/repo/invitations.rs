//! `invitations`: invitations to join an organisation, redeemed once by token, revocable.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::{
    Error,
    domain::{Email, OrgId, Role, UserId},
};

#[derive(Debug, Clone, FromRow)]
pub struct Invitation {
    pub id: Uuid,
    pub org_id: OrgId,
    pub email: String,
    pub role: String,
    /// `None` once the inviter's account is gone (the invitation is then dead).
    pub invited_by: Option<UserId>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, org_id, email, role, invited_by, expires_at, accepted_at, revoked_at, created_at";

/// Why an invitation stopped being redeemable before it was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    /// An org_admin revoked it.
    Revoked,
    /// A newer invitation to the same address replaced it.
    Superseded,
    /// The invitee was removed from the organisation.
    MemberRemoved,
    /// The inviter can no longer invite (demoted, removed, account gone).
    InviterLostRights,
}

impl RevokeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::Superseded => "superseded",
            Self::MemberRemoved => "member_removed",
            Self::InviterLostRights => "inviter_lost_rights",
        }
    }
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    email: &Email,
    role: Role,
    token_hash: &str,
    invited_by: UserId,
    expires_at: DateTime<Utc>,
) -> Result<Invitation, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO invitations (id, org_id, email, role, token_hash, invited_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING {COLUMNS}"
    )))
    .bind(Uuid::new_v4())
    .bind(org)
    .bind(email.as_str())
    .bind(role.as_str())
    .bind(token_hash)
    .bind(invited_by)
    .bind(expires_at)
    .fetch_one(db)
    .await?)
}

/// The invitation with this token hash, without a lock.
pub async fn find_by_token(
    db: impl PgExecutor<'_>,
    token_hash: &str,
) -> Result<Option<Invitation>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM invitations WHERE token_hash = $1"
    )))
    .bind(token_hash)
    .fetch_optional(db)
    .await?)
}

/// The invitation with this token hash, locked until the end of the transaction.
pub async fn lock_by_token(
    tx: &mut PgConnection,
    token_hash: &str,
) -> Result<Option<Invitation>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM invitations WHERE token_hash = $1 FOR UPDATE"
    )))
    .bind(token_hash)
    .fetch_optional(tx)
    .await?)
}

/// Marks an open invitation accepted; false when it was already used, revoked or expired.
pub async fn mark_accepted(tx: &mut PgConnection, id: Uuid) -> Result<bool, Error> {
    Ok(sqlx::query(
        "UPDATE invitations SET accepted_at = now()
         WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()",
    )
    .bind(id)
    .execute(tx)
    .await?
    .rows_affected()
        == 1)
}

/// Open (unused, unrevoked, unexpired) invitations of the organisation, oldest first.
pub async fn pending(db: impl PgExecutor<'_>, org: OrgId) -> Result<Vec<Invitation>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM invitations
         WHERE org_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
         ORDER BY created_at, id"
    )))
    .bind(org)
    .fetch_all(db)
    .await?)
}

/// Revokes one unused invitation of the organisation; `None` when there is none with this id.
pub async fn revoke(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    reason: RevokeReason,
) -> Result<Option<Invitation>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE invitations SET revoked_at = now(), revoked_reason = $3
         WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL
         RETURNING {COLUMNS}"
    )))
    .bind(org)
    .bind(id)
    .bind(reason.as_str())
    .fetch_optional(db)
    .await?)
}

/// Revokes every unused invitation of the organisation to `email`; returns how many.
pub async fn revoke_for_email(
    db: impl PgExecutor<'_>,
    org: OrgId,
    email: &str,
    reason: RevokeReason,
) -> Result<u64, Error> {
    Ok(sqlx::query(
        "UPDATE invitations SET revoked_at = now(), revoked_reason = $3
         WHERE org_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(org)
    .bind(email)
    .bind(reason.as_str())
    .execute(db)
    .await?
    .rows_affected())
}

/// Revokes every unused invitation `inviter` sent in the organisation; returns how many.
pub async fn revoke_sent_by(
    db: impl PgExecutor<'_>,
    org: OrgId,
    inviter: UserId,
    reason: RevokeReason,
) -> Result<u64, Error> {
    Ok(sqlx::query(
        "UPDATE invitations SET revoked_at = now(), revoked_reason = $3
         WHERE org_id = $1 AND invited_by = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(org)
    .bind(inviter)
    .bind(reason.as_str())
    .execute(db)
    .await?
    .rows_affected())
}
