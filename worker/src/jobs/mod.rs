//! One file per job handler; each binds its handler to its job type with `handler!`, and the
//! registrations are generated from `common::for_each_job!`, so a job without a handler (or a
//! handler for two queues) does not compile.

use std::future::Future;

use common::jobs::Job;

use crate::{context::JobContext, error::JobError};

/// The one handler of a job type (and so of its queue).
pub trait Handler: Job {
    fn run(self, ctx: JobContext) -> impl Future<Output = Result<(), JobError>> + Send + 'static;
}

/// `handler!(Job => function)`: makes `function` the handler of `Job`'s queue.
macro_rules! handler {
    ($job:ty => $run:path) => {
        impl $crate::jobs::Handler for $job {
            fn run(
                self,
                ctx: $crate::context::JobContext,
            ) -> impl ::std::future::Future<Output = Result<(), $crate::error::JobError>>
            + Send
            + 'static {
                $run(self, ctx)
            }
        }
    };
}

pub mod check_integration;
pub mod check_repository_hooks;
pub mod incident_context;
pub mod noop;
pub mod notify_integration_health;
pub mod notify_slack;
pub mod probe;
pub mod process_webhook;
pub mod prune;
pub mod prune_history;
pub mod redeliver_webhooks;
pub mod refresh_integration_token;
pub mod refresh_oauth_token;
pub mod repository_webhook;
pub mod rerun_workflow;
pub mod send_email;
pub mod sync_integration;
pub mod sync_repositories;
