//! A fake Slack Web API over real HTTP: `chat.postMessage` with the documented request (bearer
//! token, JSON body) and answer shapes (`corpus/slack/web-api/examples`), checking the bot token.
//! Tests read the messages it accepted and can make it fail (HTTP 500) or refuse the token.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

/// The bot token the fake accepts.
pub const SLACK_BOT_TOKEN: &str = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy";

/// One accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub channel: String,
    pub text: String,
}

#[derive(Default)]
struct Inner {
    posted: Vec<Posted>,
    /// Calls answered 500 before the fake works again.
    down_for: usize,
    /// Every call, accepted or not.
    attempts: usize,
}

#[derive(Clone)]
pub struct FakeSlack {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

type Shared = Arc<Mutex<Inner>>;

impl FakeSlack {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/api/chat.postMessage", post(post_message))
            .with_state(inner.clone());
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
        }
    }

    /// The next `calls` calls answer 500 (Slack down).
    pub fn go_down_for(&self, calls: usize) {
        self.lock().down_for = calls;
    }

    pub fn posted(&self) -> Vec<Posted> {
        self.lock().posted.clone()
    }

    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("fake slack state")
    }
}

async fn post_message(State(s): State<Shared>, headers: HeaderMap, body: Json<Value>) -> Response {
    let mut inner = s.lock().expect("state");
    inner.attempts += 1;
    if inner.down_for > 0 {
        inner.down_for -= 1;
        return (StatusCode::INTERNAL_SERVER_ERROR, "upstream unavailable").into_response();
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if token != Some(SLACK_BOT_TOKEN) {
        return Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
    }
    let (Some(channel), Some(text)) = (body["channel"].as_str(), body["text"].as_str()) else {
        return Json(json!({"ok": false, "error": "no_text"})).into_response();
    };
    inner.posted.push(Posted {
        channel: channel.to_owned(),
        text: text.to_owned(),
    });
    let ts = format!("1503435956.{:06}", inner.posted.len());
    Json(json!({
        "ok": true,
        "channel": channel,
        "ts": ts,
        "message": {"type": "message", "subtype": "bot_message", "text": text, "ts": ts, "bot_id": "B19LU7CSY"}
    }))
    .into_response()
}
