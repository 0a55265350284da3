//! The error type of the `common` boundary; the API and the worker map it to their own.

/// Everything that can go wrong below the API and worker layers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Invalid input, per field (`field` → problem), e.g. schema validation of an integration.
    #[error("invalid fields: {0:?}")]
    InvalidFields(Vec<(String, String)>),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("job queue error: {0}")]
    Queue(#[from] apalis_postgres::Error),
    #[error("encoding error: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("crypto error: {0}")]
    Crypto(String),
    /// A request that conflicts with the current state (stable `code` for the API).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Authentication failed (stable `code` for the API).
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// Authenticated, but not allowed.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// Too many attempts; retry after this many seconds.
    #[error("too many attempts")]
    Locked { retry_after_secs: u64 },
    /// An upstream provider (GitHub, SMTP…) failed.
    #[error("{provider} error: {message}")]
    Upstream {
        provider: crate::domain::Upstream,
        message: String,
    },
    /// An upstream provider's rate limit: retry after this many seconds.
    #[error("{provider} rate limit: retry in {retry_after_secs}s")]
    UpstreamRateLimited {
        provider: crate::domain::Upstream,
        retry_after_secs: u64,
    },
    /// A user-typed destination (`field`, e.g. `config.url`) that the outbound policy refuses
    /// (`common::net`, `OUTBOUND_ALLOWED_CIDRS`).
    #[error("{message}")]
    DestinationNotAllowed { field: String, message: String },
    /// The input was understood but is not acceptable, with a stable code.
    #[error("{message}")]
    Rejected { code: &'static str, message: String },
    /// A bounded resource (password hashing, webhook bytes in flight) is saturated; retry after
    /// this many seconds.
    #[error("server busy")]
    Busy { retry_after_secs: u64 },
    /// The database could not be reached or dropped the session (the cause, already classified).
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(String),
    /// Something built once at boot (an HTTP client, a key) could not be built; start-up stops.
    #[error("start-up failed: {0}")]
    Startup(String),
}

impl Error {
    /// A client or key that could not be built at boot, named by `what`.
    pub fn startup(what: &str, cause: impl std::fmt::Display) -> Self {
        Self::Startup(format!("{what}: {cause}"))
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }
    pub fn rejected(code: &'static str, message: impl Into<String>) -> Self {
        Self::Rejected {
            code,
            message: message.into(),
        }
    }
}

impl Error {
    /// True when the database refused a write because a unique constraint already holds the value.
    pub fn is_unique_violation(&self) -> bool {
        let db = match self {
            Self::Database(sqlx::Error::Database(e)) => Some(e),
            Self::Queue(apalis_postgres::Error::Database(sqlx::Error::Database(e))) => Some(e),
            _ => None,
        };
        db.is_some_and(|e| e.code().as_deref() == Some("23505"))
    }

    /// The name of the unique constraint (or unique index) a refused write violated, if that is
    /// what this is (see `repo::conflicts` for the 409 each one means).
    pub fn unique_constraint(&self) -> Option<&str> {
        match self {
            Self::Database(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => {
                e.constraint()
            }
            _ => None,
        }
    }
}

impl Error {
    /// PostgreSQL refused a value the client gave as out of its range (SQLSTATE class 22, a data
    /// exception: a date before 4713 BC, a number too large, …): the input's fault, not ours.
    pub fn is_data_exception(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(e)) => {
                e.code().is_some_and(|c| c.starts_with("22"))
            }
            _ => false,
        }
    }
}

impl Error {
    /// The database could not be reached or dropped the session: no connection within the pool's
    /// wait, a refused or broken connection, or the server shutting down or refusing new clients
    /// (SQLSTATE classes 08 and 57P, 53300). Nothing about the request is wrong; try again later.
    pub fn is_database_unavailable(&self) -> bool {
        match self {
            Self::DatabaseUnavailable(_) => true,
            Self::Database(e) => crate::db_status::is_unavailable(e),
            Self::Queue(apalis_postgres::Error::Database(e)) => crate::db_status::is_unavailable(e),
            Self::Migrate(sqlx::migrate::MigrateError::Execute(e)) => {
                crate::db_status::is_unavailable(e)
            }
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
