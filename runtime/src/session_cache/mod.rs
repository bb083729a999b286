//! In-process session cache: on by default (SQLite files, PostgreSQL) and never stale;
//! an opt-in variant that may be up to one second stale.
//!
//! **Default (validated):** a session found in the database is remembered
//! together with the database's change counter as it was *before* that
//! lookup. Every request reads the counter again and is answered from memory
//! only when it is unchanged, i.e. when no session or user changed since the
//! entry was read, by this process or any other (the CLI's `session revoke`,
//! another server, a raw SQL client). So a revoked session is refused on the
//! very next request. The counter is:
//! - on a SQLite file opened with [`Database::connect`](crate::store::Database::connect):
//!   the session change count of migration 6 (its triggers add one, in the
//!   committing transaction, for every update or delete of a session or a
//!   user), read synchronously on a dedicated connection. It is read only
//!   when the database's WAL-index header (the first bytes of its `-shm`
//!   file, which SQLite rewrites at every commit) moved since the last read:
//!   while nothing was committed, a request costs one `pread` of 96 bytes.
//!   Commits that cannot make a cached session stale (sign-ins adding
//!   sessions, the app's own tables in the same file) move the header but
//!   not the count, so they keep the cache. Before migration 6 runs, any
//!   commit counts (`PRAGMA data_version`);
//! - on PostgreSQL opened with [`Database::connect`](crate::store::Database::connect):
//!   a count of notifications on `LISTEN better_auth_changes`, which migration
//!   4's triggers send when a `session` or `user` row is updated or deleted,
//!   as the change commits. Several servers on one database invalidate each
//!   other within the notification's delivery time (well under a millisecond
//!   on one host; longer when the listener's task waits for a busy CPU);
//!   writes through this server's own `Database` are seen by its very next
//!   request (they move the counter themselves). The listener proves itself
//!   every second: a heartbeat notification sent through the pool, in the
//!   query that checks the triggers are present and enabled always
//!   (migration 7), must come back on the listening connection. Entries are
//!   served only while a heartbeat sent less than 3 seconds ago came back, so
//!   a change that is never heard (a connection gone silent without a reset,
//!   disabled triggers) is masked for at most **3 seconds** after it
//!   commits. While the listener is not connected, the triggers are missing
//!   or disabled, or no heartbeat came back in time, nothing is cached; when
//!   it is trusted again, everything cached before is dropped. A heartbeat
//!   not back within 5 seconds ends the listening connection (a connection
//!   of its own, with the server's TCP keepalive on) and a new one listens.
//!
//! MySQL (and MariaDB) has no such counter: there the default cache is off and
//! every request reads its session from the database, so a revocation by anyone
//! is refused on the next request. (A counter row bumped by triggers and read per
//! request would cost a round trip to the server each time, as the session read
//! itself does.) The opt-in ttl cache below works there too, never renewed
//! without a counter.
//!
//! SQLite's counter also sees what its triggers of migration 6 cannot:
//! `INSERT OR REPLACE` of a session or user (migration 7's triggers count it),
//! an older copy of the file restored (the change or insert count going back,
//! or another database epoch, drops everything cached) and a database path
//! that is a symbolic link (the `-shm` file read is the one SQLite maps, beside
//! the file the link leads to).
//!
//! **Maximum age:** whatever the counter says, no entry of either cache is
//! served more than [`MAX_ENTRY_AGE`] (60 s) after the database lookup that
//! stored it.
//!
//! Turn it off with
//! [`AuthConfig::validated_session_cache`](crate::AuthConfig::validated_session_cache).
//! An app's own pool shared with
//! [`Database::share_sqlite`](crate::store::Database::share_sqlite) or
//! [`Database::share_postgres`](crate::store::Database::share_postgres) gets the
//! same counter. In-memory SQLite and pools passed in with `Database::from` have
//! no counter and read every session from the database.
//!
//! **Opt-in (ttl):** [`AuthConfig::session_cache`](crate::AuthConfig::session_cache)
//! skips even that check: a lookup that found a live session is remembered in
//! this process for `ttl` (at most [`MAX_TTL`], one second), and requests with
//! the same token within that time are answered from memory. When the `ttl`
//! has passed, an entry is looked up again, unless the database has the change
//! counter above (SQLite files) and it has not moved since the entry was
//! read: then no session or user changed, a lookup would find the same
//! session, and the entry is served for another `ttl` without one.
//!
//! What the ttl cache means for an app:
//! - **bounded staleness**: a revoked session (sign-out, revoke, password
//!   change, deleted user; through this or another process, or directly in
//!   the database) keeps working here for at most `ttl` after the last
//!   database lookup that found it, or the last counter read that showed
//!   nothing changed (handlers revoking sessions may call
//!   [`SessionCache::remove`] / [`SessionCache::clear`] to end it at once);
//! - the user in the answer may be up to `ttl` old (a name change shows within `ttl`);
//!
//! Both: expiry (idle and absolute) is checked on every request against the
//! cached session, and a request that is due to slide the expiry goes to the
//! database; memory is bounded: at most `capacity` entries, each a session
//! and its user. Only found, live sessions are cached; unknown tokens always
//! go to the database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::context::BodySlot;
use crate::models::{Session, User};

