//! `audit_logs`: the security event trail. Metadata never holds secrets.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor, QueryBuilder};

use crate::{
    Error,
    domain::{OrgId, UserId},
};

/// One event to record.
#[derive(Debug, Clone, Default)]
pub struct NewEntry<'a> {
    pub org_id: Option<OrgId>,
    pub actor: Option<UserId>,
    pub action: &'a str,
    pub resource_type: Option<&'a str>,
    pub resource_id: Option<String>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub success: bool,
    pub metadata: serde_json::Value,
}

impl<'a> NewEntry<'a> {
    /// An event that happened as intended.
    pub fn success(action: &'a str) -> Self {
        Self {
            action,
            success: true,
            ..Self::default()
        }
    }

    /// An attempt that was refused or failed.
    pub fn failure(action: &'a str) -> Self {
        Self {
            action,
            success: false,
            ..Self::default()
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

    pub fn resource(mut self, kind: &'a str, id: impl ToString) -> Self {
        self.resource_type = Some(kind);
        self.resource_id = Some(id.to_string());
        self
    }

    pub fn kind(mut self, kind: &'a str) -> Self {
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
    pub status: String,
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(db: impl PgExecutor<'_>, e: &NewEntry<'_>) -> Result<(), Error> {
    let metadata = if e.metadata.is_null() {
        serde_json::json!({})
    } else {
        e.metadata.clone()
    };
    sqlx::query(
        "INSERT INTO audit_logs (org_id, actor_user_id, action, resource_type, resource_id, ip, user_agent, status, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.org_id)
    .bind(e.actor)
    .bind(e.action)
    .bind(e.resource_type)
    .bind(&e.resource_id)
    .bind(e.ip)
    .bind(e.user_agent)
    .bind(if e.success { "success" } else { "failure" })
    .bind(metadata)
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
    pub resource: Option<(&'static str, String)>,
    /// Only entries older than this id (the cursor).
    pub before_id: Option<i64>,
    pub limit: i64,
}

pub async fn list(db: impl PgExecutor<'_>, org: OrgId, f: &Filter) -> Result<Vec<Entry>, Error> {
    let mut q = QueryBuilder::new(
        "SELECT id, org_id, actor_user_id, action, resource_type, resource_id, ip, user_agent, status, metadata, created_at
         FROM audit_logs WHERE org_id = ",
    );
    q.push_bind(org);
    if let Some(action) = &f.action {
        q.push(" AND action = ").push_bind(action.clone());
    }
    if let Some(actor) = f.actor {
        q.push(" AND actor_user_id = ").push_bind(actor);
    }
    if let Some(from) = f.from {
        q.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        q.push(" AND created_at < ").push_bind(to);
    }
    if let Some((kind, id)) = &f.resource {
        q.push(" AND resource_type = ")
            .push_bind(*kind)
            .push(" AND resource_id = ")
            .push_bind(id.clone());
    }
    if let Some(before) = f.before_id {
        q.push(" AND id < ").push_bind(before);
    }
    q.push(" ORDER BY id DESC LIMIT ").push_bind(f.limit);
    Ok(q.build_query_as().fetch_all(db).await?)
}
