//! `incident_events`: each incident's timeline (opened, occurrences, context, people's actions).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor};

use crate::{
    Error,
    domain::{EventKind, IncidentEventId, IncidentId, OrgId, UserId},
};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Event {
    pub id: IncidentEventId,
    pub incident_id: IncidentId,
    pub kind: EventKind,
    pub actor_id: Option<UserId>,
    pub body: Option<String>,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// A timeline entry about to be written.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub kind: EventKind,
    pub actor: Option<UserId>,
    pub body: Option<&'a str>,
    pub data: serde_json::Value,
}

/// Adds a timeline entry; returns its id.
pub async fn add_event(
    tx: &mut PgConnection,
    org: OrgId,
    incident: IncidentId,
    e: NewEvent<'_>,
) -> Result<IncidentEventId, Error> {
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO incident_events (org_id, incident_id, kind, actor_id, body, data)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id AS "id: IncidentEventId""#,
        org as OrgId,
        incident as IncidentId,
        e.kind as EventKind,
        e.actor as Option<UserId>,
        e.body,
        e.data,
    )
    .fetch_one(tx)
    .await?)
}

/// The timeline of one incident (`Of::Incident`), or one entry of it (`Of::Event`).
#[derive(Debug, Clone, Copy)]
pub enum Of {
    Incident(IncidentId),
    Event(IncidentEventId),
}

async fn select_events(db: impl PgExecutor<'_>, org: OrgId, of: Of) -> Result<Vec<Event>, Error> {
    let (incident, event) = match of {
        Of::Incident(id) => (Some(id), None),
        Of::Event(id) => (None, Some(id)),
    };
    Ok(sqlx::query_as!(
        Event,
        r#"SELECT id AS "id: _", incident_id AS "incident_id: _", kind AS "kind: _",
                actor_id AS "actor_id: _", body, data, created_at
         FROM incident_events
         WHERE org_id = $1 AND (incident_id = $2 OR $2 IS NULL) AND (id = $3 OR $3 IS NULL)
         ORDER BY created_at, id"#,
        org as OrgId,
        incident as Option<IncidentId>,
        event as Option<IncidentEventId>,
    )
    .fetch_all(db)
    .await?)
}

pub async fn events(
    db: impl PgExecutor<'_>,
    org: OrgId,
    incident: IncidentId,
) -> Result<Vec<Event>, Error> {
    select_events(db, org, Of::Incident(incident)).await
}

pub async fn find_event(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IncidentEventId,
) -> Result<Option<Event>, Error> {
    Ok(select_events(db, org, Of::Event(id))
        .await?
        .into_iter()
        .next())
}
