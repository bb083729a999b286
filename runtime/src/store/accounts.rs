//! Queries on the `account` table.

use chrono::{DateTime, Utc};

use super::rows::{AccountRow, Text};
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
#[doc(hidden)]
pub async fn credential_password(db: &Database, user_id: &str) -> Result<Option<String>> {
    const SQL: &str =
        r#"SELECT "password" FROM "account" WHERE "userId" = $1 AND "providerId" = 'credential'"#;
    let row: Option<(Option<Text>,)> = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(user_id)
        .fetch_optional(pool)
        .await?);
    Ok(row.and_then(|(p,)| p).map(String::from))
}

const UPDATE_CREDENTIAL_PASSWORD: &str = r#"UPDATE "account" SET "password" = $2, "updatedAt" = $3
    WHERE "userId" = $1 AND "providerId" = 'credential'"#;

/// Inserts the credential account unless one exists: the unique index on (`userId`,
/// `providerId`) for credential rows (migration 3) makes a concurrent second insert a
/// no-op. No conflict target is named: SQLite checks a named target when the statement
/// is prepared, against a schema that may predate the index on a pooled connection.
const INSERT_CREDENTIAL_ACCOUNT: &str = r#"INSERT INTO "account" ("id", "accountId", "providerId", "userId", "password", "createdAt", "updatedAt")
    VALUES ($1, $2, 'credential', $2, $3, $4, $4)
    ON CONFLICT DO NOTHING"#;

/// [`INSERT_CREDENTIAL_ACCOUNT`] on MySQL, which has no `ON CONFLICT`: a row
/// the unique index refuses is skipped (`INSERT IGNORE`, 0 rows).
const MYSQL_INSERT_CREDENTIAL_ACCOUNT: &str = r#"INSERT IGNORE INTO "account" ("id", "accountId", "providerId", "userId", "password", "createdAt", "updatedAt")
    VALUES ($1, $2, 'credential', $2, $3, $4, $4)"#;

/// Sets a credential password on one executor (a pool or an open transaction), so both
/// public functions below share the SQL: update; else insert; and when a concurrent call
/// inserted first, update that row. Never two credential rows for one user.
macro_rules! upsert_credential_password {
    ($backend:expr, $executor:expr, $user_id:expr, $hash:expr, $now:expr) => {{
        let update = || {
            sqlx::query(UPDATE_CREDENTIAL_PASSWORD)
                .bind($user_id)
                .bind($hash)
                .bind(Timestamp($now))
        };
        if update().execute($executor).await?.rows_affected() == 0 {
            let insert = if $backend == super::Backend::MySql {
                MYSQL_INSERT_CREDENTIAL_ACCOUNT
            } else {
                INSERT_CREDENTIAL_ACCOUNT
            };
            let inserted = sqlx::query(insert)
                .bind(crate::crypto::generate_id())
                .bind($user_id)
                .bind($hash)
                .bind(Timestamp($now))
                .execute($executor)
                .await?
                .rows_affected();
            if inserted == 0 {
                update().execute($executor).await?;
            }
        }
    }};
}

/// Replaces the password hash of a user's credential account, creating the
/// account when the user had none. Returns nothing; the caller decides about sessions.
#[doc(hidden)]
pub async fn set_credential_password(
    db: &Database,
    user_id: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    on_pool!(db, |pool| upsert_credential_password!(
        db.backend(),
        pool,
        user_id,
        password_hash,
        now
    ));
    Ok(())
}

/// Replaces a user's credential password (as [`set_credential_password`]),
/// deletes every session of the user and every outstanding emailed token
/// (S33, S49), in one transaction: either the new password is set and every
/// old session and link is gone, or nothing changed. Returns how many
/// sessions were deleted. Used by `better-auth user set-password`.
#[doc(hidden)]
pub async fn set_credential_password_and_end_sessions(
    db: &Database,
    user_id: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let _change = db.user_change_guard();
    let change = PasswordChange {
        user_id,
        password_hash,
        now,
        end_sessions: true,
        token: None,
    };
    Ok(change_password(db, &change).await?.unwrap_or(0))
}

/// Identifier prefix of password-reset tokens in the `verification` table.
#[doc(hidden)]
pub const RESET_TOKEN_PREFIX: &str = "reset-password:";

/// Identifier prefixes of every emailed token that acts for a user: password
/// resets, address verifications, email changes and their approvals. A
/// password change or reset ends them all (S33, S49).
#[doc(hidden)]
pub const USER_TOKEN_PREFIXES: &[&str] = &[
    RESET_TOKEN_PREFIX,
    "verify-email:",
    "change-email:",
    "change-email-approval:",
];

/// A password change and what it ends (S14, S33).
#[derive(Debug, Clone)]
#[doc(hidden)]
#[non_exhaustive]
pub struct PasswordChange<'a> {
    /// Whose password.
    pub user_id: &'a str,
    /// The new hash.
    pub password_hash: &'a str,
    /// When.
    pub now: DateTime<Utc>,
    /// Also delete every session of the user.
    pub end_sessions: bool,
    /// A reset token's `verification.identifier` to consume in the same
    /// transaction: the change happens only when that token exists, has not
    /// expired and proves `user_id`.
    pub token: Option<&'a str>,
}

