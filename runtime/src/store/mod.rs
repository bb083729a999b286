//! Storage: `Database` over sqlx for SQLite and PostgreSQL, the migrator, and
//! one module of queries per table. Nothing outside this module writes SQL.
//!
//! Every query is written once with `$n` placeholders and quoted identifiers,
//! which both SQLite and PostgreSQL accept, and run on whichever pool is open.
//!
//! For plugins, the documented functions of [`users`], [`accounts`] and
//! [`sessions`] are the stable facade: find a user or a session, create a
//! user with a provider account, link an account, record its scopes, mark an
//! email verified. Single-use tokens go through
//! [`AuthContext::issue_token`](crate::AuthContext::issue_token) and
//! [`AuthContext::consume_token`](crate::AuthContext::consume_token).
//! The other queries are public for the `better-auth` CLI and the tests but
//! hidden from these docs: they are not part of the stable API and may change
//! in any release.

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("enable at least one of the `sqlite` and `postgres` features");

use std::str::FromStr;
use std::time::Duration;

mod migrate;
#[cfg(feature = "postgres")]
mod pg_changes;
mod timestamp;

pub mod accounts;
mod rows;
pub mod sessions;
pub mod users;
#[doc(hidden)]
pub mod verifications;

pub use migrate::run_migrations;
#[cfg(feature = "admin")]
#[cfg_attr(docsrs, doc(cfg(feature = "admin")))]
pub use migrate::{MIGRATIONS, Migration, MigrationState, migration_status};
pub use timestamp::Timestamp;

/// The digest under which a token is stored (session tokens in `session.token`,
/// single-use tokens in `verification.identifier`): SHA-256, hex. Tokens
/// themselves are never stored (S11, S21); look rows up by this.
#[doc(hidden)]
pub use crate::crypto::token_digest;
pub(crate) use timestamp::format_timestamp;

use crate::error::{Error, Result};

/// Which database a [`Database`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (file or in memory).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// Runs `$body` with `$pool` bound to the open pool, whichever backend it is.
/// The body is compiled once per backend, so one SQL text serves both.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match &$db.pool {
            #[cfg(feature = "sqlite")]
            $crate::store::Pool::Sqlite($pool) => $body,
            #[cfg(feature = "postgres")]
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// A connection pool to the auth database. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct Database {
    pub(crate) pool: Pool,
    /// SQLite files only: connections reserved for the per-request session
    /// lookup (see [`SqliteReaders`]).
    #[cfg(feature = "sqlite")]
    pub(crate) readers: Option<std::sync::Arc<SqliteReaders>>,
    /// PostgreSQL databases opened with [`Database::connect`]: where the
    /// change listener goes once a session cache asks for it
    /// ([`Database::watch_changes`]).
    #[cfg(feature = "postgres")]
    changes: Option<std::sync::Arc<std::sync::OnceLock<std::sync::Arc<pg_changes::PgChanges>>>>,
}

/// Connections of a SQLite file database kept out of the sqlx pool for the
/// read on every request (the session lookup). A query through `&SqlitePool`
/// costs three round trips to a connection's worker thread: the pool pings on
/// acquire, runs the query, and pings again on release (from a spawned task);
/// on a held connection it is one. Plain autocommit reads on their own
/// connections see every committed write at once, as pool connections do.
///
/// It also holds the change probe, read synchronously on the calling thread
/// before every cached session is served:
/// - on Unix, the WAL-index header: the first 96 bytes of the database's
///   `-shm` file, two copies of the header SQLite rewrites at every commit
///   (its transaction counter, frame count, salts and checksums; the format
///   is SQLite's documented, stable WAL-index format). One `pread`, no lock,
///   no mutex: SQLite itself tells "the database changed" by comparing this
///   header at the start of every read transaction. A read that finds the
///   two copies different (a commit writing them at that instant) goes on
///   to the count below;
/// - then, only when that header moved, one more connection, opened with
///   `rusqlite`, reads the session change count of migration 6 (before that
///   migration: `PRAGMA data_version`, which every commit by another
///   connection changes; the probe never writes). It costs a read
///   transaction (two `fcntl` locks) under a mutex; without a readable
///   `-shm` file (not Unix) every request pays it.
#[cfg(feature = "sqlite")]
pub(crate) struct SqliteReaders {
    connections: Vec<tokio::sync::Mutex<Option<sqlx::SqliteConnection>>>,
    next: std::sync::atomic::AtomicUsize,
    probe: std::sync::Mutex<Option<rusqlite::Connection>>,
    /// The `-shm` file (Unix); `None` after [`Database::close`] or when unusable.
    shm: std::sync::RwLock<Option<std::fs::File>>,
    /// The last WAL-index header seen and the change count read after it.
    last: std::sync::RwLock<Option<(i64, i64)>>,
    /// The counters read last (S51), to tell a restore of an older copy.
    seen: std::sync::Mutex<Seen>,
}

