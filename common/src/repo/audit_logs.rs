//! `audit_logs`: the security event trail. Metadata never holds secrets.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};

use crate::{
    Error,
    domain::{AuditAction, AuditResource, AuditStatus, OrgId, UserId},
};

/// One event to record.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub org_id: Option<OrgId>,
    pub actor: Option<UserId>,
    pub action: AuditAction,
    pub resource_type: Option<AuditResource>,
    pub resource_id: Option<String>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub success: bool,
    pub metadata: serde_json::Value,
}

impl<'a> NewEntry<'a> {
    /// An event that happened as intended.
    pub fn success(action: AuditAction) -> Self {
        Self::new(action, true)
    }

    /// An attempt that was refused or failed.
    pub fn failure(action: AuditAction) -> Self {
        Self::new(action, false)
    }

    fn new(action: AuditAction, success: bool) -> Self {
        Self {
            org_id: None,
            actor: None,
            action,
            resource_type: None,
            resource_id: None,
            ip: None,
            user_agent: None,
            success,
            metadata: serde_json::Value::Null,
        }
    }

    pub fn actor(mut self, user: UserId) -> Self {
        self.actor = Some(user);
        self
    }

    pub fn org(mut self, org: OrgId) -> Self {
        self.org_id = Some(org);
        self
    }

    pub fn resource(mut self, kind: AuditResource, id: impl ToString) -> Self {
        self.resource_type = Some(kind);
        self.resource_id = Some(id.to_string());
        self
    }

    pub fn kind(mut self, kind: AuditResource) -> Self {
        self.resource_type = Some(kind);
        self
    }

    pub fn meta(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = metadata;
        self
    }
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Entry {
    pub id: i64,
    pub org_id: Option<OrgId>,
    pub actor_user_id: Option<UserId>,
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub status: AuditStatus,
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(db: impl PgExecutor<'_>, e: &NewEntry<'_>) -> Result<(), Error> {
    let metadata = if e.metadata.is_null() {
        serde_json::json!({})
    } else {
        e.metadata.clone()
    };
    let status = if e.success {
        AuditStatus::Success
    } else {
        AuditStatus::Failure
    };
    sqlx::query!(
        "INSERT INTO audit_logs (org_id, actor_user_id, action, resource_type, resource_id, ip, user_agent,
                                 status, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        e.org_id as Option<OrgId>,
        e.actor as Option<UserId>,
        e.action as AuditAction,
        e.resource_type as Option<AuditResource>,
        e.resource_id.as_deref(),
        e.ip,
        e.user_agent,
        status as AuditStatus,
        metadata,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Filters for listing an organisation's audit log, newest first.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub action: Option<String>,
    pub actor: Option<UserId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only entries about this resource (type, id).
    pub resource: Option<(AuditResource, String)>,
    /// Only entries older than this id (the cursor).
    pub before_id: Option<i64>,
    pub limit: i64,
}

pub async fn list(db: impl PgExecutor<'_>, org: OrgId, f: &Filter) -> Result<Vec<Entry>, Error> {
    let (resource_type, resource_id) = f
        .resource
        .as_ref()
        .map(|(k, id)| (k.as_str(), id.as_str()))
        .unzip();
    Ok(sqlx::query_as!(
        Entry,
        r#"SELECT id, org_id AS "org_id: _", actor_user_id AS "actor_user_id: _", action, resource_type,
             resource_id, ip, user_agent, status AS "status: _", metadata, created_at
         FROM audit_logs
         WHERE org_id = $1
           AND ($2::text IS NULL OR action = $2)
           AND ($3::uuid IS NULL OR actor_user_id = $3)
           AND ($4::timestamptz IS NULL OR created_at >= $4)
           AND ($5::timestamptz IS NULL OR created_at < $5)
           AND ($6::text IS NULL OR (resource_type = $6 AND resource_id = $7))
           AND ($8::bigint IS NULL OR id < $8)
         ORDER BY id DESC LIMIT $9"#,
        org as OrgId,
        f.action.as_deref(),
        f.actor as Option<UserId>,
        f.from,
        f.to,
        resource_type,
        resource_id,
        f.before_id,
        f.limit,
    )
    .fetch_all(db)
    .await?)
}
