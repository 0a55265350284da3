//! GitHub webhook signatures: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`,
//! compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The digest a `sha256=<hex>` header claims.
#[derive(Clone)]
pub struct Claimed(Vec<u8>);

impl Claimed {
    /// `None` when the header is not `sha256=` followed by 64 hex digits.
    pub fn parse(header: &str) -> Option<Self> {
        let hex = header.trim().strip_prefix("sha256=")?;
        decode_hex(hex).map(Self)
    }
}

/// An HMAC-SHA256 computed chunk by chunk as a body arrives, so the body never needs a second
/// pass (and checking a second candidate secret costs no extra read).
#[derive(Clone)]
pub struct Streaming(Hmac<Sha256>);

impl Streaming {
    pub fn new(secret: &[u8]) -> Self {
        Self(
            Hmac::<Sha256>::new_from_slice(secret)
                .unwrap_or_else(|_| unreachable!("HMAC takes any key length")),
        )
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.0.update(chunk);
    }

    /// Constant-time comparison with the claimed digest.
    pub fn matches(self, claimed: &Claimed) -> bool {
        self.0.verify_slice(&claimed.0).is_ok()
    }
}

/// True when `header` is a valid `sha256=` signature of `body` under `secret`.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(claimed) = Claimed::parse(header) else {
        return false;
    };
    let mut mac = Streaming::new(secret);
    mac.update(body);
    mac.matches(&claimed)
}

/// The header value GitHub would send for `body` (used by tests and the benchmark).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented test vector.
    #[test]
    fn github_test_vector() {
        let secret = b"It's a Secret to Everybody";
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(verify(secret, b"Hello, World!", header));
        assert_eq!(sign(secret, b"Hello, World!"), header);
        assert!(!verify(secret, b"Hello, World?", header));
        assert!(!verify(b"another secret", b"Hello, World!", header));
        assert!(!verify(
            secret,
            b"Hello, World!",
            "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"
        ));
        assert!(!verify(secret, b"Hello, World!", "sha256=zz"));
        assert!(!verify(secret, b"Hello, World!", ""));

        let claimed = Claimed::parse(header).unwrap();
        let mut mac = Streaming::new(secret);
        for chunk in [&b"Hello"[..], b", ", b"World!"] {
            mac.update(chunk);
        }
        assert!(mac.matches(&claimed), "chunked input gives the same digest");
    }
}
