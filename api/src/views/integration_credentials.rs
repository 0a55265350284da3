//! Replacing an integration's credentials: a form generated from the type's credential schema
//! (secrets never pre-filled); the new credentials are tested first and the old ones kept when
//! the test fails.

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use common::{
    domain::{IntegrationId, Permission},
    integrations::{self as integ, Acting},
    repo::integrations,
};

use super::{
    home::OrgCtx,
    integrations::find_type,
    page::{ConsoleError, Layout, field_errors, ok, render},
    schema_form::{self, Field, Part},
    session::{Console, Posted, Signed, urlencode},
};
use crate::{error::ApiError, extract::Client, state::AppState};

#[derive(Template)]
#[template(path = "integrations/credentials.html")]
struct CredentialsPage {
    l: Layout,
    slug: String,
    id: String,
    name: String,
    kind: String,
    connection_test: &'static str,
    credentials: Vec<Field>,
    error: Option<String>,
}

/// What the form held when it comes back: the values typed and the problems with them.
#[derive(Clone, Copy)]
struct Entered<'a> {
    values: &'a BTreeMap<String, String>,
    errors: &'a BTreeMap<String, String>,
}

/// The page, with the form empty (`None`) or as `entered`.
async fn page(
    state: &AppState,
    signed: &Signed,
    slug: &str,
    id: &str,
    entered: Option<Entered<'_>>,
) -> Result<(CredentialsPage, IntegrationId, common::domain::OrgId), ConsoleError> {
    let nothing = BTreeMap::new();
    let Entered { values, errors } = entered.unwrap_or(Entered {
        values: &nothing,
        errors: &nothing,
    });
    let (org, l) = OrgCtx::load(state, signed, slug, "Replace credentials").await?;
    org.require(Permission::IntegrationsManage)?;
    let id = ConsoleError::page_id::<IntegrationId>(id)?;
    let i = integrations::find(&state.services.pool, org.id, id)
        .await?
        .ok_or_else(ConsoleError::not_found)?;
    let t = find_type(i.kind.as_str()).ok_or_else(ConsoleError::not_found)?;
    Ok((
        CredentialsPage {
            l: Layout {
                title: format!("Replace the credentials of {}", i.name),
                ..l
            },
            slug: org.slug,
            id: id.to_string(),
            name: i.name,
            kind: t.title.to_owned(),
            connection_test: t.connection_test,
            credentials: schema_form::fields(
                Part::Credentials,
                &t.credentials_schema,
                values,
                errors,
            ),
            error: None,
        },
        id,
        org.id,
    ))
}

/// `GET /orgs/{slug}/integrations/{id}/credentials` (org_admin).
pub async fn show(
    State(state): State<AppState>,
    Console(signed): Console,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let (p, _, _) = page(&state, &signed, &slug, &id, None).await?;
    Ok(ok(&p))
}

/// `POST /orgs/{slug}/integrations/{id}/credentials`: test, then replace; on failure the page
/// again with the problem (nothing typed is sent back) and the old credentials kept.
pub async fn replace(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path((slug, id)): Path<(String, String)>,
    Posted { form, .. }: Posted<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let values: BTreeMap<String, String> = form.into_iter().collect();
    let (p, integration, org) = page(&state, &signed, &slug, &id, None).await?;
    let kind = find_type(
        &integrations::find(&state.services.pool, org, integration)
            .await?
            .ok_or_else(ConsoleError::not_found)?
            .kind
            .to_string(),
    )
    .ok_or_else(ConsoleError::not_found)?;
    let credentials = schema_form::object(&kind.credentials_schema, &values);
    let by = Acting {
        meta: &meta,
        org,
        actor: signed.caller.user_id,
    };
    let outcome = integ::replace_credentials(
        &state.services,
        &by,
        integration,
        integ::CredentialsIn {
            credentials,
            config: None,
        },
    )
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!(
            "/orgs/{}/integrations/{integration}?notice=credentials_replaced",
            urlencode(&p.slug)
        ))
        .into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            let errors = field_errors(&e);
            let entered = Entered {
                values: &values,
                errors: &errors,
            };
            let (mut again, _, _) = page(&state, &signed, &slug, &id, Some(entered)).await?;
            again.error = Some(if errors.is_empty() {
                e.message
            } else {
                "Some fields need attention; the old credentials are kept.".into()
            });
            Ok(render(e.status, &again))
        }
    }
}
