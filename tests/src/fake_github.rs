//! A fake GitHub served over real HTTP on a local port: the OAuth token endpoint (documented
//! request and error shapes) and `GET /user`, `GET /user/emails` answering with the published
//! example shapes (`tests/fixtures/github/`). Tests script its answers and read the calls it got.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

use crate::fake_faults::{self, Fault, Faults, Flavor};

/// The GitHub account a code logs in as.
#[derive(Debug, Clone)]
pub struct FakeAccount {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
}

/// A scripted failure for the next request to the repositories listing.
#[derive(Debug, Clone, Copy)]
pub enum Failure {
    /// 429 with `Retry-After: secs`.
    RateLimited(u64),
    /// 500.
    ServerError,
}

/// A repository hook created on the fake.
#[derive(Debug, Clone)]
pub struct FakeHook {
    pub id: i64,
    pub repo: String,
    pub url: String,
    pub secret: String,
    pub events: Vec<String>,
}

#[derive(Default)]
pub(crate) struct Inner {
    hooks: Vec<FakeHook>,
    next_hook_id: i64,
    /// Installation tokens minted (token → installation id).
    installation_tokens: HashMap<String, i64>,
    /// Repositories every installation can see: (id, full name).
    repos: Vec<(i64, String)>,
    failures: std::collections::VecDeque<Failure>,
    /// When set, the next use of each fresh installation token answers 401 once (propagation delay).
    reject_fresh_tokens: bool,
    rejected_once: std::collections::HashSet<String>,
    /// code → account
    codes: HashMap<String, FakeAccount>,
    /// Codes whose tokens expire (GitHub App user tokens): they come with a refresh token.
    expiring_codes: std::collections::HashSet<String>,
    /// Unused refresh tokens (single use).
    refresh_tokens: HashMap<String, FakeAccount>,
    /// Delay for each refresh, to widen race windows.
    refresh_delay_ms: u64,
    /// Installations each GitHub account (by id) can access.
    user_installations: HashMap<i64, Vec<i64>>,
    /// The account each installation is on (`GET /app/installations/{id}`).
    installation_accounts: HashMap<i64, installations::InstallationAccount>,
    /// (organisation login, lowercased; account id) → (role, state) of the membership.
    org_memberships: HashMap<(String, i64), (String, String)>,
    /// access token → account
    tokens: HashMap<String, FakeAccount>,
    /// When set, the token endpoint answers 500.
    token_endpoint_down: bool,
    calls: Vec<String>,
    /// Actions: the jobs list of each run, and each job's log text.
    run_jobs: HashMap<i64, Value>,
    job_logs: HashMap<i64, String>,
    /// Faults for `GET /user`, `GET /installation/repositories` and hook pings.
    faults: Faults,
    /// The App's webhook, its delivery attempts and the redeliveries asked for.
    app_hook: Option<deliveries::AppHook>,
    app_deliveries: Vec<deliveries::Delivery>,
    next_delivery_id: i64,
    redelivery_requests: Vec<i64>,
    /// The fake's own URL (for `Link` headers).
    base_url: String,
    /// Workflow runs' attempts and status (a run not listed is attempt 1, completed).
    runs: HashMap<i64, actions::RunState>,
    /// While set, re-runs (hook creations) happen but their answers wait for `release`.
    hold_reruns: bool,
    held_reruns: usize,
    hold_hooks: bool,
    held_hooks: usize,
    release: Arc<tokio::sync::Notify>,
    /// Scopes granted with each code (comma-separated, as GitHub's `scope` field), and each
    /// user token's scopes.
    code_scopes: HashMap<String, String>,
    token_scopes: HashMap<String, String>,
    /// (call, token) of every repository call, to tell which credential RepoPal used.
    token_uses: Vec<(String, String)>,
    /// Client ids that exchanged codes (the OAuth App's or the GitHub App's).
    code_clients: Vec<String>,
    /// Deliveries the fake sent to hooks: (hook id, event, HTTP status RepoPal answered, 0 when
    /// undeliverable).
    deliveries: Vec<(i64, String, u16)>,
    /// Repository contents, commits and rate limits of the contents routes.
    contents: contents::Contents,
    /// Where the App's install page sends the browser (`install_page`).
    install_redirect: Option<install_page::InstallRedirect>,
}

