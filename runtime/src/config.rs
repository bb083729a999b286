//! Configuration: plain data, validated once by `BetterAuth::build`.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Minimum length of the signing secret (S17).
pub const MIN_SECRET_LEN: usize = 32;

/// Top-level configuration of a `BetterAuth` instance.
#[derive(Clone)]
pub struct AuthConfig {
    pub(crate) secret: String,
    pub(crate) base_url: String,
    pub(crate) trusted_origins: Vec<String>,
    pub(crate) session: SessionConfig,
    pub(crate) password: PasswordPolicy,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) session_cache_ttl: Option<Duration>,
    pub(crate) validated_session_cache: bool,
    pub(crate) base_path: String,
    pub(crate) email_sender: Option<Arc<dyn crate::email::EmailSender>>,
    pub(crate) rate_limit: crate::rate_limit::RateLimitConfig,
    pub(crate) max_body_bytes: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) hashing_queue: usize,
    pub(crate) verification_purge_interval: Duration,
    #[cfg(feature = "redis")]
    pub(crate) secondary_storage: Option<crate::store::RedisStorage>,
}

/// Default largest request body (S36): auth bodies are a few hundred bytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// Default time a client has to send a request body (S36).
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
pub use crate::crypto::DEFAULT_HASHING_QUEUE;
/// Default time between two background purges of expired tokens (S50).
pub const DEFAULT_VERIFICATION_PURGE_INTERVAL: Duration = Duration::from_secs(600);

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("AuthConfig")
            .field("secret", &"<redacted>")
            .field("base_url", &self.base_url)
            .field("base_path", &self.base_path)
            .field("trusted_origins", &self.trusted_origins)
            .field("session", &self.session)
            .field("password", &self.password)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("body_timeout", &self.body_timeout)
            .field("hashing_queue", &self.hashing_queue)
            .field(
                "verification_purge_interval",
                &self.verification_purge_interval,
            )
            .finish()
    }
}

impl AuthConfig {
    /// A configuration signing cookies with `secret` (at least 32 characters,
    /// checked when the instance is built). The base URL defaults to
    /// `http://localhost:3000`; set the real one with [`AuthConfig::base_url`].
    ///
    /// ```
    /// use better_auth::AuthConfig;
    ///
    /// // Read the secret from the environment in a real app (`better-auth secret` makes one).
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").base_url("https://app.example.com");
    /// ```
    pub fn new(secret: impl Into<String>) -> Self {
        AuthConfig {
            secret: secret.into(),
            base_url: "http://localhost:3000".to_owned(),
            trusted_origins: Vec::new(),
            session: SessionConfig::default(),
            password: PasswordPolicy::default(),
            clock: Arc::new(SystemClock),
            session_cache_ttl: None,
            validated_session_cache: true,
            base_path: "/auth".to_owned(),
            email_sender: None,
            rate_limit: crate::rate_limit::RateLimitConfig::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            hashing_queue: DEFAULT_HASHING_QUEUE,
            verification_purge_interval: DEFAULT_VERIFICATION_PURGE_INTERVAL,
            #[cfg(feature = "redis")]
            secondary_storage: None,
        }
    }

    /// Largest request body accepted (default 64 KiB, S36). Larger bodies get
    /// 413 before they are read: at once from `Content-Length`, or as soon as
    /// a streamed body passes the limit. Auth requests are a few hundred bytes;
    /// raise it only for plugins that take large bodies.
    ///
    /// ```
    /// use better_auth::AuthConfig;
    ///
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").max_body_bytes(256 * 1024);
    /// ```
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// How long a client may take to send a request body (default 10 s, S36);
    /// slower bodies get 408. Keeps slow clients from holding buffers open.
    ///
    /// ```
    /// use std::time::Duration;
    /// use better_auth::AuthConfig;
    ///
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").body_timeout(Duration::from_secs(5));
    /// ```
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// How many password hashes or verifications may wait for a hashing
    /// thread (default 128, S31). When the queue is full, requests that need
    /// one are answered 503 with `Retry-After` at once instead of queueing
    /// without limit. At least 1.
    ///
    /// ```
    /// use better_auth::AuthConfig;
    ///
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").hashing_queue(32);
    /// ```
    pub fn hashing_queue(mut self, jobs: usize) -> Self {
        self.hashing_queue = jobs.max(1);
        self
    }

