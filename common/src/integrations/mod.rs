//! Integrations: an organisation's connections to other tools (see `catalogue`), with credentials
//! sealed at rest and write-only through the API (only masked hints come back), every credential
//! change and every decrypt audit-logged, connection tests (`testers`) and health checks on a
//! schedule (`check`, `health`).

mod alert;
pub mod catalogue;
mod check;
mod credentials;
pub mod health;
mod slack_connect;
mod testers;

pub use alert::{post_alert, slack_post_error};
pub use check::{CheckRun, check_due, run_check};
pub use credentials::decrypt;
pub use slack_connect::{SlackAuthorize, SlackConnect, refresh_token};
pub use testers::{Failure, TestReport, Tester};

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    Error,
    crypto::keyring::Keyring,
    domain::{OrgId, UserId},
    identity::{ClientMeta, audit},
    jobs::{self, CheckIntegration, Enqueue},
    net::{Outbound, OutboundError},
    repo::{
        audit_logs::NewEntry,
        installations,
        integrations::{self, Integration, NewCheck, NewIntegration},
    },
    services::Services,
};
use catalogue::Part;

/// What a client sends to create an integration.
pub struct IntegrationIn {
    pub kind: String,
    pub name: String,
    pub config: Value,
    /// Checked against the type's schema here, so a malformed value is never echoed back.
    pub credentials: Value,
}

/// Who is changing an organisation's integrations, and from where (for the audit log).
#[derive(Clone, Copy)]
pub struct Acting<'a> {
    pub meta: &'a ClientMeta,
    pub org: OrgId,
    pub actor: UserId,
}

/// A change of an integration's name and/or config.
pub struct IntegrationPatch {
    pub name: Option<String>,
    pub config: Option<Value>,
}

/// New credentials for an integration, with the config they are to be tested and stored with.
pub struct CredentialsIn {
    pub credentials: Value,
    pub config: Option<Value>,
}

fn invalid(problems: &[(String, String)]) -> Error {
    Error::InvalidFields(problems.to_vec())
}

fn check_name(name: &str, problems: &mut Vec<(String, String)>) {
    let len = name.trim().chars().count();
    if !(1..=100).contains(&len) {
        problems.push(("name".into(), "must be 1 to 100 characters".into()));
    }
}

