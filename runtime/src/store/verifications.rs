//! Queries on the `verification` table: single-use tokens for password reset
//! and email verification. `value` holds what the token proves (a user id,
//! an email change); `identifier` holds a purpose prefix and the token's digest.

use chrono::{DateTime, Utc};

use super::rows::Text;
use super::{Database, Timestamp, on_pool};
use crate::error::Result;

/// Stores a token (by its identifier, which includes its digest) and what it proves.
pub async fn create(
    db: &Database,
    identifier: &str,
    value: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    const SQL: &str = r#"INSERT INTO "verification" ("id", "identifier", "value", "expiresAt", "createdAt", "updatedAt")
        VALUES ($1, $2, $3, $4, $5, $5)"#;
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(crate::crypto::generate_id())
        .bind(identifier)
        .bind(value)
        .bind(Timestamp(expires_at))
        .bind(Timestamp(now))
        .execute(pool)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Deletes the row with this identifier and returns its value when it had not
/// expired at `now`. Deleting first makes every token single-use, even when two
/// requests race for it (only one sees `rows_affected`).
pub async fn consume(
    db: &Database,
    identifier: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    #[cfg(feature = "mysql")]
    #[allow(irrefutable_let_patterns)]
    if let super::Pool::MySql(pool) = &db.pool {
        let mut tx = pool.begin().await?;
        let row = mysql_take(&mut tx, identifier).await?;
        tx.commit().await?;
        return Ok(row.and_then(|(value, expires)| (expires.0 > now).then_some(value)));
    }
    let row: Option<(Text, Timestamp)> = on_pool!(db, |pool| sqlx::query_as(TAKE)
        .bind(identifier)
        .fetch_optional(pool)
        .await?);
    Ok(row.and_then(|(value, expires)| (expires.0 > now).then_some(value.0)))
}

/// Deletes the rows with an identifier and returns one's value and expiry
/// (SQLite, PostgreSQL and MariaDB have `RETURNING`; see [`mysql_take`]).
pub(crate) const TAKE: &str =
    r#"DELETE FROM "verification" WHERE "identifier" = $1 RETURNING "value", "expiresAt""#;

/// [`TAKE`] on a connection (or an open transaction) of any backend: the
/// value and expiry of the token with this identifier, which is gone after.
pub(crate) trait TakeToken {
    /// Takes the token; `None` when there was none.
    async fn take(
        &mut self,
        identifier: &str,
    ) -> std::result::Result<Option<(String, Timestamp)>, sqlx::Error>;
}

/// [`TakeToken`] through `RETURNING`.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! take_returning {
    ($conn:ty) => {
        impl TakeToken for $conn {
            async fn take(
                &mut self,
                identifier: &str,
            ) -> std::result::Result<Option<(String, Timestamp)>, sqlx::Error> {
                let row: Option<(Text, Timestamp)> = sqlx::query_as(TAKE)
                    .bind(identifier)
                    .fetch_optional(&mut *self)
                    .await?;
                Ok(row.map(|(value, expires)| (value.0, expires)))
            }
        }
    };
}

#[cfg(feature = "sqlite")]
take_returning!(sqlx::SqliteConnection);
#[cfg(feature = "postgres")]
take_returning!(sqlx::PgConnection);

#[cfg(feature = "mysql")]
impl TakeToken for sqlx::MySqlConnection {
    async fn take(
        &mut self,
        identifier: &str,
    ) -> std::result::Result<Option<(String, Timestamp)>, sqlx::Error> {
        mysql_take(self, identifier).await
    }
}