    /// Where the app nests the auth router (default `/auth`, as in
    /// `.nest("/auth", ...)`), or where
    /// [`axum_routes`](crate::integrations::axum::AxumIntegration::axum_routes)
    /// mounts it. Links in emails are `base_url + base_path + route`.
    ///
    /// ```
    /// use better_auth::AuthConfig;
    ///
    /// // The app nests the routes with `.nest("/api/auth", auth.axum_router())`.
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").base_path("/api/auth");
    /// ```
    pub fn base_path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        let trimmed = path.trim_matches('/');
        self.base_path = if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        };
        self
    }

    /// Rate limits (on by default: 100 requests per 10 s per client, 3 per
    /// 10 s on sign-in/sign-up/password and email changes, 3 per minute on
    /// reset and verification emails). Limits need the client address: serve
    /// the app with `into_make_service_with_connect_info::<SocketAddr>()`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use better_auth::AuthConfig;
    /// use better_auth::rate_limit::RateLimitConfig;
    ///
    /// let limits = RateLimitConfig::default()
    ///     .rule("/sign-in/email", Duration::from_secs(60), 5)
    ///     .trusted_proxies(["10.0.0.0/8"])?;
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").rate_limit(limits);
    /// # Ok::<(), better_auth::Error>(())
    /// ```
    pub fn rate_limit(mut self, rate_limit: crate::rate_limit::RateLimitConfig) -> Self {
        self.rate_limit = rate_limit;
        self
    }

    /// Delivers reset and verification emails. Without one, a base URL on
    /// `http://localhost` (or 127.0.0.1, `[::1]`) logs each message with its link
    /// at WARN, so a developer can click through; any other base URL logs only
    /// that a message was due, never the link (S38): a link is a live token.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use better_auth::AuthConfig;
    /// use better_auth::email::MemoryEmailSender;
    ///
    /// // Keeps messages in memory (tests); implement `EmailSender` for SMTP or an API.
    /// let outbox = MemoryEmailSender::new();
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").email_sender(Arc::new(outbox.clone()));
    /// ```
    pub fn email_sender(mut self, sender: Arc<dyn crate::email::EmailSender>) -> Self {
        self.email_sender = Some(sender);
        self
    }

    /// The configured email sender, or the default one for this base URL
    /// (see [`AuthConfig::email_sender`]).
    pub fn sender(&self) -> Arc<dyn crate::email::EmailSender> {
        match &self.email_sender {
            Some(sender) => sender.clone(),
            None if self.is_local_development() => Arc::new(crate::email::LogEmailSender),
            None => Arc::new(crate::email::NoEmailSender),
        }
    }

    /// True when the base URL is plain http on the local machine (development).
    pub fn is_local_development(&self) -> bool {
        let Some(origin) = origin_of(&self.base_url) else {
            return false;
        };
        let Some(host) = origin.strip_prefix("http://") else {
            return false;
        };
        let host = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => host.split(':').next().unwrap_or(""),
        };
        matches!(host, "localhost" | "127.0.0.1" | "::1") || host.ends_with(".localhost")
    }

    /// The absolute URL of an auth route (`/reset-password/abc`), built from the
    /// configured base URL and path, never from request headers (S21).
    pub fn route_url(&self, route: &str) -> String {
        format!("{}{}{}", self.base_url, self.base_path, route)
    }

    /// The public URL of the app (scheme, host, port). Its origin is trusted for
    /// cookie-authenticated requests, and an `https` URL makes cookies `Secure`
    /// with the `__Secure-` name prefix.
    ///
    /// In development, a base URL on the local machine (host `localhost`,
    /// `127.x.x.x` or `[::1]`) also trusts every loopback origin (any of
    /// those hosts, any port, `http` or `https`) for requests whose `Host`
    /// header is loopback too, so a front end on another port (a dev server
    /// on `http://localhost:5173`, the API on `:8080`) works without listing
    /// it, and a wrong port in the base URL is harmless. A page of another
    /// site that reaches the local server through DNS rebinding sends its own
    /// name as `Host`, so it is still refused. Any other base URL trusts its
    /// own origin exactly (scheme, host and port) and
    /// [`trusted_origins`](AuthConfig::trusted_origins).
    ///
    /// ```
    /// use better_auth::AuthConfig;
    ///
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").base_url("https://app.example.com");
    /// assert!(config.is_secure());
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Further origins (`https://app.example.com`) allowed to send
    /// cookie-authenticated state changes and to be redirect targets.
    ///
    /// ```
    /// use better_auth::AuthConfig;
    ///
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!")
    ///     .base_url("https://api.example.com")
    ///     .trusted_origins(["https://app.example.com"]);
    /// ```
    pub fn trusted_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.trusted_origins = origins
            .into_iter()
            .map(|o| o.into().trim_end_matches('/').to_owned())
            .collect();
        self
    }

    /// Session lifetime and cookie settings.
    ///
    /// ```
    /// use std::time::Duration;
    /// use better_auth::{AuthConfig, SessionConfig};
    ///
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!")
    ///     .session(SessionConfig::default().expires_in(Duration::from_secs(3 * 24 * 3600)));
    /// ```
    pub fn session(mut self, session: SessionConfig) -> Self {
        self.session = session;
        self
    }

    /// Password length bounds.
    ///
    /// ```
    /// use better_auth::{AuthConfig, PasswordPolicy};
    ///
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").password_policy(PasswordPolicy::default().min_length(12));
    /// ```
    pub fn password_policy(mut self, policy: PasswordPolicy) -> Self {
        self.password = policy;
        self
    }

    /// The clock used for every expiry decision; tests inject a [`ManualClock`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use better_auth::{AuthConfig, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").clock(Arc::new(clock.clone()));
    /// // Later, in a test: every session is now a day older.
    /// clock.advance(Duration::from_secs(24 * 3600));
    /// ```
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How often the instance deletes expired rows of the `verification`
    /// table (S50: sign-in flows never finished, reset and verification links
    /// never used), in a background task that starts with the instance and
    /// stops when it is dropped. Default every 10 minutes, the first time at
    /// start-up; `Duration::ZERO` turns it off (run `better-auth verification
    /// purge --expired` from a scheduler instead).
    ///
    /// ```
    /// use std::time::Duration;
    /// use better_auth::AuthConfig;
    ///
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!")
    ///     .verification_purge_interval(Duration::from_secs(60));
    /// ```
    pub fn verification_purge_interval(mut self, interval: Duration) -> Self {
        self.verification_purge_interval = interval;
        self
    }

    /// Opt-in in-process session cache, off by default: a session found in the
    /// database is served from memory for `ttl` (at most 1 s), so a session
    /// revoked elsewhere keeps working here for at most `ttl`. Replaces the
    /// default validated cache. See [`crate::session_cache`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use better_auth::AuthConfig;
    ///
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").session_cache(Duration::from_millis(500));
    /// ```
    pub fn session_cache(mut self, ttl: Duration) -> Self {
        self.session_cache_ttl = Some(ttl.min(crate::session_cache::MAX_TTL));
        self
    }

    /// The never-stale session cache, on by default (SQLite files and
    /// PostgreSQL opened with `Database::connect`): a session is served from
    /// memory only while the database's change counter (on SQLite, a count
    /// of session and user changes kept by migration 6's triggers; on
    /// PostgreSQL, change notifications) shows no change since it was read,
    /// so every answer is the database's current state. `false` reads every
    /// session from the database. See [`crate::session_cache`].
    ///
    /// ```
    /// use better_auth::AuthConfig;
    ///
    /// // Read every session from the database.
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").validated_session_cache(false);
    /// ```
    pub fn validated_session_cache(mut self, enabled: bool) -> Self {
        self.validated_session_cache = enabled;
        self
    }

    /// Sessions in Redis as well as the database (feature `redis`, like
    /// Better Auth's `secondaryStorage`): a lookup the in-process cache
    /// cannot answer reads Redis first, and a session read from the database
    /// is stored there for the next request, on this instance or another on
    /// the same Redis. Every revocation or user change made through this
    /// crate reaches Redis in the same request, and so does one made with
    /// the `better-auth` CLI given the Redis URL (`--redis-url`): refused on
    /// the next request. Changes made behind its back (raw SQL) are seen
    /// within [`RedisStorage::session_ttl`](crate::store::RedisStorage::session_ttl)
    /// (60 s by default), or at once after
    /// [`RedisStorage::forget_user`](crate::store::RedisStorage::forget_user).
    /// While Redis is down, sessions are read from the
    /// database. See [`crate::store::redis_storage`]. For rate limits in
    /// Redis, see [`RedisRateLimitStore`](crate::rate_limit::RedisRateLimitStore).
    ///
    /// ``` no_run
    /// # async fn f() -> better_auth::Result<()> {
    /// use better_auth::AuthConfig;
    /// use better_auth::store::RedisStorage;
    ///
    /// let redis = RedisStorage::connect("redis://127.0.0.1:6379").await?;
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").secondary_storage(redis);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn secondary_storage(mut self, redis: crate::store::RedisStorage) -> Self {
        self.secondary_storage = Some(redis);
        self
    }

    /// The session settings in use.
    pub fn session_settings(&self) -> &SessionConfig {
        &self.session
    }

    /// The password policy in use.
    pub fn password_settings(&self) -> &PasswordPolicy {
        &self.password
    }

    /// True when the base URL is `https://`.
    pub fn is_secure(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// The origin (`scheme://host[:port]`) of the base URL.
    pub fn base_origin(&self) -> String {
        origin_of(&self.base_url).unwrap_or_default()
    }
}

