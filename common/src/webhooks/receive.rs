//! The webhook receiver's logic: verify the signature over the raw body while it is read (App
//! secret, or the secret of the repository hook named by `X-GitHub-Hook-ID`), require the event
//! and delivery headers, parse, and store once with its processing job.

use crate::domain::{AuditAction, AuditResource};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

use super::{Ingested, Ingestor, parse_delivery};
use crate::{
    Error,
    crypto::{
        keyring::{Binding, Keyring, SealedColumn},
        signature,
    },
    domain::OrgId,
    jobs::{self, JobId, ProcessWebhook},
    repo::webhook_deliveries::{self, NewDelivery},
};

/// Which secret a delivery was signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedBy {
    /// The GitHub App's webhook secret (`GITHUB_WEBHOOK_SECRET`).
    App,
    /// The secret of the repository hook with this GitHub hook id.
    Hook(i64),
}

/// Proof that a body's signature was checked; only [`BodyVerifier::finish`] makes one.
#[derive(Debug, Clone, Copy)]
pub struct Verified(SignedBy);

impl Verified {
    pub fn signed_by(&self) -> SignedBy {
        self.0
    }
}

/// The signature check of one delivery, fed the body chunk by chunk as it is read: the HMAC with
/// the App's secret. A repository hook's secret is looked up only when that one does not match
/// (see [`WebhookReceiver::verified`]), so an App delivery costs no query.
pub struct BodyVerifier {
    claimed: signature::Claimed,
    app: signature::Streaming,
    hook_id: Option<i64>,
}

impl BodyVerifier {
    pub fn update(&mut self, chunk: &[u8]) {
        self.app.update(chunk);
    }
}

fn invalid_signature() -> Error {
    Error::unauthorized(
        "invalid_signature",
        "The signature does not match the body.",
    )
}

fn signed_with(secret: &SecretString, claimed: &signature::Claimed, body: &[u8]) -> bool {
    let mut mac = signature::Streaming::new(secret.expose_secret().as_bytes());
    mac.update(body);
    mac.matches(claimed)
}

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

    /// Prepares the signature check of one delivery BEFORE its body is read. A delivery without
    /// a well-formed `X-Hub-Signature-256` is refused here, unread.
    pub fn verifier(&self, headers: &DeliveryHeaders) -> Result<BodyVerifier, Error> {
        let Some(header) = headers.signature_256.as_deref() else {
            return Err(Error::unauthorized(
                "missing_signature",
                "X-Hub-Signature-256 is required.",
            ));
        };
        let claimed = signature::Claimed::parse(header).ok_or_else(invalid_signature)?;
        Ok(BodyVerifier {
            claimed,
            app: signature::Streaming::new(self.app_secret.expose_secret().as_bytes()),
            hook_id: headers.hook_id.as_deref().and_then(|h| h.parse().ok()),
        })
    }

    /// After the whole body: which secret signed it (the App's, else the secret of the repository
    /// hook named by `X-GitHub-Hook-ID`), or 401 `invalid_signature`.
    pub async fn verified(&self, v: BodyVerifier, body: &[u8]) -> Result<Verified, Error> {
        if v.app.matches(&v.claimed) {
            return Ok(Verified(SignedBy::App));
        }
        let Some(hook_id) = v.hook_id else {
            return Err(invalid_signature());
        };
        let Some(sealed) = webhook_deliveries::hook_secret(&self.pool, hook_id).await? else {
            return self.verified_pending(&v.claimed, hook_id, body).await;
        };
        let row_id = hook_id.to_string();
        let at = Binding::new(SealedColumn::RepositoryHookSecret, &row_id);
        let secret = self.keyring.open(at, &sealed).map_err(|e| {
            tracing::warn!(hook_id, error = %e, "hook secret could not be opened");
            invalid_signature()
        })?;
        if signed_with(&secret, &v.claimed, body) {
            Ok(Verified(SignedBy::Hook(hook_id)))
        } else {
            Err(invalid_signature())
        }
    }

    /// A hook RepoPal is creating right now: GitHub pings it before its id is known here, so the
    /// secrets stored for the payload's repository before the create call are tried.
    async fn verified_pending(
        &self,
        claimed: &signature::Claimed,
        hook_id: i64,
        body: &[u8],
    ) -> Result<Verified, Error> {
        #[derive(serde::Deserialize)]
        struct Repo {
            id: i64,
        }
        #[derive(serde::Deserialize)]
        struct Payload {
            repository: Option<Repo>,
        }
        let Some(repository) = serde_json::from_slice::<Payload>(body)
            .ok()
            .and_then(|p| p.repository)
        else {
            return Err(invalid_signature());
        };
        for (id, sealed) in crate::repo::repository_hooks::pending_for_repository(
            &self.pool,
            crate::repo::repository_hooks::PendingOf::AnyOrg,
            repository.id,
        )
        .await?
        {
            let row_id = id.to_string();
            let at = Binding::new(SealedColumn::PendingHookSecret, &row_id);
            let Ok(secret) = self.keyring.open(at, &sealed) else {
                continue;
            };
            if signed_with(&secret, claimed, body) {
                return Ok(Verified(SignedBy::Hook(hook_id)));
            }
        }
        Err(invalid_signature())
    }

    /// Parses and stores one delivery whose signature `verified` checked.
    pub async fn receive(
        &self,
        headers: DeliveryHeaders,
        verified: Verified,
        body: &[u8],
    ) -> Result<Ingested, Error> {
        tracing::debug!(signed_by = ?verified.signed_by(), "webhook signature verified");
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
                // Only a hook's own signature vouches for its hook id; the header alone is
                // unsigned, so an App delivery is credited through its payload's installation.
                signed_by_hook: match verified.signed_by() {
                    SignedBy::Hook(id) => Some(id),
                    SignedBy::App => None,
                },
                delivery_id,
                event,
                action: parsed.action,
                installation_id: parsed.installation_id.map(crate::domain::InstallationId),
                repository_id: parsed.repository_id,
                payload: parsed.json,
            })
            .await
    }

    /// Processes a stored delivery again, audited as `webhook.replay` by `actor`.
    pub async fn replay(
        &self,
        meta: &crate::identity::ClientMeta,
        actor: crate::domain::UserId,
        org: OrgId,
        delivery: crate::domain::DeliveryId,
    ) -> Result<JobId, Error> {
        let mut tx = self.pool.begin().await?;
        match crate::repo::retention::delivery_payload_pruned(&mut *tx, org, delivery).await? {
            None => return Err(Error::NotFound),
            Some(true) => {
                return Err(Error::Conflict {
                    code: "payload_pruned",
                    message: "this delivery's payload was dropped by retention \
                              (RETENTION_DELIVERY_PAYLOAD_DAYS), so it cannot be processed again"
                        .into(),
                });
            }
            Some(false) => {}
        }
        if !webhook_deliveries::mark_replayed(&mut tx, org, delivery).await? {
            return Err(Error::NotFound);
        }
        let job = jobs::push(
            &mut tx,
            &ProcessWebhook {
                delivery_id: delivery,
                owner: Some(org),
            },
        )
        .await?;
        crate::repo::jobs::record_for_org(&mut *tx, org, &job, "process_webhook").await?;
        let entry = crate::repo::audit_logs::NewEntry::success(AuditAction::WebhookReplay)
            .org(org)
            .actor(actor)
            .resource(AuditResource::WebhookDelivery, delivery)
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
