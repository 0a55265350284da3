//! `/api/v1/orgs/{org_id}/members` and invitations: list, invite, revoke, change role, remove, accept.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
};
use chrono::{DateTime, Utc};
use common::domain::{Email, InvitationId, OrgId, Role, UserId};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::DoneOut;
use crate::extract::{InvitationPath, MemberPath};
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{
        Client, CurrentUser, FieldErrors, OrgMember, ValidJson, ValidQuery, path_uuid, perm,
    },
    list::{Newest, PageQuery, page_whole},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    pub user_id: UserId,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationOut {
    pub id: InvitationId,
    pub email: String,
    pub role: Role,
    /// Who sent it (`null` once their account is gone).
    pub invited_by: Option<UserId>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<common::repo::invitations::Invitation> for InvitationOut {
    fn from(i: common::repo::invitations::Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role,
            invited_by: i.invited_by,
            expires_at: i.expires_at,
            created_at: i.created_at,
        }
    }
}

impl From<common::repo::orgs::Member> for MemberOut {
    fn from(m: common::repo::orgs::Member) -> Self {
        Self {
            user_id: m.user_id,
            email: m.email,
            full_name: m.full_name,
            role: m.role,
            joined_at: m.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberPageOut {
    pub items: Vec<MemberOut>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationPageOut {
    pub items: Vec<InvitationOut>,
    pub next_cursor: Option<String>,
}

/// Members of the organisation, newest first (open invitations are listed by
/// `GET …/invitations`).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/members", operation_id = "members_list", tag = "orgs", security(("bearer" = [])),
    params(("org_id" = String, Path), PageQuery),
    responses((status = 200, body = MemberPageOut), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember<perm::MembersRead>,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<MemberPageOut> {
    let (members, _) = state.identity.members(member.org_id).await?;
    let (members, next_cursor) =
        page_whole(members, &q, |m| Newest::of(m.created_at, m.user_id.0))?;
    Ok(Envelope(MemberPageOut {
        items: members.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InviteIn {
    #[schema(value_type = crate::request_formats::EmailText)]
    pub email: String,
    #[schema(value_type = common::domain::Role)]
    pub role: String,
}

/// Invite someone by email; the invitation token is emailed (org_admin).
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/invitations", operation_id = "invitations_create", tag = "orgs", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid)), request_body = InviteIn,
    responses((status = 201, body = InvitationOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn invite(
    State(state): State<AppState>,
    member: OrgMember<perm::MembersManage>,
    Client(meta): Client,
    ValidJson(body): ValidJson<InviteIn>,
) -> Result<impl IntoResponse, ApiError> {
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(&body.email));
    let role = errors.check("role", Role::parse(&body.role));
    errors.finish()?;
    let (Some(email), Some(role)) = (email, role) else {
        return Err(ApiError::internal(&"field validation inconsistent"));
    };
    let invitation = state
        .identity
        .invite(&member.acting(&meta), &email, role)
        .await?;
    Ok((
        StatusCode::CREATED,
        Envelope(InvitationOut::from(invitation)),
    ))
}

/// Open invitations, newest first: unused, unrevoked and unexpired (any member, like the member
/// list).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/invitations", operation_id = "invitations_list", tag = "orgs", security(("bearer" = [])),
    params(("org_id" = String, Path), PageQuery),
    responses((status = 200, body = InvitationPageOut), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list_invitations(
    State(state): State<AppState>,
    member: OrgMember<perm::MembersRead>,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<InvitationPageOut> {
    let invitations = state.identity.invitations(member.org_id).await?;
    let (invitations, next_cursor) =
        page_whole(invitations, &q, |i| Newest::of(i.created_at, i.id.0))?;
    Ok(Envelope(InvitationPageOut {
        items: invitations.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Revoke an open invitation: its token stops working (org_admin).
#[utoipa::path(delete, path = "/api/v1/orgs/{org_id}/invitations/{invitation_id}", operation_id = "invitations_delete", tag = "orgs", security(("bearer" = [])),
    params(InvitationPath),
    responses((status = 200, body = DoneOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    member: OrgMember<perm::MembersManage>,
    Client(meta): Client,
    Path(InvitationPath { invitation_id, .. }): Path<InvitationPath>,
) -> ApiResult<DoneOut> {
    let id = path_uuid(&invitation_id).map(InvitationId)?;
    state
        .identity
        .revoke_invitation(&meta, member.caller, member.org_id, id)
        .await?;
    Ok(Envelope(DoneOut { ok: true }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleIn {
    #[schema(value_type = common::domain::Role)]
    pub role: String,
}

fn member_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse().map(UserId).map_err(|_| ApiError::not_found())
}

/// Change a member's role; the last org_admin cannot be demoted (org_admin).
#[utoipa::path(patch, path = "/api/v1/orgs/{org_id}/members/{user_id}", operation_id = "members_update", tag = "orgs", security(("bearer" = [])),
    params(MemberPath), request_body = RoleIn,
    responses((status = 200, description = "The member with their new role", body = MemberOut), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "last_admin", body = ErrorEnvelope)))]
pub async fn change_role(
    State(state): State<AppState>,
    member: OrgMember<perm::MembersManage>,
    Client(meta): Client,
    Path(MemberPath { user_id, .. }): Path<MemberPath>,
    ValidJson(body): ValidJson<RoleIn>,
) -> ApiResult<MemberOut> {
    let target = member_id(&user_id)?;
    let mut errors = FieldErrors::default();
    let role = errors.check("role", Role::parse(&body.role));
    errors.finish()?;
    let role = role.ok_or_else(|| ApiError::internal(&"field validation inconsistent"))?;
    state
        .identity
        .change_role(&member.acting(&meta), target, role)
        .await?;
    let (members, _) = state.identity.members(member.org_id).await?;
    let updated = members
        .into_iter()
        .find(|m| m.user_id == target)
        .ok_or_else(ApiError::not_found)?;
    Ok(Envelope(updated.into()))
}

/// Remove a member; the last org_admin cannot be removed (org_admin).
#[utoipa::path(delete, path = "/api/v1/orgs/{org_id}/members/{user_id}", operation_id = "members_delete", tag = "orgs", security(("bearer" = [])),
    params(MemberPath),
    responses((status = 200, body = DoneOut), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "last_admin", body = ErrorEnvelope)))]
pub async fn remove(
    State(state): State<AppState>,
    member: OrgMember<perm::MembersManage>,
    Client(meta): Client,
    Path(MemberPath { user_id, .. }): Path<MemberPath>,
) -> ApiResult<DoneOut> {
    let target = member_id(&user_id)?;
    state
        .identity
        .remove_member(&meta, member.caller, member.org_id, target)
        .await?;
    Ok(Envelope(DoneOut { ok: true }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AcceptIn {
    #[schema(value_type = crate::request_formats::InviteToken)]
    pub token: SecretString,
}

/// Accept an invitation sent to the signed-in user's email.
#[utoipa::path(post, path = "/api/v1/invitations/accept", operation_id = "invitations_accept", tag = "orgs", security(("bearer" = [])), request_body = AcceptIn,
    responses((status = 200, body = OrgBriefOut), (status = 400, description = "invalid_token", body = ErrorEnvelope),
              (status = 403, description = "invitation_email_mismatch", body = ErrorEnvelope)))]
pub async fn accept(
    State(state): State<AppState>,
    Client(meta): Client,
    CurrentUser(caller): CurrentUser,
    ValidJson(body): ValidJson<AcceptIn>,
) -> ApiResult<OrgBriefOut> {
    let org = state
        .identity
        .accept_invitation(&meta, caller, body.token.expose_secret())
        .await?;
    Ok(Envelope(OrgBriefOut {
        id: org.id,
        slug: org.slug,
        name: org.name,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgBriefOut {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
}
