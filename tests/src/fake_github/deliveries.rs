//! The fake's App webhook: it sends deliveries to the App's webhook URL over real HTTP (signed
//! with the App's webhook secret, GitHub's headers), records every attempt as GitHub does
//! (`GET /app/hook/deliveries`, the published `hook-delivery-item` shape, newest first, cursor
//! pages in `Link`), and redelivers one on `POST /app/hook/deliveries/{id}/attempts` (202, then
//! the same headers and body are sent again, asynchronously, and recorded as a redelivery).

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

use super::{FakeGithub, Shared, TEST_APP_ID, app_jwt_refusal};

/// The App webhook's hook id (`X-GitHub-Hook-ID` of App deliveries).
pub const APP_HOOK_ID: i64 = 1_000_001;

/// One delivery attempt, with what is needed to send it again.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub guid: String,
    pub event: String,
    pub action: Option<String>,
    pub redelivery: bool,
    pub status_code: u16,
    pub delivered_at: chrono::DateTime<chrono::Utc>,
    installation_id: Option<i64>,
    repository_id: Option<i64>,
    body: Vec<u8>,
}

impl Delivery {
    fn item(&self) -> Value {
        let status = match self.status_code {
            200..=299 => "OK".to_owned(),
            0 => "failed to connect".to_owned(),
            code => format!("Invalid HTTP Response: {code}"),
        };
        json!({
            "id": self.id,
            "guid": self.guid,
            "delivered_at": self.delivered_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "redelivery": self.redelivery,
            "duration": 0.05,
            "status": status,
            "status_code": self.status_code,
            "event": self.event,
            "action": self.action,
            "installation_id": self.installation_id,
            "repository_id": self.repository_id,
            "throttled_at": null,
        })
    }
}

/// Where the App's deliveries go, and its webhook secret.
#[derive(Debug, Clone)]
pub(super) struct AppHook {
    url: String,
    secret: String,
}

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/app/hook/deliveries", get(list))
        .route("/app/hook/deliveries/{id}/attempts", post(redeliver))
}

/// Sends one attempt and returns the status code RepoPal answered (0 when it could not connect).
async fn send(hook: &AppHook, guid: &str, event: &str, body: &[u8]) -> u16 {
    let signature = common::crypto::signature::sign(hook.secret.as_bytes(), body);
    let sent = reqwest::Client::new()
        .post(&hook.url)
        .timeout(std::time::Duration::from_secs(10))
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/044aadd")
        .header("x-github-event", event)
        .header("x-github-delivery", guid)
        .header("x-github-hook-id", APP_HOOK_ID.to_string())
        .header("x-github-hook-installation-target-type", "integration")
        .header(
            "x-github-hook-installation-target-id",
            TEST_APP_ID.to_string(),
        )
        .header("x-hub-signature-256", signature)
        .body(body.to_vec())
        .send()
        .await;
    match sent {
        Ok(res) => res.status().as_u16(),
        Err(_) => 0,
    }
}

fn record(s: &Shared, template: &Delivery, redelivery: bool, status_code: u16) -> Delivery {
    let mut inner = s.lock().expect("state");
    inner.next_delivery_id += 1;
    let delivery = Delivery {
        id: 90_000_000 + inner.next_delivery_id,
        redelivery,
        status_code,
        delivered_at: chrono::Utc::now(),
        ..template.clone()
    };
    inner.app_deliveries.push(delivery.clone());
    delivery
}

impl FakeGithub {
    /// Sets the App's webhook URL and secret (as in the App's settings).
    pub fn set_app_webhook(&self, url: &str, secret: &str) {
        self.lock().app_hook = Some(AppHook {
            url: url.to_owned(),
            secret: secret.to_owned(),
        });
    }

