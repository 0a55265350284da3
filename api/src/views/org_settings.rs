//! An organisation's settings page: rename (name and slug) and delete, confirmed by typing the
//! slug; plus the form that creates another organisation (the switcher's "create another").

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use common::domain::Permission;
use serde::Deserialize;

use super::{
    account::PageQuery,
    home::OrgCtx,
    page::{ConsoleError, FieldErrors, Layout, ok, render},
    session::{Console, Posted, Signed, urlencode},
};
use crate::{extract::Client, state::AppState};

#[derive(Template)]
#[template(path = "org_settings.html")]
struct SettingsPage {
    l: Layout,
    slug: String,
    name: String,
    /// The slug field's text (what was typed when it was refused).
    new_slug: String,
    can_delete: bool,
    errors: FieldErrors,
    delete_error: Option<String>,
}

async fn settings_page(
    state: &AppState,
    signed: &Signed,
    slug: &str,
    notice: Option<&str>,
) -> Result<SettingsPage, ConsoleError> {
    let (org, l) = OrgCtx::load(state, signed, slug, "Organisation settings").await?;
    org.require(Permission::OrgUpdate)?;
    Ok(SettingsPage {
        l: l.with_notice(notice),
        new_slug: org.slug.clone(),
        can_delete: org.role.allows(Permission::OrgDelete),
        slug: org.slug,
        name: org.name,
        errors: FieldErrors::new(),
        delete_error: None,
    })
}

/// `GET /orgs/{slug}/settings` (org_admin).
pub async fn show(
    State(state): State<AppState>,
    Console(signed): Console,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, ConsoleError> {
    Ok(ok(&settings_page(
        &state,
        &signed,
        &slug,
        q.notice.as_deref(),
    )
    .await?))
}

#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
}

/// `POST /orgs/{slug}/settings`: the new name and slug, checked as the JSON route checks them; a
/// taken slug is a field error.
pub async fn rename(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path(slug): Path<String>,
    Posted { form, .. }: Posted<RenameForm>,
) -> Result<Response, ConsoleError> {
    let (org, _) = OrgCtx::load(&state, &signed, &slug, "Organisation settings").await?;
    org.require(Permission::OrgUpdate)?;
    let new_slug = form.slug.trim();
    let slug_change = Some(new_slug).filter(|s| *s != org.slug);
    let mut errors: FieldErrors =
        common::identity::org_field_problems(Some(&form.name), slug_change)
            .into_iter()
            .map(|(f, p)| (f.to_owned(), format!("The {f} {p}.")))
            .collect();
    if errors.is_empty() {
        match state
            .identity
            .update_org(&org.acting(&signed, &meta), Some(&form.name), slug_change)
            .await
        {
            Ok(updated) => {
                return Ok(Redirect::to(&format!(
                    "/orgs/{}/settings?notice=org_saved",
                    urlencode(&updated.slug)
                ))
                .into_response());
            }
            Err(common::Error::Conflict { message, .. }) => {
                errors.insert("slug".into(), message);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mut page = settings_page(&state, &signed, &slug, None).await?;
    page.name = form.name;
    page.new_slug = new_slug.to_owned();
    page.errors = errors;
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    /// The organisation's slug, typed to confirm.
    #[serde(default)]
    confirm: String,
}

/// `POST /orgs/{slug}/delete`: deletes the organisation and everything in it once its slug was
/// typed (org_admin).
pub async fn delete(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path(slug): Path<String>,
    Posted { form, .. }: Posted<DeleteForm>,
) -> Result<Response, ConsoleError> {
    let (org, _) = OrgCtx::load(&state, &signed, &slug, "Organisation settings").await?;
    org.require(Permission::OrgDelete)?;
    if form.confirm.trim() != org.slug {
        let mut page = settings_page(&state, &signed, &slug, None).await?;
        page.delete_error = Some(format!(
            "Type {} to confirm; nothing was deleted.",
            org.slug
        ));
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    state
        .identity
        .delete_org(&meta, signed.caller, org.id)
        .await?;
    Ok(Redirect::to("/").into_response())
}

impl SettingsPage {
    fn err(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
}
