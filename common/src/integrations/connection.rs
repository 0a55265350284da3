//! Testing an integration now, and replacing its credentials only after they pass the test.

use crate::domain::{AuditAction, AuditResource};
use chrono::Utc;
use serde_json::json;

use super::{
    Acting, CredentialsIn, TestReport,
    catalogue::{self, Part},
    credentials, decrypt,
    schedule::{schedule_check, whole_second},
    validate::{ConfigFor, check_destination, check_installation, invalid},
};
use crate::{
    Error,
    domain::IntegrationId,
    identity::audit,
    repo::{
        audit_logs::NewEntry,
        integrations::{self, Integration, NewCheck},
    },
    services::Services,
};

/// Runs the integration's connection test now with its stored credentials, and records it in the
/// health history (a manual test does not move the health state).
pub async fn test_now(
    services: &Services,
    by: &Acting<'_>,
    id: IntegrationId,
) -> Result<TestReport, Error> {
    let (tester, pool) = (&services.tester, &services.pool);
    let Acting { meta, org, actor } = *by;
    let row = integrations::sealed(pool, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    let creds = decrypt(pool, &services.keyring, &row, "connection_test").await?;
    let report = tester.test(org, row.kind, &row.config, &creds).await;
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
            action: report.action,
            status_before: row.status,
            status_after: row.status,
        },
    )
    .await?;
    audit(
        &mut *tx,
        meta,
        NewEntry::success(AuditAction::IntegrationTest)
            .org(org)
            .actor(actor)
            .resource(AuditResource::Integration, id)
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
    id: IntegrationId,
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
    let mut problems = catalogue::validate(current.kind, Part::Credentials, &new);
    if let Some(c) = &config {
        problems.extend(catalogue::validate(current.kind, Part::Config, c));
        check_installation(pool, ConfigFor::of(&current, c), &mut problems).await?;
    }
    if !problems.is_empty() {
        return Err(invalid(&problems));
    }
    if let Some(c) = &config {
        check_destination(&tester.outbound, current.kind, c).await?;
    }
    let creds = new.as_object().cloned().unwrap_or_default();
    let report = tester
        .test(
            org,
            current.kind,
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
            &NewEntry::failure(AuditAction::IntegrationCredentialsUpdate)
                .org(org)
                .actor(actor)
                .resource(AuditResource::Integration, id)
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
        NewEntry::success(AuditAction::IntegrationCredentialsUpdate)
            .org(org)
            .actor(actor)
            .resource(AuditResource::Integration, id)
            .meta(json!({"fields": fields, "tested": true, "config": config.is_some()})),
    )
    .await?;
    tx.commit().await?;
    Ok((row, report))
}
