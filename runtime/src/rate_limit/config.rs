//! Rate-limit settings: the default limit, the stricter rule per route, the
//! trusted proxies and the counter store, and the limit a route gets.

use std::sync::Arc;
use std::time::Duration;

use super::{IpNet, MemoryRateLimitStore, RateLimitStore};
use crate::error::Result;

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

    /// The window and maximum for a route.
    pub(crate) fn limit_for(&self, path: &str) -> (Duration, u32) {
        self.rules
            .iter()
            .find(|r| r.path == path)
            .map_or((self.window, self.max), |r| (r.window, r.max))
    }
}
