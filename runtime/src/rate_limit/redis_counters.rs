//! Counters in Redis ([`RedisRateLimitStore`], feature `redis`), shared by
//! every instance on the same Redis, with a fallback while Redis is down.

use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::attempts::{ATTEMPT_MEMORY_MS, refused};
use super::{
    ClearFuture, FREE_ATTEMPTS, HitFuture, MemoryRateLimitStore, RateDecision, RateLimitStore,
    attempt_delay, decide,
};
use crate::store::RedisStorage;

/// What a [`RedisRateLimitStore`] decides while Redis does not answer (an
/// error or a timeout, and for a second after one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisOutage {
    /// Count in this instance's memory, as [`MemoryRateLimitStore`] does
    /// (the default): every limit and the per-account throttle still hold,
    /// per instance, until Redis is back (then its counters count again).
    #[default]
    Memory,
    /// Allow every request and password attempt (fail open): no limit and
    /// no per-account throttle while Redis is down.
    Allow,
    /// Refuse every request and password attempt with 429 (fail closed):
    /// nobody signs in while Redis is down.
    Deny,
}

/// Rate-limit counters and per-account password attempts (S10, S30) in
/// Redis, shared by every instance on the same Redis: one atomic Lua script
/// per request (fixed windows, like the other stores). While Redis is
/// down, decisions follow the [`RedisOutage`] policy (default: counters in
/// process memory); they go back to Redis by themselves when it answers.
///
/// ``` no_run
/// # async fn f() -> better_auth::Result<()> {
/// use std::sync::Arc;
/// use better_auth::rate_limit::{RateLimitConfig, RedisOutage, RedisRateLimitStore};
/// use better_auth::store::RedisStorage;
///
/// let redis = RedisStorage::connect("redis://127.0.0.1:6379").await?;
/// let store = RedisRateLimitStore::new(redis).on_outage(RedisOutage::Deny);
/// let limits = RateLimitConfig::default().store(Arc::new(store));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RedisRateLimitStore {
    redis: RedisStorage,
    outage: RedisOutage,
    fallback: MemoryRateLimitStore,
}

impl RedisRateLimitStore {
    /// A store on this Redis, counting in memory while it is down.
    pub fn new(redis: RedisStorage) -> Self {
        RedisRateLimitStore {
            redis,
            outage: RedisOutage::default(),
            fallback: MemoryRateLimitStore::default(),
        }
    }

    /// What to decide while Redis does not answer (default [`RedisOutage::Memory`]).
    pub fn on_outage(mut self, outage: RedisOutage) -> Self {
        self.outage = outage;
        self
    }

    /// The decision while Redis is down, for a window's request.
    fn outage_hit(
        &self,
        key: &str,
        window: Duration,
        max: u32,
        now: DateTime<Utc>,
    ) -> RateDecision {
        match self.outage {
            RedisOutage::Memory => match self.fallback.hit_now(key, window, max, now) {
                Some(Ok(decision)) => decision,
                _ => RateDecision::allow(1),
            },
            RedisOutage::Allow => RateDecision::allow(1),
            RedisOutage::Deny => RateDecision::deny(RETRY_SECS),
        }
    }
}

/// `Retry-After` of a refusal while Redis is down (fail closed).
const RETRY_SECS: u64 = 5;

impl RateLimitStore for RedisRateLimitStore {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window: Duration,
        max: u32,
        now: DateTime<Utc>,
    ) -> HitFuture<'a> {
        Box::pin(async move {
            if !self.redis.available() {
                return Ok(self.outage_hit(key, window, max, now));
            }
            let now_ms = now.timestamp_millis();
            let mut conn = self.redis.conn();
            let mut invocation = HIT.prepare_invoke();
            invocation
                .key(self.redis.counter_key(key))
                .arg(now_ms)
                .arg(window.as_millis().max(1) as u64);
            let counted: Option<(i64, i64)> = self
                .redis
                .run("counting a request", invocation.invoke_async(&mut conn))
                .await;
            Ok(match counted {
                Some((count, start)) => decide(count, start, window, max, now_ms),
                None => self.outage_hit(key, window, max, now),
            })
        })
    }

    fn reserve_attempt<'a>(&'a self, account: &'a str, now: DateTime<Utc>) -> HitFuture<'a> {
        Box::pin(async move {
            let outage = async {
                match self.outage {
                    RedisOutage::Memory => self.fallback.reserve_attempt(account, now).await,
                    RedisOutage::Allow => Ok(RateDecision::allow(0)),
                    RedisOutage::Deny => Ok(RateDecision::deny(RETRY_SECS)),
                }
            };
            if !self.redis.available() {
                return outage.await;
            }
            let now_ms = now.timestamp_millis();
            let mut conn = self.redis.conn();
            let mut invocation = ATTEMPT.prepare_invoke();
            invocation
                .key(self.redis.counter_key(&format!("account|{account}")))
                .arg(now_ms)
                .arg(ATTEMPT_MEMORY_MS);
            for delay in DELAYS.iter() {
                invocation.arg(*delay);
            }
            let reserved: Option<(i64, i64)> = self
                .redis
                .run(
                    "reserving a password attempt",
                    invocation.invoke_async(&mut conn),
                )
                .await;
            match reserved {
                Some((1, _)) => Ok(RateDecision::allow(0)),
                Some((_, until)) => Ok(refused(until, now_ms)),
                None => outage.await,
            }
        })
    }

    fn clear_attempts<'a>(&'a self, account: &'a str) -> ClearFuture<'a> {
        Box::pin(async move {
            // Both: the fallback may have counted during an outage.
            self.fallback.clear_attempts(account).await?;
            let mut conn = self.redis.conn();
            let key = self.redis.counter_key(&format!("account|{account}"));
            let _: Option<i64> = self
                .redis
                .run(
                    "clearing password attempts",
                    redis::cmd("DEL").arg(key).query_async(&mut conn),
                )
                .await;
            Ok(())
        })
    }
}

/// The delay after the n-th attempt in a row (ARGV[3 + n - 1], ms), up to
/// the attempt from which it no longer grows: [`attempt_delay`] decides.
static DELAYS: LazyLock<Vec<u64>> = LazyLock::new(|| {
    (1..=FREE_ATTEMPTS + 10)
        .map(|n| attempt_delay(n).as_millis() as u64)
        .collect()
});

/// One request in a fixed window: `{count, window start}` (ms, the
/// caller's clock). KEYS[1] the counter; ARGV now, window.
static HIT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local start = tonumber(redis.call('HGET', KEYS[1], 's') or '-1') or -1
if start < 0 or start + window <= now then
  redis.call('HSET', KEYS[1], 's', ARGV[1], 'c', 1)
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, now}
end
return {redis.call('HINCRBY', KEYS[1], 'c', 1), start}
",
    )
});

/// Reserves one password attempt: `{1, 0}`, or `{0, until}` while the
/// account waits. KEYS[1] the account's counter (`c` attempts in a row, `u`
/// the end of the current delay); ARGV now, memory, then the delays.
static ATTEMPT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local now = tonumber(ARGV[1])
local waiting = tonumber(redis.call('HGET', KEYS[1], 'u') or '0') or 0
if waiting > now then return {0, waiting} end
local count = redis.call('HINCRBY', KEYS[1], 'c', 1)
local delays = #ARGV - 2
local delay = tonumber(ARGV[2 + math.min(count, delays)])
if delay > 0 then redis.call('HSET', KEYS[1], 'u', now + delay) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, 0}
",
    )
});
