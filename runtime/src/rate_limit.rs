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
//! request) for several instances sharing a database.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::HeaderMap;

use crate::error::{Error, Result};
use crate::store::{Database, on_pool};

/// A limit for one route path (relative to the mount point).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RateLimitRule {
    /// Route template, e.g. `/sign-in/email`.
    pub path: String,
    /// Window length.
    pub window: Duration,
    /// Requests allowed per window.
    pub max: u32,
}

impl RateLimitRule {
    /// A rule allowing `max` requests per `window` on `path`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use better_auth::rate_limit::RateLimitRule;
    ///
    /// let rule = RateLimitRule::new("/sign-in/email", Duration::from_secs(60), 5);
    /// assert_eq!(rule.max, 5);
    /// ```
    pub fn new(path: impl Into<String>, window: Duration, max: u32) -> Self {
        RateLimitRule {
            path: path.into(),
            window,
            max,
        }
    }
}

/// A trusted proxy network (`10.0.0.0/8`, `::1/128`, or a single address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet(ipnet::IpNet);

impl IpNet {
    /// Parses `addr` or `addr/prefix`.
    ///
    /// ```
    /// use better_auth::rate_limit::IpNet;
    ///
    /// let net = IpNet::parse("10.0.0.0/8").unwrap();
    /// assert!(net.contains("10.1.2.3".parse().unwrap()));
    /// assert!(!net.contains("11.0.0.1".parse().unwrap()));
    /// assert!(IpNet::parse("10.0.0.0/33").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let net = match text.parse::<ipnet::IpNet>() {
            Ok(net) => net,
            Err(_) => text
                .parse::<IpAddr>()
                .map(ipnet::IpNet::from)
                .map_err(|_| Error::Config(format!("`{text}` is not an IP address or network")))?,
        };
        Ok(IpNet(net))
    }

    /// True when `ip` is inside this network (an IPv4-mapped IPv6 address counts as its
    /// IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&canonical(ip))
    }
}

/// IPv4-mapped IPv6 addresses count as their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Rate-limit settings. On by default with the limits of security.md.
#[derive(Clone)]
#[non_exhaustive]
pub struct RateLimitConfig {
    /// Whether requests are limited at all.
    pub enabled: bool,
    /// Window of the default limit (10 s).
    pub window: Duration,
    /// Requests per window and client on routes without a rule (100).
    pub max: u32,
    /// Stricter limits per route.
    pub rules: Vec<RateLimitRule>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Where counters live, including the per-account password attempts
    /// (S10, S30), which apply even when `enabled` is false.
    pub store: Arc<dyn RateLimitStore>,
}

impl std::fmt::Debug for RateLimitConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitConfig")
            .field("enabled", &self.enabled)
            .field("window", &self.window)
            .field("max", &self.max)
            .field("rules", &self.rules)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let ten = Duration::from_secs(10);
        let minute = Duration::from_secs(60);
        RateLimitConfig {
            enabled: true,
            window: ten,
            max: 100,
            rules: vec![
                RateLimitRule::new("/sign-in/email", ten, 3),
                RateLimitRule::new("/sign-up/email", ten, 3),
                RateLimitRule::new("/change-password", ten, 3),
                RateLimitRule::new("/change-email", ten, 3),
                // S31: every route that checks a password has the sign-in rule.
                RateLimitRule::new("/delete-user", ten, 3),
                RateLimitRule::new("/request-password-reset", minute, 3),
                RateLimitRule::new("/forget-password", minute, 3),
                RateLimitRule::new("/send-verification-email", minute, 3),
            ],
            trusted_proxies: Vec::new(),
            store: Arc::new(MemoryRateLimitStore::default()),
        }
    }
}

impl RateLimitConfig {
    /// No rate limiting (tests, or an app that limits at its proxy).
    ///
    /// ```
    /// use better_auth::AuthConfig;
    /// use better_auth::rate_limit::RateLimitConfig;
    ///
    /// // Per-client limits off (tests, or limits enforced by a proxy); per-account
    /// // password throttling (S10, S30) still applies.
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").rate_limit(RateLimitConfig::disabled());
    /// ```
    pub fn disabled() -> Self {
        RateLimitConfig {
            enabled: false,
            ..Self::default()
        }
    }

