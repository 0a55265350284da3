//! A fake Slack Web API over real HTTP, answering with the documented request and answer shapes
//! (`corpus/slack/web-api/examples`):
//! * `chat.postMessage` (bearer token, JSON body), accepting any valid bot token;
//! * `auth.test`, telling valid, unknown, expired and revoked tokens apart;
//! * `oauth.v2.access`, exchanging single-use codes (with or without token rotation) and
//!   single-use refresh tokens.
//!
//! * `conversations.list` and `conversations.history` (with message `metadata`), in
//!   `fake_slack/history.rs`: channels named `#name` get an id on first use, every accepted message
//!   is kept in its channel's history, newest first.
//!
//! Tests read the messages it accepted, script faults for `auth.test` and `oauth.v2.access`
//! (`fault_next`, `set_fault`), make `chat.postMessage` fail (`go_down_for`) or accept a message
//! and hold its answer back (`hold_answers`), as when the poster dies before hearing back.

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

use crate::fake_faults::{self, Fault, Faults, Flavor};

/// The bot token the fake accepts from the start.
pub const SLACK_BOT_TOKEN: &str = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy";
/// The OAuth client id `oauth.v2.access` accepts.
pub const SLACK_CLIENT_ID: &str = "T-CLIENT.1";
/// The OAuth client secret `oauth.v2.access` accepts.
pub const SLACK_CLIENT_SECRET: &str = "slack-client-secret-value";

/// Lifetime of rotated tokens, as Slack documents (12 hours).
const ROTATED_EXPIRES_IN: u64 = 43200;

/// One accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub channel: String,
    pub text: String,
}

mod authorize;
mod history;

#[derive(Default)]
struct Inner {
    posted: Vec<Posted>,
    /// Channel names (without `#`) → ids, assigned on first use.
    channels: HashMap<String, String>,
    /// Public channels the bot was not invited to (listed with `is_member: false`).
    not_joined: HashSet<String>,
    /// Channel id → its messages, oldest first.
    history: HashMap<String, Vec<Value>>,
    /// Accepted messages answer only once released (`hold_answers(false)`).
    holding: bool,
    /// Answers being held back right now.
    held: usize,
    /// Calls answered 500 before the fake works again.
    down_for: usize,
    /// Every `chat.postMessage` call, accepted or not.
    attempts: usize,
    /// Bot tokens the fake knows (`SLACK_BOT_TOKEN` and every token it issued).
    tokens: HashSet<String>,
    expired: HashSet<String>,
    revoked: HashSet<String>,
    /// Unused authorization codes → whether token rotation is on for them.
    codes: HashMap<String, bool>,
    /// Unused refresh tokens → the access token issued with them.
    refresh_tokens: HashMap<String, String>,
    refresh_tokens_used: usize,
    /// Access tokens issued by `oauth.v2.access`, oldest first.
    issued: Vec<String>,
    last_redirect_uri: Option<String>,
    /// Calls per method (`auth.test`, …), failed ones included.
    counts: HashMap<String, usize>,
    faults: Faults,
}

impl Inner {
    fn record(&mut self, method: &str) {
        *self.counts.entry(method.to_owned()).or_default() += 1;
    }

    /// `Ok` when the token is usable, else the Slack error code.
    fn check_token(&self, token: Option<&str>) -> Result<(), &'static str> {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Err("not_authed");
        };
        if self.revoked.contains(token) {
            Err("token_revoked")
        } else if self.expired.contains(token) {
            Err("token_expired")
        } else if self.tokens.contains(token) {
            Ok(())
        } else {
            Err("invalid_auth")
        }
    }
}

#[derive(Clone)]
pub struct FakeSlack {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    release: Arc<tokio::sync::Notify>,
}

type Shared = Arc<Mutex<Inner>>;

#[derive(Clone)]
struct AppState {
    inner: Shared,
    release: Arc<tokio::sync::Notify>,
}

impl axum::extract::FromRef<AppState> for Shared {
    fn from_ref(s: &AppState) -> Self {
        s.inner.clone()
    }
}