/// A cached session and user with the slot for its rendered `/get-session`
/// answer (the HTTP layer's; this cache only keeps and hands it out).
pub(crate) type Found = (Arc<(Session, User)>, BodySlot);

/// The longest time a cached session may be served without a database lookup.
pub const MAX_TTL: Duration = Duration::from_secs(1);

/// Default bound on the number of cached sessions.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// The longest any entry is served after the database lookup that stored it,
/// whatever the change counter says (S51): past it, the session is read again.
pub const MAX_ENTRY_AGE: Duration = Duration::from_secs(60);

/// Sessions found in the database, keyed by token digest: served for `ttl`
/// ([`SessionCache::new`]) or while the database is unchanged (the default
/// cache, which the instance makes itself).
#[derive(Debug)]
pub struct SessionCache {
    ttl: Duration,
    /// What entries' `stored` times count from.
    epoch: Instant,
    validated: bool,
    capacity: usize,
    /// [`MAX_ENTRY_AGE`] in nanoseconds (shorter in tests).
    max_age: u64,
    /// Read on every request by every worker at once; written on a miss.
    /// Keys are token digests; foldhash, randomly seeded per map, hashes
    /// them several times faster than the standard SipHash.
    entries: RwLock<HashMap<String, Entry, foldhash::fast::RandomState>>,
}