#[derive(Clone)]
pub struct FakeGithub {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeGithub {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/login/oauth/access_token", post(token))
            .route("/user", get(user))
            .route("/user/emails", get(emails))
            .route(
                "/app/installations/{id}/access_tokens",
                post(mint_installation_token),
            )
            .route("/installation/repositories", get(installation_repositories))
            .route("/user/repos", get(user_repos))
            .route("/user/installations", get(user_installations))
            .route(
                "/applications/{client_id}/token",
                axum::routing::delete(revoke_token),
            )
            .route(
                "/repos/{owner}/{repo}/hooks",
                get(list_hooks).post(create_hook),
            )
            .route(
                "/repos/{owner}/{repo}/hooks/{id}",
                axum::routing::delete(delete_hook),
            )
            .route("/repos/{owner}/{repo}/hooks/{id}/pings", post(ping_hook))
            .merge(actions::routes())
            .merge(installations::routes())
            .merge(install_page::routes())
            .merge(deliveries::routes())
            .merge(contents::routes())
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake github");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        inner.lock().expect("state").base_url = format!("http://{addr}");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}"),
            inner,
        }
    }

    /// Makes `code` a valid authorization code for `account`.
    pub fn authorize(&self, code: &str, account: FakeAccount) {
        self.lock().codes.insert(code.to_owned(), account);
    }

    /// Like `authorize`, but the tokens expire and come with a (single-use) refresh token.
    pub fn authorize_expiring(&self, code: &str, account: FakeAccount) {
        let mut inner = self.lock();
        inner.codes.insert(code.to_owned(), account);
        inner.expiring_codes.insert(code.to_owned());
    }

    /// Like `authorize`, with the scopes GitHub grants (e.g. `repo,admin:repo_hook,read:user`).
    pub fn authorize_with_scopes(&self, code: &str, account: FakeAccount, scopes: &str) {
        let mut inner = self.lock();
        inner.codes.insert(code.to_owned(), account);
        inner.code_scopes.insert(code.to_owned(), scopes.to_owned());
    }

    /// Tokens used for `call` (e.g. `POST /repos/acme/repo-00001/hooks`), in order.
    pub fn tokens_used(&self, call: &str) -> Vec<String> {
        self.lock()
            .token_uses
            .iter()
            .filter(|(c, _)| c == call)
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// Client ids that exchanged authorization codes, in order.
    pub fn code_clients(&self) -> Vec<String> {
        self.lock().code_clients.clone()
    }

    /// Deliveries sent to hooks: (hook id, event, status RepoPal answered; 0 = undeliverable).
    pub fn deliveries(&self) -> Vec<(i64, String, u16)> {
        self.lock().deliveries.clone()
    }

    /// Lets the GitHub account `account_id` access installation `installation_id`.
    pub fn grant_installation(&self, account_id: i64, installation_id: i64) {
        self.lock()
            .user_installations
            .entry(account_id)
            .or_default()
            .push(installation_id);
    }

    /// Installation `installation_id` is on the organisation `org_login` (account id `org_id`).
    pub fn install_on_org(&self, installation_id: i64, org_login: &str, org_id: i64) {
        self.lock().installation_accounts.insert(
            installation_id,
            installations::InstallationAccount {
                login: org_login.to_owned(),
                id: org_id,
                kind: "Organization",
            },
        );
    }

    /// Installation `installation_id` is on `account`'s own user account.
    pub fn install_on_user(&self, installation_id: i64, account: &FakeAccount) {
        self.lock().installation_accounts.insert(
            installation_id,
            installations::InstallationAccount {
                login: account.login.clone(),
                id: account.id,
                kind: "User",
            },
        );
    }

    /// `account_id` belongs to organisation `org_login` with `role` (`admin`, `member`) in
    /// `state` (`active`, `pending`).
    pub fn set_org_membership(&self, org_login: &str, account_id: i64, role: &str, state: &str) {
        self.lock().org_memberships.insert(
            (org_login.to_ascii_lowercase(), account_id),
            (role.to_owned(), state.to_owned()),
        );
    }

    /// The usual setup: installation `installation_id` is on the organisation `acme`, which
    /// `account` administers (active) and can therefore access.
    pub fn admin_installation(&self, account: &FakeAccount, installation_id: i64) {
        self.install_on_org(installation_id, ACME_LOGIN, ACME_ID);
        self.set_org_membership(ACME_LOGIN, account.id, "admin", "active");
        self.grant_installation(account.id, installation_id);
    }

    pub fn set_refresh_delay_ms(&self, ms: u64) {
        self.lock().refresh_delay_ms = ms;
    }

    pub fn set_token_endpoint_down(&self, down: bool) {
        self.lock().token_endpoint_down = down;
    }

    /// Every installation sees `n` repositories named `acme/repo-00001` …
    pub fn set_repositories(&self, n: usize) {
        self.lock().repos = (1..=n)
            .map(|i| (1_000_000 + i as i64, format!("acme/repo-{i:05}")))
            .collect();
    }

    pub fn hooks(&self) -> Vec<FakeHook> {
        self.lock().hooks.clone()
    }

    /// Deletes a hook behind RepoPal's back (as a repository admin might).
    pub fn drop_hook(&self, id: i64) {
        self.lock().hooks.retain(|h| h.id != id);
    }

    pub fn fail_next(&self, failures: &[Failure]) {
        self.lock().failures.extend(failures.iter().copied());
    }

    /// Queues one-shot faults for the next calls to `GET /user`, `GET /installation/repositories`
    /// and `POST /repos/{owner}/{repo}/hooks/{id}/pings` (before any `fail_next` failure).
    pub fn fault_next(&self, faults: &[Fault]) {
        self.lock().faults.push(faults);
    }

    /// Sets (or with `None` clears) a fault for every call to those routes once the queued ones
    /// are used up.
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.lock().faults.set_persistent(fault);
    }

    /// Makes `token` (e.g. a personal access token) valid for `account` on the user endpoints.
    pub fn add_token(&self, token: &str, account: FakeAccount) {
        self.lock().tokens.insert(token.to_owned(), account);
    }

    /// Makes `token` invalid (401 "Bad credentials") wherever it was accepted.
    pub fn revoke_token_value(&self, token: &str) {
        let mut inner = self.lock();
        inner.tokens.remove(token);
        inner.installation_tokens.remove(token);
    }

    /// Every installation token minted so far stops working (401 "Bad credentials"); new ones
    /// can be minted as usual.
    pub fn revoke_installation_tokens(&self) {
        self.lock().installation_tokens.clear();
    }

    pub fn reject_fresh_tokens_once(&self) {
        self.lock().reject_fresh_tokens = true;
    }

    /// How many calls had this exact description (e.g. `POST /app/installations/7/access_tokens`).
    pub fn count(&self, call: &str) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.as_str() == call)
            .count()
    }

    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// Run `run_id`'s jobs list: the published example with these (name, conclusion, failed
    /// step) jobs, ids `run_id * 10 + i`; each failed job gets a log.
    pub fn set_run_jobs(&self, run_id: i64, jobs: &[(&str, &str, Option<&str>)]) {
        actions::set_run_jobs(&mut self.lock(), run_id, jobs);
    }

    /// While `on`, a re-run request is applied but not answered; turning it off answers them.
    pub fn hold_reruns(&self, on: bool) {
        let mut inner = self.lock();
        inner.hold_reruns = on;
        if !on {
            inner.release.notify_waiters();
        }
    }

    /// While `on`, a hook creation is applied but not answered; turning it off answers them.
    pub fn hold_hook_creations(&self, on: bool) {
        let mut inner = self.lock();
        inner.hold_hooks = on;
        if !on {
            inner.release.notify_waiters();
        }
    }

    /// Hook creation answers held back right now.
    pub fn held_hook_creations(&self) -> usize {
        self.lock().held_hooks
    }

    /// Re-run answers held back right now.
    pub fn held_reruns(&self) -> usize {
        self.lock().held_reruns
    }

    /// The run's current attempt number (1 until re-run).
    pub fn run_attempt(&self, run_id: i64) -> i64 {
        self.lock()
            .runs
            .get(&run_id)
            .copied()
            .unwrap_or_default()
            .attempt
    }

    /// The environment pointing RepoPal at this fake.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_APP_ID", TEST_APP_ID.to_string()),
            (
                "GITHUB_APP_PRIVATE_KEY",
                include_str!("../fixtures/github/test-app-key.pem").to_owned(),
            ),
            ("GITHUB_APP_SLUG", "repopal-test".to_owned()),
            ("GITHUB_API_URL", self.url.clone()),
            ("GITHUB_WEB_URL", self.url.clone()),
            ("GITHUB_OAUTH_CLIENT_ID", "Iv1.testclient".to_owned()),
            (
                "GITHUB_OAUTH_CLIENT_SECRET",
                "test-client-secret-value".to_owned(),
            ),
            ("GITHUB_APP_CLIENT_ID", TEST_APP_CLIENT_ID.to_owned()),
            (
                "GITHUB_APP_CLIENT_SECRET",
                TEST_APP_CLIENT_SECRET.to_owned(),
            ),
        ]
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("fake github state")
    }
}

