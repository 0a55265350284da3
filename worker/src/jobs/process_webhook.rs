//! `process_webhook`: decides what a stored delivery means and records the outcome on it.
//! `ping`, `installation`, `installation_repositories`, and for monitored repositories
//! `workflow_run`, `workflow_job` and `check_suite` are handled; every other event and action is
//! kept and marked `ignored` (never an error).

use common::{
    jobs::ProcessWebhook,
    jobs::{self, SyncRepositories},
    repo::{installations, repositories, webhook_deliveries},
};
use serde::Deserialize;

use crate::{context::JobContext, error::JobError};

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

handler!(ProcessWebhook => run);

pub async fn run(job: ProcessWebhook, ctx: JobContext) -> Result<(), JobError> {
    let Some((delivery, payload)) =
        webhook_deliveries::find(&ctx.services.pool, job.delivery_id).await?
    else {
        return Err(JobError::permanent("delivery no longer exists"));
    };
    // Fields are copied into text columns, which cannot hold NUL: such characters become U+FFFD.
    let payload = common::webhooks::without_nul(&payload);
    let action = delivery.action.as_deref().unwrap_or("");
    let mut org = match delivery.installation_id {
        Some(id) => installations::org_of(&ctx.services.pool, id).await?,
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
                .map_err(|e| JobError::permanent(format!("installation payload: {e}")))?;
            let account = event.installation.account.as_ref();
            org = installations::apply_event(
                &ctx.services.pool,
                event.installation.id,
                action,
                account.and_then(|a| a.login.as_deref()),
                account.and_then(|a| a.kind.as_deref()),
            )
            .await?
            .or(org);
            if action == "deleted" {
                repositories::remove_installation(&ctx.services.pool, event.installation.id)
                    .await?;
            } else if org.is_some() && action != "suspend" {
                enqueue_sync(&ctx, event.installation.id).await?;
            }
            ("processed", format!("installation {action}"))
        }
        "installation_repositories" if ["added", "removed"].contains(&action) => {
            if let (Some(id), Some(_)) = (delivery.installation_id, org) {
                enqueue_sync(&ctx, id).await?;
            }
            ("processed", format!("repositories {action}"))
        }
        "workflow_run" | "workflow_job" | "check_suite" => {
            org = delivery.org_id.or(org);
            let applied = common::workflows::apply_delivery(
                &ctx.services.pool,
                i64::try_from(ctx.services.slack.group_notify_window.as_secs()).unwrap_or(i64::MAX),
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
    webhook_deliveries::set_status(&ctx.services.pool, delivery.id, status, Some(&detail), org)
        .await?;
    tracing::debug!(event = %delivery.event, action, status, "webhook delivery processed");
    Ok(())
}

async fn enqueue_sync(ctx: &JobContext, installation_id: i64) -> Result<(), JobError> {
    let mut conn = ctx.services.pool.acquire().await?;
    jobs::push(&mut conn, &SyncRepositories { installation_id }).await?;
    Ok(())
}
