//! Access tokens: short-lived HS256 JWTs naming a user and a session, with a key id. The algorithm
//! is fixed here, never taken from the token, so `alg: none` or another algorithm is rejected.

use std::time::Duration;

use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::{
    Error,
    domain::{SessionId, UserId},
};

const ISSUER: &str = "repopal";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub sid: SessionId,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

/// Signs and checks access tokens with one key.
#[derive(Clone)]
pub struct AccessTokens {
    key_id: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub ttl: Duration,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens")
            .field("key_id", &self.key_id)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    pub fn new(key_id: &str, secret: &SecretString, ttl: Duration) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self {
            key_id: key_id.to_owned(),
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            ttl,
        }
    }

    /// A signed token for `user` in `session`, and its lifetime in seconds.
    pub fn issue(&self, user: UserId, session: SessionId) -> Result<(String, u64), Error> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(900);
        let claims = Claims {
            sub: user,
            sid: session,
            iat: now,
            exp: now + ttl,
            iss: ISSUER.to_owned(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.key_id.clone());
        let token = encode(&header, &claims, &self.encoding)
            .map_err(|e| Error::Crypto(format!("jwt: {e}")))?;
        Ok((token, self.ttl.as_secs()))
    }

    /// The claims of a valid token; `None` for anything forged, expired, of another algorithm or
    /// signed with an unknown key id.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let header = decode_header(token).ok()?;
        if header.alg != Algorithm::HS256 || header.kid.as_deref() != Some(self.key_id.as_str()) {
            return None;
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
        decode::<Claims>(token, &self.decoding, &validation)
            .ok()
            .map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;

    fn tokens(secret: &str) -> AccessTokens {
        AccessTokens::new(
            "k1",
            &SecretString::from(secret.to_owned()),
            Duration::from_secs(900),
        )
    }

    #[test]
    fn round_trip_and_rejections() {
        let t = tokens("an-access-token-signing-secret-of-some-length");
        let (user, session) = (UserId::new(), SessionId::new());
        let (token, ttl) = t.issue(user, session).unwrap();
        assert_eq!(ttl, 900);
        let claims = t.verify(&token).unwrap();
        assert_eq!((claims.sub, claims.sid), (user, session));

        // Wrong key.
        assert!(
            tokens("another-secret-entirely-different-0123456789")
                .verify(&token)
                .is_none()
        );
        // alg: none with the same claims.
        let parts: Vec<&str> = token.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
        assert!(t.verify(&format!("{none_header}.{}.", parts[1])).is_none());
        // Another algorithm (HS512) signed with the right secret.
        let mut header = Header::new(Algorithm::HS512);
        header.kid = Some("k1".into());
        let claims = Claims {
            sub: user,
            sid: session,
            iat: 0,
            exp: i64::MAX / 2,
            iss: ISSUER.into(),
        };
        let hs512 = encode(
            &header,
            &claims,
            &EncodingKey::from_secret(b"an-access-token-signing-secret-of-some-length"),
        )
        .unwrap();
        assert!(t.verify(&hs512).is_none());
        // Expired.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let now = chrono::Utc::now().timestamp();
        let old = Claims {
            sub: user,
            sid: session,
            iat: now - 2000,
            exp: now - 1000,
            iss: ISSUER.into(),
        };
        let expired = encode(
            &header,
            &old,
            &EncodingKey::from_secret(b"an-access-token-signing-secret-of-some-length"),
        )
        .unwrap();
        assert!(t.verify(&expired).is_none());
        // Tampered payload.
        let tampered = format!("{}.{}x.{}", parts[0], parts[1], parts[2]);
        assert!(t.verify(&tampered).is_none());
    }
}
