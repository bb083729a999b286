//! The plugin's table (`emailOtp`): one code per purpose and address.

use better_auth::Result;
use better_auth::store::{Backend, Database, Text, Timestamp, with_pool as on_pool};
use chrono::{DateTime, Utc};

/// Stores the code for `identifier` (replacing an earlier one, attempts back
/// to zero), and deletes every expired code.
pub(crate) async fn put(
    db: &Database,
    identifier: &str,
    code_hash: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<()> {
    let purge = r#"DELETE FROM "emailOtp" WHERE "expiresAt" < $1"#;
    let put = r#"INSERT INTO "emailOtp" ("identifier", "codeHash", "attempts", "expiresAt")
        VALUES ($1, $2, 0, $3)
        ON CONFLICT ("identifier") DO UPDATE SET "codeHash" = excluded."codeHash",
            "attempts" = 0, "expiresAt" = excluded."expiresAt""#;
    let mysql = r#"INSERT INTO "emailOtp" ("identifier", "codeHash", "attempts", "expiresAt")
        VALUES ($1, $2, 0, $3)
        ON DUPLICATE KEY UPDATE "codeHash" = VALUES("codeHash"),
            "attempts" = 0, "expiresAt" = VALUES("expiresAt")"#;
    let put = if db.backend() == Backend::MySql {
        mysql
    } else {
        put
    };
    on_pool!(db, |pool| {
        sqlx::query(purge)
            .bind(Timestamp::new(now))
            .execute(pool)
            .await?;
        sqlx::query(put)
            .bind(identifier)
            .bind(code_hash)
            .bind(Timestamp::new(expires))
            .execute(pool)
            .await?;
    });
    Ok(())
}

pub(crate) async fn delete(db: &Database, identifier: &str) -> Result<()> {
    let sql = r#"DELETE FROM "emailOtp" WHERE "identifier" = $1"#;
    on_pool!(db, |pool| {
        sqlx::query(sql).bind(identifier).execute(pool).await?;
    });
    Ok(())
}

/// What a verification finds.
pub(crate) enum Attempt {
    /// No code, or an expired one (deleted now).
    Expired,
    /// None stored at all.
    Missing,
    /// Its attempts are spent.
    Spent,
    /// The stored digest; this attempt is counted.
    Hash(String),
}

/// Counts one attempt at the code for `identifier`, atomically, unless `max`
/// are spent.
pub(crate) async fn attempt(
    db: &Database,
    identifier: &str,
    now: DateTime<Utc>,
    max: i32,
) -> Result<Attempt> {
    let find = r#"SELECT "expiresAt" FROM "emailOtp" WHERE "identifier" = $1"#;
    let count = r#"UPDATE "emailOtp" SET "attempts" = "attempts" + 1
        WHERE "identifier" = $1 AND "attempts" < $2 RETURNING "codeHash""#;
    let expired = r#"DELETE FROM "emailOtp" WHERE "identifier" = $1"#;
    // No `RETURNING` on MySQL: the digest is read back in the transaction
    // that holds the row's lock since the attempt was counted.
    let mysql_count = r#"UPDATE "emailOtp" SET "attempts" = "attempts" + 1
        WHERE "identifier" = $1 AND "attempts" < $2"#;
    let mysql_read = r#"SELECT "codeHash" FROM "emailOtp" WHERE "identifier" = $1"#;
    let mysql = db.backend() == Backend::MySql;
    Ok(on_pool!(db, |pool| {
        let expires: Option<(Timestamp,)> = sqlx::query_as(find)
            .bind(identifier)
            .fetch_optional(pool)
            .await?;
        match expires {
            None => Attempt::Missing,
            Some((at,)) if at.get() <= now => {
                sqlx::query(expired).bind(identifier).execute(pool).await?;
                Attempt::Expired
            }
            Some(_) => {
                let hash: Option<(Text,)> = if mysql {
                    let mut tx = pool.begin().await?;
                    let counted = sqlx::query(mysql_count)
                        .bind(identifier)
                        .bind(max)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    let hash = if counted == 1 {
                        sqlx::query_as(mysql_read)
                            .bind(identifier)
                            .fetch_optional(&mut *tx)
                            .await?
                    } else {
                        None
                    };
                    tx.commit().await?;
                    hash
                } else {
                    sqlx::query_as(count)
                        .bind(identifier)
                        .bind(max)
                        .fetch_optional(pool)
                        .await?
                };
                hash.map_or(Attempt::Spent, |(h,)| Attempt::Hash(h.0))
            }
        }
    }))
}

/// Gives back the attempt a successful check counted (the code stays usable).
pub(crate) async fn give_back(db: &Database, identifier: &str) -> Result<()> {
    let sql = r#"UPDATE "emailOtp" SET "attempts" = "attempts" - 1
        WHERE "identifier" = $1 AND "attempts" > 0"#;
    on_pool!(db, |pool| {
        sqlx::query(sql).bind(identifier).execute(pool).await?;
    });
    Ok(())
}
