//! Path parameters as typed structs: each is both the extractor (`Path<IntegrationPath>`) and the
//! document's parameter list (`params(IntegrationPath)`), so the two cannot disagree. Ids stay
//! text here and are parsed by the handler, so one that is not a UUID is 404 like an unknown one.

use serde::Deserialize;
use utoipa::IntoParams;

macro_rules! org_path {
    ($(#[$doc:meta])* $name:ident { $field:ident: $kind:ty }) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize, IntoParams)]
        #[into_params(parameter_in = Path)]
        pub struct $name {
            /// The organisation's id or slug.
            pub org_id: String,
            #[param(value_type = $kind)]
            pub $field: String,
        }
    };
}

org_path!(
    /// `/orgs/{org_id}/integrations/{integration_id}…`
    IntegrationPath { integration_id: uuid::Uuid }
);
org_path!(
    /// `/orgs/{org_id}/members/{user_id}`
    MemberPath { user_id: uuid::Uuid }
);
org_path!(
    /// `/orgs/{org_id}/invitations/{invitation_id}`
    InvitationPath { invitation_id: uuid::Uuid }
);
org_path!(
    /// `/orgs/{org_id}/repositories/{repo_id}…`
    RepositoryPath { repo_id: uuid::Uuid }
);
org_path!(
    /// `/orgs/{org_id}/incidents/{incident_id}…`
    IncidentPath { incident_id: uuid::Uuid }
);
org_path!(
    /// `/orgs/{org_id}/workflow-runs/{run_id}…`
    RunPath { run_id: uuid::Uuid }
);
org_path!(
    /// `/orgs/{org_id}/webhook-deliveries/{delivery_id}…`
    DeliveryPath { delivery_id: uuid::Uuid }
);
org_path!(
    /// `/orgs/{org_id}/jobs/{job_id}` (a job id is a ULID).
    JobPath { job_id: String }
);

macro_rules! id_path {
    ($(#[$doc:meta])* $name:ident { $(#[$fdoc:meta])* $field:ident: $kind:ty }) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize, IntoParams)]
        #[into_params(parameter_in = Path)]
        pub struct $name {
            $(#[$fdoc])*
            #[param(value_type = $kind)]
            pub $field: String,
        }
    };
}

id_path!(
    /// `/auth/sessions/{session_id}`
    SessionPath { session_id: uuid::Uuid }
);
id_path!(
    /// `/notifications/{notification_id}…`
    NotificationPath { notification_id: uuid::Uuid }
);
id_path!(
    /// `/oauth/connections/{connection_id}…`
    ConnectionPath { connection_id: uuid::Uuid }
);
id_path!(
    /// `/jobs/{job_id}` (the caller's own jobs).
    MyJobPath { job_id: String }
);
id_path!(
    /// `/integration-types/{type}`
    TypePath {
        /// An integration type (`argocd`, `github`, `github_app`, `http`, `slack`).
        #[serde(rename = "type")]
        #[param(rename = "type")]
        kind: String
    }
);

/// `/orgs/{org_id}/repositories/{repo_id}/files/{path}` (`path` spans segments).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FilePath {
    /// The organisation's id or slug.
    pub org_id: String,
    #[param(value_type = uuid::Uuid)]
    pub repo_id: String,
    /// The file's path in the repository (`src/main.rs`).
    pub path: String,
}

/// `/orgs/{org_id}/repositories/{repo_id}/commits/{sha}/diff`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CommitPath {
    /// The organisation's id or slug.
    pub org_id: String,
    #[param(value_type = uuid::Uuid)]
    pub repo_id: String,
    /// The commit's SHA.
    pub sha: String,
}
