//! `sessions` and `refresh_tokens`: one session per login, its refresh tokens rotating inside it.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};

use crate::{
    Error,
    domain::{SessionEndReason, SessionId, UserId},
};

#[derive(Debug, Clone, FromRow)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `sqlx::query_as!` of a `Session`: `$head` (ending in `SELECT` or `RETURNING`), every column of the row, then
/// `$tail`. The column list is written once, here.
macro_rules! session_row {
    ($head:literal, $tail:literal, $($args:tt)*) => {
        sqlx::query_as!(
            $crate::repo::sessions::Session,
            $head + r#" id AS "id: _", user_id AS "user_id: _", user_agent, ip, created_at, last_used_at, expires_at,
             revoked_at "# + $tail,
            $($args)*
        )
    };
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    user: UserId,
    user_agent: Option<&str>,
    ip: Option<&str>,
    expires_at: DateTime<Utc>,
) -> Result<Session, Error> {
    Ok(session_row!(
        r#"INSERT INTO sessions (id, user_id, user_agent, ip, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING"#,
        r#""#,
        SessionId::new() as SessionId,
        user as UserId,
        user_agent,
        ip,
        expires_at,
    )
    .fetch_one(db)
    .await?)
}

/// The session if it exists, is not revoked and has not expired.
pub async fn find_active(db: impl PgExecutor<'_>, id: SessionId) -> Result<Option<Session>, Error> {
    Ok(session_row!(
        r#"SELECT"#,
        r#"FROM sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()"#,
        id as SessionId,
    )
    .fetch_optional(db)
    .await?)
}

pub async fn list_active(db: impl PgExecutor<'_>, user: UserId) -> Result<Vec<Session>, Error> {
    Ok(session_row!(
        r#"SELECT"#,
        r#"FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() ORDER BY last_used_at DESC"#,
        user as UserId,
    )
    .fetch_all(db)
    .await?)
}

pub async fn touch(
    db: impl PgExecutor<'_>,
    id: SessionId,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE sessions SET last_used_at = now(), ip = coalesce($2, ip), user_agent = coalesce($3, user_agent)
         WHERE id = $1",
        id as SessionId,
        ip,
        user_agent,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Revokes one session of `user`; false when there is no such active session.
pub async fn revoke(
    db: impl PgExecutor<'_>,
    user: UserId,
    id: SessionId,
    reason: SessionEndReason,
) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $3
         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        id as SessionId,
        user as UserId,
        reason as SessionEndReason,
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Revokes every active session of `user` except `keep`.
pub async fn revoke_all_except(
    db: impl PgExecutor<'_>,
    user: UserId,
    keep: Option<SessionId>,
    reason: SessionEndReason,
) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $3
         WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2)",
        user as UserId,
        keep as Option<SessionId>,
        reason as SessionEndReason,
    )
    .execute(db)
    .await?
    .rows_affected())
}

pub async fn insert_refresh_token(
    db: impl PgExecutor<'_>,
    session: SessionId,
    token_hash: &str,
) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)",
        token_hash,
        session as SessionId,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, FromRow)]
pub struct RefreshTokenUse {
    pub session_id: SessionId,
    pub user_id: UserId,
    /// The token had been used before (reuse: theft suspected).
    pub already_used: bool,
    pub session_active: bool,
}

/// Spends a refresh token: marks it used (once) and reports whether it had already been spent.
/// The row is locked, so two concurrent uses cannot both see it fresh.
pub async fn spend_refresh_token(
    tx: &mut PgConnection,
    token_hash: &str,
) -> Result<Option<RefreshTokenUse>, Error> {
    Ok(sqlx::query_as!(
        RefreshTokenUse,
        r#"WITH t AS (
             SELECT token_hash, session_id, used_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE
         ), spent AS (
             UPDATE refresh_tokens r SET used_at = now() FROM t
             WHERE r.token_hash = t.token_hash AND t.used_at IS NULL
         )
         SELECT t.session_id AS "session_id!: _", s.user_id AS "user_id: _",
                (t.used_at IS NOT NULL) AS "already_used!",
                (s.revoked_at IS NULL AND s.expires_at > now()) AS "session_active!"
         FROM t JOIN sessions s ON s.id = t.session_id"#,
        token_hash,
    )
    .fetch_optional(tx)
    .await?)
}
