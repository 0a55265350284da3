//! The GitHub App's install page as a browser meets it (`GET /apps/{slug}/installations/new`):
//! the person installs at once, and GitHub sends the browser to the App's setup URL with the
//! installation id, `setup_action=install`, the `state` it was given and, as with "request user
//! authorization during installation", a user `code`. What the App's settings hold (its setup
//! URL) and what the person picks (the installation, their code) are set by the test.

use std::collections::HashMap;

use axum::{
    Router,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use super::{FakeGithub, Shared};

/// Where the install page sends the browser.
#[derive(Debug, Clone)]
pub(super) struct InstallRedirect {
    setup_url: String,
    installation: i64,
    code: String,
}

pub(super) fn routes() -> Router<Shared> {
    Router::new().route("/apps/{slug}/installations/new", get(install_page))
}

impl FakeGithub {
    /// The install page sends the browser to `setup_url` for installation `installation`, with
    /// the user code `code` (authorize it with [`FakeGithub::authorize`]).
    pub fn install_redirects_to(&self, setup_url: &str, installation: i64, code: &str) {
        self.lock().install_redirect = Some(InstallRedirect {
            setup_url: setup_url.to_owned(),
            installation,
            code: code.to_owned(),
        });
    }
}

async fn install_page(
    State(s): State<Shared>,
    Path(slug): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let target = s.lock().expect("state").install_redirect.clone();
    let (Some(t), "repopal-test") = (target, slug.as_str()) else {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    let Ok(mut to) = url::Url::parse(&t.setup_url) else {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    to.query_pairs_mut()
        .append_pair("installation_id", &t.installation.to_string())
        .append_pair("setup_action", "install");
    if let Some(state) = q.get("state") {
        to.query_pairs_mut().append_pair("state", state);
    }
    to.query_pairs_mut().append_pair("code", &t.code);
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}
