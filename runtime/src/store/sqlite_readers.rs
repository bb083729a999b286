//! SQLite file databases: the reader connections kept out of the pool for the
//! session lookup, and the change probe the session cache reads on every
//! request (the WAL-index header, then the session change count).

use std::time::Duration;

use crate::error::{Error, Result};

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
pub(crate) struct SqliteReaders {
    connections: Vec<tokio::sync::Mutex<Option<sqlx::SqliteConnection>>>,
    next: std::sync::atomic::AtomicUsize,
    probe: std::sync::Mutex<Option<rusqlite::Connection>>,
    /// The `-shm` file (Unix); `None` after [`Database::close`](super::Database::close) or when unusable.
    shm: std::sync::RwLock<Option<std::fs::File>>,
    /// The last WAL-index header seen and the change count read after it.
    last: std::sync::RwLock<Option<(i64, i64)>>,
    /// The counters read last (S51), to tell a restore of an older copy.
    seen: std::sync::Mutex<Seen>,
}

/// What the probe read last from migration 7's counters, and how many times
/// they went back (a restore): each time, every version the probe hands out
/// changes, so nothing cached before is served.
#[derive(Debug, Default)]
struct Seen {
    counters: Option<(i64, i64, String)>,
    generation: i64,
}

impl std::fmt::Debug for SqliteReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReaders")
            .field("connections", &self.connections.len())
            .finish_non_exhaustive()
    }
}

/// How many reader connections a SQLite file database keeps.
const SQLITE_READERS: usize = 2;

impl SqliteReaders {
    pub(super) async fn open(options: &sqlx::sqlite::SqliteConnectOptions) -> Result<Self> {
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
    /// `None` after [`Database::close`](super::Database::close).
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

    pub(super) async fn close(&self) {
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
#[cfg(unix)]
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

#[cfg(not(unix))]
fn wal_index_version(_shm: &std::fs::File) -> Option<i64> {
    None
}
