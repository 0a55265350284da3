//! Checks of an integration's name, installation and destination before it is stored.

use serde_json::Value;
use sqlx::PgPool;

use super::providers;
use crate::{
    Error,
    domain::{IntegrationId, IntegrationKind, OrgId},
    net::{Outbound, OutboundError},
    repo::{
        installations,
        integrations::{self, Integration},
    },
};

pub(super) fn invalid(problems: &[(String, String)]) -> Error {
    Error::InvalidFields(problems.to_vec())
}

pub(super) fn check_name(name: &str, problems: &mut Vec<(String, String)>) {
    // The length as sent (the document's `maxLength`); then not only whitespace.
    if name.trim().is_empty() || name.chars().count() > 100 {
        problems.push(("name".into(), "must be 1 to 100 characters".into()));
    }
}

/// The config an integration of the organisation is to have: a new one's (`id` `None`), or an
/// existing one's.
#[derive(Clone, Copy)]
pub(super) struct ConfigFor<'a> {
    pub org: OrgId,
    pub kind: IntegrationKind,
    pub id: Option<IntegrationId>,
    pub config: &'a Value,
}

impl<'a> ConfigFor<'a> {
    /// `config` as the new config of the stored integration `current`.
    pub fn of(current: &Integration, config: &'a Value) -> Self {
        Self {
            org: current.org_id,
            kind: current.kind,
            id: Some(current.id),
            config,
        }
    }
}

/// A `github_app` integration must name an installation linked to the organisation, and only one
/// integration may watch an installation.
pub(super) async fn check_installation(
    pool: &PgPool,
    target: ConfigFor<'_>,
    problems: &mut Vec<(String, String)>,
) -> Result<(), Error> {
    let ConfigFor {
        org,
        kind,
        id: except,
        config,
    } = target;
    if !providers::of(kind).links_installation() || !problems.is_empty() {
        return Ok(());
    }
    let id = config["installation_id"].as_i64().unwrap_or_default();
    if installations::org_of(pool, crate::domain::InstallationId(id)).await? != Some(org) {
        problems.push((
            "config.installation_id".into(),
            "is not an installation linked to this organisation".into(),
        ));
    } else if integrations::for_installation(pool, org, id)
        .await?
        .is_some_and(|found| Some(found) != except)
    {
        problems.push((
            "config.installation_id".into(),
            "already has an integration (created when it was linked)".into(),
        ));
    }
    Ok(())
}

/// A destination in `config` that the outbound policy refuses is 422 `destination_not_allowed`
/// naming the field (for the types that send requests to a configured address). Runs after the
/// schema checks passed.
pub(super) async fn check_destination(
    outbound: &Outbound,
    kind: IntegrationKind,
    config: &Value,
) -> Result<(), Error> {
    let Some(field) = destination_field(kind) else {
        return Ok(());
    };
    let Some(url) = config[field].as_str() else {
        return Ok(());
    };
    let field = format!("config.{field}");
    match outbound.check_destination(url).await {
        Ok(()) => Ok(()),
        Err(OutboundError::NotAllowed(message)) => {
            Err(Error::DestinationNotAllowed { field, message })
        }
        Err(e) => Err(invalid(&[(field, e.to_string())])),
    }
}

/// The config field naming where the credentials are sent, for the types that send them to a
/// configured address.
pub(super) fn destination_field(kind: IntegrationKind) -> Option<&'static str> {
    providers::of(kind).destination_field()
}

/// The origin (scheme, host, port) of a URL, as text.
pub(super) fn origin(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}

/// Sending stored credentials to a new origin needs them given again (otherwise changing the URL
/// and testing would hand them to any server): the problem, when `config` does that.
pub(super) fn moves_credentials(current: &Integration, config: &Value) -> Option<(String, String)> {
    let field = destination_field(current.kind)?;
    let has_credentials = current
        .credential_hints
        .as_object()
        .is_some_and(|h| !h.is_empty());
    let before = origin(current.config[field].as_str().unwrap_or_default());
    let after = origin(config[field].as_str().unwrap_or_default());
    (has_credentials && before != after).then(|| {
        (
            format!("config.{field}"),
            "a new origin needs the credentials again: send config and credentials to PATCH …/credentials"
                .into(),
        )
    })
}
