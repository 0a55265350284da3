//! The App's webhook deliveries as GitHub recorded them (`GET /app/hook/deliveries`) and asking
//! GitHub to send one again (`POST /app/hook/deliveries/{id}/attempts`), both with the app JWT.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;

use super::{Auth, Github, GithubError};
use crate::Error;

/// Pages of 100 read at most per listing.
const MAX_PAGES: usize = 20;

/// One delivery attempt (`hook-delivery-item`).
#[derive(Debug, Clone, Deserialize)]
pub struct HookDelivery {
    pub id: i64,
    /// The event's id, shared by its redeliveries: RepoPal's `X-GitHub-Delivery`.
    pub guid: String,
    pub delivered_at: DateTime<Utc>,
    pub redelivery: bool,
    pub status_code: i64,
    pub event: String,
}

impl HookDelivery {
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status_code)
    }
}

fn upstream(e: GithubError) -> Error {
    Error::Upstream {
        provider: crate::domain::Upstream::Github,
        message: e.to_string(),
    }
}

impl Github {
    fn app_jwt(&self) -> Result<secrecy::SecretString, Error> {
        self.app
            .as_ref()
            .ok_or_else(|| {
                Error::rejected(
                    "github_app_not_configured",
                    "GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY are not set",
                )
            })?
            .jwt()
    }

    /// The App's delivery attempts made since `since`, newest first.
    pub async fn app_deliveries(&self, since: DateTime<Utc>) -> Result<Vec<HookDelivery>, Error> {
        let jwt = self.app_jwt()?;
        let mut all = Vec::new();
        let mut next = Some("/app/hook/deliveries?per_page=100".to_owned());
        for _ in 0..MAX_PAGES {
            let Some(path) = next.take() else { break };
            let page = self
                .client
                .get::<Vec<HookDelivery>>(&path, &Auth::Bearer(&jwt))
                .await
                .map_err(upstream)?;
            let reached_the_start = page.items.iter().any(|d| d.delivered_at < since);
            all.extend(page.items.into_iter().filter(|d| d.delivered_at >= since));
            if reached_the_start {
                break;
            }
            next = page.next;
        }
        Ok(all)
    }

    /// Asks GitHub to send delivery `id` to the App's webhook URL again (202: queued).
    pub async fn redeliver(&self, id: i64) -> Result<(), Error> {
        let jwt = self.app_jwt()?;
        let path = format!("/app/hook/deliveries/{id}/attempts");
        self.client
            .send::<serde_json::Value>(Method::POST, &path, &Auth::Bearer(&jwt), None)
            .await
            .map(|_| ())
            .map_err(upstream)
    }
}
