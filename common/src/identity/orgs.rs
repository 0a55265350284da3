//! Organisations and membership: create, update, delete, change roles, remove; the last
//! org_admin can never be removed or demoted (invitations are in `invitations.rs`).

use crate::domain::{AuditAction, AuditResource};
use serde_json::json;
use sqlx::PgConnection;

use super::{Acting, Caller, ClientMeta, Identity, audit, invitations::revoke_if_inviter_demoted};
use crate::{
    Error,
    domain::{OrgId, RevokeReason, Role, UserId},
    repo::{
        audit_logs::{self, Entry, Filter, NewEntry},
        invitations::{self, Invitation},
        orgs::{self, Member, Org},
        users::{self, UserOrg},
    },
};

/// A URL-safe slug from a name: lower-case letters, digits and single dashes, 3–48 characters.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let mut slug: String = slug.trim_matches('-').chars().take(48).collect();
    slug = slug.trim_end_matches('-').to_owned();
    while slug.len() < 3 {
        slug.push_str("-org");
        slug = slug.trim_start_matches('-').to_owned();
    }
    slug
}

/// Checks a client-chosen slug.
pub fn valid_slug(slug: &str) -> bool {
    (3..=48).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
        // The org segment of a path takes an id or a slug: a slug that reads as an id would name
        // two organisations.
        && uuid::Uuid::try_parse(slug).is_err()
}

/// Checks an organisation's name and slug as typed (each only when given): the problems, by field.
pub fn org_field_problems(
    name: Option<&str>,
    slug: Option<&str>,
) -> Vec<(&'static str, &'static str)> {
    let mut problems = Vec::new();
    // The length as sent (the document's `maxLength`); then not only whitespace.
    if name.is_some_and(|n| n.trim().is_empty() || n.chars().count() > 200) {
        problems.push(("name", "must be 1 to 200 characters"));
    }
    if slug.is_some_and(|s| !valid_slug(s)) {
        problems.push((
            "slug",
            "must be 3-48 lower-case letters, digits and single dashes",
        ));
    }
    problems
}

/// Creates an organisation administered by `creator` inside `tx`.
pub(crate) async fn create_org_in(
    tx: &mut PgConnection,
    meta: &ClientMeta,
    creator: UserId,
    name: &str,
    slug: Option<&str>,
) -> Result<Org, Error> {
    let slug = match slug {
        Some(s) => s.to_owned(),
        None => {
            let base = slugify(name);
            let mut candidate = base.clone();
            let mut n = 2;
            while orgs::slug_exists(&mut *tx, &candidate).await? {
                candidate = format!("{base}-{n}");
                n += 1;
            }
            candidate
        }
    };
    let org = orgs::insert(tx, &slug, name).await?;
    orgs::add_member(&mut *tx, org.id, creator, Role::OrgAdmin).await?;
    audit(
        &mut *tx,
        meta,
        NewEntry::success(AuditAction::OrgCreate)
            .org(org.id)
            .actor(creator)
            .resource(AuditResource::Organization, org.id)
            .meta(json!({ "slug": org.slug })),
    )
    .await?;
    Ok(org)
}

impl Identity {
    /// The organisation a path segment names (its id or its slug) and the caller's role in it:
    /// `None` when there is no such organisation or the caller is not a member, alike.
    pub async fn resolve_org(
        &self,
        caller: Caller,
        segment: &str,
    ) -> Result<Option<(OrgId, Role)>, Error> {
        let org = match segment.parse::<uuid::Uuid>() {
            Ok(id) => OrgId(id),
            Err(_) => match orgs::id_by_slug(&self.pool, segment).await? {
                Some(id) => id,
                None => return Ok(None),
            },
        };
        Ok(self.role_in(caller, org).await?.map(|role| (org, role)))
    }

    /// The caller's role in `org`: `None` when not a member (super admins act as org_admin).
    pub async fn role_in(&self, caller: Caller, org: OrgId) -> Result<Option<Role>, Error> {
        let role = orgs::role_of(&self.pool, org, caller.user_id).await?;
        if role.is_none() && caller.is_super_admin && orgs::find(&self.pool, org).await?.is_some() {
            return Ok(Some(Role::OrgAdmin));
        }
        Ok(role)
    }

    pub async fn create_org(
        &self,
        meta: &ClientMeta,
        caller: Caller,
        name: &str,
        slug: Option<&str>,
    ) -> Result<Org, Error> {
        let mut tx = self.pool.begin().await?;
        let org = create_org_in(&mut tx, meta, caller.user_id, name.trim(), slug).await?;
        tx.commit().await?;
        Ok(org)
    }

    pub async fn my_orgs(&self, caller: Caller) -> Result<Vec<UserOrg>, Error> {
        users::orgs(&self.pool, caller.user_id).await
    }

