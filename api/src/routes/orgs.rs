//! `/api/v1/orgs`: create, list mine, get, update, delete.

use axum::{extract::State, http::StatusCode, response::IntoResponse};
use chrono::{DateTime, Utc};
use common::{
    domain::{OrgId, Role},
    repo::orgs::Org,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{DoneOut, OrgRoleOut};
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{Client, CurrentUser, FieldErrors, OrgMember, ValidJson, ValidQuery, perm},
    list::{ByName, PageQuery, page_whole},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgOut {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// The caller's role.
    pub role: Role,
}

impl OrgOut {
    fn new(org: Org, role: Role) -> Self {
        Self {
            id: org.id,
            slug: org.slug,
            name: org.name,
            created_at: org.created_at,
            role,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OrgIn {
    #[schema(value_type = crate::request_formats::DisplayName)]
    pub name: String,
    /// Lower-case letters, digits and single dashes, 3–48 characters; derived from the name when absent.
    #[schema(value_type = Option<crate::request_formats::Slug>)]
    pub slug: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OrgPatch {
    #[schema(value_type = Option<crate::request_formats::DisplayName>)]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::request_formats::Slug>)]
    pub slug: Option<String>,
}

fn check_fields(errors: &mut FieldErrors, name: Option<&str>, slug: Option<&str>) {
    for (field, problem) in common::identity::org_field_problems(name, slug) {
        errors.refuse(field, problem);
    }
}

/// Create an organisation; the caller becomes its org_admin.
#[utoipa::path(post, path = "/api/v1/orgs", operation_id = "orgs_create", tag = "orgs", security(("bearer" = [])), request_body = OrgIn,
    responses((status = 201, body = OrgOut), (status = 409, description = "slug_taken", body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    Client(meta): Client,
    CurrentUser(caller): CurrentUser,
    ValidJson(body): ValidJson<OrgIn>,
) -> Result<impl IntoResponse, ApiError> {
    let mut errors = FieldErrors::default();
    check_fields(&mut errors, Some(&body.name), body.slug.as_deref());
    errors.finish()?;
    let org = state
        .identity
        .create_org(&meta, caller, &body.name, body.slug.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Envelope(OrgOut::new(org, Role::OrgAdmin)),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgPageOut {
    pub items: Vec<OrgRoleOut>,
    pub next_cursor: Option<String>,
}

/// The organisations the caller belongs to, by slug, with their role in each.
#[utoipa::path(get, path = "/api/v1/orgs", operation_id = "orgs_list", tag = "orgs", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = OrgPageOut), (status = 400, body = ErrorEnvelope)))]
pub async fn list_mine(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<OrgPageOut> {
    let orgs = state.identity.my_orgs(caller).await?;
    let (orgs, next_cursor) = page_whole(orgs, &q, |o| ByName(o.slug.clone()))?;
    Ok(Envelope(OrgPageOut {
        next_cursor,
        items: orgs.into_iter().map(Into::into).collect(),
    }))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}", operation_id = "orgs_get", tag = "orgs", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid)),
    responses((status = 200, body = OrgOut), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    member: OrgMember<perm::OrgRead>,
) -> ApiResult<OrgOut> {
    let org = state.identity.org(member.org_id).await?;
    Ok(Envelope(OrgOut::new(org, member.role)))
}

/// Rename an organisation or change its slug (org_admin).
#[utoipa::path(patch, path = "/api/v1/orgs/{org_id}", operation_id = "orgs_update", tag = "orgs", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid)), request_body = OrgPatch,
    responses((status = 200, body = OrgOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "slug_taken", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(state): State<AppState>,
    member: OrgMember<perm::OrgUpdate>,
    Client(meta): Client,
    ValidJson(body): ValidJson<OrgPatch>,
) -> ApiResult<OrgOut> {
    let mut errors = FieldErrors::default();
    check_fields(&mut errors, body.name.as_deref(), body.slug.as_deref());
    errors.finish()?;
    let org = state
        .identity
        .update_org(
            &member.acting(&meta),
            body.name.as_deref(),
            body.slug.as_deref(),
        )
        .await?;
    Ok(Envelope(OrgOut::new(org, member.role)))
}

/// Delete an organisation and everything in it (org_admin).
#[utoipa::path(delete, path = "/api/v1/orgs/{org_id}", operation_id = "orgs_delete", tag = "orgs", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid)),
    responses((status = 200, body = DoneOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(
    State(state): State<AppState>,
    member: OrgMember<perm::OrgDelete>,
    Client(meta): Client,
) -> ApiResult<DoneOut> {
    state
        .identity
        .delete_org(&meta, member.caller, member.org_id)
        .await?;
    Ok(Envelope(DoneOut { ok: true }))
}
