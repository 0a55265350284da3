//! Tenancy in the repository layer (a call with another organisation's id finds and changes
//! nothing) and the one table mapping unique constraints to 409 conflicts.

use chrono::{Duration, Utc};
use common::{
    Error,
    domain::{Email, HealthStatus, IntegrationId, IntegrationKind},
    repo::{
        conflicts::CONFLICTS,
        integrations::{self, CheckApplied, NewCredentials, NewIntegration},
        orgs, users,
    },
};
use repopal_tests::db::TestDb;
use serde_json::json;

async fn org(db: &TestDb, slug: &str) -> common::domain::OrgId {
    let mut conn = db.pool.acquire().await.expect("as expected");
    orgs::insert(&mut conn, slug, slug)
        .await
        .expect("as expected")
        .id
}

fn new_integration<'a>(
    id: IntegrationId,
    org: common::domain::OrgId,
    name: &'a str,
    config: &'a serde_json::Value,
    hints: &'a serde_json::Value,
) -> NewIntegration<'a> {
    NewIntegration {
        id,
        org,
        kind: IntegrationKind::Http,
        name,
        config,
        credentials_sealed: "sealed-a",
        credential_hints: hints,
        created_by: None,
        token_expires_at: None,
        next_check_at: fixed_due(),
    }
}

/// A due time far ahead, so nothing in the test runs a check.
fn fixed_due() -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp(4_000_000_000, 0).expect("as expected")
}

/// Every integration function that takes an id is scoped by organisation: org B naming org A's
/// integration reads nothing and writes nothing.
#[tokio::test]
async fn integration_calls_with_another_orgs_id_find_and_change_nothing() {
    let db = TestDb::new().await;
    let (a, b) = (org(&db, "tenant-a").await, org(&db, "tenant-b").await);
    let (config, hints) = (json!({"url": "https://a.example"}), json!({}));
    let id = IntegrationId::new();
    integrations::insert(&db.pool, &new_integration(id, a, "A's", &config, &hints))
        .await
        .expect("as expected");
    let pool = &db.pool;

    assert_eq!(
        integrations::org_of(pool, id).await.expect("as expected"),
        Some(a)
    );
    assert!(
        integrations::sealed(pool, b, id)
            .await
            .expect("as expected")
            .is_none()
    );
    let mut tx = pool.begin().await.expect("as expected");
    assert!(
        integrations::lock(&mut tx, b, id)
            .await
            .expect("as expected")
            .is_none()
    );
    tx.commit().await.expect("as expected");
    let later = Utc::now() + Duration::hours(1);
    let creds = NewCredentials {
        config: Some(&json!({"url": "https://evil.example"})),
        sealed: "sealed-b",
        hints: &json!({"token": "…b"}),
        token_expires_at: Some(later),
        next_check_at: later,
    };
    assert!(
        integrations::replace_credentials(pool, b, id, &creds)
            .await
            .expect("as expected")
            .is_none()
    );
    let check = CheckApplied {
        ok: false,
        status: HealthStatus::Error,
        consecutive_failures: 9,
        failing_since: Some(later),
        last_error: Some("forged"),
        latency_ms: 1,
        next_check_at: Some(later),
        api_calls: 5,
        api_errors: 5,
    };
    integrations::apply_check(pool, b, id, &check)
        .await
        .expect("as expected");
    integrations::count_calls(pool, b, id, 7, 7)
        .await
        .expect("as expected");
    let refreshed = integrations::RefreshedCredentials {
        sealed: "sealed-b",
        hints: &json!({}),
        token_expires_at: Some(later),
    };
    integrations::store_refreshed(pool, b, id, &refreshed)
        .await
        .expect("as expected");
    integrations::merge_config(pool, b, id, &json!({"url": "https://evil.example"}))
        .await
        .expect("as expected");
    integrations::set_next_check(pool, b, id, later)
        .await
        .expect("as expected");

    // Org A's row is as it was.
    let row = integrations::sealed(pool, a, id)
        .await
        .expect("as expected")
        .expect("as expected");
    assert_eq!(row.credentials_sealed.as_deref(), Some("sealed-a"));
    assert_eq!(row.config, config);
    assert_eq!(row.status, HealthStatus::Active);
    assert_eq!(row.consecutive_failures, 0);
    assert_eq!(row.next_check_at, Some(fixed_due()));
    assert_eq!(row.token_expires_at, None);
    assert_eq!(row.last_refreshed_at, None);
    let full = integrations::find(pool, a, id)
        .await
        .expect("as expected")
        .expect("as expected");
    assert_eq!((full.api_calls, full.api_errors), (0, 0));
    assert_eq!(full.last_error, None);

    // And the same calls with org A's id do reach it (the filter is not simply always false).
    integrations::count_calls(pool, a, id, 2, 1)
        .await
        .expect("as expected");
    integrations::set_next_check(pool, a, id, later)
        .await
        .expect("as expected");
    let full = integrations::find(pool, a, id)
        .await
        .expect("as expected")
        .expect("as expected");
    assert_eq!((full.api_calls, full.api_errors), (2, 1));
    assert!(
        integrations::sealed(pool, a, id)
            .await
            .expect("as expected")
            .is_some()
    );
}

/// Every constraint in the conflict table names a unique index that exists (a typo would
/// silently turn its 409 into a 500).
#[tokio::test]
async fn every_mapped_constraint_is_a_unique_index_of_the_schema() {
    let db = TestDb::new().await;
    for (name, code, _) in CONFLICTS {
        let unique: Option<bool> =
            sqlx::query_scalar("SELECT i.indisunique FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1")
                .bind(*name)
                .fetch_optional(&db.pool)
                .await
                .expect("as expected");
        assert_eq!(unique, Some(true), "{name} ({code}) is a unique index");
    }
}

fn conflict_code(e: Error) -> &'static str {
    match e {
        Error::Conflict { code, .. } => code,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// Duplicates through the repository functions come back as their documented 409 codes; a
/// unique violation of a constraint not in the table (a primary key) stays a database error (500).
#[tokio::test]
async fn unique_violations_map_to_their_codes_and_unknown_ones_stay_errors() {
    let db = TestDb::new().await;
    let mut conn = db.pool.acquire().await.expect("as expected");
    let a = org(&db, "dup-org").await;
    let e = orgs::insert(&mut conn, "dup-org", "again")
        .await
        .expect_err("a duplicate is refused");
    assert_eq!(conflict_code(e), "slug_taken");

    let email = Email::parse("dup@example.com").expect("as expected");
    users::insert(&mut conn, &email, "One", None, users::EmailProof::Proven)
        .await
        .expect("as expected");
    let e = users::insert(&mut conn, &email, "Two", None, users::EmailProof::Proven)
        .await
        .expect_err("a duplicate is refused");
    assert_eq!(conflict_code(e), "email_taken");

    let (config, hints) = (json!({"url": "https://a.example"}), json!({}));
    let id = IntegrationId::new();
    integrations::insert(&db.pool, &new_integration(id, a, "same", &config, &hints))
        .await
        .expect("as expected");
    let e = integrations::insert(
        &db.pool,
        &new_integration(IntegrationId::new(), a, "same", &config, &hints),
    )
    .await
    .expect_err("a duplicate is refused");
    assert_eq!(conflict_code(e), "integration_name_taken");

    let e = integrations::insert(&db.pool, &new_integration(id, a, "other", &config, &hints))
        .await
        .expect_err("a duplicate is refused");
    assert!(
        matches!(&e, Error::Database(_)) && e.unique_constraint() == Some("integrations_pkey"),
        "an unmapped constraint is not a conflict: {e:?}"
    );
}