    pub async fn org(&self, org: OrgId) -> Result<Org, Error> {
        orgs::find(&self.pool, org).await?.ok_or(Error::NotFound)
    }

    pub async fn update_org(
        &self,
        by: &Acting<'_>,
        name: Option<&str>,
        slug: Option<&str>,
    ) -> Result<Org, Error> {
        let Acting { meta, org, actor } = *by;
        let mut tx = self.pool.begin().await?;
        let updated = orgs::update(&mut *tx, org, name.map(str::trim), slug).await?;
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::OrgUpdate)
                .org(org)
                .actor(actor)
                .resource(AuditResource::Organization, org)
                .meta(json!({ "name_changed": name.is_some(), "slug": slug })),
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    pub async fn delete_org(
        &self,
        meta: &ClientMeta,
        caller: Caller,
        org: OrgId,
    ) -> Result<(), Error> {
        let mut tx = self.pool.begin().await?;
        let existing = orgs::find(&mut *tx, org).await?.ok_or(Error::NotFound)?;
        orgs::delete(&mut *tx, org).await?;
        // The org's own log goes with it; this entry stays, detached.
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::OrgDelete)
                .actor(caller.user_id)
                .resource(AuditResource::Organization, org)
                .meta(json!({ "slug": existing.slug })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn members(&self, org: OrgId) -> Result<(Vec<Member>, Vec<Invitation>), Error> {
        Ok((
            orgs::members(&self.pool, org).await?,
            invitations::pending(&self.pool, org).await?,
        ))
    }

    /// Changes a member's role; refuses to demote the last org_admin.
    pub async fn change_role(
        &self,
        by: &Acting<'_>,
        member: UserId,
        role: Role,
    ) -> Result<(), Error> {
        let Acting { meta, org, actor } = *by;
        let mut tx = self.pool.begin().await?;
        let current = lock_member(&mut tx, org, member, Some(role)).await?;
        orgs::set_role(&mut *tx, org, member, role).await?;
        // Their open invitations die with their right to invite.
        let revoked = revoke_if_inviter_demoted(&mut tx, org, member, Some(role)).await?;
        audit(
            &mut *tx,
            meta,
            membership_entry(AuditAction::MemberRoleChange, actor, org, member).meta(json!({
                "from": current.as_str(),
                "to": role.as_str(),
                "invitations_revoked": revoked,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a member; refuses to remove the last org_admin.
    pub async fn remove_member(
        &self,
        meta: &ClientMeta,
        caller: Caller,
        org: OrgId,
        member: UserId,
    ) -> Result<(), Error> {
        let mut tx = self.pool.begin().await?;
        let current = lock_member(&mut tx, org, member, None).await?;
        orgs::remove_member(&mut *tx, org, member).await?;
        // Invitations they sent die with their right to invite, and invitations to them (a
        // leftover token) can no longer bring them back.
        let sent = revoke_if_inviter_demoted(&mut tx, org, member, None).await?;
        let to_them = match users::find(&mut *tx, member).await? {
            Some(user) => {
                invitations::revoke_unused(
                    &mut *tx,
                    org,
                    invitations::Unused::To(&user.email),
                    RevokeReason::MemberRemoved,
                )
                .await?
            }
            None => 0,
        };
        audit(
            &mut *tx,
            meta,
            membership_entry(AuditAction::MemberRemove, caller.user_id, org, member).meta(json!({
                "role": current.as_str(),
                "invitations_revoked": sent + to_them,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn audit_log(&self, org: OrgId, filter: &Filter) -> Result<Vec<Entry>, Error> {
        audit_logs::list(&self.pool, org, filter).await
    }
}

/// Locks the organisation's admin count and reads `member`'s role (404 when not a member),
/// refusing a change that would leave no org_admin (`next`: the new role, `None` for removal).
async fn lock_member(
    tx: &mut PgConnection,
    org: OrgId,
    member: UserId,
    next: Option<Role>,
) -> Result<Role, Error> {
    let admins = orgs::lock_admin_count(&mut *tx, org).await?;
    let current = orgs::role_of(&mut *tx, org, member)
        .await?
        .ok_or(Error::NotFound)?;
    if current == Role::OrgAdmin && next != Some(Role::OrgAdmin) && admins <= 1 {
        return Err(Error::conflict(
            "last_admin",
            "An organisation needs at least one org_admin.",
        ));
    }
    Ok(current)
}

/// The audit entry of a change `actor` made to `member`'s membership.
fn membership_entry<'a>(
    action: AuditAction,
    actor: UserId,
    org: OrgId,
    member: UserId,
) -> NewEntry<'a> {
    NewEntry::success(action)
        .org(org)
        .actor(actor)
        .resource(AuditResource::Membership, member)
}
