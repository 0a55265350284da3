//! `users`: accounts.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};

use crate::{
    Error,
    domain::{Email, OrgId, Role, UserId},
};

#[derive(Clone, FromRow)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub full_name: String,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub is_super_admin: bool,
    pub created_at: DateTime<Utc>,
    /// The password was set while the email was unproven (by whoever registered the address).
    pub password_unproven: bool,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("has_password", &self.password_hash.is_some())
            .field("email_verified_at", &self.email_verified_at)
            .field("is_super_admin", &self.is_super_admin)
            .finish_non_exhaustive()
    }
}

/// Hands an account to the person who just proved its address (via GitHub): a password chosen
/// before the address was proven is removed and the email is verified.
pub async fn reclaim(db: impl PgExecutor<'_>, id: UserId) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE users SET password_hash = NULL, password_unproven = false,
                          email_verified_at = coalesce(email_verified_at, now()), updated_at = now()
         WHERE id = $1",
        id as UserId,
    )
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct UserOrg {
    pub org_id: OrgId,
    pub slug: String,
    pub name: String,
    pub role: Role,
}

/// Whether a new account's email address is already proven (it came from GitHub, verified).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailProof {
    Proven,
    Unproven,
}

/// `sqlx::query_as!` of a `User`: `$head` (ending in `SELECT` or `RETURNING`), every column of the row, then
/// `$tail`. The column list is written once, here.
macro_rules! user_row {
    ($head:literal, $tail:literal, $($args:tt)*) => {
        sqlx::query_as!(
            $crate::repo::users::User,
            $head + r#" id AS "id: _", email, full_name, password_hash, email_verified_at, is_super_admin, created_at,
             password_unproven "# + $tail,
            $($args)*
        )
    };
}

pub async fn insert(
    tx: &mut PgConnection,
    email: &Email,
    full_name: &str,
    password_hash: Option<&str>,
    proof: EmailProof,
) -> Result<User, Error> {
    user_row!(
        r#"INSERT INTO users (id, email, full_name, password_hash, email_verified_at, password_unproven) VALUES ($1, $2, $3, $4, CASE WHEN $5 THEN now() END, $4::text IS NOT NULL AND NOT $5) RETURNING"#,
        r#""#,
        UserId::new() as UserId,
        email.as_str(),
        full_name,
        password_hash,
        proof == EmailProof::Proven,
    )
    .fetch_one(tx)
    .await
    .map_err(super::conflicts::map)
}

pub async fn find(db: impl PgExecutor<'_>, id: UserId) -> Result<Option<User>, Error> {
    Ok(
        user_row!(r#"SELECT"#, r#"FROM users WHERE id = $1"#, id as UserId,)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn find_by_email(db: impl PgExecutor<'_>, email: &Email) -> Result<Option<User>, Error> {
    Ok(user_row!(
        r#"SELECT"#,
        r#"FROM users WHERE email = $1"#,
        email.as_str(),
    )
    .fetch_optional(db)
    .await?)
}

/// Sets the password (change, re-hash). It stays unproven if it was, or if the email is.
pub async fn set_password(db: impl PgExecutor<'_>, id: UserId, hash: &str) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE users SET password_hash = $2, updated_at = now(),
                          password_unproven = password_unproven OR email_verified_at IS NULL
         WHERE id = $1",
        id as UserId,
        hash,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Sets a password chosen through the mailed reset link, which proves the address.
pub async fn set_password_proven(
    db: impl PgExecutor<'_>,
    id: UserId,
    hash: &str,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE users SET password_hash = $2, password_unproven = false, updated_at = now() WHERE id = $1",
        id as UserId,
        hash,
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_full_name(
    db: impl PgExecutor<'_>,
    id: UserId,
    full_name: &str,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE users SET full_name = $2, updated_at = now() WHERE id = $1",
        id as UserId,
        full_name,
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn mark_verified(db: impl PgExecutor<'_>, id: UserId) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE users SET email_verified_at = coalesce(email_verified_at, now()), updated_at = now() WHERE id = $1",
        id as UserId,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The organisations a user belongs to, with the user's role in each.
pub async fn orgs(db: impl PgExecutor<'_>, id: UserId) -> Result<Vec<UserOrg>, Error> {
    Ok(sqlx::query_as!(
        UserOrg,
        r#"SELECT o.id AS "org_id: _", o.slug, o.name, m.role AS "role: _"
         FROM memberships m JOIN organizations o ON o.id = m.org_id
         WHERE m.user_id = $1 ORDER BY o.name, o.id"#,
        id as UserId,
    )
    .fetch_all(db)
    .await?)
}

/// Sets the super-admin flag; returns the user and the flag's previous value, `None` when no
/// account has this email.
pub async fn set_super_admin(
    db: impl PgExecutor<'_>,
    email: &Email,
    on: bool,
) -> Result<Option<(UserId, bool)>, Error> {
    let row = sqlx::query!(
        r#"UPDATE users u SET is_super_admin = $2, updated_at = now()
         FROM (SELECT id, is_super_admin FROM users WHERE email = $1 FOR UPDATE) old
         WHERE u.id = old.id
         RETURNING u.id AS "id: UserId", old.is_super_admin AS "was!""#,
        email.as_str(),
        on,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.id, r.was)))
}
