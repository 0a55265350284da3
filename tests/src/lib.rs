//! Test harness shared by every integration test: a fresh database per test (cloned from a
//! migrated template and dropped afterwards), the router driven in-process, in-process workers
//! and queue draining, the real binaries, and a private PostgreSQL cluster for outage tests.

pub mod app;
pub mod auth;
pub mod bench;
pub mod browser;
pub mod cluster;
pub mod console;
pub mod db;
pub mod fake_argocd;
pub mod fake_faults;
pub mod fake_github;
pub mod fake_slack;
pub mod fake_smtp;
pub mod fake_target;
pub mod health;
pub mod http;
pub mod log_capture;
pub mod monitored;
pub mod oauth_monitored;
pub mod process;
pub mod resources;
pub mod setup;
pub mod shapes;
pub mod tls;
pub mod worker;

pub use cluster::TempCluster;
pub use db::TestDb;
pub use http::TestApp;
pub use setup::Setup;