/// True when a URL's origin is `http` or `https` on a loopback host
/// (`localhost`, `127.x.x.x`, `[::1]`): the base URLs for which the origin
/// check trusts every loopback origin in development (see
/// [`AuthConfig::base_url`]).
///
/// ```
/// use better_auth::config::is_loopback_origin;
///
/// assert!(is_loopback_origin("http://localhost:3000"));
/// assert!(is_loopback_origin("https://127.0.0.1/app"));
/// assert!(!is_loopback_origin("https://app.example.com"));
/// ```
#[doc(hidden)]
pub fn is_loopback_origin(url: &str) -> bool {
    let Some(origin) = origin_of(url) else {
        return false;
    };
    let authority = match origin.split_once("://") {
        Some(("http" | "https", authority)) => authority,
        _ => return false,
    };
    is_loopback_authority(authority)
}

/// True when `host[:port]` (a `Host` header, a URL's authority) names this
/// machine: `localhost`, an address in `127.0.0.0/8` or `[::1]`. Anything
/// else is not, user info (`localhost@evil.example`) and malformed ports
/// included.
pub(crate) fn is_loopback_authority(authority: &str) -> bool {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((host, rest)) => (host, rest),
            None => return false,
        },
        None => match authority.find(':') {
            Some(colon) => authority.split_at(colon),
            None => (authority, ""),
        },
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !port_ok {
        return false;
    }
    if authority.starts_with('[') {
        return host
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    }
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The origin of a URL as browsers send it in `Origin` (`scheme://host[:port]`, lowercase,
/// the scheme's default port left out: `https://A.com:443/x` is `https://a.com`), or
/// `None` when it is not absolute. An app's own scheme (`myapp://callback`), which has no
/// origin in the URL standard, is kept as `scheme://host[:port]`.
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let origin = parsed.origin();
    if origin.is_tuple() {
        return Some(origin.ascii_serialization());
    }
    let host = parsed.host_str().filter(|h| !h.is_empty())?;
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!(
        "{}://{}{port}",
        parsed.scheme(),
        host.to_ascii_lowercase()
    ))
}