type Shared = Arc<Mutex<Inner>>;

mod actions;
mod contents;
pub mod deliveries;
mod install_page;
mod installations;

pub use contents::RateLimit;

pub const TEST_APP_ID: u64 = 424242;
/// The GitHub App's own client id and secret (user authorization during installation).
pub const TEST_APP_CLIENT_ID: &str = "Iv23.testappclient";
pub const TEST_APP_CLIENT_SECRET: &str = "test-app-client-secret-value";
/// The GitHub organisation of `admin_installation` (its repositories are `acme/…`).
pub const ACME_LOGIN: &str = "acme";
pub const ACME_ID: i64 = 9001;

#[derive(serde::Deserialize)]
struct AppClaims {
    iat: i64,
    exp: i64,
    iss: String,
}

/// The 401 GitHub answers unless the request carries a valid RS256 app JWT signed with the App's
/// key (checked against its public key), issued by the test App and valid at most 10 minutes.
fn app_jwt_refusal(headers: &HeaderMap) -> Option<Response> {
    let jwt = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(include_bytes!(
        "../fixtures/github/test-app-key.pub.pem"
    ))
    .expect("public key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_required_spec_claims(&["exp", "iat", "iss"]);
    let claims = match jsonwebtoken::decode::<AppClaims>(jwt, &key, &validation) {
        Ok(d) => d.claims,
        Err(_) => {
            return Some(
                (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({"message": "A JSON web token could not be decoded"})),
                )
                    .into_response(),
            );
        }
    };
    let now = chrono::Utc::now().timestamp();
    if claims.iss != TEST_APP_ID.to_string() || claims.exp - claims.iat > 600 || claims.iat > now {
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(
                    json!({"message": "'Expiration time' claim ('exp') is too far in the future"}),
                ),
            )
                .into_response(),
        );
    }
    None
}

