//! Counters in process memory ([`MemoryRateLimitStore`], S32): sharded maps
//! with expiry by time and a capacity.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::attempts::{ALLOWED, ATTEMPT_MEMORY_MS, refused};
use super::{ClearFuture, HitFuture, RateDecision, RateLimitStore, attempt_delay, decide};
use crate::error::Result;

/// One counter: a fixed window (`start`, `count`), or an account's attempts
/// (`count` in a row, delayed until `start`). Forgotten at `expires` (Unix ms).
#[derive(Clone, Copy, Debug, Default)]
struct Counter {
    expires: i64,
    start: i64,
    count: u32,
    /// Which expiry-queue item belongs to this counter (older items are stale).
    seq: u64,
}

#[derive(Debug, Default)]
struct Shard {
    counters: HashMap<Arc<str>, Counter>,
    /// Keys by expiry, oldest first (nearly: a window restarted in place is
    /// re-queued when its old item comes up). One live item per counter.
    queue: VecDeque<(i64, u64, Arc<str>)>,
    next_seq: u64,
}

/// Expired counters dropped per request at most: bounded work per request.
const EXPIRE_PER_CALL: usize = 4;

impl Shard {
    /// Drops a few counters whose time is up; re-queues any that were extended.
    fn expire(&mut self, now: i64) {
        for _ in 0..EXPIRE_PER_CALL {
            match self.queue.front() {
                Some((expires, _, _)) if *expires <= now => {}
                _ => return,
            }
            let Some((_, seq, key)) = self.queue.pop_front() else {
                return;
            };
            match self.counters.get(&key) {
                Some(c) if c.seq == seq && c.expires <= now => {
                    self.counters.remove(&key);
                }
                Some(c) if c.seq == seq => self.queue.push_back((c.expires, seq, key)),
                _ => {} // removed or replaced: a stale item
            }
        }
    }

    /// Evicts the counters that expire first until at most `cap` remain.
    fn evict_to(&mut self, cap: usize) {
        while self.counters.len() > cap {
            let Some((_, seq, key)) = self.queue.pop_front() else {
                return;
            };
            if self.counters.get(&key).is_some_and(|c| c.seq == seq) {
                self.counters.remove(&key);
            }
        }
    }

    /// The counter for `key` (a fresh one expiring at `expires` when absent or
    /// expired), after which `f` updates it.
    fn update<R>(
        &mut self,
        key: &str,
        now: i64,
        expires: i64,
        f: impl FnOnce(&mut Counter) -> R,
    ) -> R {
        if let Some(counter) = self.counters.get_mut(key) {
            if counter.expires > now {
                return f(counter);
            }
            // Expired but not yet dropped: start over in place (same queue item).
            let seq = counter.seq;
            *counter = Counter {
                expires,
                seq,
                ..Counter::default()
            };
            return f(counter);
        }
        let key: Arc<str> = Arc::from(key);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push_back((expires, seq, key.clone()));
        let counter = self.counters.entry(key).or_insert(Counter {
            expires,
            seq,
            ..Counter::default()
        });
        f(counter)
    }
}

/// A map of counters split into shards, each under its own lock, with
/// expiry by time and a capacity (S32): a request costs one hash, one lock
/// and a bounded amount of expiry work, however many clients there are.
#[derive(Debug)]
struct CounterMap {
    shards: Box<[Mutex<Shard>]>,
    cap_per_shard: usize,
    hasher: std::collections::hash_map::RandomState,
}

/// Shards of a [`MemoryRateLimitStore`]: enough that two cores rarely meet.
const SHARDS: usize = 64;

impl CounterMap {
    fn new(capacity: usize) -> Self {
        CounterMap {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            cap_per_shard: capacity.div_ceil(SHARDS).max(1),
            hasher: Default::default(),
        }
    }

    fn shard(&self, key: &str) -> std::sync::MutexGuard<'_, Shard> {
        use std::hash::BuildHasher;
        let index = (self.hasher.hash_one(key) as usize) % self.shards.len();
        self.shards[index].lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update<R>(&self, key: &str, now: i64, expires: i64, f: impl FnOnce(&mut Counter) -> R) -> R {
        let mut shard = self.shard(key);
        shard.expire(now);
        let result = shard.update(key, now, expires, f);
        let cap = self.cap_per_shard;
        shard.evict_to(cap);
        result
    }

    fn remove(&self, key: &str) {
        self.shard(key).counters.remove(key);
    }

    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).counters.len())
            .sum()
    }
}

/// Counters in process memory, for a single instance (S32): sharded, each
/// counter forgotten when its window ends, and at most a fixed number of
/// counters (default [`MemoryRateLimitStore::DEFAULT_CAPACITY`]); past it,
/// the counters that expire first are evicted. Account attempts (S30) are
/// kept apart, so a flood of client addresses cannot evict them.
#[derive(Debug)]
pub struct MemoryRateLimitStore {
    windows: CounterMap,
    accounts: CounterMap,
}

impl Default for MemoryRateLimitStore {
    fn default() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }
}

impl MemoryRateLimitStore {
    /// Counters kept at most by default, for client windows and for accounts
    /// each (about 15 MB each when full).
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store keeping at most `capacity` client windows and `capacity` account counters.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use better_auth::rate_limit::{MemoryRateLimitStore, RateLimitConfig};
    ///
    /// let limits = RateLimitConfig::default().store(Arc::new(MemoryRateLimitStore::with_capacity(10_000)));
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryRateLimitStore {
            windows: CounterMap::new(capacity),
            accounts: CounterMap::new(capacity),
        }
    }

    /// How many client windows are held now (diagnostics and benchmarks).
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// True when no client window is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl MemoryRateLimitStore {
    /// Counts one request for `key` in its current window.
    fn count(&self, key: &str, window: Duration, max: u32, now: DateTime<Utc>) -> RateDecision {
        let now = now.timestamp_millis();
        let window_ms = window.as_millis() as i64;
        let (count, start) = self.windows.update(key, now, now + window_ms, |c| {
            if c.count == 0 {
                c.start = now;
            }
            c.count = c.count.saturating_add(1);
            (c.count, c.start)
        });
        decide(i64::from(count), start, window, max, now)
    }
}

impl RateLimitStore for MemoryRateLimitStore {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window: Duration,
        max: u32,
        now: DateTime<Utc>,
    ) -> HitFuture<'a> {
        let decision = self.count(key, window, max, now);
        Box::pin(async move { Ok(decision) })
    }

    fn hit_now(
        &self,
        key: &str,
        window: Duration,
        max: u32,
        now: DateTime<Utc>,
    ) -> Option<Result<RateDecision>> {
        Some(Ok(self.count(key, window, max, now)))
    }

    fn reserve_attempt<'a>(&'a self, account: &'a str, now: DateTime<Utc>) -> HitFuture<'a> {
        let now = now.timestamp_millis();
        let decision = self
            .accounts
            .update(account, now, now + ATTEMPT_MEMORY_MS, |c| {
                if c.start > now {
                    return refused(c.start, now);
                }
                c.count = c.count.saturating_add(1);
                c.expires = now + ATTEMPT_MEMORY_MS;
                let delay = attempt_delay(c.count).as_millis() as i64;
                if delay > 0 {
                    c.start = now + delay;
                }
                ALLOWED
            });
        Box::pin(async move { Ok(decision) })
    }

    fn clear_attempts<'a>(&'a self, account: &'a str) -> ClearFuture<'a> {
        self.accounts.remove(account);
        Box::pin(async { Ok(()) })
    }
}
