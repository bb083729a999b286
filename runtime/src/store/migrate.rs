//! The runtime's migrator. It keeps its own history table,
//! `_better_auth_migrations`, so it runs beside an app's `sqlx::migrate!()`
//! (which uses `_sqlx_migrations`) without either complaining about the other.
//! Each migration runs in one transaction together with its history row, and
//! applied migrations are checked by checksum, as sqlx-cli does.

// The migration table and status are read only by the CLI (the `admin` feature).
#![cfg_attr(not(feature = "admin"), allow(dead_code, unreachable_pub))]

use sha2::{Digest, Sha256};

use super::{Backend, Database, on_pool};
use crate::error::{Error, Result};

/// One migration: the same version and name on every backend, SQL per backend.
/// A plugin ships its own (see
/// [`PluginSetup::migrations`](crate::plugins::PluginSetup::migrations)).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Migration {
    /// Monotonic version number.
    pub version: i64,
    /// Short description (the file name without the version).
    pub description: &'static str,
    /// SQL for SQLite.
    pub sqlite: &'static str,
    /// SQL for PostgreSQL.
    pub postgres: &'static str,
    /// SQL for MySQL and MariaDB, when the migration has it (see
    /// [`Migration::with_mysql`]). Applying a migration without it to a
    /// MySQL database is an error.
    pub mysql: Option<&'static str>,
}

impl Migration {
    /// A migration: its version (from 1, increasing), a short description,
    /// and its SQL for SQLite and for PostgreSQL.
    ///
    /// ```
    /// use better_auth::store::Migration;
    ///
    /// const MIGRATIONS: &[Migration] = &[Migration::new(
    ///     1,
    ///     "notes",
    ///     r#"CREATE TABLE "note" ("id" text PRIMARY KEY, "body" text NOT NULL)"#,
    ///     r#"CREATE TABLE "note" ("id" text PRIMARY KEY, "body" text NOT NULL)"#,
    /// )];
    /// ```
    pub const fn new(
        version: i64,
        description: &'static str,
        sqlite: &'static str,
        postgres: &'static str,
    ) -> Self {
        Migration {
            version,
            description,
            sqlite,
            postgres,
            mysql: None,
        }
    }

    /// The same migration with its SQL for MySQL and MariaDB (run with
    /// `ANSI_QUOTES`, so double quotes quote identifiers). MySQL commits
    /// each DDL statement at once: a migration that fails half-way leaves
    /// what it did, so write each statement to be safe to run again.
    ///
    /// ```
    /// use better_auth::store::Migration;
    ///
    /// const NOTES: Migration = Migration::new(
    ///     1,
    ///     "notes",
    ///     r#"CREATE TABLE "note" ("id" text PRIMARY KEY, "body" text NOT NULL)"#,
    ///     r#"CREATE TABLE "note" ("id" text PRIMARY KEY, "body" text NOT NULL)"#,
    /// )
    /// .with_mysql(r#"CREATE TABLE "note" ("id" varchar(36) PRIMARY KEY, "body" text NOT NULL)"#);
    /// ```
    pub const fn with_mysql(mut self, sql: &'static str) -> Self {
        self.mysql = Some(sql);
        self
    }

