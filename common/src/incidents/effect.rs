//! What a source's evaluation did to an incident, written the same way for every source: its
//! timeline entry, its audit entry (no actor: the system acted), and which notification is due.

use serde_json::Value;
use sqlx::PgConnection;

use crate::{
    Error,
    domain::{
        AuditAction, AuditResource, EventKind, IncidentEventId, IncidentId, NotificationKind, OrgId,
    },
    repo::{
        audit_logs::{self, NewEntry},
        incident_events::{self, NewEvent},
        incidents,
    },
};

/// A change a source made to one of the organisation's incidents.
pub(super) struct Effect {
    pub incident: IncidentId,
    /// `Opened`, `Occurrence` or `Resolved` (resolved automatically).
    pub kind: EventKind,
    /// Why, for the timeline.
    pub body: Option<String>,
    /// The timeline entry's data.
    pub data: Value,
    /// What the audit entry says about the source's subject.
    pub audit: Value,
}

/// Writes the effect's timeline and audit entries; returns the timeline entry and the notification
/// due: always for an opening or a resolve, for an occurrence only once per `window_secs`.
pub(super) async fn record(
    tx: &mut PgConnection,
    org: OrgId,
    window_secs: i64,
    e: Effect,
) -> Result<(IncidentEventId, Option<NotificationKind>), Error> {
    let new = NewEvent {
        kind: e.kind,
        actor: None,
        body: e.body.as_deref(),
        data: e.data,
    };
    let event = incident_events::add_event(tx, org, e.incident, new).await?;
    let (action, notify) = match e.kind {
        EventKind::Opened => (AuditAction::IncidentOpen, Some(NotificationKind::Opened)),
        EventKind::Resolved => (
            AuditAction::IncidentAutoResolve,
            Some(NotificationKind::Resolved),
        ),
        _ => (AuditAction::IncidentOccurrence, None),
    };
    audit_logs::insert(
        &mut *tx,
        &NewEntry::success(action)
            .org(org)
            .resource(AuditResource::Incident, e.incident)
            .meta(e.audit),
    )
    .await?;
    let notify = match notify {
        None if incidents::take_notify_slot(tx, org, e.incident, window_secs).await? => {
            Some(NotificationKind::StillFailing)
        }
        other => other,
    };
    Ok((event, notify))
}
