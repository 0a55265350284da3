//! Outgoing mail: written to the outbox and sent by the `send_email` job, in the caller's
//! transaction (a rolled-back request sends nothing).

use sqlx::PgConnection;

use crate::{
    Error,
    jobs::{self, SendEmail},
    repo::email_tokens,
};

pub async fn queue_email(
    tx: &mut PgConnection,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), Error> {
    let email_id = email_tokens::insert_outbox(&mut *tx, to, subject, body).await?;
    jobs::push(tx, &SendEmail { email_id }).await?;
    Ok(())
}
