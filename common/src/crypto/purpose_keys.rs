//! Keys derived from the server secret (`JWT_SIGNING_KEY`) for one purpose each with HKDF-SHA256,
//! so a value signed for one flow is worthless to every other and to the access-token verifier.

use std::sync::Arc;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::Sha256;

/// Fixed HKDF salt: domain separation from any other use of the same secret.
const SALT: &[u8] = b"repopal/v1/purpose-keys";

/// What a derived key may sign. Each purpose has its own HKDF context string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// The `state` of the GitHub App install link.
    GithubInstallState,
    /// The `state` of "Add to Slack".
    SlackConnectState,
    /// The web console's session cookie (binds the cookie to its server-side session).
    ConsoleSession,
    /// The web console's CSRF tokens (one per session, or per anonymous browser).
    ConsoleCsrf,
}

impl KeyPurpose {
    /// The HKDF `info` for this purpose (never change one: every state in flight would die).
    pub fn context(self) -> &'static str {
        match self {
            Self::GithubInstallState => "repopal/v1/state/github-install",
            Self::SlackConnectState => "repopal/v1/state/slack-connect",
            Self::ConsoleSession => "repopal/v1/console/session",
            Self::ConsoleCsrf => "repopal/v1/console/csrf",
        }
    }
}

/// A 256-bit HMAC key usable for one purpose only.
#[derive(Clone)]
pub struct PurposeKey {
    purpose: KeyPurpose,
    key: Arc<SecretBox<[u8; 32]>>,
}

impl std::fmt::Debug for PurposeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PurposeKey")
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

impl PurposeKey {
    /// HKDF-SHA256(salt, `secret`) expanded with the purpose's context.
    pub fn derive(secret: &SecretString, purpose: KeyPurpose) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(SALT), secret.expose_secret().as_bytes());
        let mut okm = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expansion cannot fail.
        if hk.expand(purpose.context().as_bytes(), &mut okm).is_err() {
            unreachable!("32-byte HKDF output");
        }
        Self {
            purpose,
            key: Arc::new(SecretBox::new(Box::new(okm))),
        }
    }

    pub fn purpose(&self) -> KeyPurpose {
        self.purpose
    }

    /// HMAC-SHA256 of `payload` under this key, lowercase hex.
    pub fn mac_hex(&self, payload: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.expose_secret())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(payload);
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Every signing key the API derives, built once at start-up.
#[derive(Debug, Clone)]
pub struct StateKeys {
    pub github_install: PurposeKey,
    pub slack_connect: PurposeKey,
    pub console_session: PurposeKey,
    pub console_csrf: PurposeKey,
}

impl StateKeys {
    pub fn derive(secret: &SecretString) -> Self {
        Self {
            github_install: PurposeKey::derive(secret, KeyPurpose::GithubInstallState),
            slack_connect: PurposeKey::derive(secret, KeyPurpose::SlackConnectState),
            console_session: PurposeKey::derive(secret, KeyPurpose::ConsoleSession),
            console_csrf: PurposeKey::derive(secret, KeyPurpose::ConsoleCsrf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_per_purpose_and_distinct_across_purposes_and_secrets() {
        let secret = SecretString::from("s".repeat(40));
        let a = StateKeys::derive(&secret);
        let b = StateKeys::derive(&secret);
        assert_eq!(
            a.github_install.mac_hex(b"x"),
            b.github_install.mac_hex(b"x")
        );
        assert_ne!(
            a.github_install.mac_hex(b"x"),
            a.slack_connect.mac_hex(b"x")
        );
        let other = StateKeys::derive(&SecretString::from("t".repeat(40)));
        assert_ne!(
            a.github_install.mac_hex(b"x"),
            other.github_install.mac_hex(b"x")
        );
        // Not the raw secret used as an HMAC key.
        let mut raw =
            Hmac::<Sha256>::new_from_slice("s".repeat(40).as_bytes()).expect("test value");
        raw.update(b"x");
        let raw: String = raw
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_ne!(a.github_install.mac_hex(b"x"), raw);
    }
}
