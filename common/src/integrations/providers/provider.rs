//! The `Provider` trait: everything RepoPal knows about one integration type.

use std::{future::Future, pin::Pin, sync::Mutex};

use serde_json::{Map, Value};

use crate::{
    domain::OrgId,
    integrations::{Failure, Tester, catalogue::IntegrationType},
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
    /// A recovery action the test took (`token_refreshed`, `hook_reinstall`), for the report.
    pub action: &'a Mutex<Option<String>>,
}

impl TestCx<'_> {
    /// Records a recovery action the test took.
    pub fn took(&self, action: &str) {
        if let Ok(mut a) = self.action.lock() {
            *a = Some(action.to_owned());
        }
    }
}

/// One integration type. Adding a type is a file implementing this and a line in `PROVIDERS`.
pub trait Provider: Send + Sync {
    /// The `type` clients name it by.
    fn kind(&self) -> &'static str;

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

    /// Its access token expires and is renewed with a stored `refresh_token`
    /// (`integrations::refresh_token`); an expired token found by a check is refreshed and the
    /// test repeated.
    fn refreshes_tokens(&self) -> bool {
        false
    }

    /// One attempt of its connection test (`Tester::test` retries transient failures).
    fn test<'a>(&'a self, tester: &'a Tester, cx: &'a TestCx<'a>) -> BoxFuture<'a, Attempt>;
}
