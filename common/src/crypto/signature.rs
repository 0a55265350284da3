//! GitHub webhook signatures: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`,
//! compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// True when `header` is a valid `sha256=` signature of `body` under `secret`.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
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
    }
}