impl FakeSlack {
    pub async fn start() -> Self {
        let mut state = Inner::default();
        state.tokens.insert(SLACK_BOT_TOKEN.to_owned());
        let inner = Arc::new(Mutex::new(state));
        let release = Arc::new(tokio::sync::Notify::new());
        let app = Router::new()
            .route("/api/chat.postMessage", post(post_message))
            .route("/api/auth.test", post(auth_test).get(auth_test))
            .route("/api/oauth.v2.access", post(oauth_access))
            .route("/oauth/v2/authorize", get(authorize::authorize))
            .route(
                "/api/conversations.history",
                post(history::conversations_history).get(history::conversations_history),
            )
            .route(
                "/api/conversations.list",
                post(history::conversations_list).get(history::conversations_list),
            )
            .with_state(AppState {
                inner: inner.clone(),
                release: release.clone(),
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake slack");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}/api"),
            inner,
            release,
        }
    }

    /// While `on`, every accepted `chat.postMessage` is recorded (and in its channel's history)
    /// but not answered; turning it off answers the held ones.
    pub fn hold_answers(&self, on: bool) {
        self.lock().holding = on;
        if !on {
            self.release.notify_waiters();
        }
    }

    /// Answers held back right now (see [`Self::hold_answers`]).
    pub fn held(&self) -> usize {
        self.lock().held
    }

    /// The messages in a channel's history (by id or `#name`), oldest first.
    pub fn history(&self, channel: &str) -> Vec<Value> {
        let inner = self.lock();
        let id = history::existing_id(&inner, channel);
        id.and_then(|id| inner.history.get(&id).cloned())
            .unwrap_or_default()
    }

    /// The next `calls` calls to `chat.postMessage` answer 500 (Slack down).
    pub fn go_down_for(&self, calls: usize) {
        self.lock().down_for = calls;
    }

    pub fn posted(&self) -> Vec<Posted> {
        self.lock().posted.clone()
    }

