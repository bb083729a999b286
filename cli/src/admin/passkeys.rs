//! What the admin commands know of the passkey plugin's data: which users
//! have a passkey. The plugin creates its `passkey` table when an app with it
//! starts; a database without it has no passkeys.

use std::collections::HashSet;

use better_auth::store::{Database, PoolRef};

/// The ids of the users with at least one passkey (none without the table).
pub(super) async fn users_with_passkeys(db: &Database) -> anyhow::Result<HashSet<String>> {
    let sql = r#"SELECT DISTINCT "userId" FROM "passkey""#;
    let ids: Vec<String> = match db.pool() {
        PoolRef::Sqlite(pool) => {
            let tables: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'passkey'",
            )
            .fetch_one(pool)
            .await?;
            if tables == 0 {
                return Ok(HashSet::new());
            }
            sqlx::query_scalar(sql).fetch_all(pool).await?
        }
        PoolRef::Postgres(pool) => {
            let tables: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = \
                 current_schema() AND table_name = 'passkey'",
            )
            .fetch_one(pool)
            .await?;
            if tables == 0 {
                return Ok(HashSet::new());
            }
            sqlx::query_scalar(sql).fetch_all(pool).await?
        }
        _ => Vec::new(),
    };
    Ok(ids.into_iter().collect())
}