/// `POST /app/installations/{id}/access_tokens`: needs a valid RS256 app JWT signed with the App's
/// key (checked against its public key), answers with the documented token shape.
async fn mint_installation_token(
    State(s): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<i64>,
    headers: HeaderMap,
) -> Response {
    let mut inner = s.lock().expect("state");
    inner
        .calls
        .push(format!("POST /app/installations/{id}/access_tokens"));
    if let Some(refusal) = app_jwt_refusal(&headers) {
        return refusal;
    }
    let token = format!("ghs_{}", uuid::Uuid::new_v4().simple());
    inner.installation_tokens.insert(token.clone(), id);
    let mut body: Value =
        serde_json::from_str(include_str!("../fixtures/github/installation-token.json"))
            .expect("fixture");
    body["token"] = json!(token);
    body["expires_at"] = json!(
        (chrono::Utc::now() + chrono::Duration::hours(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    (StatusCode::CREATED, Json(body)).into_response()
}

#[derive(serde::Deserialize)]
struct PageQuery {
    per_page: Option<usize>,
    page: Option<usize>,
}

/// `GET /installation/repositories`: paginated with `Link` headers, repository objects in the
/// published shape, scripted failures first.
async fn installation_repositories(
    State(s): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> Response {
    if let Some(response) = record_and_fault(&s, "GET /installation/repositories".into()).await {
        return response;
    }
    let mut inner = s.lock().expect("state");
    if let Some(failure) = inner.failures.pop_front() {
        return match failure {
            Failure::RateLimited(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", secs.to_string())],
                Json(json!({"message": "You have exceeded a secondary rate limit."})),
            )
                .into_response(),
            Failure::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        };
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_owned();
    if !inner.installation_tokens.contains_key(&token) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        )
            .into_response();
    }
    if inner.reject_fresh_tokens && inner.rejected_once.insert(token) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        )
            .into_response();
    }
    let per_page = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    let total = inner.repos.len();
    let template: Value = serde_json::from_str::<Value>(include_str!(
        "../fixtures/github/repository-paginated-2.json"
    ))
    .expect("fixture")["repositories"][0]
        .clone();
    let items: Vec<Value> = inner
        .repos
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(id, name)| {
            let mut r = template.clone();
            r["id"] = json!(id);
            r["full_name"] = json!(name);
            r["name"] = json!(name.split('/').nth(1));
            r["default_branch"] = json!("main");
            r["visibility"] = json!("private");
            r
        })
        .collect();
    let mut response = Json(json!({"total_count": total, "repositories": items})).into_response();
    if page * per_page < total {
        let host = headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        let next = format!(
            "<http://{host}{}?per_page={per_page}&page={}>; rel=\"next\"",
            uri.path(),
            page + 1
        );
        response
            .headers_mut()
            .insert("link", next.parse().expect("link header"));
    }
    response
}

