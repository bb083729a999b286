//! Test data: the runtime's migrations, 1,000 users each with one live session
//! whose raw token the bench keeps, optionally a bulk of further sessions
//! (inserted with a recursive CTE / `generate_series` inside one transaction,
//! not through the API), and `SIGNIN_ACCOUNTS` users with a password for the sign-in rows.

use std::time::Instant;

use better_auth::crypto::PasswordHasher;
use better_auth::crypto::{generate_token, sign_token, token_digest};
use better_auth::run_migrations;
use better_auth::store::users::{NewUser, create_with_password};
use better_auth::store::{Backend, Database};

use crate::serve::SECRET;

/// Users (and probe sessions) every database gets.
pub(crate) const USERS: usize = 1_000;
/// Accounts the sign-in rows use, one per client (`signin{i}@bench.test`,
/// `i` from 0): users sign in to their own accounts, and one account signed
/// in by many clients at once meets its attempt throttle (S30) instead.
pub(crate) const SIGNIN_ACCOUNTS: usize = 32;

/// The email of sign-in account `i`.
pub(crate) fn signin_email(i: usize) -> String {
    format!("signin{i}@bench.test")
}
pub(crate) const SIGNIN_PASSWORD: &str = "correct horse battery staple";

/// The signed bearer values (`<token>.<hmac>`) of the probe sessions.
pub(crate) struct Seeded {
    pub bearers: Vec<String>,
    pub sessions: u64,
}

type BoxError = Box<dyn std::error::Error>;

/// Seeds a database at `url` (SQLite file or PostgreSQL schema) with the
/// 1,000 probe sessions plus `bulk` more, spread so the probe rows are not
/// clustered (one probe row after every `bulk / 1000` bulk rows).
pub(crate) async fn seed(url: &str, bulk: u64, password_hash: &str) -> Result<Seeded, BoxError> {
    let started = Instant::now();
    let database = Database::connect(url).await?;
    run_migrations(&database).await?;
    for i in 0..SIGNIN_ACCOUNTS {
        create_with_password(
            &database,
            NewUser::new("Sign In", &signin_email(i)).email_verified(true),
            password_hash,
            chrono_now(),
        )
        .await?;
    }
    let backend = database.backend();
    database.close().await;

    let tokens: Vec<String> = (0..USERS).map(|_| generate_token()).collect();
    let per_chunk = bulk / USERS as u64;
    let remainder = bulk % USERS as u64;
    match backend {
        Backend::MySql => return Err("the benchmark seeds SQLite and PostgreSQL only".into()),
        Backend::Sqlite => {
            use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
            use sqlx::{ConnectOptions, Connection};
            use std::str::FromStr;
            let mut conn = SqliteConnectOptions::from_str(url)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Off)
                .pragma("cache_size", "-262144")
                .connect()
                .await?;
            let mut tx = conn.begin().await?;
            sqlx::query(
                r#"WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < $1)
                   INSERT INTO "user" ("id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt")
                   SELECT 'u' || i, 'User ' || i, 'user' || i || '@bench.test', 1, NULL,
                          strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                   FROM c"#,
            )
            .bind(USERS as i64)
            .execute(&mut *tx)
            .await?;
            for (i, token) in tokens.iter().enumerate() {
                let n = per_chunk + u64::from((i as u64) < remainder);
                if n > 0 {
                    sqlx::query(
                        r#"WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < $1)
                           INSERT INTO "session" ("id", "expiresAt", "token", "createdAt", "updatedAt", "ipAddress", "userAgent", "userId")
                           SELECT 'b' || $2 || '-' || i, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+7 days'),
                                  lower(hex(randomblob(32))), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                                  strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), '127.0.0.1', 'better-auth-bench', 'u' || ((i + $2) % $3)
                           FROM c"#,
                    )
                    .bind(n as i64)
                    .bind(i as i64)
                    .bind(USERS as i64)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(
                    r#"INSERT INTO "session" ("id", "expiresAt", "token", "createdAt", "updatedAt", "ipAddress", "userAgent", "userId")
                       VALUES ('p' || $1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+7 days'), $2,
                               strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                               '127.0.0.1', 'better-auth-bench', 'u' || $1)"#,
                )
                .bind(i as i64)
                .bind(token_digest(token))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut conn)
                .await?;
            sqlx::query("ANALYZE").execute(&mut conn).await?;
            conn.close().await?;
        }
        Backend::Postgres => {
            use sqlx::{ConnectOptions, Connection};
            use std::str::FromStr;
            let mut conn = sqlx::postgres::PgConnectOptions::from_str(url)?
                .connect()
                .await?;
            let mut tx = conn.begin().await?;
            sqlx::query(
                r#"INSERT INTO "user" ("id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt")
                   SELECT 'u' || i, 'User ' || i, 'user' || i || '@bench.test', true, NULL, now(), now()
                   FROM generate_series(0, $1 - 1) AS i"#,
            )
            .bind(USERS as i64)
            .execute(&mut *tx)
            .await?;
            if bulk > 0 {
                sqlx::query(
                    r#"INSERT INTO "session" ("id", "expiresAt", "token", "createdAt", "updatedAt", "ipAddress", "userAgent", "userId")
                       SELECT 'b' || i, now() + interval '7 days', md5(random()::text) || md5(random()::text),
                              now(), now(), '127.0.0.1', 'better-auth-bench', 'u' || (i % $2)
                       FROM generate_series(1, $1) AS i"#,
                )
                .bind(bulk as i64)
                .bind(USERS as i64)
                .execute(&mut *tx)
                .await?;
            }
            for (i, token) in tokens.iter().enumerate() {
                sqlx::query(
                    r#"INSERT INTO "session" ("id", "expiresAt", "token", "createdAt", "updatedAt", "ipAddress", "userAgent", "userId")
                       VALUES ('p' || $1, now() + interval '7 days', $2, now(), now(), '127.0.0.1', 'better-auth-bench', 'u' || $1)"#,
                )
                .bind(i as i64)
                .bind(token_digest(token))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            sqlx::query(r#"ANALYZE "session""#)
                .execute(&mut conn)
                .await?;
            conn.close().await?;
        }
    }
    let sessions = USERS as u64 + bulk;
    eprintln!(
        "seeded {} with {sessions} sessions in {:.1}s",
        better_auth::store::redact_url(url),
        started.elapsed().as_secs_f64()
    );
    Ok(Seeded {
        bearers: tokens
            .iter()
            .map(|t| format!("Bearer {}", sign_token(SECRET, t)))
            .collect(),
        sessions,
    })
}

/// A fresh Argon2id hash of the sign-in password, at the runtime's parameters.
pub(crate) async fn password_hash() -> Result<String, BoxError> {
    let hasher = tokio::task::spawn_blocking(PasswordHasher::new).await??;
    Ok(hasher.hash(SIGNIN_PASSWORD).await?)
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    // Millisecond precision, as the runtime stores it.
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}
