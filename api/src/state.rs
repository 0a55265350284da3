//! Shared state handed to every handler.

use std::sync::Arc;

use common::config::{ApiConfig, Config};
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub api: Arc<ApiConfig>,
    pub metrics: PrometheusHandle,
}
