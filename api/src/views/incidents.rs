//! Incident pages: the board (filters; refreshes itself while open) and the detail page (context,
//! occurrences, timeline; acknowledge, resolve, reopen, comment).

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use common::{
    domain::{IncidentId, IncidentStatus, Permission, Severity},
    incidents::Action,
    repo::{incident_events, incidents},
};
use serde::Deserialize;

use super::{
    home::{IncidentRow, OrgCtx},
    page::{ConsoleError, Layout, ok},
    session::{Console, Posted, urlencode},
};
use crate::{extract::Client, state::AppState};

#[derive(Debug, Default, Deserialize)]
pub struct BoardQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    branch: String,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "incidents/board.html")]
struct BoardPage {
    l: Layout,
    slug: String,
    rows: Vec<IncidentRow>,
    statuses: Vec<&'static str>,
    severities: Vec<&'static str>,
    status: String,
    severity: String,
    branch: String,
}

/// `GET /orgs/{slug}/incidents?status=&severity=&branch=`: the newest 100 matching incidents.
pub async fn board(
    State(state): State<AppState>,
    Console(signed): Console,
    Path(slug): Path<String>,
    Query(q): Query<BoardQuery>,
) -> Result<Response, ConsoleError> {
    let (org, l) = OrgCtx::load(&state, &signed, &slug, "Incidents").await?;
    org.require(Permission::IncidentsRead)?;
    let status = q.status.parse::<IncidentStatus>().ok();
    let severity = q.severity.parse::<Severity>().ok();
    let branch = Some(q.branch.trim().to_owned()).filter(|b| !b.is_empty() && b.len() <= 255);
    let filter = incidents::Filter {
        status,
        severity,
        source: None,
        repository: None,
        branch: branch.clone(),
        before: None,
        limit: 100,
    };
    let rows = incidents::list(&state.services.pool, org.id, &filter)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(ok(&BoardPage {
        l: l.with_notice(q.notice.as_deref()),
        slug: org.slug,
        rows,
        statuses: IncidentStatus::ALL.iter().map(|s| s.as_str()).collect(),
        severities: Severity::ALL.iter().map(|s| s.as_str()).collect(),
        status: status.map(|s| s.to_string()).unwrap_or_default(),
        severity: severity.map(|s| s.to_string()).unwrap_or_default(),
        branch: branch.unwrap_or_default(),
    }))
}

pub struct FailedJob {
    pub name: String,
    pub steps: String,
    pub log_tail: String,
}

pub struct EventRow {
    pub kind: String,
    pub body: String,
    pub at: String,
}

pub struct OccurrenceRow {
    pub run_number: i64,
    pub attempt: i32,
    pub sha: String,
    pub author: String,
    pub conclusion: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "incidents/detail.html")]
struct DetailPage {
    l: Layout,
    slug: String,
    id: String,
    row: IncidentRow,
    summary: String,
    suspect: String,
    head_sha: String,
    failed_jobs: Vec<FailedJob>,
    occurrences: Vec<OccurrenceRow>,
    timeline: Vec<EventRow>,
    can_act: bool,
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `GET /orgs/{slug}/incidents/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    Console(signed): Console,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Query<BoardQuery>,
) -> Result<Response, ConsoleError> {
    let (org, l) = OrgCtx::load(&state, &signed, &slug, "Incident").await?;
    org.require(Permission::IncidentsRead)?;
    let id = ConsoleError::page_id::<IncidentId>(&id)?;
    let pool = &state.services.pool;
    let incident = incidents::find(pool, org.id, id)
        .await?
        .ok_or_else(ConsoleError::not_found)?;
    let context = incident.context.clone().unwrap_or_default();
    let failed_jobs = context["failed_jobs"]
        .as_array()
        .map(|jobs| {
            jobs.iter()
                .map(|j| FailedJob {
                    name: j["name"].as_str().unwrap_or_default().to_owned(),
                    steps: j["failed_steps"]
                        .as_array()
                        .map(|s| {
                            s.iter()
                                .filter_map(|x| x.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default(),
                    log_tail: j["log_tail"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let occurrences = incidents::occurrences(pool, org.id, id)
        .await?
        .into_iter()
        .map(|o| OccurrenceRow {
            run_number: o.run_number,
            attempt: o.run_attempt,
            sha: o.head_sha.chars().take(7).collect(),
            author: o.commit_author.unwrap_or_default(),
            conclusion: o.conclusion.unwrap_or_default(),
            at: when(o.occurred_at),
        })
        .collect();
    let timeline = incident_events::events(pool, org.id, id)
        .await?
        .into_iter()
        .map(|e| EventRow {
            kind: e.kind.to_string(),
            body: e.body.unwrap_or_default(),
            at: when(e.created_at),
        })
        .collect();
    let suspect = match (&incident.suspect_author, &incident.suspect_message) {
        (Some(a), Some(m)) => format!("{a}: {m}"),
        (Some(a), None) => a.clone(),
        (None, Some(m)) => m.clone(),
        (None, None) => String::new(),
    };
    Ok(ok(&DetailPage {
        l: Layout {
            title: incident.title.clone(),
            ..l.with_notice(q.notice.as_deref())
        },
        slug: org.slug,
        id: id.to_string(),
        summary: context["summary"].as_str().unwrap_or_default().to_owned(),
        suspect,
        head_sha: incident.head_sha.clone().unwrap_or_default(),
        row: incident.into(),
        failed_jobs,
        occurrences,
        timeline,
        can_act: org.role.allows(Permission::IncidentsManage),
    }))
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
}

/// `POST /orgs/{slug}/incidents/{id}/{action}`: acknowledge, resolve, reopen or comment.
pub async fn act(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path((slug, id, action)): Path<(String, String, String)>,
    Posted { form, .. }: Posted<NoteForm>,
) -> Result<Response, ConsoleError> {
    let (org, _) = OrgCtx::load(&state, &signed, &slug, "Incident").await?;
    org.require(Permission::IncidentsManage)?;
    let id = ConsoleError::page_id::<IncidentId>(&id)?;
    let note = form.note.trim();
    if note.chars().count() > 4000 {
        return Err(ConsoleError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "The note must be at most 4000 characters.",
        ));
    }
    let pool = &state.services.pool;
    let by = &org.acting(&signed, &meta);
    let note_opt = Some(note).filter(|n| !n.is_empty());
    let done = match action.as_str() {
        "acknowledge" => Action::Acknowledge,
        "resolve" => Action::Resolve,
        "reopen" => Action::Reopen,
        "comment" => {
            let Some(text) = note_opt else {
                return Err(ConsoleError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "A comment needs some text.",
                ));
            };
            common::incidents::comment(pool, by, id, text).await?;
            return Ok(back(&org.slug, id, "commented"));
        }
        _ => return Err(ConsoleError::not_found()),
    };
    common::incidents::act(pool, by, id, done, note_opt).await?;
    Ok(back(&org.slug, id, &action))
}

fn back(slug: &str, id: IncidentId, what: &str) -> Response {
    Redirect::to(&format!(
        "/orgs/{}/incidents/{id}?notice=incident_{what}",
        urlencode(slug)
    ))
    .into_response()
}
