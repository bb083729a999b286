//! The plugin's table (`twoFactor`) and the user's `twoFactorEnabled` flag,
//! one SQL text for every backend (with a MySQL form where MySQL has no
//! `ON CONFLICT` or `RETURNING`).

use better_auth::Result;
use better_auth::store::{Backend, Database, Text, Timestamp, with_pool as on_pool};
use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distributions::Alphanumeric;

/// A user's `twoFactor` row.
#[derive(Debug)]
pub(crate) struct TwoFactorRow {
    pub(crate) id: String,
    /// The authenticator secret, sealed (see `secret.rs`).
    pub(crate) secret: String,
    /// JSON array of backup-code digests.
    pub(crate) backup_codes: String,
    /// False between `enable` and the first verified code.
    pub(crate) verified: Option<bool>,
    pub(crate) locked_until: Option<Timestamp>,
}

/// [`TwoFactorRow`] as read (text as [`Text`], which MySQL's binary collation needs).
#[derive(sqlx::FromRow)]
struct StoredRow {
    id: Text,
    secret: Text,
    #[sqlx(rename = "backupCodes")]
    backup_codes: Text,
    verified: Option<bool>,
    #[sqlx(rename = "lockedUntil")]
    locked_until: Option<Timestamp>,
}

impl From<StoredRow> for TwoFactorRow {
    fn from(row: StoredRow) -> Self {
        TwoFactorRow {
            id: row.id.into(),
            secret: row.secret.into(),
            backup_codes: row.backup_codes.into(),
            verified: row.verified,
            locked_until: row.locked_until,
        }
    }
}

impl TwoFactorRow {
    pub(crate) fn is_verified(&self) -> bool {
        self.verified != Some(false)
    }

    pub(crate) fn digests(&self) -> Vec<String> {
        serde_json::from_str(&self.backup_codes).unwrap_or_default()
    }

    pub(crate) fn locked_at(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|until| until.get() > now)
    }
}

const COLUMNS: &str = r#""id", "secret", "backupCodes", "verified", "lockedUntil""#;

pub(crate) async fn find(db: &Database, user_id: &str) -> Result<Option<TwoFactorRow>> {
    let sql = format!(r#"SELECT {COLUMNS} FROM "twoFactor" WHERE "userId" = $1"#);
    let row: Option<StoredRow> = on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_optional(pool)
        .await?);
    Ok(row.map(TwoFactorRow::from))
}

/// Whether the user has two-factor turned on.
pub(crate) async fn is_enabled(db: &Database, user_id: &str) -> Result<bool> {
    let sql = r#"SELECT "twoFactorEnabled" FROM "user" WHERE "id" = $1"#;
    let flag: Option<(Option<bool>,)> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(user_id)
        .fetch_optional(pool)
        .await?);
    Ok(matches!(flag, Some((Some(true),))))
}

