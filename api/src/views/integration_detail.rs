//! One integration's page: health state and last error, a server-rendered SVG chart of recent
//! checks (latency bars coloured by outcome), the check log, enable/disable, and the kind's own
//! part (`integration_extras`: Slack's alert channel, Argo CD's applications).

use askama::Template;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use common::{
    domain::{IntegrationId, Permission},
    integrations::{self as integ, Acting, Toggle, catalogue},
    repo::integrations::{self, Check, HistoryFilter},
};
use serde::Deserialize;

use super::{
    account::PageQuery,
    home::OrgCtx,
    integration_extras::{self, AlertChannel, AppRow},
    page::{ConsoleError, Layout, ok},
    session::{Console, Posted, Signed, urlencode},
};
use crate::{extract::Client, state::AppState};

/// One bar of the chart (coordinates in the SVG's own units).
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    pub ok: bool,
    pub label: String,
}

pub struct LogRow {
    pub at: String,
    pub ok: bool,
    pub latency_ms: i32,
    pub source: String,
    pub error: String,
    pub transition: String,
}

#[derive(Template)]
#[template(path = "integrations/detail.html")]
pub struct DetailPage {
    l: Layout,
    slug: String,
    id: String,
    name: String,
    kind: String,
    status: String,
    enabled: bool,
    last_error: String,
    last_check: String,
    bars: Vec<Bar>,
    max_latency: i32,
    log: Vec<LogRow>,
    can_manage: bool,
    /// Argo CD: the applications its syncs copied.
    apps: Option<Vec<AppRow>>,
    /// Slack: where health alerts are posted.
    pub alert: Option<AlertChannel>,
}

/// The chart's drawing area.
pub const CHART_W: u32 = 600;
pub const CHART_H: u32 = 120;
const BAR_W: u32 = 10;

/// Bars for `checks` (oldest on the left), scaled to the slowest.
fn bars(checks: &[Check]) -> (Vec<Bar>, i32) {
    let max = checks
        .iter()
        .map(|c| c.latency_ms.max(1))
        .max()
        .unwrap_or(1);
    let max_u = u32::try_from(max).unwrap_or(1).max(1);
    let bars = checks
        .iter()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let latency = u32::try_from(c.latency_ms.max(0)).unwrap_or(0);
            let height = ((latency * (CHART_H - 10)) / max_u).max(2);
            Bar {
                x: u32::try_from(i).unwrap_or(0) * (BAR_W + 2),
                y: CHART_H - height,
                height,
                ok: c.ok,
                label: format!(
                    "{} — {} ms, {}",
                    c.checked_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    c.latency_ms,
                    if c.ok { "ok" } else { "failed" }
                ),
            }
        })
        .collect();
    (bars, max)
}

/// `GET /orgs/{slug}/integrations/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Console(signed): Console,
    Path((slug, id)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
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

/// The page of integration `id` of organisation `slug`.
pub async fn detail_page(
    state: &AppState,
    signed: &Signed,
    slug: &str,
    id: &str,
    notice: Option<&str>,
) -> Result<DetailPage, ConsoleError> {
    let (org, l) = OrgCtx::load(state, signed, slug, "Integration").await?;
    org.require(Permission::IntegrationsRead)?;
    let id = ConsoleError::page_id::<IntegrationId>(id)?;
    let pool = &state.services.pool;
    let i = integrations::find(pool, org.id, id)
        .await?
        .ok_or_else(ConsoleError::not_found)?;
    let checks = integrations::history(
        pool,
        org.id,
        id,
        &HistoryFilter {
            transitions: false,
            before: None,
            limit: i64::from(CHART_W / (BAR_W + 2)),
        },
    )
    .await?;
    let (bars, max_latency) = bars(&checks);
    let log = checks
        .iter()
        .take(20)
        .map(|c| LogRow {
            at: c.checked_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            ok: c.ok,
            latency_ms: c.latency_ms,
            source: c.source.to_string(),
            error: c.error.clone().unwrap_or_default(),
            transition: if c.status_before == c.status_after {
                String::new()
            } else {
                format!("{} → {}", c.status_before, c.status_after)
            },
        })
        .collect();
    let can_manage = org.role.allows(Permission::IntegrationsManage);
    let apps = integration_extras::applications(state, org.id, &i).await?;
    let alert = integration_extras::alert_channel(state, org.id, &i, can_manage).await?;
    Ok(DetailPage {
        l: Layout {
            title: i.name.clone(),
            ..l.with_notice(notice)
        },
        slug: org.slug.clone(),
        id: id.to_string(),
        kind: catalogue::find(i.kind).map_or_else(|| i.kind.to_string(), |t| t.title.to_owned()),
        name: i.name,
        status: i.status.to_string(),
        enabled: i.enabled,
        last_error: i.last_error.unwrap_or_default(),
        last_check: i
            .last_check_at
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "not yet".into()),
        bars,
        max_latency,
        log,
        can_manage,
        apps,
        alert,
    })
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /orgs/{slug}/integrations/{id}/{enable|disable}`.
pub async fn toggle(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path((slug, id, action)): Path<(String, String, String)>,
    Posted { .. }: Posted<Empty>,
) -> Result<Response, ConsoleError> {
    let (org, _) = OrgCtx::load(&state, &signed, &slug, "Integration").await?;
    org.require(Permission::IntegrationsManage)?;
    let id = ConsoleError::page_id::<IntegrationId>(&id)?;
    let toggle = match action.as_str() {
        "enable" => Toggle::Enable,
        "disable" => Toggle::Disable,
        _ => return Err(ConsoleError::not_found()),
    };
    let by = Acting {
        meta: &meta,
        org: org.id,
        actor: signed.caller.user_id,
    };
    integ::set_enabled(&state.services.pool, &by, id, toggle).await?;
    Ok(Redirect::to(&format!(
        "/orgs/{}/integrations/{id}?notice=integration_{action}d",
        urlencode(&org.slug)
    ))
    .into_response())
}
