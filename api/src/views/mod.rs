//! The web console at `/`: server-rendered pages (askama templates checked at compile time), one
//! module per page group, calling the same `common` functions as the JSON routes.

mod account;
mod account_links;
mod assets;
mod audit;
pub mod charts;
mod charts_draw;
mod flows;
mod home;
mod incidents;
mod integration_credentials;
mod integration_detail;
mod integration_extras;
mod integrations;
mod members;
mod notifications;
mod org_settings;
mod page;
mod profile;
mod repositories;
mod repository_detail;
mod runs;
mod schema_form;
pub mod session;
pub mod trends;

use axum::{
    Router,
    http::{HeaderValue, header},
    routing::{get, post},
};
use tower_http::set_header::SetResponseHeaderLayer;

use account_links::{ResetPage, VerifyPage, token_page};

use crate::state::AppState;

pub use flows::land_on_console;

/// The console's Content-Security-Policy: only this origin's own script and stylesheet, no inline
/// script or style, forms post only here, never framed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every console route, with the console's CSP and referrer policy (`same-origin`, so a form's
/// `Origin` header names this site rather than `null`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::index))
        .route("/assets/{name}", get(assets::serve))
        .route("/login", get(account::login_page).post(account::login))
        .route("/signup", get(account::signup_page).post(account::signup))
        .route("/login/github", get(flows::github_login))
        .route("/logout", post(account::logout))
        .route(
            "/forgot-password",
            get(account_links::forgot_page).post(account_links::forgot),
        )
        .route(
            "/reset-password",
            get(token_page::<ResetPage>).post(account_links::reset),
        )
        .route(
            "/verify-email",
            get(token_page::<VerifyPage>).post(account_links::verify),
        )
        .route(
            "/accept-invitation",
            get(account_links::invitation_page).post(account_links::accept_invitation),
        )
        .route("/profile", get(profile::show))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read-all", post(notifications::read_all))
        .route("/notifications/{id}/read", post(notifications::open))
        .route("/profile/name", post(profile::save_name))
        .route("/profile/password", post(profile::change_password))
        .route("/profile/sessions/{id}/end", post(profile::end_session))
        .route("/profile/github/connect", get(flows::github_connect))
        .route("/orgs", get(home::new_org_page).post(home::create_org))
        .route(
            "/orgs/{slug}/settings",
            get(org_settings::show).post(org_settings::rename),
        )
        .route("/orgs/{slug}/delete", post(org_settings::delete))
        .route("/orgs/{slug}/audit", get(audit::show))
        .route("/orgs/{slug}/github/install", get(flows::github_install))
        .route("/orgs/{slug}/members", get(members::show))
        .route("/orgs/{slug}/members/invite", post(members::invite))
        .route(
            "/orgs/{slug}/members/{user}/{action}",
            post(members::change),
        )
        .route(
            "/orgs/{slug}/invitations/{id}/revoke",
            post(members::revoke_invitation),
        )
        .route("/orgs/{slug}/repositories", get(repositories::list))
        .route("/orgs/{slug}/repositories/batch", post(repositories::batch))
        .route(
            "/orgs/{slug}/repositories/{id}",
            get(repository_detail::show),
        )
        .route(
            "/orgs/{slug}/repositories/{id}/settings",
            post(repository_detail::save_settings),
        )
        .route(
            "/orgs/{slug}/repositories/{id}/{action}",
            post(repositories::toggle),
        )
        .route("/orgs/{slug}/runs", get(runs::list))
        .route("/orgs/{slug}/incidents", get(incidents::board))
        .route("/orgs/{slug}/incidents/{id}", get(incidents::detail))
        .route("/orgs/{slug}/incidents/{id}/{action}", post(incidents::act))
        .route("/orgs/{slug}/integrations", get(integrations::list))
        .route(
            "/orgs/{slug}/integrations/new",
            get(integrations::catalogue_page),
        )
        .route(
            "/orgs/{slug}/integrations/{id}",
            get(integration_detail::show),
        )
        .route(
            "/orgs/{slug}/integrations/{id}/credentials",
            get(integration_credentials::show).post(integration_credentials::replace),
        )
        .route(
            "/orgs/{slug}/integrations/{id}/alert-channel",
            post(integration_extras::save_alert_channel),
        )
        .route(
            "/orgs/{slug}/integrations/{id}/{action}",
            post(integration_detail::toggle),
        )
        .route(
            "/orgs/{slug}/integrations/new/{kind}",
            get(integrations::wizard_page).post(integrations::wizard_submit),
        )
        .route("/orgs/{slug}/slack/connect", get(flows::slack_connect))
        .route(
            "/orgs/{slug}/repositories/{id}/trends",
            get(trends::repository_trends),
        )
        .route("/orgs/{slug}", get(home::dashboard))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}
