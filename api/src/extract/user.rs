//! `CurrentUser`: a valid bearer access token whose session is still active.

use axum::{
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
};
use common::identity::Caller;

use crate::{error::ApiError, state::AppState};

#[derive(Debug, Clone, Copy)]
pub struct CurrentUser(pub Caller);

fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "A valid access token is required.",
    )
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(Self(*caller));
        }
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or_else(unauthorized)?;
        let caller = state
            .identity
            .authenticate(token.trim())
            .await?
            .ok_or_else(unauthorized)?;
        parts.extensions.insert(caller);
        Ok(Self(caller))
    }
}
