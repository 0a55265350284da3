//! The error type of the `common` boundary; the API and the worker map it to their own.

/// Everything that can go wrong below the API and worker layers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("job queue error: {0}")]
    Queue(#[from] apalis_postgres::Error),
    #[error("encoding error: {0}")]
    Encode(#[from] serde_json::Error),
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
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
