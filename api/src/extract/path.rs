//! Ids in paths: one that is not a UUID names nothing, so it is a 404 like an unknown id.

use uuid::Uuid;

use crate::error::ApiError;

/// Parses a path id, answering 404 when it is not a UUID.
pub fn path_uuid(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

/// Parses a path id into its typed id, answering 404 when it is not a UUID.
pub fn path_id<T: From<Uuid>>(raw: &str) -> Result<T, ApiError> {
    path_uuid(raw).map(T::from)
}
