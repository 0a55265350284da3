//! The webhook receiver's logic: verify the signature over the raw body (App secret, or the secret
//! of the repository hook named by `X-GitHub-Hook-ID`), require the event and delivery headers,
//! parse, and store once with its processing job.

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use uuid::Uuid;

use super::{Ingested, Ingestor, parse_delivery};
use crate::{
    Error,
    crypto::{
        keyring::{Binding, Keyring},
        signature,
    },
    domain::OrgId,
    jobs::{self, JobId, ProcessWebhook},
    repo::webhook_deliveries::{self, NewDelivery},
};

/// The delivery headers RepoPal reads.
#[derive(Debug, Clone, Default)]
pub struct DeliveryHeaders {
    pub signature_256: Option<String>,
    pub event: Option<String>,
    pub delivery: Option<String>,
    pub hook_id: Option<String>,
    pub content_type: String,
}

#[derive(Clone)]
pub struct WebhookReceiver {
    pool: PgPool,
    app_secret: SecretString,
    keyring: Keyring,
    ingestor: Ingestor,
}

impl WebhookReceiver {
    pub fn new(pool: PgPool, app_secret: SecretString, keyring: Keyring) -> Self {
        let ingestor = Ingestor::start(pool.clone(), 2, 256);
        Self {
            pool,
            app_secret,
            keyring,
            ingestor,
        }
    }

    async fn signature_valid(&self, headers: &DeliveryHeaders, body: &[u8]) -> Result<bool, Error> {
        let Some(sig) = headers.signature_256.as_deref() else {
            return Ok(false);
        };
        if signature::verify(self.app_secret.expose_secret().as_bytes(), body, sig) {
            return Ok(true);
        }
        let Some(hook_id) = headers
            .hook_id
            .as_deref()
            .and_then(|h| h.parse::<i64>().ok())
        else {
            return Ok(false);
        };
        let Some(sealed) = webhook_deliveries::hook_secret(&self.pool, hook_id).await? else {
            return Ok(false);
        };
        let row_id = hook_id.to_string();
        let at = Binding {
            table: "github_repository_hooks",
            column: "secret_sealed",
            row_id: &row_id,
        };
        let secret = self.keyring.open(at, &sealed)?;
        Ok(signature::verify(
            secret.expose_secret().as_bytes(),
            body,
            sig,
        ))
    }

    /// Verifies, parses and stores one delivery.
    pub async fn receive(&self, headers: DeliveryHeaders, body: &[u8]) -> Result<Ingested, Error> {
        if headers.signature_256.is_none() {
            return Err(Error::unauthorized(
                "missing_signature",
                "X-Hub-Signature-256 is required.",
            ));
        }
        if !self.signature_valid(&headers, body).await? {
            return Err(Error::unauthorized(
                "invalid_signature",
                "The signature does not match the body.",
            ));
        }
        let (Some(event), Some(delivery_id)) = (headers.event, headers.delivery) else {
            return Err(Error::rejected(
                "missing_header",
                "X-GitHub-Event and X-GitHub-Delivery are required.",
            ));
        };
        if event.len() > 100 || delivery_id.len() > 200 {
            return Err(Error::rejected(
                "invalid_header",
                "X-GitHub-Event or X-GitHub-Delivery is too long.",
            ));
        }
        let parsed = parse_delivery(&headers.content_type, body)
            .map_err(|m| Error::rejected("invalid_payload", m))?;
        self.ingestor
            .ingest(NewDelivery {
                hook_id: headers.hook_id.unwrap_or_default(),
                delivery_id,
                event,
                action: parsed.action,
                installation_id: parsed.installation_id,
                repository_id: parsed.repository_id,
                payload: parsed.json,
            })
            .await
    }

    /// Processes an organisation's delivery again (a new job); 404 when it is not theirs.
    /// Processes a stored delivery again, audited as `webhook.replay` by `actor`.
    pub async fn replay(
        &self,
        meta: &crate::identity::ClientMeta,
        actor: crate::domain::UserId,
        org: OrgId,
        delivery: Uuid,
    ) -> Result<JobId, Error> {
        let mut tx = self.pool.begin().await?;
        if !webhook_deliveries::mark_replayed(&mut tx, org, delivery).await? {
            return Err(Error::NotFound);
        }
        let job = jobs::push(
            &mut tx,
            &ProcessWebhook {
                delivery_id: delivery,
            },
        )
        .await?;
        crate::repo::jobs::record_for_org(&mut *tx, org, &job, "process_webhook").await?;
        let entry = crate::repo::audit_logs::NewEntry::success("webhook.replay")
            .org(org)
            .actor(actor)
            .resource("webhook_delivery", delivery)
            .meta(serde_json::json!({ "job_id": job.0 }));
        crate::identity::audit(&mut *tx, meta, entry).await?;
        tx.commit().await?;
        Ok(job)
    }

    pub async fn list(
        &self,
        org: OrgId,
        filter: &webhook_deliveries::Filter,
    ) -> Result<Vec<webhook_deliveries::Delivery>, Error> {
        webhook_deliveries::list(&self.pool, org, filter).await
    }
}