/// [`TAKE`] on MySQL, in the caller's transaction: the row is read under a
/// lock (`FOR UPDATE`), then deleted; only the transaction that deletes it
/// gets its value, so a token is single-use there too.
#[cfg(feature = "mysql")]
pub(crate) async fn mysql_take(
    conn: &mut sqlx::MySqlConnection,
    identifier: &str,
) -> std::result::Result<Option<(String, Timestamp)>, sqlx::Error> {
    let row: Option<(Text, Timestamp)> = sqlx::query_as(
        r#"SELECT "value", "expiresAt" FROM "verification" WHERE "identifier" = ?
           ORDER BY "createdAt", "id" LIMIT 1 FOR UPDATE"#,
    )
    .bind(identifier)
    .fetch_optional(&mut *conn)
    .await?;
    let deleted = sqlx::query(r#"DELETE FROM "verification" WHERE "identifier" = ?"#)
        .bind(identifier)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(row
        .filter(|_| deleted > 0)
        .map(|(value, expires)| (value.0, expires)))
}

/// The value of an unexpired token without using it up.
pub async fn peek(db: &Database, identifier: &str, now: DateTime<Utc>) -> Result<Option<String>> {
    let row: Option<(Text, Timestamp)> = on_pool!(db, |pool| sqlx::query_as(
        r#"SELECT "value", "expiresAt" FROM "verification" WHERE "identifier" = $1"#
    )
    .bind(identifier)
    .fetch_optional(pool)
    .await?);
    Ok(row.and_then(|(value, expires)| (expires.0 > now).then_some(value.0)))
}

/// Deletes a user's outstanding tokens of one purpose: rows whose identifier
/// starts with `purpose` and whose value is the user id, or a JSON object whose
/// first field is `"user_id"` with this id (S33).
pub(crate) const DELETE_FOR_USER: &str = r#"DELETE FROM "verification"
    WHERE substr("identifier", 1, length(CAST($1 AS text))) = CAST($1 AS text)
      AND ("value" = CAST($2 AS text)
           OR substr("value", 1, length(CAST($3 AS text))) = CAST($3 AS text))"#;

/// The start of a JSON token value naming `user_id` first (`{"user_id":"..",`).
pub(crate) fn json_value_prefix(user_id: &str) -> String {
    let id = serde_json::to_string(user_id).unwrap_or_default();
    format!("{{\"user_id\":{id},")
}

/// Deletes every outstanding token of a user for each of `purposes` (the
/// identifier prefixes, like `reset-password:`). Returns how many went.
pub async fn delete_for_user(db: &Database, user_id: &str, purposes: &[&str]) -> Result<u64> {
    let prefix = json_value_prefix(user_id);
    let mut deleted = 0;
    for purpose in purposes {
        deleted += on_pool!(db, |pool| sqlx::query(DELETE_FOR_USER)
            .bind(*purpose)
            .bind(user_id)
            .bind(&prefix)
            .execute(pool)
            .await?
            .rows_affected());
    }
    Ok(deleted)
}

/// Deletes every token that expired at or before `now` (S50): a used-up or
/// abandoned token (a sign-in flow never finished, a reset link never
/// clicked) is worth nothing once expired. A stored time that cannot be read
/// counts as expired (S59). Returns how many rows went.
///
/// The runtime runs this in the background (see
/// [`AuthConfig::verification_purge_interval`](crate::AuthConfig::verification_purge_interval));
/// `better-auth verification purge --expired` runs it once.
pub async fn delete_expired(db: &Database, now: DateTime<Utc>) -> Result<u64> {
    Ok(match &db.pool {
        #[cfg(feature = "sqlite")]
        super::Pool::Sqlite(pool) => {
            let sql = format!(
                r#"DELETE FROM "verification" WHERE coalesce({}, 0) <= $1"#,
                super::sessions::sqlite_unix_ms(r#""expiresAt""#)
            );
            sqlx::query(&sql)
                .bind(now.timestamp_millis())
                .execute(pool)
                .await?
                .rows_affected()
        }
        #[cfg(feature = "postgres")]
        super::Pool::Postgres(pool) => sqlx::query(
            r#"DELETE FROM "verification"
               WHERE "expiresAt" <= $1 OR "expiresAt" = 'infinity'::timestamptz"#,
        )
        .bind(Timestamp(now))
        .execute(pool)
        .await?
        .rows_affected(),
        #[cfg(feature = "mysql")]
        super::Pool::MySql(pool) => {
            sqlx::query(r#"DELETE FROM "verification" WHERE "expiresAt" <= ?"#)
                .bind(Timestamp(now))
                .execute(pool)
                .await?
                .rows_affected()
        }
    })
}
