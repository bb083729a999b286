//! The per-account password throttle (S10, S30): how long an account waits
//! after failed attempts in a row, and how long they are remembered. Both
//! stores decide by these.

use std::time::Duration;

use super::RateDecision;

/// Attempts in a row allowed before delays start (S10).
pub const FREE_ATTEMPTS: u32 = 5;

/// How long an account waits after its `attempts`-th attempt in a row
/// without a correct password: nothing for the first four, then 1, 2, 4, ...
/// seconds, at most 15 minutes.
pub fn attempt_delay(attempts: u32) -> Duration {
    if attempts < FREE_ATTEMPTS {
        return Duration::ZERO;
    }
    let secs = 1u64 << (attempts - FREE_ATTEMPTS).min(10);
    Duration::from_secs(secs.min(900))
}

/// How long an account's attempt count is remembered after its last attempt.
pub(super) const ATTEMPT_MEMORY_MS: i64 = 3_600_000;

/// A refused attempt: wait until `until` (Unix ms).
pub(super) fn refused(until: i64, now: i64) -> RateDecision {
    RateDecision {
        allowed: false,
        retry_after: ((until - now + 999) / 1000).max(1) as u64,
    }
}

pub(super) const ALLOWED: RateDecision = RateDecision {
    allowed: true,
    retry_after: 0,
};
