//! Integrations: an organisation's credentials for other tools, sealed at rest, write-only through
//! the API (only masked hints come back), every change and every decrypt audit-logged.
//! Only Slack is supported so far (its bot token posts incident notifications).

use secrecy::SecretString;
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    Error,
    crypto::keyring::{Binding, Keyring},
    domain::{OrgId, UserId},
    identity::{ClientMeta, audit},
    repo::{
        audit_logs::{self, NewEntry},
        integrations::{self, Integration, NewIntegration},
    },
};

/// Integration kinds accepted today.
pub const SUPPORTED_KINDS: &[&str] = &["slack"];

/// What a client sends to create an integration.
pub struct IntegrationIn {
    pub kind: String,
    pub name: String,
    pub config: Value,
    /// Must be an object; checked here so a malformed value is never echoed back.
    pub credentials: Value,
}

fn binding(id: &str) -> Binding<'_> {
    Binding {
        table: "integrations",
        column: "credentials_sealed",
        row_id: id,
    }
}

/// A masked hint of a secret: its last four characters.
fn hint(secret: &str) -> String {
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

/// Checks the credentials for `kind`: field → problem for each bad field.
fn validate(input: &IntegrationIn) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let name_len = input.name.trim().chars().count();
    if !(1..=100).contains(&name_len) {
        problems.push(("name".into(), "must be 1 to 100 characters".into()));
    }
    if !input.config.is_object() {
        problems.push(("config".into(), "must be an object".into()));
    }
    let empty = Map::new();
    let credentials = match input.credentials.as_object() {
        Some(c) => c,
        None => {
            problems.push(("credentials".into(), "must be an object".into()));
            &empty
        }
    };
    match input.kind.as_str() {
        "slack" => {
            match credentials.get("bot_token").and_then(Value::as_str) {
                Some(t)
                    if (t.starts_with("xoxb-") || t.starts_with("xoxe.xoxb-"))
                        && t.len() <= 512 => {}
                Some(_) => problems.push((
                    "credentials.bot_token".into(),
                    "must be a Slack bot token (xoxb-…)".into(),
                )),
                None => problems.push(("credentials.bot_token".into(), "is required".into())),
            }
            for key in credentials.keys().filter(|k| k.as_str() != "bot_token") {
                problems.push((format!("credentials.{key}"), "is not a known field".into()));
            }
        }
        _ => problems.push((
            "type".into(),
            format!("must be one of: {}", SUPPORTED_KINDS.join(", ")),
        )),
    }
    problems
}

/// Creates an integration with sealed credentials. Bad input is `Error::Invalid` with a
/// `field: problem; …` list.
pub async fn create(
    pool: &PgPool,
    keyring: &Keyring,
    meta: &ClientMeta,
    org: OrgId,
    actor: UserId,
    input: IntegrationIn,
) -> Result<Integration, Error> {
    let problems = validate(&input);
    if !problems.is_empty() {
        return Err(Error::Invalid(
            problems
                .iter()
                .map(|(f, p)| format!("{f}: {p}"))
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    let id = Uuid::new_v4();
    let credentials = input.credentials.as_object().cloned().unwrap_or_default();
    let hints: Map<String, Value> = credentials
        .iter()
        .map(|(k, v)| (k.clone(), json!(hint(v.as_str().unwrap_or_default()))))
        .collect();
    let plaintext = SecretString::from(Value::Object(credentials).to_string());
    let sealed = keyring.seal(binding(&id.to_string()), &plaintext)?;
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
            credential_hints: &Value::Object(hints),
            created_by: actor,
        },
    )
    .await?;
    audit(
        &mut *tx,
        meta,
        NewEntry::success("integration.create")
            .org(org)
            .actor(actor)
            .resource("integration", id)
            .meta(json!({"type": input.kind, "credential_fields": row.credential_hints.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>())})),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes an integration and its credentials.
pub async fn delete(
    pool: &PgPool,
    meta: &ClientMeta,
    org: OrgId,
    actor: UserId,
    id: Uuid,
) -> Result<(), Error> {
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

/// The organisation's usable Slack bot token, decrypted (and the decrypt audit-logged with its
/// purpose), or `None` when no Slack integration is usable.
pub async fn slack_bot_token(
    pool: &PgPool,
    keyring: &Keyring,
    org: OrgId,
    purpose: &str,
) -> Result<Option<(Uuid, SecretString)>, Error> {
    let Some((id, sealed)) = integrations::usable_of_kind(pool, org, "slack").await? else {
        return Ok(None);
    };
    let plaintext = keyring.open(binding(&id.to_string()), &sealed)?;
    audit_logs::insert(
        pool,
        &NewEntry::success("integration.credentials_decrypt")
            .org(org)
            .resource("integration", id)
            .meta(json!({ "purpose": purpose })),
    )
    .await?;
    let creds: Map<String, Value> =
        serde_json::from_str(secrecy::ExposeSecret::expose_secret(&plaintext))?;
    let token = creds
        .get("bot_token")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Invalid("the Slack integration has no bot_token".into()))?;
    Ok(Some((id, SecretString::from(token.to_owned()))))
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