#[derive(Debug)]
struct Entry {
    found: Arc<(Session, User)>,
    /// The slot for the `/get-session` body for this session, rendered by
    /// its first answer from this entry (the entry is replaced when the
    /// session changes); never looked into here.
    body: BodySlot,
    /// When it was stored, or last found unchanged in the database (ttl
    /// caches), in nanoseconds since the cache's `epoch`.
    stored: AtomicU64,
    /// When it was read from the database, in nanoseconds since the epoch.
    read: u64,
    /// The database's change counter read before the lookup: always for
    /// validated caches, when the database has one for ttl caches.
    version: Option<i64>,
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
            epoch: Instant::now(),
            validated: false,
            capacity: capacity.max(1),
            max_age: nanos(MAX_ENTRY_AGE),
            entries: RwLock::new(HashMap::default()),
        }
    }

    /// A cache whose entries are served only while the database's change
    /// counter is the one they were stored with ([`SessionCache::get_validated`]),
    /// holding at most `capacity` sessions.
    #[doc(hidden)]
    pub fn validated(capacity: usize) -> Self {
        SessionCache {
            ttl: Duration::ZERO,
            epoch: Instant::now(),
            validated: true,
            capacity: capacity.max(1),
            max_age: nanos(MAX_ENTRY_AGE),
            entries: RwLock::new(HashMap::default()),
        }
    }

    /// The same cache with another maximum entry age (tests).
    #[cfg(test)]
    fn with_max_age(mut self, age: Duration) -> Self {
        self.max_age = nanos(age);
        self
    }

    /// True when the entry was read from the database less than the
    /// maximum entry age before `now` (S51).
    fn young(&self, entry: &Entry, now: u64) -> bool {
        now.saturating_sub(entry.read) < self.max_age
    }

    /// True for a cache made with [`SessionCache::validated`].
    #[doc(hidden)]
    pub fn is_validated(&self) -> bool {
        self.validated
    }

    /// The session and user stored for this token digest with change counter
    /// `version` (validated caches; `None` from a ttl cache). The caller reads
    /// `version` from the database right before calling, and still checks expiry.
    #[doc(hidden)]
    pub fn get_validated(&self, digest: &str, version: i64) -> Option<Arc<(Session, User)>> {
        self.get_validated_with_body(digest, version)
            .map(|(found, _)| found)
    }

    /// [`SessionCache::get_validated`] with the entry's slot for its rendered
    /// `/get-session` body.
    pub(crate) fn get_validated_with_body(&self, digest: &str, version: i64) -> Option<Found> {
        if !self.validated {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(digest)?;
        (entry.version == Some(version) && self.young(entry, self.now()))
            .then(|| (entry.found.clone(), entry.body.clone()))
    }

    /// Remembers a session read from the database after the change counter
    /// read `version` (validated caches; ignored by a ttl cache).
    #[doc(hidden)]
    pub fn insert_validated(&self, digest: &str, version: i64, session: &Session, user: &User) {
        self.insert_validated_with_body(digest, version, session, user);
    }

    /// [`SessionCache::insert_validated`], returning the new entry's slot for
    /// its rendered `/get-session` body.
    pub(crate) fn insert_validated_with_body(
        &self,
        digest: &str,
        version: i64,
        session: &Session,
        user: &User,
    ) -> Option<BodySlot> {
        self.validated
            .then(|| self.store(digest, Some(version), session, user))
    }

    /// True when an entry can still be served (ttl caches: younger than the
    /// ttl; validated caches: stored at `current`, when known).
    fn live(&self, entry: &Entry, current: Option<i64>) -> bool {
        if self.validated {
            current.is_some() && current == entry.version && self.young(entry, self.now())
        } else {
            self.fresh(entry, self.now())
        }
    }

    /// Nanoseconds since the cache's epoch.
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// True when a ttl cache's entry was stored (or renewed) less than `ttl`
    /// before `now`.
    fn fresh(&self, entry: &Entry, now: u64) -> bool {
        let age = now.saturating_sub(entry.stored.load(Ordering::Relaxed));
        u128::from(age) < self.ttl.as_nanos() && self.young(entry, now)
    }

    /// How long an entry is served.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The session and user stored for this token digest less than `ttl` ago
    /// (ttl caches; `None` from a validated cache). The caller still checks expiry.
    pub fn get(&self, digest: &str) -> Option<Arc<(Session, User)>> {
        self.get_with_body(digest).map(|(found, _)| found)
    }

    /// [`SessionCache::get`] with the entry's slot for its rendered
    /// `/get-session` body.
    pub(crate) fn get_with_body(&self, digest: &str) -> Option<Found> {
        if self.validated {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(digest)?;
        self.fresh(entry, self.now())
            .then(|| (entry.found.clone(), entry.body.clone()))
    }

    /// [`SessionCache::get_with_body`], and more: an entry past its ttl that
    /// was stored with the database's change counter is served again, its ttl
    /// restarted, when `current()` (the counter read now) still equals it.
    /// Equal counters mean no session or user changed since the lookup that
    /// stored the entry, so a lookup now would find the same session: the
    /// entry is as fresh as if it had just been read.
    pub(crate) fn get_renewing(
        &self,
        digest: &str,
        current: impl FnOnce() -> Option<i64>,
    ) -> Option<Found> {
        if self.validated {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(digest)?;
        let now = self.now();
        if !self.fresh(entry, now) {
            if !self.young(entry, now) {
                return None;
            }
            let stored = entry.version?;
            if current() != Some(stored) {
                return None;
            }
            entry.stored.store(now, Ordering::Relaxed);
        }
        Some((entry.found.clone(), entry.body.clone()))
    }

    /// Remembers a session just read from the database (ttl caches; ignored
    /// by a validated cache). When the cache is full, entries that can no
    /// longer be served are dropped first, then everything.
    pub fn insert(&self, digest: &str, session: &Session, user: &User) {
        self.insert_with_body(digest, None, session, user);
    }

    /// [`SessionCache::insert`], returning the new entry's slot for its
    /// rendered `/get-session` body.
    /// `version` is the database's change counter read before the lookup,
    /// if it has one (see [`SessionCache::get_renewing`]).
    pub(crate) fn insert_with_body(
        &self,
        digest: &str,
        version: Option<i64>,
        session: &Session,
        user: &User,
    ) -> Option<BodySlot> {
        (!self.validated).then(|| self.store(digest, version, session, user))
    }

    fn store(
        &self,
        digest: &str,
        version: Option<i64>,
        session: &Session,
        user: &User,
    ) -> BodySlot {
        let body = BodySlot::default();
        let now = self.now();
        let entry = Entry {
            body: body.clone(),
            found: Arc::new((session.clone(), user.clone())),
            stored: AtomicU64::new(now),
            read: now,
            version,
        };
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(digest) {
            // A validated cache keeps the entries stored at this version.
            entries.retain(|_, e| self.live(e, version));
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(digest.to_owned(), entry);
        body
    }

    /// Forgets one session (call when this instance revokes it).
    pub fn remove(&self, digest: &str) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(digest);
    }

    /// Forgets every session (call after revoking many, e.g. all of a user's).
    pub fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// How many entries are held (stale ones included until replaced).
    pub fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A duration in nanoseconds, saturating.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
