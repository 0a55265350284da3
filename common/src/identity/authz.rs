//! Authorisation denials: a member whose role lacks a permission leaves one small audit entry,
//! written so that it can neither fail the refusal nor pile up under a flood.

use crate::domain::AuditAction;
use std::time::Duration;

use serde_json::json;
use tokio::sync::Semaphore;

use super::{Caller, ClientMeta, Identity, audit};
use crate::{
    domain::{OrgId, Permission, Role},
    repo::audit_logs::NewEntry,
};

/// At most this many denial entries are written at once; beyond that a denial is only logged, so
/// a flood of refused requests cannot take the pool's connections.
static DENIAL_WRITERS: Semaphore = Semaphore::const_new(4);
/// A denial entry that takes longer than this (database slow or down) is given up.
const DENIAL_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// A refused request, as recorded.
#[derive(Debug, Clone, Copy)]
pub struct Denial<'a> {
    pub org: OrgId,
    pub role: Role,
    pub permission: Permission,
    pub method: &'a str,
    /// The route template (`/api/v1/orgs/{org_id}/…`), never the concrete path.
    pub route: &'a str,
}

impl Identity {
    /// Records an `authz.denied` entry for `caller`. Never fails: an entry that cannot be written
    /// is logged (without secrets) and the refusal goes ahead unchanged.
    pub async fn record_denial(&self, meta: &ClientMeta, caller: Caller, denial: Denial<'_>) {
        let Ok(_permit) = DENIAL_WRITERS.try_acquire() else {
            tracing::warn!(org_id = %denial.org.0, route = denial.route, "authorisation denial not recorded: too many at once");
            return;
        };
        let entry = NewEntry::failure(AuditAction::AuthzDenied)
            .org(denial.org)
            .actor(caller.user_id)
            .meta(json!({
                "permission": denial.permission,
                "role": denial.role.as_str(),
                "method": denial.method,
                "route": denial.route,
            }));
        match tokio::time::timeout(DENIAL_WRITE_TIMEOUT, audit(&self.pool, meta, entry)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(org_id = %denial.org.0, error = %e, "authorisation denial not recorded")
            }
            Err(_) => {
                tracing::warn!(org_id = %denial.org.0, "authorisation denial not recorded: timed out")
            }
        }
    }
}
