//! Browser flows started from the console (Sign in with GitHub, Connect GitHub, the GitHub App
//! install, Add to Slack): the console starts them, and a marker cookie makes their callbacks land
//! on a console page that says what happened instead of the JSON the API answers.

use axum::{
    extract::{Path, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use common::domain::Permission;
use serde_json::Value;

use super::{
    home::OrgCtx,
    page::ConsoleError,
    session::{
        Console, SESSION_COOKIE, cookie_name, read_cookie, session_value, set_cookie, urlencode,
    },
};
use crate::{error::ApiError, flow_cookie::FlowCookie, routes, state::AppState};

/// Set when the console starts a flow; its value names the flow.
pub const MARKER: &str = "repopal_console_flow";

/// The flows, by the callback path the provider sends the browser back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    GithubLogin,
    GithubConnect,
    GithubInstall,
    SlackConnect,
}

impl Flow {
    fn name(self) -> &'static str {
        match self {
            Self::GithubLogin => "github_login",
            Self::GithubConnect => "github_connect",
            Self::GithubInstall => "github_install",
            Self::SlackConnect => "slack_connect",
        }
    }

    fn callback(self) -> &'static str {
        match self {
            Self::GithubLogin => "/api/v1/auth/oauth/github/callback",
            Self::GithubConnect => "/api/v1/oauth/github/callback",
            Self::GithubInstall => "/api/v1/github/setup",
            Self::SlackConnect => "/api/v1/slack/callback",
        }
    }

    fn by_callback(path: &str) -> Option<Self> {
        [
            Self::GithubLogin,
            Self::GithubConnect,
            Self::GithubInstall,
            Self::SlackConnect,
        ]
        .into_iter()
        .find(|f| f.callback() == path)
    }
}

/// Where a flow sends the browser, the nonce its cookie binds the flow to, and for how long
/// (seconds).
#[derive(Clone, Copy)]
struct ProviderRedirect<'a> {
    url: &'a str,
    browser_nonce: &'a str,
    ttl: u32,
}

/// A redirect to the provider with the API's flow cookie and the console's marker (the flow's
/// name, or `name:slug` for a flow that lands on a page of organisation `slug`).
fn start(
    state: &AppState,
    flow: Flow,
    org: Option<&str>,
    cookie: &FlowCookie,
    to: &ProviderRedirect<'_>,
) -> Response {
    let ProviderRedirect {
        url,
        browser_nonce: nonce,
        ttl,
    } = *to;
    let public_url = &state.services.config.public_url;
    let marker = match org {
        Some(slug) => format!("{}:{slug}", flow.name()),
        None => flow.name().to_owned(),
    };
    let mut response = Redirect::to(url).into_response();
    let headers = response.headers_mut();
    for value in [
        cookie.set_for(public_url, nonce, ttl),
        set_cookie(public_url, MARKER, &marker, i64::from(ttl)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    response
}

/// `GET /login/github`: Sign in with GitHub.
pub async fn github_login(State(state): State<AppState>) -> Result<Response, ConsoleError> {
    let begin = state.identity.github_authorize().await?;
    Ok(start(
        &state,
        Flow::GithubLogin,
        None,
        &routes::github_login::COOKIE,
        &ProviderRedirect {
            url: &begin.url,
            browser_nonce: &begin.browser_nonce,
            ttl: 600,
        },
    ))
}

/// `GET /profile/github/connect`: Connect GitHub for repository access.
pub async fn github_connect(
    State(state): State<AppState>,
    Console(signed): Console,
) -> Result<Response, ConsoleError> {
    let begin = state.identity.connect_authorize(signed.caller).await?;
    Ok(start(
        &state,
        Flow::GithubConnect,
        None,
        &routes::oauth_connections::COOKIE,
        &ProviderRedirect {
            url: &begin.url,
            browser_nonce: &begin.browser_nonce,
            ttl: 600,
        },
    ))
}

/// `GET /orgs/{slug}/github/install`: the GitHub App's install page for this organisation.
pub async fn github_install(
    State(state): State<AppState>,
    Console(signed): Console,
    Path(slug): Path<String>,
) -> Result<Response, ConsoleError> {
    let (org, _) = OrgCtx::load(&state, &signed, &slug, "Install").await?;
    org.require(Permission::GithubManage)?;
    let link = common::github::install_url(
        &state.services.config.github,
        &state.state_keys.github_install,
        org.id,
        signed.caller.user_id,
    )
    .map_err(ApiError::from)?;
    Ok(start(
        &state,
        Flow::GithubInstall,
        None,
        &routes::github_app::COOKIE,
        &ProviderRedirect {
            url: &link.url,
            browser_nonce: &link.browser_nonce,
            ttl: common::github::INSTALL_STATE_TTL_SECS,
        },
    ))
}

/// `GET /orgs/{slug}/slack/connect`: Add to Slack for this organisation.
pub async fn slack_connect(
    State(state): State<AppState>,
    Console(signed): Console,
    Path(slug): Path<String>,
) -> Result<Response, ConsoleError> {
    let (org, _) = OrgCtx::load(&state, &signed, &slug, "Slack").await?;
    org.require(Permission::IntegrationsManage)?;
    let begin = routes::slack_connect::connect(&state)
        .authorize_url(org.id, signed.caller.user_id)
        .map_err(ApiError::from)?;
    Ok(start(
        &state,
        Flow::SlackConnect,
        Some(&org.slug),
        &routes::slack_connect::COOKIE,
        &ProviderRedirect {
            url: &begin.url,
            browser_nonce: &begin.browser_nonce,
            ttl: 600,
        },
    ))
}

/// Middleware on every request: a flow callback that carries the console's marker becomes a
/// console page (a redirect to the page the flow was for, or an error page).
pub async fn land_on_console(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(flow) = Flow::by_callback(req.uri().path()) else {
        return next.run(req).await;
    };
    let public_url = state.services.config.public_url.clone();
    let marker = read_cookie(req.headers(), &cookie_name(&public_url, MARKER));
    // The organisation the flow was started for, when its marker names one.
    let org_hint = match marker.as_deref() {
        Some(v) if v == flow.name() => None,
        Some(v) => match v
            .strip_prefix(flow.name())
            .and_then(|r| r.strip_prefix(':'))
        {
            Some(slug) => Some(slug.to_owned()),
            None => return next.run(req).await,
        },
        None => return next.run(req).await,
    };
    let response = next.run(req).await;
    let status = response.status();
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, 1024 * 1024)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .unwrap_or(Value::Null);
    let mut landed = if status.is_success() {
        match landing(&state, flow, org_hint.as_deref(), status, &body["data"]).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        }
    } else {
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or("The flow could not be completed.")
            .to_owned();
        ConsoleError::new(status, message).into_response()
    };
    // Keep the API's cookie changes (the flow cookie cleared), and clear the marker.
    for value in parts.headers.get_all(header::SET_COOKIE) {
        landed
            .headers_mut()
            .append(header::SET_COOKIE, value.clone());
    }
    if let Ok(v) = HeaderValue::from_str(&set_cookie(&public_url, MARKER, "", 0)) {
        landed.headers_mut().append(header::SET_COOKIE, v);
    }
    landed
}

