//! `login_attempts`: every password login, kept to lock an account after repeated failures.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::{Error, domain::Email};

pub async fn record(
    db: impl PgExecutor<'_>,
    email: &Email,
    ip: Option<&str>,
    succeeded: bool,
) -> Result<(), Error> {
    sqlx::query("INSERT INTO login_attempts (email, ip, succeeded) VALUES ($1, $2, $3)")
        .bind(email.as_str())
        .bind(ip)
        .bind(succeeded)
        .execute(db)
        .await?;
    Ok(())
}

/// Failures for `email` from `ip` since the account's last success, within `window_secs`, and
/// when the latest of them happened.
pub async fn recent_failures(
    db: impl PgExecutor<'_>,
    email: &Email,
    ip: Option<&str>,
    window_secs: f64,
) -> Result<(i64, Option<DateTime<Utc>>), Error> {
    Ok(sqlx::query_as(
        "SELECT count(*), max(created_at) FROM login_attempts
         WHERE email = $1 AND ip IS NOT DISTINCT FROM $2 AND NOT succeeded
           AND created_at > now() - make_interval(secs => $3)
           AND created_at > coalesce(
               (SELECT max(created_at) FROM login_attempts WHERE email = $1 AND succeeded), '-infinity')",
    )
    .bind(email.as_str())
    .bind(ip)
    .bind(window_secs)
    .fetch_one(db)
    .await?)
}
