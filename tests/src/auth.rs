//! Helpers for driving the auth API: register, login, authorised requests.

use axum::http::Method;
use serde_json::{Value, json};

use crate::{TestApp, http::TestResponse};

pub const PASSWORD: &str = "Correct-horse-9";

/// A signed-in user as the API returned it.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
    pub body: Value,
}

impl Session {
    fn from_auth(body: &Value) -> Self {
        let data = &body["data"];
        Self {
            user_id: data["user"]["id"].as_str().expect("user id").to_owned(),
            email: data["user"]["email"].as_str().expect("email").to_owned(),
            access_token: data["tokens"]["access_token"]
                .as_str()
                .expect("access token")
                .to_owned(),
            refresh_token: data["tokens"]["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_owned(),
            body: body.clone(),
        }
    }

    /// The id of the first organisation the user belonged to at sign-in.
    pub fn first_org(&self) -> String {
        self.body["data"]["user"]["organizations"][0]["id"]
            .as_str()
            .expect("an organisation")
            .to_owned()
    }
}

impl TestApp {
    /// `who` accepts the invitation `token`: 200.
    pub async fn accept_invitation(&self, who: &Session, token: &str) {
        let _: Value = self
            .caller(Some(who))
            .call(
                Method::POST,
                "/api/v1/invitations/accept",
                Some(json!({"token": token})),
                200,
            )
            .await;
    }

    pub async fn register(&self, email: &str, org: Option<&str>) -> Session {
        let mut body = json!({"email": email, "password": PASSWORD, "full_name": "Test User"});
        if let Some(org) = org {
            body["organization_name"] = json!(org);
        }
        let res = self
            .caller(None)
            .send(Method::POST, "/api/v1/auth/register", Some(body))
            .await;
        assert_eq!(res.status, 201, "register: {}", res.text());
        Session::from_auth(&res.json())
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.login_from(crate::app::DEFAULT_CLIENT_IP, email, password)
            .await
    }

    pub async fn login_from(&self, ip: &str, email: &str, password: &str) -> TestResponse {
        let body = json!({"email": email, "password": password});
        self.caller(None)
            .from_ip(ip)
            .send(Method::POST, "/api/v1/auth/login", Some(body))
            .await
    }

    /// Signs in with a given password and returns the access token.
    pub async fn login_ok_with(&self, email: &str, password: &str) -> String {
        let res = self.login(email, password).await;
        assert_eq!(res.status, 200, "login: {}", res.text());
        Session::from_auth(&res.json()).access_token
    }

    pub async fn login_ok(&self, email: &str) -> Session {
        let res = self.login(email, PASSWORD).await;
        assert_eq!(res.status, 200, "login: {}", res.text());
        Session::from_auth(&res.json())
    }

    /// The newest mail to `to` from the outbox, and the token in it (`Or POST the token … : TOKEN`).
    pub async fn mailed_token(&self, to: &str) -> String {
        let body: String = sqlx::query_scalar(
            "SELECT body FROM email_outbox WHERE to_address = $1 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(to)
        .fetch_one(&self.db.pool)
        .await
        .expect("a mail in the outbox");
        body.lines()
            .find_map(|l| {
                l.rsplit_once(": ")
                    .map(|(_, t)| t.trim().to_owned())
                    .filter(|t| t.starts_with("rp"))
            })
            .expect("a token in the mail")
    }
}
