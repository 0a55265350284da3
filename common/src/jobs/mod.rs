//! Job definitions: payloads, permanent queue names and enqueueing inside the caller's transaction.
//! This module and the worker's runner are the only places that know about apalis.

mod check_integration;
mod incident_context;
mod noop;
mod notify_integration_health;
mod notify_slack;
mod probe;
mod process_webhook;
mod prune;
mod push;
mod queue;
mod refresh_integration_token;
mod refresh_oauth_token;
mod repository_webhook;
mod rerun_workflow;
mod send_email;
mod sync_repositories;

pub use check_integration::{CheckDueIntegrations, CheckIntegration};
pub use incident_context::IncidentContext;
pub use noop::Noop;
pub use notify_integration_health::NotifyIntegrationHealth;
pub use notify_slack::NotifySlack;
pub use probe::{Probe, ProbeBehaviour};
pub use process_webhook::ProcessWebhook;
pub use prune::PruneJobs;
pub use push::{Enqueue, JobId, push, push_many, push_with};
pub use queue::{ALL_QUEUES, Queue};
pub use refresh_integration_token::RefreshIntegrationToken;
pub use refresh_oauth_token::{RefreshDueTokens, RefreshOAuthToken};
pub use repository_webhook::{HookAction, RepositoryWebhook};
pub use rerun_workflow::RerunWorkflow;
pub use send_email::SendEmail;
pub use sync_repositories::{SyncConnectionRepositories, SyncRepositories};

use serde::{Serialize, de::DeserializeOwned};

/// A job payload: small, made of ids, and bound to exactly one queue.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    const QUEUE: Queue;
}
