//! `send_email`: delivers one outbox message over SMTP when `SMTP_URL` is set; otherwise the
//! message stays readable in the `email_outbox` table and only its envelope is logged (never the
//! body, which may hold a token). Idempotent: a sent message is not sent again.

use common::{domain::MailDelivery, jobs::SendEmail, repo::email_tokens};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, message::header::ContentType,
};
use secrecy::ExposeSecret;

use crate::{context::JobContext, error::JobError};

handler!(SendEmail => run);

pub async fn run(job: SendEmail, ctx: JobContext) -> Result<(), JobError> {
    let Some(email) = email_tokens::find_outbox(&ctx.services.pool, job.email_id).await? else {
        return Err(JobError::permanent("outbox message no longer exists"));
    };
    if email.sent_at.is_some() {
        return Ok(());
    }
    let delivery = match &ctx.services.config.mail.smtp_url {
        Some(url) => {
            let message = Message::builder()
                .from(ctx.services.config.mail.from.parse().map_err(|e| {
                    JobError::permanent(format!("MAIL_FROM is not an address: {e}"))
                })?)
                .to(email.to_address.parse().map_err(|e| {
                    JobError::permanent(format!("recipient is not an address: {e}"))
                })?)
                .subject(email.subject.clone())
                .header(ContentType::TEXT_PLAIN)
                .body(email.body.clone())
                .map_err(|e| JobError::permanent(format!("message could not be built: {e}")))?;
            let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                .map_err(|_| JobError::permanent("SMTP_URL could not be used"))?
                .build();
            transport.send(message).await.map_err(|e| {
                if e.is_permanent() {
                    JobError::permanent(format!("SMTP server refused the message: {e}"))
                } else {
                    JobError::retryable(format!("SMTP delivery failed: {e}"))
                }
            })?;
            MailDelivery::Smtp
        }
        None => {
            tracing::info!(
                email_id = %email.id,
                to = %email.to_address,
                subject = %email.subject,
                "no SMTP_URL: email kept in the email_outbox table"
            );
            MailDelivery::Outbox
        }
    };
    email_tokens::mark_sent(&ctx.services.pool, email.id, delivery).await?;
    Ok(())
}
