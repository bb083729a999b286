//! Counters in the `rateLimit` table ([`DatabaseRateLimitStore`]), shared by
//! every instance on the database.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::attempts::{ALLOWED, ATTEMPT_MEMORY_MS, refused};
use super::{ClearFuture, HitFuture, RateLimitStore, attempt_delay, decide};
#[cfg(feature = "mysql")]
use crate::store::PoolRef;
use crate::store::{Backend, Database, on_pool};

/// Counters in the `rateLimit` table, shared by every instance on the database.
/// Account attempts (S30) live there too, under keys `account|<email>`.
#[derive(Clone, Debug)]
pub struct DatabaseRateLimitStore {
    db: Database,
}

impl DatabaseRateLimitStore {
    /// A store on this database (run the migrations first).
    ///
    /// ``` no_run
    /// # async fn f() -> better_auth::Result<()> {
    /// use std::sync::Arc;
    /// use better_auth::rate_limit::{DatabaseRateLimitStore, RateLimitConfig};
    /// use better_auth::store::Database;
    ///
    /// let database = Database::connect("sqlite://auth.db?mode=rwc").await?;
    /// let limits = RateLimitConfig::default().store(Arc::new(DatabaseRateLimitStore::new(database)));
    /// # Ok(()) }
    /// ```
    pub fn new(db: Database) -> Self {
        DatabaseRateLimitStore { db }
    }
}

impl RateLimitStore for DatabaseRateLimitStore {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window: Duration,
        max: u32,
        now: DateTime<Utc>,
    ) -> HitFuture<'a> {
        Box::pin(async move {
            let now = now.timestamp_millis();
            let window_start = now - window.as_millis() as i64;
            // One atomic statement: a new window, or one more in the current one.
            const SQL: &str = r#"INSERT INTO "rateLimit" ("id", "key", "count", "lastRequest")
                VALUES ($1, $2, 1, $3)
                ON CONFLICT ("key") DO UPDATE SET
                    "count" = CASE WHEN "rateLimit"."lastRequest" <= $4 THEN 1 ELSE "rateLimit"."count" + 1 END,
                    "lastRequest" = CASE WHEN "rateLimit"."lastRequest" <= $4 THEN $3 ELSE "rateLimit"."lastRequest" END
                RETURNING CAST("count" AS bigint), "lastRequest""#;
            #[cfg(feature = "mysql")]
            #[allow(irrefutable_let_patterns)]
            if let PoolRef::MySql(pool) = self.db.pool() {
                let (count, start) = mysql_hit(pool, key, now, window_start).await?;
                return Ok(decide(count, start, window, max, now));
            }
            let (count, start): (i64, i64) = on_pool!(self.db, |pool| sqlx::query_as(SQL)
                .bind(crate::crypto::generate_id())
                .bind(key)
                .bind(now)
                .bind(window_start)
                .fetch_one(pool)
                .await?);
            Ok(decide(count, start, window, max, now))
        })
    }

    fn reserve_attempt<'a>(&'a self, account: &'a str, now: DateTime<Utc>) -> HitFuture<'a> {
        Box::pin(async move {
            let now = now.timestamp_millis();
            let key = format!("account|{account}");
            // The row holds the attempts in a row ("count") and the end of the
            // current delay ("lastRequest", Unix ms). The first statement is a
            // write, so the row (PostgreSQL) or the database (SQLite) is locked
            // until commit: concurrent attempts are decided one after another.
            const LOCK: &str = r#"INSERT INTO "rateLimit" ("id", "key", "count", "lastRequest")
                VALUES ($1, $2, 0, 0)
                ON CONFLICT ("key") DO UPDATE SET "count" = "rateLimit"."count"
                RETURNING CAST("count" AS bigint), "lastRequest""#;
            const SET: &str =
                r#"UPDATE "rateLimit" SET "count" = $2, "lastRequest" = $3 WHERE "key" = $1"#;
            let decision = on_pool!(self.db, |pool| {
                let mut tx = pool.begin().await?;
                let (count, until): (i64, i64) = if self.db.backend() == Backend::MySql {
                    mysql_lock(&mut *tx, &key).await?
                } else {
                    sqlx::query_as(LOCK)
                        .bind(crate::crypto::generate_id())
                        .bind(&key)
                        .fetch_one(&mut *tx)
                        .await?
                };
                // Attempts older than the memory window no longer count.
                let last = until.abs();
                let stale = last > 0 && last + ATTEMPT_MEMORY_MS <= now;
                if until > now {
                    tx.rollback().await?;
                    refused(until, now)
                } else {
                    let count = if stale { 1 } else { count + 1 };
                    let delay = attempt_delay(u32::try_from(count).unwrap_or(u32::MAX));
                    // Without a delay, "lastRequest" keeps the last attempt (negated, so it
                    // never reads as a delay) for the memory window.
                    let until = if delay.is_zero() {
                        -now
                    } else {
                        now + delay.as_millis() as i64
                    };
                    sqlx::query(SET)
                        .bind(&key)
                        .bind(count)
                        .bind(until)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    ALLOWED
                }
            });
            Ok(decision)
        })
    }

    fn clear_attempts<'a>(&'a self, account: &'a str) -> ClearFuture<'a> {
        Box::pin(async move {
            let key = format!("account|{account}");
            on_pool!(self.db, |pool| sqlx::query(
                r#"DELETE FROM "rateLimit" WHERE "key" = $1"#
            )
            .bind(&key)
            .execute(pool)
            .await
            .map(|_| ())?);
            Ok(())
        })
    }
}

