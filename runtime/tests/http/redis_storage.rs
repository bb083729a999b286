//! Redis secondary storage: sessions shared (and revoked) across instances,
//! rate limits and the per-account throttle in Redis, outages, and what the
//! keys hold. Runs when `BETTER_AUTH_TEST_REDIS_URL` names a Redis; without
//! it each test says `SKIPPED: redis not reachable` and passes, unless
//! `BETTER_AUTH_REQUIRE_REDIS` is set (CI sets it): then it fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use better_auth::rate_limit::{RateLimitConfig, RedisOutage, RedisRateLimitStore};
use better_auth::store::RedisStorage;
use better_auth_test_support::all_backends;
use serde_json::json;

use crate::common::*;

const REDIS_ENV: &str = "BETTER_AUTH_TEST_REDIS_URL";
const REQUIRE_REDIS_ENV: &str = "BETTER_AUTH_REQUIRE_REDIS";

/// The test Redis's URL, when it answers; else `None` after saying the test
/// is skipped (a failure when skipping is not allowed).
async fn redis_url() -> Option<String> {
    let required = std::env::var_os(REQUIRE_REDIS_ENV).is_some();
    let Ok(url) = std::env::var(REDIS_ENV) else {
        assert!(
            !required,
            "{REDIS_ENV} is not set and {REQUIRE_REDIS_ENV} forbids skipping the Redis tests"
        );
        notice(&format!(
            "SKIPPED: redis not reachable (set {REDIS_ENV}, e.g. redis://127.0.0.1:6379)"
        ));
        return None;
    };
    match RedisStorage::connect(&url).await {
        Ok(_) => Some(url),
        Err(e) => {
            assert!(!required, "{REDIS_ENV}={url}: {e}");
            notice(&format!("SKIPPED: redis not reachable ({e})"));
            None
        }
    }
}

/// Storage on the test Redis under a key prefix of this test's own.
async fn storage(url: &str) -> RedisStorage {
    RedisStorage::connect(url)
        .await
        .unwrap()
        .key_prefix(format!("ba-test-{}:", rand::random::<u64>()))
}

/// A plain connection to Redis, to read keys as an operator would.
async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Every key under `prefix`.
async fn keys(url: &str, prefix: &str) -> Vec<String> {
    redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut raw(url).await)
        .await
        .unwrap()
}

/// A server whose sessions go through `redis` (the in-process cache off, so
/// every lookup asks Redis) and whose rate limits are `limits`.
async fn server(db: &TestDb, redis: &RedisStorage, limits: RateLimitConfig) -> TestServer {
    let mut setup = Setup::new();
    setup.config = setup
        .config
        .validated_session_cache(false)
        .secondary_storage(redis.clone())
        .rate_limit(limits);
    TestServer::start_with(db, setup).await
}

async fn status_of(srv: &TestServer, token: &str) -> u16 {
    srv.get("/api/me").bearer(token).send().await.status
}

/// The raw token of a bearer value (`token.signature`).
fn raw_token(bearer: &str) -> &str {
    bearer.rsplit_once('.').map_or(bearer, |(token, _)| token)
}

