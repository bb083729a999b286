//! Storage: `Database` over sqlx for SQLite, PostgreSQL and (feature `mysql`)
//! MySQL or MariaDB, the migrator, and one module of queries per table.
//! Nothing outside this module writes SQL.
//!
//! Every query is written once with `$n` placeholders and quoted identifiers,
//! which both SQLite and PostgreSQL accept, and run on whichever pool is open.
//! On MySQL the same text runs with `ANSI_QUOTES` set on every connection and
//! its placeholders translated to `?` (once per query text, cached; values
//! reordered or repeated when a query takes them out of order). The few
//! statements MySQL has no form for (`RETURNING`, `ON CONFLICT`) have a MySQL
//! variant beside them.
//!
//! The session cache's change counter (S51) exists on SQLite files and
//! PostgreSQL. MySQL has none: there the default never-stale session cache is
//! off and every request reads its session from the database (the opt-in ttl
//! cache, [`AuthConfig::session_cache`](crate::AuthConfig::session_cache),
//! works there as anywhere, with its bounded staleness).
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

// This file is the facade: `Database`, which backend it is, its change counter
// and closing it. Opening one lives in `connect`, the reader connections and
// change probe of SQLite files in `sqlite_readers`, PostgreSQL's change
// listener in `pg_changes`, and URL redaction in `redact`.

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("enable at least one of the `sqlite`, `postgres` and `mysql` features");

pub(crate) mod columns;
mod connect;
mod migrate;
#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub use mysql::sqlx as mysql_sqlx;
#[cfg(feature = "postgres")]
mod pg_changes;
mod timestamp;

pub mod accounts;
mod redact;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis_storage;
mod rows;
pub mod sessions;
#[cfg(feature = "sqlite")]
mod sqlite_readers;
pub mod users;
#[doc(hidden)]
pub mod verifications;

#[cfg(feature = "admin")]
#[cfg_attr(docsrs, doc(cfg(feature = "admin")))]
pub use migrate::{
    AppliedPluginMigration, MIGRATIONS, MigrationState, migration_status, plugin_migrations,
};
pub(crate) use migrate::{History, apply as apply_migrations};
pub use migrate::{Migration, run_migrations};
pub use redact::redact_url;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_storage::RedisStorage;
pub use rows::Text;
pub use timestamp::Timestamp;

/// The digest under which a token is stored (session tokens in `session.token`,
/// single-use tokens in `verification.identifier`): SHA-256, hex. Tokens
/// themselves are never stored (S11, S21); look rows up by this.
#[doc(hidden)]
pub use crate::crypto::token_digest;
pub(crate) use timestamp::format_timestamp;

#[cfg(feature = "sqlite")]
pub(crate) use sqlite_readers::SqliteReaders;

/// Which database a [`Database`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (file or in memory).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB (feature `mysql`).
    MySql,
}

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
}

/// Runs `$body` with `$pool` bound to the open pool, whichever backend it is.
/// The body is compiled once per backend, so one SQL text serves all. On
/// MySQL, `sqlx` in the body is [`mysql::sqlx`]: its query builders translate
/// the text (placeholders, casts) and order the bound values.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match &$db.pool {
            #[cfg(feature = "sqlite")]
            $crate::store::Pool::Sqlite($pool) => $body,
            #[cfg(feature = "postgres")]
            $crate::store::Pool::Postgres($pool) => $body,
            #[cfg(feature = "mysql")]
            $crate::store::Pool::MySql($pool) => {
                #[allow(unused_imports)]
                use $crate::store::mysql::sqlx;
                $body
            }
        }
    };
}
pub(crate) use on_pool;