/// [`RateLimitStore::hit`]'s statement on MySQL, which has no `RETURNING`:
/// the upsert locks the row until the transaction ends, and the select reads
/// what it left. (Assignments of `ON DUPLICATE KEY UPDATE` run in order: the
/// count's is first, so both read the old `lastRequest`.)
#[cfg(feature = "mysql")]
async fn mysql_hit(
    pool: &sqlx::MySqlPool,
    key: &str,
    now: i64,
    window_start: i64,
) -> Result<(i64, i64), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        r#"INSERT INTO "rateLimit" ("id", "key", "count", "lastRequest") VALUES (?, ?, 1, ?)
           ON DUPLICATE KEY UPDATE
             "count" = CASE WHEN "lastRequest" <= ? THEN 1 ELSE "count" + 1 END,
             "lastRequest" = CASE WHEN "lastRequest" <= ? THEN ? ELSE "lastRequest" END"#,
    )
    .bind(crate::crypto::generate_id())
    .bind(key)
    .bind(now)
    .bind(window_start)
    .bind(window_start)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let row = mysql_read(&mut tx, key).await?;
    tx.commit().await?;
    Ok(row)
}

/// The attempts row of `key` on MySQL, created when missing and locked until
/// the transaction ends (the statement `reserve_attempt` starts with).
#[cfg(feature = "mysql")]
async fn mysql_lock<C: MySqlConn>(conn: C, key: &str) -> Result<(i64, i64), sqlx::Error> {
    conn.lock_attempts(key).await
}

/// The connection type of one backend's transaction, for [`mysql_lock`]:
/// only a MySQL connection takes the lock this way (the others never get
/// here, see `reserve_attempt`).
#[cfg(feature = "mysql")]
trait MySqlConn {
    async fn lock_attempts(self, key: &str) -> Result<(i64, i64), sqlx::Error>;
}

#[cfg(feature = "mysql")]
impl MySqlConn for &mut sqlx::MySqlConnection {
    async fn lock_attempts(self, key: &str) -> Result<(i64, i64), sqlx::Error> {
        sqlx::query(
            r#"INSERT INTO "rateLimit" ("id", "key", "count", "lastRequest") VALUES (?, ?, 0, 0)
               ON DUPLICATE KEY UPDATE "count" = "count""#,
        )
        .bind(crate::crypto::generate_id())
        .bind(key)
        .execute(&mut *self)
        .await?;
        mysql_read(self, key).await
    }
}

/// Never called: `reserve_attempt` takes this path on MySQL only.
#[cfg(all(feature = "mysql", any(feature = "sqlite", feature = "postgres")))]
macro_rules! not_mysql {
    ($conn:ty) => {
        #[cfg(feature = "mysql")]
        impl MySqlConn for &mut $conn {
            async fn lock_attempts(self, _key: &str) -> Result<(i64, i64), sqlx::Error> {
                Err(sqlx::Error::Protocol("not a MySQL connection".into()))
            }
        }
    };
}
#[cfg(all(feature = "mysql", feature = "sqlite"))]
not_mysql!(sqlx::SqliteConnection);
#[cfg(all(feature = "mysql", feature = "postgres"))]
not_mysql!(sqlx::PgConnection);

/// Without MySQL, `reserve_attempt` never asks for the MySQL lock.
#[cfg(not(feature = "mysql"))]
async fn mysql_lock<C>(_conn: C, _key: &str) -> Result<(i64, i64), sqlx::Error> {
    Err(sqlx::Error::Protocol(
        "MySQL support is not compiled in".into(),
    ))
}

#[cfg(feature = "mysql")]
async fn mysql_read(
    conn: &mut sqlx::MySqlConnection,
    key: &str,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        r#"SELECT CAST("count" AS signed), "lastRequest" FROM "rateLimit" WHERE "key" = ?"#,
    )
    .bind(key)
    .fetch_one(conn)
    .await
}
