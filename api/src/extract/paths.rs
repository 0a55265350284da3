//! Path parameters as typed structs: each is both the extractor (`Path<IntegrationPath>`) and the
//! document's parameter list (`params(IntegrationPath)`), so the two cannot disagree. Ids stay
//! text here and are parsed by the handler, so one that is not a UUID is 404 like an unknown one.

use serde::Deserialize;
use utoipa::IntoParams;

/// Path structs: every field is text when extracted and `value_type` in the document.
macro_rules! path_params {
    ($($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident: $kind:ty),+ $(,)? })+) => {$(
        $(#[$doc])*
        #[derive(Debug, Deserialize, IntoParams)]
        #[into_params(parameter_in = Path)]
        pub struct $name {
            $(
                $(#[$fdoc])*
                #[param(value_type = $kind)]
                pub $field: String,
            )+
        }
    )+};
}

path_params! {
    /// `/orgs/{org_id}/integrations/{integration_id}…`
    IntegrationPath {
        /// The organisation's id or slug.
        org_id: String,
        integration_id: uuid::Uuid,
    }
    /// `/orgs/{org_id}/members/{user_id}`
    MemberPath {
        /// The organisation's id or slug.
        org_id: String,
        user_id: uuid::Uuid,
    }
    /// `/orgs/{org_id}/invitations/{invitation_id}`
    InvitationPath {
        /// The organisation's id or slug.
        org_id: String,
        invitation_id: uuid::Uuid,
    }
    /// `/orgs/{org_id}/repositories/{repo_id}…`
    RepositoryPath {
        /// The organisation's id or slug.
        org_id: String,
        repo_id: uuid::Uuid,
    }
    /// `/orgs/{org_id}/incidents/{incident_id}…`
    IncidentPath {
        /// The organisation's id or slug.
        org_id: String,
        incident_id: uuid::Uuid,
    }
    /// `/orgs/{org_id}/workflow-runs/{run_id}…`
    RunPath {
        /// The organisation's id or slug.
        org_id: String,
        run_id: uuid::Uuid,
    }
    /// `/orgs/{org_id}/webhook-deliveries/{delivery_id}…`
    DeliveryPath {
        /// The organisation's id or slug.
        org_id: String,
        delivery_id: uuid::Uuid,
    }
    /// `/orgs/{org_id}/jobs/{job_id}` (a job id is a ULID).
    JobPath {
        /// The organisation's id or slug.
        org_id: String,
        job_id: String,
    }
    /// `/orgs/{org_id}/repositories/{repo_id}/files/{path}` (`path` spans segments).
    FilePath {
        /// The organisation's id or slug.
        org_id: String,
        repo_id: uuid::Uuid,
        /// The file's path in the repository (`src/main.rs`).
        path: String,
    }
    /// `/orgs/{org_id}/repositories/{repo_id}/commits/{sha}/diff`
    CommitPath {
        /// The organisation's id or slug.
        org_id: String,
        repo_id: uuid::Uuid,
        /// The commit's SHA.
        sha: String,
    }
    /// `/auth/sessions/{session_id}`
    SessionPath { session_id: uuid::Uuid }
    /// `/notifications/{notification_id}…`
    NotificationPath { notification_id: uuid::Uuid }
    /// `/oauth/connections/{connection_id}…`
    ConnectionPath { connection_id: uuid::Uuid }
    /// `/jobs/{job_id}` (the caller's own jobs).
    MyJobPath { job_id: String }
    /// `/integration-types/{type}`
    TypePath {
        /// An integration type (`argocd`, `github`, `github_app`, `http`, `slack`).
        #[serde(rename = "type")]
        #[param(rename = "type")]
        kind: String
    }
}