/// Runs `$body` with `$pool` bound to a [`Database`]'s pool, whichever
/// backend it is: the body is compiled once per backend (a `&SqlitePool`,
/// `&PgPool` or `&MySqlPool`), so one SQL text serves all three. Write it
/// with PostgreSQL's `$1` placeholders and double-quoted identifiers; the
/// body's value has the same type on every backend. On MySQL, `sqlx` in the
/// body is `better_auth::store::mysql_sqlx` (feature `mysql`): its `query`,
/// `query_as` and `query_scalar` translate the text for MySQL (placeholders
/// become `?`, values are reordered or repeated to match), and the
/// connection runs with `ANSI_QUOTES`. Statements MySQL has no form for
/// (`RETURNING`, `ON CONFLICT`) need a variant of their own, chosen with
/// [`Database::backend`]; text columns are read as [`Text`].
///
/// The backends are those of the crate calling the macro: it must have
/// features `sqlite`, `postgres` and `mysql` that enable `better-auth`'s. A
/// database of a backend the calling crate was built without makes the
/// enclosing function return [`Error::Config`](crate::Error::Config)
/// (converted with `From` into its error type).
///
/// ```no_run
/// use better_auth::store::{Database, with_pool};
///
/// async fn notes(db: &Database, owner: &str) -> better_auth::Result<i64> {
///     let notes: i64 = with_pool!(db, |pool| {
///         sqlx::query_scalar(r#"SELECT count(*) FROM "note" WHERE "owner" = $1"#)
///             .bind(owner)
///             .fetch_one(pool)
///             .await?
///     });
///     Ok(notes)
/// }
/// ```
#[doc(inline)]
pub use crate::__with_pool as with_pool;

#[doc(hidden)]
#[macro_export]
macro_rules! __with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db.pool() {
            #[cfg(feature = "sqlite")]
            $crate::store::PoolRef::Sqlite($pool) => $body,
            #[cfg(feature = "postgres")]
            $crate::store::PoolRef::Postgres($pool) => $body,
            #[cfg(feature = "mysql")]
            $crate::store::PoolRef::MySql($pool) => {
                #[allow(unused_imports)]
                use $crate::store::mysql_sqlx as sqlx;
                $body
            }
            #[allow(unreachable_patterns)]
            _ => {
                let (backend, feature) = match $db.backend() {
                    $crate::store::Backend::Sqlite => ("SQLite", "sqlite"),
                    $crate::store::Backend::Postgres => ("PostgreSQL", "postgres"),
                    $crate::store::Backend::MySql => ("MySQL", "mysql"),
                };
                return ::core::result::Result::Err(::core::convert::From::from(
                    $crate::Error::Config(::std::format!(
                        "{} is built without {backend} support (its feature `{feature}`)",
                        ::core::env!("CARGO_PKG_NAME"),
                    )),
                ));
            }
        }
    };
}

/// The sqlx pool behind a [`Database`], for a plugin's own tables (see
/// [`Database::pool`]). One SQL text usually serves both SQLite and
/// PostgreSQL: sqlx's SQLite driver takes PostgreSQL's `$1` placeholders.
/// A MySQL pool's connections run with `ANSI_QUOTES` (double quotes quote
/// identifiers) but take `?` placeholders.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum PoolRef<'a> {
    /// A SQLite database.
    #[cfg(feature = "sqlite")]
    Sqlite(&'a sqlx::SqlitePool),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(&'a sqlx::PgPool),
    /// A MySQL or MariaDB database (feature `mysql`).
    #[cfg(feature = "mysql")]
    MySql(&'a sqlx::MySqlPool),
}

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
    /// The columns plugins added to the `user` table, set when an instance
    /// is built (none on a database no instance was built with).
    pub(crate) user_schema: std::sync::Arc<columns::UserSchema>,
}

/// The name the API's documented examples use for an open database handle.
pub type DatabaseConnection = Database;

