//! Webhook event routing: what one stored delivery means for RepoPal, recorded on the delivery.
//! `ping`, `installation`, `installation_repositories`, and for monitored repositories
//! `workflow_run`, `workflow_job` and `check_suite` are handled; every other event and action is
//! kept and marked `ignored` (never an error).

use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    Error,
    domain::OrgId,
    jobs::{self, SyncRepositories},
    repo::{installations, repositories, webhook_deliveries},
};

#[derive(Deserialize)]
struct Account {
    login: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct Installation {
    id: i64,
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
    /// `processed` or `ignored`, as stored on the delivery.
    pub status: &'static str,
    pub detail: String,
}

/// Routes the stored delivery `delivery_id` and records the outcome on it. A delivery that no
/// longer exists or an `installation` payload that does not decode is `Error::Invalid` (permanent).
/// `notify_window_secs` is the Slack grouping window for workflow failures.
pub async fn route(
    pool: &PgPool,
    notify_window_secs: i64,
    delivery_id: Uuid,
) -> Result<Routed, Error> {
    let Some((delivery, payload)) = webhook_deliveries::find(pool, delivery_id).await? else {
        return Err(Error::Invalid("delivery no longer exists".into()));
    };
    // Retention empties payloads of processed deliveries only; one emptied meanwhile is not retried.
    if payload.is_empty() {
        return Err(Error::Invalid("delivery payload was pruned by retention".into()));
    }
    // Fields are copied into text columns, which cannot hold NUL: such characters become U+FFFD.
    let payload = super::without_nul(&payload);
    let action = delivery.action.as_deref().unwrap_or("");
    let mut org = match delivery.installation_id {
        Some(id) => installations::org_of(pool, id).await?,
        None => None,
    };
    let (status, detail) = match delivery.event.as_str() {
        "ping" => ("processed", "pong".to_owned()),
        "installation"
            if [
                "created",
                "deleted",
                "suspend",
                "unsuspend",
                "new_permissions_accepted",
            ]
            .contains(&action) =>
        {
            let event: InstallationEvent = serde_json::from_slice(&payload)
                .map_err(|e| Error::Invalid(format!("installation payload: {e}")))?;
            let account = event.installation.account.as_ref();
            org = installations::apply_event(
                pool,
                event.installation.id,
                action,
                account.and_then(|a| a.login.as_deref()),
                account.and_then(|a| a.kind.as_deref()),
            )
            .await?
            .or(org);
            if action == "deleted" {
                repositories::remove_installation(pool, event.installation.id).await?;
            } else if org.is_some() && action != "suspend" {
                enqueue_sync(pool, event.installation.id).await?;
            }
            ("processed", format!("installation {action}"))
        }
        "installation_repositories" if ["added", "removed"].contains(&action) => {
            if let (Some(id), Some(_)) = (delivery.installation_id, org) {
                enqueue_sync(pool, id).await?;
            }
            ("processed", format!("repositories {action}"))
        }
        "workflow_run" | "workflow_job" | "check_suite" => {
            org = delivery.org_id.or(org);
            let applied = crate::workflows::apply_delivery(
                pool,
                notify_window_secs,
                &delivery.event,
                action,
                org,
                delivery.repository_id,
                &payload,
            )
            .await?;
            (applied.status, applied.detail)
        }
        other => (
            "ignored",
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
    webhook_deliveries::set_status(pool, delivery.id, status, Some(&detail), org).await?;
    tracing::debug!(event = %delivery.event, action, status, "webhook delivery processed");
    Ok(Routed {
        org,
        status,
        detail,
    })
}

async fn enqueue_sync(pool: &PgPool, installation_id: i64) -> Result<(), Error> {
    let mut conn = pool.acquire().await?;
    jobs::push(&mut conn, &SyncRepositories { installation_id }).await?;
    Ok(())
}
