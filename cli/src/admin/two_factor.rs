//! What the admin commands know of the two-factor plugin's data: which users
//! have it on, and removing a user's second factor (a lost phone). The plugin
//! creates its schema when an app with it starts; a database without it has
//! no second factors.

use std::collections::HashSet;

use better_auth::store::{Database, Text, Timestamp};

use super::db::{any_pool, has_column};

/// Whether the plugin's schema (the `twoFactorEnabled` column) is here.
async fn installed(db: &Database) -> anyhow::Result<bool> {
    has_column(db, "user", "twoFactorEnabled").await
}

/// The ids of the users with two-factor on, or `None` when the database has
/// no two-factor data at all.
pub(super) async fn enabled_users(db: &Database) -> anyhow::Result<Option<HashSet<String>>> {
    if !installed(db).await? {
        return Ok(None);
    }
    let sql = r#"SELECT "id" FROM "user" WHERE "twoFactorEnabled" = $1"#;
    let ids: Vec<Text> = any_pool!(db, |pool| sqlx::query_scalar(sql)
        .bind(true)
        .fetch_all(pool)
        .await?);
    Ok(Some(ids.into_iter().map(|id| id.0).collect()))
}

/// Removes the user's second factor in one transaction: the secret and backup
/// codes, the flag, trusted devices and sign-ins waiting for a code. False
/// when the database has no two-factor data.
pub(super) async fn reset(db: &Database, user_id: &str) -> anyhow::Result<bool> {
    if !installed(db).await? {
        return Ok(false);
    }
    let now = Timestamp::new(chrono::Utc::now());
    macro_rules! run {
        ($pool:expr) => {{
            let mut tx = $pool.begin().await?;
            sqlx::query(r#"DELETE FROM "twoFactor" WHERE "userId" = $1"#)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                r#"UPDATE "user" SET "twoFactorEnabled" = $1, "updatedAt" = $2 WHERE "id" = $3"#,
            )
            .bind(false)
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                r#"DELETE FROM "verification" WHERE "value" = $1
                   AND ("identifier" LIKE 'trust-device:%' OR "identifier" LIKE 'two-factor:%')"#,
            )
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }};
    }
    any_pool!(db, |pool| run!(pool));
    Ok(true)
}