pub(crate) async fn set_enabled(
    db: &Database,
    user_id: &str,
    enabled: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let sql = r#"UPDATE "user" SET "twoFactorEnabled" = $1, "updatedAt" = $2 WHERE "id" = $3"#;
    // The user row changes: the session cache must not answer with it as it was.
    let _change = db.change_guard();
    on_pool!(db, |pool| {
        sqlx::query(sql)
            .bind(enabled)
            .bind(Timestamp::new(now))
            .bind(user_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Stores a new, not yet verified secret and backup codes for the user,
/// replacing an unverified one.
pub(crate) async fn start_setup(
    db: &Database,
    user_id: &str,
    sealed_secret: &str,
    digests: &[String],
) -> Result<()> {
    let codes = serde_json::to_string(digests).expect("strings serialise");
    let id: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let sql = r#"INSERT INTO "twoFactor"
        ("id", "secret", "backupCodes", "userId", "verified", "failedVerificationCount")
        VALUES ($1, $2, $3, $4, $5, 0)
        ON CONFLICT ("userId") DO UPDATE SET "secret" = excluded."secret",
            "backupCodes" = excluded."backupCodes", "verified" = excluded."verified",
            "failedVerificationCount" = 0, "lockedUntil" = NULL, "lastUsedStep" = NULL"#;
    let mysql = r#"INSERT INTO "twoFactor"
        ("id", "secret", "backupCodes", "userId", "verified", "failedVerificationCount")
        VALUES ($1, $2, $3, $4, $5, 0)
        ON DUPLICATE KEY UPDATE "secret" = VALUES("secret"),
            "backupCodes" = VALUES("backupCodes"), "verified" = VALUES("verified"),
            "failedVerificationCount" = 0, "lockedUntil" = NULL, "lastUsedStep" = NULL"#;
    let sql = if db.backend() == Backend::MySql {
        mysql
    } else {
        sql
    };
    on_pool!(db, |pool| {
        sqlx::query(sql)
            .bind(&id)
            .bind(sealed_secret)
            .bind(&codes)
            .bind(user_id)
            .bind(false)
            .execute(pool)
            .await?;
    });
    Ok(())
}

pub(crate) async fn mark_verified(db: &Database, id: &str) -> Result<()> {
    let sql = r#"UPDATE "twoFactor" SET "verified" = $1 WHERE "id" = $2"#;
    on_pool!(db, |pool| {
        sqlx::query(sql).bind(true).bind(id).execute(pool).await?;
    });
    Ok(())
}

/// Records `step` as used; false when it (or a later one) already was, so
/// each authenticator code signs in at most once.
pub(crate) async fn accept_step(db: &Database, id: &str, step: i64) -> Result<bool> {
    let sql = r#"UPDATE "twoFactor" SET "lastUsedStep" = $1
        WHERE "id" = $2 AND ("lastUsedStep" IS NULL OR "lastUsedStep" < $1)"#;
    let done = on_pool!(db, |pool| sqlx::query(sql)
        .bind(step)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(done == 1)
}

/// Replaces the backup codes when they are still `expected`: two requests
/// using the same code cannot both succeed.
pub(crate) async fn swap_backup_codes(
    db: &Database,
    id: &str,
    expected: &str,
    digests: &[String],
) -> Result<bool> {
    let codes = serde_json::to_string(digests).expect("strings serialise");
    let sql = r#"UPDATE "twoFactor" SET "backupCodes" = $1 WHERE "id" = $2 AND "backupCodes" = $3"#;
    let done = on_pool!(db, |pool| sqlx::query(sql)
        .bind(&codes)
        .bind(id)
        .bind(expected)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(done == 1)
}

/// Counts a failed code; at `max` consecutive failures the second factor is
/// locked until `lock_until`.
pub(crate) async fn record_failure(
    db: &Database,
    id: &str,
    max: i32,
    lock_until: DateTime<Utc>,
) -> Result<()> {
    let count = r#"UPDATE "twoFactor"
        SET "failedVerificationCount" = COALESCE("failedVerificationCount", 0) + 1
        WHERE "id" = $1 RETURNING "failedVerificationCount""#;
    let lock = r#"UPDATE "twoFactor" SET "lockedUntil" = $1, "failedVerificationCount" = 0
        WHERE "id" = $2"#;
    let failures: Option<(i32,)> = if db.backend() == Backend::MySql {
        // No `RETURNING` on MySQL: the count is read back in the transaction
        // that holds the row's lock since the update.
        let count = r#"UPDATE "twoFactor"
            SET "failedVerificationCount" = COALESCE("failedVerificationCount", 0) + 1
            WHERE "id" = $1"#;
        let read = r#"SELECT "failedVerificationCount" FROM "twoFactor" WHERE "id" = $1"#;
        on_pool!(db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(count).bind(id).execute(&mut *tx).await?;
            let failures = sqlx::query_as(read)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            failures
        })
    } else {
        on_pool!(db, |pool| sqlx::query_as(count)
            .bind(id)
            .fetch_optional(pool)
            .await?)
    };
    on_pool!(db, |pool| {
        if failures.is_some_and(|(n,)| n >= max) {
            sqlx::query(lock)
                .bind(Timestamp::new(lock_until))
                .bind(id)
                .execute(pool)
                .await?;
        }
    });
    Ok(())
}

pub(crate) async fn reset_failures(db: &Database, id: &str) -> Result<()> {
    let sql = r#"UPDATE "twoFactor" SET "failedVerificationCount" = 0, "lockedUntil" = NULL
        WHERE "id" = $1"#;
    on_pool!(db, |pool| {
        sqlx::query(sql).bind(id).execute(pool).await?;
    });
    Ok(())
}

pub(crate) async fn delete(db: &Database, user_id: &str) -> Result<()> {
    let sql = r#"DELETE FROM "twoFactor" WHERE "userId" = $1"#;
    on_pool!(db, |pool| {
        sqlx::query(sql).bind(user_id).execute(pool).await?;
    });
    Ok(())
}

/// What a code sent by email looks like when a verification comes for it.
pub(crate) enum OtpAttempt {
    /// None sent, or expired.
    Missing,
    /// Its attempts are spent: a new code must be asked for.
    Spent,
    /// The stored HMAC of the code; this attempt is counted.
    Hash(String),
}

/// Stores the code for `key` (replacing an earlier one, attempts back to
/// zero), and deletes every expired code.
pub(crate) async fn put_otp(
    db: &Database,
    key: &str,
    user_id: &str,
    code_hash: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<()> {
    let purge = r#"DELETE FROM "twoFactorOtp" WHERE "expiresAt" < $1"#;
    let put = r#"INSERT INTO "twoFactorOtp" ("key", "userId", "codeHash", "attempts", "expiresAt")
        VALUES ($1, $2, $3, 0, $4)
        ON CONFLICT ("key") DO UPDATE SET "codeHash" = excluded."codeHash", "attempts" = 0,
            "expiresAt" = excluded."expiresAt""#;
    let mysql = r#"INSERT INTO "twoFactorOtp" ("key", "userId", "codeHash", "attempts", "expiresAt")
        VALUES ($1, $2, $3, 0, $4)
        ON DUPLICATE KEY UPDATE "codeHash" = VALUES("codeHash"), "attempts" = 0,
            "expiresAt" = VALUES("expiresAt")"#;
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
            .bind(key)
            .bind(user_id)
            .bind(code_hash)
            .bind(Timestamp::new(expires))
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Counts one attempt at the code for `key`, atomically, unless `max` are spent.
pub(crate) async fn attempt_otp(
    db: &Database,
    key: &str,
    now: DateTime<Utc>,
    max: i32,
) -> Result<OtpAttempt> {
    let find = r#"SELECT "expiresAt" FROM "twoFactorOtp" WHERE "key" = $1"#;
    let count = r#"UPDATE "twoFactorOtp" SET "attempts" = "attempts" + 1
        WHERE "key" = $1 AND "attempts" < $2 RETURNING "codeHash""#;
    // No `RETURNING` on MySQL: the hash is read back in the transaction that
    // holds the row's lock since the attempt was counted.
    let mysql_count = r#"UPDATE "twoFactorOtp" SET "attempts" = "attempts" + 1
        WHERE "key" = $1 AND "attempts" < $2"#;
    let mysql_read = r#"SELECT "codeHash" FROM "twoFactorOtp" WHERE "key" = $1"#;
    let mysql = db.backend() == Backend::MySql;
    Ok(on_pool!(db, |pool| {
        let expires: Option<(Timestamp,)> =
            sqlx::query_as(find).bind(key).fetch_optional(pool).await?;
        match expires {
            Some((at,)) if at.get() > now => {
                let hash: Option<(Text,)> = if mysql {
                    let mut tx = pool.begin().await?;
                    let counted = sqlx::query(mysql_count)
                        .bind(key)
                        .bind(max)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    let hash = if counted == 1 {
                        sqlx::query_as(mysql_read)
                            .bind(key)
                            .fetch_optional(&mut *tx)
                            .await?
                    } else {
                        None
                    };
                    tx.commit().await?;
                    hash
                } else {
                    sqlx::query_as(count)
                        .bind(key)
                        .bind(max)
                        .fetch_optional(pool)
                        .await?
                };
                hash.map_or(OtpAttempt::Spent, |(h,)| OtpAttempt::Hash(h.0))
            }
            _ => OtpAttempt::Missing,
        }
    }))
}

pub(crate) async fn delete_otp(db: &Database, key: &str) -> Result<()> {
    let sql = r#"DELETE FROM "twoFactorOtp" WHERE "key" = $1"#;
    on_pool!(db, |pool| {
        sqlx::query(sql).bind(key).execute(pool).await?;
    });
    Ok(())
}