/// Session lifetime and cookie settings (S13, S15).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SessionConfig {
    /// Base name of the session cookie; default `better-auth.session_token`.
    pub cookie_name: String,
    /// How long a session lives; default 7 days.
    pub expires_in: Duration,
    /// A session older than this is extended on use (sliding expiry); default 1 day.
    pub update_age: Duration,
    /// A session ends this long after sign-in however often it is used
    /// (absolute expiry); default 30 days.
    pub absolute_lifetime: Duration,
    /// A session younger than this counts as fresh (delete-user without password); default 1 day.
    pub fresh_age: Duration,
}

impl SessionConfig {
    /// Sets the session cookie's base name (`__Secure-` is added on https).
    ///
    /// ```
    /// use std::time::Duration;
    /// use better_auth::{AuthConfig, SessionConfig};
    ///
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!").session(
    ///     SessionConfig::default()
    ///         .cookie_name("myapp.session_token")
    ///         .expires_in(Duration::from_secs(24 * 3600))
    ///         .update_age(Duration::from_secs(3600)),
    /// );
    /// ```
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// Sets how long a session lives without use (idle expiry).
    ///
    /// ```
    /// use std::time::Duration;
    /// use better_auth::SessionConfig;
    ///
    /// let session = SessionConfig::default().expires_in(Duration::from_secs(12 * 3600));
    /// ```
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.expires_in = lifetime;
        self
    }

    /// Sets how old a session must be before use extends it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use better_auth::SessionConfig;
    ///
    /// let session = SessionConfig::default().update_age(Duration::from_secs(3600));
    /// ```
    pub fn update_age(mut self, age: Duration) -> Self {
        self.update_age = age;
        self
    }

    /// Sets the absolute lifetime: a session ends this long after sign-in.
    ///
    /// ```
    /// use std::time::Duration;
    /// use better_auth::SessionConfig;
    ///
    /// let session = SessionConfig::default().absolute_lifetime(Duration::from_secs(7 * 24 * 3600));
    /// ```
    pub fn absolute_lifetime(mut self, lifetime: Duration) -> Self {
        self.absolute_lifetime = lifetime;
        self
    }

    /// Sets how young a session must be to count as fresh.
    ///
    /// ```
    /// use std::time::Duration;
    /// use better_auth::SessionConfig;
    ///
    /// let session = SessionConfig::default().fresh_age(Duration::from_secs(10 * 60));
    /// ```
    pub fn fresh_age(mut self, age: Duration) -> Self {
        self.fresh_age = age;
        self
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            cookie_name: "better-auth.session_token".to_owned(),
            expires_in: Duration::from_secs(7 * 24 * 3600),
            update_age: Duration::from_secs(24 * 3600),
            absolute_lifetime: Duration::from_secs(30 * 24 * 3600),
            fresh_age: Duration::from_secs(24 * 3600),
        }
    }
}

