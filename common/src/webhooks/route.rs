//! Webhook event routing: what one stored delivery means for RepoPal, recorded on the delivery.
//! `ping`, `installation`, `installation_repositories`, and for monitored repositories
//! `workflow_run`, `workflow_job` and `check_suite` are handled; every other event and action is
//! kept and marked `ignored` (never an error).

use serde::Deserialize;
use sqlx::PgPool;

use crate::{
    Error,
    domain::{DeliveryId, DeliveryStatus, InstallationAction, InstallationId, OrgId},
    jobs::{self, SyncRepositories},
    repo::{
        installations::{self, Account as AccountIn},
        repositories,
        webhook_deliveries::{self, Outcome},
    },
};

#[derive(Deserialize)]
struct Account {
    login: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct Installation {
    id: InstallationId,
    account: Option<Account>,
}

#[derive(Deserialize)]
struct InstallationEvent {
    installation: Installation,
}

/// What routing a delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// The organisation the delivery was attributed to, if any.
    pub org: Option<OrgId>,
    /// `processed` or `ignored` (or `failed` for a payload RepoPal cannot read), as stored.
    pub status: DeliveryStatus,
    pub detail: String,
}

/// Routes the stored delivery `delivery_id` (credited to `owner` when stored) and records the
/// outcome on it. A delivery that no longer exists or an `installation` payload that does not
/// decode is `Error::Invalid` (permanent). `notify_window_secs` is the Slack grouping window for
/// workflow failures.
pub async fn route(
    pool: &PgPool,
    notify_window_secs: i64,
    owner: Option<OrgId>,
    delivery_id: DeliveryId,
) -> Result<Routed, Error> {
    let Some((delivery, payload)) = webhook_deliveries::find(pool, owner, delivery_id).await?
    else {
        return Err(Error::Invalid("delivery no longer exists".into()));
    };
    // Retention empties payloads of processed deliveries only; one emptied meanwhile is not retried.
    if payload.is_empty() {
        return Err(Error::Invalid(
            "delivery payload was pruned by retention".into(),
        ));
    }
    // Fields are copied into text columns, which cannot hold NUL: such characters become U+FFFD.
    let payload = super::without_nul(&payload);
    let action = delivery.action.as_deref().unwrap_or("");
    let mut org = match delivery.installation_id {
        Some(id) => installations::org_of(pool, id).await?,
        None => None,
    };
    let installation_action = action.parse::<InstallationAction>().ok();
    let (status, detail) = match (delivery.event.as_str(), installation_action) {
        ("ping", _) => (DeliveryStatus::Processed, "pong".to_owned()),
        ("installation", Some(change)) => {
            let event: InstallationEvent = serde_json::from_slice(&payload)
                .map_err(|e| Error::Invalid(format!("installation payload: {e}")))?;
            let account = event.installation.account.as_ref();
            let account = AccountIn {
                login: account.and_then(|a| a.login.as_deref()),
                kind: account.and_then(|a| a.kind.as_deref()),
            };
            org = installations::apply_event(pool, event.installation.id, change, account)
                .await?
                .or(org);
            match (change, org) {
                (InstallationAction::Deleted, Some(linked)) => {
                    repositories::remove_installation(pool, linked, event.installation.id).await?;
                }
                (InstallationAction::Deleted | InstallationAction::Suspend, _) | (_, None) => {}
                (_, Some(_)) => enqueue_sync(pool, event.installation.id).await?,
            }
            (DeliveryStatus::Processed, format!("installation {action}"))
        }
        ("installation_repositories", _) if ["added", "removed"].contains(&action) => {
            if let (Some(id), Some(_)) = (delivery.installation_id, org) {
                enqueue_sync(pool, id).await?;
            }
            (DeliveryStatus::Processed, format!("repositories {action}"))
        }
        ("workflow_run" | "workflow_job" | "check_suite", _) => {
            org = delivery.org_id.or(org);
            let workflow_delivery = crate::workflows::Delivery {
                event: &delivery.event,
                action,
                org,
                repository_github_id: delivery.repository_id,
                json: &payload,
            };
            let applied =
                crate::workflows::apply_delivery(pool, notify_window_secs, &workflow_delivery)
                    .await?;
            (applied.status, applied.detail)
        }
        (other, _) => (
            DeliveryStatus::Ignored,
            format!(
                "no handler for {other}{}",
                if action.is_empty() {
                    String::new()
                } else {
                    format!(".{action}")
                }
            ),
        ),
    };
    let outcome = Outcome {
        status,
        detail: Some(&detail),
        org,
    };
    webhook_deliveries::set_status(pool, owner, delivery.id, &outcome).await?;
    tracing::debug!(event = %delivery.event, action, %status, "webhook delivery processed");
    Ok(Routed {
        org,
        status,
        detail,
    })
}

async fn enqueue_sync(pool: &PgPool, installation_id: InstallationId) -> Result<(), Error> {
    let mut conn = pool.acquire().await?;
    jobs::push(&mut conn, &SyncRepositories { installation_id }).await?;
    Ok(())
}