impl Database {
    /// The pool, for a plugin that keeps its own tables (the runtime's own
    /// tables are reached through this module's functions). A plugin's
    /// schema comes with it, as
    /// [`PluginSetup::migrations`](crate::plugins::PluginSetup::migrations).
    ///
    /// ```
    /// use better_auth::store::{Database, PoolRef};
    ///
    /// # async fn f(db: &Database) -> Result<i64, sqlx::Error> {
    /// let notes: i64 = match db.pool() {
    ///     PoolRef::Sqlite(pool) => sqlx::query_scalar(r#"SELECT count(*) FROM "note""#).fetch_one(pool).await?,
    ///     PoolRef::Postgres(pool) => sqlx::query_scalar(r#"SELECT count(*) FROM "note""#).fetch_one(pool).await?,
    ///     _ => 0,
    /// };
    /// # Ok(notes) }
    /// ```
    pub fn pool(&self) -> PoolRef<'_> {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => PoolRef::Sqlite(pool),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => PoolRef::Postgres(pool),
            #[cfg(feature = "mysql")]
            Pool::MySql(pool) => PoolRef::MySql(pool),
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            Pool::MySql(_) => Backend::MySql,
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
    /// Never MySQL: it has no change counter, so no validated cache.
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
    /// served after it. A plugin that writes the `user` or `session` table
    /// through [`Database::pool`] holds one across the write, so this server's
    /// session cache never answers with the row as it was.
    ///
    /// ```
    /// # async fn f(db: &better_auth::store::Database) {
    /// let _change = db.change_guard();
    /// // UPDATE "user" SET ... through db.pool()
    /// # }
    /// ```
    ///
    /// With Redis secondary storage, the guard also marks every user's
    /// sessions in Redis as changed when it drops (in the background): no
    /// entry stored before is served again.
    pub fn change_guard(&self) -> ChangeGuard<'_> {
        self.note_change();
        ChangeGuard {
            db: self,
            everyone: true,
        }
    }

    /// [`Database::change_guard`] for this crate's writes, which mark the
    /// users they change themselves ([`Database::user_changed`]).
    pub(crate) fn user_change_guard(&self) -> ChangeGuard<'_> {
        self.note_change();
        ChangeGuard {
            db: self,
            everyone: false,
        }
    }

    /// The Redis secondary storage of the instance built on this database,
    /// if any (kept with the instance's schema, set when it is built).
    #[cfg(feature = "redis")]
    pub(crate) fn redis(&self) -> Option<&RedisStorage> {
        self.user_schema.redis.as_ref()
    }

    /// After a committed change to a user's row or sessions: with Redis
    /// secondary storage, entries of the user's sessions stored before now
    /// are no longer served, by any instance.
    pub(crate) async fn user_changed(&self, user_id: &str) {
        #[cfg(feature = "redis")]
        if let Some(redis) = self.redis() {
            redis.user_changed(user_id).await;
        }
        #[cfg(not(feature = "redis"))]
        let _ = user_id;
    }

    /// The user of the session whose id (`by_id`) or token digest is
    /// `value`, read only when Redis secondary storage needs it (to mark that
    /// user after the session changes); else `None`.
    pub(crate) async fn session_owner(
        &self,
        by_id: bool,
        value: &str,
    ) -> crate::error::Result<Option<String>> {
        #[cfg(feature = "redis")]
        if self.redis().is_some() {
            let sql = if by_id {
                r#"SELECT "userId" FROM "session" WHERE "id" = $1"#
            } else {
                r#"SELECT "userId" FROM "session" WHERE "token" = $1"#
            };
            let owner: Option<(rows::Text,)> = on_pool!(self, |pool| sqlx::query_as(sql)
                .bind(value)
                .fetch_optional(pool)
                .await?);
            return Ok(owner.map(|(id,)| id.0));
        }
        let _ = (by_id, value);
        Ok(None)
    }

    /// [`Database::user_changed`] for the owner found by [`Database::session_owner`].
    pub(crate) async fn owner_changed(&self, owner: Option<String>) {
        if let Some(user_id) = owner {
            self.user_changed(&user_id).await;
        }
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

/// A write to sessions or users in progress: see [`Database::change_guard`].
#[must_use = "the guard marks the write when it drops: hold it across the write"]
#[derive(Debug)]
pub struct ChangeGuard<'a> {
    db: &'a Database,
    /// Whether to mark every user in Redis (the write's users are unknown).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    everyone: bool,
}

impl Drop for ChangeGuard<'_> {
    fn drop(&mut self) {
        self.db.note_change();
        #[cfg(feature = "redis")]
        if let (true, Some(redis), Ok(runtime)) = (
            self.everyone,
            self.db.redis(),
            tokio::runtime::Handle::try_current(),
        ) {
            let redis = redis.clone();
            runtime.spawn(async move { redis.everyone_changed().await });
        }
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