    /// Calls to `chat.postMessage`, accepted or not.
    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }

    /// A public channel `#name` in the workspace (as if someone created it and invited the bot);
    /// returns its id.
    pub fn add_channel(&self, name: &str) -> String {
        history::channel_id(&mut self.lock(), &format!("#{name}")).expect("a channel name")
    }

    /// A public channel `#name` the bot is not a member of: `conversations.list` shows it (with
    /// `channels:read`) but a post there is refused with `not_in_channel`. Returns its id.
    pub fn add_unjoined_channel(&self, name: &str) -> String {
        let mut inner = self.lock();
        let id = history::channel_id(&mut inner, &format!("#{name}")).expect("a channel name");
        inner.not_joined.insert(id.clone());
        id
    }

    /// Makes `code` a valid, single-use authorization code; with `rotation` the exchange
    /// issues an expiring `xoxe.xoxb-` token plus a refresh token.
    pub fn authorize_code(&self, code: &str, rotation: bool) {
        self.lock().codes.insert(code.to_owned(), rotation);
    }

    /// From now on `token` answers `token_expired`.
    pub fn expire_token(&self, token: &str) {
        self.lock().expired.insert(token.to_owned());
    }

    /// From now on `token` answers `token_revoked`.
    pub fn revoke_token(&self, token: &str) {
        self.lock().revoked.insert(token.to_owned());
    }

    /// Queues one-shot faults for the next calls to `auth.test` and `oauth.v2.access`.
    pub fn fault_next(&self, faults: &[Fault]) {
        self.lock().faults.push(faults);
    }

    /// Sets (or with `None` clears) a fault for every call to `auth.test` and `oauth.v2.access`
    /// once the queued ones are used up.
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.lock().faults.set_persistent(fault);
    }

    /// Calls to `method` (e.g. `"auth.test"`), failed ones included.
    pub fn count(&self, method: &str) -> usize {
        self.lock().counts.get(method).copied().unwrap_or(0)
    }

    /// The `redirect_uri` of the last code exchange (`None` if it had none).
    pub fn last_redirect_uri(&self) -> Option<String> {
        self.lock().last_redirect_uri.clone()
    }

    /// Bot access tokens issued by `oauth.v2.access`, oldest first.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.lock().issued.clone()
    }

    /// Refresh tokens successfully exchanged.
    pub fn refresh_tokens_used(&self) -> usize {
        self.lock().refresh_tokens_used
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("fake slack state")
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

fn slack_error(error: &str) -> Response {
    Json(json!({"ok": false, "error": error})).into_response()
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Counts the call and takes its fault under the lock, then carries the fault out unlocked.
async fn record_and_fault(s: &Shared, method: &str) -> Option<Response> {
    let fault = {
        let mut inner = s.lock().expect("state");
        inner.record(method);
        inner.faults.next()
    };
    fake_faults::apply(fault, Flavor::Slack).await
}

async fn post_message(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Json<Value>,
) -> Response {
    let answer = {
        let mut inner = app.inner.lock().expect("state");
        inner.attempts += 1;
        inner.record("chat.postMessage");
        if inner.down_for > 0 {
            inner.down_for -= 1;
            return (StatusCode::INTERNAL_SERVER_ERROR, "upstream unavailable").into_response();
        }
        if let Err(error) = inner.check_token(bearer(&headers)) {
            return slack_error(error);
        }
        let (Some(channel), Some(text)) = (body["channel"].as_str(), body["text"].as_str()) else {
            return slack_error("no_text");
        };
        let metadata = match body.get("metadata") {
            None | Some(Value::Null) => None,
            Some(m) if history::valid_metadata(m) => Some(m.clone()),
            Some(_) => return slack_error("invalid_metadata_format"),
        };
        let Some(channel_id) = history::channel_id(&mut inner, channel) else {
            return slack_error("channel_not_found");
        };
        inner.posted.push(Posted {
            channel: channel.to_owned(),
            text: text.to_owned(),
        });
        let ts = history::next_ts(inner.posted.len());
        let mut message = json!({"type": "message", "subtype": "bot_message", "text": text, "ts": ts, "bot_id": "B19LU7CSY", "app_id": "A0KRD7HC3"});
        if let Some(metadata) = metadata {
            message["metadata"] = metadata;
        }
        inner
            .history
            .entry(channel_id.clone())
            .or_default()
            .push(message.clone());
        if inner.holding {
            inner.held += 1;
        }
        json!({"ok": true, "channel": channel_id, "ts": ts, "message": message})
    };
    let was_held = {
        let notified = app.release.notified();
        let holding = app.inner.lock().expect("state").holding;
        if holding {
            notified.await;
            true
        } else {
            false
        }
    };
    if was_held {
        app.inner.lock().expect("state").held -= 1;
    }
    Json(answer).into_response()
}

/// `auth.test`: who the bearer token (or a `token` form field) belongs to.
async fn auth_test(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = record_and_fault(&s, "auth.test").await {
        return response;
    }
    let form = parse_form(&body);
    let token = bearer(&headers).or_else(|| form.get("token").map(String::as_str));
    let inner = s.lock().expect("state");
    if let Err(error) = inner.check_token(token) {
        return slack_error(error);
    }
    Json(json!({
        "ok": true,
        "url": "https://subarachnoid.slack.com/",
        "team": "Subarachnoid Workspace",
        "user": "grace",
        "team_id": "T12345678",
        "user_id": "W12345678",
        "bot_id": "B12345678",
        "is_enterprise_install": false
    }))
    .into_response()
}

fn parse_form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Checks the client credentials (HTTP Basic, as Slack prefers, or form fields).
fn client_error(headers: &HeaderMap, form: &HashMap<String, String>) -> Option<&'static str> {
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b.trim()).ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|creds| {
            creds
                .split_once(':')
                .map(|(id, secret)| (id.to_owned(), secret.to_owned()))
        });
    let (id, secret) = basic.unwrap_or_else(|| {
        (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        )
    });
    if id != SLACK_CLIENT_ID {
        Some("invalid_client_id")
    } else if secret != SLACK_CLIENT_SECRET {
        Some("bad_client_secret")
    } else {
        None
    }
}

/// `oauth.v2.access`: exchanges an authorization code or a refresh token.
async fn oauth_access(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = record_and_fault(&s, "oauth.v2.access").await {
        return response;
    }
    let form = parse_form(&body);
    if let Some(error) = client_error(&headers, &form) {
        return slack_error(error);
    }
    let mut inner = s.lock().expect("state");
    match form.get("grant_type").map(String::as_str) {
        Some("refresh_token") => {
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            let Some(old_access) = inner.refresh_tokens.remove(&presented) else {
                return slack_error("invalid_refresh_token");
            };
            inner.refresh_tokens_used += 1;
            inner.expired.insert(old_access);
            let mut answer = issue(&mut inner, true);
            // A refresh does not hand out a user token again.
            answer["authed_user"] = json!({"id": "U1234"});
            Json(answer).into_response()
        }
        None | Some("authorization_code") => {
            inner.last_redirect_uri = form.get("redirect_uri").cloned();
            let code = form.get("code").cloned().unwrap_or_default();
            let Some(rotation) = inner.codes.remove(&code) else {
                return slack_error("invalid_code");
            };
            Json(issue(&mut inner, rotation)).into_response()
        }
        Some(_) => slack_error("invalid_grant_type"),
    }
}

