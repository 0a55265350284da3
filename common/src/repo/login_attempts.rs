//! `login_attempts` (every password check, for the record) and `login_throttle` (failed logins per
//! account across all addresses, with an exponentially growing lock).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::{Error, domain::Email};

pub async fn record(
    db: impl PgExecutor<'_>,
    email: &Email,
    ip: Option<&str>,
    succeeded: bool,
) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO login_attempts (email, ip, succeeded) VALUES ($1, $2, $3)",
        email.as_str(),
        ip,
        succeeded,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// How failures turn into locks.
#[derive(Debug, Clone, Copy)]
pub struct LockPolicy {
    /// Failures before the account locks.
    pub threshold: u32,
    /// The first lock, in seconds; it doubles per further failure.
    pub base_secs: f64,
    /// The longest lock, in seconds.
    pub max_secs: f64,
}

/// The outcome of asking to check a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Go ahead: the attempt is already counted as a failure until `clear` says otherwise.
    Granted,
    /// The account is locked until then; nothing was counted.
    Locked(DateTime<Utc>),
}

/// Counts one attempt for `email` before its password is checked, in one statement, so that
/// concurrent guesses are serialised on the row: the attempt that reaches the threshold sets the
/// lock at once and every later one is refused without a hash. A lock doubles per failure past
/// the threshold, up to the policy's maximum. Failures older than a day are forgotten.
pub async fn reserve(
    db: impl PgExecutor<'_> + Copy,
    email: &Email,
    policy: LockPolicy,
) -> Result<Reservation, Error> {
    let granted = sqlx::query_scalar!(
        "INSERT INTO login_throttle AS t (email, failures, locked_until)
         VALUES ($1, 1, CASE WHEN $2 <= 1 THEN now() + make_interval(secs => $3) END)
         ON CONFLICT (email) DO UPDATE SET
             failures = CASE WHEN t.updated_at < now() - interval '1 day' THEN 1 ELSE t.failures + 1 END,
             locked_until = CASE
                 WHEN (CASE WHEN t.updated_at < now() - interval '1 day' THEN 1 ELSE t.failures + 1 END) >= $2
                 THEN now() + make_interval(secs => least($4, $3 * power(2, least(30,
                     (CASE WHEN t.updated_at < now() - interval '1 day' THEN 1 ELSE t.failures + 1 END) - $2))))
             END,
             updated_at = now()
         WHERE t.locked_until IS NULL OR t.locked_until <= now()
         RETURNING failures",
        email.as_str(),
        i32::try_from(policy.threshold).unwrap_or(i32::MAX),
        policy.base_secs,
        policy.max_secs,
    )
    .fetch_optional(db)
    .await?;
    if granted.is_some() {
        return Ok(Reservation::Granted);
    }
    let until: Option<DateTime<Utc>> = sqlx::query_scalar!(
        "SELECT locked_until FROM login_throttle WHERE email = $1",
        email.as_str(),
    )
    .fetch_optional(db)
    .await?
    .flatten();
    Ok(Reservation::Locked(until.unwrap_or_else(Utc::now)))
}

/// Forgets the account's failures and lock (a successful login or password reset).
pub async fn clear(db: impl PgExecutor<'_>, email: &str) -> Result<(), Error> {
    sqlx::query!("DELETE FROM login_throttle WHERE email = $1", email)
        .execute(db)
        .await?;
    Ok(())
}

/// Undoes a granted reservation whose password was never checked (hashing was busy): one failure
/// fewer, and no lock unless the remaining failures still reach the threshold.
pub async fn release(db: impl PgExecutor<'_>, email: &Email, threshold: u32) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE login_throttle SET failures = greatest(failures - 1, 0),
             locked_until = CASE WHEN failures - 1 >= $2 THEN locked_until END
         WHERE email = $1",
        email.as_str(),
        i32::try_from(threshold).unwrap_or(i32::MAX),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes throttles that no longer count: unlocked (or expired) and untouched for a day, the
/// time after which failures are forgotten anyway. Returns how many.
pub async fn prune_throttles(db: impl PgExecutor<'_>) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "DELETE FROM login_throttle
         WHERE updated_at < now() - interval '1 day' AND (locked_until IS NULL OR locked_until < now())",
    )
    .execute(db)
    .await?
    .rows_affected())
}