/// A `github_app` integration must name an installation linked to the organisation, and only one
/// integration may watch an installation.
async fn check_installation(
    pool: &PgPool,
    org: OrgId,
    kind: &str,
    config: &Value,
    except: Option<Uuid>,
    problems: &mut Vec<(String, String)>,
) -> Result<(), Error> {
    if kind != "github_app" || !problems.is_empty() {
        return Ok(());
    }
    let id = config["installation_id"].as_i64().unwrap_or_default();
    if installations::org_of(pool, id).await? != Some(org) {
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
async fn check_destination(outbound: &Outbound, kind: &str, config: &Value) -> Result<(), Error> {
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

/// `t` rounded up to a whole second (job run times have second precision, and a due time must
/// survive the round trip through a job payload exactly).
pub fn whole_second(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0);
    DateTime::from_timestamp(secs, 0).unwrap_or(t)
}

/// Enqueues the check due at `due` (once: the job is keyed by the due time). False when a job for
/// that due time exists already (or existed, until it is pruned).
pub async fn schedule_check(
    conn: &mut PgConnection,
    id: Uuid,
    due: DateTime<Utc>,
) -> Result<bool, Error> {
    Ok(jobs::push_with(
        conn,
        &CheckIntegration {
            integration_id: id,
            due_at: due,
        },
        Enqueue {
            run_at: Some(due),
            idempotency_key: Some(format!("check:{id}:{}", due.timestamp())),
        },
    )
    .await?
    .is_some())
}

/// Creates an integration with sealed credentials; its first check is due at once. Bad input is
/// `Error::InvalidFields`, one problem per field; a refused destination is
/// `Error::DestinationNotAllowed`.
pub async fn create(
    services: &Services,
    by: &Acting<'_>,
    input: IntegrationIn,
) -> Result<Integration, Error> {
    let (pool, keyring, outbound) = (&services.pool, &services.keyring, &services.tester.outbound);
    let Acting { meta, org, actor } = *by;
    let mut problems = Vec::new();
    check_name(&input.name, &mut problems);
    problems.extend(catalogue::validate(
        &input.kind,
        Part::Config,
        &input.config,
    ));
    if catalogue::find(&input.kind).is_some() {
        problems.extend(catalogue::validate(
            &input.kind,
            Part::Credentials,
            &input.credentials,
        ));
    }
    check_installation(pool, org, &input.kind, &input.config, None, &mut problems).await?;
    if !problems.is_empty() {
        return Err(invalid(&problems));
    }
    check_destination(outbound, &input.kind, &input.config).await?;
    let id = Uuid::new_v4();
    let creds = input.credentials.as_object().cloned().unwrap_or_default();
    let (sealed, hints) = credentials::seal(keyring, id, &creds)?;
    let due = whole_second(Utc::now());
    let mut tx = pool.begin().await?;
    let row = integrations::insert(
        &mut *tx,
        &NewIntegration {
            id,
            org,
            kind: &input.kind,
            name: input.name.trim(),
            config: &input.config,
            credentials_sealed: &sealed,
            credential_hints: &hints,
            created_by: Some(actor),
            token_expires_at: None,
            next_check_at: due,
        },
    )
    .await?;
    schedule_check(&mut tx, id, due).await?;
    audit(
        &mut *tx,
        meta,
        NewEntry::success("integration.create")
            .org(org)
            .actor(actor)
            .resource("integration", id)
            .meta(json!({"type": input.kind, "credential_fields": credentials::fields(&hints)})),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Changes the name and/or config (validated against the type's schema and, for a destination,
/// the outbound policy).
pub async fn update(
    services: &Services,
    by: &Acting<'_>,
    id: Uuid,
    patch: IntegrationPatch,
) -> Result<Integration, Error> {
    let (pool, outbound) = (&services.pool, &services.tester.outbound);
    let Acting { meta, org, actor } = *by;
    let IntegrationPatch { name, config } = patch;
    let current = integrations::find(pool, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut problems = Vec::new();
    if let Some(n) = &name {
        check_name(n, &mut problems);
    }
    if let Some(c) = &config {
        problems.extend(catalogue::validate(&current.kind, Part::Config, c));
        check_installation(pool, org, &current.kind, c, Some(id), &mut problems).await?;
        if problems.is_empty() {
            problems.extend(moves_credentials(&current, c));
        }
    }
    if !problems.is_empty() {
        return Err(invalid(&problems));
    }
    if let Some(c) = &config {
        check_destination(outbound, &current.kind, c).await?;
    }
    let mut tx = pool.begin().await?;
    let row = integrations::update_config(
        &mut *tx,
        org,
        id,
        name.as_deref().map(str::trim),
        config.as_ref(),
    )
    .await?
    .ok_or(Error::NotFound)?;
    audit(
        &mut *tx,
        meta,
        NewEntry::success("integration.update")
            .org(org)
            .actor(actor)
            .resource("integration", id)
            .meta(json!({"name": name.is_some(), "config": config.is_some()})),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The config field naming where the credentials are sent, for the types that send them to a
/// configured address.
fn destination_field(kind: &str) -> Option<&'static str> {
    match kind {
        "argocd" => Some("server_url"),
        "http" => Some("url"),
        _ => None,
    }
}

/// The origin (scheme, host, port) of a URL, as text.
fn origin(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}

/// Sending stored credentials to a new origin needs them given again (otherwise changing the URL
/// and testing would hand them to any server): the problem, when `config` does that.
fn moves_credentials(current: &Integration, config: &Value) -> Option<(String, String)> {
    let field = destination_field(&current.kind)?;
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

/// Enables (health starts afresh, checked at once) or disables (no checks, not used).
pub async fn set_enabled(
    pool: &PgPool,
    by: &Acting<'_>,
    id: Uuid,
    enabled: bool,
) -> Result<Integration, Error> {
    let Acting { meta, org, actor } = *by;
    let due = whole_second(Utc::now());
    let mut tx = pool.begin().await?;
    let row = integrations::set_enabled(&mut *tx, org, id, enabled, enabled.then_some(due))
        .await?
        .ok_or(Error::NotFound)?;
    // `reauth_required` stays unchecked until new credentials arrive.
    if let Some(at) = row.next_check_at {
        schedule_check(&mut tx, id, at).await?;
    }
    audit(
        &mut *tx,
        meta,
        NewEntry::success(if enabled {
            "integration.enable"
        } else {
            "integration.disable"
        })
        .org(org)
        .actor(actor)
        .resource("integration", id),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes an integration, its credentials and its health history.
pub async fn delete(pool: &PgPool, by: &Acting<'_>, id: Uuid) -> Result<(), Error> {
    let Acting { meta, org, actor } = *by;
    let mut tx = pool.begin().await?;
    if !integrations::delete(&mut *tx, org, id).await? {
        return Err(Error::NotFound);
    }
    audit(
        &mut *tx,
        meta,
        NewEntry::success("integration.delete")
            .org(org)
            .actor(actor)
            .resource("integration", id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Runs the integration's connection test now with its stored credentials, and records it in the
/// health history (a manual test does not move the health state).
pub async fn test_now(services: &Services, by: &Acting<'_>, id: Uuid) -> Result<TestReport, Error> {
    let (tester, pool) = (&services.tester, &services.pool);
    let Acting { meta, org, actor } = *by;
    let row = integrations::sealed(pool, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    let creds = decrypt(pool, &services.keyring, &row, "connection_test").await?;
    let report = tester.test(org, &row.kind, &row.config, &creds).await;
    let mut tx = pool.begin().await?;
    integrations::count_calls(&mut *tx, org, id, report.attempts, report.errors).await?;
    integrations::insert_check(
        &mut *tx,
        &NewCheck {
            integration: id,
            org,
            due_at: None,
            ok: report.ok,
            latency_ms: report.latency_ms,
            attempts: report.attempts,
            error: report.error().as_deref(),
            details: &report.details,
            action: report.action.as_deref(),
            status_before: &row.status,
            status_after: &row.status,
        },
    )
    .await?;
    audit(
        &mut *tx,
        meta,
        NewEntry::success("integration.test")
            .org(org)
            .actor(actor)
            .resource("integration", id)
            .meta(json!({"ok": report.ok, "error": report.error()})),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// Replaces the credentials, but only after they pass the connection test: when the test fails
/// the old credentials stay (400 `credentials_test_failed`). Success resets the health to
/// `active` (also out of `reauth_required` and `disabled`). A new `config` may come with them (it is
/// what they are tested against, and is stored with them).
pub async fn replace_credentials(
    services: &Services,
    by: &Acting<'_>,
    id: Uuid,
    input: CredentialsIn,
) -> Result<(Integration, TestReport), Error> {
    let (tester, pool) = (&services.tester, &services.pool);
    let Acting { meta, org, actor } = *by;
    let CredentialsIn {
        credentials: new,
        config,
    } = input;
    let current = integrations::find(pool, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut problems = catalogue::validate(&current.kind, Part::Credentials, &new);
    if let Some(c) = &config {
        problems.extend(catalogue::validate(&current.kind, Part::Config, c));
        check_installation(pool, org, &current.kind, c, Some(id), &mut problems).await?;
    }
    if !problems.is_empty() {
        return Err(invalid(&problems));
    }
    if let Some(c) = &config {
        check_destination(&tester.outbound, &current.kind, c).await?;
    }
    let creds = new.as_object().cloned().unwrap_or_default();
    let report = tester
        .test(
            org,
            &current.kind,
            config.as_ref().unwrap_or(&current.config),
            &creds,
        )
        .await;
    integrations::count_calls(pool, org, id, report.attempts, report.errors).await?;
    let fields = credentials::fields(&credentials::hints(&creds));
    if !report.ok {
        let error = report.error().unwrap_or_default();
        crate::repo::audit_logs::insert(
            pool,
            &NewEntry::failure("integration.credentials_update")
                .org(org)
                .actor(actor)
                .resource("integration", id)
                .meta(json!({"fields": fields, "error": error})),
        )
        .await?;
        return Err(Error::rejected(
            "credentials_test_failed",
            format!(
                "the new credentials failed the connection test ({error}); the old ones are kept"
            ),
        ));
    }
    let (sealed, hints) = credentials::seal(&services.keyring, id, &creds)?;
    let due = whole_second(
        Utc::now() + chrono::Duration::from_std(tester.policy.interval).unwrap_or_default(),
    );
    let mut tx = pool.begin().await?;
    integrations::lock(&mut tx, org, id).await?;
    let row = integrations::replace_credentials(
        &mut *tx,
        org,
        id,
        &integrations::NewCredentials {
            config: config.as_ref(),
            sealed: &sealed,
            hints: &hints,
            token_expires_at: None,
            refreshed: false,
            next_check_at: due,
        },
    )
    .await?
    .ok_or(Error::NotFound)?;
    if row.enabled {
        schedule_check(&mut tx, id, due).await?;
    }
    audit(
        &mut *tx,
        meta,
        NewEntry::success("integration.credentials_update")
            .org(org)
            .actor(actor)
            .resource("integration", id)
            .meta(json!({"fields": fields, "tested": true, "config": config.is_some()})),
    )
    .await?;
    tx.commit().await?;
    Ok((row, report))
}

/// A usable Slack bot token and where it came from.
pub struct SlackToken {
    pub integration: Uuid,
    pub token: SecretString,
    /// The sealed credentials it was read from: a refusal of this token marks the integration only
    /// while they are still the stored ones.
    pub sealed: Option<String>,
}

/// The organisation's usable Slack bot token, decrypted (and the decrypt audit-logged with its
/// purpose), or `None` when no Slack integration is usable.
pub async fn slack_bot_token(
    pool: &PgPool,
    keyring: &Keyring,
    org: OrgId,
    purpose: &str,
) -> Result<Option<SlackToken>, Error> {
    match integrations::usable_of_kind(pool, org, "slack").await? {
        Some(row) => bot_token_of(pool, keyring, &row, purpose).await.map(Some),
        None => Ok(None),
    }
}

/// The bot token of this Slack integration, decrypted (audit-logged with its purpose).
pub async fn bot_token_of(
    pool: &PgPool,
    keyring: &Keyring,
    row: &integrations::Sealed,
    purpose: &str,
) -> Result<SlackToken, Error> {
    let creds: Map<String, Value> = decrypt(pool, keyring, row, purpose).await?;
    let token = creds
        .get("bot_token")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Invalid("the Slack integration has no bot_token".into()))?;
    Ok(SlackToken {
        integration: row.id,
        token: SecretString::from(token.to_owned()),
        sealed: row.credentials_sealed.clone(),
    })
}

/// A provider refused the credentials outside a check (a token refresh, a Slack post): the
/// integration becomes `reauth_required` (no more checks), and the transition is audit-logged.
/// With `refused_sealed`, only while those are still the stored credentials (new ones may have
/// arrived meanwhile).
pub async fn mark_refused(
    conn: &mut PgConnection,
    org: OrgId,
    id: Uuid,
    refused_sealed: Option<&str>,
    error: &str,
) -> Result<(), Error> {
    if let Some(before) =
        integrations::mark_reauth_required(&mut *conn, org, id, refused_sealed, error).await?
    {
        crate::repo::audit_logs::insert(
            &mut *conn,
            &NewEntry::success("integration.health_transition")
                .org(org)
                .resource("integration", id)
                .meta(json!({"from": before, "to": health::REAUTH_REQUIRED, "error": error})),
        )
        .await?;
    }
    Ok(())
}
