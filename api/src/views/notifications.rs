//! The notifications menu's page: the signed-in person's in-app notifications (incidents opened,
//! still failing, resolved; integrations failing or recovered), opening one marks it read.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use common::{
    domain::NotificationId,
    repo::notifications::{self, Filter, Notification, Show},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    page::{ConsoleError, Layout, NavOrg, ok},
    session::{Console, Posted, urlencode},
};
use crate::state::AppState;

const PAGE: i64 = 50;

/// A notification as the menu and the page show it.
#[derive(Debug, Clone)]
pub struct NoteRow {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub org: String,
    pub read: bool,
    pub at: String,
    /// The console page it is about.
    pub href: String,
}

impl NoteRow {
    pub fn new(n: Notification, orgs: &[NavOrg]) -> Self {
        let org = orgs.iter().find(|o| o.id == n.org_id);
        let slug = org.map(|o| urlencode(&o.slug)).unwrap_or_default();
        let href = match (n.incident_id, n.integration_id) {
            (Some(i), _) => format!("/orgs/{slug}/incidents/{i}"),
            (None, Some(i)) => format!("/orgs/{slug}/integrations/{i}"),
            (None, None) => format!("/orgs/{slug}"),
        };
        Self {
            id: n.id.to_string(),
            title: n.title,
            kind: n.kind.to_string().replace('_', " "),
            org: org.map(|o| o.name.clone()).unwrap_or_default(),
            read: n.read_at.is_some(),
            at: n.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            href,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NotesQuery {
    /// `1`: only unread ones.
    #[serde(default)]
    unread: String,
    /// The time cursor of the previous page (`{micros}_{uuid}`).
    #[serde(default)]
    before: String,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotesPage {
    l: Layout,
    rows: Vec<NoteRow>,
    unread_only: bool,
    next: Option<String>,
}

fn cursor(raw: &str) -> Option<(chrono::DateTime<chrono::Utc>, Uuid)> {
    let (at, id) = raw.split_once('_')?;
    let at = chrono::DateTime::from_timestamp_micros(at.parse().ok()?)?;
    (1..=9999)
        .contains(&chrono::Datelike::year(&at))
        .then_some(())?;
    Some((at, id.parse().ok()?))
}

/// `GET /notifications?unread=1&before=`.
pub async fn list(
    State(state): State<AppState>,
    Console(signed): Console,
    Query(q): Query<NotesQuery>,
) -> Result<Response, ConsoleError> {
    let l = Layout::signed(&state, &signed, "Notifications")
        .await?
        .with_notice(q.notice.as_deref());
    let unread_only = q.unread == "1";
    let filter = Filter {
        show: if unread_only { Show::Unread } else { Show::All },
        before: cursor(&q.before),
        limit: PAGE + 1,
    };
    let mut rows =
        notifications::list(&state.services.pool, signed.caller.user_id, &filter).await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let next = more.then(|| rows.last()).flatten().map(|n| {
        format!(
            "/notifications?unread={}&before={}_{}",
            if unread_only { "1" } else { "" },
            n.created_at.timestamp_micros(),
            n.id
        )
    });
    let rows = rows.into_iter().map(|n| NoteRow::new(n, &l.orgs)).collect();
    Ok(ok(&NotesPage {
        l,
        rows,
        unread_only,
        next,
    }))
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /notifications/{id}/read`: marks it read and opens what it is about.
pub async fn open(
    State(state): State<AppState>,
    Console(signed): Console,
    Path(id): Path<String>,
    Posted { .. }: Posted<Empty>,
) -> Result<Response, ConsoleError> {
    let id = ConsoleError::page_id::<NotificationId>(&id)?;
    let pool = &state.services.pool;
    let user = signed.caller.user_id;
    if !notifications::mark_read(pool, user, id).await? {
        return Err(ConsoleError::not_found());
    }
    let l = Layout::signed(&state, &signed, "Notifications").await?;
    // Find it again for its target (it is now read, so look among all).
    let all = notifications::list(
        pool,
        user,
        &Filter {
            show: Show::All,
            before: None,
            limit: 500,
        },
    )
    .await?;
    let to = all
        .into_iter()
        .find(|n| n.id == id)
        .map(|n| NoteRow::new(n, &l.orgs).href)
        .unwrap_or_else(|| "/notifications".to_owned());
    Ok(Redirect::to(&to).into_response())
}

/// `POST /notifications/read-all`.
pub async fn read_all(
    State(state): State<AppState>,
    Console(signed): Console,
    Posted { .. }: Posted<Empty>,
) -> Result<Response, ConsoleError> {
    notifications::mark_all_read(&state.services.pool, signed.caller.user_id).await?;
    Ok(Redirect::to("/notifications?notice=notifications_read").into_response())
}
