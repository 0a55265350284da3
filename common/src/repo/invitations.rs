//! `invitations`: invitations to join an organisation, redeemed once by token, revocable.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};

use crate::{
    Error,
    domain::{Email, InvitationId, OrgId, RevokeReason, Role, UserId},
};

#[derive(Debug, Clone, FromRow)]
pub struct Invitation {
    pub id: InvitationId,
    pub org_id: OrgId,
    pub email: String,
    pub role: Role,
    /// `None` once the inviter's account is gone (the invitation is then dead).
    pub invited_by: Option<UserId>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// `sqlx::query_as!` of a `Invitation`: `$head` (ending in `SELECT` or `RETURNING`), every column of the row, then
/// `$tail`. The column list is written once, here.
macro_rules! invitation_row {
    ($head:literal, $tail:literal, $($args:tt)*) => {
        sqlx::query_as!(
            $crate::repo::invitations::Invitation,
            $head + r#" id AS "id: _", org_id AS "org_id: _", email, role AS "role: _", invited_by AS "invited_by: _",
             expires_at, accepted_at, revoked_at, created_at "# + $tail,
            $($args)*
        )
    };
}

/// An invitation to store: to `email` in `org` with `role`, by `invited_by`; only the token's
/// hash is kept.
pub struct NewInvitation<'a> {
    pub org: OrgId,
    pub email: &'a Email,
    pub role: Role,
    pub token_hash: &'a str,
    pub invited_by: UserId,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(db: impl PgExecutor<'_>, new: &NewInvitation<'_>) -> Result<Invitation, Error> {
    let NewInvitation {
        org,
        email,
        role,
        token_hash,
        invited_by,
        expires_at,
    } = *new;
    Ok(invitation_row!(
        r#"INSERT INTO invitations (id, org_id, email, role, token_hash, invited_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING"#,
        r#""#,
        InvitationId::new() as InvitationId,
        org as OrgId,
        email.as_str(),
        role as Role,
        token_hash,
        invited_by as UserId,
        expires_at,
    )
    .fetch_one(db)
    .await?)
}

/// The invitation with this token hash, without a lock.
pub async fn find_by_token(
    db: impl PgExecutor<'_>,
    token_hash: &str,
) -> Result<Option<Invitation>, Error> {
    Ok(invitation_row!(
        r#"SELECT"#,
        r#"FROM invitations WHERE token_hash = $1"#,
        token_hash,
    )
    .fetch_optional(db)
    .await?)
}

/// The invitation with this token hash, locked until the end of the transaction.
pub async fn lock_by_token(
    tx: &mut PgConnection,
    token_hash: &str,
) -> Result<Option<Invitation>, Error> {
    Ok(invitation_row!(
        r#"SELECT"#,
        r#"FROM invitations WHERE token_hash = $1 FOR UPDATE"#,
        token_hash,
    )
    .fetch_optional(tx)
    .await?)
}

/// Marks an open invitation accepted; false when it was already used, revoked or expired.
pub async fn mark_accepted(
    tx: &mut PgConnection,
    org: OrgId,
    id: InvitationId,
) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "UPDATE invitations SET accepted_at = now()
         WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()",
        org as OrgId,
        id as InvitationId,
    )
    .execute(tx)
    .await?
    .rows_affected()
        == 1)
}

/// Open (unused, unrevoked, unexpired) invitations of the organisation, oldest first.
pub async fn pending(db: impl PgExecutor<'_>, org: OrgId) -> Result<Vec<Invitation>, Error> {
    Ok(invitation_row!(
        r#"SELECT"#,
        r#"FROM invitations WHERE org_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now() ORDER BY created_at, id"#,
        org as OrgId,
    )
    .fetch_all(db)
    .await?)
}

/// Revokes one unused invitation of the organisation; `None` when there is none with this id.
pub async fn revoke(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: InvitationId,
    reason: RevokeReason,
) -> Result<Option<Invitation>, Error> {
    Ok(invitation_row!(
        r#"UPDATE invitations SET revoked_at = now(), revoked_reason = $3 WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL RETURNING"#,
        r#""#,
        org as OrgId,
        id as InvitationId,
        reason as RevokeReason,
    )
    .fetch_optional(db)
    .await?)
}

/// Which of the organisation's unused invitations a bulk revocation takes.
#[derive(Debug, Clone, Copy)]
pub enum Unused<'a> {
    /// Those to this email address.
    To(&'a str),
    /// Those this member sent.
    SentBy(UserId),
}

/// `sqlx::query!` that revokes, with reason `$3`, the organisation's (`$1`) invitations whose
/// `$column` is `$2` and that are still unused. What "unused" means is written once, here.
macro_rules! revoke_unused {
    ($column:literal, $org:expr, $value:expr, $reason:expr) => {
        sqlx::query!(
            "UPDATE invitations SET revoked_at = now(), revoked_reason = $3
             WHERE org_id = $1 AND "
                + $column
                + " = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
            $org as OrgId,
            $value,
            $reason as RevokeReason,
        )
    };
}

/// Revokes every unused invitation of the organisation that `which` names; returns how many.
pub async fn revoke_unused(
    db: impl PgExecutor<'_>,
    org: OrgId,
    which: Unused<'_>,
    reason: RevokeReason,
) -> Result<u64, Error> {
    let query = match which {
        Unused::To(email) => revoke_unused!("email", org, email, reason),
        Unused::SentBy(inviter) => revoke_unused!("invited_by", org, inviter as UserId, reason),
    };
    Ok(query.execute(db).await?.rows_affected())
}
