//! The services outside RepoPal whose failures it reports as upstream errors.

crate::closed_set! {
    /// The service an upstream error names (`details.provider` of a 502 or 429 answer).
    pub enum Upstream {
        Github = "github",
        Slack = "slack",
        /// The Argo CD server an integration points to.
        ArgoCd = "argocd",
        /// The endpoint an HTTP integration probes.
        Http = "http",
        Database = "database",
    }
}

impl From<super::IntegrationKind> for Upstream {
    /// The service an integration of this kind talks to.
    fn from(kind: super::IntegrationKind) -> Self {
        use super::IntegrationKind as K;
        match kind {
            K::Github | K::GithubApp => Self::Github,
            K::Slack => Self::Slack,
            K::ArgoCd => Self::ArgoCd,
            K::Http => Self::Http,
        }
    }
}
