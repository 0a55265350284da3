//! `notifications`: the in-app list each organisation admin sees about incidents.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor, QueryBuilder};
use uuid::Uuid;

use crate::{
    Error,
    domain::{IncidentId, NotificationId, NotificationKind, OrgId, Role, UserId},
};

/// What a notification is about.
#[derive(Debug, Clone, Copy)]
pub enum About {
    Incident(IncidentId),
    Integration(Uuid),
}

/// One notification for every admin of `org`. Returns how many were written.
pub async fn notify_admins(
    tx: &mut PgConnection,
    org: OrgId,
    about: About,
    kind: NotificationKind,
    title: &str,
) -> Result<u64, Error> {
    let (incident, integration) = match about {
        About::Incident(id) => (Some(id), None),
        About::Integration(id) => (None, Some(id)),
    };
    Ok(sqlx::query!(
        "INSERT INTO notifications (user_id, org_id, incident_id, integration_id, kind, title)
         SELECT m.user_id, m.org_id, $2, $3, $4, $5 FROM memberships m WHERE m.org_id = $1 AND m.role = $6",
        org as OrgId,
        incident as Option<IncidentId>,
        integration,
        kind as NotificationKind,
        title,
        Role::OrgAdmin.as_str(),
    )
    .execute(tx)
    .await?
    .rows_affected())
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Notification {
    pub id: NotificationId,
    pub org_id: OrgId,
    pub incident_id: Option<IncidentId>,
    pub integration_id: Option<Uuid>,
    pub kind: NotificationKind,
    pub title: String,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Which of the user's notifications to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Show {
    #[default]
    All,
    Unread,
}

#[derive(Debug, Default)]
pub struct Filter {
    pub show: Show,
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// The user's notifications, newest first, from organisations they still belong to. Dynamic SQL:
/// the unread filter and the cursor are applied only when given.
pub async fn list(
    db: impl PgExecutor<'_>,
    user: UserId,
    f: &Filter,
) -> Result<Vec<Notification>, Error> {
    let mut q = QueryBuilder::new(
        "SELECT n.id, n.org_id, n.incident_id, n.integration_id, n.kind, n.title, n.read_at, n.created_at
         FROM notifications n JOIN memberships m ON m.org_id = n.org_id AND m.user_id = n.user_id
         WHERE n.user_id = ",
    );
    q.push_bind(user);
    if f.show == Show::Unread {
        q.push(" AND n.read_at IS NULL");
    }
    super::paging::push_page(&mut q, "n.created_at", "n.id", f.before, f.limit);
    Ok(q.build_query_as().fetch_all(db).await?)
}

/// Marks one of the user's notifications read; false when it is not theirs.
pub async fn mark_read(
    db: impl PgExecutor<'_>,
    user: UserId,
    id: NotificationId,
) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE user_id = $1 AND id = $2",
        user as UserId,
        id as NotificationId,
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Marks all of the user's notifications read; returns how many changed.
pub async fn mark_all_read(db: impl PgExecutor<'_>, user: UserId) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL",
        user as UserId,
    )
    .execute(db)
    .await?
    .rows_affected())
}
