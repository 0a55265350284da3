//! The `Provider` trait: everything RepoPal knows about one integration type.

use std::{future::Future, pin::Pin, sync::Mutex};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::PgConnection;

use crate::{
    Error,
    crypto::keyring::Keyring,
    domain::{IntegrationKind, OrgId, RecoveryAction},
    integrations::{Failure, Tester, catalogue::IntegrationType},
    jobs::JobId,
    repo::integrations::Integration,
    slack::Slack,
};

/// One attempt of a connection test: the details to record, or why it failed.
pub type Attempt = Result<Value, Failure>;

/// A boxed, sendable future (what a trait object can return from an async step).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What one attempt of a connection test is given.
pub struct TestCx<'a> {
    pub org: OrgId,
    pub config: &'a Map<String, Value>,
    pub creds: &'a Map<String, Value>,
    /// A recovery action the test took, for the report.
    pub action: &'a Mutex<Option<RecoveryAction>>,
}

impl TestCx<'_> {
    /// Records a recovery action the test took.
    pub fn took(&self, action: RecoveryAction) {
        if let Ok(mut a) = self.action.lock() {
            *a = Some(action);
        }
    }
}

/// What refreshing a token may use: the database, the keyring and the providers' clients.
#[derive(Clone, Copy)]
pub struct RefreshCx<'a> {
    pub pool: &'a sqlx::PgPool,
    pub keyring: &'a Keyring,
    pub slack: &'a Slack,
}

impl<'a> RefreshCx<'a> {
    pub fn of(services: &'a crate::services::Services) -> Self {
        Self {
            pool: &services.pool,
            keyring: &services.keyring,
            slack: &services.slack,
        }
    }
}

/// New credentials from exchanging a refresh token.
pub struct Refreshed {
    /// The complete credentials to seal in place of the old ones.
    pub credentials: Map<String, Value>,
    /// When the new access token expires (`None`: it does not).
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a token refresh gave no new credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshFailure {
    /// The type's tokens do not rotate, or these credentials hold no refresh token.
    NotRefreshable,
    /// The provider refused the refresh token: new credentials are needed.
    Refused { code: String, message: String },
    /// The provider could not be reached or failed: try again later.
    Unavailable(String),
}

/// What syncing an integration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// A job doing the sync was enqueued (in the caller's transaction).
    Enqueued(JobId),
    /// The type has nothing RepoPal copies from it; the reason, for the client.
    NothingToSync(&'static str),
}

/// One integration type. Adding a type is a file implementing this, a variant of
/// `IntegrationKind` and its arm in `providers::of` (the compiler asks for it).
pub trait Provider: Send + Sync {
    /// The `type` clients name it by.
    fn kind(&self) -> IntegrationKind;

    /// Its catalogue entry: title, description and the schemas of its `config` and `credentials`.
    fn entry(&self) -> IntegrationType;

    /// The `config` field naming where the credentials are sent, for the types that send them to
    /// a user-typed address (checked against the outbound policy; moving it to another origin
    /// needs the credentials again).
    fn destination_field(&self) -> Option<&'static str> {
        None
    }

    /// Its `config.installation_id` names a GitHub App installation, which must be linked to the
    /// organisation and watched by one integration only.
    fn links_installation(&self) -> bool {
        false
    }

    /// Its access token expires and is renewed with `refresh` (driven by
    /// `integrations::refresh_token`); an expired token found by a check is refreshed and the
    /// test repeated.
    fn refreshes_tokens(&self) -> bool {
        false
    }

    /// Exchanges the refresh token in `credentials` for new credentials. Called under the
    /// integration's row lock, so a single-use refresh token is sent once.
    fn refresh<'a>(
        &'a self,
        _cx: &'a RefreshCx<'a>,
        _credentials: &'a Map<String, Value>,
    ) -> BoxFuture<'a, Result<Refreshed, RefreshFailure>> {
        Box::pin(async { Err(RefreshFailure::NotRefreshable) })
    }

    /// One attempt of its connection test (`Tester::test` retries transient failures).
    fn test<'a>(&'a self, tester: &'a Tester, cx: &'a TestCx<'a>) -> BoxFuture<'a, Attempt>;

    /// It is synced on its own schedule as well (every `config.sync_interval` seconds), by the
    /// `sync_integration` job.
    fn syncs_on_interval(&self) -> bool {
        false
    }

    /// What syncing it means: enqueue the work that copies its data into RepoPal (in `conn`'s
    /// transaction), or say there is nothing to copy.
    fn sync<'a>(
        &'a self,
        _conn: &'a mut PgConnection,
        _integration: &'a Integration,
    ) -> BoxFuture<'a, Result<SyncOutcome, Error>> {
        Box::pin(async {
            Ok(SyncOutcome::NothingToSync(
                "this integration type has nothing to sync",
            ))
        })
    }
}
