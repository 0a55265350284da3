//! `http`: a health probe of any URL, optionally with a bearer token; healthy when the status
//! matches. The URL is user-typed, so the probe goes only through the guarded
//! `common::net::Outbound`.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Attempt, BoxFuture, Provider, TestCx};
use crate::domain::IntegrationKind;
use crate::integrations::{
    Failure, Tester,
    catalogue::{HTTP_URL, IntegrationType, object},
    failure::{outbound_failure, status_failure},
    testers::str_field,
};

pub struct HttpProbe;

impl Provider for HttpProbe {
    fn kind(&self) -> IntegrationKind {
        IntegrationKind::Http
    }

    fn entry(&self) -> IntegrationType {
        IntegrationType {
            kind: self.kind(),
            title: "HTTP health probe",
            description: "Any URL that answers health probes, optionally with a bearer token.",
            connection_test: "the configured request; healthy when the status matches",
            oauth: false,
            config_schema: object(
                json!({
                    "url": {"type": "string", "pattern": HTTP_URL, "maxLength": 2048},
                    "method": {"enum": ["GET", "HEAD"], "default": "GET"},
                    "expected_status": {"type": "integer", "minimum": 100, "maximum": 599,
                        "description": "Healthy status; any 2xx when absent"}
                }),
                &["url"],
            ),
            credentials_schema: object(
                json!({"bearer_token": {"type": "string", "minLength": 1, "maxLength": 8192, "writeOnly": true}}),
                &[],
            ),
        }
    }

    fn destination_field(&self) -> Option<&'static str> {
        Some("url")
    }

    fn test<'a>(&'a self, t: &'a Tester, cx: &'a TestCx<'a>) -> BoxFuture<'a, Attempt> {
        Box::pin(async move {
            let (config, creds) = (cx.config, cx.creds);
            let url = str_field(config, "url").unwrap_or_default();
            let method = if str_field(config, "method") == Some("HEAD") {
                Method::HEAD
            } else {
                Method::GET
            };
            let token = str_field(creds, "bearer_token");
            let res = t
                .outbound
                .send(method, url, token)
                .await
                .map_err(|e| outbound_failure("the endpoint", e))?;
            let status = res.status();
            let expected = config.get("expected_status").and_then(Value::as_u64);
            let healthy = match expected {
                Some(code) => u64::from(status.as_u16()) == code,
                None => status.is_success(),
            };
            if healthy {
                return Ok(json!({"status": status.as_u16()}));
            }
            let mismatch = || {
                Failure::Failed(format!(
                    "the endpoint answered {status}, expected {}",
                    expected.map_or("2xx".to_owned(), |c| c.to_string())
                ))
            };
            Err(
                match status_failure("the endpoint", status, res.headers(), t.policy.interval) {
                    // Without a token of ours to refuse, a 401/403 is just the wrong answer.
                    Some(Failure::Rejected(_)) if token.is_none() => mismatch(),
                    Some(f) => f,
                    None => mismatch(),
                },
            )
        })
    }
}