async fn token(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let refreshing = form.get("grant_type").is_some_and(|g| g == "refresh_token");
    let delay = s.lock().expect("state").refresh_delay_ms;
    if refreshing && delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let mut inner = s.lock().expect("state");
    inner.calls.push(if refreshing {
        "POST /login/oauth/access_token refresh".into()
    } else {
        "POST /login/oauth/access_token".into()
    });
    if inner.token_endpoint_down {
        return (StatusCode::INTERNAL_SERVER_ERROR, "unavailable").into_response();
    }
    let wants_json = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    // The client authenticates with HTTP Basic (oauth2's default) or form fields, as the OAuth
    // App or as the GitHub App (its own client id and secret).
    let known = [
        ("Iv1.testclient", "test-client-secret-value"),
        (TEST_APP_CLIENT_ID, TEST_APP_CLIENT_SECRET),
    ];
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).ok())
        .and_then(|creds| String::from_utf8(creds).ok());
    let client = known.iter().find_map(|(id, secret)| {
        let basic_ok = basic.as_deref() == Some(format!("{id}:{secret}").as_str());
        let form_ok = form.get("client_id").is_some_and(|c| c == id)
            && form.get("client_secret").is_some_and(|s| s == secret);
        (basic_ok || form_ok).then_some(*id)
    });
    let Some(client) = client else {
        // GitHub answers token-endpoint errors with HTTP 200 and an `error` field.
        return Json(json!({
            "error": "incorrect_client_credentials",
            "error_description": "The client_id and/or client_secret passed are incorrect."
        }))
        .into_response();
    };
    if !refreshing {
        inner.code_clients.push(client.to_owned());
    }
    if refreshing {
        let presented = form.get("refresh_token").cloned().unwrap_or_default();
        let Some(account) = inner.refresh_tokens.remove(&presented) else {
            // GitHub answers refresh errors with 200 and an `error` field.
            return Json(json!({
                "error": "bad_refresh_token",
                "error_description": "The refresh token passed is incorrect or expired."
            }))
            .into_response();
        };
        return Json(issue_expiring(&mut inner, account)).into_response();
    }
    let code = form.get("code").cloned().unwrap_or_default();
    if inner.expiring_codes.remove(&code)
        && let Some(account) = inner.codes.remove(&code)
    {
        return Json(issue_expiring(&mut inner, account)).into_response();
    }
    let Some(account) = inner.codes.remove(&code) else {
        let body = json!({
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
            "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"
        });
        // HTTP 200 with an `error` field, as GitHub answers (an octokit maintainer's statement).
        return Json(body).into_response();
    };
    let access = format!("gho_{}", uuid::Uuid::new_v4().simple());
    let scope = inner
        .code_scopes
        .remove(&code)
        .unwrap_or_else(|| "read:user,user:email".to_owned());
    inner.tokens.insert(access.clone(), account);
    inner.token_scopes.insert(access.clone(), scope.clone());
    if wants_json {
        Json(json!({"access_token": access, "scope": scope, "token_type": "bearer"}))
            .into_response()
    } else {
        let scope = scope.replace(':', "%3A").replace(',', "%2C");
        format!("access_token={access}&scope={scope}&token_type=bearer").into_response()
    }
}

/// An expiring user token with its refresh token, in the documented shape.
fn issue_expiring(inner: &mut Inner, account: FakeAccount) -> Value {
    let access = format!("ghu_{}", uuid::Uuid::new_v4().simple());
    let refresh = format!("ghr_{}", uuid::Uuid::new_v4().simple());
    inner.tokens.insert(access.clone(), account.clone());
    inner
        .token_scopes
        .insert(access.clone(), "repo,read:org".to_owned());
    inner.refresh_tokens.insert(refresh.clone(), account);
    json!({
        "access_token": access,
        "expires_in": 28800,
        "refresh_token": refresh,
        "refresh_token_expires_in": 15811200,
        "scope": "repo,read:org",
        "token_type": "bearer"
    })
}

