//! The repositories list: search, filters and cursor paging, connect/disconnect toggles that follow
//! the hook job until it settles, and batch connect/disconnect of a selection.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use common::{
    domain::{Permission, RepositoryId},
    jobs::HookAction,
    repo::repositories::{Filter, HookState, Repository},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    home::OrgCtx,
    page::{ConsoleError, Layout, ok, render},
    session::{Console, Posted, Signed, urlencode},
};
use crate::{extract::Client, state::AppState};

/// Repositories on one page of the list (and so the most one batch takes).
const PAGE: i64 = 50;

/// The list's view: what a toggle or batch form carries back so the person returns to it.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub search: String,
    /// `monitored`, `unmonitored` or empty (any).
    #[serde(default)]
    pub state: String,
    /// Show repositories GitHub no longer lists.
    #[serde(default)]
    pub removed: String,
    /// The last name of the previous page.
    #[serde(default)]
    pub after: String,
    pub notice: Option<String>,
}

impl ListQuery {
    fn search(&self) -> Option<String> {
        Some(self.search.trim().to_owned()).filter(|s| !s.is_empty() && s.len() <= 200)
    }
    fn monitored(&self) -> Option<bool> {
        match self.state.as_str() {
            "monitored" => Some(true),
            "unmonitored" => Some(false),
            _ => None,
        }
    }
    fn include_removed(&self) -> bool {
        self.removed == "1"
    }
    fn after(&self) -> Option<String> {
        Some(self.after.clone()).filter(|a| !a.is_empty() && a.len() <= 300)
    }

    /// The list's URL with this view's filters (and cursor), then `extra` query pairs.
    fn url(&self, slug: &str, after: Option<&str>, extra: &str) -> String {
        let mut q = Vec::new();
        if let Some(s) = self.search() {
            q.push(format!("search={}", urlencode(&s)));
        }
        if let Some(m) = self.monitored() {
            q.push(format!(
                "state={}",
                if m { "monitored" } else { "unmonitored" }
            ));
        }
        if self.include_removed() {
            q.push("removed=1".to_owned());
        }
        if let Some(a) = after {
            q.push(format!("after={}", urlencode(a)));
        }
        if !extra.is_empty() {
            q.push(extra.to_owned());
        }
        let base = format!("/orgs/{}/repositories", urlencode(slug));
        if q.is_empty() {
            base
        } else {
            format!("{base}?{}", q.join("&"))
        }
    }
}

/// A repository as the list and the detail page show it.
pub struct RepoRow {
    pub id: String,
    pub full_name: String,
    pub visibility: String,
    pub archived: bool,
    pub removed: bool,
    pub monitoring: bool,
    /// `none`, `pending`, `active` or `failed`.
    pub hook: String,
    /// What the toggle says about the hook job.
    pub progress: &'static str,
    pub hook_error: String,
    pub access: &'static str,
}

impl RepoRow {
    pub fn pending(&self) -> bool {
        self.hook == HookState::Pending.as_str()
    }
}

impl From<Repository> for RepoRow {
    fn from(r: Repository) -> Self {
        let access = match common::github::RepoAccess::of(&r) {
            Some(common::github::RepoAccess::Installation(_)) => "GitHub App",
            Some(common::github::RepoAccess::Connection(_)) => "GitHub connection",
            None => "no access",
        };
        let progress = match (r.monitoring_enabled, r.hook_state) {
            (true, HookState::Pending) => "Connecting: installing the webhook…",
            (true, HookState::Active) => "Connected",
            (true, HookState::Failed) => "Connecting failed",
            (true, HookState::None) | (false, _) => "Not connected",
        };
        Self {
            id: r.id.to_string(),
            visibility: r.visibility.unwrap_or_default(),
            archived: r.archived,
            removed: r.removed_at.is_some(),
            monitoring: r.monitoring_enabled,
            hook: r.hook_state.to_string(),
            progress,
            hook_error: r.hook_error.unwrap_or_default(),
            access,
            full_name: r.full_name,
        }
    }
}

#[derive(Template)]
#[template(path = "repositories/list.html")]
struct ListPage {
    l: Layout,
    slug: String,
    rows: Vec<RepoRow>,
    q: ListQuery,
    can_manage: bool,
    /// Some row's hook job has not settled: the list refreshes itself.
    settling: bool,
    next: Option<String>,
    first: Option<String>,
    self_url: String,
    error: Option<String>,
}