/// What the probe read last from migration 7's counters, and how many times
/// they went back (a restore): each time, every version the probe hands out
/// changes, so nothing cached before is served.
#[cfg(feature = "sqlite")]
#[derive(Debug, Default)]
struct Seen {
    counters: Option<(i64, i64, String)>,
    generation: i64,
}

#[cfg(feature = "sqlite")]
impl std::fmt::Debug for SqliteReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReaders")
            .field("connections", &self.connections.len())
            .finish_non_exhaustive()
    }
}

/// How many reader connections a SQLite file database keeps.
#[cfg(feature = "sqlite")]
const SQLITE_READERS: usize = 2;

#[cfg(feature = "sqlite")]
impl SqliteReaders {
    async fn open(options: &sqlx::sqlite::SqliteConnectOptions) -> Result<Self> {
        use sqlx::ConnectOptions;
        let mut connections = Vec::with_capacity(SQLITE_READERS);
        for _ in 0..SQLITE_READERS {
            let conn = options.connect().await?;
            connections.push(tokio::sync::Mutex::new(Some(conn)));
        }
        let probe = Self::open_probe(options.get_filename())?;
        let readers = SqliteReaders {
            connections,
            next: std::sync::atomic::AtomicUsize::new(0),
            probe: std::sync::Mutex::new(Some(probe)),
            shm: std::sync::RwLock::new(None),
            last: std::sync::RwLock::new(None),
            seen: std::sync::Mutex::new(Seen::default()),
        };
        // A read through the probe maps the WAL index, so the header exists
        // (and is initialised) before it is looked at.
        if readers.change_count(false).is_some() {
            let shm = Self::open_shm(options.get_filename());
            *readers
                .shm
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = shm;
        }
        Ok(readers)
    }

    /// The `-shm` file next to the database, when its WAL-index header reads
    /// as consistent (Unix only; elsewhere the PRAGMA probe is used).
    fn open_shm(path: &std::path::Path) -> Option<std::fs::File> {
        // S51: the WAL index SQLite maps is beside the file the path leads to,
        // not beside a symbolic link to it (where a stale `-shm` may lie).
        let path = std::fs::canonicalize(path).ok()?;
        let mut name = path.as_os_str().to_owned();
        name.push("-shm");
        let file = std::fs::File::open(name).ok()?;
        wal_index_version(&file).map(|_| file)
    }

    fn open_probe(path: &std::path::Path) -> Result<rusqlite::Connection> {
        use rusqlite::OpenFlags;
        let probe_error =
            |e: rusqlite::Error| Error::Config(format!("cannot open the SQLite change probe: {e}"));
        // Opened after the pool created the file; never creates it, never writes.
        let conn = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(probe_error)?;
        // Never wait on the request thread: a busy database reads as "changed".
        conn.busy_timeout(Duration::ZERO).map_err(probe_error)?;
        Ok(conn)
    }

    /// The session cache's change counter, read on the calling thread: two
    /// reads return the same number only if no session or user was updated
    /// or deleted in between, by any connection of any process. `None` on any
    /// error (busy, closed): the caller then treats the database as changed.
    ///
    /// What it returns is the session change count of migration 6 (its
    /// triggers add one for every update or delete of a session or a user),
    /// read on the probe connection, so commits that cannot make a cached
    /// session stale (sign-ins adding sessions, the app's own tables) keep
    /// the cache. The count is read again only when the WAL-index header
    /// moved since the last read (any commit moves it); otherwise the count
    /// read after that header is still the database's. Before migration 6,
    /// any commit counts as a change.
    pub(crate) fn data_version(&self) -> Option<i64> {
        let header = {
            let shm = self
                .shm
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            shm.as_ref().and_then(wal_index_version)
        };
        let Some(header) = header else {
            // No header to compare (not Unix, or a commit writing it now).
            return self.change_count(true);
        };
        let last = *self
            .last
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((seen, count)) = last {
            if seen == header {
                return Some(count);
            }
        }
        // Read after the header: the count covers every commit the header shows.
        let count = self.change_count(true)?;
        *self
            .last
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((header, count));
        Some(count)
    }

