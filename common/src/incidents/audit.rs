//! The audit entry of what a source's evaluation did to an incident (the system acted: no actor).

use serde_json::Value;
use sqlx::PgConnection;

use crate::{
    Error,
    domain::{AuditAction, AuditResource, IncidentId, OrgId},
    repo::audit_logs::{self, NewEntry},
};

/// Audits `action` on the organisation's `incident`, with the source's details in `meta`.
pub(super) async fn record(
    tx: &mut PgConnection,
    org: OrgId,
    incident: IncidentId,
    action: AuditAction,
    meta: Value,
) -> Result<(), Error> {
    audit_logs::insert(
        &mut *tx,
        &NewEntry::success(action)
            .org(org)
            .resource(AuditResource::Incident, incident)
            .meta(meta),
    )
    .await
}
