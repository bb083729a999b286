//! What the admin commands know of the passkey plugin's data: which users
//! have a passkey. The plugin creates its `passkey` table when an app with it
//! starts; a database without it has no passkeys.

use std::collections::HashSet;

use better_auth::store::{Database, Text};

use super::db::{any_pool, has_table};

/// The ids of the users with at least one passkey (none without the table).
pub(super) async fn users_with_passkeys(db: &Database) -> anyhow::Result<HashSet<String>> {
    if !has_table(db, "passkey").await? {
        return Ok(HashSet::new());
    }
    let sql = r#"SELECT DISTINCT "userId" FROM "passkey""#;
    let ids: Vec<Text> = any_pool!(db, |pool| sqlx::query_scalar(sql).fetch_all(pool).await?);
    Ok(ids.into_iter().map(|id| id.0).collect())
}
