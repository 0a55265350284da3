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

/// The GitHub account a code logs in as.
#[derive(Debug, Clone)]
pub struct FakeAccount {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
}

#[derive(Default)]
struct Inner {
    /// code → account
    codes: HashMap<String, FakeAccount>,
    /// access token → account
    tokens: HashMap<String, FakeAccount>,
    /// When set, the token endpoint answers 500.
    token_endpoint_down: bool,
    calls: Vec<String>,
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
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake github");
        let addr: SocketAddr = listener.local_addr().expect("addr");
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

    pub fn set_token_endpoint_down(&self, down: bool) {
        self.lock().token_endpoint_down = down;
    }

    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// The environment pointing RepoPal at this fake.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_API_URL", self.url.clone()),
            ("GITHUB_WEB_URL", self.url.clone()),
            ("GITHUB_OAUTH_CLIENT_ID", "Iv1.testclient".to_owned()),
            (
                "GITHUB_OAUTH_CLIENT_SECRET",
                "test-client-secret-value".to_owned(),
            ),
        ]
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("fake github state")
    }
}

type Shared = Arc<Mutex<Inner>>;

async fn token(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut inner = s.lock().expect("state");
    inner.calls.push("POST /login/oauth/access_token".into());
    if inner.token_endpoint_down {
        return (StatusCode::INTERNAL_SERVER_ERROR, "unavailable").into_response();
    }
    let wants_json = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    // The client authenticates with HTTP Basic (oauth2's default) or form fields.
    let basic_ok = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).ok())
        .is_some_and(|creds| creds == b"Iv1.testclient:test-client-secret-value");
    let form_ok = form.get("client_id").is_some_and(|c| c == "Iv1.testclient")
        && form
            .get("client_secret")
            .is_some_and(|s| s == "test-client-secret-value");
    if !(basic_ok || form_ok) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "incorrect_client_credentials"})),
        )
            .into_response();
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(account) = inner.codes.remove(&code) else {
        let body = json!({
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
            "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"
        });
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    };
    let access = format!("gho_{}", uuid::Uuid::new_v4().simple());
    inner.tokens.insert(access.clone(), account);
    if wants_json {
        Json(json!({"access_token": access, "scope": "read:user,user:email", "token_type": "bearer"})).into_response()
    } else {
        format!("access_token={access}&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer")
            .into_response()
    }
}

fn account_for(s: &Shared, headers: &HeaderMap, call: &str) -> Result<FakeAccount, Box<Response>> {
    let mut inner = s.lock().expect("state");
    inner.calls.push(call.to_owned());
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
    let account = match account_for(&s, &headers, "GET /user") {
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