async fn list_page(
    state: &AppState,
    signed: &Signed,
    slug: &str,
    q: ListQuery,
) -> Result<ListPage, ConsoleError> {
    let (org, l) = OrgCtx::load(state, signed, slug, "Repositories").await?;
    org.require(Permission::ReposRead)?;
    let filter = Filter {
        search: q.search(),
        monitored: q.monitored(),
        include_removed: q.include_removed(),
        after: q.after(),
        limit: PAGE,
    };
    let page = common::github::page(&state.services.pool, org.id, filter).await?;
    let rows: Vec<RepoRow> = page.items.into_iter().map(Into::into).collect();
    Ok(ListPage {
        l: l.with_notice(q.notice.as_deref()),
        settling: rows.iter().any(RepoRow::pending),
        next: page.next_cursor.map(|c| q.url(&org.slug, Some(&c), "")),
        first: q.after().map(|_| q.url(&org.slug, None, "")),
        self_url: q.url(&org.slug, q.after().as_deref(), ""),
        can_manage: org.role.allows(Permission::ReposManage),
        slug: org.slug,
        rows,
        q,
        error: None,
    })
}

/// `GET /orgs/{slug}/repositories?search=&state=&removed=&after=`.
pub async fn list(
    State(state): State<AppState>,
    Console(signed): Console,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    Ok(ok(&list_page(&state, &signed, &slug, q).await?))
}

fn action_of(raw: &str) -> Result<HookAction, ConsoleError> {
    match raw {
        "connect" => Ok(HookAction::Install),
        "disconnect" => Ok(HookAction::Remove),
        _ => Err(ConsoleError::not_found()),
    }
}

fn notice_of(action: HookAction) -> &'static str {
    if action == HookAction::Install {
        "notice=repository_connecting"
    } else {
        "notice=repository_disconnecting"
    }
}

/// A toggle's form: where to return (`detail` or the list with its view).
#[derive(Deserialize)]
pub struct ToggleForm {
    #[serde(default)]
    back: String,
    #[serde(flatten)]
    q: ListQuery,
}

/// `POST /orgs/{slug}/repositories/{id}/{connect|disconnect}`: the switch and its hook job.
pub async fn toggle(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path((slug, id, action)): Path<(String, String, String)>,
    Posted { form, .. }: Posted<ToggleForm>,
) -> Result<Response, ConsoleError> {
    let action = action_of(&action)?;
    let (org, _) = OrgCtx::load(&state, &signed, &slug, "Repositories").await?;
    org.require(Permission::ReposManage)?;
    let id = ConsoleError::page_id::<RepositoryId>(&id)?;
    common::github::hook_job(
        &state.services.pool,
        &org.acting(&signed, &meta),
        id,
        action,
    )
    .await?;
    let to = if form.back == "detail" {
        format!(
            "/orgs/{}/repositories/{id}?{}",
            urlencode(&org.slug),
            notice_of(action)
        )
    } else {
        form.q
            .url(&org.slug, form.q.after().as_deref(), notice_of(action))
    };
    Ok(Redirect::to(&to).into_response())
}

/// `POST /orgs/{slug}/repositories/batch`: `action` (connect or disconnect) for every checked
/// `id`, all or nothing.
pub async fn batch(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path(slug): Path<String>,
    Posted { form, .. }: Posted<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let (org, _) = OrgCtx::load(&state, &signed, &slug, "Repositories").await?;
    org.require(Permission::ReposManage)?;
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let q = ListQuery {
        search: field("search"),
        state: field("state"),
        removed: field("removed"),
        after: field("after"),
        notice: None,
    };
    let action = action_of(&field("action")).map_err(|_| {
        ConsoleError::bad_request("Choose whether to connect or disconnect the selection.")
    })?;
    let ids = form
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.parse::<Uuid>().map(RepositoryId))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ConsoleError::bad_request("The selection could not be read."))?;
    let outcome = common::github::hook_jobs(
        &state.services.pool,
        &org.acting(&signed, &meta),
        &ids,
        action,
    )
    .await;
    match outcome {
        Ok(_) => Ok(
            Redirect::to(&q.url(&org.slug, q.after().as_deref(), notice_of(action)))
                .into_response(),
        ),
        Err(common::Error::Invalid(_)) => {
            let mut page = list_page(&state, &signed, &slug, q).await?;
            page.error = Some(format!(
                "Select between 1 and {} repositories first.",
                common::github::BATCH_MAX
            ));
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e.into()),
    }
}
