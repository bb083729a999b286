//! Redis secondary storage ([`RedisStorage`], feature `redis`): a cache of
//! sessions shared by every instance on the same Redis, and the counters of
//! [`RedisRateLimitStore`](crate::rate_limit::RedisRateLimitStore).
//!
//! **Sessions.** With [`AuthConfig::secondary_storage`](crate::AuthConfig::secondary_storage),
//! a session lookup that the in-process cache cannot answer reads Redis before
//! the database. The database keeps every session row; Redis holds copies:
//! - an entry is keyed by the SHA-256 digest of the token (the digest the
//!   `session` table stores), never by the token itself, and holds the session
//!   and its user. It is written only after a database read found the session
//!   live, and lives at most [`RedisStorage::session_ttl`] (default
//!   [`DEFAULT_SESSION_TTL`], 60 s), never past the session's expiry;
//! - every write of this crate that ends or changes a session or a user
//!   (sign-out, revoking sessions, a password change or reset, update-user,
//!   delete-user, a ban, ...) marks that user in Redis right after the
//!   database change commits, in the same request: entries of the user's
//!   sessions filled before the mark are no longer served, by this instance
//!   or any other on the same Redis. A revocation through any instance is
//!   refused by every instance on its next request. The mark is checked in
//!   the same Redis script that reads the entry, and an entry is stored only
//!   if no mark came after the lookup started (Redis's own clock orders both),
//!   so a lookup racing a revocation never stores the revoked session;
//! - a plugin's write through [`Database::pool`](crate::store::Database::pool)
//!   holding a [`Database::change_guard`](crate::store::Database::change_guard)
//!   marks every user (in the background, as the guard drops: within
//!   moments);
//! - the `better-auth` CLI's commands that end or change a user's sessions
//!   or the user (`session revoke`, `user set-password`, `user delete`,
//!   `user ban`, `user set-role`, `user reset-2fa`, ...) mark the user too
//!   when given the Redis URL (`--redis-url` or `BETTER_AUTH_REDIS_URL`;
//!   `--redis-key-prefix` when the servers use another prefix): refused on
//!   the next request. Without it, they are like raw SQL;
//! - writes that go through neither (raw SQL) do not reach Redis: an
//!   instance may serve such a session from Redis until its entry expires,
//!   at most `session_ttl` after the lookup that stored it. Keep
//!   `session_ttl` short (it is capped at [`MAX_SESSION_TTL`]), call
//!   [`RedisStorage::forget_user`] after such a change, or clear the keys
//!   under the prefix.
//!
//! **Outages.** Every Redis call has a short timeout ([`RedisStorage::timeout`],
//! default 250 ms). When Redis fails or times out, sessions are read from the
//! database (never a 500) and rate limits follow
//! [`RedisOutage`](crate::rate_limit::RedisOutage); for a second after a
//! failure Redis is not asked at all, then the connection manager reconnects
//! and service resumes by itself. A revocation made while Redis is down
//! cannot mark the user: an entry stored before the outage may then be served
//! again once Redis is back, until it expires (`session_ttl` at most).
//!
//! Entries are checked with Lua scripts that read keys they are not given, so
//! use a single Redis server (or a primary with replicas), not Redis Cluster.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::{Session, User};

/// How long a session entry lives in Redis by default.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(60);

/// The longest a session entry may live in Redis ([`RedisStorage::session_ttl`]
/// is clamped to it): bounds how long a revocation made behind this crate's
/// back (raw SQL) can go unseen.
pub const MAX_SESSION_TTL: Duration = Duration::from_secs(600);

/// The default timeout of one Redis call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

/// The default prefix of every key this crate writes.
pub const DEFAULT_KEY_PREFIX: &str = "better-auth:";

/// How long Redis is left alone after a failure before it is asked again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// How long a user's mark outlives the entries it hides: longer than any
/// entry can live, whatever `session_ttl` each instance uses.
const MARK_TTL_MS: u64 = MAX_SESSION_TTL.as_millis() as u64 + 60_000;

/// A Redis server used as secondary storage: sessions
/// ([`AuthConfig::secondary_storage`](crate::AuthConfig::secondary_storage))
/// and rate-limit counters
/// ([`RedisRateLimitStore`](crate::rate_limit::RedisRateLimitStore)). Cheap
/// to clone: clones share one connection, which reconnects by itself. See
/// [the module](self) for what is stored and how revocations reach it.
///
/// ``` no_run
/// # async fn f() -> better_auth::Result<()> {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use better_auth::AuthConfig;
/// use better_auth::rate_limit::{RateLimitConfig, RedisRateLimitStore};
/// use better_auth::store::RedisStorage;
///
/// let redis = RedisStorage::connect("redis://127.0.0.1:6379").await?
///     .session_ttl(Duration::from_secs(30));
/// let config = AuthConfig::new("a-secret-of-at-least-32-characters!!")
///     .secondary_storage(redis.clone())
///     .rate_limit(RateLimitConfig::default().store(Arc::new(RedisRateLimitStore::new(redis))));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStorage {
    conn: ConnectionManager,
    health: Arc<Health>,
    prefix: Arc<str>,
    session_ttl: Duration,
    timeout: Duration,
}

