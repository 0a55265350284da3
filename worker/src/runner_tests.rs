//! Unit tests of the runner: retry delays.

use rand::{SeedableRng, rngs::StdRng};

use super::*;

#[test]
fn retry_delay_grows_exponentially_with_bounded_jitter() {
    let mut rng = StdRng::seed_from_u64(7);
    let base = Duration::from_secs(2);
    let max = Duration::from_secs(60);
    for attempt in 1..=8u32 {
        let exp = (base * 2u32.pow(attempt - 1)).min(max);
        for _ in 0..50 {
            let d = retry_delay(attempt, base, max, &mut rng);
            assert!(
                d >= exp / 2 && d <= exp,
                "attempt {attempt}: {d:?} outside [{:?}, {exp:?}]",
                exp / 2
            );
        }
    }
    assert!(retry_delay(40, base, max, &mut rng) <= max);
}
