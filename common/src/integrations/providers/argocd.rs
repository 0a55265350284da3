//! `argocd`: an Argo CD API server and an API token; tested with `GET /api/v1/applications` on the
//! user-typed server, only through the guarded `common::net::Outbound`.

use reqwest::Method;
use serde_json::json;

use super::{Attempt, BoxFuture, Provider, TestCx};
use crate::domain::IntegrationKind;
use crate::integrations::{
    Tester,
    catalogue::{HTTP_URL, IntegrationType, object},
    failure::outbound_failure,
    testers::str_field,
};

pub struct ArgoCd;

impl Provider for ArgoCd {
    fn kind(&self) -> IntegrationKind {
        IntegrationKind::ArgoCd
    }

    fn entry(&self) -> IntegrationType {
        IntegrationType {
            kind: self.kind(),
            title: "Argo CD",
            description: "An Argo CD API server and an API token.",
            connection_test: "GET /api/v1/applications on the server with the token",
            oauth: false,
            config_schema: object(
                json!({"server_url": {"type": "string", "pattern": HTTP_URL, "maxLength": 2048,
                    "description": "The Argo CD server, e.g. https://argocd.example.com"}}),
                &["server_url"],
            ),
            credentials_schema: object(
                json!({"token": {"type": "string", "minLength": 8, "maxLength": 8192, "writeOnly": true}}),
                &["token"],
            ),
        }
    }

    fn destination_field(&self) -> Option<&'static str> {
        Some("server_url")
    }

    fn test<'a>(&'a self, t: &'a Tester, cx: &'a TestCx<'a>) -> BoxFuture<'a, Attempt> {
        Box::pin(async move {
            let (config, creds) = (cx.config, cx.creds);
            let server = str_field(config, "server_url")
                .unwrap_or_default()
                .trim_end_matches('/');
            let token = str_field(creds, "token").unwrap_or_default();
            let res = t
                .outbound
                .send(
                    Method::GET,
                    &format!("{server}/api/v1/applications"),
                    Some(token),
                )
                .await
                .map_err(|e| outbound_failure("Argo CD", e))?;
            let list = Tester::json("Argo CD", t.answered("Argo CD", res)?).await?;
            let items = list["items"].as_array().map(Vec::len).unwrap_or(0);
            Ok(json!({"applications": items}))
        })
    }
}
