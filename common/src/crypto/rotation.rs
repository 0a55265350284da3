//! Key rotation: re-seals every sealed value that is not on the active key, in batches, resumable
//! (a rerun picks up what is left), never losing a value: each row is opened with its old key and
//! written back only if unchanged meanwhile. A value that does not open is reported, not dropped.

use crate::domain::AuditAction;
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;

use super::keyring::{Binding, Keyring};
use crate::{
    Error,
    identity::{ClientMeta, audit},
    repo::{
        audit_logs::NewEntry,
        sealed::{self, SealedColumn},
    },
};

/// What a rotation did, per column.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RotationReport {
    pub active_key_id: String,
    pub columns: Vec<ColumnReport>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ColumnReport {
    pub table: &'static str,
    pub column: &'static str,
    pub resealed: u64,
    /// Values that could not be opened (tampered, or sealed with a key not in the keyring).
    pub failed: u64,
    /// Values still not on the active key after this run.
    pub remaining: i64,
}

impl RotationReport {
    pub fn complete(&self) -> bool {
        self.columns
            .iter()
            .all(|c| c.failed == 0 && c.remaining == 0)
    }
}

/// Re-seals everything not on the keyring's active key, `batch` rows at a time.
pub async fn rotate(pool: &PgPool, keyring: &Keyring, batch: i64) -> Result<RotationReport, Error> {
    let active = keyring.active_key_id().to_owned();
    let mut report = RotationReport {
        active_key_id: active.clone(),
        columns: Vec::new(),
    };
    for col in SealedColumn::ALL {
        let mut r = ColumnReport {
            table: col.table(),
            column: col.column(),
            ..ColumnReport::default()
        };
        let mut after = String::new();
        loop {
            let rows = sealed::not_on_key(pool, col, &active, &after, batch).await?;
            let Some((last, _)) = rows.last() else { break };
            after = last.clone();
            let mut tx = pool.begin().await?;
            for (id, value) in &rows {
                let at = Binding::new(col, id);
                match keyring.open(at, value) {
                    Ok(plain) => {
                        let resealed = keyring.seal(at, &plain)?;
                        if sealed::replace(&mut *tx, col, id, value, &resealed).await? {
                            r.resealed += 1;
                        }
                    }
                    Err(e) => {
                        tracing::error!(table = col.table(), column = col.column(), row = %id, error = %e, "sealed value does not open; left as it is");
                        r.failed += 1;
                    }
                }
            }
            tx.commit().await?;
        }
        r.remaining = sealed::count_not_on_key(pool, col, &active).await?;
        report.columns.push(r);
    }
    record(pool, &report).await?;
    Ok(report)
}

/// One audit entry per run, with the counts (key ids only, never key material).
async fn record(pool: &PgPool, report: &RotationReport) -> Result<(), Error> {
    let total = |f: fn(&ColumnReport) -> i64| report.columns.iter().map(f).sum::<i64>();
    let entry = NewEntry::success(AuditAction::KeysRotate).meta(json!({
        "via": "cli",
        "active_key_id": report.active_key_id,
        "resealed": total(|c| i64::try_from(c.resealed).unwrap_or(i64::MAX)),
        "failed": total(|c| i64::try_from(c.failed).unwrap_or(i64::MAX)),
        "remaining": total(|c| c.remaining),
        "complete": report.complete(),
        "columns": report.columns,
    }));
    audit(pool, &ClientMeta::default(), entry).await
}
