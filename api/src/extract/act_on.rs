//! `ActOn<P, T>`: a member with permission `P` acting on the one resource the path `T` names —
//! what every write handler on one resource extracted argument by argument (the state, the
//! member, the client's details for the audit log, the path), in the same order, so a bad request
//! is answered as before. The id stays text until [`ActOn::id`], so one that is not a UUID is 404
//! after the body was checked, as before.

use axum::{
    extract::{FromRequestParts, Path},
    http::request::Parts,
    response::{IntoResponse, Response},
};
use common::{
    domain::{IncidentId, IntegrationId, RepositoryId},
    identity::ClientMeta,
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::{
    Client, IncidentPath, IntegrationPath, OrgMember, RepositoryPath, org::Requires, path_id,
};
use crate::{error::ApiError, state::AppState};

/// A path that names one resource of an organisation by its id.
pub trait NamesOne {
    type Id: From<Uuid>;
    /// The id as the path spelled it.
    fn raw_id(&self) -> &str;
}

impl NamesOne for IntegrationPath {
    type Id = IntegrationId;
    fn raw_id(&self) -> &str {
        &self.integration_id
    }
}

impl NamesOne for IncidentPath {
    type Id = IncidentId;
    fn raw_id(&self) -> &str {
        &self.incident_id
    }
}

impl NamesOne for RepositoryPath {
    type Id = RepositoryId;
    fn raw_id(&self) -> &str {
        &self.repo_id
    }
}

/// The member `P` allows, acting through a client on what the path `T` names.
pub struct ActOn<P: Requires, T> {
    pub state: AppState,
    pub member: OrgMember<P>,
    pub meta: ClientMeta,
    pub path: T,
}

impl<P: Requires, T: NamesOne> ActOn<P, T> {
    /// Who acts, in which organisation, from which client: what a write records.
    pub fn acting(&self) -> common::identity::Acting<'_> {
        self.member.acting(&self.meta)
    }

    /// The typed id from the path; not a UUID is not found.
    pub fn id(&self) -> Result<T::Id, ApiError> {
        path_id(self.path.raw_id())
    }
}

impl<P: Requires, T: DeserializeOwned + Send> FromRequestParts<AppState> for ActOn<P, T> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let member = OrgMember::<P>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Client(meta) = Client::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(path) = Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            state: state.clone(),
            member,
            meta,
            path,
        })
    }
}
