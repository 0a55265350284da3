//! `argocd`: an Argo CD API server and an API token; tested and synced with
//! `GET /api/v1/applications` on the user-typed server, only through the guarded
//! `common::net::Outbound`, honouring `tls_verify`, a CA bundle and `namespace`.

use reqwest::Method;
use serde_json::{Map, Value, json};
use sqlx::PgConnection;

use super::{Attempt, BoxFuture, Provider, SyncOutcome, TestCx};
use crate::{
    Error,
    domain::{AppHealth, AppSync, IntegrationKind},
    integrations::{
        Failure, Tester,
        catalogue::{HTTP_URL, IntegrationType, object},
        failure::outbound_failure,
        testers::str_field,
    },
    jobs::{self, SyncIntegration},
    net::Tls,
    repo::{applications::Seen, integrations::Integration},
};

/// Seconds between scheduled syncs when `config.sync_interval` is absent, and the least allowed.
pub const DEFAULT_SYNC_INTERVAL: i64 = 300;
pub const MIN_SYNC_INTERVAL: i64 = 60;
/// Seconds an application may stay OutOfSync before it opens an incident, by default.
pub const DEFAULT_OUT_OF_SYNC_GRACE: i64 = 900;

pub struct ArgoCd;

/// The settings of an Argo CD integration, read from its `config`.
#[derive(Debug, Clone)]
pub struct ArgoSettings {
    /// The server, without a trailing slash.
    pub server: String,
    /// Only the applications in this namespace (`appNamespace`), when set.
    pub namespace: Option<String>,
    pub sync_interval: i64,
    pub out_of_sync_grace: i64,
}

impl ArgoSettings {
    pub fn of(config: &Value) -> Self {
        let config = config.as_object().cloned().unwrap_or_default();
        let int = |name: &str, default: i64, min: i64| {
            config
                .get(name)
                .and_then(Value::as_i64)
                .unwrap_or(default)
                .max(min)
        };
        Self {
            server: without_userinfo(str_field(&config, "server_url").unwrap_or_default())
                .trim_end_matches('/')
                .to_owned(),
            namespace: str_field(&config, "namespace")
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            sync_interval: int("sync_interval", DEFAULT_SYNC_INTERVAL, MIN_SYNC_INTERVAL),
            out_of_sync_grace: int("out_of_sync_grace_secs", DEFAULT_OUT_OF_SYNC_GRACE, 0),
        }
    }

    /// The applications list, filtered to the namespace when one is set.
    pub fn applications_url(&self) -> String {
        let mut url = format!("{}/api/v1/applications", self.server);
        if let Some(ns) = &self.namespace {
            url.push_str("?appNamespace=");
            url.push_str(&url::form_urlencoded::byte_serialize(ns.as_bytes()).collect::<String>());
        }
        url
    }

    /// The application's page in Argo CD's web interface.
    pub fn app_link(&self, app_namespace: &str, name: &str) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        if app_namespace.is_empty() {
            format!("{}/applications/{}", self.server, enc(name))
        } else {
            format!(
                "{}/applications/{}/{}",
                self.server,
                enc(app_namespace),
                enc(name)
            )
        }
    }
}

/// How to check the server's certificate: `config.tls_verify` (default true) and the
/// credentials' `ca_bundle`.
pub fn tls_of(config: &Map<String, Value>, creds: &Map<String, Value>) -> Tls {
    Tls {
        verify: config
            .get("tls_verify")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        ca_pem: str_field(creds, "ca_bundle").map(str::to_owned),
    }
}

/// `GET /api/v1/applications` with the token: the `ApplicationList` as JSON (Argo CD does not
/// page this list unless asked to, so one request reads it all).
pub async fn list_applications(
    t: &Tester,
    config: &Map<String, Value>,
    creds: &Map<String, Value>,
) -> Result<Value, Failure> {
    let settings = ArgoSettings::of(&Value::Object(config.clone()));
    let token = str_field(creds, "token").unwrap_or_default();
    let res = t
        .outbound
        .send_with(
            Method::GET,
            &settings.applications_url(),
            Some(token),
            &tls_of(config, creds),
        )
        .await
        .map_err(|e| outbound_failure("Argo CD", e))?;
    let list = Tester::json("Argo CD", t.answered("Argo CD", res)?).await?;
    if !list.is_object() || !(list["items"].is_array() || list["items"].is_null()) {
        return Err(Failure::Failed(
            "Argo CD answered something other than an application list".into(),
        ));
    }
    Ok(list)
}