all_backends!(
    s51_redis_sessions_revoked_on_one_instance_are_refused_by_the_other,
    with_db,
    |db: TestDb| async move {
        let Some(url) = redis_url().await else {
            return;
        };
        let redis = storage(&url).await;
        let a = server(&db, &redis, RateLimitConfig::disabled()).await;
        // Another instance: its own connection to the same Redis.
        let b = server(
            &db,
            &same_redis(&url, &redis).await,
            RateLimitConfig::disabled(),
        )
        .await;
        let first = a.user("ada@example.com").await;
        assert_eq!(status_of(&a, &first).await, 200);
        assert_eq!(status_of(&b, &first).await, 200);
        // Served from Redis: a change behind the crate's back (raw SQL) is not
        // seen while the entry lives...
        exec(&db, r#"UPDATE "user" SET "name" = 'Renamed by SQL'"#).await;
        let seen = a.get("/api/auth/get-session").bearer(&first).send().await;
        assert_eq!(seen.body["user"]["name"], "Ada", "{}", seen.body);
        // ...but a change through an instance is, on every instance at once.
        let updated = b
            .post("/api/auth/update-user")
            .bearer(&first)
            .json(json!({ "name": "Ada B" }))
            .send()
            .await;
        assert_eq!(updated.status, 200, "{}", updated.body);
        let seen = a.get("/api/auth/get-session").bearer(&first).send().await;
        assert_eq!(seen.body["user"]["name"], "Ada B", "{}", seen.body);

        // Sign-out on B: A refuses the token on its next request.
        let out = b
            .post("/api/auth/sign-out")
            .bearer(&first)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(out.status, 200, "{}", out.body);
        assert_eq!(status_of(&a, &first).await, 401);
        assert_eq!(status_of(&b, &first).await, 401);

        // Revoking one session on B, and then all of them.
        let second = a.sign_in("ada@example.com", PASSWORD).await.auth_token();
        let third = a.sign_in("ada@example.com", PASSWORD).await.auth_token();
        for token in [&second, &third] {
            assert_eq!(status_of(&a, token).await, 200);
        }
        let digest = better_auth::crypto::token_digest(raw_token(&second));
        let revoked = b
            .post("/api/auth/revoke-session")
            .bearer(&third)
            .json(json!({ "token": digest }))
            .send()
            .await;
        assert_eq!(revoked.status, 200, "{}", revoked.body);
        assert_eq!(status_of(&a, &second).await, 401);
        assert_eq!(status_of(&a, &third).await, 200);
        let revoked = b
            .post("/api/auth/revoke-sessions")
            .bearer(&third)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(revoked.status, 200, "{}", revoked.body);
        assert_eq!(status_of(&a, &third).await, 401);

        // A password change on B that ends the other sessions.
        let fourth = a.sign_in("ada@example.com", PASSWORD).await.auth_token();
        let fifth = a.sign_in("ada@example.com", PASSWORD).await.auth_token();
        assert_eq!(status_of(&a, &fourth).await, 200);
        let changed = b
            .post("/api/auth/change-password")
            .bearer(&fifth)
            .json(json!({
                "currentPassword": PASSWORD,
                "newPassword": "another horse battery staple",
                "revokeOtherSessions": true
            }))
            .send()
            .await;
        assert_eq!(changed.status, 200, "{}", changed.body);
        assert_eq!(status_of(&a, &fourth).await, 401);
    }
);

/// The prefix a storage was given (read back through the key of a digest).
fn redis_prefix(redis: &RedisStorage) -> String {
    redis
        .session_key("")
        .trim_end_matches("session:")
        .to_owned()
}

/// Another connection to the Redis of `redis`, with the same key prefix
/// (what a second instance of the app opens).
async fn same_redis(url: &str, redis: &RedisStorage) -> RedisStorage {
    RedisStorage::connect(url)
        .await
        .unwrap()
        .key_prefix(redis_prefix(redis))
}

/// Runs one statement on the test database behind the crate's back.
async fn exec(db: &TestDb, sql: &str) {
    match db.database.pool() {
        better_auth::store::PoolRef::Sqlite(pool) => {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
        better_auth::store::PoolRef::Postgres(pool) => {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
        // The crate's own connections speak `ANSI_QUOTES`.
        better_auth::store::PoolRef::MySql(pool) => {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
        _ => unreachable!("a backend the tests do not run on"),
    }
}

// A change behind the crate's back is served from Redis until
// `forget_user` drops the user's entries; a Redis that does not answer is an
// error naming it, password hidden.
all_backends!(
    redis_forget_user_ends_sessions_changed_behind_the_crates_back,
    with_db,
    |db: TestDb| async move {
        let Some(url) = redis_url().await else {
            return;
        };
        let redis = storage(&url).await;
        let srv = server(&db, &redis, RateLimitConfig::disabled()).await;
        let token = srv.user("ada@example.com").await;
        let session = srv.get("/api/auth/get-session").bearer(&token).send().await;
        let user_id = session.body["user"]["id"].as_str().unwrap().to_owned();
        assert_eq!(status_of(&srv, &token).await, 200);
        exec(&db, r#"DELETE FROM "session""#).await;
        assert_eq!(status_of(&srv, &token).await, 200, "served from Redis");
        // Another process on the same Redis (a tool, the CLI).
        let tool = same_redis(&url, &redis).await;
        tool.forget_user(&user_id).await.unwrap();
        assert_eq!(status_of(&srv, &token).await, 401);

        let down = RedisStorage::open("redis://:s3cr3t@127.0.0.1:1").unwrap();
        let err = down.forget_user(&user_id).await.unwrap_err().to_string();
        assert!(err.contains("redis://:***@127.0.0.1:1"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }
);

all_backends!(
    redis_rate_limits_are_shared_by_instances,
    with_db,
    |db: TestDb| async move {
        let Some(url) = redis_url().await else {
            return;
        };
        let redis = storage(&url).await;
        let limits = |redis: &RedisStorage| {
            RateLimitConfig::default().store(Arc::new(RedisRateLimitStore::new(redis.clone())))
        };
        let other = same_redis(&url, &redis).await;
        let a = server(&db, &redis, limits(&redis)).await;
        let b = server(&db, &other, limits(&other)).await;
        let attempt = |srv: &TestServer| {
            srv.post("/api/auth/sign-in/email").json(json!({
                "email": format!("u{}@example.com", rand::random::<u32>()),
                "password": "wrong password!"
            }))
        };
        // Three sign-ins per 10 s and client: counted across both instances.
        assert_eq!(attempt(&a).send().await.status, 401);
        assert_eq!(attempt(&b).send().await.status, 401);
        assert_eq!(attempt(&a).send().await.status, 401);
        let limited = attempt(&b).send().await;
        assert_eq!(limited.status, 429, "{}", limited.body);
        let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=10).contains(&retry), "{retry}");
        let counters = keys(&url, &redis_prefix(&redis)).await;
        assert!(
            counters
                .iter()
                .any(|k| k.contains("rate:") && k.contains("sign-in")),
            "{counters:?}"
        );
    }
);

all_backends!(
    redis_account_throttle_is_shared_by_instances,
    with_db,
    |db: TestDb| async move {
        let Some(url) = redis_url().await else {
            return;
        };
        let redis = storage(&url).await;
        // Client limits off: the per-account throttle applies all the same.
        let limits = |redis: &RedisStorage| {
            RateLimitConfig::disabled().store(Arc::new(RedisRateLimitStore::new(redis.clone())))
        };
        let other = same_redis(&url, &redis).await;
        let a = server(&db, &redis, limits(&redis)).await;
        let b = server(&db, &other, limits(&other)).await;
        a.user("ada@example.com").await;
        for srv in [&a, &b, &a, &b, &a] {
            let resp = srv.sign_in("ada@example.com", "wrong password!").await;
            assert_eq!(resp.status, 401, "{}", resp.body);
        }
        // Five in a row on two instances: both now make the account wait,
        // even for the right password.
        for srv in [&b, &a] {
            let resp = srv.sign_in("ada@example.com", PASSWORD).await;
            assert_eq!(resp.status, 429, "{}", resp.body);
            assert!(resp.header("retry-after").is_some());
        }
        let key = format!("{}rate:account|ada@example.com", redis_prefix(&redis));
        let count: Option<i64> = redis::cmd("HGET")
            .arg(&key)
            .arg("c")
            .query_async(&mut raw(&url).await)
            .await
            .unwrap();
        assert_eq!(count, Some(5), "{key}");
        // After the delay, the right password clears the count in Redis.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let resp = b.sign_in("ada@example.com", PASSWORD).await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        let exists: i64 = redis::cmd("EXISTS")
            .arg(&key)
            .query_async(&mut raw(&url).await)
            .await
            .unwrap();
        assert_eq!(exists, 0);
    }
);

all_backends!(
    redis_sessions_are_stored_under_the_token_digest,
    with_db,
    |db: TestDb| async move {
        let Some(url) = redis_url().await else {
            return;
        };
        let redis = storage(&url).await.session_ttl(Duration::from_secs(30));
        let srv = server(&db, &redis, RateLimitConfig::disabled()).await;
        let bearer = srv.user("ada@example.com").await;
        assert_eq!(status_of(&srv, &bearer).await, 200);
        let token = raw_token(&bearer);
        let digest = better_auth::crypto::token_digest(token);
        let all = keys(&url, &redis_prefix(&redis)).await;
        assert!(all.contains(&redis.session_key(&digest)), "{all:?}");
        assert!(all.iter().all(|k| !k.contains(token)), "{all:?}");
        let mut conn = raw(&url).await;
        let value: String = redis::cmd("GET")
            .arg(redis.session_key(&digest))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(!value.contains(token));
        assert!(value.contains("ada@example.com"), "{value}");
        // Never longer than the configured ttl.
        let ttl: i64 = redis::cmd("PTTL")
            .arg(redis.session_key(&digest))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(0 < ttl && ttl <= 30_000, "{ttl}");
    }
);

all_backends!(
    redis_outage_falls_back_to_the_database,
    with_db,
    |db: TestDb| async move {
        // Nothing listens on port 1: every Redis call fails at once.
        let redis = RedisStorage::open("redis://127.0.0.1:1")
            .unwrap()
            .timeout(Duration::from_millis(100));
        let limits =
            RateLimitConfig::default().store(Arc::new(RedisRateLimitStore::new(redis.clone())));
        let srv = server(&db, &redis, limits).await;
        let token = srv.user("ada@example.com").await;
        let session = srv.get("/api/auth/get-session").bearer(&token).send().await;
        assert_eq!(session.status, 200, "{}", session.body);
        assert_eq!(session.body["user"]["email"], "ada@example.com");
        let signed_in = srv.sign_in("ada@example.com", PASSWORD).await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
        let out = srv
            .post("/api/auth/sign-out")
            .bearer(&token)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(out.status, 200, "{}", out.body);
        assert_eq!(status_of(&srv, &token).await, 401);
        // Limits still hold, counted in memory (three sign-ins per 10 s).
        for _ in 0..2 {
            let wrong = srv.sign_in("ada@example.com", "wrong password!").await;
            assert_eq!(wrong.status, 401, "{}", wrong.body);
        }
        let limited = srv.sign_in("ada@example.com", PASSWORD).await;
        assert_eq!(limited.status, 429, "{}", limited.body);

        // Failing closed is a choice: then sign-ins get 429, never 500.
        let closed = RedisRateLimitStore::new(redis.clone()).on_outage(RedisOutage::Deny);
        let strict = server(
            &db,
            &redis,
            RateLimitConfig::disabled().store(Arc::new(closed)),
        )
        .await;
        let refused = strict.sign_in("ada@example.com", PASSWORD).await;
        assert_eq!(refused.status, 429, "{}", refused.body);
    }
);

/// A TCP relay to the test Redis that can be cut and restored: an outage
/// without touching the shared server.
struct Relay {
    url: String,
    up: Arc<AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Relay {
    async fn start(target: &str) -> Relay {
        let target = target
            .trim_start_matches("redis://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let up = Arc::new(AtomicBool::new(true));
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let (relay_up, relay_cut) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !relay_up.load(Ordering::SeqCst) {
                    continue; // dropped: the connection closes at once
                }
                let target = target.clone();
                let mut cut = relay_cut.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Relay { url, up, cut }
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            self.cut.send_modify(|n| *n += 1);
        }
    }
}

all_backends!(
    redis_service_resumes_by_itself_after_an_outage,
    with_db,
    |db: TestDb| async move {
        let Some(url) = redis_url().await else {
            return;
        };
        let relay = Relay::start(&url).await;
        let redis = storage(&relay.url)
            .await
            .timeout(Duration::from_millis(200));
        let srv = server(&db, &redis, RateLimitConfig::disabled()).await;
        let token = srv.user("ada@example.com").await;
        let key = redis.session_key(&better_auth::crypto::token_digest(raw_token(&token)));
        let stored = |url: String, key: String| async move {
            let n: i64 = redis::cmd("EXISTS")
                .arg(&key)
                .query_async(&mut raw(&url).await)
                .await
                .unwrap();
            n == 1
        };
        assert_eq!(status_of(&srv, &token).await, 200);
        assert!(stored(url.clone(), key.clone()).await);

        relay.set_up(false);
        redis::cmd("DEL")
            .arg(&key)
            .query_async::<i64>(&mut raw(&url).await)
            .await
            .unwrap();
        for _ in 0..3 {
            assert_eq!(status_of(&srv, &token).await, 200);
        }
        assert!(!stored(url.clone(), key.clone()).await);

        relay.set_up(true);
        // Within a few seconds the connection is remade and entries are
        // stored again, with nothing done by hand.
        let mut back = false;
        for _ in 0..50 {
            assert_eq!(status_of(&srv, &token).await, 200);
            if stored(url.clone(), key.clone()).await {
                back = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(back, "Redis was not used again after it came back");
    }
);
