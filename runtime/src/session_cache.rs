//! Opt-in in-process session cache (off by default).
//!
//! By default every request that presents a session token reads the session
//! and its user from the database, so a revoked session (sign-out, revoke,
//! password change, deleted user) is refused on the very next request. Turning
//! the cache on with [`AuthConfig::session_cache`](crate::AuthConfig::session_cache)
//! trades that for speed: a lookup that found a live session is remembered in
//! this process for `ttl` (at most [`MAX_TTL`], one second), and requests with
//! the same token within that time are answered from memory.
//!
//! What that means for an app:
//! - **bounded staleness**: a revoked session (sign-out, revoke, password
//!   change, deleted user; through this or another process, or directly in
//!   the database) keeps working here for at most `ttl` after the last
//!   database lookup that found it (handlers revoking sessions may call
//!   [`SessionCache::remove`] / [`SessionCache::clear`] to end it at once);
//! - expiry is still checked on every request (against the cached
//!   `expiresAt`), and a sliding-expiry refresh happens on the first database
//!   lookup after an entry goes stale, at most `ttl` late;
//! - the user in the answer may be up to `ttl` old (a name change shows within `ttl`);
//! - memory is bounded: at most `capacity` entries, each a session and its user.
//!
//! Only found, live sessions are cached; unknown tokens always go to the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::models::{Session, User};

/// The longest time a cached session may be served without a database lookup.
pub const MAX_TTL: Duration = Duration::from_secs(1);

/// Default bound on the number of cached sessions.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Sessions found in the database in the last `ttl`, keyed by token digest.
#[derive(Debug)]
pub struct SessionCache {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug)]
struct Entry {
    found: Arc<(Session, User)>,
    stored: Instant,
}

impl SessionCache {
    /// A cache serving entries for `ttl` (clamped to [`MAX_TTL`]) holding at
    /// most [`DEFAULT_CAPACITY`] sessions.
    pub fn new(ttl: Duration) -> Self {
        Self::with_capacity(ttl, DEFAULT_CAPACITY)
    }

    /// A cache serving entries for `ttl` (clamped to [`MAX_TTL`]) holding at
    /// most `capacity` sessions.
    pub fn with_capacity(ttl: Duration, capacity: usize) -> Self {
        SessionCache {
            ttl: ttl.min(MAX_TTL),
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// How long an entry is served.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The session and user stored for this token digest less than `ttl` ago.
    /// The caller still checks `expiresAt`.
    pub fn get(&self, digest: &str) -> Option<Arc<(Session, User)>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(digest)?;
        (entry.stored.elapsed() < self.ttl).then(|| entry.found.clone())
    }

    /// Remembers a session just read from the database. When the cache is
    /// full, stale entries are dropped first, then everything.
    pub fn insert(&self, digest: &str, session: &Session, user: &User) {
        let entry = Entry {
            found: Arc::new((session.clone(), user.clone())),
            stored: Instant::now(),
        };
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(digest) {
            let ttl = self.ttl;
            entries.retain(|_, e| e.stored.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(digest.to_owned(), entry);
    }

    /// Forgets one session (call when this instance revokes it).
    pub fn remove(&self, digest: &str) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(digest);
    }

    /// Forgets every session (call after revoking many, e.g. all of a user's).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// How many entries are held (stale ones included until replaced).
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn pair(id: &str) -> (Session, User) {
        let now = Utc::now();
        let user = User {
            id: format!("u-{id}"),
            name: "N".into(),
            email: format!("{id}@example.com"),
            email_verified: false,
            image: None,
            created_at: now,
            updated_at: now,
        };
        let session = Session {
            id: id.into(),
            token: format!("digest-{id}"),
            user_id: user.id.clone(),
            expires_at: now,
            created_at: now,
            updated_at: now,
            ip_address: None,
            user_agent: None,
        };
        (session, user)
    }

    #[test]
    fn serves_within_ttl_then_misses() {
        let cache = SessionCache::new(Duration::from_millis(50));
        let (s, u) = pair("a");
        cache.insert("d", &s, &u);
        assert_eq!(cache.get("d").map(|f| f.0.id.clone()).as_deref(), Some("a"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get("d").is_none());
    }

    #[test]
    fn ttl_is_clamped_and_remove_works() {
        let cache = SessionCache::new(Duration::from_secs(60));
        assert_eq!(cache.ttl(), MAX_TTL);
        let (s, u) = pair("a");
        cache.insert("d", &s, &u);
        cache.remove("d");
        assert!(cache.get("d").is_none());
    }

    #[test]
    fn bounded() {
        let cache = SessionCache::with_capacity(Duration::from_secs(1), 3);
        for i in 0..10 {
            let (s, u) = pair(&i.to_string());
            cache.insert(&i.to_string(), &s, &u);
            assert!(cache.len() <= 3);
        }
        assert!(cache.get("9").is_some());
    }
}
