//! The signed, expiring `state` of a browser flow that leaves RepoPal (GitHub App install, "Add
//! to Slack"): which organisation and admin asked, and the hash of the nonce in the browser cookie
//! that started it, so only that browser can complete it. Signed with a purpose-bound key.

use chrono::Utc;
use uuid::Uuid;

use super::{purpose_keys::PurposeKey, tokens};
use crate::domain::{OrgId, UserId};

/// Format version, first field of every state.
const VERSION: &str = "s1";

/// What a valid state says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateClaims {
    pub org: OrgId,
    pub user: UserId,
    /// SHA-256 (hex) of the browser's cookie nonce.
    pub browser_hash: String,
}

/// A freshly started flow: the state to send away, and the nonce for the browser cookie.
#[derive(Debug, Clone)]
pub struct StartedState {
    pub state: String,
    pub browser_nonce: String,
}

/// Signs a state for `org`/`user` with a new browser nonce, valid for `ttl_secs`.
pub fn start(key: &PurposeKey, org: OrgId, user: UserId, ttl_secs: i64) -> StartedState {
    let (browser_nonce, browser_hash) = tokens::generate("");
    let state = sign(
        key,
        &StateClaims {
            org,
            user,
            browser_hash,
        },
        Utc::now().timestamp() + ttl_secs,
    );
    StartedState {
        state,
        browser_nonce,
    }
}

/// `s1.org.user.expiry.browser_hash.mac`, the MAC over everything before it.
pub fn sign(key: &PurposeKey, claims: &StateClaims, expires_at: i64) -> String {
    let payload = format!(
        "{VERSION}.{}.{}.{expires_at}.{}",
        claims.org.0.simple(),
        claims.user.0.simple(),
        claims.browser_hash
    );
    let mac = key.mac_hex(payload.as_bytes());
    format!("{payload}.{mac}")
}

/// The claims of a state signed with `key` and not yet expired. Nothing else is checked here:
/// the caller compares the browser hash and uses the state once.
pub fn verify(key: &PurposeKey, state: &str) -> Option<StateClaims> {
    let (payload, mac) = state.rsplit_once('.')?;
    if !tokens::constant_time_eq(key.mac_hex(payload.as_bytes()).as_bytes(), mac.as_bytes()) {
        return None;
    }
    let mut parts = payload.split('.');
    if parts.next()? != VERSION {
        return None;
    }
    let org = Uuid::parse_str(parts.next()?).ok()?;
    let user = Uuid::parse_str(parts.next()?).ok()?;
    let exp: i64 = parts.next()?.parse().ok()?;
    let browser_hash = parts.next()?.to_owned();
    if parts.next().is_some() || exp <= Utc::now().timestamp() {
        return None;
    }
    Some(StateClaims {
        org: OrgId(org),
        user: UserId(user),
        browser_hash,
    })
}

/// Whether the cookie nonce the browser sent is the one `claims` was started with.
pub fn same_browser(claims: &StateClaims, browser_nonce: Option<&str>) -> bool {
    browser_nonce.is_some_and(|n| {
        !n.is_empty()
            && tokens::constant_time_eq(tokens::hash(n).as_bytes(), claims.browser_hash.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::crypto::purpose_keys::{KeyPurpose, PurposeKey};

    #[test]
    fn states_verify_only_with_their_key_unexpired_untampered_and_in_their_browser() {
        let secret = SecretString::from("k".repeat(40));
        let key = PurposeKey::derive(&secret, KeyPurpose::GithubInstallState);
        let other = PurposeKey::derive(&secret, KeyPurpose::SlackConnectState);
        let (org, user) = (OrgId::new(), UserId::new());
        let started = start(&key, org, user, 600);
        let claims = verify(&key, &started.state).expect("test value");
        assert_eq!((claims.org, claims.user), (org, user));
        assert!(same_browser(&claims, Some(&started.browser_nonce)));
        assert!(!same_browser(&claims, Some("another-browser")));
        assert!(!same_browser(&claims, None));
        assert_eq!(verify(&other, &started.state), None, "other purpose");
        let tampered = started.state.replacen(
            &org.0.simple().to_string(),
            &OrgId::new().0.simple().to_string(),
            1,
        );
        assert_eq!(verify(&key, &tampered), None);
        let expired = sign(&key, &claims, Utc::now().timestamp() - 1);
        assert_eq!(verify(&key, &expired), None, "expired");
    }
}
