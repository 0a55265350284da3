//! Ids in paths: one that is not a UUID names nothing, so it is a 404 like an unknown id.

use uuid::Uuid;

use crate::error::ApiError;

/// Parses a path id, answering 404 when it is not a UUID.
pub fn path_uuid(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}