    /// On the probe connection: the session change count of migration 6
    /// (`counted`, when the table exists), else `PRAGMA data_version` with
    /// the top bit set (any commit by another connection moves it; the top
    /// bit keeps its numbers apart from the counts).
    fn change_count(&self, counted: bool) -> Option<i64> {
        let probe = self
            .probe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let conn = probe.as_ref()?;
        if counted {
            // Migration 7: the insert count and epoch beside the change count.
            let counters = conn
                .prepare_cached(
                    r#"SELECT "count", "inserts", "epoch" FROM "better_auth_session_changes""#,
                )
                .and_then(|mut statement| {
                    statement.query_row([], |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            row.get::<_, i64>(1)?,
                            row.get::<_, String>(2)?,
                        ))
                    })
                });
            if let Ok(counters) = counters {
                return Some(self.versioned(counters));
            }
            let count = conn
                .prepare_cached(r#"SELECT "count" FROM "better_auth_session_changes""#)
                .and_then(|mut statement| statement.query_row([], |row| row.get::<_, i64>(0)));
            if let Ok(count) = count {
                return Some(count);
            }
        }
        let mut statement = conn.prepare_cached("PRAGMA data_version").ok()?;
        let version = statement.query_row([], |row| row.get::<_, i64>(0)).ok()?;
        Some(version | i64::MIN)
    }

    /// S51: the version for counters just read. A change count or insert count
    /// lower than the last read, or another epoch, means the database is not
    /// the one read before (an older copy restored, another file put in its
    /// place): the generation moves, and with it every version handed out, so
    /// nothing cached before is served.
    fn versioned(&self, counters: (i64, i64, String)) -> i64 {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((count, inserts, epoch)) = &seen.counters {
            if counters.0 < *count || counters.1 < *inserts || counters.2 != *epoch {
                seen.generation += 1;
            }
        }
        let version = counters.0.wrapping_add(seen.generation.wrapping_shl(40));
        seen.counters = Some(counters);
        version
    }

    /// A free reader connection, else the next one in turn once it is free.
    /// `None` after [`Database::close`].
    pub(crate) async fn get(
        &self,
    ) -> Option<tokio::sync::MutexGuard<'_, Option<sqlx::SqliteConnection>>> {
        let guard = match self.connections.iter().find_map(|c| c.try_lock().ok()) {
            Some(guard) => guard,
            None => {
                let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.connections[i % self.connections.len()].lock().await
            }
        };
        guard.is_some().then_some(guard)
    }

    async fn close(&self) {
        self.shm
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        self.probe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        for connection in &self.connections {
            if let Some(conn) = connection.lock().await.take() {
                let _ = sqlx::Connection::close(conn).await;
            }
        }
    }
}

/// The database's state as the WAL-index header in `shm` (the `-shm` file)
/// shows it: a 64-bit digest of the header, which SQLite rewrites at every
/// commit (its change counter `iChange` goes up by one, the frame count and
/// running checksums move, a WAL restart changes the salts). `None` when the
/// header cannot be read, is not initialised, or its two copies differ (a
/// commit is writing it right now): the caller then reads the change count
/// itself. Unix only (`pread`); elsewhere always `None`.
#[cfg(all(feature = "sqlite", unix))]
fn wal_index_version(shm: &std::fs::File) -> Option<i64> {
    use std::hash::{Hash, Hasher};
    /// Size of one copy of the header (`WalIndexHdr`).
    const HEADER: usize = 48;
    let mut bytes = [0u8; 2 * HEADER];
    std::os::unix::fs::FileExt::read_exact_at(shm, &mut bytes, 0).ok()?;
    let (first, second) = bytes.split_at(HEADER);
    // Byte 12 is `isInit`: 1 once the header was written.
    if first != second || first[12] != 1 {
        return None;
    }
    let mut hasher = std::hash::DefaultHasher::new();
    first.hash(&mut hasher);
    Some(i64::from_ne_bytes(hasher.finish().to_ne_bytes()))
}

