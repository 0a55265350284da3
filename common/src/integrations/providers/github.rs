//! `github`: GitHub through a personal access token or an OAuth token; tested with `GET /user`.

use reqwest::Method;
use secrecy::SecretString;
use serde_json::json;

use super::{Attempt, BoxFuture, Provider, TestCx};
use crate::domain::IntegrationKind;
use crate::integrations::{
    Tester,
    catalogue::{IntegrationType, object},
    testers::str_field,
};

pub struct GithubToken;

impl Provider for GithubToken {
    fn kind(&self) -> IntegrationKind {
        IntegrationKind::Github
    }

    fn entry(&self) -> IntegrationType {
        IntegrationType {
            kind: self.kind(),
            title: "GitHub (token)",
            description: "GitHub through a personal access token or an OAuth token.",
            connection_test: "GET /user on the GitHub API with the token",
            oauth: false,
            config_schema: object(json!({}), &[]),
            credentials_schema: object(
                json!({"token": {"type": "string", "description": "A GitHub token (ghp_…, github_pat_…, gho_…, ghu_…)",
                    "pattern": "^(ghp_|github_pat_|gho_|ghu_)[A-Za-z0-9_]{8,}$", "maxLength": 255, "writeOnly": true}}),
                &["token"],
            ),
        }
    }

    fn test<'a>(&'a self, t: &'a Tester, cx: &'a TestCx<'a>) -> BoxFuture<'a, Attempt> {
        Box::pin(async move {
            let token =
                SecretString::from(str_field(cx.creds, "token").unwrap_or_default().to_owned());
            let res = t
                .send("GitHub", t.github_request(Method::GET, "/user", &token))
                .await?;
            let scopes = res
                .headers()
                .get("x-oauth-scopes")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let user = Tester::json("GitHub", res).await?;
            Ok(json!({"login": user["login"], "account_id": user["id"], "scopes": scopes}))
        })
    }
}