impl std::fmt::Debug for RedisStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStorage")
            .field("url", &self.health.url)
            .field("prefix", &self.prefix)
            .field("session_ttl", &self.session_ttl)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Whether Redis answered lately; shared by clones.
#[derive(Debug)]
struct Health {
    /// The URL, password hidden (messages).
    url: String,
    /// What `down_until` counts from.
    epoch: Instant,
    /// Milliseconds since `epoch` before which Redis is not asked (reads).
    down_until: AtomicU64,
    /// True from a failure until the next success (logged once each way).
    down: AtomicBool,
}

impl RedisStorage {
    /// Opens a connection to the Redis at `url` (`redis://[:password@]host:port[/db]`,
    /// or `rediss://` with TLS support compiled into the `redis` crate) and
    /// checks that it answers within the connection timeout: an error when it
    /// does not. To start while Redis is down, use [`RedisStorage::open`].
    ///
    /// ``` no_run
    /// # async fn f() -> better_auth::Result<()> {
    /// let redis = better_auth::store::RedisStorage::connect("redis://127.0.0.1:6379").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> Result<Self> {
        let storage = Self::open(url)?;
        let mut conn = storage.conn.clone();
        let ping = async move { redis::cmd("PING").query_async::<String>(&mut conn).await };
        match tokio::time::timeout(Duration::from_secs(2), ping).await {
            Ok(Ok(_)) => Ok(storage),
            Ok(Err(e)) => Err(Error::Config(format!(
                "Redis at {} is not reachable: {e}",
                storage.health.url
            ))),
            Err(_) => Err(Error::Config(format!(
                "Redis at {} did not answer within 2 s",
                storage.health.url
            ))),
        }
    }

    /// [`RedisStorage::connect`] without waiting for Redis: the URL is
    /// checked now, the connection made on first use (and remade after a
    /// failure). Until Redis answers, sessions come from the database and
    /// rate limits follow [`RedisOutage`](crate::rate_limit::RedisOutage).
    /// Call it within a Tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> better_auth::Result<()> {
    /// let redis = better_auth::store::RedisStorage::open("redis://127.0.0.1:6379")?;
    /// # Ok(()) }
    /// ```
    pub fn open(url: &str) -> Result<Self> {
        let shown = super::redact_url(url);
        let client = redis::Client::open(url)
            .map_err(|e| Error::Config(format!("Redis URL {shown}: {e}")))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| Error::Config(format!("Redis URL {shown}: {e}")))?;
        Ok(RedisStorage {
            conn,
            health: Arc::new(Health {
                url: shown,
                epoch: Instant::now(),
                down_until: AtomicU64::new(0),
                down: AtomicBool::new(false),
            }),
            prefix: Arc::from(DEFAULT_KEY_PREFIX),
            session_ttl: DEFAULT_SESSION_TTL,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// How long a session entry lives in Redis at most (default 60 s,
    /// clamped to [`MAX_SESSION_TTL`]); never past the session's expiry.
    /// It bounds how long a revocation made behind this crate's back (raw
    /// SQL, the CLI without the Redis URL) can go unseen by an instance that
    /// cached the session.
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl.clamp(Duration::from_millis(1), MAX_SESSION_TTL);
        self
    }

    /// The longest one Redis call may take (default 250 ms): past it, the
    /// call counts as failed and the request goes on without Redis.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The prefix of every key written (default `better-auth:`), for several
    /// apps on one Redis. Instances sharing sessions must use the same one.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    /// The Redis key of the session entry for a token digest (tests, and
    /// tools that drop entries by hand).
    pub fn session_key(&self, digest: &str) -> String {
        format!("{}session:{digest}", self.prefix)
    }

    fn user_mark_prefix(&self) -> String {
        format!("{}user:", self.prefix)
    }

    fn everyone_mark(&self) -> String {
        format!("{}users", self.prefix)
    }

    /// The Redis key of a rate-limit counter.
    pub(crate) fn counter_key(&self, key: &str) -> String {
        format!("{}rate:{key}", self.prefix)
    }

    /// Milliseconds since the health epoch.
    fn clock(&self) -> u64 {
        u64::try_from(self.health.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// False for a second after a failure: reads skip Redis meanwhile.
    pub(crate) fn available(&self) -> bool {
        self.clock() >= self.health.down_until.load(Ordering::Relaxed)
    }

    /// Runs one Redis call with the timeout; `None` (logged) when it fails.
    pub(crate) async fn run<T>(
        &self,
        what: &str,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        self.attempt(what, call).await.ok()
    }

    /// [`RedisStorage::run`] with what went wrong: a failure (logged) keeps
    /// reads off Redis for a second.
    async fn attempt<T>(
        &self,
        what: &str,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> std::result::Result<T, String> {
        let failure = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => {
                if self.health.down.swap(false, Ordering::Relaxed) {
                    tracing::info!(url = %self.health.url, "Redis answers again");
                }
                return Ok(value);
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {:?}", self.timeout),
        };
        let until = self.clock() + RETRY_AFTER.as_millis() as u64;
        self.health.down_until.store(until, Ordering::Relaxed);
        if !self.health.down.swap(true, Ordering::Relaxed) {
            tracing::warn!(url = %self.health.url, %failure, what, "Redis failed; going on without it");
        }
        Err(failure)
    }

    /// A connection handle for one call.
    pub(crate) fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Looks a session up: `None` when Redis is unavailable; else Redis's
    /// clock now (the start of this lookup, for [`RedisStorage::store_session`])
    /// and the entry, if one is stored and no mark of its user came after it.
    pub(crate) async fn session(&self, digest: &str) -> Option<(i64, Option<(Session, User)>)> {
        if !self.available() {
            return None;
        }
        let mut conn = self.conn();
        let mut invocation = GET_SESSION.prepare_invoke();
        invocation
            .key(self.session_key(digest))
            .key(self.everyone_mark())
            .arg(self.user_mark_prefix());
        let (now, value): (i64, Option<String>) = self
            .run("reading a session", invocation.invoke_async(&mut conn))
            .await?;
        let found = value.and_then(|json| match serde_json::from_str::<Entry>(&json) {
            Ok(entry) => Some(entry.into_parts()),
            Err(e) => {
                tracing::warn!(error = %e, "unreadable session entry in Redis; reading the database");
                None
            }
        });
        Some((now, found))
    }

    /// Stores a session just read from the database by a lookup that
    /// started at `started` (Redis's clock, from [`RedisStorage::session`]),
    /// unless its user was marked since: for the session ttl, never past its
    /// expiry.
    pub(crate) async fn store_session(
        &self,
        digest: &str,
        started: i64,
        session: &Session,
        user: &User,
        now: DateTime<Utc>,
    ) {
        let left = (session.expires_at - now).num_milliseconds();
        let ttl = (self.session_ttl.as_millis() as i64).min(left);
        if ttl <= 0 {
            return;
        }
        let Ok(json) = serde_json::to_string(&Entry::new(session, user)) else {
            return;
        };
        let value = format!("{}|{}{json}", user.id.len(), user.id);
        let mut conn = self.conn();
        let mut invocation = STORE_SESSION.prepare_invoke();
        invocation
            .key(self.session_key(digest))
            .key(format!("{}{}", self.user_mark_prefix(), user.id))
            .key(self.everyone_mark())
            .arg(started)
            .arg(value)
            .arg(ttl);
        let _: Option<i64> = self
            .run("storing a session", invocation.invoke_async(&mut conn))
            .await;
    }

    /// Drops a user's cached sessions, for every instance on this Redis:
    /// no entry of the user's sessions stored before this call is served
    /// again, so the next lookup of each reads the database. Call it after
    /// a change to the user or their sessions made behind this crate's back
    /// (raw SQL on `user` or `session`, another tool), once that change has
    /// committed; this crate's own writes do it by themselves, and so does
    /// the `better-auth` CLI given `--redis-url`. Use the servers' key prefix
    /// ([`RedisStorage::key_prefix`]). The user need not exist any more.
    ///
    /// An error when Redis does not take it within [`RedisStorage::timeout`]:
    /// instances may then serve the user's old sessions until their entries
    /// expire ([`RedisStorage::session_ttl`] at most), unless the session
    /// keys ([`RedisStorage::session_key`]) are deleted by hand.
    ///
    /// ``` no_run
    /// # async fn f() -> better_auth::Result<()> {
    /// let redis = better_auth::store::RedisStorage::connect("redis://127.0.0.1:6379").await?;
    /// // After `DELETE FROM "session" WHERE "userId" = 'user-id'` has committed:
    /// redis.forget_user("user-id").await?;
    /// # Ok(()) }
    /// ```
    pub async fn forget_user(&self, user_id: &str) -> Result<()> {
        let key = format!("{}{user_id}", self.user_mark_prefix());
        self.mark(key).await.map_err(|failure| {
            Error::Internal(format!(
                "Redis at {} did not take the change: {failure}",
                self.health.url
            ))
        })
    }

    /// After a committed change to a user or their sessions:
    /// [`RedisStorage::forget_user`], a failure logged (tried even right
    /// after a failure: revocations are rare and matter).
    pub(crate) async fn user_changed(&self, user_id: &str) {
        let _ = self.forget_user(user_id).await;
    }

    /// After a change whose users are not known (a plugin's write): no
    /// entry stored before now is served again.
    pub(crate) async fn everyone_changed(&self) {
        let _ = self.mark(self.everyone_mark()).await;
    }

    async fn mark(&self, key: String) -> std::result::Result<(), String> {
        let mut conn = self.conn();
        let mut invocation = MARK.prepare_invoke();
        invocation.key(key).arg(MARK_TTL_MS);
        self.attempt::<i64>("marking a change", invocation.invoke_async(&mut conn))
            .await
            .map(drop)
    }
}

/// Reads a session entry and Redis's clock: `{now, json}`, json `false`
/// (nil) when missing or filled before its user's (or everyone's) last mark.
/// Entries are `<filled ms>|<user id length>|<user id><json>`.
static GET_SESSION: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('GET', KEYS[1])
if not v then return {now, false} end
local a = string.find(v, '|', 1, true)
if not a then return {now, false} end
local b = string.find(v, '|', a + 1, true)
if not b then return {now, false} end
local filled = tonumber(string.sub(v, 1, a - 1))
local len = tonumber(string.sub(v, a + 1, b - 1))
if not filled or not len then return {now, false} end
local user = string.sub(v, b + 1, b + len)
local marked = math.max(tonumber(redis.call('GET', ARGV[1] .. user) or '0') or 0,
                        tonumber(redis.call('GET', KEYS[2]) or '0') or 0)
if filled > marked then return {now, string.sub(v, b + len + 1)} end
return {now, false}
",
    )
});

