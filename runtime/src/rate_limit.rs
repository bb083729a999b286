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

use std::collections::HashMap;
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
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `addr` or `addr/prefix`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::Config(format!("`{text}` is not an IP address or network"));
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (text, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(IpNet { addr, prefix })
    }

    /// True when `ip` is inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
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
    /// Where counters live.
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
    pub fn disabled() -> Self {
        RateLimitConfig {
            enabled: false,
            ..Self::default()
        }
    }

    /// Sets (or replaces) the rule for a path.
    pub fn rule(mut self, path: &str, window: Duration, max: u32) -> Self {
        self.rules.retain(|r| r.path != path);
        self.rules.push(RateLimitRule::new(path, window, max));
        self
    }

    /// Trusts `X-Forwarded-For` from these proxies (`"10.0.0.0/8"`, `"127.0.0.1"`).
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
    pub fn store(mut self, store: Arc<dyn RateLimitStore>) -> Self {
        self.store = store;
        self
    }

    /// The client a request comes from, as rate limits see it.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
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
    pub fn limit_for(&self, path: &str) -> (Duration, u32) {
        self.rules
            .iter()
            .find(|r| r.path == path)
            .map_or((self.window, self.max), |r| (r.window, r.max))
    }
}

/// The bucket an address belongs to: IPv4 addresses alone, IPv6 per /64.
pub fn bucket(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The outcome of counting one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateDecision {
    /// The request may proceed.
    pub allowed: bool,
    /// Seconds until the window resets (for `Retry-After`).
    pub retry_after: u64,
}

/// The future a [`RateLimitStore`] returns.
pub type HitFuture<'a> = Pin<Box<dyn Future<Output = Result<RateDecision>> + Send + 'a>>;

/// Counts requests per key in fixed windows.
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
}

fn decide(count: i64, window_start: i64, window: Duration, max: u32, now: i64) -> RateDecision {
    let window_ms = window.as_millis() as i64;
    let reset_in = (window_start + window_ms - now).max(0);
    RateDecision {
        allowed: count <= i64::from(max),
        retry_after: ((reset_in + 999) / 1000).max(1) as u64,
    }
}

/// Counters in process memory, for a single instance.
#[derive(Debug, Default)]
pub struct MemoryRateLimitStore {
    counters: Mutex<HashMap<String, (i64, i64)>>,
}

impl RateLimitStore for MemoryRateLimitStore {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window: Duration,
        max: u32,
        now: DateTime<Utc>,
    ) -> HitFuture<'a> {
        let now = now.timestamp_millis();
        let window_ms = window.as_millis() as i64;
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        if counters.len() > 100_000 {
            // Forget finished windows so the map stays bounded.
            counters.retain(|_, (start, _)| *start + 3_600_000 > now);
        }
        let entry = counters.entry(key.to_string()).or_insert((now, 0));
        if entry.0 + window_ms <= now {
            *entry = (now, 0);
        }
        entry.1 += 1;
        let decision = decide(entry.1, entry.0, window, max, now);
        Box::pin(async move { Ok(decision) })
    }
}

/// Counters in the `rateLimit` table, shared by every instance on the database.
#[derive(Clone, Debug)]
pub struct DatabaseRateLimitStore {
    db: Database,
}

impl DatabaseRateLimitStore {
    /// A store on this database (run the migrations first).
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
}

/// Per-account throttling of failed sign-ins (S10): after five failures in a
/// row, each further attempt must wait 1, 2, 4, ... seconds (at most 15
/// minutes). A successful sign-in or a password reset clears it.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

/// Failures allowed before delays start.
const FREE_FAILURES: u32 = 5;

impl SignInThrottle {
    /// Seconds the account must still wait, if it is throttled.
    pub fn check(&self, email: &str, now: DateTime<Utc>) -> Option<u64> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (_, until) = failures.get(email)?;
        let wait = until - now.timestamp_millis();
        (wait > 0).then(|| ((wait + 999) / 1000) as u64)
    }

    /// Records a failed attempt.
    pub fn fail(&self, email: &str, now: DateTime<Utc>) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > 100_000 {
            let now = now.timestamp_millis();
            failures.retain(|_, (_, until)| *until + 3_600_000 > now);
        }
        let entry = failures.entry(email.to_string()).or_insert((0, 0));
        entry.0 += 1;
        if entry.0 >= FREE_FAILURES {
            let delay_secs = 1i64 << (entry.0 - FREE_FAILURES).min(10);
            entry.1 = now.timestamp_millis() + delay_secs.min(900) * 1000;
        }
    }

    /// Forgets an account's failures.
    pub fn clear(&self, email: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(email);
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