    /// Sends an App delivery of `event` with `payload` (a new GUID) and records the attempt.
    pub async fn send_app_delivery(&self, event: &str, payload: &Value) -> Delivery {
        let hook = self.lock().app_hook.clone().expect("set_app_webhook first");
        let guid = uuid::Uuid::new_v4().to_string();
        let body = serde_json::to_vec(payload).expect("json");
        let status_code = send(&hook, &guid, event, &body).await;
        let template = Delivery {
            id: 0,
            guid,
            event: event.to_owned(),
            action: payload["action"].as_str().map(str::to_owned),
            redelivery: false,
            status_code,
            delivered_at: chrono::Utc::now(),
            installation_id: payload["installation"]["id"].as_i64(),
            repository_id: payload["repository"]["id"].as_i64(),
            body,
        };
        record(&self.inner, &template, false, status_code)
    }

    /// Every App webhook delivery attempt so far, oldest first.
    pub fn app_deliveries(&self) -> Vec<Delivery> {
        self.lock().app_deliveries.clone()
    }

    /// Redelivery requests received (`POST …/attempts`), by delivery id.
    pub fn redelivery_requests(&self) -> Vec<i64> {
        self.lock().redelivery_requests.clone()
    }
}

#[derive(serde::Deserialize)]
struct ListQuery {
    per_page: Option<usize>,
    cursor: Option<String>,
}

async fn list(State(s): State<Shared>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    if let Some(refusal) = app_jwt_refusal(&headers) {
        return refusal;
    }
    let per_page = q.per_page.unwrap_or(30).clamp(1, 100);
    let (items, next, base) = {
        let mut inner = s.lock().expect("state");
        inner.calls.push("GET /app/hook/deliveries".into());
        // Newest first; a cursor is "v1_<id>": the page starts below that id.
        let below = match q.cursor.as_deref() {
            None | Some("") => i64::MAX,
            Some(c) => match c.strip_prefix("v1_").and_then(|n| n.parse().ok()) {
                Some(id) => id,
                None => {
                    return (
                        StatusCode::BAD_REQUEST,
                        Json(json!({"message": "Invalid cursor"})),
                    )
                        .into_response();
                }
            },
        };
        let mut newest_first: Vec<&Delivery> = inner
            .app_deliveries
            .iter()
            .filter(|d| d.id < below)
            .collect();
        newest_first.sort_by_key(|d| std::cmp::Reverse(d.id));
        let more = newest_first.len() > per_page;
        let page: Vec<&Delivery> = newest_first.into_iter().take(per_page).collect();
        let next = if more {
            page.last().map(|d| format!("v1_{}", d.id))
        } else {
            None
        };
        let items: Vec<Value> = page.iter().map(|d| d.item()).collect();
        (items, next, inner.base_url.clone())
    };
    let mut response = Json(items).into_response();
    if let Some(cursor) = next {
        let link = format!(
            "<{base}/app/hook/deliveries?per_page={per_page}&cursor={cursor}>; rel=\"next\""
        );
        if let Ok(v) = link.parse() {
            response.headers_mut().insert("link", v);
        }
    }
    response
}

async fn redeliver(State(s): State<Shared>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    if let Some(refusal) = app_jwt_refusal(&headers) {
        return refusal;
    }
    let (original, hook) = {
        let mut inner = s.lock().expect("state");
        inner
            .calls
            .push(format!("POST /app/hook/deliveries/{id}/attempts"));
        inner.redelivery_requests.push(id);
        let Some(original) = inner.app_deliveries.iter().find(|d| d.id == id).cloned() else {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/apps/webhooks#redeliver-a-delivery-for-an-app-webhook"})),
            )
                .into_response();
        };
        (original, inner.app_hook.clone())
    };
    let Some(hook) = hook else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"message": "Validation Failed"})),
        )
            .into_response();
    };
    // GitHub queues the redelivery and answers at once.
    tokio::spawn(async move {
        let status = send(&hook, &original.guid, &original.event, &original.body).await;
        record(&s, &original, true, status);
    });
    (StatusCode::ACCEPTED, Json(json!({}))).into_response()
}
