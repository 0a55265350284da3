//! What every console page shares: the layout's data (assets, navigation, CSRF token), rendering
//! a template into a response, and error pages.

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use super::{assets, session::Signed};
use crate::{error::ApiError, state::AppState};

/// An organisation in the switcher.
#[derive(Debug, Clone)]
pub struct NavOrg {
    pub id: common::domain::OrgId,
    pub slug: String,
    pub name: String,
    pub role: String,
}

/// Data the base layout needs.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub css: String,
    pub js: String,
    /// The signed-in person's name; `None` on anonymous pages.
    pub user_name: Option<String>,
    pub orgs: Vec<NavOrg>,
    /// The organisation the page belongs to (its slug), for the switcher.
    pub current_org: Option<String>,
    /// The CSRF token every form on the page carries.
    pub csrf: String,
    /// A fixed message chosen by a `notice` query value (never echoed user input).
    pub notice: Option<&'static str>,
    /// The newest unread notifications, for the header's menu (at most [`MENU`]).
    pub unread: Vec<super::notifications::NoteRow>,
    /// More unread notifications than the menu shows.
    pub unread_more: bool,
}

/// Unread notifications the header's menu shows.
const MENU: usize = 5;

impl Layout {
    /// The layout of an anonymous page whose forms carry `csrf`.
    pub fn anonymous(title: &str, csrf: &str) -> Self {
        Self {
            title: title.to_owned(),
            css: assets::css_path(),
            js: assets::js_path(),
            user_name: None,
            orgs: Vec::new(),
            current_org: None,
            csrf: csrf.to_owned(),
            notice: None,
            unread: Vec::new(),
            unread_more: false,
        }
    }

    /// The layout of a signed-in page: the person's name and organisations for the navigation.
    pub async fn signed(
        state: &AppState,
        signed: &Signed,
        title: &str,
    ) -> Result<Self, ConsoleError> {
        let (user, orgs) = state.identity.me(signed.caller).await?;
        let mut unread = common::repo::notifications::list(
            &state.services.pool,
            signed.caller.user_id,
            &common::repo::notifications::Filter {
                show: common::repo::notifications::Show::Unread,
                before: None,
                limit: MENU as i64 + 1,
            },
        )
        .await?;
        let unread_more = unread.len() > MENU;
        unread.truncate(MENU);
        let mut l = Self {
            user_name: Some(user.full_name),
            orgs: orgs
                .into_iter()
                .map(|o| NavOrg {
                    id: o.org_id,
                    slug: o.slug,
                    name: o.name,
                    role: o.role.to_string(),
                })
                .collect(),
            unread_more,
            ..Self::anonymous(title, &signed.csrf)
        };
        l.unread = unread
            .into_iter()
            .map(|n| super::notifications::NoteRow::new(n, &l.orgs))
            .collect();
        Ok(l)
    }

    pub fn with_notice(mut self, notice: Option<&str>) -> Self {
        self.notice = notice.and_then(notice_text);
        self
    }

    /// The person administers the page's organisation (settings and audit log in the navigation).
    pub fn can_admin(&self) -> bool {
        self.current_org.as_deref().is_some_and(|slug| {
            self.orgs.iter().any(|o| {
                o.slug == slug
                    && common::domain::Role::parse(&o.role)
                        .is_ok_and(|r| r.allows(common::domain::Permission::OrgUpdate))
            })
        })
    }

    pub fn in_org(mut self, slug: &str) -> Self {
        self.current_org = Some(slug.to_owned());
        self
    }
}

