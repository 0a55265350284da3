//! What people do with incidents: acknowledge, resolve, reopen and comment. Each writes its status
//! change, a timeline entry and an audit entry in one transaction; a resolve also notifies.

use crate::domain::{AuditAction, AuditResource};
use serde_json::json;
use sqlx::PgPool;

use super::notify::{Notice, channels_of, fan_out};
use crate::{
    Error,
    domain::{EventKind, IncidentId, NotificationKind, Transition},
    identity::{Acting, audit},
    repo::{
        audit_logs::NewEntry,
        incident_events::{self, Event, NewEvent},
        incidents::{self, Incident, Moved},
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
    /// The transition it asks for, and its audit action.
    fn rule(self) -> (Transition, AuditAction) {
        match self {
            Self::Acknowledge => (Transition::ACKNOWLEDGE, AuditAction::IncidentAcknowledge),
            Self::Resolve => (Transition::RESOLVE, AuditAction::IncidentResolve),
            Self::Reopen => (Transition::REOPEN, AuditAction::IncidentReopen),
        }
    }
}

/// Applies `action` with an optional note; returns the incident afterwards.
pub async fn act(
    pool: &PgPool,
    by: &Acting<'_>,
    id: IncidentId,
    action: Action,
    note: Option<&str>,
) -> Result<Incident, Error> {
    let Acting { meta, org, actor } = *by;
    let (transition, audit_action) = action.rule();
    let mut tx = pool.begin().await?;
    let current = incidents::lock(&mut tx, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    let resolution = note.unwrap_or("Resolved by a person");
    let by = Moved {
        actor: Some(actor),
        resolution: Some(resolution),
    };
    let moved = incidents::transition(&mut tx, org, id, transition, by)
        .await
        .map_err(crate::repo::conflicts::map)?;
    if !moved {
        return Err(Error::conflict(
            "invalid_transition",
            format!("the incident is {}", current.status),
        ));
    }
    let event = incident_events::add_event(
        &mut tx,
        org,
        id,
        NewEvent {
            kind: transition.event,
            actor: Some(actor),
            body: note,
            data: json!({"from": current.status}),
        },
    )
    .await?;
    audit(
        &mut *tx,
        meta,
        NewEntry::success(audit_action)
            .org(org)
            .actor(actor)
            .resource(AuditResource::Incident, id)
            .meta(json!({"from": current.status, "to": transition.to})),
    )
    .await?;
    if action == Action::Resolve {
        let channels = channels_of(&mut tx, &current).await?;
        fan_out(
            &mut tx,
            org,
            &channels,
            Notice {
                incident: id,
                event,
                kind: NotificationKind::Resolved,
                title: &current.title,
            },
        )
        .await?;
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
    by: &Acting<'_>,
    id: IncidentId,
    body: &str,
) -> Result<Event, Error> {
    let Acting { meta, org, actor } = *by;
    let mut tx = pool.begin().await?;
    incidents::find(&mut *tx, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    let event = incident_events::add_event(
        &mut tx,
        org,
        id,
        NewEvent {
            kind: EventKind::Comment,
            actor: Some(actor),
            body: Some(body),
            data: json!({}),
        },
    )
    .await?;
    audit(
        &mut *tx,
        meta,
        NewEntry::success(AuditAction::IncidentComment)
            .org(org)
            .actor(actor)
            .resource(AuditResource::Incident, id),
    )
    .await?;
    let event = incident_events::find_event(&mut *tx, org, event)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(event)
}