/// Password length bounds in Unicode code points (S01).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PasswordPolicy {
    /// Fewer code points than this are rejected; default 8.
    pub min_length: usize,
    /// More code points than this are rejected before hashing; default 128.
    pub max_length: usize,
    /// Reject passwords on the shipped common-password list (S03); default true.
    pub reject_common: bool,
}

impl PasswordPolicy {
    /// Sets the minimum length (code points).
    ///
    /// ```
    /// use better_auth::{AuthConfig, PasswordPolicy};
    ///
    /// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!")
    ///     .password_policy(PasswordPolicy::default().min_length(12).max_length(256));
    /// ```
    pub fn min_length(mut self, chars: usize) -> Self {
        self.min_length = chars;
        self
    }

    /// Sets the maximum length (code points), checked before hashing.
    ///
    /// ```
    /// use better_auth::PasswordPolicy;
    ///
    /// let policy = PasswordPolicy::default().max_length(64);
    /// ```
    pub fn max_length(mut self, chars: usize) -> Self {
        self.max_length = chars;
        self
    }

    /// Turns the common-password check (S03) on or off.
    ///
    /// ```
    /// use better_auth::PasswordPolicy;
    ///
    /// // Only where another check already rejects breached passwords.
    /// let policy = PasswordPolicy::default().reject_common(false);
    /// ```
    pub fn reject_common(mut self, reject: bool) -> Self {
        self.reject_common = reject;
        self
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            max_length: 128,
            reject_common: true,
        }
    }
}

/// A source of the current time, injectable so tests can move it.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// The current instant in whole milliseconds since the Unix epoch
    /// (`now().timestamp_millis()`; a clock may answer it more cheaply: the
    /// session cache asks on every hit).
    fn now_millis(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn now_millis(&self) -> i64 {
        // No calendar conversion: milliseconds straight from the system time.
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
        }
    }
}

/// A clock that only moves when told to; for tests of expiry.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock standing at the current real time.
    pub fn new() -> Self {
        ManualClock(Arc::new(Mutex::new(Utc::now())))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::zero());
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::{is_loopback_authority, is_loopback_origin, origin_of};

    #[test]
    fn origins_are_compared_as_browsers_send_them() {
        for (url, origin) in [
            (
                "https://App.Example.com:443/path?q#f",
                Some("https://app.example.com"),
            ),
            (
                "https://app.example.com:8443",
                Some("https://app.example.com:8443"),
            ),
            ("http://localhost:80", Some("http://localhost")),
            ("http://[::1]:3000/", Some("http://[::1]:3000")),
            // User info is not the host.
            (
                "https://localhost@evil.example",
                Some("https://evil.example"),
            ),
            ("myapp://Callback/x", Some("myapp://callback")),
            ("/relative", None),
            ("https://", None),
        ] {
            assert_eq!(origin_of(url).as_deref(), origin, "{url}");
        }
    }

    #[test]
    fn loopback_authorities() {
        for authority in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1",
            "127.1.2.3:5173",
            "[::1]",
            "[::1]:3000",
            "[0:0:0:0:0:0:0:1]:80",
            "localhost:",
        ] {
            assert!(is_loopback_authority(authority), "{authority}");
        }
        for authority in [
            "",
            "evil.example",
            "localhost.evil.example",
            "localhost@evil.example",
            "localhost:80@evil.example",
            "evil.example:80@localhost",
            "128.0.0.1",
            "10.0.0.1:80",
            "[::2]:80",
            "[::1",
            "localhost:80:80",
            "localhost:http",
            "[::1]x",
        ] {
            assert!(!is_loopback_authority(authority), "{authority}");
        }
    }

    #[test]
    fn loopback_origins_are_http_or_https() {
        assert!(is_loopback_origin("http://localhost:5173"));
        assert!(is_loopback_origin("https://127.0.0.1/some/page"));
        assert!(is_loopback_origin("http://[::1]:8080"));
        assert!(!is_loopback_origin("ftp://localhost"));
        assert!(!is_loopback_origin("localhost:3000"));
        assert!(!is_loopback_origin("http://evil.example"));
    }
}