impl Provider for ArgoCd {
    fn kind(&self) -> IntegrationKind {
        IntegrationKind::ArgoCd
    }

    fn entry(&self) -> IntegrationType {
        IntegrationType {
            kind: self.kind(),
            title: "Argo CD",
            category: "Deployments",
            description: "An Argo CD API server and an API token: its applications are synced, and a broken deployment opens an incident.",
            connection_test: "GET /api/v1/applications on the server with the token",
            oauth: false,
            config_schema: object(
                json!({
                    "server_url": {"type": "string", "pattern": HTTP_URL, "maxLength": 2048,
                        "description": "The Argo CD server, e.g. https://argocd.example.com"},
                    "namespace": {"type": "string", "maxLength": 253,
                        "description": "Only the applications in this namespace (appNamespace); all when absent"},
                    "tls_verify": {"type": "boolean", "default": true,
                        "description": "Check the server's certificate (turn off for a self-signed server, or give a CA bundle)"},
                    "sync_interval": {"type": "integer", "minimum": MIN_SYNC_INTERVAL, "maximum": 86400,
                        "default": DEFAULT_SYNC_INTERVAL, "description": "Seconds between syncs"},
                    "out_of_sync_grace_secs": {"type": "integer", "minimum": 0, "maximum": 604800,
                        "default": DEFAULT_OUT_OF_SYNC_GRACE,
                        "description": "Seconds an application may stay OutOfSync before it opens an incident"},
                    "slack_channel": {"type": "string", "minLength": 1, "maxLength": 80,
                        "description": "Slack channel for its incidents; the Slack integration's alert_channel when absent"}
                }),
                &["server_url"],
            ),
            credentials_schema: object(
                json!({
                    "token": {"type": "string", "minLength": 8, "maxLength": 8192, "writeOnly": true},
                    "ca_bundle": {"type": "string", "maxLength": 65536, "writeOnly": true,
                        "description": "PEM certificates to trust for a self-signed server"}
                }),
                &["token"],
            ),
        }
    }

    fn destination_field(&self) -> Option<&'static str> {
        Some("server_url")
    }

    fn test<'a>(&'a self, t: &'a Tester, cx: &'a TestCx<'a>) -> BoxFuture<'a, Attempt> {
        Box::pin(async move {
            let list = list_applications(t, cx.config, cx.creds).await?;
            let items = list["items"].as_array().map(Vec::len).unwrap_or(0);
            Ok(json!({"applications": items}))
        })
    }

    /// Lists the applications again, by the `sync_integration` job.
    fn sync<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        integration: &'a Integration,
    ) -> BoxFuture<'a, Result<SyncOutcome, Error>> {
        Box::pin(async move {
            let job = jobs::push(
                conn,
                &SyncIntegration {
                    integration_id: integration.id,
                    due_at: None,
                },
            )
            .await?;
            Ok(SyncOutcome::Enqueued(job))
        })
    }

    fn syncs_on_interval(&self) -> bool {
        true
    }
}