impl<'a> PasswordChange<'a> {
    /// Sets `password_hash` as `user_id`'s password at `now`, ending no
    /// sessions and consuming no token.
    pub fn new(user_id: &'a str, password_hash: &'a str, now: DateTime<Utc>) -> Self {
        PasswordChange {
            user_id,
            password_hash,
            now,
            end_sessions: false,
            token: None,
        }
    }

    /// Also deletes every session of the user.
    pub fn end_sessions(mut self, end: bool) -> Self {
        self.end_sessions = end;
        self
    }

    /// Consumes this reset token's identifier in the same transaction.
    pub fn token(mut self, token: Option<&'a str>) -> Self {
        self.token = token;
        self
    }
}

/// Sets a new password in one transaction with its consequences: the reset
/// token (if any) is consumed, every outstanding emailed token of the user
/// (reset, verification, email change: [`USER_TOKEN_PREFIXES`]) is deleted
/// (S33, S49), and with `end_sessions` every session. A failure changes
/// nothing and burns no token. Returns `None` when the token was not valid
/// (nothing changed), else how many sessions ended.
#[doc(hidden)]
pub async fn change_password(db: &Database, change: &PasswordChange<'_>) -> Result<Option<u64>> {
    let _change = db.user_change_guard();
    let prefix = super::verifications::json_value_prefix(change.user_id);
    let (user_id, hash, now) = (change.user_id, change.password_hash, change.now);
    let outcome = on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let mut valid = true;
        if let Some(identifier) = change.token {
            let row = super::verifications::TakeToken::take(&mut *tx, identifier).await?;
            valid = row.is_some_and(|(value, expires)| value == user_id && expires.0 > now);
        }
        if valid {
            upsert_credential_password!(db.backend(), &mut *tx, user_id, hash, now);
            for purpose in USER_TOKEN_PREFIXES {
                sqlx::query(super::verifications::DELETE_FOR_USER)
                    .bind(*purpose)
                    .bind(user_id)
                    .bind(&prefix)
                    .execute(&mut *tx)
                    .await?;
            }
            let ended = if change.end_sessions {
                sqlx::query(r#"DELETE FROM "session" WHERE "userId" = $1"#)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            } else {
                0
            };
            tx.commit().await?;
            Some(ended)
        } else {
            tx.rollback().await?;
            None
        }
    });
    db.user_changed(user_id).await;
    Ok(outcome)
}

/// Deletes one account of a user by provider (and provider account id, when given).
/// Returns whether a row was deleted.
#[doc(hidden)]
pub async fn delete_for_user(
    db: &Database,
    user_id: &str,
    provider_id: &str,
    account_id: Option<&str>,
) -> Result<bool> {
    let _change = db.user_change_guard();
    const SQL: &str = r#"DELETE FROM "account" WHERE "userId" = $1 AND "providerId" = $2
        AND ($3 IS NULL OR "accountId" = $3)"#;
    let n = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(user_id)
        .bind(provider_id)
        .bind(account_id)
        .execute(pool)
        .await?
        .rows_affected());
    db.user_changed(user_id).await;
    Ok(n > 0)
}

/// Deletes every provider account of a user (all but the password) and
/// returns the providers they were with (S48).
#[doc(hidden)]
pub async fn delete_providers_for_user(db: &Database, user_id: &str) -> Result<Vec<String>> {
    let _change = db.user_change_guard();
    const SQL: &str = r#"DELETE FROM "account" WHERE "userId" = $1 AND "providerId" <> 'credential'
        RETURNING "providerId""#;
    #[cfg(feature = "mysql")]
    #[allow(irrefutable_let_patterns)]
    if let super::Pool::MySql(pool) = &db.pool {
        // No `RETURNING` on MySQL: the rows are read under a lock, then deleted.
        let mut tx = pool.begin().await?;
        let rows: Vec<(Text,)> = sqlx::query_as(
            r#"SELECT "providerId" FROM "account" WHERE "userId" = ? AND "providerId" <> 'credential'
               FOR UPDATE"#,
        )
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(r#"DELETE FROM "account" WHERE "userId" = ? AND "providerId" <> 'credential'"#)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(rows.into_iter().map(|(provider,)| provider.0).collect());
    }
    let rows: Vec<(Text,)> = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(user_id)
        .fetch_all(pool)
        .await?);
    Ok(rows.into_iter().map(|(provider,)| provider.0).collect())
}

