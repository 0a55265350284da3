//! Job definitions: payloads, permanent queue names and enqueueing inside the caller's transaction.
//! This module and the worker's runner are the only places that know about apalis.
//!
//! Adding a job: a payload type whose `impl Job` declares its queue (name and policy), one line in
//! `for_each_job!`, and a handler in the worker (`worker::jobs`) bound with its `handler!` macro.
//! The worker cannot compile without a handler for every job listed here.

mod check_integration;
mod check_repository_hooks;
mod incident_context;
mod noop;
mod notify_integration_health;
mod notify_slack;
mod probe;
mod process_webhook;
mod prune;
mod prune_history;
mod push;
mod queue;
mod redeliver_webhooks;
mod refresh_integration_token;
mod refresh_oauth_token;
mod repository_webhook;
mod rerun_workflow;
mod send_email;
mod sync_integration;
mod sync_repositories;
mod trace;

pub use check_integration::{CheckDueIntegrations, CheckIntegration};
pub use check_repository_hooks::CheckRepositoryHooks;
pub use incident_context::IncidentContext;
pub use noop::Noop;
pub use notify_integration_health::NotifyIntegrationHealth;
pub use notify_slack::NotifySlack;
pub use probe::{Probe, ProbeBehaviour};
pub use process_webhook::ProcessWebhook;
pub use prune::PruneJobs;
pub use prune_history::PruneHistory;
pub use push::{Enqueue, JobId, push, push_many, push_many_traced, push_with};
pub use queue::Queue;
pub use redeliver_webhooks::RedeliverWebhooks;
pub use refresh_integration_token::RefreshIntegrationToken;
pub use refresh_oauth_token::{RefreshDueTokens, RefreshOAuthToken};
pub use repository_webhook::{HookAction, RepositoryWebhook};
pub use rerun_workflow::RerunWorkflow;
pub use send_email::SendEmail;
pub use sync_integration::{SyncDueIntegrations, SyncIntegration};
pub use sync_repositories::{SyncConnectionRepositories, SyncRepositories};
pub use trace::{current_request_id, take_request_id, with_request_id};

use serde::{Serialize, de::DeserializeOwned};

/// The queues whose jobs work on an organisation's integrations (checks, syncs, token refreshes,
/// health alerts): their errors describe the integration, so only roles that may read
/// integrations see them in the organisation's job list.
pub const INTEGRATION_QUEUES: [&str; 4] = [
    CheckIntegration::QUEUE.name,
    SyncIntegration::QUEUE.name,
    RefreshIntegrationToken::QUEUE.name,
    NotifyIntegrationHealth::QUEUE.name,
];

/// A job payload: small, made of ids, and bound to exactly one queue.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    const QUEUE: Queue;
}

/// Every job type, once. Calls `$callback! { Type, Type, ... }`: the queue list below and the
/// worker's registrations are both generated from this list, so they cannot drift apart.
#[macro_export]
macro_rules! for_each_job {
    ($callback:ident) => {
        $callback! {
            $crate::jobs::Noop,
            $crate::jobs::Probe,
            $crate::jobs::PruneJobs,
            $crate::jobs::PruneHistory,
            $crate::jobs::SendEmail,
            $crate::jobs::ProcessWebhook,
            $crate::jobs::SyncRepositories,
            $crate::jobs::SyncConnectionRepositories,
            $crate::jobs::RepositoryWebhook,
            $crate::jobs::RefreshOAuthToken,
            $crate::jobs::RefreshDueTokens,
            $crate::jobs::IncidentContext,
            $crate::jobs::NotifySlack,
            $crate::jobs::RerunWorkflow,
            $crate::jobs::CheckIntegration,
            $crate::jobs::CheckDueIntegrations,
            $crate::jobs::RefreshIntegrationToken,
            $crate::jobs::NotifyIntegrationHealth,
            $crate::jobs::RedeliverWebhooks,
            $crate::jobs::CheckRepositoryHooks,
            $crate::jobs::SyncIntegration,
            $crate::jobs::SyncDueIntegrations,
        }
    };
}

macro_rules! queues_of {
    ($($job:ty),* $(,)?) => {
        &[$(<$job as Job>::QUEUE),*]
    };
}

/// Every queue a worker process serves, in `for_each_job!` order.
pub const ALL_QUEUES: &[Queue] = for_each_job!(queues_of);
