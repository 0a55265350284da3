//! The installation-ownership side of the fake GitHub: `GET /app/installations/{id}` (App JWT)
//! and `GET /user/memberships/orgs/{org}` (user token), in GitHub's published shapes, so the setup
//! callback can be tested against read-only members and other users' installations.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use super::{Shared, TEST_APP_ID, app_jwt_refusal, lookup_account};

/// Whose account an installation is on.
#[derive(Debug, Clone)]
pub(super) struct InstallationAccount {
    pub login: String,
    pub id: i64,
    /// `Organization` or `User`.
    pub kind: &'static str,
}

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/app/installations/{id}", get(installation))
        .route("/user/memberships/orgs/{org}", get(membership))
}

fn not_found(doc: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": "Not Found", "documentation_url": doc, "status": "404"})),
    )
        .into_response()
}

/// `GET /app/installations/{id}`: needs the App JWT; 404 for an installation the App does not have.
async fn installation(
    State(s): State<Shared>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    s.lock()
        .expect("state")
        .calls
        .push(format!("GET /app/installations/{id}"));
    if let Some(refusal) = app_jwt_refusal(&headers) {
        return refusal;
    }
    let Some(account) = s
        .lock()
        .expect("state")
        .installation_accounts
        .get(&id)
        .cloned()
    else {
        return not_found(
            "https://docs.github.com/rest/apps/apps#get-an-installation-for-the-authenticated-app",
        );
    };
    let mut body: Value =
        serde_json::from_str(include_str!("../../fixtures/github/installation.json"))
            .expect("fixture");
    body["id"] = json!(id);
    body["app_id"] = json!(TEST_APP_ID);
    body["app_slug"] = json!("repopal-test");
    body["target_id"] = json!(account.id);
    body["target_type"] = json!(account.kind);
    body["access_tokens_url"] = json!(format!(
        "https://api.github.com/app/installations/{id}/access_tokens"
    ));
    let acc = &mut body["account"];
    acc["login"] = json!(account.login);
    acc["id"] = json!(account.id);
    acc["type"] = json!(account.kind);
    acc["url"] = json!(format!("https://api.github.com/users/{}", account.login));
    acc["html_url"] = json!(format!("https://github.com/{}", account.login));
    Json(body).into_response()
}

/// `GET /user/memberships/orgs/{org}`: the token's user's membership; 404 for non-members.
async fn membership(
    State(s): State<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    s.lock()
        .expect("state")
        .calls
        .push(format!("GET /user/memberships/orgs/{org}"));
    let account = match lookup_account(&s, &headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let found = s
        .lock()
        .expect("state")
        .org_memberships
        .get(&(org.to_ascii_lowercase(), account.id))
        .cloned();
    let Some((role, state)) = found else {
        return not_found(
            "https://docs.github.com/rest/orgs/members#get-an-organization-membership-for-the-authenticated-user",
        );
    };
    let mut body: Value =
        serde_json::from_str(include_str!("../../fixtures/github/org-membership.json"))
            .expect("fixture");
    body["role"] = json!(role);
    body["state"] = json!(state);
    body["url"] = json!(format!(
        "https://api.github.com/orgs/{org}/memberships/{}",
        account.login
    ));
    body["organization_url"] = json!(format!("https://api.github.com/orgs/{org}"));
    body["organization"]["login"] = json!(org);
    body["user"]["login"] = json!(account.login);
    body["user"]["id"] = json!(account.id);
    Json(body).into_response()
}
