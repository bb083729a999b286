//! Opening a [`Database`]: from a URL (SQLite files and memory, PostgreSQL,
//! MySQL), or sharing an app's pool.

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use std::str::FromStr;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use std::time::Duration;

use super::Database;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::Pool;
#[cfg(feature = "sqlite")]
use super::SqliteReaders;
use crate::error::{Error, Result};

impl Database {
    /// Opens a pool for a `sqlite:`, `postgres://` or (feature `mysql`)
    /// `mysql://` URL.
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
        if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            #[cfg(feature = "mysql")]
            return Self::connect_mysql(&url.replacen("mariadb://", "mysql://", 1)).await;
            #[cfg(not(feature = "mysql"))]
            return Err(Error::Config(
                "MySQL support is not compiled in (feature `mysql`)".into(),
            ));
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
            "unsupported database URL scheme `{scheme}`: expected sqlite:..., postgres://... or mysql://..."
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
            user_schema: Default::default(),
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
            user_schema: Default::default(),
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
            user_schema: Default::default(),
        }
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
            user_schema: Default::default(),
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
            user_schema: Default::default(),
        }
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
