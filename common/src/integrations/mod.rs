//! Integrations: an organisation's connections to other tools (see `catalogue`), with credentials
//! sealed at rest and write-only through the API (only masked hints come back), every credential
//! change and every decrypt audit-logged, connection tests (`testers`) and health checks on a
//! schedule (`check`, `health`).

mod alert;
pub mod catalogue;
mod check;
mod connection;
mod credentials;
mod failure;
pub mod health;
mod manage;
pub mod providers;
mod refresh;
mod schedule;
mod slack_connect;
mod sync;
mod testers;
mod tokens;
mod trial;
mod validate;

pub use alert::{post_alert, slack_post_error};
pub use check::{CheckRun, check_due, run_check};
pub use connection::{replace_credentials, test_now};
pub use credentials::decrypt;
pub use failure::Failure;
pub use manage::{
    Acting, CredentialsIn, IntegrationIn, IntegrationPatch, Toggle, create, delete, set_enabled,
    sync, update,
};
pub use providers::SyncOutcome;
pub use providers::argocd::ArgoSettings;
pub use refresh::{OnRefusal, RefreshRequest, refresh_token};
pub use schedule::{schedule_check, whole_second};
pub use slack_connect::{SlackAuthorize, SlackConnect};
pub use sync::{SyncRun, applications_of, run_sync, schedule_sync, sync_due, synced_kinds};
pub use testers::{TestReport, Tester};
pub use tokens::{
    SlackToken, bot_token_of, mark_refused, slack_bot_token, slack_channels, slack_channels_of,
};
pub use trial::test_unsaved;
