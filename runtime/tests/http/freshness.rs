//! The no-staleness rule: whatever session cache is in force by
//! default, a session revoked anywhere (another process, another server
//! instance, raw SQL) is refused on the very next request, and a changed user
//! shows at once.

use super::common::*;
use serde_json::json;

/// The environment variables that turn [`revoke_in_another_process`] on.
const REVOKE_URL_ENV: &str = "BA_FRESHNESS_REVOKE_URL";
const REVOKE_USER_ENV: &str = "BA_FRESHNESS_REVOKE_USER";
/// Set instead of the user: the other process is a server that revokes the
/// sessions of this bearer through its own HTTP API.
const REVOKE_BEARER_ENV: &str = "BA_FRESHNESS_REVOKE_BEARER";

/// Runs `sql` (PostgreSQL's dialect, one `$1` bound to `value`) through a fresh
/// sqlx connection of a plain client, as an operator's SQL console would (on
/// MySQL with `?` for `$1`). Returns the rows it affected.
async fn raw_sql(url: &str, sql: &str, value: &str) -> u64 {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let done = sqlx::query(sql).bind(value).execute(&pool).await.unwrap();
        pool.close().await;
        done.rows_affected()
    } else if url.starts_with("mysql:") {
        let mut conn = mysql_connection(url).await;
        let sql = sql.replace("$1", "?");
        let done = sqlx::query(&sql)
            .bind(value)
            .execute(&mut conn)
            .await
            .unwrap();
        done.rows_affected()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let done = sqlx::query(sql).bind(value).execute(&pool).await.unwrap();
        pool.close().await;
        done.rows_affected()
    }
}

/// Deletes every session of a user through a fresh sqlx connection.
async fn revoke_with_sql(url: &str, user_id: &str) {
    let sql = r#"DELETE FROM "session" WHERE "userId" = $1"#;
    assert!(raw_sql(url, sql, user_id).await > 0);
}

/// Not a test on its own: the other process of
/// [`sessions_are_never_stale_after_revocation_elsewhere`], which runs this
/// test binary again with only this test and the variables set (as the CLI's
/// `better-auth session revoke` would, it opens the database itself and
/// deletes the rows). Without the variables it does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_in_another_process() {
    let Ok(url) = std::env::var(REVOKE_URL_ENV) else {
        return;
    };
    if let Ok(user_id) = std::env::var(REVOKE_USER_ENV) {
        revoke_with_sql(&url, &user_id).await;
    }
    if let Ok(bearer) = std::env::var(REVOKE_BEARER_ENV) {
        let database = better_auth::store::Database::connect(&url).await.unwrap();
        let server = TestServer::start_on(database.clone(), Setup::new()).await;
        let resp = server
            .post("/api/auth/revoke-sessions")
            .bearer(&bearer)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        database.close().await;
    }
}

/// Runs [`revoke_in_another_process`] in a child process with `var` set to
/// `value` and waits for it.
fn revoke_from_another_process(url: &str, var: &str, value: &str) {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "freshness::revoke_in_another_process",
            "--exact",
            "--test-threads=1",
        ])
        .env(REVOKE_URL_ENV, url)
        .env(var, value)
        .output()
        .expect("run the revoking process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}

/// Signs in as `email` on `server` and checks the session works there twice
/// (the second answer may come from a cache), returning the bearer and user id.
async fn warm(server: &TestServer, email: &str) -> (String, String) {
    let resp = server.sign_in(email, PASSWORD).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let bearer = resp.auth_token();
    let user_id = resp.body["user"]["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        assert_eq!(
            server.get("/api/me").bearer(&bearer).send().await.status,
            200
        );
        let gs = server
            .get("/api/auth/get-session")
            .bearer(&bearer)
            .send()
            .await;
        assert_eq!(gs.status, 200, "{}", gs.body);
        assert_eq!(gs.body["user"]["id"], user_id.as_str());
    }
    (bearer, user_id)
}

/// Repeats `/get-session` until the session cache holds an entry (PostgreSQL's
/// change listener starts in the background), failing after 5 s.
async fn assert_cache_fills(server: &TestServer, bearer: &str) {
    let cache = server.auth.session_cache().expect("a session cache");
    assert!(cache.is_validated());
    for _ in 0..100 {
        let gs = server
            .get("/api/auth/get-session")
            .bearer(bearer)
            .send()
            .await;
        assert_eq!(gs.status, 200);
        if !cache.is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the validated session cache never stored a session");
}

/// How long a change made by another process or server may take to reach a
/// PostgreSQL server's cache: its notification's delivery (sub-millisecond on
/// a quiet host; a busy one may schedule the listener later). SQLite and
/// this server's own writes have no such window.
const NOTIFICATION_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);

