//! `JobError`: the worker boundary's error, split into "try again later" and "never again".

use std::fmt;

/// Why a job run failed. Retryable errors are retried with exponential backoff until the queue's
/// attempts are used up; permanent ones end the job at once (it is dead, not retried).
#[derive(Debug)]
pub enum JobError {
    Retryable(String),
    Permanent(String),
}

impl JobError {
    pub fn retryable(msg: impl fmt::Display) -> Self {
        Self::Retryable(msg.to_string())
    }

    pub fn permanent(msg: impl fmt::Display) -> Self {
        Self::Permanent(msg.to_string())
    }

    /// A failure with a stable code, readable by clients as the job's `error_code`
    /// (`{code}: {message}`).
    pub fn coded(code: &str, message: impl fmt::Display, permanent: bool) -> Self {
        let text = format!("{code}: {message}");
        if permanent {
            Self::Permanent(text)
        } else {
            Self::Retryable(text)
        }
    }

    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Retryable(m) => write!(f, "{m}"),
            Self::Permanent(m) => write!(f, "permanent: {m}"),
        }
    }
}

impl std::error::Error for JobError {}

/// Failures below the worker (database, encoding) are transient unless proven otherwise.
impl From<common::Error> for JobError {
    fn from(e: common::Error) -> Self {
        match e {
            common::Error::NotFound
            | common::Error::Invalid(_)
            | common::Error::InvalidFields(_)
            | common::Error::Rejected { .. }
            | common::Error::DestinationNotAllowed { .. }
            | common::Error::Conflict { .. }
            | common::Error::Forbidden { .. } => Self::Permanent(e.to_string()),
            other => Self::Retryable(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        Self::from(common::Error::from(e))
    }
}