    /// Sets (or replaces) the rule for a path.
    ///
    /// ```
    /// use std::time::Duration;
    /// use better_auth::rate_limit::RateLimitConfig;
    ///
    /// let limits = RateLimitConfig::default().rule("/sign-up/email", Duration::from_secs(3600), 10);
    /// ```
    pub fn rule(mut self, path: &str, window: Duration, max: u32) -> Self {
        self.rules.retain(|r| r.path != path);
        self.rules.push(RateLimitRule::new(path, window, max));
        self
    }

    /// Trusts `X-Forwarded-For` from these proxies (`"10.0.0.0/8"`, `"127.0.0.1"`).
    ///
    /// ```
    /// use better_auth::rate_limit::RateLimitConfig;
    ///
    /// // Behind a load balancer on 10.0.0.0/8: believe its X-Forwarded-For.
    /// let limits = RateLimitConfig::default().trusted_proxies(["10.0.0.0/8", "::1"])?;
    /// # Ok::<(), better_auth::Error>(())
    /// ```
    pub fn trusted_proxies<I, S>(mut self, proxies: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.trusted_proxies = proxies
            .into_iter()
            .map(|p| IpNet::parse(p.as_ref()))
            .collect::<Result<_>>()?;
        Ok(self)
    }

    /// Keeps counters in a database (for several instances).
    ///
    /// ``` no_run
    /// # async fn f() -> better_auth::Result<()> {
    /// use std::sync::Arc;
    /// use better_auth::rate_limit::{DatabaseRateLimitStore, RateLimitConfig};
    /// use better_auth::store::Database;
    ///
    /// // Several instances behind a load balancer share counters in their database.
    /// let database = Database::connect("postgres://localhost/app").await?;
    /// let limits = RateLimitConfig::default().store(Arc::new(DatabaseRateLimitStore::new(database)));
    /// # Ok(()) }
    /// ```
    pub fn store(mut self, store: Arc<dyn RateLimitStore>) -> Self {
        self.store = store;
        self
    }

    /// The client a request comes from, as rate limits see it.
    pub(crate) fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.is_trusted(peer) {
            return peer;
        }
        let mut client = peer;
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else { break };
            client = canonical(ip);
            if !self.is_trusted(client) {
                break;
            }
        }
        client
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(ip))
    }

    /// The window and maximum for a route.
    pub(crate) fn limit_for(&self, path: &str) -> (Duration, u32) {
        self.rules
            .iter()
            .find(|r| r.path == path)
            .map_or((self.window, self.max), |r| (r.window, r.max))
    }
}