#[cfg(all(feature = "sqlite", not(unix)))]
fn wal_index_version(_shm: &std::fs::File) -> Option<i64> {
    None
}

/// See [`Database::change_guard`].
pub(crate) struct ChangeGuard<'a>(&'a Database);

impl Drop for ChangeGuard<'_> {
    fn drop(&mut self) {
        self.0.note_change();
    }
}

/// Creates an empty file at `path`, readable and writable by its owner only (mode 0600
/// on Unix), unless something is there already (then it is left as it is).
#[cfg(feature = "sqlite")]
fn create_private_file(path: &std::path::Path) {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    // An existing file is left as it is; a missing folder and the like are for sqlx to
    // report when it opens the file.
    let _ = open.open(path);
}

/// The name the API's documented examples use for an open database handle.
pub type DatabaseConnection = Database;

impl Database {
    /// Opens a pool for a `sqlite:` or `postgres://` URL.
    ///
    /// `sqlite::memory:` is one database shared by every user of the pool (a
    /// single long-lived connection), not one empty database per connection.
    /// SQLite files are created when missing and opened in WAL mode.
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            return Self::connect_sqlite(url).await;
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Self::connect_postgres(url).await;
        }
        // Only the scheme is named: the caller knows the URL, and says it once.
        let scheme: String = url
            .split(':')
            .next()
            .unwrap_or_default()
            .chars()
            .take(32)
            .collect();
        Err(Error::Config(format!(
            "unsupported database URL scheme `{scheme}`: expected sqlite:... or postgres://..."
        )))
    }

    #[cfg(feature = "sqlite")]
    async fn connect_sqlite(url: &str) -> Result<Self> {
        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("invalid SQLite URL: {e}")))?
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = if in_memory {
            // One connection that never closes: the database lives as long as the pool.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?
        } else {
            // A new database file holds password hashes and session tokens: readable by
            // its owner only. SQLite gives its `-wal` and `-shm` files the same mode.
            create_private_file(options.get_filename());
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                // No ping per acquire: an embedded connection cannot go stale,
                // and the ping is a round trip to the connection's worker thread.
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await?;
            // The readers open after the pool, which created the file and set WAL mode.
            return Self::share_sqlite(pool).await;
        };
        Ok(Database {
            pool: Pool::Sqlite(pool),
            readers: None,
            #[cfg(feature = "postgres")]
            changes: None,
        })
    }

    #[cfg(not(feature = "sqlite"))]
    async fn connect_sqlite(_url: &str) -> Result<Self> {
        Err(Error::Config(
            "SQLite support is not compiled in (feature `sqlite`)".into(),
        ))
    }

    #[cfg(feature = "postgres")]
    async fn connect_postgres(url: &str) -> Result<Self> {
        use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("invalid PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            // The change listener of the session cache has a connection of
            // its own, outside the pool.
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(Self::share_postgres(pool))
    }

    #[cfg(not(feature = "postgres"))]
    async fn connect_postgres(_url: &str) -> Result<Self> {
        Err(Error::Config(
            "PostgreSQL support is not compiled in (feature `postgres`)".into(),
        ))
    }

    /// Shares an app's SQLite pool and keeps the never-stale session cache of
    /// [`Database::connect`]: for a database file, it opens the same change
    /// probe and reader connections on the pool's file (two connections and
    /// a probe of its own, beside the pool). `Database::from(pool)` shares
    /// the pool without them, so every session is read from the database.
    ///
    /// The probe reads the `-shm` file of WAL mode; a file in another
    /// journal mode is still never stale, at the cost of one read
    /// transaction per cached request. An in-memory database gets no cache.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// use better_auth::store::Database;
    ///
    /// let pool = sqlx::SqlitePool::connect("sqlite:app.db?mode=rwc").await?;
    /// let database = Database::share_sqlite(pool).await?;
    /// better_auth::run_migrations(&database).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub async fn share_sqlite(pool: sqlx::SqlitePool) -> Result<Self> {
        let options = (*pool.connect_options()).clone();
        // In-memory databases have no file to probe (sqlx names them `file:...`).
        let readers = if options.get_filename().is_file() {
            Some(std::sync::Arc::new(SqliteReaders::open(&options).await?))
        } else {
            None
        };
        Ok(Database {
            pool: Pool::Sqlite(pool),
            readers,
            #[cfg(feature = "postgres")]
            changes: None,
        })
    }

    /// Shares an app's PostgreSQL pool and keeps the never-stale session
    /// cache of [`Database::connect`]: its change listener (`LISTEN
    /// better_auth_changes`) opens one more connection with the pool's
    /// options (outside the pool) once a session cache starts it, and sends a
    /// heartbeat query through the pool every second (S51).
    /// `Database::from(pool)` shares the pool without the listener, so every
    /// session is read from the database.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// use better_auth::store::Database;
    ///
    /// let pool = sqlx::PgPool::connect("postgres://localhost/app").await?;
    /// let database = Database::share_postgres(pool);
    /// better_auth::run_migrations(&database).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn share_postgres(pool: sqlx::PgPool) -> Self {
        Database {
            pool: Pool::Postgres(pool),
            #[cfg(feature = "sqlite")]
            readers: None,
            changes: Some(std::sync::Arc::default()),
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The database's change counter for the session cache: SQLite files
    /// opened with [`Database::connect`] (the session change count of
    /// migration 6, see `SqliteReaders::data_version`) and PostgreSQL
    /// databases with their change listener up, else `None`. Equal values
    /// from two calls mean no session or user changed in between, by any
    /// connection of any process.
    pub(crate) fn data_version(&self) -> Option<i64> {
        #[cfg(feature = "sqlite")]
        if let Some(readers) = &self.readers {
            return readers.data_version();
        }
        #[cfg(feature = "postgres")]
        if let Some(changes) = self.changes.as_ref().and_then(|slot| slot.get()) {
            return changes.version();
        }
        None
    }

    /// Whether this database can tell a session cache that nothing changed:
    /// SQLite files (`PRAGMA data_version`) and PostgreSQL databases opened
    /// with [`Database::connect`] (`LISTEN` on the triggers of migration 4).
    pub(crate) fn has_change_counter(&self) -> bool {
        #[cfg(feature = "sqlite")]
        if self.readers.is_some() {
            return true;
        }
        #[cfg(feature = "postgres")]
        if self.changes.is_some() {
            return true;
        }
        false
    }

    /// Moves this process's change counter (PostgreSQL; SQLite's moves by
    /// itself): a write to sessions or users through this database is seen by
    /// this server's next request without waiting for its notification.
    fn note_change(&self) {
        #[cfg(feature = "postgres")]
        if let Some(changes) = self.changes.as_ref().and_then(|slot| slot.get()) {
            changes.bump();
        }
    }

    /// Marks a write to sessions or users, before it starts and after it ends
    /// (when the guard drops): cache entries read while it runs are not
    /// served after it.
    pub(crate) fn change_guard(&self) -> ChangeGuard<'_> {
        self.note_change();
        ChangeGuard(self)
    }

    /// Starts PostgreSQL's change listener (once per database, shared by its
    /// clones) on a connection of its own. Until it listens, with
    /// the triggers in place, [`Database::data_version`] is `None`.
    pub(crate) fn watch_changes(&self) {
        #[cfg(feature = "postgres")]
        if let (Some(slot), Pool::Postgres(pool)) = (&self.changes, &self.pool) {
            slot.get_or_init(|| pg_changes::PgChanges::start(pool.clone()));
        }
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        #[cfg(feature = "sqlite")]
        if let Some(readers) = &self.readers {
            readers.close().await;
        }
        on_pool!(self, |pool| pool.close().await)
    }
}

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
impl From<sqlx::SqlitePool> for Database {
    /// Shares an app's existing SQLite pool, without the session cache's
    /// change probe: every session is read from the database. Prefer
    /// [`Database::share_sqlite`].
    fn from(pool: sqlx::SqlitePool) -> Self {
        Database {
            pool: Pool::Sqlite(pool),
            readers: None,
            #[cfg(feature = "postgres")]
            changes: None,
        }
    }
}

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl From<sqlx::PgPool> for Database {
    /// Shares an app's existing PostgreSQL pool, without the session cache's
    /// change listener: every session is read from the database. Prefer
    /// [`Database::share_postgres`].
    fn from(pool: sqlx::PgPool) -> Self {
        Database {
            pool: Pool::Postgres(pool),
            #[cfg(feature = "sqlite")]
            readers: None,
            changes: None,
        }
    }
}

