//! The members page: members with role change and removal, open invitations with revoke, and
//! sending an invitation.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use common::domain::{Email, InvitationId, Permission, Role, UserId};
use serde::Deserialize;

use super::{
    account::PageQuery,
    home::OrgCtx,
    page::{ConsoleError, Layout, ok, render},
    session::{Console, Posted, Signed, urlencode},
};
use crate::{extract::Client, state::AppState};

pub struct MemberRow {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub is_me: bool,
}

pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub role: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    l: Layout,
    slug: String,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    roles: Vec<&'static str>,
    can_manage: bool,
    error: Option<String>,
    invite_email: String,
}

async fn page(
    state: &AppState,
    signed: &Signed,
    slug: &str,
    notice: Option<&str>,
) -> Result<MembersPage, ConsoleError> {
    let (org, l) = OrgCtx::load(state, signed, slug, "Members").await?;
    org.require(Permission::MembersRead)?;
    let (members, invitations) = state.identity.members(org.id).await?;
    let can_manage = org.role.allows(Permission::MembersManage);
    Ok(MembersPage {
        l: l.with_notice(notice),
        slug: org.slug,
        members: members
            .into_iter()
            .map(|m| MemberRow {
                is_me: m.user_id == signed.caller.user_id,
                user_id: m.user_id.to_string(),
                name: m.full_name,
                email: m.email,
                role: m.role.to_string(),
            })
            .collect(),
        invitations: if can_manage {
            invitations
                .into_iter()
                .map(|i| InvitationRow {
                    id: i.id.to_string(),
                    email: i.email,
                    role: i.role.to_string(),
                    expires: i.expires_at.format("%Y-%m-%d").to_string(),
                })
                .collect()
        } else {
            Vec::new()
        },
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        can_manage,
        error: None,
        invite_email: String::new(),
    })
}

/// `GET /orgs/{slug}/members`.
pub async fn show(
    State(state): State<AppState>,
    Console(signed): Console,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, ConsoleError> {
    Ok(ok(&page(&state, &signed, &slug, q.notice.as_deref()).await?))
}

fn back(slug: &str, notice: &str) -> Response {
    Redirect::to(&format!(
        "/orgs/{}/members?notice={notice}",
        urlencode(slug)
    ))
    .into_response()
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// `POST /orgs/{slug}/members/invite`.
pub async fn invite(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path(slug): Path<String>,
    Posted { form, .. }: Posted<InviteForm>,
) -> Result<Response, ConsoleError> {
    let (org, _) = OrgCtx::load(&state, &signed, &slug, "Members").await?;
    org.require(Permission::MembersManage)?;
    let parsed = Email::parse(&form.email)
        .map_err(|e| format!("Email {e}."))
        .and_then(|email| {
            Role::parse(&form.role)
                .map(|r| (email, r))
                .map_err(|e| format!("Role {e}."))
        });
    let result = match parsed {
        Ok((email, role)) => state
            .identity
            .invite(&org.acting(&signed, &meta), &email, role)
            .await
            .map(|_| ())
            .map_err(ConsoleError::from),
        Err(problem) => Err(ConsoleError::new(StatusCode::UNPROCESSABLE_ENTITY, problem)),
    };
    match result {
        Ok(()) => Ok(back(&org.slug, "invitation_sent")),
        Err(e) => {
            let mut p = page(&state, &signed, &slug, None).await?;
            p.error = Some(e.message);
            p.invite_email = form.email;
            Ok(render(e.status, &p))
        }
    }
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /orgs/{slug}/invitations/{id}/revoke`.
pub async fn revoke_invitation(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path((slug, id)): Path<(String, String)>,
    Posted { .. }: Posted<Empty>,
) -> Result<Response, ConsoleError> {
    let (org, _) = OrgCtx::load(&state, &signed, &slug, "Members").await?;
    org.require(Permission::MembersManage)?;
    let id = ConsoleError::page_id::<InvitationId>(&id)?;
    state
        .identity
        .revoke_invitation(&meta, signed.caller, org.id, id)
        .await?;
    Ok(back(&org.slug, "invitation_revoked"))
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST /orgs/{slug}/members/{user_id}/{role|remove}`.
pub async fn change(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path((slug, user, action)): Path<(String, String, String)>,
    Posted { form, .. }: Posted<RoleForm>,
) -> Result<Response, ConsoleError> {
    let (org, _) = OrgCtx::load(&state, &signed, &slug, "Members").await?;
    org.require(Permission::MembersManage)?;
    let user = user
        .parse()
        .map(UserId)
        .map_err(|_| ConsoleError::not_found())?;
    match action.as_str() {
        "role" => {
            let role = Role::parse(&form.role).map_err(|e| {
                ConsoleError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("Role {e}."))
            })?;
            state
                .identity
                .change_role(&org.acting(&signed, &meta), user, role)
                .await?;
            Ok(back(&org.slug, "role_changed"))
        }
        "remove" => {
            state
                .identity
                .remove_member(&meta, signed.caller, org.id, user)
                .await?;
            Ok(back(&org.slug, "member_removed"))
        }
        _ => Err(ConsoleError::not_found()),
    }
}
