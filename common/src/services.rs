//! Everything built once at boot and shared by the API state and the job context.

use std::sync::Arc;

use sqlx::PgPool;

use crate::{
    Error, config::Config, crypto::keyring::Keyring, github::Github, integrations::Tester,
    slack::Slack,
};

/// The process's long-lived dependencies: the pool, the keyring, the HTTP clients (inside GitHub,
/// Slack and the tester) and the settings they were built from. Cheap to share behind an `Arc`.
pub struct Services {
    pub pool: PgPool,
    pub config: Arc<Config>,
    /// The keyring sealing third-party credentials (`config.keyring`, named here for its users).
    pub keyring: Keyring,
    pub github: Github,
    pub slack: Slack,
    /// Connection tests and health checks of integrations.
    pub tester: Tester,
}

impl Services {
    /// Builds every client once. A client that cannot be built (its timeout or redirect policy
    /// refused) stops start-up with [`Error::Startup`] naming it, instead of falling back to a
    /// default client without those limits.
    pub fn build(pool: PgPool, config: Arc<Config>) -> Result<Self, Error> {
        let github = Github::new(&config)?;
        let slack = Slack::new(&config.slack)?;
        let tester = Tester::new(&config, github.clone(), pool.clone())?;
        Ok(Self {
            keyring: config.keyring.clone(),
            pool,
            config,
            github,
            slack,
            tester,
        })
    }

    /// GitHub with this process's database and keyring, for operations that read or write rows.
    pub fn github_db(&self) -> crate::github::GithubDb<'_> {
        self.github.with_db(&self.pool, &self.keyring)
    }
}

/// Builds an HTTP client, or says which one (`what`) could not be built and why. Every client of
/// the process is built through here, so none silently loses its timeout or redirect policy.
pub fn http_client(builder: reqwest::ClientBuilder, what: &str) -> Result<reqwest::Client, Error> {
    builder.build().map_err(|e| Error::startup(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_that_cannot_be_built_is_a_startup_error_naming_it() {
        // rustls offers TLS 1.2 and 1.3 only: capping at 1.0 leaves no version, and the build fails.
        let builder = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(1))
            .max_tls_version(reqwest::tls::Version::TLS_1_0);
        match http_client(builder, "the test client") {
            Err(Error::Startup(message)) => {
                assert!(message.starts_with("the test client: "), "{message}");
            }
            Err(other) => panic!("wrong error: {other}"),
            Ok(_) => panic!("a client without a TLS version was built"),
        }
    }

    #[test]
    fn a_usable_builder_gives_its_client() {
        let builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        assert!(http_client(builder, "the test client").is_ok());
    }
}