/// A database URL with its password replaced by `***`, for messages and logs.
///
/// S57: whatever characters the password holds. A well-formed URL (special
/// characters percent-encoded) is read with the `url` crate. Otherwise the
/// user info is taken to end at the *last* `@`, since a raw password may hold
/// `@`, `#`, `/` or `?`, each of which would end it for a URL parser: when the
/// text is ambiguous, more is hidden rather than less.
///
/// ```
/// use better_auth::store::redact_url;
/// assert_eq!(redact_url("postgres://app:hunter2@db:5432/app"), "postgres://app:***@db:5432/app");
/// assert_eq!(redact_url("postgres://app:pa#ss@db/app"), "postgres://app:***@db/app");
/// assert_eq!(redact_url("postgres://app:p/w?x@db/app"), "postgres://app:***@db/app");
/// assert_eq!(redact_url("sqlite://auth.db"), "sqlite://auth.db");
/// ```
#[doc(hidden)]
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some(at) = rest.rfind('@') else {
        // No user info, so no password (a `password=` query parameter is the
        // caller's to hide).
        return url.to_owned();
    };
    // The parser's reading counts only when it finds a password: it reads
    // `app:12#x@db` as host `app`, port 12 and a fragment, which would leave
    // the password in plain sight.
    if let Ok(mut parsed) = url::Url::parse(url) {
        if parsed.password().is_some() && parsed.set_password(Some("***")).is_ok() {
            return parsed.to_string();
        }
    }
    let (userinfo, host) = (&rest[..at], &rest[at + 1..]);
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// True when the error is a unique-constraint violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(all(test, feature = "sqlite", unix))]
mod tests {
    use super::Database;