/// Where a completed flow sends the browser.
async fn landing(
    state: &AppState,
    flow: Flow,
    org_hint: Option<&str>,
    status: StatusCode,
    data: &Value,
) -> Result<Response, ConsoleError> {
    match flow {
        Flow::GithubLogin => {
            let token = data["tokens"]["access_token"].as_str().unwrap_or_default();
            let caller = state
                .identity
                .authenticate(token)
                .await?
                .ok_or_else(|| ConsoleError::internal(&"GitHub sign-in gave no session"))?;
            let public_url = &state.services.config.public_url;
            let max_age =
                i64::try_from(state.api.auth.refresh_token_ttl.as_secs()).unwrap_or(i64::MAX);
            let cookie = set_cookie(
                public_url,
                SESSION_COOKIE,
                &session_value(&state.state_keys, caller.session_id),
                max_age,
            );
            let mut r = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Flow::GithubConnect => Ok(Redirect::to("/profile?notice=github_connected").into_response()),
        // Slack: on the new integration's page, where its alert channel is picked.
        Flow::SlackConnect if org_hint.is_some() && data["id"].is_string() => {
            let (slug, id) = (
                org_hint.unwrap_or_default(),
                data["id"].as_str().unwrap_or_default(),
            );
            Ok(Redirect::to(&format!(
                "/orgs/{}/integrations/{}?notice=slack_connected#alert-channel",
                urlencode(slug),
                urlencode(id)
            ))
            .into_response())
        }
        Flow::GithubInstall | Flow::SlackConnect => {
            let notice = match (flow, status) {
                (Flow::GithubInstall, StatusCode::ACCEPTED) => "github_install_pending",
                (Flow::GithubInstall, _) => "github_installed",
                _ => "slack_connected",
            };
            let org = data["org_id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .map(common::domain::OrgId);
            let target = match org {
                Some(id) => {
                    let org = state.identity.org(id).await?;
                    format!("/orgs/{}?notice={notice}", urlencode(&org.slug))
                }
                None => format!("/?notice={notice}"),
            };
            Ok(Redirect::to(&target).into_response())
        }
    }
}
