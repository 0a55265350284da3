//! Sealing third-party secrets (OAuth tokens, credentials) with XChaCha20-Poly1305.
//!
//! Envelope: `v1.<key id>.<base64url(nonce ‖ ciphertext)>`. The associated data binds the table,
//! column and row id, so a ciphertext copied to another row or field does not open. Keys come from
//! `ENCRYPTION_KEYS` (`id:base64key,…`, 32-byte keys); one is active for sealing, all can open.
//! There is no plaintext fallback.

use std::collections::HashMap;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, Generate, KeyInit, Payload},
};
use secrecy::{ExposeSecret, SecretString};

use crate::Error;

pub use super::sealed_column::SealedColumn;

/// Where a sealed value lives; bound into the ciphertext as associated data.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub column: SealedColumn,
    pub row_id: &'a str,
}

impl<'a> Binding<'a> {
    pub fn new(column: SealedColumn, row_id: &'a str) -> Self {
        Self { column, row_id }
    }

    fn aad(&self) -> Vec<u8> {
        format!(
            "repopal/v1/{}/{}/{}",
            self.column.table(),
            self.column.column(),
            self.row_id
        )
        .into_bytes()
    }
}

/// The encryption keys: several ids, one active.
#[derive(Clone)]
pub struct Keyring {
    active: String,
    keys: HashMap<String, XChaCha20Poly1305>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("Keyring")
            .field("active", &self.active)
            .field("key_ids", &ids)
            .finish()
    }
}

impl Keyring {
    /// Parses `id:base64key[,id:base64key…]`; `active` defaults to the first id.
    pub fn parse(spec: &SecretString, active: Option<&str>) -> Result<Self, String> {
        let mut keys = HashMap::new();
        let mut first = None;
        for entry in spec
            .expose_secret()
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (id, b64) = entry
                .split_once(':')
                .ok_or("each key must be written id:base64key")?;
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err("key ids may use letters, digits, - and _".into());
            }
            let bytes = STANDARD
                .decode(b64)
                .or_else(|_| URL_SAFE_NO_PAD.decode(b64))
                .map_err(|_| format!("key {id} is not base64"))?;
            let cipher = XChaCha20Poly1305::new_from_slice(&bytes)
                .map_err(|_| format!("key {id} must be 32 bytes"))?;
            if let Some(reason) = crate::crypto::strength::key_weakness(&bytes) {
                return Err(format!("key {id} {reason}"));
            }
            first.get_or_insert_with(|| id.to_owned());
            if keys.insert(id.to_owned(), cipher).is_some() {
                return Err(format!("key id {id} appears twice"));
            }
        }
        let active = active
            .map(str::to_owned)
            .or(first)
            .ok_or("at least one key is required")?;
        if !keys.contains_key(&active) {
            return Err(format!("active key {active} is not in the keyring"));
        }
        Ok(Self { active, keys })
    }

    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    /// Seals `plaintext` with the active key, bound to `at`.
    pub fn seal(&self, at: Binding<'_>, plaintext: &SecretString) -> Result<String, Error> {
        let cipher = &self.keys[&self.active];
        let nonce = XNonce::generate();
        let aad = at.aad();
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.expose_secret().as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Crypto("sealing failed".into()))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        Ok(format!(
            "v1.{}.{}",
            self.active,
            URL_SAFE_NO_PAD.encode(blob)
        ))
    }

    /// Opens an envelope sealed for `at`. Tampering, a wrong row or an unknown key is an error.
    pub fn open(&self, at: Binding<'_>, sealed: &str) -> Result<SecretString, Error> {
        let bad = || {
            Error::Crypto(format!(
                "sealed value for {}.{} does not open",
                at.column.table(),
                at.column.column()
            ))
        };
        let mut parts = sealed.splitn(3, '.');
        let (Some("v1"), Some(key_id), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let cipher = self.keys.get(key_id).ok_or_else(bad)?;
        let blob = URL_SAFE_NO_PAD.decode(b64).map_err(|_| bad())?;
        if blob.len() < 24 {
            return Err(bad());
        }
        let (nonce, ct) = blob.split_at(24);
        let nonce = XNonce::try_from(nonce).map_err(|_| bad())?;
        let aad = at.aad();
        let pt = cipher
            .decrypt(&nonce, Payload { msg: ct, aad: &aad })
            .map_err(|_| bad())?;
        String::from_utf8(pt)
            .map(SecretString::from)
            .map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(spec: &str, active: Option<&str>) -> Keyring {
        Keyring::parse(&SecretString::from(spec.to_owned()), active).unwrap()
    }

    const K1: &str = "3TKzmA4wcXL3tI5Sif0zKxGHR7/nlp1UtrBawwpG7J4=";
    const K2: &str = "05xFfbuUzxY3VKihpNAoCYS6pETIQJBbx8qxXf849xU=";

    #[test]
    fn seal_open_and_bindings() {
        let r = ring(&format!("k1:{K1}"), None);
        let at = Binding::new(SealedColumn::OauthAccessToken, "1");
        let secret = SecretString::from("gho_secret".to_owned());
        let sealed = r.seal(at, &secret).unwrap();
        assert!(sealed.starts_with("v1.k1.") && !sealed.contains("gho_secret"));
        assert_eq!(r.open(at, &sealed).unwrap().expose_secret(), "gho_secret");
        let other_row = Binding { row_id: "2", ..at };
        assert!(r.open(other_row, &sealed).is_err(), "moved to another row");
        let other_col = Binding {
            column: SealedColumn::OauthRefreshToken,
            ..at
        };
        assert!(
            r.open(other_col, &sealed).is_err(),
            "moved to another column"
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(r.open(at, &tampered).is_err(), "tampered");
        assert!(r.open(at, "plaintext").is_err(), "no plaintext fallback");
    }

    #[test]
    fn the_associated_data_names_table_column_and_row_as_before() {
        // Values sealed before the closed set existed must still open: the bytes may not change.
        let aad = |c, row| Binding::new(c, row).aad();
        assert_eq!(
            aad(SealedColumn::OauthAccessToken, "7"),
            b"repopal/v1/oauth_connections/access_token_sealed/7"
        );
        assert_eq!(
            aad(SealedColumn::PendingHookSecret, "u"),
            b"repopal/v1/github_pending_hook_secrets/secret_sealed/u"
        );
        assert_eq!(
            aad(SealedColumn::InstallationToken, "9"),
            b"repopal/v1/github_installation_tokens/token_sealed/9"
        );
    }

    #[test]
    fn rotation_keeps_old_keys_readable() {
        let old = ring(&format!("k1:{K1}"), None);
        let at = Binding::new(SealedColumn::IntegrationCredentials, "r");
        let sealed = old.seal(at, &SecretString::from("x".to_owned())).unwrap();
        let new = ring(&format!("k1:{K1},k2:{K2}"), Some("k2"));
        assert_eq!(new.open(at, &sealed).unwrap().expose_secret(), "x");
        let resealed = new.seal(at, &SecretString::from("x".to_owned())).unwrap();
        assert!(resealed.starts_with("v1.k2."), "sealed with the active key");
        assert!(Keyring::parse(&SecretString::from("k1:short".to_owned()), None).is_err());
        assert!(Keyring::parse(&SecretString::from(format!("k1:{K1}")), Some("k9")).is_err());
    }
}