    /// The SQL for a backend (empty for MySQL when the migration has none).
    pub fn sql(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
            Backend::MySql => self.mysql.unwrap_or(""),
        }
    }

    /// Hex SHA-256 of the SQL for a backend.
    pub fn checksum(&self, backend: Backend) -> String {
        let digest = Sha256::digest(self.sql(backend).as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Every migration the runtime ships, oldest first (embedded from `migrations/`).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "core_schema",
        sqlite: include_str!("../../migrations/sqlite/0001_core_schema.sql"),
        postgres: include_str!("../../migrations/postgres/0001_core_schema.sql"),
        mysql: Some(include_str!("../../migrations/mysql/0001_core_schema.sql")),
    },
    Migration {
        version: 2,
        description: "rate_limit",
        sqlite: include_str!("../../migrations/sqlite/0002_rate_limit.sql"),
        postgres: include_str!("../../migrations/postgres/0002_rate_limit.sql"),
        mysql: Some(include_str!("../../migrations/mysql/0002_rate_limit.sql")),
    },
    Migration {
        version: 3,
        description: "credential_unique",
        sqlite: include_str!("../../migrations/sqlite/0003_credential_unique.sql"),
        postgres: include_str!("../../migrations/postgres/0003_credential_unique.sql"),
        mysql: Some(include_str!(
            "../../migrations/mysql/0003_credential_unique.sql"
        )),
    },
    Migration {
        version: 4,
        description: "change_notifications",
        sqlite: include_str!("../../migrations/sqlite/0004_change_notifications.sql"),
        postgres: include_str!("../../migrations/postgres/0004_change_notifications.sql"),
        mysql: Some(include_str!(
            "../../migrations/mysql/0004_change_notifications.sql"
        )),
    },
    Migration {
        version: 5,
        description: "account_provider_unique",
        sqlite: include_str!("../../migrations/sqlite/0005_account_provider_unique.sql"),
        postgres: include_str!("../../migrations/postgres/0005_account_provider_unique.sql"),
        mysql: Some(include_str!(
            "../../migrations/mysql/0005_account_provider_unique.sql"
        )),
    },
    Migration {
        version: 6,
        description: "session_change_count",
        sqlite: include_str!("../../migrations/sqlite/0006_session_change_count.sql"),
        postgres: include_str!("../../migrations/postgres/0006_session_change_count.sql"),
        mysql: Some(include_str!(
            "../../migrations/mysql/0006_session_change_count.sql"
        )),
    },
    Migration {
        version: 7,
        description: "cache_guards",
        sqlite: include_str!("../../migrations/sqlite/0007_cache_guards.sql"),
        postgres: include_str!("../../migrations/postgres/0007_cache_guards.sql"),
        mysql: Some(include_str!("../../migrations/mysql/0007_cache_guards.sql")),
    },
];

/// Where one migration stands in a database.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationState {
    /// The migration's version.
    pub version: i64,
    /// The migration's description.
    pub description: &'static str,
    /// Checksum of the SQL this runtime would apply.
    pub checksum: String,
    /// Checksum recorded when it was applied, if it was.
    pub applied_checksum: Option<String>,
}

impl MigrationState {
    /// `migration` not applied yet, as a database on `backend` would have it.
    pub fn pending(migration: &Migration, backend: Backend) -> Self {
        MigrationState {
            version: migration.version,
            description: migration.description,
            checksum: migration.checksum(backend),
            applied_checksum: None,
        }
    }

    /// True when the migration has been applied.
    pub fn is_applied(&self) -> bool {
        self.applied_checksum.is_some()
    }
}

const HISTORY_TABLE: &str = r#"CREATE TABLE IF NOT EXISTS "_better_auth_migrations" (
    "version" bigint NOT NULL PRIMARY KEY,
    "description" text NOT NULL,
    "checksum" text NOT NULL,
    "appliedAt" text NOT NULL
)"#;

/// Creates or updates the auth schema. Idempotent: applied migrations are
/// skipped (after checking their checksum), pending ones applied in order.
/// Safe to call from several instances or processes at once: on PostgreSQL
/// an advisory lock serialises them; on SQLite each migration's transaction
/// starts with `BEGIN IMMEDIATE`, taking the write lock before it reads the
/// history, so a second migrator waits (busy timeout) and then sees the
/// migration applied instead of failing on a stale read; on MySQL a named
/// lock (`GET_LOCK`) is held while migrations run (MySQL commits DDL at once,
/// so there a migration is not undone when a later statement of it fails).
///
/// Plugins' own migrations are applied when an instance with them is built
/// (see [`PluginSetup::migrations`](crate::plugins::PluginSetup::migrations)).
pub async fn run_migrations(db: &Database) -> Result<()> {
    apply(db, History::Core, MIGRATIONS).await
}

