//! Session advisory locks: one holder at a time across all processes, for work that must not run
//! twice at once (a sync of one installation, the hook of one repository).

use sqlx::PgConnection;

use crate::Error;

pub async fn lock(conn: &mut PgConnection, key: &str) -> Result<(), Error> {
    sqlx::query!("SELECT pg_advisory_lock(hashtext($1))", key)
        .fetch_one(conn)
        .await?;
    Ok(())
}

pub async fn unlock(conn: &mut PgConnection, key: &str) -> Result<(), Error> {
    sqlx::query!("SELECT pg_advisory_unlock(hashtext($1))", key)
        .fetch_one(conn)
        .await?;
    Ok(())
}
