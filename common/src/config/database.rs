//! Database settings.

use secrecy::SecretString;

use super::{ConfigError, Source, parse::*};

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    pub max_connections: u32,
}

pub(super) fn database_url(env: &dyn Source) -> Result<String, ConfigError> {
    let url = required(env, "DATABASE_URL")?;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(ConfigError::Malformed {
            name: "DATABASE_URL",
            reason: "expected a postgres:// or postgresql:// URL".into(),
        });
    }
    Ok(url)
}

pub(super) fn read(env: &dyn Source, database_url: String) -> Result<DatabaseConfig, ConfigError> {
    Ok(DatabaseConfig {
        url: SecretString::from(database_url),
        max_connections: or_default(env, "DATABASE_MAX_CONNECTIONS", 20, parse_u32)?,
    })
}
