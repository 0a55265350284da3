//! Route modules, one per resource.

pub mod health;
pub mod metrics;