/// The server URL without any `user:password@`: it goes into incident titles, links and Slack
/// messages, which people who may not read the integration see (Argo CD takes the token anyway).
fn without_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The applications of an `ApplicationList`, as RepoPal stores them. Items without a name are
/// skipped; statuses the server does not give (or spells in a way RepoPal does not know) are
/// `Unknown`.
pub fn parse_applications(list: &Value) -> Vec<Seen> {
    // The server's strings go into text and jsonb columns and unique keys: no NUL (Postgres refuses
    // it), at most 4,096 characters.
    let text = |v: &Value| {
        v.as_str()
            .map(|s| {
                s.chars()
                    .filter(|c| *c != '\0')
                    .take(4096)
                    .collect::<String>()
            })
            .filter(|s| !s.is_empty())
    };
    let time = |v: &Value| {
        v.as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    let items = list["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    items
        .iter()
        .filter_map(|app| {
            // A Kubernetes name is at most 253 characters; anything else is not an application.
            let name = text(&app["metadata"]["name"]).filter(|n| n.chars().count() <= 253)?;
            let (spec, status) = (&app["spec"], &app["status"]);
            // A multi-source application lists its sources; the first one stands for it.
            let source = if spec["source"].is_object() {
                &spec["source"]
            } else {
                &spec["sources"][0]
            };
            let op = &status["operationState"];
            let conditions: Vec<Value> = status["conditions"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .map(|c| {
                    json!({"type": text(&c["type"]), "message": text(&c["message"]),
                           "lastTransitionTime": text(&c["lastTransitionTime"])})
                })
                .collect();
            Some(Seen {
                app_namespace: text(&app["metadata"]["namespace"]).unwrap_or_default(),
                name,
                project: text(&spec["project"]),
                dest_server: text(&spec["destination"]["server"]),
                dest_namespace: text(&spec["destination"]["namespace"]),
                dest_name: text(&spec["destination"]["name"]),
                repo_url: text(&source["repoURL"]),
                path: text(&source["path"]),
                target_revision: text(&source["targetRevision"]),
                sync_revision: text(&status["sync"]["revision"]),
                sync_status: Some(AppSync::parse_lenient(status["sync"]["status"].as_str())),
                health_status: Some(AppHealth::parse_lenient(
                    status["health"]["status"].as_str(),
                )),
                conditions: Value::Array(conditions),
                operation_phase: text(&op["phase"]),
                operation_message: text(&op["message"]),
                operation_finished_at: time(&op["finishedAt"]),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strange_server_data_is_cleaned_and_credentials_stay_out_of_links() {
        let s = ArgoSettings::of(&json!({"server_url": "https://bob:hunter2@argo.example/"}));
        assert_eq!(s.server, "https://argo.example");
        let long = "a".repeat(300);
        let list = json!({"items": [
            {"metadata": {"name": "we\0b"}, "status": {
                "conditions": [{"type": "Err\0", "message": "bad\0news"}],
                "operationState": {"message": "x".repeat(10_000)}}},
            {"metadata": {"name": long}},
        ]});
        let seen = parse_applications(&list);
        assert_eq!(seen.len(), 1, "a name over 253 characters is skipped");
        assert_eq!(seen[0].name, "web");
        assert_eq!(seen[0].conditions[0]["message"], "badnews");
        assert_eq!(seen[0].conditions[0]["type"], "Err");
        assert_eq!(
            seen[0].operation_message.as_deref().map(str::len),
            Some(4096)
        );
    }

    #[test]
    fn settings_default_and_clamp() {
        let s =
            ArgoSettings::of(&json!({"server_url": "https://argo.example/", "sync_interval": 5}));
        assert_eq!(s.server, "https://argo.example");
        assert_eq!(s.sync_interval, MIN_SYNC_INTERVAL);
        assert_eq!(s.out_of_sync_grace, DEFAULT_OUT_OF_SYNC_GRACE);
        assert_eq!(
            s.applications_url(),
            "https://argo.example/api/v1/applications"
        );
        let s = ArgoSettings::of(&json!({"server_url": "https://a", "namespace": "team a"}));
        assert_eq!(
            s.applications_url(),
            "https://a/api/v1/applications?appNamespace=team+a"
        );
        assert_eq!(
            s.app_link("argocd", "guestbook"),
            "https://a/applications/argocd/guestbook"
        );
    }

    #[test]
    fn unknown_statuses_and_nameless_items() {
        let apps = parse_applications(&json!({"items": [
            {"metadata": {"name": "a"}, "status": {"health": {"status": "Weird"}}},
            {"metadata": {}},
        ]}));
        assert_eq!(apps.len(), 1);
        assert_eq!(apps[0].health_status, Some(AppHealth::Unknown));
        assert_eq!(apps[0].sync_status, Some(AppSync::Unknown));
    }
}