    async fn exec(db: &Database, sql: &str) {
        let super::Pool::Sqlite(pool) = &db.pool else {
            unreachable!("a SQLite database")
        };
        sqlx::raw_sql(sql).execute(pool).await.unwrap();
    }

    /// The SQLite change counter moves for every update or delete of a
    /// session or a user, and only for those: new sessions and the app's own
    /// tables leave it (and so the session cache) alone. Without migration 6
    /// every commit moves it.
    #[tokio::test]
    async fn the_change_counter_moves_only_for_session_and_user_changes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let db = Database::connect(&url).await.unwrap();
        exec(
            &db,
            "CREATE TABLE todo (id INTEGER PRIMARY KEY, title TEXT)",
        )
        .await;
        // Before the migrations: any commit is a change.
        let before = db.data_version().unwrap();
        exec(&db, "INSERT INTO todo (title) VALUES ('a')").await;
        assert_ne!(db.data_version().unwrap(), before);

        crate::run_migrations(&db).await.unwrap();
        exec(
            &db,
            r#"INSERT INTO "user" ("id", "name", "email", "emailVerified", "createdAt", "updatedAt")
               VALUES ('u1', 'Ada', 'ada@example.com', 0, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')"#,
        )
        .await;
        let insert_session = |id: &str| {
            format!(
                r#"INSERT INTO "session" ("id", "token", "userId", "expiresAt", "createdAt", "updatedAt")
                   VALUES ('{id}', 'digest-{id}', 'u1', '2099-01-01T00:00:00.000Z',
                           '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')"#
            )
        };
        exec(&db, &insert_session("s1")).await;
        let counted = db.data_version().unwrap();
        assert!(
            counted >= 0,
            "the count of migration 6, not PRAGMA data_version"
        );
        assert_eq!(
            db.data_version(),
            Some(counted),
            "stable while nothing changes"
        );

        // Commits that cannot make a cached session stale.
        exec(&db, "INSERT INTO todo (title) VALUES ('b')").await;
        exec(&db, &insert_session("s2")).await;
        assert_eq!(db.data_version(), Some(counted));

        // Every change that can.
        let mut last = counted;
        for change in [
            r#"UPDATE "session" SET "expiresAt" = '2098-01-01T00:00:00.000Z' WHERE "id" = 's1'"#,
            r#"DELETE FROM "session" WHERE "id" = 's2'"#,
            r#"UPDATE "user" SET "name" = 'Ada L.' WHERE "id" = 'u1'"#,
            r#"DELETE FROM "user" WHERE "id" = 'u1'"#,
        ] {
            exec(&db, change).await;
            let now = db.data_version().unwrap();
            assert_ne!(now, last, "{change}");
            last = now;
        }
        db.close().await;
    }
}