/// After a change elsewhere: on SQLite (or with the cache off) the very next
/// request must see it; on PostgreSQL with its cache, a request made once the
/// notification can have arrived. Returns after `check` passes.
async fn after_change_elsewhere<F, Fut>(backend: Backend, cached: bool, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    if backend == Backend::Postgres && cached {
        let start = std::time::Instant::now();
        while start.elapsed() < NOTIFICATION_WINDOW {
            if check().await {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    assert!(check().await, "the change was not seen");
}

/// True when the session is refused, on the extractor and on `/get-session`.
async fn refused(server: &TestServer, bearer: &str) -> bool {
    server.get("/api/me").bearer(bearer).send().await.status == 401
        && server
            .get("/api/auth/get-session")
            .bearer(bearer)
            .send()
            .await
            .body
            .is_null()
}

/// The next request after a revocation is refused, on the extractor and on
/// `/get-session` (which answers `null`).
async fn assert_refused(server: &TestServer, bearer: &str) {
    assert_eq!(
        server.get("/api/me").bearer(bearer).send().await.status,
        401
    );
    let gs = server
        .get("/api/auth/get-session")
        .bearer(bearer)
        .send()
        .await;
    assert!(gs.body.is_null(), "{}", gs.body);
}

async fn never_stale(backend: Backend, validated_cache: bool) {
    let Some(db) = TestDb::open(backend).await else {
        return;
    };
    let mut setup = Setup::new();
    setup.config = setup.config.validated_session_cache(validated_cache);
    let server = TestServer::start_with(&db, setup).await;
    // A second instance with its own connections to the same database.
    let other_db = better_auth::store::Database::connect(&db.url)
        .await
        .unwrap();
    let other = TestServer::start_on(other_db.clone(), Setup::new()).await;
    server.user("ada@example.com").await;

    // 1. Another process deletes the rows (what the CLI's revoke does).
    let (bearer, user_id) = warm(&server, "ada@example.com").await;
    if backend == Backend::MySql {
        // MySQL has no change counter: no cache, every session read from the
        // database.
        assert!(server.auth.session_cache().is_none());
    } else if validated_cache {
        // The cache is really in use (on PostgreSQL once its listener is up),
        // so what follows tests its invalidation, not a database read.
        assert_cache_fills(&server, &bearer).await;
    }
    revoke_from_another_process(&db.url, REVOKE_USER_ENV, &user_id);
    after_change_elsewhere(backend, validated_cache, || refused(&server, &bearer)).await;

    // 1b. A server in another process revokes through its HTTP API.
    let (bearer, _) = warm(&server, "ada@example.com").await;
    revoke_from_another_process(&db.url, REVOKE_BEARER_ENV, &bearer);
    after_change_elsewhere(backend, validated_cache, || refused(&server, &bearer)).await;

    // 2. A second server instance revokes through its HTTP API.
    let (bearer, _) = warm(&server, "ada@example.com").await;
    let resp = other
        .post("/api/auth/revoke-sessions")
        .bearer(&bearer)
        .json(json!({}))
        .send()
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    after_change_elsewhere(backend, validated_cache, || refused(&server, &bearer)).await;

    // 3. A raw SQL client in this process, on its own connection.
    let (bearer, user_id) = warm(&server, "ada@example.com").await;
    revoke_with_sql(&db.url, &user_id).await;
    after_change_elsewhere(backend, validated_cache, || refused(&server, &bearer)).await;

    // 4. A user changed elsewhere shows on the next request.
    let (bearer, user_id) = warm(&server, "ada@example.com").await;
    let rename = r#"UPDATE "user" SET "name" = 'Renamed' WHERE "id" = $1"#;
    assert_eq!(raw_sql(&db.url, rename, &user_id).await, 1);
    after_change_elsewhere(backend, validated_cache, || async {
        let gs = server
            .get("/api/auth/get-session")
            .bearer(&bearer)
            .send()
            .await;
        gs.body["user"]["name"] == "Renamed"
    })
    .await;

    // 5. This instance's own sign-out.
    let resp = server
        .post("/api/auth/sign-out")
        .bearer(&bearer)
        .json(json!({}))
        .send()
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_refused(&server, &bearer).await;
    other_db.close().await;
    db.drop_schema().await;
}

/// A session revoked by another process (raw SQL, as the CLI's revoke does),
/// by a server in another process, by another server instance in this process
/// with its own connections, or by raw SQL here is refused by the very next
/// request, with the default (validated) session cache on and off, on SQLite
/// and PostgreSQL; and on MySQL, where the default is no cache.
mod sessions_are_never_stale_after_revocation_elsewhere {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_cache_on() {
        never_stale(Backend::Sqlite, true).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_cache_off() {
        never_stale(Backend::Sqlite, false).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_cache_on() {
        never_stale(Backend::Postgres, true).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_cache_off() {
        never_stale(Backend::Postgres, false).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mysql_default() {
        never_stale(Backend::MySql, true).await;
    }
}

/// The default cache is the validated one on a SQLite file, and it is used
/// (a session answered holds an entry, and its body is what a database read
/// renders); there is none when it is turned off,
/// nor on in-memory SQLite (no second connection to read a change counter on).
#[tokio::test]
async fn default_cache_is_validated_on_sqlite_files_only() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let server = TestServer::start_with(&db, Setup::new()).await;
    let cache = server.auth.session_cache().expect("default cache");
    assert!(cache.is_validated());
    server.user("ada@example.com").await;
    warm(&server, "ada@example.com").await;
    assert!(!cache.is_empty());
    let mut setup = Setup::new();
    setup.config = setup.config.validated_session_cache(false);
    let off = TestServer::start_with(&db, setup).await;
    assert!(off.auth.session_cache().is_none());
    // The body rendered once per cache entry is the one rendered afresh.
    let (bearer, _) = warm(&server, "ada@example.com").await;
    let fresh = off
        .get("/api/auth/get-session")
        .bearer(&bearer)
        .send()
        .await;
    for _ in 0..2 {
        let cached = server
            .get("/api/auth/get-session")
            .bearer(&bearer)
            .send()
            .await;
        assert_eq!(cached.body, fresh.body);
    }
    let memory = better_auth::store::Database::connect("sqlite::memory:")
        .await
        .unwrap();
    better_auth::run_migrations(&memory).await.unwrap();
    let in_memory = TestServer::start_on(memory, Setup::new()).await;
    assert!(in_memory.auth.session_cache().is_none());
}

/// On PostgreSQL the validated cache trusts only what it can hear: it fills
/// once its listener is up and the triggers of migration 4 are in place, and
/// holds nothing while they are missing (a revocation would go unheard).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cache_needs_its_change_triggers() {
    let Some(db) = TestDb::open(Backend::Postgres).await else {
        return;
    };
    let server = TestServer::start_with(&db, Setup::new()).await;
    server.user("ada@example.com").await;
    let (bearer, _) = warm(&server, "ada@example.com").await;
    assert_cache_fills(&server, &bearer).await;

    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    for trigger in [
        r#"DROP TRIGGER "better_auth_session_changed" ON "session""#,
        r#"DROP TRIGGER "better_auth_user_changed" ON "user""#,
    ] {
        sqlx::query(trigger).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let untriggered = TestServer::start_on(
        better_auth::store::Database::connect(&db.url)
            .await
            .unwrap(),
        Setup::new(),
    )
    .await;
    let cache = untriggered.auth.session_cache().expect("a session cache");
    for _ in 0..10 {
        let gs = untriggered
            .get("/api/auth/get-session")
            .bearer(&bearer)
            .send()
            .await;
        assert_eq!(gs.status, 200);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        cache.is_empty(),
        "sessions cached with no way to hear of changes"
    );
    db.drop_schema().await;
}

/// The SQLite change probe reads the WAL index's header, which a checkpoint
/// that restarts the WAL rewrites from scratch (new salts, frame count back to
/// zero): a revocation after such a checkpoint is still refused at once, and
/// so is one made while a reader in another connection holds an old snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_cache_sees_changes_across_wal_checkpoints() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let server = TestServer::start_with(&db, Setup::new()).await;
    server.user("ada@example.com").await;
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    for round in 0..3 {
        let (bearer, user_id) = warm(&server, "ada@example.com").await;
        assert_cache_fills(&server, &bearer).await;
        let (busy, log, done): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(busy, 0, "round {round}: checkpoint busy ({log}, {done})");
        // Served from memory again after the checkpoint (nothing changed).
        assert!(!refused(&server, &bearer).await, "round {round}");
        revoke_with_sql(&db.url, &user_id).await;
        assert_refused(&server, &bearer).await;
    }
    pool.close().await;
}

/// An app's own pool shared with Better Auth (`Database::share_sqlite` /
/// `Database::share_postgres`, what `init` writes for sqlx apps) keeps the
/// never-stale cache: sessions are answered from memory, and a revocation by
/// raw SQL is refused by the next request. `Database::from(pool)` has no
/// cache at all.
async fn shared_pool_never_stale(backend: Backend) {
    use better_auth::store::Database;
    let Some(db) = TestDb::open(backend).await else {
        return;
    };
    let (shared, plain) = if backend == Backend::Sqlite {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        (
            Database::share_sqlite(pool.clone()).await.unwrap(),
            Database::from(pool),
        )
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        (Database::share_postgres(pool.clone()), Database::from(pool))
    };
    let server = TestServer::start_on(shared.clone(), Setup::new()).await;
    server.user("ada@example.com").await;
    let (bearer, user_id) = warm(&server, "ada@example.com").await;
    assert_cache_fills(&server, &bearer).await;
    revoke_with_sql(&db.url, &user_id).await;
    after_change_elsewhere(backend, true, || refused(&server, &bearer)).await;

    let uncached = TestServer::start_on(plain, Setup::new()).await;
    assert!(uncached.auth.session_cache().is_none());
    shared.close().await;
    db.drop_schema().await;
}

mod a_shared_pool_keeps_the_never_stale_cache {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        shared_pool_never_stale(Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        shared_pool_never_stale(Backend::Postgres).await;
    }
}
