//! S50: expired tokens do not pile up. The instance deletes expired
//! `verification` rows in the background from start-up, every
//! `verification_purge_interval`, and stops when it is dropped. On SQLite,
//! PostgreSQL and MySQL, through HTTP and the builder.

use std::sync::Arc;
use std::time::{Duration, Instant};

use better_auth::{AuthConfig, BetterAuth};
use better_auth_test_support::all_backends;
use serde_json::json;

use crate::common::*;

/// Runs one SQL statement on the test database with a connection of its own.
async fn exec_sql(db: &TestDb, sql: &str) {
    if db.url.starts_with("mysql:") {
        let mut conn = mysql_connection(&db.url).await;
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    } else if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// How many `verification` rows there are.
async fn tokens(db: &TestDb) -> i64 {
    const SQL: &str = r#"SELECT count(*) FROM "verification""#;
    if db.url.starts_with("mysql:") {
        let mut conn = mysql_connection(&db.url).await;
        sqlx::query_scalar(SQL).fetch_one(&mut conn).await.unwrap()
    } else if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let n = sqlx::query_scalar(SQL).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let n = sqlx::query_scalar(SQL).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

/// Adds a token row expiring at `expires` (SQL text), as an old flow leaves one.
async fn add_token(db: &TestDb, id: &str, expires: &str) {
    exec_sql(
        db,
        &format!(
            r#"INSERT INTO "verification" ("id", "identifier", "value", "expiresAt", "createdAt", "updatedAt")
               VALUES ('{id}', 'social-state:{id}', '{{}}', {expires},
                       '2020-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z')"#
        ),
    )
    .await;
}

/// Waits until the table holds `n` rows; false after `within`.
async fn tokens_become(db: &TestDb, n: i64, within: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if tokens(db).await == n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokens(db).await == n
}

all_backends!(
    s50_expired_tokens_are_purged_in_the_background,
    with_db,
    |db: TestDb| async move {
        let clock = better_auth::ManualClock::new();
        let mut setup = Setup::new();
        setup.config = setup
            .config
            .clock(Arc::new(clock.clone()))
            .verification_purge_interval(Duration::from_millis(100));
        let srv = TestServer::start_with(&db, setup).await;
        srv.user("ada@example.com").await;
        srv.post("/api/auth/request-password-reset")
            .json(json!({ "email": "ada@example.com" }))
            .send()
            .await;
        srv.outbox
            .wait_for("ada@example.com", 1)
            .await
            .expect("reset email");
        // A stored time that cannot be read counts as expired (S59).
        let unreadable = if db.url.starts_with("sqlite:") {
            "'not a time'"
        } else if db.url.starts_with("mysql:") {
            "'0000-00-00 00:00:00'"
        } else {
            "'infinity'"
        };
        add_token(&db, "unreadable", unreadable).await;
        let live = tokens(&db).await - 1;
        assert!(live >= 1, "the reset token is stored");
        assert!(
            tokens_become(&db, live, Duration::from_secs(3)).await,
            "the unreadable row is purged"
        );
        // Live tokens stay, purge after purge.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(tokens(&db).await, live);

        // Once they expire (a reset link lasts an hour), they go.
        clock.advance(Duration::from_secs(2 * 24 * 3600));
        assert!(
            tokens_become(&db, 0, Duration::from_secs(3)).await,
            "{} expired tokens left",
            tokens(&db).await
        );
    }
);

all_backends!(
    s50_the_purge_runs_from_start_up_and_stops_with_the_instance,
    with_db,
    |db: TestDb| async move {
        let build = |config: AuthConfig| {
            BetterAuth::new(config.base_url(ORIGIN))
                .database(db.database.clone())
                .build()
        };
        // With the default settings, an instance purges when it starts.
        add_token(&db, "old", "'2020-01-02T00:00:00.000Z'").await;
        add_token(&db, "live", "'2999-01-01T00:00:00.000Z'").await;
        let auth = build(AuthConfig::new(SECRET)).await.unwrap();
        assert!(
            tokens_become(&db, 1, Duration::from_secs(3)).await,
            "the expired row is purged at start-up"
        );

        // Dropped, it purges no more.
        let quick =
            build(AuthConfig::new(SECRET).verification_purge_interval(Duration::from_millis(20)))
                .await
                .unwrap();
        drop(quick);
        drop(auth);
        add_token(&db, "older", "'2020-01-03T00:00:00.000Z'").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            tokens(&db).await,
            2,
            "no purge after the instance is dropped"
        );

        // Off with a zero interval.
        let off = build(AuthConfig::new(SECRET).verification_purge_interval(Duration::ZERO))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(tokens(&db).await, 2);
        drop(off);
    }
);
