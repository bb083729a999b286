//! What the admin commands know of the admin plugin's data: a user's roles
//! and bans. The plugin adds its columns to `user` when an app with it
//! starts; a database without them has no roles to set.

use better_auth::store::{Database, Timestamp};
use chrono::{DateTime, Utc};

use super::db::{any_pool, has_column};

/// Whether the plugin's columns (`role`, `banned`, ...) are here.
pub(super) async fn installed(db: &Database) -> anyhow::Result<bool> {
    has_column(db, "user", "banned").await
}

/// The error when the plugin's columns are missing.
pub(super) fn not_installed() -> anyhow::Error {
    anyhow::anyhow!(
        "this database has no roles: the admin plugin adds them when an app with \
         `AdminPlugin` starts (or run `better-auth init --plugins ...,admin`)"
    )
}

/// Roles as stored: comma-separated names of letters, digits, `-` and `_`.
pub(super) fn parse_roles(roles: &str) -> anyhow::Result<String> {
    let list: Vec<&str> = roles
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect();
    let valid = |r: &&str| {
        r.len() <= 64
            && r.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if list.is_empty() || !list.iter().all(valid) {
        return Err(anyhow::anyhow!(
            "invalid role `{}`: roles are letters, digits, `-` and `_`, comma-separated \
             (`admin`, `support,admin`)",
            super::output::printable(roles)
        ));
    }
    Ok(list.join(","))
}

/// Sets the user's roles.
pub(super) async fn set_role(db: &Database, user_id: &str, roles: &str) -> anyhow::Result<()> {
    let sql = r#"UPDATE "user" SET "role" = $1, "updatedAt" = $2 WHERE "id" = $3"#;
    let now = Timestamp::new(Utc::now());
    any_pool!(db, |pool| sqlx::query(sql)
        .bind(roles)
        .bind(now)
        .bind(user_id)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(())
}

/// Bans the user (until `until`, or until lifted) and ends their sessions,
/// in one transaction; returns how many sessions ended.
pub(super) async fn ban(
    db: &Database,
    user_id: &str,
    reason: &str,
    until: Option<DateTime<Utc>>,
) -> anyhow::Result<u64> {
    let now = Timestamp::new(Utc::now());
    let until = until.map(Timestamp::new);
    macro_rules! run {
        ($pool:expr) => {{
            let mut tx = $pool.begin().await?;
            sqlx::query(
                r#"UPDATE "user" SET "banned" = $1, "banReason" = $2, "banExpires" = $3,
                   "updatedAt" = $4 WHERE "id" = $5"#,
            )
            .bind(true)
            .bind(reason)
            .bind(until)
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            let ended = sqlx::query(r#"DELETE FROM "session" WHERE "userId" = $1"#)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            ended
        }};
    }
    Ok(any_pool!(db, |pool| run!(pool)))
}

/// Lifts the user's ban; `false` when they were not banned.
pub(super) async fn unban(db: &Database, user_id: &str) -> anyhow::Result<bool> {
    let sql = r#"UPDATE "user" SET "banned" = $1, "banReason" = NULL, "banExpires" = NULL,
        "updatedAt" = $2 WHERE "id" = $3 AND "banned" = $4"#;
    let now = Timestamp::new(Utc::now());
    let done = any_pool!(db, |pool| sqlx::query(sql)
        .bind(false)
        .bind(now)
        .bind(user_id)
        .bind(true)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(done > 0)
}

/// An end of a ban: an RFC 3339 time (`2027-01-31T12:00:00Z`) or a day
/// (`2027-01-31`, its start in UTC), in the future.
pub(super) fn parse_until(text: &str) -> anyhow::Result<DateTime<Utc>> {
    let at = DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| {
            anyhow::anyhow!(
                "invalid --until `{}`: expected a date (2027-01-31) or a time \
                 (2027-01-31T12:00:00Z)",
                super::output::printable(text)
            )
        })?;
    if at <= Utc::now() {
        return Err(anyhow::anyhow!("--until {text} is not in the future"));
    }
    Ok(at)
}
