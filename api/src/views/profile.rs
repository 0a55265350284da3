//! The profile page: name, password, GitHub connections and sessions (with revoke).

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use common::domain::SessionId;
use secrecy::SecretString;
use serde::Deserialize;

use super::{
    account::PageQuery,
    page::{ConsoleError, Layout, new_password, render},
    session::{Console, Posted, Signed},
};
use crate::{error::ApiError, extract::Client, routes::auth::full_name, state::AppState};

pub struct SessionRow {
    pub id: String,
    pub device: String,
    pub ip: String,
    pub last_used: String,
    pub current: bool,
}

pub struct ConnectionRow {
    pub login: String,
    pub purpose: String,
    pub status: String,
    pub scopes: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    l: Layout,
    full_name: String,
    email: String,
    email_verified: bool,
    sessions: Vec<SessionRow>,
    connections: Vec<ConnectionRow>,
    github_oauth: bool,
    name_error: Option<String>,
    password_error: Option<String>,
}

async fn page(
    state: &AppState,
    signed: &Signed,
    notice: Option<&str>,
) -> Result<ProfilePage, ConsoleError> {
    let l = Layout::signed(state, signed, "Profile")
        .await?
        .with_notice(notice);
    let (user, _) = state.identity.me(signed.caller).await?;
    let sessions = state
        .identity
        .list_sessions(signed.caller)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            current: s.id == signed.caller.session_id,
            id: s.id.to_string(),
            device: s.user_agent.unwrap_or_else(|| "Unknown device".into()),
            ip: s.ip.unwrap_or_default(),
            last_used: s.last_used_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .collect();
    let connections = state
        .identity
        .connections(signed.caller)
        .await?
        .into_iter()
        .map(|c| ConnectionRow {
            login: c.login,
            purpose: c.purpose.to_string(),
            status: c.status.to_string(),
            scopes: c.scopes.join(", "),
        })
        .collect();
    Ok(ProfilePage {
        l,
        full_name: user.full_name,
        email: user.email,
        email_verified: user.email_verified_at.is_some(),
        sessions,
        connections,
        github_oauth: state.services.config.github.oauth_client_id.is_some(),
        name_error: None,
        password_error: None,
    })
}

pub async fn show(
    State(state): State<AppState>,
    Console(signed): Console,
    Query(q): Query<PageQuery>,
) -> Response {
    match page(&state, &signed, q.notice.as_deref()).await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => e.into_response(),
    }
}

/// The profile page again after a failed form, `e`'s message at the field `at` picks, answered
/// with `e`'s status.
async fn failed(
    state: &AppState,
    signed: &Signed,
    e: ApiError,
    at: fn(&mut ProfilePage) -> &mut Option<String>,
) -> Response {
    match page(state, signed, None).await {
        Ok(mut p) => {
            *at(&mut p) = Some(e.message);
            render(e.status, &p)
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    full_name: String,
}

pub async fn save_name(
    State(state): State<AppState>,
    Console(signed): Console,
    Posted { form, .. }: Posted<NameForm>,
) -> Response {
    let result = match full_name(&form.full_name) {
        Ok(name) => state
            .identity
            .update_profile(signed.caller, &name)
            .await
            .map(|_| ())
            .map_err(ApiError::from),
        Err(problem) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            format!("Name {problem}."),
        )),
    };
    match result {
        Ok(()) => Redirect::to("/profile?notice=profile_saved").into_response(),
        Err(e) => failed(&state, &signed, e, |p| &mut p.name_error).await,
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: Option<SecretString>,
    new_password: Option<SecretString>,
}

pub async fn change_password(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Posted { form, .. }: Posted<PasswordForm>,
) -> Response {
    let empty = || SecretString::from("");
    let current = form.current_password.unwrap_or_else(empty);
    let new = form.new_password.unwrap_or_else(empty);
    let result = match new_password(&new) {
        Ok(new) => state
            .identity
            .change_password(&meta, signed.caller, &current, &new)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Redirect::to("/profile?notice=password_changed").into_response(),
        Err(e) => failed(&state, &signed, e, |p| &mut p.password_error).await,
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn end_session(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path(id): Path<String>,
    Posted { .. }: Posted<Empty>,
) -> Response {
    let Ok(id) = id.parse().map(SessionId) else {
        return ConsoleError::not_found().into_response();
    };
    match state.identity.end_session(&meta, signed.caller, id).await {
        Ok(()) if id == signed.caller.session_id => {
            Redirect::to("/login?notice=signed_out").into_response()
        }
        Ok(()) => Redirect::to("/profile?notice=session_ended").into_response(),
        Err(e) => ConsoleError::from(e).into_response(),
    }
}
