//! Extractors: who is calling (client, user), which organisation and with what permission, and
//! JSON bodies parsed with errors in the envelope.

mod act_on;
mod client;
mod json;
mod org;
mod path;
mod paths;
mod user;

pub use act_on::{ActOn, NamesOne};
pub use client::{Client, client_ip};
pub use json::{FieldErrors, ValidJson, ValidQuery, refuse_nul_in_uri};
pub use org::{OrgMember, perm};
pub use path::{path_id, path_uuid};
pub use paths::{
    CommitPath, ConnectionPath, DeliveryPath, FilePath, IncidentPath, IntegrationPath,
    InvitationPath, JobPath, MemberPath, MyJobPath, NotificationPath, RepositoryPath, RunPath,
    SessionPath, TypePath,
};
pub use user::CurrentUser;
