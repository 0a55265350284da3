//! Invitations: send (replacing an earlier one to the same address), list, revoke, accept once;
//! an invitation dies with its inviter's right to invite.

use crate::domain::{AuditAction, AuditResource};
use chrono::Utc;
use serde_json::json;
use sqlx::PgConnection;

use super::{Acting, Caller, ClientMeta, Identity, audit, queue_email};
use crate::{
    Error,
    crypto::tokens,
    domain::{Email, InvitationId, OrgId, Permission, RevokeReason, Role, UserId},
    repo::{
        audit_logs::NewEntry,
        invitations::{self, Invitation, NewInvitation, Unused},
        orgs::{self, Org},
        users,
    },
};

const INVITE_TTL_DAYS: i64 = 7;

fn invalid_token() -> Error {
    Error::rejected(
        "invalid_token",
        "The invitation is invalid, used or expired.",
    )
}

fn revoked() -> Error {
    Error::rejected("invitation_revoked", "The invitation has been revoked.")
}

/// Whether `inviter` may still invite people to `org` (org_admin there, or a platform super admin).
async fn can_still_invite(
    tx: &mut PgConnection,
    org: OrgId,
    inviter: Option<UserId>,
) -> Result<bool, Error> {
    let Some(inviter) = inviter else {
        return Ok(false); // the inviter's account is gone
    };
    if orgs::role_of(&mut *tx, org, inviter)
        .await?
        .is_some_and(|r| r.allows(Permission::MembersManage))
    {
        return Ok(true);
    }
    Ok(users::find(&mut *tx, inviter)
        .await?
        .is_some_and(|u| u.is_super_admin))
}

/// Revokes the invitations `member` sent in `org` when `role` (their new role, or `None` when
/// they leave) no longer lets them invite. Call inside the transaction that changes the role.
pub(crate) async fn revoke_if_inviter_demoted(
    tx: &mut PgConnection,
    org: OrgId,
    member: UserId,
    role: Option<Role>,
) -> Result<u64, Error> {
    if role.is_some_and(|r| r.allows(Permission::MembersManage)) {
        return Ok(0);
    }
    let sent = Unused::SentBy(member);
    invitations::revoke_unused(&mut *tx, org, sent, RevokeReason::InviterLostRights).await
}

