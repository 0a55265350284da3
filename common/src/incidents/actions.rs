//! What people do with incidents: acknowledge, resolve, reopen and comment. Each writes its status
//! change, a timeline entry and an audit entry in one transaction; a resolve also notifies.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::notify::fan_out;
use crate::{
    Error,
    domain::{OrgId, UserId},
    identity::{ClientMeta, audit},
    repo::{
        audit_logs::NewEntry,
        incidents::{self, Event, Incident},
        repositories,
    },
};

/// A status change someone asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Acknowledge,
    Resolve,
    Reopen,
}

impl Action {
    /// (allowed from, to, timeline kind, audit action)
    fn rule(
        self,
    ) -> (
        &'static [&'static str],
        &'static str,
        &'static str,
        &'static str,
    ) {
        match self {
            Self::Acknowledge => (
                &["open"],
                "acknowledged",
                "acknowledged",
                "incident.acknowledge",
            ),
            Self::Resolve => (
                &["open", "acknowledged"],
                "resolved",
                "resolved",
                "incident.resolve",
            ),
            Self::Reopen => (&["resolved"], "open", "reopened", "incident.reopen"),
        }
    }
}

/// Applies `action` with an optional note; returns the incident afterwards.
pub async fn act(
    pool: &PgPool,
    meta: &ClientMeta,
    org: OrgId,
    actor: UserId,
    id: Uuid,
    action: Action,
    note: Option<&str>,
) -> Result<Incident, Error> {
    let (from, to, kind, audit_action) = action.rule();
    let mut tx = pool.begin().await?;
    let current = incidents::lock(&mut tx, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    let resolution = note.unwrap_or("Resolved by a person");
    let moved = incidents::transition(&mut tx, org, id, from, to, Some(actor), Some(resolution))
        .await
        .map_err(crate::repo::conflicts::map)?;
    if !moved {
        return Err(Error::conflict(
            "invalid_transition",
            format!("the incident is {}", current.status),
        ));
    }
    let event = incidents::add_event(
        &mut tx,
        org,
        id,
        kind,
        Some(actor),
        note,
        json!({"from": current.status}),
    )
    .await?;
    audit(
        &mut *tx,
        meta,
        NewEntry::success(audit_action)
            .org(org)
            .actor(actor)
            .resource("incident", id)
            .meta(json!({"from": current.status, "to": to})),
    )
    .await?;
    if action == Action::Resolve
        && let Some(repo) = repositories::find(&mut *tx, org, current.repository_id).await?
    {
        fan_out(&mut tx, &repo, id, event, "resolved", &current.title).await?;
    }
    let after = incidents::find(&mut *tx, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(after)
}

/// Adds a comment to the incident's timeline.
pub async fn comment(
    pool: &PgPool,
    meta: &ClientMeta,
    org: OrgId,
    actor: UserId,
    id: Uuid,
    body: &str,
) -> Result<Event, Error> {
    let mut tx = pool.begin().await?;
    incidents::find(&mut *tx, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    let event = incidents::add_event(
        &mut tx,
        org,
        id,
        "comment",
        Some(actor),
        Some(body),
        json!({}),
    )
    .await?;
    audit(
        &mut *tx,
        meta,
        NewEntry::success("incident.comment")
            .org(org)
            .actor(actor)
            .resource("incident", id),
    )
    .await?;
    let event = incidents::find_event(&mut *tx, org, event)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(event)
}
