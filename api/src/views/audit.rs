//! The organisation's audit log page (org_admin): filters by action, actor and dates, newest
//! first, with cursor paging.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use chrono::{NaiveDate, TimeZone, Utc};
use common::{
    domain::{Permission, UserId},
    repo::audit_logs::Filter,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    home::OrgCtx,
    page::{ConsoleError, Layout, ok},
    session::{Console, urlencode},
};
use crate::state::AppState;

const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    /// A member's user id.
    #[serde(default)]
    actor: String,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    to: String,
    /// Entries older than this id.
    #[serde(default)]
    before: String,
}

fn day(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (1..=9999).contains(&chrono::Datelike::year(d)))
}

pub struct EntryRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub resource: String,
    pub status: String,
    pub ip: String,
    pub details: String,
}

pub struct ActorOption {
    pub id: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    slug: String,
    rows: Vec<EntryRow>,
    actors: Vec<ActorOption>,
    action: String,
    actor: String,
    from: String,
    to: String,
    next: Option<String>,
    first: Option<String>,
}

/// `GET /orgs/{slug}/audit?action=&actor=&from=&to=&before=`.
pub async fn show(
    State(state): State<AppState>,
    Console(signed): Console,
    Path(slug): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ConsoleError> {
    let (org, l) = OrgCtx::load(&state, &signed, &slug, "Audit log").await?;
    org.require(Permission::AuditRead)?;
    let action = Some(q.action.trim().to_owned()).filter(|a| !a.is_empty() && a.len() <= 100);
    let actor = q.actor.parse::<Uuid>().ok().map(UserId);
    let from = day(&q.from);
    let to = day(&q.to);
    let before_id = q.before.parse::<i64>().ok();
    let filter = Filter {
        action: action.clone(),
        actor,
        from: from
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Utc.from_utc_datetime(&t)),
        to: to
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Utc.from_utc_datetime(&t)),
        resource: None,
        before_id,
        limit: PAGE + 1,
    };
    let mut entries = state.identity.audit_log(org.id, &filter).await?;
    let more = entries.len() as i64 > PAGE;
    entries.truncate(PAGE as usize);
    let (members, _) = state.identity.members(org.id).await?;
    let name_of = |id: Option<UserId>| match id {
        None => "RepoPal".to_owned(),
        Some(id) => members
            .iter()
            .find(|m| m.user_id == id)
            .map(|m| m.email.clone())
            .unwrap_or_else(|| "a former member".to_owned()),
    };
    let kept = |before: Option<i64>| {
        let mut pairs = Vec::new();
        if let Some(a) = &action {
            pairs.push(format!("action={}", urlencode(a)));
        }
        if let Some(a) = actor {
            pairs.push(format!("actor={a}"));
        }
        if let Some(d) = from {
            pairs.push(format!("from={d}"));
        }
        if let Some(d) = to {
            pairs.push(format!("to={d}"));
        }
        if let Some(b) = before {
            pairs.push(format!("before={b}"));
        }
        format!("/orgs/{}/audit?{}", urlencode(&org.slug), pairs.join("&"))
    };
    let next = more
        .then(|| entries.last().map(|e| kept(Some(e.id))))
        .flatten();
    let first = before_id.map(|_| kept(None));
    let rows = entries
        .into_iter()
        .map(|e| EntryRow {
            at: e.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor: name_of(e.actor_user_id),
            action: e.action,
            resource: match (e.resource_type, e.resource_id) {
                (Some(t), Some(id)) => format!("{t} {id}"),
                (Some(t), None) => t,
                _ => String::new(),
            },
            status: e.status.to_string(),
            ip: e.ip.unwrap_or_default(),
            details: if e.metadata.as_object().is_some_and(|m| m.is_empty()) {
                String::new()
            } else {
                e.metadata.to_string().chars().take(300).collect()
            },
        })
        .collect();
    let actors = members
        .iter()
        .map(|m| ActorOption {
            id: m.user_id.to_string(),
            label: format!("{} ({})", m.full_name, m.email),
        })
        .collect();
    Ok(ok(&AuditPage {
        l,
        slug: org.slug.clone(),
        rows,
        actors,
        action: action.clone().unwrap_or_default(),
        actor: actor.map(|a| a.to_string()).unwrap_or_default(),
        from: from.map(|d| d.to_string()).unwrap_or_default(),
        to: to.map(|d| d.to_string()).unwrap_or_default(),
        next,
        first,
    }))
}