/// A provider account to store (social sign-in): who the user is at the
/// provider and what was granted. Better Auth's token columns (`accessToken`,
/// `refreshToken`, `idToken`) are written only when given; the social plugin
/// gives none (it keeps no provider tokens).
///
/// ```
/// use better_auth::store::accounts::NewAccount;
///
/// let account = NewAccount::new("github", "583231").scope(Some("read:user,user:email"));
/// assert_eq!(account.access_token, None);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct NewAccount<'a> {
    /// The provider (`github`, `google`, ...).
    pub provider_id: &'a str,
    /// The user's id at the provider (`sub` for OpenID Connect).
    pub account_id: &'a str,
    /// Granted scopes, comma separated.
    pub scope: Option<&'a str>,
    /// The provider's access token, if one is to be kept.
    pub access_token: Option<&'a str>,
    /// The provider's refresh token, if one is to be kept.
    pub refresh_token: Option<&'a str>,
    /// The provider's ID token, if one is to be kept.
    pub id_token: Option<&'a str>,
    /// When the access token expires.
    pub access_token_expires_at: Option<DateTime<Utc>>,
}

impl<'a> NewAccount<'a> {
    /// The account `account_id` at the provider `provider_id`, with no scope
    /// and no tokens.
    pub fn new(provider_id: &'a str, account_id: &'a str) -> Self {
        NewAccount {
            provider_id,
            account_id,
            ..NewAccount::default()
        }
    }

    /// Sets the granted scopes (comma separated).
    pub fn scope(mut self, scope: Option<&'a str>) -> Self {
        self.scope = scope;
        self
    }

    /// Sets the provider's tokens to keep: access, refresh and ID token.
    pub fn tokens(
        mut self,
        access_token: Option<&'a str>,
        refresh_token: Option<&'a str>,
        id_token: Option<&'a str>,
    ) -> Self {
        self.access_token = access_token;
        self.refresh_token = refresh_token;
        self.id_token = id_token;
        self
    }

    /// Sets when the access token expires.
    pub fn access_token_expires_at(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.access_token_expires_at = at;
        self
    }
}

/// Inserts `account` for `user_id` on one executor (a pool or a transaction).
pub(crate) const INSERT_ACCOUNT: &str = r#"INSERT INTO "account" ("id", "accountId", "providerId", "userId",
        "accessToken", "refreshToken", "idToken", "accessTokenExpiresAt", "scope", "createdAt", "updatedAt")
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"#;

/// Binds [`INSERT_ACCOUNT`]'s parameters.
macro_rules! insert_account {
    ($id:expr, $user_id:expr, $account:expr, $now:expr) => {
        sqlx::query($crate::store::accounts::INSERT_ACCOUNT)
            .bind($id)
            .bind($account.account_id)
            .bind($account.provider_id)
            .bind($user_id)
            .bind($account.access_token)
            .bind($account.refresh_token)
            .bind($account.id_token)
            .bind(
                $account
                    .access_token_expires_at
                    .map($crate::store::Timestamp),
            )
            .bind($account.scope)
            .bind($crate::store::Timestamp($now))
    };
}
pub(crate) use insert_account;

/// The account with this provider and provider account id (a provider account
/// belongs to at most one user: a unique index, migration 5).
pub async fn find_by_provider_account(
    db: &Database,
    provider_id: &str,
    account_id: &str,
) -> Result<Option<Account>> {
    let sql = format!(
        r#"SELECT {ACCOUNT_COLUMNS} FROM "account" WHERE "providerId" = $1 AND "accountId" = $2"#
    );
    let row: Option<AccountRow> = on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(provider_id)
        .bind(account_id)
        .fetch_optional(pool)
        .await?);
    Ok(row.map(Account::from))
}

/// Links a provider account to an existing user. Returns `None`, changing
/// nothing, when that provider account is already linked (to this user or
/// another: look it up with [`find_by_provider_account`]).
pub async fn create(
    db: &Database,
    user_id: &str,
    account: &NewAccount<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Account>> {
    let id = crate::crypto::generate_id();
    let result = on_pool!(db, |pool| insert_account!(&id, user_id, account, now)
        .execute(pool)
        .await
        .map(|_| ()));
    match result {
        Ok(()) => Ok(Some(Account {
            id,
            account_id: account.account_id.to_owned(),
            provider_id: account.provider_id.to_owned(),
            user_id: user_id.to_owned(),
            scope: account.scope.map(str::to_owned),
            created_at: now,
            updated_at: now,
        })),
        Err(e) if super::is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Replaces an account's granted scopes (comma separated) and touches `updatedAt`.
pub async fn set_scope(
    db: &Database,
    id: &str,
    scope: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    const SQL: &str = r#"UPDATE "account" SET "scope" = $2, "updatedAt" = $3 WHERE "id" = $1"#;
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(id)
        .bind(scope)
        .bind(Timestamp(now))
        .execute(pool)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Every user's sign-in methods: `(userId, providerId)` pairs ordered by user
/// and provider (`credential` for a password), one query for all users.
#[doc(hidden)]
pub async fn provider_ids_by_user(db: &Database) -> Result<Vec<(String, String)>> {
    const SQL: &str =
        r#"SELECT DISTINCT "userId", "providerId" FROM "account" ORDER BY "userId", "providerId""#;
    let rows: Vec<(Text, Text)> = on_pool!(db, |pool| sqlx::query_as(SQL).fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .map(|(user, provider)| (user.0, provider.0))
        .collect())
}