/// The bucket an address belongs to: IPv4 addresses alone, IPv6 per /64.
pub(crate) fn bucket(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

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
const ATTEMPT_MEMORY_MS: i64 = 3_600_000;

/// A refused attempt: wait until `until` (Unix ms).
fn refused(until: i64, now: i64) -> RateDecision {
    RateDecision {
        allowed: false,
        retry_after: ((until - now + 999) / 1000).max(1) as u64,
    }
}

const ALLOWED: RateDecision = RateDecision {
    allowed: true,
    retry_after: 0,
};

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

/// Counters in the `rateLimit` table, shared by every instance on the database.
/// Account attempts (S30) live there too, under keys `account|<email>`.
#[derive(Clone, Debug)]
pub struct DatabaseRateLimitStore {
    db: Database,
}

impl DatabaseRateLimitStore {
    /// A store on this database (run the migrations first).
    ///
    /// ``` no_run
    /// # async fn f() -> better_auth::Result<()> {
    /// use std::sync::Arc;
    /// use better_auth::rate_limit::{DatabaseRateLimitStore, RateLimitConfig};
    /// use better_auth::store::Database;
    ///
    /// let database = Database::connect("sqlite://auth.db?mode=rwc").await?;
    /// let limits = RateLimitConfig::default().store(Arc::new(DatabaseRateLimitStore::new(database)));
    /// # Ok(()) }
    /// ```
    pub fn new(db: Database) -> Self {
        DatabaseRateLimitStore { db }
    }
}

impl RateLimitStore for DatabaseRateLimitStore {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window: Duration,
        max: u32,
        now: DateTime<Utc>,
    ) -> HitFuture<'a> {
        Box::pin(async move {
            let now = now.timestamp_millis();
            let window_start = now - window.as_millis() as i64;
            // One atomic statement: a new window, or one more in the current one.
            const SQL: &str = r#"INSERT INTO "rateLimit" ("id", "key", "count", "lastRequest")
                VALUES ($1, $2, 1, $3)
                ON CONFLICT ("key") DO UPDATE SET
                    "count" = CASE WHEN "rateLimit"."lastRequest" <= $4 THEN 1 ELSE "rateLimit"."count" + 1 END,
                    "lastRequest" = CASE WHEN "rateLimit"."lastRequest" <= $4 THEN $3 ELSE "rateLimit"."lastRequest" END
                RETURNING CAST("count" AS bigint), "lastRequest""#;
            let (count, start): (i64, i64) = on_pool!(self.db, |pool| sqlx::query_as(SQL)
                .bind(crate::crypto::generate_id())
                .bind(key)
                .bind(now)
                .bind(window_start)
                .fetch_one(pool)
                .await?);
            Ok(decide(count, start, window, max, now))
        })
    }

    fn reserve_attempt<'a>(&'a self, account: &'a str, now: DateTime<Utc>) -> HitFuture<'a> {
        Box::pin(async move {
            let now = now.timestamp_millis();
            let key = format!("account|{account}");
            // The row holds the attempts in a row ("count") and the end of the
            // current delay ("lastRequest", Unix ms). The first statement is a
            // write, so the row (PostgreSQL) or the database (SQLite) is locked
            // until commit: concurrent attempts are decided one after another.
            const LOCK: &str = r#"INSERT INTO "rateLimit" ("id", "key", "count", "lastRequest")
                VALUES ($1, $2, 0, 0)
                ON CONFLICT ("key") DO UPDATE SET "count" = "rateLimit"."count"
                RETURNING CAST("count" AS bigint), "lastRequest""#;
            const SET: &str =
                r#"UPDATE "rateLimit" SET "count" = $2, "lastRequest" = $3 WHERE "key" = $1"#;
            let decision = on_pool!(self.db, |pool| {
                let mut tx = pool.begin().await?;
                let (count, until): (i64, i64) = sqlx::query_as(LOCK)
                    .bind(crate::crypto::generate_id())
                    .bind(&key)
                    .fetch_one(&mut *tx)
                    .await?;
                // Attempts older than the memory window no longer count.
                let last = until.abs();
                let stale = last > 0 && last + ATTEMPT_MEMORY_MS <= now;
                if until > now {
                    tx.rollback().await?;
                    refused(until, now)
                } else {
                    let count = if stale { 1 } else { count + 1 };
                    let delay = attempt_delay(u32::try_from(count).unwrap_or(u32::MAX));
                    // Without a delay, "lastRequest" keeps the last attempt (negated, so it
                    // never reads as a delay) for the memory window.
                    let until = if delay.is_zero() {
                        -now
                    } else {
                        now + delay.as_millis() as i64
                    };
                    sqlx::query(SET)
                        .bind(&key)
                        .bind(count)
                        .bind(until)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    ALLOWED
                }
            });
            Ok(decision)
        })
    }

    fn clear_attempts<'a>(&'a self, account: &'a str) -> ClearFuture<'a> {
        Box::pin(async move {
            let key = format!("account|{account}");
            on_pool!(self.db, |pool| sqlx::query(
                r#"DELETE FROM "rateLimit" WHERE "key" = $1"#
            )
            .bind(&key)
            .execute(pool)
            .await
            .map(|_| ())?);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_buckets() {
        let net = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.1.2.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(IpNet::parse("nonsense").is_err());
        assert_eq!(
            bucket("2001:db8:1:2:aaaa::1".parse().unwrap()),
            bucket("2001:db8:1:2:bbbb::9".parse().unwrap())
        );
        assert_ne!(
            bucket("2001:db8:1:2::1".parse().unwrap()),
            bucket("2001:db8:1:3::1".parse().unwrap())
        );
    }
}
