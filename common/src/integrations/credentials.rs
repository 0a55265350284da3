//! Sealing an integration's credentials (one JSON object per row, bound to the row), their masked
//! hints, and audited decryption.

use crate::domain::{AuditAction, AuditResource};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use sqlx::PgPool;

use crate::{
    Error,
    crypto::keyring::{Binding, Keyring, SealedColumn},
    domain::IntegrationId,
    repo::{
        audit_logs::{self, NewEntry},
        integrations::Sealed,
    },
};

fn binding(id: &str) -> Binding<'_> {
    Binding::new(SealedColumn::IntegrationCredentials, id)
}

/// A masked hint of a secret: its last four characters, when it is long enough to spare them.
pub fn hint(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if secret.chars().count() > 8 {
        format!("…{tail}")
    } else {
        "…".to_owned()
    }
}

/// `{field: hint}` for each credential field that is set.
pub fn hints(creds: &Map<String, Value>) -> Value {
    Value::Object(
        creds
            .iter()
            .map(|(k, v)| (k.clone(), json!(hint(v.as_str().unwrap_or_default()))))
            .collect(),
    )
}

/// The names of the fields in a hints object.
pub fn fields(hints: &Value) -> Vec<String> {
    hints
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// Seals the credentials for row `id`; returns the sealed text and the hints.
pub fn seal(
    keyring: &Keyring,
    id: IntegrationId,
    creds: &Map<String, Value>,
) -> Result<(String, Value), Error> {
    let plaintext = SecretString::from(Value::Object(creds.clone()).to_string());
    let sealed = keyring.seal(binding(&id.to_string()), &plaintext)?;
    Ok((sealed, hints(creds)))
}

/// Opens an integration's credentials, audit-logging the decrypt with its `purpose`.
pub async fn decrypt(
    pool: &PgPool,
    keyring: &Keyring,
    row: &Sealed,
    purpose: &str,
) -> Result<Map<String, Value>, Error> {
    let Some(sealed) = &row.credentials_sealed else {
        return Ok(Map::new());
    };
    let plaintext = keyring.open(binding(&row.id.to_string()), sealed)?;
    audit_logs::insert(
        pool,
        &NewEntry::success(AuditAction::IntegrationCredentialsDecrypt)
            .org(row.org_id)
            .resource(AuditResource::Integration, row.id)
            .meta(json!({ "purpose": purpose })),
    )
    .await?;
    Ok(serde_json::from_str(plaintext.expose_secret())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_show_only_the_last_four_characters() {
        assert_eq!(hint("xoxb-1234567890-abcd"), "…abcd");
        assert_eq!(hint("short"), "…");
    }
}
