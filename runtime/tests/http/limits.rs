//! Rate limits (S09) and per-account throttling (S10).

use std::sync::Arc;
use std::time::Duration;

use better_auth::rate_limit::{DatabaseRateLimitStore, RateLimitConfig};
use better_auth_test_support::all_backends;
use serde_json::json;

use crate::common::*;

async fn server(db: &TestDb, limits: RateLimitConfig) -> TestServer {
    let mut setup = Setup::new();
    setup.config = setup.config.rate_limit(limits);
    TestServer::start_with(db, setup).await
}

async fn attempt(srv: &TestServer, forwarded: Option<&str>) -> Resp {
    let mut req = srv
        .post("/api/auth/sign-in/email")
        // A different account each time, so per-account throttling (S10) stays out of the way.
        .json(json!({ "email": format!("u{}@example.com", rand::random::<u32>()), "password": "wrong password!" }));
    if let Some(xff) = forwarded {
        req = req.header("x-forwarded-for", xff);
    }
    req.send().await
}

#[tokio::test]
async fn s09_rate_limits_per_client_and_path_with_retry_after() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let srv = server(&db, RateLimitConfig::default()).await;
    for _ in 0..3 {
        assert_eq!(attempt(&srv, None).await.status, 401);
    }
    let limited = attempt(&srv, None).await;
    assert_eq!((limited.status, limited.code()), (429, "TOO_MANY_REQUESTS"));
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry), "{retry}");
    // A spoofed X-Forwarded-For from an untrusted peer changes nothing.
    assert_eq!(attempt(&srv, Some("203.0.113.9")).await.status, 429);
    // Another path form cannot open a fresh bucket.
    let doubled = srv
        .post("/api/auth//sign-in/email")
        .json(json!({ "email": "ada@example.com", "password": "wrong password!" }))
        .send()
        .await;
    assert!(
        doubled.status == 429 || doubled.status == 404,
        "{}",
        doubled.status
    );
    // Other routes have their own, larger budget.
    assert_eq!(srv.get("/api/auth/ok").send().await.status, 200);
}

#[tokio::test]
async fn s09_general_limit_and_per_path_rules_are_configurable() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let mut limits = RateLimitConfig::default().rule("/sign-in/email", Duration::from_secs(10), 5);
    limits.max = 4;
    let srv = server(&db, limits).await;
    for _ in 0..5 {
        assert_eq!(attempt(&srv, None).await.status, 401);
    }
    assert_eq!(attempt(&srv, None).await.status, 429);
    for _ in 0..4 {
        assert_eq!(srv.get("/api/auth/ok").send().await.status, 200);
    }
    assert_eq!(srv.get("/api/auth/ok").send().await.status, 429);
}

#[tokio::test]
async fn s09_forwarded_for_is_read_only_from_trusted_proxies_right_to_left() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let limits = RateLimitConfig::default()
        .trusted_proxies(["127.0.0.1/32", "10.0.0.0/8"])
        .unwrap();
    let srv = server(&db, limits).await;
    for _ in 0..3 {
        assert_eq!(attempt(&srv, Some("198.51.100.1")).await.status, 401);
    }
    assert_eq!(attempt(&srv, Some("198.51.100.1")).await.status, 429);
    // A different client behind the proxy has its own bucket.
    assert_eq!(attempt(&srv, Some("198.51.100.2")).await.status, 401);
    // Walking from the right: trusted hops are skipped, and whatever the client
    // prepended on the left is ignored.
    assert_eq!(
        attempt(&srv, Some("6.6.6.6, 198.51.100.1, 10.1.1.1"))
            .await
            .status,
        429
    );
    // IPv6 clients share a bucket per /64.
    for i in 1..=3 {
        assert_eq!(
            attempt(&srv, Some(&format!("2001:db8:1:2::{i}")))
                .await
                .status,
            401
        );
    }
    assert_eq!(
        attempt(&srv, Some("2001:db8:1:2:ffff::9")).await.status,
        429
    );
    assert_eq!(attempt(&srv, Some("2001:db8:1:3::1")).await.status, 401);
}

all_backends!(
    s09_database_store_is_shared_by_instances,
    with_db,
    |db: TestDb| async move {
        let store = Arc::new(DatabaseRateLimitStore::new(db.database.clone()));
        let a = server(&db, RateLimitConfig::default().store(store.clone())).await;
        let b = server(&db, RateLimitConfig::default().store(store)).await;
        assert_eq!(attempt(&a, None).await.status, 401);
        assert_eq!(attempt(&b, None).await.status, 401);
        assert_eq!(attempt(&a, None).await.status, 401);
        let limited = attempt(&b, None).await;
        assert_eq!(limited.status, 429, "{}", limited.body);
        assert!(limited.header("retry-after").is_some());
    }
);