/// Records the call and takes its scripted fault under the lock, then carries the fault out with
/// the lock released (a `Slow` fault sleeps and lets the handler answer).
async fn record_and_fault(s: &Shared, call: String) -> Option<Response> {
    let fault = {
        let mut inner = s.lock().expect("state");
        inner.calls.push(call);
        inner.faults.next()
    };
    fake_faults::apply(fault, Flavor::Github).await
}

fn account_for(s: &Shared, headers: &HeaderMap, call: &str) -> Result<FakeAccount, Box<Response>> {
    s.lock().expect("state").calls.push(call.to_owned());
    lookup_account(s, headers)
}

/// The account the request's user token belongs to, or a 401.
fn lookup_account(s: &Shared, headers: &HeaderMap) -> Result<FakeAccount, Box<Response>> {
    let inner = s.lock().expect("state");
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("token "))
        })
        .unwrap_or_default();
    inner.tokens.get(token).cloned().ok_or_else(|| {
        Box::new(
            (StatusCode::UNAUTHORIZED, Json(json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})))
                .into_response(),
        )
    })
}

async fn user(State(s): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(response) = record_and_fault(&s, "GET /user".into()).await {
        return response;
    }
    let account = match lookup_account(&s, &headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let mut body: Value =
        serde_json::from_str(include_str!("../fixtures/github/user.json")).expect("fixture");
    body["id"] = json!(account.id);
    body["login"] = json!(account.login);
    body["name"] = json!(account.name);
    body["email"] = json!(account.email);
    Json(body).into_response()
}

async fn emails(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let account = match account_for(&s, &headers, "GET /user/emails") {
        Ok(a) => a,
        Err(r) => return *r,
    };
    Json(json!([
        {"email": account.email, "verified": account.email_verified, "primary": true, "visibility": "public"},
        {"email": format!("{}@users.noreply.github.com", account.login), "verified": true, "primary": false, "visibility": null}
    ]))
    .into_response()
}

fn bearer(headers: &HeaderMap) -> &str {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
}

/// What a repository call may do with its token: an installation token may do everything the
/// App may; a user token only what its scopes grant (`repo` covers hooks too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    Read,
    Hooks,
}

/// Records `call` with its token; `Err` with GitHub's answer when the token may not do it: 401
/// for an unknown token, 404 for a user token without the scope (GitHub hides what it refuses).
pub(crate) fn repo_auth(
    inner: &mut Inner,
    headers: &HeaderMap,
    call: String,
    need: Need,
) -> Result<(), Box<Response>> {
    let token = bearer(headers).to_owned();
    // Calls whose route records itself (with its faults) start with `auth `.
    match call.strip_prefix("auth ") {
        Some(call) => inner.token_uses.push((call.to_owned(), token.clone())),
        None => {
            inner.calls.push(call.clone());
            inner.token_uses.push((call, token.clone()));
        }
    }
    if inner.installation_tokens.contains_key(&token) {
        return Ok(());
    }
    if !inner.tokens.contains_key(&token) {
        return Err(Box::new(unauthorized()));
    }
    let scopes = inner.token_scopes.get(&token).cloned().unwrap_or_default();
    let has = |s: &str| scopes.split(',').any(|g| g.trim() == s);
    let allowed = match need {
        Need::Read => has("repo"),
        Need::Hooks => has("repo") || has("admin:repo_hook"),
    };
    if allowed {
        Ok(())
    } else {
        Err(Box::new(
            (
                StatusCode::NOT_FOUND,
                Json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})),
            )
                .into_response(),
        ))
    }
}

fn hook_json(h: &FakeHook) -> Value {
    let mut body: Value =
        serde_json::from_str(include_str!("../fixtures/github/hook.json")).expect("fixture");
    body["id"] = json!(h.id);
    body["events"] = json!(h.events);
    body["config"] = json!({"content_type": "json", "insecure_ssl": "0", "url": h.url});
    body
}

type RepoPath = axum::extract::Path<(String, String)>;
type HookPath = axum::extract::Path<(String, String, i64)>;

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": "Bad credentials"})),
    )
        .into_response()
}

