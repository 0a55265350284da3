//! Integration pages: the list (status badges, filters), the catalogue by category, and the
//! wizard whose form is generated from the type's schemas, with "Test connection" before save.

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use common::{
    domain::{HealthStatus, IntegrationKind, Permission},
    integrations::{self as integ, Acting, IntegrationIn, catalogue},
    repo::integrations,
};
use serde::Deserialize;

use super::{
    home::OrgCtx,
    page::{ConsoleError, Layout, field_errors, ok, render},
    schema_form::{self, Field, Part},
    session::{Console, Posted, urlencode},
};
use crate::{error::ApiError, extract::Client, state::AppState};

/// The catalogue entry of a kind as spelled in a URL or a filter.
pub fn find_type(kind: &str) -> Option<&'static catalogue::IntegrationType> {
    kind.parse::<IntegrationKind>()
        .ok()
        .and_then(catalogue::find)
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub status: HealthStatus,
    pub enabled: bool,
    pub last_error: String,
    pub last_check: String,
    /// A health check (or test) has run since it was saved.
    pub checked: bool,
}

impl Row {
    /// The badge's tone for a status.
    pub fn tone(&self) -> &'static str {
        match self.status {
            _ if !self.enabled => "",
            HealthStatus::Active => "ok",
            HealthStatus::Error | HealthStatus::ReauthRequired => "bad",
            _ => "warn",
        }
    }
}

#[derive(Template)]
#[template(path = "integrations/list.html")]
struct ListPage {
    l: Layout,
    slug: String,
    rows: Vec<Row>,
    kinds: Vec<(&'static str, &'static str)>,
    statuses: Vec<&'static str>,
    status: String,
    kind: String,
    can_manage: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default, rename = "type")]
    kind: String,
    notice: Option<String>,
}

/// `GET /orgs/{slug}/integrations?status=&type=`.
pub async fn list(
    State(state): State<AppState>,
    Console(signed): Console,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let (org, l) = OrgCtx::load(&state, &signed, &slug, "Integrations").await?;
    org.require(Permission::IntegrationsRead)?;
    let status = q.status.parse::<HealthStatus>().ok();
    let kind = q.kind.parse::<IntegrationKind>().ok();
    let filter = integrations::Filter { status, kind };
    let rows = integrations::list(&state.services.pool, org.id, &filter)
        .await?
        .into_iter()
        .map(|i| Row {
            id: i.id.to_string(),
            name: i.name,
            kind: catalogue::find(i.kind)
                .map_or_else(|| i.kind.to_string(), |t| t.title.to_owned()),
            status: i.status,
            enabled: i.enabled,
            last_error: i.last_error.unwrap_or_default(),
            checked: i.last_check_at.is_some(),
            last_check: i
                .last_check_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| "not yet".into()),
        })
        .collect();
    Ok(ok(&ListPage {
        l: l.with_notice(q.notice.as_deref()),
        slug: org.slug.clone(),
        rows,
        kinds: catalogue::all()
            .iter()
            .map(|t| (t.kind.as_str(), t.title))
            .collect(),
        statuses: HealthStatus::ALL.iter().map(|s| s.as_str()).collect(),
        status: status.map(|s| s.to_string()).unwrap_or_default(),
        kind: kind.map(|k| k.to_string()).unwrap_or_default(),
        can_manage: org.role.allows(Permission::IntegrationsManage),
    }))
}

pub struct Category {
    pub name: &'static str,
    pub types: Vec<&'static catalogue::IntegrationType>,
}

#[derive(Template)]
#[template(path = "integrations/catalogue.html")]
struct CataloguePage {
    l: Layout,
    slug: String,
    categories: Vec<Category>,
}

/// `GET /orgs/{slug}/integrations/new`: every type, by category.
pub async fn catalogue_page(
    State(state): State<AppState>,
    Console(signed): Console,
    Path(slug): Path<String>,
) -> Result<Response, ConsoleError> {
    let (org, l) = OrgCtx::load(&state, &signed, &slug, "Add an integration").await?;
    org.require(Permission::IntegrationsManage)?;
    let mut categories: Vec<Category> = Vec::new();
    for t in catalogue::all() {
        match categories.iter_mut().find(|c| c.name == t.category) {
            Some(c) => c.types.push(t),
            None => categories.push(Category {
                name: t.category,
                types: vec![t],
            }),
        }
    }
    Ok(ok(&CataloguePage {
        l,
        slug: org.slug,
        categories,
    }))
}

