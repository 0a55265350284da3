//! The integration types, one file each behind the `Provider` trait; `of` maps each
//! `IntegrationKind` to its provider.

pub(crate) mod argocd;
mod github;
mod github_app;
mod http;
mod provider;
mod slack;

pub use provider::{
    Attempt, BoxFuture, Provider, RefreshCx, RefreshFailure, Refreshed, SyncOutcome, TestCx,
};

pub(crate) use slack::{grant_credentials, grant_expiry};

use crate::domain::IntegrationKind;

/// The provider of `kind`. Every kind has one: a new variant does not compile until its arm is here.
pub fn of(kind: IntegrationKind) -> &'static dyn Provider {
    match kind {
        IntegrationKind::Github => &github::GithubToken,
        IntegrationKind::GithubApp => &github_app::GithubApp,
        IntegrationKind::Slack => &slack::Slack,
        IntegrationKind::ArgoCd => &argocd::ArgoCd,
        IntegrationKind::Http => &http::HttpProbe,
    }
}

/// Every provider, in catalogue order (the order of `IntegrationKind`).
pub fn all() -> impl Iterator<Item = &'static dyn Provider> {
    IntegrationKind::ALL.iter().map(|k| of(*k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_answers_for_its_own_kind() {
        for kind in IntegrationKind::ALL {
            assert_eq!(of(*kind).kind(), *kind);
        }
    }
}