async fn list_hooks(
    State(s): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path((owner, repo)): RepoPath,
) -> Response {
    let mut inner = s.lock().expect("state");
    if let Err(r) = repo_auth(
        &mut inner,
        &headers,
        format!("GET /repos/{owner}/{repo}/hooks"),
        Need::Hooks,
    ) {
        return *r;
    }
    let name = format!("{owner}/{repo}");
    Json(
        inner
            .hooks
            .iter()
            .filter(|h| h.repo == name)
            .map(hook_json)
            .collect::<Vec<_>>(),
    )
    .into_response()
}

/// `POST /repos/{owner}/{repo}/hooks`: creates the hook and, as GitHub does, pings it at once:
/// the ping is delivered (signed with the new hook's secret) BEFORE the 201 is answered.
async fn create_hook(
    State(s): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path((owner, repo)): RepoPath,
    Json(body): Json<Value>,
) -> Response {
    let (hook, out, repo_id, release) = {
        let mut inner = s.lock().expect("state");
        if let Err(r) = repo_auth(
            &mut inner,
            &headers,
            format!("POST /repos/{owner}/{repo}/hooks"),
            Need::Hooks,
        ) {
            return *r;
        }
        let url = body["config"]["url"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if url.is_empty() || body["config"]["content_type"] != "json" {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"message": "Validation Failed"})),
            )
                .into_response();
        }
        inner.next_hook_id += 1;
        let hook = FakeHook {
            id: 5000 + inner.next_hook_id,
            repo: format!("{owner}/{repo}"),
            url,
            secret: body["config"]["secret"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            events: body["events"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        };
        let out = hook_json(&hook);
        let name = format!("{owner}/{repo}");
        let repo_id = inner
            .repos
            .iter()
            .find(|(_, n)| *n == name)
            .map_or(0, |(id, _)| *id);
        inner.hooks.push(hook.clone());
        let release = inner.hold_hooks.then(|| inner.release.clone());
        if release.is_some() {
            inner.held_hooks += 1;
        }
        (hook, out, repo_id, release)
    };
    if let Some(release) = release {
        let released = release.notified();
        // Released between the lock above and now: do not wait for a wake-up already sent.
        let still_held = s.lock().expect("state").hold_hooks;
        if still_held {
            released.await;
        }
        s.lock().expect("state").held_hooks -= 1;
    }
    let status = deliver_ping(&hook, repo_id).await;
    s.lock()
        .expect("state")
        .deliveries
        .push((hook.id, "ping".into(), status));
    (StatusCode::CREATED, Json(out)).into_response()
}

/// Sends the corpus `ping` payload for `hook` to its URL as GitHub would; the status answered,
/// or 0 when the URL is not a local address the fake can reach.
async fn deliver_ping(hook: &FakeHook, repo_id: i64) -> u16 {
    let local = url::Url::parse(&hook.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|h| h == "127.0.0.1" || h == "localhost");
    if !local {
        return 0;
    }
    let mut payload: Value = serde_json::from_str(include_str!(
        "../fixtures/github/webhooks/ping/payload.json"
    ))
    .expect("fixture");
    payload["hook_id"] = json!(hook.id);
    payload["hook"]["id"] = json!(hook.id);
    payload["hook"]["events"] = json!(hook.events);
    payload["hook"]["config"]["url"] = json!(hook.url);
    payload["repository"]["id"] = json!(repo_id);
    payload["repository"]["full_name"] = json!(hook.repo);
    let body = serde_json::to_vec(&payload).expect("json");
    let signature = common::crypto::signature::sign(hook.secret.as_bytes(), &body);
    let sent = reqwest::Client::new()
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/044aadd")
        .header("x-github-event", "ping")
        .header("x-github-delivery", uuid::Uuid::new_v4().to_string())
        .header("x-github-hook-id", hook.id.to_string())
        .header("x-github-hook-installation-target-type", "repository")
        .header("x-hub-signature-256", signature)
        .body(body)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await;
    sent.map_or(0, |r| r.status().as_u16())
}

