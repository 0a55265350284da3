//! The password policy: 8–128 characters using at least three of `a–z`, `A–Z`, `0–9` and other
//! characters (a non-ASCII letter counts as another character).

use secrecy::{ExposeSecret, SecretString};

/// A password that satisfies the policy (never printed: `Debug` is redacted by `SecretString`).
#[derive(Debug, Clone)]
pub struct NewPassword(SecretString);

impl NewPassword {
    pub fn parse(raw: &SecretString) -> Result<Self, String> {
        let pw = raw.expose_secret();
        let len = pw.chars().count();
        if !(8..=128).contains(&len) {
            return Err("must be between 8 and 128 characters".into());
        }
        // ASCII classes, any other character counting as a symbol: the same rule as the pattern of
        // `api::request_formats::NewPasswordText`, which a regex can state exactly.
        let classes = [
            pw.chars().any(|c| c.is_ascii_lowercase()),
            pw.chars().any(|c| c.is_ascii_uppercase()),
            pw.chars().any(|c| c.is_ascii_digit()),
            pw.chars().any(|c| !c.is_ascii_alphanumeric()),
        ];
        if classes.iter().filter(|x| **x).count() < 3 {
            return Err(
                "must mix at least three of: lower case, upper case, digits, symbols".into(),
            );
        }
        Ok(Self(raw.clone()))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        let ok = |s: &str| NewPassword::parse(&SecretString::from(s.to_owned())).is_ok();
        assert!(ok("Correct-horse1"));
        assert!(ok("abcDEF12"));
        assert!(!ok("Ab1"), "too short");
        assert!(!ok("alllowercase"), "one class");
        assert!(!ok("lowerUPPER"), "two classes");
        assert!(!ok(&"aA1!".repeat(33)), "too long");
        assert!(ok("passwörd-1"), "a non-ASCII letter counts as a symbol");
        assert!(!ok("ÄÖÜäöüßé"), "only symbols");
    }
}
