//! `invitations`: pending invitations to join an organisation, redeemed by token.

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
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
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
    Ok(sqlx::query_as(
        "INSERT INTO invitations (id, org_id, email, role, token_hash, invited_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING id, org_id, email, role, expires_at, accepted_at, created_at",
    )
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

/// Marks the unexpired, unused invitation with this token hash as accepted and returns it.
pub async fn redeem(tx: &mut PgConnection, token_hash: &str) -> Result<Option<Invitation>, Error> {
    Ok(sqlx::query_as(
        "UPDATE invitations SET accepted_at = now()
         WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > now()
         RETURNING id, org_id, email, role, expires_at, accepted_at, created_at",
    )
    .bind(token_hash)
    .fetch_optional(tx)
    .await?)
}

pub async fn pending(db: impl PgExecutor<'_>, org: OrgId) -> Result<Vec<Invitation>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, org_id, email, role, expires_at, accepted_at, created_at FROM invitations
         WHERE org_id = $1 AND accepted_at IS NULL AND expires_at > now() ORDER BY created_at",
    )
    .bind(org)
    .fetch_all(db)
    .await?)
}
