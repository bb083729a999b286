//! Queries on the `account` table.

use chrono::{DateTime, Utc};

use super::rows::AccountRow;
use super::{Database, Timestamp, on_pool};
use crate::error::Result;
use crate::models::Account;

const ACCOUNT_COLUMNS: &str =
    r#""id", "accountId", "providerId", "userId", "scope", "createdAt", "updatedAt""#;

/// Every account (way of signing in) of a user.
pub async fn list_for_user(db: &Database, user_id: &str) -> Result<Vec<Account>> {
    let sql = format!(
        r#"SELECT {ACCOUNT_COLUMNS} FROM "account" WHERE "userId" = $1 ORDER BY "createdAt", "id""#
    );
    let rows: Vec<AccountRow> = on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_all(pool)
        .await?);
    Ok(rows.into_iter().map(Account::from).collect())
}

/// The password hash of a user's credential account.
pub async fn credential_password(db: &Database, user_id: &str) -> Result<Option<String>> {
    const SQL: &str =
        r#"SELECT "password" FROM "account" WHERE "userId" = $1 AND "providerId" = 'credential'"#;
    let row: Option<(Option<String>,)> = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(user_id)
        .fetch_optional(pool)
        .await?);
    Ok(row.and_then(|(p,)| p))
}

const UPDATE_CREDENTIAL_PASSWORD: &str = r#"UPDATE "account" SET "password" = $2, "updatedAt" = $3
    WHERE "userId" = $1 AND "providerId" = 'credential'"#;

const INSERT_CREDENTIAL_ACCOUNT: &str = r#"INSERT INTO "account" ("id", "accountId", "providerId", "userId", "password", "createdAt", "updatedAt")
    VALUES ($1, $2, 'credential', $2, $3, $4, $4)"#;

/// Runs the update-or-insert of a credential password on one executor (a pool
/// or an open transaction), so both public functions below share the SQL.
macro_rules! upsert_credential_password {
    ($executor:expr, $user_id:expr, $hash:expr, $now:expr) => {{
        let updated = sqlx::query(UPDATE_CREDENTIAL_PASSWORD)
            .bind($user_id)
            .bind($hash)
            .bind(Timestamp($now))
            .execute($executor)
            .await?
            .rows_affected();
        if updated == 0 {
            sqlx::query(INSERT_CREDENTIAL_ACCOUNT)
                .bind(crate::crypto::generate_id())
                .bind($user_id)
                .bind($hash)
                .bind(Timestamp($now))
                .execute($executor)
                .await?;
        }
    }};
}

/// Replaces the password hash of a user's credential account, creating the
/// account when the user had none. Returns nothing; the caller decides about sessions.
pub async fn set_credential_password(
    db: &Database,
    user_id: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    on_pool!(db, |pool| upsert_credential_password!(
        pool,
        user_id,
        password_hash,
        now
    ));
    Ok(())
}

/// Replaces a user's credential password (as [`set_credential_password`]) and
/// deletes every session of the user, in one transaction: either the new
/// password is set and every old session is gone, or nothing changed.
/// Returns how many sessions were deleted. Used by `better-auth user set-password`.
pub async fn set_credential_password_and_end_sessions(
    db: &Database,
    user_id: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let ended = on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        upsert_credential_password!(&mut *tx, user_id, password_hash, now);
        let ended = sqlx::query(r#"DELETE FROM "session" WHERE "userId" = $1"#)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        ended
    });
    Ok(ended)
}

/// Deletes one account of a user by provider (and provider account id, when given).
/// Returns whether a row was deleted.
pub async fn delete_for_user(
    db: &Database,
    user_id: &str,
    provider_id: &str,
    account_id: Option<&str>,
) -> Result<bool> {
    const SQL: &str = r#"DELETE FROM "account" WHERE "userId" = $1 AND "providerId" = $2
        AND ($3 IS NULL OR "accountId" = $3)"#;
    let n = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(user_id)
        .bind(provider_id)
        .bind(account_id)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(n > 0)
}
