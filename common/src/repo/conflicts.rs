//! Unique-constraint violations as the 409 conflicts they mean, from one table keyed by constraint name.

use crate::Error;

/// Named unique constraint (or unique index) → (stable code, message). A violation of a
/// constraint not listed here is a bug, not a conflict: it stays a 500 (logged).
pub const CONFLICTS: &[(&str, &str, &str)] = &[
    (
        "users_email_key",
        "email_taken",
        "An account with this email already exists.",
    ),
    (
        "organizations_slug_key",
        "slug_taken",
        "An organisation with this slug already exists.",
    ),
    (
        "oauth_connections_provider_user_key",
        "already_linked",
        "This GitHub account is linked to another user.",
    ),
    (
        "integrations_org_name_key",
        "integration_name_taken",
        "an integration with this name already exists",
    ),
    (
        "integrations_installation_idx",
        "installation_already_watched",
        "an integration already watches this installation",
    ),
    (
        "incidents_open_dedupe_key",
        "incident_already_open",
        "another incident for this workflow and branch is open",
    ),
];

/// The conflict `e` means when it is a unique violation of a listed constraint; otherwise `e`
/// unchanged (an unlisted constraint is logged by name here, and reaches the caller as a 500).
pub fn map(e: impl Into<Error>) -> Error {
    let e = e.into();
    let Some(name) = e.unique_constraint() else {
        return e;
    };
    match CONFLICTS.iter().find(|(c, ..)| *c == name) {
        Some(&(_, code, message)) => Error::conflict(code, message),
        None => {
            tracing::error!(
                constraint = name,
                "unique violation of an unmapped constraint"
            );
            e
        }
    }
}
