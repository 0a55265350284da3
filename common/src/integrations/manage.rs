//! Creating, changing, enabling, disabling and deleting integrations (audit-logged).

use crate::domain::{AuditAction, AuditResource};
use chrono::Utc;
use serde_json::{Value, json};
use sqlx::PgPool;

use super::{
    catalogue::{self, Part},
    credentials,
    providers::{self, SyncOutcome},
    schedule::{schedule_check, whole_second},
    validate::{
        ConfigFor, check_destination, check_installation, check_name, invalid, moves_credentials,
    },
};
use crate::{
    Error,
    domain::{IntegrationId, IntegrationKind, OrgId},
    identity::audit,
    repo::{
        audit_logs::NewEntry,
        integrations::{self, Integration, NewIntegration, Switch},
    },
    services::Services,
};

/// What a client sends to create an integration.
pub struct IntegrationIn {
    pub kind: String,
    pub name: String,
    pub config: Value,
    /// Checked against the type's schema here, so a malformed value is never echoed back.
    pub credentials: Value,
}

/// Who is changing an organisation's integrations, and from where (for the audit log).
pub use crate::identity::Acting;

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

/// Creates an integration with sealed credentials; its first check is due at once. Bad input is
/// `Error::InvalidFields`, one problem per field; a refused destination is
/// `Error::DestinationNotAllowed`.
pub async fn create(
    services: &Services,
    by: &Acting<'_>,
    input: IntegrationIn,
) -> Result<Integration, Error> {
    let (pool, keyring) = (&services.pool, &services.keyring);
    let Acting { meta, org, actor } = *by;
    let kind = check_input(services, org, &input).await?;
    let id = IntegrationId::new();
    let creds = input.credentials.as_object().cloned().unwrap_or_default();
    let (sealed, hints) = credentials::seal(keyring, id, &creds)?;
    let due = whole_second(Utc::now());
    let mut tx = pool.begin().await?;
    let row = integrations::insert(
        &mut *tx,
        &NewIntegration {
            id,
            org,
            kind,
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
        NewEntry::success(AuditAction::IntegrationCreate)
            .org(org)
            .actor(actor)
            .resource(AuditResource::Integration, id)
            .meta(json!({"type": kind, "credential_fields": credentials::fields(&hints)})),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The checks a new integration passes before it is tested or stored: its name, both parts against
/// the type's schemas (one problem per field), the App installation it names and, for a
/// user-typed destination, the outbound policy.
pub(super) async fn check_input(
    services: &Services,
    org: OrgId,
    input: &IntegrationIn,
) -> Result<IntegrationKind, Error> {
    let mut problems = Vec::new();
    check_name(&input.name, &mut problems);
    let kind = match catalogue::parse_kind(&input.kind) {
        Ok(kind) => kind,
        Err(problem) => {
            problems.push(problem);
            return Err(invalid(&problems));
        }
    };
    problems.extend(catalogue::validate(kind, Part::Config, &input.config));
    problems.extend(catalogue::validate(
        kind,
        Part::Credentials,
        &input.credentials,
    ));
    let target = ConfigFor {
        org,
        kind,
        id: None,
        config: &input.config,
    };
    check_installation(&services.pool, target, &mut problems).await?;
    if !problems.is_empty() {
        return Err(invalid(&problems));
    }
    check_destination(&services.tester.outbound, kind, &input.config).await?;
    Ok(kind)
}

/// Changes the name and/or config (validated against the type's schema and, for a destination,
/// the outbound policy).
pub async fn update(
    services: &Services,
    by: &Acting<'_>,
    id: IntegrationId,
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
        problems.extend(catalogue::validate(current.kind, Part::Config, c));
        check_installation(pool, ConfigFor::of(&current, c), &mut problems).await?;
        if problems.is_empty() {
            problems.extend(moves_credentials(&current, c));
        }
    }
    if !problems.is_empty() {
        return Err(invalid(&problems));
    }
    if let Some(c) = &config {
        check_destination(outbound, current.kind, c).await?;
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
        NewEntry::success(AuditAction::IntegrationUpdate)
            .org(org)
            .actor(actor)
            .resource(AuditResource::Integration, id)
            .meta(json!({"name": name.is_some(), "config": config.is_some()})),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Turning an integration on or off through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggle {
    /// Used again; health starts afresh, checked at once.
    Enable,
    /// Not used, not checked.
    Disable,
}

/// Enables or disables an integration.
pub async fn set_enabled(
    pool: &PgPool,
    by: &Acting<'_>,
    id: IntegrationId,
    toggle: Toggle,
) -> Result<Integration, Error> {
    let Acting { meta, org, actor } = *by;
    let (switch, action) = match toggle {
        Toggle::Enable => (
            Switch::On {
                next_check_at: whole_second(Utc::now()),
            },
            AuditAction::IntegrationEnable,
        ),
        Toggle::Disable => (Switch::Off, AuditAction::IntegrationDisable),
    };
    let mut tx = pool.begin().await?;
    let row = integrations::set_enabled(&mut *tx, org, id, switch)
        .await?
        .ok_or(Error::NotFound)?;
    // `reauth_required` stays unchecked until new credentials arrive.
    if let Some(at) = row.next_check_at {
        schedule_check(&mut tx, id, at).await?;
    }
    audit(
        &mut *tx,
        meta,
        NewEntry::success(action)
            .org(org)
            .actor(actor)
            .resource(AuditResource::Integration, id),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes an integration, its credentials and its health history.
pub async fn delete(pool: &PgPool, by: &Acting<'_>, id: IntegrationId) -> Result<(), Error> {
    let Acting { meta, org, actor } = *by;
    let mut tx = pool.begin().await?;
    if !integrations::delete(&mut *tx, org, id).await? {
        return Err(Error::NotFound);
    }
    audit(
        &mut *tx,
        meta,
        NewEntry::success(AuditAction::IntegrationDelete)
            .org(org)
            .actor(actor)
            .resource(AuditResource::Integration, id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Syncs an integration: what that means is its provider's (`Provider::sync`); the job it
/// enqueues, if any, commits with the audit entry.
pub async fn sync(pool: &PgPool, by: &Acting<'_>, id: IntegrationId) -> Result<SyncOutcome, Error> {
    let Acting { meta, org, actor } = *by;
    let mut tx = pool.begin().await?;
    let row = integrations::find(&mut *tx, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    let outcome = providers::of(row.kind).sync(&mut tx, &row).await?;
    let job = match &outcome {
        SyncOutcome::Enqueued(job) => {
            crate::repo::jobs::record_for_org(&mut *tx, org, job, "integration_sync").await?;
            Some(job.to_string())
        }
        SyncOutcome::NothingToSync(_) => None,
    };
    audit(
        &mut *tx,
        meta,
        NewEntry::success(AuditAction::IntegrationSync)
            .org(org)
            .actor(actor)
            .resource(AuditResource::Integration, id)
            .meta(json!({"type": row.kind, "job_id": job})),
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}
