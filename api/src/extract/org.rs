//! `OrgMember<P>`: the caller is a member of the organisation in the path (named by its id or its
//! slug) and their role grants
//! permission `P`. A non-member gets 404 (the organisation's existence is not revealed); a member
//! without the permission gets 403 and leaves an `authz.denied` audit entry. Every organisation
//! route takes this extractor first.

use std::{collections::HashMap, marker::PhantomData};

use axum::{
    extract::{FromRequestParts, MatchedPath, Path},
    http::{StatusCode, request::Parts},
};
use common::{
    domain::{OrgId, Permission, Role},
    identity::{Acting, Caller, ClientMeta, Denial},
};

use super::{Client, CurrentUser};
use crate::{error::ApiError, state::AppState};

/// A permission an organisation route requires, as a type.
pub trait Requires: Send + Sync + 'static {
    const PERMISSION: Permission;
}

/// The permission markers (one per `Permission`).
pub mod perm {
    use super::{Permission, Requires};

    macro_rules! marker {
        ($name:ident) => {
            pub struct $name;
            impl Requires for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        };
    }

    marker!(OrgRead);
    marker!(OrgUpdate);
    marker!(OrgDelete);
    marker!(MembersRead);
    marker!(MembersManage);
    marker!(AuditRead);
    marker!(WebhooksRead);
    marker!(WebhooksReplay);
    marker!(GithubManage);
    marker!(ReposRead);
    marker!(JobsRead);
    marker!(ReposManage);
    marker!(IncidentsRead);
    marker!(IncidentsManage);
    marker!(WorkflowsRerun);
    marker!(IntegrationsRead);
    marker!(IntegrationsManage);
}

pub struct OrgMember<P: Requires> {
    pub org_id: OrgId,
    pub role: Role,
    pub caller: Caller,
    _permission: PhantomData<P>,
}

impl<P: Requires> OrgMember<P> {
    /// The member acting on the organisation from `meta` (for the audit log).
    pub fn acting<'a>(&self, meta: &'a ClientMeta) -> Acting<'a> {
        Acting {
            meta,
            org: self.org_id,
            actor: self.caller.user_id,
        }
    }
}

impl<P: Requires> FromRequestParts<AppState> for OrgMember<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CurrentUser(caller) = CurrentUser::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        // `{org_id}` holds the id or the slug (`{org}` is read too, for routes named so).
        let segment = params
            .get("org_id")
            .or_else(|| params.get("org"))
            .ok_or_else(ApiError::not_found)?;
        let (org_id, role) = state
            .identity
            .resolve_org(caller, segment)
            .await?
            .ok_or_else(ApiError::not_found)?;
        if !role.allows(P::PERMISSION) {
            let meta = Client::from_request_parts(parts, state)
                .await
                .map(|c| c.0)
                .unwrap_or_default();
            let route = parts
                .extensions
                .get::<MatchedPath>()
                .map_or("", MatchedPath::as_str);
            let denial = Denial {
                org: org_id,
                role,
                permission: P::PERMISSION,
                method: parts.method.as_str(),
                route,
            };
            state.identity.record_denial(&meta, caller, denial).await;
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Your role in this organisation does not allow this.",
            ));
        }
        Ok(Self {
            org_id,
            role,
            caller,
            _permission: PhantomData,
        })
    }
}
