//! `organizations` and `memberships`: tenants and who belongs to them with which role.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};

use crate::{
    Error,
    domain::{OrgId, Role, UserId},
};

#[derive(Debug, Clone, FromRow)]
pub struct Org {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, FromRow)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(tx: &mut PgConnection, slug: &str, name: &str) -> Result<Org, Error> {
    sqlx::query_as!(
        Org,
        r#"INSERT INTO organizations (id, slug, name) VALUES ($1, $2, $3)
         RETURNING id AS "id: _", slug, name, created_at"#,
        OrgId::new() as OrgId,
        slug,
        name,
    )
    .fetch_one(tx)
    .await
    .map_err(super::conflicts::map)
}

pub async fn find(db: impl PgExecutor<'_>, id: OrgId) -> Result<Option<Org>, Error> {
    Ok(sqlx::query_as!(
        Org,
        r#"SELECT id AS "id: _", slug, name, created_at FROM organizations WHERE id = $1"#,
        id as OrgId,
    )
    .fetch_optional(db)
    .await?)
}

/// The id of the organisation with `slug`.
pub async fn id_by_slug(db: impl PgExecutor<'_>, slug: &str) -> Result<Option<OrgId>, Error> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id AS "id: OrgId" FROM organizations WHERE slug = $1"#,
        slug,
    )
    .fetch_optional(db)
    .await?)
}

/// Whether `slug` is free (used to pick a unique slug for a new organisation).
pub async fn slug_exists(db: impl PgExecutor<'_>, slug: &str) -> Result<bool, Error> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM organizations WHERE slug = $1) AS "exists!""#,
        slug,
    )
    .fetch_one(db)
    .await?)
}

pub async fn update(
    db: impl PgExecutor<'_>,
    id: OrgId,
    name: Option<&str>,
    slug: Option<&str>,
) -> Result<Org, Error> {
    sqlx::query_as!(
        Org,
        r#"UPDATE organizations SET name = coalesce($2, name), slug = coalesce($3, slug), updated_at = now()
         WHERE id = $1 RETURNING id AS "id: _", slug, name, created_at"#,
        id as OrgId,
        name,
        slug,
    )
    .fetch_optional(db)
    .await
    .map_err(super::conflicts::map)?
    .ok_or(Error::NotFound)
}

pub async fn delete(db: impl PgExecutor<'_>, id: OrgId) -> Result<(), Error> {
    sqlx::query!("DELETE FROM organizations WHERE id = $1", id as OrgId)
        .execute(db)
        .await?;
    Ok(())
}

/// Adds a member; false (and the existing role kept) when they already are one.
pub async fn add_member(
    db: impl PgExecutor<'_>,
    org: OrgId,
    user: UserId,
    role: Role,
) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (org_id, user_id) DO NOTHING",
        org as OrgId,
        user as UserId,
        role as Role,
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// The user's role in the organisation, or `None` when not a member.
pub async fn role_of(
    db: impl PgExecutor<'_>,
    org: OrgId,
    user: UserId,
) -> Result<Option<Role>, Error> {
    Ok(sqlx::query_scalar!(
        r#"SELECT role AS "role: Role" FROM memberships WHERE org_id = $1 AND user_id = $2"#,
        org as OrgId,
        user as UserId,
    )
    .fetch_optional(db)
    .await?)
}

pub async fn members(db: impl PgExecutor<'_>, org: OrgId) -> Result<Vec<Member>, Error> {
    Ok(sqlx::query_as!(
        Member,
        r#"SELECT u.id AS "user_id: _", u.email, u.full_name, m.role AS "role: _", m.created_at
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 ORDER BY m.created_at, u.id"#,
        org as OrgId,
    )
    .fetch_all(db)
    .await?)
}

/// Locks the organisation's row: membership changes and invitations of one organisation take
/// this lock, so they happen one after another.
pub async fn lock(tx: &mut PgConnection, org: OrgId) -> Result<(), Error> {
    sqlx::query_scalar!(
        "SELECT 1 AS one FROM organizations WHERE id = $1 FOR UPDATE",
        org as OrgId
    )
    .fetch_optional(tx)
    .await?;
    Ok(())
}

/// Locks the organisation's memberships for a role change and returns the number of admins.
pub async fn lock_admin_count(tx: &mut PgConnection, org: OrgId) -> Result<i64, Error> {
    lock(&mut *tx, org).await?;
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM memberships WHERE org_id = $1 AND role = $2"#,
        org as OrgId,
        Role::OrgAdmin as Role,
    )
    .fetch_one(tx)
    .await?)
}

pub async fn set_role(
    db: impl PgExecutor<'_>,
    org: OrgId,
    user: UserId,
    role: Role,
) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2",
        org as OrgId,
        user as UserId,
        role as Role,
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

pub async fn remove_member(
    db: impl PgExecutor<'_>,
    org: OrgId,
    user: UserId,
) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
        org as OrgId,
        user as UserId,
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}
