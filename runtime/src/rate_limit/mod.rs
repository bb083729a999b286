//! Rate limiting (S09) and per-account sign-in throttling (S10).
//!
//! Requests are counted per client address and route in fixed windows. The
//! client address is the socket peer (Axum's `ConnectInfo`); `X-Forwarded-For`
//! is read only when the peer is a configured trusted proxy, walking the chain
//! from the right and skipping trusted proxies. IPv6 clients share a bucket
//! per /64. The key uses the matched route template, so `//sign-in/email` or
//! percent-encoded variants cannot open a second bucket.
//!
//! The counter store is pluggable: [`MemoryRateLimitStore`] for one instance,
//! [`DatabaseRateLimitStore`] (the `rateLimit` table, one atomic upsert per
//! request) for several instances sharing a database, and with feature
//! `redis` `RedisRateLimitStore` (one Lua script per request) for several
//! instances sharing a Redis.

// This file holds the store trait and the decisions it returns; `config` the
// settings and the limit a route gets, `client` client addresses and trusted
// proxies, `attempts` the per-account throttle's delays, and `memory` and
// `database` the two stores (`redis_counters` a third, with feature `redis`).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::Result;

mod attempts;
mod client;
mod config;
mod database;
mod memory;
#[cfg(feature = "redis")]
mod redis_counters;

pub use attempts::{FREE_ATTEMPTS, attempt_delay};
pub use client::IpNet;
pub(crate) use client::bucket;
pub use config::{RateLimitConfig, RateLimitRule};
pub use database::DatabaseRateLimitStore;
pub use memory::MemoryRateLimitStore;
#[cfg(feature = "redis")]
pub use redis_counters::{RedisOutage, RedisRateLimitStore};

/// The outcome of counting one request (or reserving one password attempt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateDecision {
    /// The request may proceed.
    pub allowed: bool,
    /// Seconds until the window resets (for `Retry-After`).
    pub retry_after: u64,
}

impl RateDecision {
    /// The request may proceed; the window resets in `retry_after` seconds.
    pub fn allow(retry_after: u64) -> Self {
        RateDecision {
            allowed: true,
            retry_after,
        }
    }

    /// The request is refused until the window resets in `retry_after` seconds.
    pub fn deny(retry_after: u64) -> Self {
        RateDecision {
            allowed: false,
            retry_after,
        }
    }
}

/// The future a [`RateLimitStore`] returns.
pub type HitFuture<'a> = Pin<Box<dyn Future<Output = Result<RateDecision>> + Send + 'a>>;

/// The future [`RateLimitStore::clear_attempts`] returns.
pub type ClearFuture<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

/// Counts requests per key in fixed windows, and password attempts per account.
pub trait RateLimitStore: Send + Sync + 'static {
    /// Counts one request for `key` and decides whether it is within `max`
    /// per `window` as of `now`.
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window: Duration,
        max: u32,
        now: DateTime<Utc>,
    ) -> HitFuture<'a>;

    /// [`RateLimitStore::hit`] for a store that decides at once, without
    /// waiting (one in process memory): counts the request and returns the
    /// decision. The default, for stores that must wait (a database), counts
    /// nothing and returns `None`, and callers then use `hit`. The hot path of
    /// `/get-session` uses it to answer a cached session without a future.
    fn hit_now(
        &self,
        key: &str,
        window: Duration,
        max: u32,
        now: DateTime<Utc>,
    ) -> Option<Result<RateDecision>> {
        let _ = (key, window, max, now);
        None
    }

    /// S30: reserves one password attempt for `account` *before* the password
    /// is checked, atomically: while the account is in a delay nothing is
    /// reserved and the attempt is refused; otherwise the attempt counts as a
    /// failure at once (so N concurrent guesses cost N attempts), and from the
    /// fifth in a row on it starts a delay of 1, 2, 4, ... seconds (at most 15
    /// minutes, see [`attempt_delay`]). A correct password then calls
    /// [`RateLimitStore::clear_attempts`].
    fn reserve_attempt<'a>(&'a self, account: &'a str, now: DateTime<Utc>) -> HitFuture<'a>;

    /// Forgets an account's attempts (a correct password, or a password reset).
    fn clear_attempts<'a>(&'a self, account: &'a str) -> ClearFuture<'a>;
}

fn decide(count: i64, window_start: i64, window: Duration, max: u32, now: i64) -> RateDecision {
    let window_ms = window.as_millis() as i64;
    let reset_in = (window_start + window_ms - now).max(0);
    RateDecision {
        allowed: count <= i64::from(max),
        retry_after: ((reset_in + 999) / 1000).max(1) as u64,
    }
}
