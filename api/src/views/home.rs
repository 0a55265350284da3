//! The console's front door (`/`) and an organisation's dashboard (`/orgs/{slug}`), plus creating
//! an organisation for someone who has none.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use common::{
    domain::{HealthStatus, IncidentStatus, OrgId, Permission, Role, Severity},
    identity::{Acting, ClientMeta},
    repo::{incidents, integrations},
};
use serde::Deserialize;

use super::{
    account::PageQuery,
    page::{ConsoleError, Layout, ok, org_by_slug, render},
    session::{MaybeSigned, Posted, Signed, urlencode},
};
use crate::{extract::Client, state::AppState};

/// The organisation a page is about, as the signed-in member sees it.
pub struct OrgCtx {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub role: Role,
}

impl OrgCtx {
    /// The caller's organisation `slug` (404 when they are not a member) and the page layout.
    pub async fn load(
        state: &AppState,
        signed: &Signed,
        slug: &str,
        title: &str,
    ) -> Result<(Self, Layout), ConsoleError> {
        let l = Layout::signed(state, signed, title).await?.in_org(slug);
        let nav = org_by_slug(&l, slug)?;
        let org = state
            .identity
            .my_orgs(signed.caller)
            .await?
            .into_iter()
            .find(|o| o.slug == nav.slug)
            .ok_or_else(ConsoleError::not_found)?;
        let role = org.role;
        Ok((
            Self {
                id: org.org_id,
                slug: org.slug,
                name: org.name,
                role,
            },
            l,
        ))
    }

    /// 403 page unless the member's role allows `p`.
    pub fn require(&self, p: Permission) -> Result<(), ConsoleError> {
        if self.role.allows(p) {
            Ok(())
        } else {
            Err(ConsoleError::forbidden(
                "Your role in this organisation does not allow this.",
            ))
        }
    }

    /// The signed-in member acting on this organisation from `meta` (for the audit log).
    pub fn acting<'a>(&self, signed: &Signed, meta: &'a ClientMeta) -> Acting<'a> {
        Acting {
            meta,
            org: self.id,
            actor: signed.caller.user_id,
        }
    }
}

#[derive(Template)]
#[template(path = "no_org.html")]
struct NoOrgPage {
    l: Layout,
    error: Option<String>,
    /// The person has no organisation yet (else this is "create another").
    first: bool,
}

/// `GET /orgs`: the form that creates another organisation (the switcher links here).
pub async fn new_org_page(
    State(state): State<AppState>,
    super::session::Console(signed): super::session::Console,
) -> Result<Response, ConsoleError> {
    let l = Layout::signed(&state, &signed, "New organisation").await?;
    Ok(ok(&NoOrgPage {
        first: l.orgs.is_empty(),
        l,
        error: None,
    }))
}

/// `/`: the first organisation's dashboard, a form to create one, or the sign-in page.
pub async fn index(State(state): State<AppState>, MaybeSigned(signed): MaybeSigned) -> Response {
    let Some(signed) = signed else {
        return Redirect::to("/login").into_response();
    };
    let l = match Layout::signed(&state, &signed, "Welcome").await {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    match l.orgs.first() {
        Some(org) => Redirect::to(&format!("/orgs/{}", urlencode(&org.slug))).into_response(),
        None => ok(&NoOrgPage {
            l,
            error: None,
            first: true,
        }),
    }
}

#[derive(Deserialize)]
pub struct OrgForm {
    #[serde(default)]
    name: String,
}

pub async fn create_org(
    State(state): State<AppState>,
    Client(meta): Client,
    Posted { form, signed }: Posted<OrgForm>,
) -> Response {
    let Some(signed) = signed else {
        return Redirect::to("/login").into_response();
    };
    let name = form.name.trim();
    let result = if (1..=200).contains(&name.chars().count()) {
        state
            .identity
            .create_org(&meta, signed.caller, name, None)
            .await
            .map_err(ConsoleError::from)
    } else {
        Err(ConsoleError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The name must be 1 to 200 characters.",
        ))
    };
    match result {
        Ok(org) => Redirect::to(&format!("/orgs/{}", urlencode(&org.slug))).into_response(),
        Err(e) => match Layout::signed(&state, &signed, "Welcome").await {
            Ok(l) => render(
                e.status,
                &NoOrgPage {
                    first: l.orgs.is_empty(),
                    l,
                    error: Some(e.message),
                },
            ),
            Err(e) => e.into_response(),
        },
    }
}