async fn delete_hook(
    State(s): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path((owner, repo, id)): HookPath,
) -> Response {
    let mut inner = s.lock().expect("state");
    if let Err(r) = repo_auth(
        &mut inner,
        &headers,
        format!("DELETE /repos/{owner}/{repo}/hooks/{id}"),
        Need::Hooks,
    ) {
        return *r;
    }
    let before = inner.hooks.len();
    inner.hooks.retain(|h| h.id != id);
    if inner.hooks.len() == before {
        return (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response();
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn ping_hook(
    State(s): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path((owner, repo, id)): HookPath,
) -> Response {
    if let Some(response) =
        record_and_fault(&s, format!("POST /repos/{owner}/{repo}/hooks/{id}/pings")).await
    {
        return response;
    }
    let mut inner = s.lock().expect("state");
    if let Err(r) = repo_auth(
        &mut inner,
        &headers,
        format!("auth POST /repos/{owner}/{repo}/hooks/{id}/pings"),
        Need::Hooks,
    ) {
        return *r;
    }
    if inner.hooks.iter().any(|h| h.id == id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response()
    }
}

/// `DELETE /applications/{client_id}/token`: the OAuth app revokes one of its tokens.
async fn revoke_token(
    State(s): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(client_id): axum::extract::Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut inner = s.lock().expect("state");
    inner
        .calls
        .push(format!("DELETE /applications/{client_id}/token"));
    let basic_ok = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).ok())
        .is_some_and(|c| c == b"Iv1.testclient:test-client-secret-value");
    if !basic_ok || client_id != "Iv1.testclient" {
        return (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response();
    }
    let token = body["access_token"].as_str().unwrap_or_default();
    if inner.tokens.remove(token).is_some() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"message": "Validation Failed"})),
        )
            .into_response()
    }
}

/// `GET /user/repos`: the repositories a user token sees (same list as installations), paginated.
async fn user_repos(
    State(s): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Response {
    let mut inner = s.lock().expect("state");
    inner.calls.push("GET /user/repos".into());
    let token = bearer(&headers);
    if !inner.tokens.contains_key(token) {
        return unauthorized();
    }
    let per_page = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    let items: Vec<Value> = inner
        .repos
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(id, name)| json!({"id": id, "full_name": name, "default_branch": "main", "visibility": "private", "archived": false}))
        .collect();
    let mut response = Json(items).into_response();
    if page * per_page < inner.repos.len() {
        let host = headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        let next = format!(
            "<http://{host}/user/repos?per_page={per_page}&page={}>; rel=\"next\"",
            page + 1
        );
        response
            .headers_mut()
            .insert("link", next.parse().expect("link"));
    }
    response
}

/// `GET /user/installations`: the installations a user token can access.
async fn user_installations(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let mut inner = s.lock().expect("state");
    inner.calls.push("GET /user/installations".into());
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let Some(account) = inner.tokens.get(token).cloned() else {
        return unauthorized();
    };
    let ids = inner
        .user_installations
        .get(&account.id)
        .cloned()
        .unwrap_or_default();
    let installations: Vec<Value> = ids
        .iter()
        .map(|id| {
            let (login, owner_id, kind) = match inner.installation_accounts.get(id) {
                Some(a) => (a.login.clone(), a.id, a.kind),
                None => (account.login.clone(), account.id, "User"),
            };
            json!({"id": id, "account": {"login": login, "id": owner_id, "type": kind}, "app_id": TEST_APP_ID, "target_type": kind})
        })
        .collect();
    Json(json!({"total_count": installations.len(), "installations": installations}))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn personal_token_faults_and_revocation_on_user() {
        let github = FakeGithub::start().await;
        let account = FakeAccount {
            id: 7,
            login: "octocat".into(),
            name: "Mona".into(),
            email: "mona@example.com".into(),
            email_verified: true,
        };
        github.add_token("ghp_personal", account);
        let client = reqwest::Client::new();
        let get_user = || {
            client
                .get(format!("{}/user", github.url))
                .bearer_auth("ghp_personal")
                .send()
        };
        let status = |r: reqwest::Response| r.status().as_u16();
        github.fault_next(&[Fault::RateLimited(2), Fault::Slow(10)]);
        let limited = get_user().await.expect("send");
        assert_eq!(limited.headers()["retry-after"], "2");
        assert_eq!(status(limited), 429);
        assert_eq!(status(get_user().await.expect("send")), 200);
        github.set_fault(Some(Fault::Unavailable));
        assert_eq!(status(get_user().await.expect("send")), 503);
        github.set_fault(None);
        github.revoke_token_value("ghp_personal");
        assert_eq!(status(get_user().await.expect("send")), 401);
        assert_eq!(github.count("GET /user"), 4);
    }
}