all_backends!(
    s10_failed_sign_ins_throttle_the_account_but_reset_still_works,
    with_server,
    |srv: TestServer| async move {
        srv.user("ada@example.com").await;
        for _ in 0..5 {
            assert_eq!(
                srv.sign_in("ada@example.com", "wrong password!")
                    .await
                    .status,
                401
            );
        }
        // Throttled now, even with the right password, and without a verification.
        let before = srv.auth.password_hasher().verification_count();
        let throttled = srv.sign_in("ada@example.com", PASSWORD).await;
        assert_eq!(throttled.status, 429);
        assert!(throttled.header("retry-after").is_some());
        assert_eq!(srv.auth.password_hasher().verification_count(), before);
        // Other accounts are not affected.
        srv.user("bob@example.com").await;
        assert_eq!(srv.sign_in("bob@example.com", PASSWORD).await.status, 200);
        // The delay grows with further failures.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(
            srv.sign_in("ada@example.com", "wrong password!")
                .await
                .status,
            401
        );
        let wait: u64 = srv
            .sign_in("ada@example.com", PASSWORD)
            .await
            .header("retry-after")
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait >= 2, "{wait}");
        // A throttled account can still reset its password, and then sign in.
        let token = srv.reset_token("ada@example.com", 1).await;
        let reset = srv
            .post("/api/auth/reset-password")
            .json(json!({ "token": token, "newPassword": "an uncommon passphrase" }))
            .send()
            .await;
        assert_eq!(reset.status, 200);
        assert_eq!(
            srv.sign_in("ada@example.com", "an uncommon passphrase")
                .await
                .status,
            200
        );
    }
);

/// Set in the child process of `s09_no_client_addresses_is_said_on_stderr_once`.
const CHILD: &str = "BETTER_AUTH_TEST_NO_CONNECT_INFO_CHILD";

/// An app served without connect info has no rate limits; the runtime says so once per
/// process on stderr (many apps install no `tracing` subscriber), naming the fix. The
/// test runs itself again in a child process to read that stderr.
#[test]
fn s09_no_client_addresses_is_said_on_stderr_once() {
    if std::env::var_os(CHILD).is_some() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(two_requests_without_connect_info());
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "limits::s09_no_client_addresses_is_said_on_stderr_once",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let warning = "warning: better-auth cannot see client addresses, so rate limits are off";
    assert_eq!(stderr.matches(warning).count(), 1, "{stderr}");
    assert!(
        stderr.contains("into_make_service_with_connect_info::<SocketAddr>()"),
        "{stderr}"
    );
}

async fn two_requests_without_connect_info() {
    use better_auth::integrations::axum::AxumIntegration as _;
    use tower::ServiceExt as _;
    let db = better_auth::store::Database::connect("sqlite::memory:")
        .await
        .unwrap();
    better_auth::run_migrations(&db).await.unwrap();
    let auth = Arc::new(
        better_auth::BetterAuth::new(better_auth::AuthConfig::new(SECRET))
            .database(db)
            .plugin(better_auth::plugins::EmailPasswordPlugin::new())
            .build()
            .await
            .unwrap(),
    );
    let app = axum::Router::new()
        .nest("/auth", auth.axum_router())
        .with_state(auth.clone());
    for _ in 0..2 {
        let request = axum::http::Request::post("/auth/sign-in/email")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({ "email": "ada@example.com", "password": "wrong password" }).to_string(),
            ))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        // Never throttled: there is no client to count against.
        assert_eq!(response.status(), 401);
    }
}

/// S09 on the hot path: `/get-session` answers a cached session without the
/// general path's future, and still counts every request against the client's
/// limit, from the first (a cache miss, read from the database) to the last
/// (served from the cache), whatever the cache (the default never-stale one,
/// the opt-in ttl one) and whatever the store (in memory: decided at once; in
/// the database: awaited). A refused request gets 429 with `Retry-After`, not
/// the session.
async fn s09_get_session_counts_cached_reads(db: TestDb) {
    let store = Arc::new(DatabaseRateLimitStore::new(db.database.clone()));
    // Each variant is a client of its own (behind a trusted proxy), as the
    // database store's counters are shared by the variants.
    let rule = |limits: RateLimitConfig| {
        limits
            .rule("/get-session", Duration::from_secs(60), 4)
            .trusted_proxies(["127.0.0.1/32"])
            .unwrap()
    };
    let variants: [(&str, RateLimitConfig, Option<Duration>); 4] = [
        ("memory store", rule(RateLimitConfig::default()), None),
        (
            "database store",
            rule(RateLimitConfig::default().store(store.clone())),
            None,
        ),
        (
            "memory store, ttl cache",
            rule(RateLimitConfig::default()),
            Some(Duration::from_secs(60)),
        ),
        (
            "database store, ttl cache",
            rule(RateLimitConfig::default().store(store)),
            Some(Duration::from_secs(60)),
        ),
    ];
    for (i, (name, limits, ttl)) in variants.into_iter().enumerate() {
        let mut setup = Setup::new();
        setup.config = setup.config.rate_limit(limits);
        if let Some(ttl) = ttl {
            setup.config = setup.config.session_cache(ttl);
        }
        let srv = TestServer::start_with(&db, setup).await;
        let token = srv.user(&format!("limit{i}@example.com")).await;
        let client = format!("198.51.100.{}", i + 1);
        let get_session = || {
            srv.get("/api/auth/get-session")
                .bearer(&token)
                .header("x-forwarded-for", &client)
        };
        for n in 1..=4 {
            let resp = get_session().send().await;
            assert_eq!(resp.status, 200, "{name}, request {n}: {}", resp.body);
            assert_eq!(
                resp.body["user"]["email"],
                format!("limit{i}@example.com"),
                "{name}"
            );
        }
        let limited = get_session().send().await;
        assert_eq!(
            (limited.status, limited.code()),
            (429, "TOO_MANY_REQUESTS"),
            "{name}: {}",
            limited.body
        );
        assert!(limited.header("retry-after").is_some(), "{name}");
        assert!(limited.body.get("user").is_none(), "{name}");
    }
}

all_backends!(
    s09_get_session_hot_path_is_rate_limited,
    with_db,
    |db: TestDb| async move { s09_get_session_counts_cached_reads(db).await }
);