/// Where applied migrations are recorded: the runtime's in
/// `_better_auth_migrations`, a plugin's in `_better_auth_plugin_migrations`
/// under its id (so plugins number their migrations from 1 on their own).
#[derive(Clone, Copy)]
pub(crate) enum History<'a> {
    Core,
    Plugin(&'a str),
}

const PLUGIN_HISTORY_TABLE: &str = r#"CREATE TABLE IF NOT EXISTS "_better_auth_plugin_migrations" (
    "plugin" text NOT NULL,
    "version" bigint NOT NULL,
    "description" text NOT NULL,
    "checksum" text NOT NULL,
    "appliedAt" text NOT NULL,
    PRIMARY KEY ("plugin", "version")
)"#;

impl History<'_> {
    fn create(self) -> &'static str {
        match self {
            History::Core => HISTORY_TABLE,
            History::Plugin(_) => PLUGIN_HISTORY_TABLE,
        }
    }

    fn select(self) -> &'static str {
        match self {
            History::Core => {
                r#"SELECT "checksum" FROM "_better_auth_migrations" WHERE "version" = $1"#
            }
            History::Plugin(_) => {
                r#"SELECT "checksum" FROM "_better_auth_plugin_migrations"
                   WHERE "version" = $1 AND "plugin" = $2"#
            }
        }
    }

    fn insert(self) -> &'static str {
        match self {
            History::Core => {
                r#"INSERT INTO "_better_auth_migrations"
                   ("version", "description", "checksum", "appliedAt")
                   VALUES ($1, $2, $3, $4)"#
            }
            History::Plugin(_) => {
                r#"INSERT INTO "_better_auth_plugin_migrations"
                   ("version", "description", "checksum", "appliedAt", "plugin")
                   VALUES ($1, $2, $3, $4, $5)"#
            }
        }
    }

    fn name(self, migration: &Migration) -> String {
        match self {
            History::Core => format!(
                "migration {} ({})",
                migration.version, migration.description
            ),
            History::Plugin(id) => format!(
                "plugin `{id}` migration {} ({})",
                migration.version, migration.description
            ),
        }
    }
}

