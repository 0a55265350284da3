//! Every integration test in one binary (links once; nextest still runs each test in its own process).

mod api_foundation;
mod auth;
mod config;
mod crash_recovery;
mod database_outage;
mod github_app;
mod github_login;
mod http_hardening;
mod incidents;
mod integration_health;
mod integrations;
mod jobs;
mod keys;
mod no_secrets;
mod no_secrets_integrations;
mod no_secrets_slack;
mod oauth_connections;
mod orgs;
mod scheduler;
mod webhooks;
