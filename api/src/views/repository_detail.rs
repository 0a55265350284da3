//! A repository's page: its hook state (with the connect switch), recent workflow runs, open
//! incidents, Slack channels and settings.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use common::{
    domain::{IncidentStatus, Permission, RepositoryId},
    repo::{incidents, repositories, workflow_runs},
};

use super::{
    account::PageQuery,
    home::{IncidentRow, OrgCtx},
    page::{ConsoleError, Layout, ok, render},
    repositories::{ListQuery, RepoRow},
    session::{Console, Posted, Signed, urlencode},
};
use crate::{extract::Client, state::AppState};

pub struct RunRow {
    pub workflow: String,
    pub run_number: i64,
    pub attempt: i32,
    pub branch: String,
    pub sha: String,
    /// The conclusion, or the status while it runs.
    pub outcome: String,
    pub at: String,
    pub url: String,
}

/// A channel of the organisation's Slack workspace, as a checkbox.
pub struct PickChannel {
    pub id: String,
    pub name: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "repositories/detail.html")]
struct DetailPage {
    l: Layout,
    slug: String,
    r: RepoRow,
    /// The toggle partial's return target and list view.
    back: &'static str,
    q: ListQuery,
    can_manage: bool,
    default_branch: String,
    auto_incident: bool,
    channels: Vec<String>,
    /// The channel field's text (what was typed when it was refused); with a picker, only the
    /// channels it does not list.
    channels_text: String,
    /// The workspace's channels when a Slack integration is usable (else channels are typed).
    picker: Option<Vec<PickChannel>>,
    runs: Vec<RunRow>,
    open: Vec<IncidentRow>,
    /// The last 30 days' failure rate and durations (inline SVG), for those who may read runs.
    charts: Vec<super::charts::Chart>,
    error: Option<String>,
}

async fn detail_page(
    state: &AppState,
    signed: &Signed,
    slug: &str,
    id: &str,
    notice: Option<&str>,
) -> Result<DetailPage, ConsoleError> {
    let (org, l) = OrgCtx::load(state, signed, slug, "Repository").await?;
    org.require(Permission::ReposRead)?;
    let id = ConsoleError::page_id::<RepositoryId>(id)?;
    let pool = &state.services.pool;
    let repo = repositories::find(pool, org.id, id)
        .await?
        .ok_or_else(ConsoleError::not_found)?;
    let charts = if org.role.allows(Permission::IncidentsRead) {
        super::trends::repository_charts(pool, org.id, id, chrono::Utc::now()).await?
    } else {
        Vec::new()
    };
    let runs = if org.role.allows(Permission::IncidentsRead) {
        let filter = workflow_runs::Filter {
            repository: Some(id),
            workflow: None,
            branch: None,
            conclusion: None,
            from: None,
            to: None,
            before: None,
            limit: 10,
        };
        workflow_runs::list(pool, org.id, &filter)
            .await?
            .into_iter()
            .map(|w| RunRow {
                workflow: w.workflow_name,
                run_number: w.run_number,
                attempt: w.run_attempt,
                branch: w.branch,
                sha: w.head_sha.chars().take(7).collect(),
                outcome: w.conclusion.unwrap_or(w.status),
                at: w.received_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                url: w
                    .html_url
                    .filter(|u| u.starts_with("https://"))
                    .unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut open = Vec::new();
    if org.role.allows(Permission::IncidentsRead) {
        for status in [IncidentStatus::Open, IncidentStatus::Acknowledged] {
            let filter = incidents::Filter {
                status: Some(status),
                source: None,
                severity: None,
                repository: Some(id),
                branch: None,
                before: None,
                limit: 50,
            };
            open.extend(incidents::list(pool, org.id, &filter).await?);
        }
    }
    let channels: Vec<String> = repo
        .slack_channels
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let can_manage = org.role.allows(Permission::ReposManage);
    let picker = if can_manage {
        common::integrations::slack_channels(&state.services, org.id)
            .await?
            .map(|list| {
                list.into_iter()
                    .map(|c| PickChannel {
                        checked: channels
                            .iter()
                            .any(|s| *s == c.id || s.strip_prefix('#') == Some(c.name.as_str())),
                        id: c.id,
                        name: c.name,
                    })
                    .collect::<Vec<_>>()
            })
    } else {
        None
    };
    let channels_text = channels
        .iter()
        .filter(|s| {
            !picker.as_ref().is_some_and(|p| {
                p.iter()
                    .any(|c| **s == c.id || s.strip_prefix('#') == Some(c.name.as_str()))
            })
        })
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    Ok(DetailPage {
        l: Layout {
            title: repo.full_name.clone(),
            ..l.with_notice(notice)
        },
        slug: org.slug,
        back: "detail",
        q: ListQuery::default(),
        can_manage,
        picker,
        default_branch: repo.default_branch.clone().unwrap_or_default(),
        auto_incident: repo.auto_incident,
        channels_text,
        channels,
        r: repo.into(),
        runs,
        open: open.into_iter().map(Into::into).collect(),
        charts,
        error: None,
    })
}

/// `GET /orgs/{slug}/repositories/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Console(signed): Console,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Result<Response, ConsoleError> {
    Ok(ok(&detail_page(
        &state,
        &signed,
        &slug,
        &id,
        q.notice.as_deref(),
    )
    .await?))
}

/// `POST /orgs/{slug}/repositories/{id}/settings`: automatic incidents and Slack channels, checked
/// as the JSON route checks them.
pub async fn save_settings(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path((slug, id)): Path<(String, String)>,
    Posted { form, .. }: Posted<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let (org, _) = OrgCtx::load(&state, &signed, &slug, "Repository").await?;
    org.require(Permission::ReposManage)?;
    let repo = ConsoleError::page_id::<RepositoryId>(&id)?;
    // Picked channels (`channel`, repeated), then typed ones (`slack_channels`), once each.
    let typed = form
        .iter()
        .find(|(k, _)| k == "slack_channels")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let auto_incident = form.iter().any(|(k, _)| k == "auto_incident");
    let mut channels: Vec<String> = Vec::new();
    let picked = form
        .iter()
        .filter(|(k, _)| k == "channel")
        .map(|(_, v)| v.as_str());
    for c in picked.chain(typed.split(|c: char| c == ',' || c.is_whitespace())) {
        if !c.is_empty() && !channels.iter().any(|x| x == c) {
            channels.push(c.to_owned());
        }
    }
    if let Err(problem) = common::github::check_channels(&channels) {
        let mut page = detail_page(&state, &signed, &slug, &id, None).await?;
        page.error = Some(format!("Slack channels: {problem}."));
        page.channels_text = typed;
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    common::github::update_settings(
        &state.services.pool,
        &org.acting(&signed, &meta),
        repo,
        Some(auto_incident),
        Some(&serde_json::json!(channels)),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/orgs/{}/repositories/{repo}?notice=repository_saved",
        urlencode(&org.slug)
    ))
    .into_response())
}
