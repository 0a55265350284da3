//! How guessable a configured secret is: start-up refuses placeholders and secrets below 128 bits
//! of estimated entropy.
//!
//! The estimate is the secret's length times the entropy per symbol measured in the secret itself
//! (Shannon, with the Miller–Madow correction for short samples), capped by the alphabet its
//! characters come from. It is taken twice, over the symbols and over the steps between
//! neighbours, and the lower counts, so runs like `0123…`, `abcd…` or bytes 0x00, 0x01, … score
//! low; and for text, runs of four or more characters from a keyboard row or the alphabet
//! (`qwerty`, `asdf`, `7890`, forwards or backwards) count as one guess each. Repetition (`aaaa…`,
//! `abab…`) and small alphabets score low; 32 random bytes, raw or base64, score well above the bar. A random hex string of 32 characters (exactly
//! 128 bits) sits on the bar, so the advice is 32 random bytes, e.g. `openssl rand -base64 32`.

use std::collections::HashMap;

/// The least estimated entropy accepted for a secret, in bits.
pub const MIN_SECRET_BITS: f64 = 128.0;

/// Substrings of the placeholder values shipped in `.env.example`.
const PLACEHOLDERS: [&str; 3] = ["change-me", "replace_with", "replace-with"];

/// Estimated entropy of `symbols`, in bits.
pub fn estimated_bits<T: std::hash::Hash + Eq + Copy>(symbols: &[T], alphabet_bits: f64) -> f64 {
    let n = symbols.len();
    if n == 0 {
        return 0.0;
    }
    let mut counts: HashMap<T, usize> = HashMap::new();
    for s in symbols {
        *counts.entry(*s).or_default() += 1;
    }
    #[allow(clippy::cast_precision_loss)]
    let (n, distinct) = (n as f64, counts.len() as f64);
    #[allow(clippy::cast_precision_loss)]
    let shannon: f64 = counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum();
    let corrected = if distinct > 1.0 {
        shannon + (distinct - 1.0) / (2.0 * n * std::f64::consts::LN_2)
    } else {
        0.0
    };
    corrected.min(alphabet_bits) * n
}

/// Sequences people type instead of random characters.
const WALKS: [&str; 5] = [
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
];

/// The characters left once every run of four or more taken from a walk (either direction) is
/// removed, and how many runs there were.
fn without_walks(chars: &[char]) -> (Vec<char>, usize) {
    let lower: Vec<char> = chars.iter().map(char::to_ascii_lowercase).collect();
    let walks: Vec<Vec<char>> = WALKS
        .iter()
        .flat_map(|w| [w.chars().collect(), w.chars().rev().collect()])
        .collect();
    let (mut kept, mut runs, mut i) = (Vec::new(), 0, 0);
    while i < lower.len() {
        let longest = walks
            .iter()
            .flat_map(|w| (0..w.len()).map(move |start| &w[start..]))
            .map(|tail| {
                tail.iter()
                    .zip(&lower[i..])
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .max()
            .unwrap_or(0);
        if longest >= 4 {
            runs += 1;
            i += longest;
        } else {
            kept.push(chars[i]);
            i += 1;
        }
    }
    (kept, runs)
}

/// Steps between neighbouring symbols (`b - a`), for spotting arithmetic runs.
fn steps(symbols: &[i64]) -> Vec<i64> {
    symbols.windows(2).map(|w| w[1] - w[0]).collect()
}

/// Estimated entropy of a textual secret, in bits.
pub fn text_bits(secret: &str) -> f64 {
    let chars: Vec<char> = secret.chars().collect();
    let (kept, runs) = without_walks(&chars);
    #[allow(clippy::cast_precision_loss)]
    let walk_bits = runs as f64 * 8.0;
    let codes: Vec<i64> = chars.iter().map(|c| i64::from(u32::from(*c))).collect();
    let hex = chars.iter().all(char::is_ascii_hexdigit);
    let pool: u32 = if hex {
        16
    } else {
        [
            (chars.iter().any(char::is_ascii_lowercase), 26),
            (chars.iter().any(char::is_ascii_uppercase), 26),
            (chars.iter().any(char::is_ascii_digit), 10),
            (chars.iter().any(|c| !c.is_ascii_alphanumeric()), 33),
        ]
        .iter()
        .filter(|(present, _)| *present)
        .map(|(_, size)| size)
        .sum()
    };
    let alphabet = f64::from(pool.max(1)).log2();
    (estimated_bits(&kept, alphabet) + walk_bits).min(estimated_bits(&steps(&codes), alphabet))
}

/// Why a textual secret is refused, if it is.
pub fn weakness(secret: &str) -> Option<String> {
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        return Some("is the placeholder from .env.example; generate a random value".into());
    }
    bits_below_minimum(text_bits(secret))
}

/// Why raw key bytes are refused, if they are.
pub fn key_weakness(key: &[u8]) -> Option<String> {
    let codes: Vec<i64> = key.iter().map(|b| i64::from(*b)).collect();
    bits_below_minimum(estimated_bits(key, 8.0).min(estimated_bits(&steps(&codes), 8.0)))
}

fn bits_below_minimum(bits: f64) -> Option<String> {
    (bits < MIN_SECRET_BITS).then(|| {
        format!(
            "has about {bits:.0} bits of estimated entropy, below the {MIN_SECRET_BITS:.0} required; use 32 random bytes (e.g. `openssl rand -base64 32`)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_repetition_and_short_values_are_weak() {
        assert!(weakness("change-me-to-a-long-random-string-of-32-or-more").is_some());
        assert!(weakness(&"a".repeat(64)).is_some());
        assert!(weakness(&"ab".repeat(32)).is_some());
        assert!(weakness("correct horse battery staple").is_some());
        assert!(weakness("0123456789abcdef0123").is_some());
        assert!(key_weakness(&[0u8; 32]).is_some());
        assert!(key_weakness(&[1, 2].repeat(16)).is_some());
        // Runs and keyboard walks (found by a review).
        assert!(weakness(&"0123456789abcdef".repeat(3)).is_some());
        assert!(weakness("abcdefghijklmnopqrstuvwxyz0123456789").is_some());
        assert!(weakness("qwertyuiopasdfghjklzxcvbnm1234567890").is_some());
        assert!(weakness("QWERTYuiop!!asdfGHJKL??zxcvbnm0987654321").is_some());
        let run: Vec<u8> = (0u8..32).collect();
        assert!(key_weakness(&run).is_some());
    }

    #[test]
    fn random_values_pass() {
        assert!(weakness("HW1EG/uPBw4hpAohEMUvJsGn/ExX109CDHz+gb6IqIs=").is_none());
        assert!(weakness("Rnw4Dm6S7ha585F1Wp3562TKD7e1fScP5UauX70mfNY=").is_none());
        assert!(
            weakness("4f1c9e07b2d86a35e0c7f49d1b8a2e6c53f0d9a7c1e4b8f2d6a0c3e5b7f9d1a4").is_none()
        );
        assert!(weakness("test-jwt-key-Vq8ZxN2mRk7Lw4Hp9Ty3Jd6Fs1").is_none());
    }
}