/// The fixed texts a redirect may ask a page to show.
fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "signed_out" => "You are signed out.",
        "reset_sent" => {
            "If an account uses that address, a link to reset its password is on its way."
        }
        "password_reset" => "Your password was changed. Sign in with the new one.",
        "email_verified" => "Your email address is confirmed.",
        "profile_saved" => "Your profile was saved.",
        "password_changed" => "Your password was changed; your other sessions were ended.",
        "session_ended" => "The session was ended.",
        "invitation_accepted" => "You joined the organisation.",
        "session_expired" => "Your session has ended. Sign in again.",
        "github_connected" => "Your GitHub account is connected.",
        "github_installed" => "The GitHub App is installed; its repositories are being synced.",
        "github_install_pending" => {
            "The install waits for an owner of the GitHub organisation to approve it."
        }
        "slack_connected" => "Slack is connected. Pick the channel its alerts go to below.",
        "alert_channel_saved" => "The alert channel was saved.",
        "incident_acknowledge" => "The incident is acknowledged.",
        "incident_resolve" => "The incident is resolved.",
        "incident_reopen" => "The incident is open again.",
        "incident_commented" => "Your comment was added.",
        "integration_enabled" => "The integration is enabled; it is checked again now.",
        "integration_disabled" => "The integration is disabled; it is no longer checked.",
        "invitation_sent" => "The invitation is on its way.",
        "invitation_revoked" => "The invitation was revoked.",
        "role_changed" => "The role was changed.",
        "member_removed" => "The member was removed.",
        "integration_saved" => "The integration passed its connection test and was saved.",
        "repository_connecting" => "Connecting: RepoPal is installing its webhook.",
        "repository_disconnecting" => "Disconnected: RepoPal is removing its webhook.",
        "org_saved" => "The organisation's settings were saved.",
        "notifications_read" => "All notifications are marked read.",
        "credentials_replaced" => {
            "The new credentials passed the connection test and replaced the old ones."
        }
        "repository_saved" => "The repository's settings were saved.",
        _ => return None,
    })
}

/// Field → problem, shown beside each input.
pub type FieldErrors = BTreeMap<String, String>;

/// The field errors an API validation error carries (`details.fields`).
pub fn field_errors(e: &ApiError) -> FieldErrors {
    e.details
        .as_ref()
        .and_then(|d| d.get("fields"))
        .and_then(|f| f.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|f| {
                    let field = f.get("field")?.as_str()?.to_owned();
                    let message = f.get("message").and_then(serde_json::Value::as_str);
                    Some((field, message.unwrap_or("is not valid").to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Renders `page` as an HTML response with `status`.
/// A new password typed into a form, checked by the same policy as the JSON routes (422
/// `validation_failed` naming the problem).
pub fn new_password(raw: &secrecy::SecretString) -> Result<common::domain::NewPassword, ApiError> {
    common::domain::NewPassword::parse(raw).map_err(|problem| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            format!("New password {problem}."),
        )
    })
}

pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => ConsoleError::internal(&e).into_response(),
    }
}

/// Renders `page` with 200.
pub fn ok<T: Template>(page: &T) -> Response {
    render(StatusCode::OK, page)
}

/// A console failure, shown as a page (never JSON, never a cause from below).
#[derive(Debug)]
pub struct ConsoleError {
    pub status: StatusCode,
    pub message: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    status: u16,
    message: String,
}

impl ConsoleError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "This page does not exist.")
    }
    /// The typed id in a page's path; one that is not a UUID names no page.
    pub fn page_id<T: From<uuid::Uuid>>(raw: &str) -> Result<T, Self> {
        raw.parse::<uuid::Uuid>()
            .map(T::from)
            .map_err(|_| Self::not_found())
    }
    pub fn forbidden(message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn bad_request(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    /// An unexpected failure: logged once, shown as a generic message.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "console internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side.",
        )
    }
}

impl From<ApiError> for ConsoleError {
    fn from(e: ApiError) -> Self {
        // `ApiError` already logged a 5xx cause and keeps its message opaque.
        Self::new(e.status, e.message)
    }
}

impl From<common::Error> for ConsoleError {
    fn from(e: common::Error) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            l: Layout::anonymous("Error", ""),
            status: self.status.as_u16(),
            message: self.message,
        };
        match page.render() {
            Ok(body) => (self.status, Html(body)).into_response(),
            Err(_) => (
                self.status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<!doctype html><title>Error</title><p>Something went wrong.</p>",
            )
                .into_response(),
        }
    }
}

/// The caller's organisation by slug, with their role; 404 when they are not a member.
pub fn org_by_slug<'a>(l: &'a Layout, slug: &str) -> Result<&'a NavOrg, ConsoleError> {
    l.orgs
        .iter()
        .find(|o| o.slug == slug)
        .ok_or_else(ConsoleError::not_found)
}