/// Stores an entry filled at ARGV[1] unless a mark of its user (KEYS[2]) or
/// of everyone (KEYS[3]) is as late or later.
static STORE_SESSION: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local marked = math.max(tonumber(redis.call('GET', KEYS[2]) or '0') or 0,
                        tonumber(redis.call('GET', KEYS[3]) or '0') or 0)
if tonumber(ARGV[1]) > marked then
  redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
",
    )
});

/// Sets a mark to Redis's clock now (never back), living ARGV[1] ms.
static MARK: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local old = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if old > now then now = old end
redis.call('SET', KEYS[1], now, 'PX', ARGV[1])
return now
",
    )
});

/// A session and its user as stored in Redis.
#[derive(Serialize, Deserialize)]
struct Entry {
    session_id: String,
    token: String,
    user_id: String,
    expires_at: DateTime<Utc>,
    session_created_at: DateTime<Utc>,
    session_updated_at: DateTime<Utc>,
    ip_address: Option<String>,
    user_agent: Option<String>,
    session_fields: serde_json::Map<String, serde_json::Value>,
    name: String,
    email: String,
    email_verified: bool,
    image: Option<String>,
    user_created_at: DateTime<Utc>,
    user_updated_at: DateTime<Utc>,
    user_fields: serde_json::Map<String, serde_json::Value>,
}

impl Entry {
    fn new(session: &Session, user: &User) -> Self {
        Entry {
            session_id: session.id.clone(),
            token: session.token.clone(),
            user_id: user.id.clone(),
            expires_at: session.expires_at,
            session_created_at: session.created_at,
            session_updated_at: session.updated_at,
            ip_address: session.ip_address.clone(),
            user_agent: session.user_agent.clone(),
            session_fields: session.fields.clone(),
            name: user.name.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            image: user.image.clone(),
            user_created_at: user.created_at,
            user_updated_at: user.updated_at,
            user_fields: user.fields.clone(),
        }
    }

    fn into_parts(self) -> (Session, User) {
        let session = Session {
            id: self.session_id,
            token: self.token,
            user_id: self.user_id.clone(),
            expires_at: self.expires_at,
            created_at: self.session_created_at,
            updated_at: self.session_updated_at,
            ip_address: self.ip_address,
            user_agent: self.user_agent,
            fields: self.session_fields,
        };
        let user = User {
            id: self.user_id,
            name: self.name,
            email: self.email,
            email_verified: self.email_verified,
            image: self.image,
            created_at: self.user_created_at,
            updated_at: self.user_updated_at,
            fields: self.user_fields,
        };
        (session, user)
    }
}
