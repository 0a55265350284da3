//! `Config`: the settings shared by the API and the workers, read in one pass (the pairs that must
//! be set together and the secrets first, then every other setting).

use secrecy::SecretString;
use url::Url;

use super::{ConfigError, Source, parse::*};
use super::{
    DatabaseConfig, GithubConfig, HealthConfig, ProcessEnv, SlackConfig, database, github, health,
    slack,
};

/// Settings shared by the API and the workers.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub github: GithubConfig,
    pub slack: SlackConfig,
    pub health: HealthConfig,
    /// Networks that requests to user-typed URLs may reach (`OUTBOUND_ALLOWED_CIDRS`; the rules
    /// are in `crate::net::policy`).
    pub outbound_allowed_cidrs: Vec<ipnet::IpNet>,
    pub log: LogConfig,
    /// Keys sealing third-party secrets (`ENCRYPTION_KEYS`, `ENCRYPTION_ACTIVE_KEY_ID`).
    pub keyring: crate::crypto::keyring::Keyring,
    pub mail: MailConfig,
    /// Public base URL of the API, for links in emails and OAuth redirects.
    pub public_url: Url,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://` or `smtps://` URL; without it mail goes to the log and the outbox table only.
    pub smtp_url: Option<SecretString>,
    pub from: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(env: &dyn Source) -> Result<Self, ConfigError> {
        let database_url = database::database_url(env)?;
        let github_credentials = github::credentials(env)?;
        let slack_client = slack::client(env)?;
        let format = match env.get("LOG_FORMAT").as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                return Err(ConfigError::Malformed {
                    name: "LOG_FORMAT",
                    reason: format!("`{other}` is not one of json, pretty"),
                });
            }
        };
        let keyring = crate::crypto::keyring::Keyring::parse(
            &SecretString::from(required(env, "ENCRYPTION_KEYS")?),
            env.get("ENCRYPTION_ACTIVE_KEY_ID").as_deref(),
        )
        .map_err(|reason| ConfigError::Malformed {
            name: "ENCRYPTION_KEYS",
            reason,
        })?;
        let smtp_url = env.get("SMTP_URL");
        if smtp_url
            .as_ref()
            .is_some_and(|url| !(url.starts_with("smtp://") || url.starts_with("smtps://")))
        {
            return Err(ConfigError::Malformed {
                name: "SMTP_URL",
                reason: "expected smtp:// or smtps://".into(),
            });
        }
        Ok(Self {
            keyring,
            mail: MailConfig {
                smtp_url: smtp_url.map(SecretString::from),
                from: env
                    .get("MAIL_FROM")
                    .unwrap_or_else(|| "RepoPal <noreply@localhost>".to_owned()),
            },
            public_url: or_default(
                env,
                "PUBLIC_URL",
                default_url("http://localhost:8080"),
                parse_url,
            )?,
            database: database::read(env, database_url)?,
            github: github::read(env, github_credentials)?,
            slack: slack::read(env, slack_client)?,
            health: health::read(env)?,
            outbound_allowed_cidrs: or_default(
                env,
                "OUTBOUND_ALLOWED_CIDRS",
                Vec::new(),
                parse_cidrs,
            )?,
            log: LogConfig { format },
        })
    }
}