/// Issues a bot token (rotating: with a refresh token) in the documented answer shape.
fn issue(inner: &mut Inner, rotation: bool) -> Value {
    let access = if rotation {
        format!("xoxe.xoxb-1-{}", random())
    } else {
        format!("xoxb-{}", random())
    };
    inner.tokens.insert(access.clone());
    inner.issued.push(access.clone());
    let mut answer = json!({
        "ok": true,
        "access_token": access,
        "token_type": "bot",
        "scope": "chat:write,channels:read",
        "bot_user_id": "U0KRQLJ9H",
        "app_id": "A0KRD7HC3",
        "team": {"name": "Slack Softball Team", "id": "T9TK3CUKW"},
        "enterprise": null,
        "is_enterprise_install": false,
        "authed_user": {
            "id": "U1234",
            "scope": "chat:write",
            "access_token": format!("xoxp-{}", random()),
            "token_type": "user"
        }
    });
    if rotation {
        let refresh = format!("xoxe-1-{}", random());
        inner.refresh_tokens.insert(refresh.clone(), access);
        answer["refresh_token"] = json!(refresh);
        answer["expires_in"] = json!(ROTATED_EXPIRES_IN);
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn call(url: &str, auth: Option<&str>, form: &str) -> (StatusCode, Value) {
        let mut request = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned());
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.expect("send");
        let status = StatusCode::from_u16(response.status().as_u16()).expect("status");
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    #[tokio::test]
    async fn code_exchange_refresh_and_auth_test() {
        let slack = FakeSlack::start().await;
        let access = format!("{}/oauth.v2.access", slack.url);
        let auth_test = format!("{}/auth.test", slack.url);
        let client = format!("client_id={SLACK_CLIENT_ID}&client_secret={SLACK_CLIENT_SECRET}");
        slack.authorize_code("c1", true);

        let (_, body) = call(&access, None, "code=c1&client_id=nope&client_secret=x").await;
        assert_eq!(body["error"], "invalid_client_id");
        let (_, body) = call(
            &access,
            None,
            &format!("code=c1&{client}&redirect_uri=http%3A%2F%2Fx%2Fcb"),
        )
        .await;
        assert_eq!(body["ok"], true, "{body}");
        assert_eq!(slack.last_redirect_uri().as_deref(), Some("http://x/cb"));
        let first = body["access_token"].as_str().expect("token").to_owned();
        let refresh = body["refresh_token"].as_str().expect("refresh").to_owned();
        assert!(first.starts_with("xoxe.xoxb-1-"));
        assert_eq!(body["expires_in"], 43200);
        let (_, body) = call(&access, None, &format!("code=c1&{client}")).await;
        assert_eq!(body["error"], "invalid_code");

        let (_, body) = call(&auth_test, Some(&format!("Bearer {first}")), "").await;
        assert_eq!(body["ok"], true);
        assert_eq!(body["bot_id"], "B12345678");

        let basic = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{SLACK_CLIENT_ID}:{SLACK_CLIENT_SECRET}"),
        );
        let basic = format!("Basic {basic}");
        let refresh_form = format!("grant_type=refresh_token&refresh_token={refresh}");
        let (_, body) = call(&access, Some(&basic), &refresh_form).await;
        assert_eq!(body["ok"], true, "{body}");
        let (_, again) = call(&access, Some(&basic), &refresh_form).await;
        assert_eq!(again["error"], "invalid_refresh_token");
        assert_eq!(slack.refresh_tokens_used(), 1);
        let (_, old) = call(&auth_test, Some(&format!("Bearer {first}")), "").await;
        assert_eq!(old["error"], "token_expired");
        assert_eq!(slack.issued_tokens().len(), 2);

        let (_, unknown) = call(&auth_test, Some("Bearer xoxb-unknown"), "").await;
        assert_eq!(unknown["error"], "invalid_auth");
        slack.revoke_token(SLACK_BOT_TOKEN);
        let (_, revoked) = call(&auth_test, Some(&format!("Bearer {SLACK_BOT_TOKEN}")), "").await;
        assert_eq!(revoked["error"], "token_revoked");

        slack.fault_next(&[Fault::RateLimited(9)]);
        let (status, _) = call(&auth_test, Some("Bearer x"), "").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(slack.count("auth.test"), 5);
        assert_eq!(slack.count("oauth.v2.access"), 5);
    }
}
