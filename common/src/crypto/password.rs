//! Password hashing: argon2id with the OWASP parameters (m=19456 KiB, t=2, p=1), always off the
//! async runtime. Verifying against a missing hash still does the full work (a dummy hash), so an
//! unknown email costs the same time as a wrong password. At most a configured number of
//! computations run at once (`Hashing`).

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::Error;

const M_COST: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST, T_COST, P_COST, None)
        .unwrap_or_else(|_| unreachable!("OWASP parameters are valid"));
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, Error> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Crypto(format!("password hashing failed: {e}")))
}

/// A hash of a random password, computed once, verified against when the account is unknown.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random: String = uuid::Uuid::new_v4().to_string();
        hash_blocking(&random).unwrap_or_default()
    })
}

/// The bound on argon2 work: at most `concurrency` hashes or verifications run at once (each
/// holds ~19 MiB for its duration); a caller waits at most `max_wait` for a slot and then gets
/// [`Error::Busy`], so a flood of requests costs neither unbounded memory nor an unbounded queue.
/// Built once from the configuration and shared (cheap to clone).
#[derive(Clone)]
pub struct Hashing {
    slots: Arc<Semaphore>,
    max_wait: Duration,
    computed: Arc<AtomicU64>,
}

impl Hashing {
    pub fn new(concurrency: usize, max_wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            max_wait,
            computed: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many argon2 computations (hashes and verifications) this instance has run.
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    /// Runs `work` on the blocking pool while holding a slot; the slot is released when the work
    /// ends, even if the request that asked for it was dropped meanwhile.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let slot = tokio::time::timeout(self.max_wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| Error::Busy {
                retry_after_secs: self.max_wait.as_secs().max(1),
            })?
            .map_err(|_| Error::Crypto("password hashing is shut down".into()))?;
        let computed = self.computed.clone();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            computed.fetch_add(1, Ordering::Relaxed);
            work()
        })
        .await
        .map_err(|e| Error::Crypto(format!("hashing task failed: {e}")))
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &SecretString) -> Result<String, Error> {
        let password = password.clone();
        self.run(move || hash_blocking(password.expose_secret()))
            .await?
    }

    /// Checks `password` against `stored` (or, when there is none, against a dummy hash, taking
    /// the same time and always failing).
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: Option<String>,
    ) -> Result<Verified, Error> {
        let password = password.clone();
        self.run(move || {
            let (hash, real) = match stored.as_deref() {
                Some(h) => (h.to_owned(), true),
                None => (dummy_hash().to_owned(), false),
            };
            let matches = hasher()
                .verify_password(password.expose_secret().as_bytes(), hash.as_str())
                .is_ok()
                && real;
            let needs_rehash = matches && !uses_current_params(&hash);
            Verified {
                matches,
                needs_rehash,
            }
        })
        .await
    }
}

/// The result of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub matches: bool,
    /// The stored hash uses other parameters than today's: store a fresh hash.
    pub needs_rehash: bool,
}

fn uses_current_params(hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    parsed.algorithm.as_str() == "argon2id"
        && params.m_cost() == M_COST
        && params.t_cost() == T_COST
        && params.p_cost() == P_COST
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verify_and_rehash_detection() {
        let hashing = Hashing::new(2, Duration::from_secs(2));
        let pw = SecretString::from("Correct-horse1".to_owned());
        let h = hashing.hash(&pw).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            hashing.verify(&pw, Some(h.clone())).await.unwrap(),
            Verified {
                matches: true,
                needs_rehash: false
            }
        );
        let wrong = SecretString::from("nope".to_owned());
        assert!(!hashing.verify(&wrong, Some(h)).await.unwrap().matches);
        assert!(
            !hashing.verify(&pw, None).await.unwrap().matches,
            "no account never matches"
        );

        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        )
        .hash_password(b"Correct-horse1")
        .unwrap()
        .to_string();
        assert_eq!(
            hashing.verify(&pw, Some(weak)).await.unwrap(),
            Verified {
                matches: true,
                needs_rehash: true
            }
        );
    }
}