/// What the last "Test connection" found.
pub struct Outcome {
    pub ok: bool,
    pub message: String,
    pub latency_ms: i32,
}

#[derive(Template)]
#[template(path = "integrations/wizard.html")]
struct WizardPage {
    l: Layout,
    slug: String,
    kind: &'static str,
    title: &'static str,
    description: &'static str,
    connection_test: &'static str,
    name: String,
    name_error: String,
    config: Vec<Field>,
    credentials: Vec<Field>,
    error: Option<String>,
    outcome: Option<Outcome>,
    slack_oauth: bool,
}

fn wizard(
    l: Layout,
    slug: &str,
    t: &'static catalogue::IntegrationType,
    values: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
) -> WizardPage {
    WizardPage {
        l,
        slug: slug.to_owned(),
        kind: t.kind.as_str(),
        title: t.title,
        description: t.description,
        connection_test: t.connection_test,
        name: values
            .get("name")
            .cloned()
            .unwrap_or_else(|| t.title.to_owned()),
        name_error: errors.get("name").cloned().unwrap_or_default(),
        config: schema_form::fields(Part::Config, &t.config_schema, values, errors),
        credentials: schema_form::fields(Part::Credentials, &t.credentials_schema, values, errors),
        error: None,
        outcome: None,
        slack_oauth: t.oauth,
    }
}

/// `GET /orgs/{slug}/integrations/new/{kind}`: the generated form.
pub async fn wizard_page(
    State(state): State<AppState>,
    Console(signed): Console,
    Path((slug, kind)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let (org, l) = OrgCtx::load(&state, &signed, &slug, "Add an integration").await?;
    org.require(Permission::IntegrationsManage)?;
    let t = find_type(&kind).ok_or_else(ConsoleError::not_found)?;
    let l = Layout {
        title: format!("Add {}", t.title),
        ..l
    };
    Ok(ok(&wizard(
        l,
        &org.slug,
        t,
        &BTreeMap::new(),
        &BTreeMap::new(),
    )))
}

/// `POST /orgs/{slug}/integrations/new/{kind}`: `action=test` runs the connection test only;
/// `action=save` runs it too and saves only when it passes.
pub async fn wizard_submit(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path((slug, kind)): Path<(String, String)>,
    Posted { form, .. }: Posted<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let (org, l) = OrgCtx::load(&state, &signed, &slug, "Add an integration").await?;
    org.require(Permission::IntegrationsManage)?;
    let t = find_type(&kind).ok_or_else(ConsoleError::not_found)?;
    let l = Layout {
        title: format!("Add {}", t.title),
        ..l
    };
    let values: BTreeMap<String, String> = form.into_iter().collect();
    let save = values.get("action").is_some_and(|a| a == "save");
    let input = IntegrationIn {
        kind: t.kind.to_string(),
        name: values.get("name").cloned().unwrap_or_default(),
        config: schema_form::object(&t.config_schema, &values),
        credentials: schema_form::object(&t.credentials_schema, &values),
    };
    let tested = integ::test_unsaved(&state.services, org.id, &input)
        .await
        .map_err(ApiError::from);
    let report = match tested {
        Ok(report) => report,
        Err(e) => {
            let errors = field_errors(&e);
            let mut page = wizard(l, &org.slug, t, &values, &errors);
            if errors.is_empty() {
                page.error = Some(e.message);
            } else {
                page.error = Some("Some fields need attention.".into());
            }
            return Ok(render(e.status, &page));
        }
    };
    let outcome = Outcome {
        ok: report.ok,
        message: report
            .error()
            .unwrap_or_else(|| "The connection works.".into()),
        latency_ms: report.latency_ms,
    };
    if save && report.ok {
        let by = Acting {
            meta: &meta,
            org: org.id,
            actor: signed.caller.user_id,
        };
        match integ::create(&state.services, &by, input).await {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/orgs/{}/integrations?notice=integration_saved",
                    urlencode(&org.slug)
                ))
                .into_response());
            }
            Err(e) => {
                let e = ApiError::from(e);
                let mut page = wizard(l, &org.slug, t, &values, &field_errors(&e));
                page.error = Some(e.message);
                return Ok(render(e.status, &page));
            }
        }
    }
    let mut page = wizard(l, &org.slug, t, &values, &BTreeMap::new());
    if save {
        page.error = Some("The connection test failed, so nothing was saved.".into());
    }
    page.outcome = Some(outcome);
    let status = if report.ok || !save {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(status, &page))
}
