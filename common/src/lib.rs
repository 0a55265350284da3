//! Shared core of RepoPal: configuration, database access, SQL, job definitions and telemetry.

pub mod analytics;
pub mod config;
pub mod crypto;
pub mod db;
pub mod db_status;
pub mod domain;
pub mod error;
pub mod github;
pub mod identity;
pub mod incidents;
pub mod integrations;
pub mod jobs;
pub mod net;
pub mod remote_time;
pub mod repo;
pub mod services;
pub mod slack;
pub mod telemetry;
pub mod webhooks;
pub mod workflows;

pub use error::Error;
