//! Configuration: every setting comes from the environment, parsed once at boot into typed structs.
//!
//! A missing or malformed required variable is an error that names the variable, so start-up fails
//! with a message an operator can act on. Every variable here is documented in `.env.example` and the
//! README table.

mod api;
mod app;
mod auth;
mod database;
mod github;
mod health;
mod parse;
mod retention;
mod slack;
mod worker;

#[cfg(test)]
mod tests;

pub use api::ApiConfig;
pub use app::{Config, LogConfig, LogFormat, MailConfig};
pub use auth::AuthConfig;
pub use database::DatabaseConfig;
pub use github::GithubConfig;
pub use health::HealthConfig;
pub use retention::RetentionConfig;
pub use slack::SlackConfig;
pub use worker::{QueueOverride, WorkerConfig};

use std::collections::HashMap;

/// A configuration problem, always naming the variable at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required but not set")]
    Missing(&'static str),
    #[error("{name} is malformed: {reason}")]
    Malformed { name: &'static str, reason: String },
}

/// Where variables are read from: the process environment in production, a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name)
            .cloned()
            .filter(|v| !v.trim().is_empty())
    }
}
