//! Shared state handed to every handler.

use std::sync::Arc;

use common::{
    config::ApiConfig, identity::Identity, services::Services, webhooks::WebhookReceiver,
};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::rate_limit::AuthLimiter;

#[derive(Clone)]
pub struct AppState {
    /// The pool, keyring, clients and settings built once at boot (shared with the worker's jobs).
    pub services: Arc<Services>,
    pub api: Arc<ApiConfig>,
    pub metrics: PrometheusHandle,
    pub identity: Identity,
    pub webhooks: WebhookReceiver,
    pub auth_limiter: AuthLimiter,
    /// Keys for the signed states of the install and "Add to Slack" flows, derived once at boot.
    pub state_keys: Arc<common::crypto::purpose_keys::StateKeys>,
    /// Webhook body bytes being read at once (`WEBHOOK_MAX_INFLIGHT_BYTES`).
    pub webhook_bytes: crate::inflight::InflightBytes,
}
