//! Route modules, one per resource.

pub mod analytics;
pub mod audit_logs;
pub mod auth;
pub mod auth_sessions;
pub mod github_app;
pub mod github_login;
pub mod health;
pub mod incidents;
pub mod integration_actions;
pub mod integration_applications;
pub mod integration_health;
pub mod integration_types;
pub mod integrations;
pub mod jobs;
pub mod members;
pub mod metrics;
pub mod notifications;
pub mod oauth_connections;
pub mod orgs;
pub mod passwords;
pub mod repositories;
pub mod repository_context;
pub mod slack_connect;
pub mod webhook_deliveries;
pub mod webhooks;
pub mod workflow_runs;