impl Identity {
    /// Invites `email` to `org` with `role`; the token goes out by mail. An earlier open
    /// invitation to the same address is revoked (its token stops working).
    pub async fn invite(
        &self,
        by: &Acting<'_>,
        email: &Email,
        role: Role,
    ) -> Result<Invitation, Error> {
        let Acting { meta, org, actor } = *by;
        let organisation = self.org(org).await?;
        let (token, hash) = tokens::generate("rpi_");
        let mut tx = self.pool.begin().await?;
        orgs::lock(&mut tx, org).await?;
        let superseded = invitations::revoke_unused(
            &mut *tx,
            org,
            Unused::To(email.as_str()),
            RevokeReason::Superseded,
        )
        .await?;
        let new = NewInvitation {
            org,
            email,
            role,
            token_hash: &hash,
            invited_by: actor,
            expires_at: Utc::now() + chrono::Duration::days(INVITE_TTL_DAYS),
        };
        let invitation = invitations::insert(&mut *tx, &new).await?;
        let mut link = self.config.public_url.clone();
        link.set_path("accept-invitation");
        link.query_pairs_mut().append_pair("token", &token);
        let body = format!(
            "You have been invited to join {} on RepoPal as {}.\n\nAccept here: {link}\nor POST the token to /api/v1/invitations/accept: {token}\n\nThe invitation expires in {INVITE_TTL_DAYS} days.\n",
            organisation.name,
            role.as_str()
        );
        queue_email(
            &mut tx,
            email.as_str(),
            &format!("Join {} on RepoPal", organisation.name),
            &body,
        )
        .await?;
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::MemberInvite)
                .org(org)
                .actor(actor)
                .resource(AuditResource::Invitation, invitation.id)
                .meta(json!({
                    "email": email.as_str(),
                    "role": role.as_str(),
                    "superseded": superseded,
                })),
        )
        .await?;
        tx.commit().await?;
        Ok(invitation)
    }

    /// The organisation's open invitations.
    pub async fn invitations(&self, org: OrgId) -> Result<Vec<Invitation>, Error> {
        invitations::pending(&self.pool, org).await
    }

    /// Revokes an open invitation of `org`; another organisation's id is not found.
    pub async fn revoke_invitation(
        &self,
        meta: &ClientMeta,
        caller: Caller,
        org: OrgId,
        id: InvitationId,
    ) -> Result<(), Error> {
        let mut tx = self.pool.begin().await?;
        let invitation = invitations::revoke(&mut *tx, org, id, RevokeReason::Revoked)
            .await?
            .ok_or(Error::NotFound)?;
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::OrgInvitationRevoke)
                .org(org)
                .actor(caller.user_id)
                .resource(AuditResource::Invitation, invitation.id)
                .meta(json!({ "email": invitation.email, "role": invitation.role })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// What an open invitation offers, for the page its link opens: the organisation, the
    /// address it was sent to and the role. Used, expired and revoked tokens answer `invalid_token`.
    pub async fn invitation_preview(&self, token: &str) -> Result<(Org, Invitation), Error> {
        let invitation = invitations::find_by_token(&self.pool, &tokens::hash(token))
            .await?
            .ok_or_else(invalid_token)?;
        if invitation.accepted_at.is_some()
            || invitation.revoked_at.is_some()
            || invitation.expires_at <= Utc::now()
        {
            return Err(invalid_token());
        }
        let org = orgs::find(&self.pool, invitation.org_id)
            .await?
            .ok_or_else(invalid_token)?;
        Ok((org, invitation))
    }

    /// Accepts an invitation addressed to the caller's email, once. A revoked invitation, or one
    /// whose inviter can no longer invite, is refused (`invitation_revoked`).
    pub async fn accept_invitation(
        &self,
        meta: &ClientMeta,
        caller: Caller,
        token: &str,
    ) -> Result<Org, Error> {
        let user = users::find(&self.pool, caller.user_id)
            .await?
            .ok_or(Error::NotFound)?;
        let hash = tokens::hash(token);
        let org_id = invitations::find_by_token(&self.pool, &hash)
            .await?
            .ok_or_else(invalid_token)?
            .org_id;
        let mut tx = self.pool.begin().await?;
        // The organisation first, then the invitation: the order role changes and removals use.
        orgs::lock(&mut tx, org_id).await?;
        let invitation = invitations::lock_by_token(&mut tx, &hash)
            .await?
            .ok_or_else(invalid_token)?;
        if invitation.accepted_at.is_some() || invitation.expires_at <= Utc::now() {
            return Err(invalid_token());
        }
        if invitation.revoked_at.is_some() {
            return Err(revoked());
        }
        if invitation.email != user.email {
            return Err(Error::forbidden(
                "invitation_email_mismatch",
                "This invitation was sent to another email address.",
            ));
        }
        if !can_still_invite(&mut tx, org_id, invitation.invited_by).await? {
            invitations::revoke(
                &mut *tx,
                org_id,
                invitation.id,
                RevokeReason::InviterLostRights,
            )
            .await?;
            audit(
                &mut *tx,
                meta,
                NewEntry::failure(AuditAction::MemberJoin)
                    .org(org_id)
                    .actor(user.id)
                    .resource(AuditResource::Invitation, invitation.id)
                    .meta(json!({ "reason": RevokeReason::InviterLostRights })),
            )
            .await?;
            tx.commit().await?;
            return Err(revoked());
        }
        if !invitations::mark_accepted(&mut tx, org_id, invitation.id).await? {
            return Err(invalid_token());
        }
        let role = invitation.role;
        let joined = orgs::add_member(&mut *tx, org_id, user.id, role).await?;
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::MemberJoin)
                .org(org_id)
                .actor(user.id)
                .resource(AuditResource::Membership, user.id)
                .meta(json!({
                    "role": role.as_str(),
                    "invitation_id": invitation.id,
                    "already_member": !joined,
                })),
        )
        .await?;
        let org = orgs::find(&mut *tx, org_id).await?.ok_or(Error::NotFound)?;
        tx.commit().await?;
        Ok(org)
    }
}