pub struct SeverityCount {
    pub severity: &'static str,
    pub count: usize,
}

pub struct IncidentRow {
    pub id: String,
    pub title: String,
    pub repository: String,
    pub branch: String,
    pub severity: String,
    pub status: String,
    pub last_seen: String,
    pub occurrences: i32,
}

impl From<incidents::Incident> for IncidentRow {
    fn from(i: incidents::Incident) -> Self {
        Self {
            id: i.id.to_string(),
            title: i.title,
            // A deployment incident has no repository: its source stands in its place.
            repository: i.repository.unwrap_or_else(|| i.source.to_string()),
            branch: i.branch.unwrap_or_default(),
            severity: i.severity.to_string(),
            status: i.status.to_string(),
            last_seen: i.last_seen_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            occurrences: i.occurrence_count,
        }
    }
}

pub struct UnhealthyRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub status: String,
    pub last_error: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    l: Layout,
    org_name: String,
    slug: String,
    can_install: bool,
    can_slack: bool,
    by_severity: Vec<SeverityCount>,
    open: Vec<IncidentRow>,
    unhealthy: Vec<UnhealthyRow>,
    /// The last 30 days' analytics (`views::trends`).
    charts: Vec<super::charts::Chart>,
}

const SEVERITIES: [Severity; 4] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
];

/// `/orgs/{slug}`: open incidents by severity and integrations that are not healthy.
pub async fn dashboard(
    State(state): State<AppState>,
    super::session::Console(signed): super::session::Console,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, ConsoleError> {
    let (org, l) = OrgCtx::load(&state, &signed, &slug, "Dashboard").await?;
    let l = l.with_notice(q.notice.as_deref());
    let pool = &state.services.pool;
    let mut open = Vec::new();
    for status in [IncidentStatus::Open, IncidentStatus::Acknowledged] {
        let filter = incidents::Filter {
            status: Some(status),
            severity: None,
            source: None,
            repository: None,
            branch: None,
            before: None,
            limit: 200,
        };
        open.extend(incidents::list(pool, org.id, &filter).await?);
    }
    let by_severity = SEVERITIES
        .iter()
        .map(|s| SeverityCount {
            severity: s.as_str(),
            count: open.iter().filter(|i| i.severity == *s).count(),
        })
        .collect();
    let unhealthy = if org.role.allows(Permission::IntegrationsRead) {
        let all = integrations::list(
            pool,
            org.id,
            &integrations::Filter {
                status: None,
                kind: None,
            },
        )
        .await?;
        all.into_iter()
            .filter(|i| i.enabled && i.status != HealthStatus::Active)
            .map(|i| UnhealthyRow {
                id: i.id.to_string(),
                name: i.name,
                kind: i.kind.to_string(),
                status: i.status.to_string(),
                last_error: i.last_error.unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    open.truncate(10);
    let charts = if org.role.allows(Permission::IncidentsRead) {
        super::trends::dashboard_charts(pool, org.id, chrono::Utc::now()).await?
    } else {
        Vec::new()
    };
    Ok(ok(&DashboardPage {
        l,
        can_install: org.role.allows(Permission::GithubManage)
            && state.services.config.github.app_slug.is_some(),
        can_slack: org.role.allows(Permission::IntegrationsManage),
        org_name: org.name,
        slug: org.slug,
        by_severity,
        open: open.into_iter().map(Into::into).collect(),
        unhealthy,
        charts,
    }))
}
