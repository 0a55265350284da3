//! The integration types, one file each behind the `Provider` trait; `PROVIDERS` lists them in
//! catalogue order.

mod argocd;
mod github;
mod github_app;
mod http;
mod provider;
mod slack;

pub use provider::{Attempt, BoxFuture, Provider, TestCx};

/// Every supported integration type, in catalogue order.
pub static PROVIDERS: &[&dyn Provider] = &[
    &github::GithubToken,
    &github_app::GithubApp,
    &slack::Slack,
    &argocd::ArgoCd,
    &http::HttpProbe,
];

/// The provider of `kind`, when it is a supported type.
pub fn find(kind: &str) -> Option<&'static dyn Provider> {
    PROVIDERS.iter().copied().find(|p| p.kind() == kind)
}