/// Applies `migrations` (oldest first) that `history` does not record yet.
pub(crate) async fn apply(
    db: &Database,
    history: History<'_>,
    migrations: &[Migration],
) -> Result<()> {
    let backend = db.backend();
    #[cfg(feature = "mysql")]
    #[allow(irrefutable_let_patterns)]
    if let super::Pool::MySql(pool) = &db.pool {
        return apply_mysql(pool, history, migrations).await;
    }
    let plugin = match history {
        History::Core => None,
        History::Plugin(id) => Some(id),
    };
    for migration in migrations {
        let checksum = migration.checksum(backend);
        on_pool!(db, |pool| {
            let mut tx = if backend == Backend::Sqlite {
                pool.begin_with("BEGIN IMMEDIATE").await?
            } else {
                pool.begin().await?
            };
            if backend == Backend::Postgres {
                // Serialises concurrent migrators; released at commit.
                sqlx::query("SELECT pg_advisory_xact_lock(7267150331)")
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(history.create()).execute(&mut *tx).await?;
            let mut select = sqlx::query_as(history.select()).bind(migration.version);
            if let Some(id) = plugin {
                select = select.bind(id);
            }
            let applied: Option<(super::rows::Text,)> = select.fetch_optional(&mut *tx).await?;
            match applied {
                Some((recorded,)) if recorded.0 == checksum => {}
                Some((recorded,)) => {
                    let recorded = recorded.0;
                    return Err(Error::Migration(format!(
                        "{} was applied with checksum {recorded}, \
                         but this version ships checksum {checksum}",
                        history.name(migration)
                    )));
                }
                None => {
                    // Through `Executor::execute` on the connection, not
                    // `RawSql::execute`: the latter is an `async fn` generic
                    // over its executor, and a future holding it is not
                    // `Send` (so `run_migrations` could not be awaited in
                    // `tokio::spawn`).
                    sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(migration.sql(backend)))
                        .await
                        .map_err(|e| {
                            Error::Migration(format!("{} failed: {e}", history.name(migration)))
                        })?;
                    let mut insert = sqlx::query(history.insert())
                        .bind(migration.version)
                        .bind(migration.description)
                        .bind(&checksum)
                        .bind(super::format_timestamp(&chrono::Utc::now()));
                    if let Some(id) = plugin {
                        insert = insert.bind(id);
                    }
                    insert.execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
        });
    }
    Ok(())
}

/// Applies `migrations` on MySQL. DDL commits at once there, so no
/// transaction holds a migration together: a named lock (`GET_LOCK`, held by
/// the connection doing the work) serialises concurrent migrators instead, and
/// each migration's history row is written once its SQL has run.
#[cfg(feature = "mysql")]
async fn apply_mysql(
    pool: &sqlx::MySqlPool,
    history: History<'_>,
    migrations: &[Migration],
) -> Result<()> {
    // Named locks are server-wide: the name holds the database's (hashed, as
    // lock names are at most 64 characters), so migrators of other databases
    // on the server do not wait for each other.
    const LOCK: &str = "CONCAT('better_auth_migrations:', SHA1(DATABASE()))";
    let mut conn = pool.acquire().await?;
    let locked: Option<i64> = sqlx::query_scalar(&format!("SELECT GET_LOCK({LOCK}, 60)"))
        .fetch_one(&mut *conn)
        .await?;
    if locked != Some(1) {
        return Err(Error::Migration(
            "another migrator held the MySQL migration lock of this database for 60 s".into(),
        ));
    }
    let result = apply_mysql_locked(&mut conn, history, migrations).await;
    let released = sqlx::query(&format!("SELECT RELEASE_LOCK({LOCK})"))
        .execute(&mut *conn)
        .await;
    result.and(released.map(|_| ()).map_err(Error::from))
}

#[cfg(feature = "mysql")]
async fn apply_mysql_locked(
    conn: &mut sqlx::MySqlConnection,
    history: History<'_>,
    migrations: &[Migration],
) -> Result<()> {
    let (create, select, insert, plugin) = match history {
        History::Core => (
            MYSQL_HISTORY_TABLE,
            r#"SELECT "checksum" FROM "_better_auth_migrations" WHERE "version" = ?"#,
            r#"INSERT INTO "_better_auth_migrations"
               ("version", "description", "checksum", "appliedAt") VALUES (?, ?, ?, ?)"#,
            None,
        ),
        History::Plugin(id) => (
            MYSQL_PLUGIN_HISTORY_TABLE,
            r#"SELECT "checksum" FROM "_better_auth_plugin_migrations"
               WHERE "version" = ? AND "plugin" = ?"#,
            r#"INSERT INTO "_better_auth_plugin_migrations"
               ("version", "description", "checksum", "appliedAt", "plugin")
               VALUES (?, ?, ?, ?, ?)"#,
            Some(id),
        ),
    };
    sqlx::Executor::execute(&mut *conn, create).await?;
    for migration in migrations {
        let checksum = migration.checksum(Backend::MySql);
        let mut query = sqlx::query_scalar(select).bind(migration.version);
        if let Some(id) = plugin {
            query = query.bind(id);
        }
        let applied: Option<super::rows::Text> = query.fetch_optional(&mut *conn).await?;
        match applied {
            Some(recorded) if recorded.0 == checksum => continue,
            Some(recorded) => {
                return Err(Error::Migration(format!(
                    "{} was applied with checksum {}, but this version ships checksum {checksum}",
                    history.name(migration),
                    recorded.0
                )));
            }
            None => {}
        }
        let Some(sql) = migration.mysql else {
            return Err(Error::Migration(format!(
                "{} has no MySQL version: this plugin does not support MySQL",
                history.name(migration)
            )));
        };
        sqlx::Executor::execute(&mut *conn, sqlx::raw_sql(sql))
            .await
            .map_err(|e| Error::Migration(format!("{} failed: {e}", history.name(migration))))?;
        let mut insert = sqlx::query(insert)
            .bind(migration.version)
            .bind(migration.description)
            .bind(&checksum)
            .bind(super::format_timestamp(&chrono::Utc::now()));
        if let Some(id) = plugin {
            insert = insert.bind(id);
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The history tables on MySQL (keys need a bounded length there).
#[cfg(feature = "mysql")]
const MYSQL_HISTORY_TABLE: &str = r#"CREATE TABLE IF NOT EXISTS "_better_auth_migrations" (
    "version" bigint NOT NULL PRIMARY KEY,
    "description" text NOT NULL,
    "checksum" text NOT NULL,
    "appliedAt" text NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"#;

#[cfg(feature = "mysql")]
const MYSQL_PLUGIN_HISTORY_TABLE: &str = r#"CREATE TABLE IF NOT EXISTS "_better_auth_plugin_migrations" (
    "plugin" varchar(191) NOT NULL,
    "version" bigint NOT NULL,
    "description" text NOT NULL,
    "checksum" text NOT NULL,
    "appliedAt" text NOT NULL,
    PRIMARY KEY ("plugin", "version")
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"#;

/// Whether `table` exists in the database (the current schema).
async fn table_exists(db: &Database, table: &str) -> Result<bool> {
    Ok(match &db.pool {
        #[cfg(feature = "sqlite")]
        super::Pool::Sqlite(pool) => {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
            )
            .bind(table)
            .fetch_one(pool)
            .await?;
            n > 0
        }
        #[cfg(feature = "postgres")]
        super::Pool::Postgres(pool) => {
            let found: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
                .bind(table)
                .fetch_one(pool)
                .await?;
            found.is_some()
        }
        #[cfg(feature = "mysql")]
        super::Pool::MySql(pool) => {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name = ?",
            )
            .bind(table)
            .fetch_one(pool)
            .await?;
            n > 0
        }
    })
}

/// Every shipped migration with whether (and with which checksum) it is applied.
pub async fn migration_status(db: &Database) -> Result<Vec<MigrationState>> {
    let backend = db.backend();
    let recorded: Vec<(i64, super::rows::Text)> =
        if table_exists(db, "_better_auth_migrations").await? {
            on_pool!(db, |pool| {
                sqlx::query_as(r#"SELECT "version", "checksum" FROM "_better_auth_migrations""#)
                    .fetch_all(pool)
                    .await?
            })
        } else {
            Vec::new()
        };
    Ok(MIGRATIONS
        .iter()
        .map(|m| MigrationState {
            applied_checksum: recorded
                .iter()
                .find(|(v, _)| *v == m.version)
                .map(|(_, c)| c.0.clone()),
            ..MigrationState::pending(m, backend)
        })
        .collect())
}

/// A plugin migration recorded as applied (see
/// [`PluginSetup::migrations`](crate::plugins::PluginSetup::migrations)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedPluginMigration {
    /// The plugin's id (`two-factor`).
    pub plugin: String,
    /// The migration's version within the plugin.
    pub version: i64,
    /// Its description.
    pub description: String,
    /// When it was applied (ISO-8601, as stored).
    pub applied_at: String,
}

/// Every plugin migration applied to this database, by plugin and version; empty
/// when no instance with a plugin that has migrations was ever built on it.
pub async fn plugin_migrations(db: &Database) -> Result<Vec<AppliedPluginMigration>> {
    use super::rows::Text;
    let rows: Vec<(Text, i64, Text, Text)> =
        if table_exists(db, "_better_auth_plugin_migrations").await? {
            on_pool!(db, |pool| {
                sqlx::query_as(
                    r#"SELECT "plugin", "version", "description", "appliedAt"
                   FROM "_better_auth_plugin_migrations" ORDER BY "plugin", "version""#,
                )
                .fetch_all(pool)
                .await?
            })
        } else {
            Vec::new()
        };
    Ok(rows
        .into_iter()
        .map(
            |(plugin, version, description, applied_at)| AppliedPluginMigration {
                plugin: plugin.0,
                version,
                description: description.0,
                applied_at: applied_at.0,
            },
        )
        .collect())
}
