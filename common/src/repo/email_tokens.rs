//! `email_tokens` and `email_outbox`: single-use, expiring tokens sent by mail, and the mail itself.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::{
    Error,
    domain::{EmailPurpose, MailDelivery, UserId},
};

pub async fn insert(
    db: impl PgExecutor<'_>,
    user: UserId,
    purpose: EmailPurpose,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO email_tokens (token_hash, user_id, purpose, expires_at) VALUES ($1, $2, $3, $4)",
        token_hash,
        user as UserId,
        purpose as EmailPurpose,
        expires_at,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Uses the token once: returns its user when it exists, has this purpose, is unused and unexpired.
pub async fn consume(
    tx: &mut PgConnection,
    purpose: EmailPurpose,
    token_hash: &str,
) -> Result<Option<UserId>, Error> {
    Ok(sqlx::query_scalar!(
        r#"UPDATE email_tokens SET used_at = now()
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
         RETURNING user_id AS "user_id: UserId""#,
        token_hash,
        purpose as EmailPurpose,
    )
    .fetch_optional(tx)
    .await?)
}

/// Marks every unused token of `user` for `purpose` as used (after a password change or reset,
/// older reset links must stop working).
pub async fn use_up_all(
    db: impl PgExecutor<'_>,
    user: UserId,
    purpose: EmailPurpose,
) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "UPDATE email_tokens SET used_at = now() WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
        user as UserId,
        purpose as EmailPurpose,
    )
    .execute(db)
    .await?
    .rows_affected())
}

#[derive(Clone)]
pub struct OutboxEmail {
    pub id: Uuid,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub sent_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for OutboxEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxEmail")
            .field("id", &self.id)
            .field("to_address", &self.to_address)
            .field("subject", &self.subject)
            .field("body", &"[redacted]")
            .finish()
    }
}

pub async fn insert_outbox(
    db: impl PgExecutor<'_>,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<Uuid, Error> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO email_outbox (id, to_address, subject, body) VALUES ($1, $2, $3, $4) RETURNING id",
        Uuid::new_v4(),
        to,
        subject,
        body,
    )
    .fetch_one(db)
    .await?)
}

pub async fn find_outbox(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<OutboxEmail>, Error> {
    Ok(sqlx::query_as!(
        OutboxEmail,
        "SELECT id, to_address, subject, body, sent_at FROM email_outbox WHERE id = $1",
        id,
    )
    .fetch_optional(db)
    .await?)
}

/// Records delivery. When the message left over SMTP its body (which may hold a single-use token) is
/// removed; without SMTP the outbox is the delivery, so the body stays for the developer to read.
pub async fn mark_sent(
    db: impl PgExecutor<'_>,
    id: Uuid,
    delivery: MailDelivery,
) -> Result<(), Error> {
    let keep_body = delivery == MailDelivery::Outbox;
    sqlx::query!(
        "UPDATE email_outbox
         SET sent_at = now(), delivery = $2, body = CASE WHEN $3 THEN body ELSE '[delivered; body removed]' END
         WHERE id = $1 AND sent_at IS NULL",
        id,
        delivery as MailDelivery,
        keep_body,
    )
    .execute(db)
    .await?;
    Ok(())
}
