//! Shared state handed to every handler.

use std::sync::Arc;

use common::{
    config::{ApiConfig, Config},
    identity::Identity,
    webhooks::WebhookReceiver,
};
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;

use crate::rate_limit::AuthLimiter;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub api: Arc<ApiConfig>,
    pub metrics: PrometheusHandle,
    pub identity: Identity,
    pub webhooks: WebhookReceiver,
    pub github: common::github::Github,
    pub slack: common::slack::Slack,
    /// Connection tests of integrations.
    pub tester: common::integrations::Tester,
    pub auth_limiter: AuthLimiter,
    /// Keys for the signed states of the install and "Add to Slack" flows, derived once at boot.
    pub state_keys: Arc<common::crypto::purpose_keys::StateKeys>,
    /// Webhook body bytes being read at once (`WEBHOOK_MAX_INFLIGHT_BYTES`).
    pub webhook_bytes: crate::inflight::InflightBytes,
}
