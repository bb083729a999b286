//! Password guessing (S30, S31): every guess at an account costs an attempt,
//! even in a concurrent burst or across instances sharing a database store,
//! every route that checks a password shares the per-account throttle, and a
//! full hashing queue answers 503 with Retry-After. Through HTTP against a
//! real server.

use std::sync::Arc;

use better_auth::rate_limit::{DatabaseRateLimitStore, RateLimitConfig};
use better_auth_test_support::all_backends;
use serde_json::{Value, json};

use crate::common::*;

/// Sends `count` concurrent requests built by `make` and returns their statuses.
pub(crate) async fn burst<F>(srv: &TestServer, count: usize, make: F) -> Vec<u16>
where
    F: Fn(usize) -> reqwest::RequestBuilder,
{
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let request = make(i);
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let _ = srv;
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses
}

pub(crate) fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

pub(crate) async fn wrong_sign_in(srv: &TestServer, email: &str) -> u16 {
    srv.sign_in(email, "wrong password!").await.status
}
// ---------------------------------------------------------------- S30

/// S30 with a clock that stands still: the delay the burst earns cannot run
/// out while a busy machine works through the burst.
mod s30_concurrent_guesses_each_cost_an_attempt {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        s30_burst(Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        s30_burst(Backend::Postgres).await;
    }
}

async fn s30_burst(backend: Backend) {
    let Some(db) = TestDb::open(backend).await else {
        return;
    };
    let (srv, _clock) = TestServer::start_with_clock(&db).await;
    {
        srv.user("ada@example.com").await;
        let hasher = srv.auth.password_hasher().clone();
        let before = hasher.verification_count();
        let url = format!("{}/api/auth/sign-in/email", srv.base);
        let statuses = burst(&srv, 60, |_| {
            srv.client
                .post(&url)
                .json(&json!({ "email": "ada@example.com", "password": "wrong password!" }))
        })
        .await;
        // Only the five free attempts were checked against the password; the
        // other 55 were refused before hashing.
        let checked = hasher.verification_count() - before;
        assert!(checked <= 5, "{checked} passwords checked: {statuses:?}");
        assert!(count(&statuses, 401) <= 5, "{statuses:?}");
        assert_eq!(count(&statuses, 401) + count(&statuses, 429), 60);
        // The burst left the account delayed: the right password now waits too.
        let right = srv.sign_in("ada@example.com", PASSWORD).await;
        assert_eq!(right.status, 429, "{}", right.body);
        assert!(right.header("retry-after").is_some());
        assert_eq!(hasher.verification_count() - before, checked);
    }
    db.drop_schema().await;
}

/// S30: a delayed account is refused before the database is read, so a
/// flood of guesses at one account costs no lookups: with the database
/// closed, its sign-ins still get 429 (a lookup would give 503).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s30_a_delayed_account_is_refused_without_a_database_read() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let (srv, _clock) = TestServer::start_with_clock(&db).await;
    srv.user("ada@example.com").await;
    for _ in 0..5 {
        assert_eq!(wrong_sign_in(&srv, "ada@example.com").await, 401);
    }
    assert_eq!(srv.sign_in("ada@example.com", PASSWORD).await.status, 429);
    srv.auth.database().close().await;
    let resp = srv.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(resp.status, 429, "{}", resp.body);
    assert!(resp.header("retry-after").is_some());
    // An account with attempts left does read the database: 503 now.
    let other = srv.sign_in("bob@example.com", PASSWORD).await;
    assert_eq!(other.status, 503, "{}", other.body);
}

async fn server_with_db_store(db: &TestDb) -> TestServer {
    let store = Arc::new(DatabaseRateLimitStore::new(db.database.clone()));
    let mut setup = Setup::new();
    // Client limits off; the per-account throttle lives in the store whatever `enabled` says.
    let mut limits = RateLimitConfig::disabled().store(store);
    limits.enabled = false;
    setup.config = setup.config.rate_limit(limits);
    TestServer::start_with(db, setup).await
}

all_backends!(
    s30_database_store_shares_the_account_throttle_between_instances,
    with_db,
    |db: TestDb| async move {
        let a = server_with_db_store(&db).await;
        let b = server_with_db_store(&db).await;
        a.user("ada@example.com").await;
        // Five failures spread over two instances.
        for srv in [&a, &b, &a, &b, &a] {
            assert_eq!(wrong_sign_in(srv, "ada@example.com").await, 401);
        }
        for srv in [&a, &b] {
            let resp = srv.sign_in("ada@example.com", PASSWORD).await;
            assert_eq!(resp.status, 429, "{}", resp.body);
        }
        // A concurrent burst through the database store costs one attempt each too.
        b.user("bob@example.com").await;
        let hasher = b.auth.password_hasher().clone();
        let before = hasher.verification_count();
        let url = format!("{}/api/auth/sign-in/email", b.base);
        let statuses = burst(&b, 30, |_| {
            b.client
                .post(&url)
                .json(&json!({ "email": "bob@example.com", "password": "wrong password!" }))
        })
        .await;
        assert!(hasher.verification_count() - before <= 5, "{statuses:?}");
        assert_eq!(count(&statuses, 401) + count(&statuses, 429), 30);
    }
);

// ---------------------------------------------------------------- S31

all_backends!(
    s31_every_password_check_is_throttled,
    with_db,
    |db: TestDb| async move {
        // A clock that stands still: the 1 s delay after the fifth failure must
        // not run out while a busy machine answers the guesses.
        let (srv, _clock) = TestServer::start_with_clock(&db).await;
        let ada = srv.user("ada@example.com").await;
        let hasher = srv.auth.password_hasher().clone();
        // delete-user with a password: five wrong guesses, then a delay.
        for _ in 0..5 {
            let resp = srv
                .post("/api/auth/delete-user")
                .bearer(&ada)
                .json(json!({ "password": "wrong password!" }))
                .send()
                .await;
            assert_eq!(resp.status, 400, "{}", resp.body);
        }
        let before = hasher.verification_count();
        let resp = srv
            .post("/api/auth/delete-user")
            .bearer(&ada)
            .json(json!({ "password": PASSWORD }))
            .send()
            .await;
        assert_eq!(resp.status, 429, "{}", resp.body);
        assert_eq!(hasher.verification_count(), before, "nothing checked");
        // The same account throttle covers change-password and sign-in.
        let resp = srv
            .post("/api/auth/change-password")
            .bearer(&ada)
            .json(json!({ "currentPassword": PASSWORD, "newPassword": "a brand new password" }))
            .send()
            .await;
        assert_eq!(resp.status, 429, "{}", resp.body);
        assert_eq!(srv.sign_in("ada@example.com", PASSWORD).await.status, 429);

        // change-password on its own account: five wrong, then delayed.
        let bob = srv.user("bob@example.com").await;
        for _ in 0..5 {
            let resp = srv
                .post("/api/auth/change-password")
                .bearer(&bob)
                .json(json!({ "currentPassword": "wrong password!", "newPassword": "a brand new password" }))
                .send()
                .await;
            assert_eq!(resp.code(), "INVALID_PASSWORD");
        }
        let resp = srv
            .post("/api/auth/change-password")
            .bearer(&bob)
            .json(json!({ "currentPassword": PASSWORD, "newPassword": "a brand new password" }))
            .send()
            .await;
        assert_eq!(resp.status, 429, "{}", resp.body);
    }
);

#[tokio::test]
async fn s31_delete_user_has_the_sign_in_rate_rule() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let mut setup = Setup::new();
    setup.config = setup.config.rate_limit(RateLimitConfig::default());
    let srv = TestServer::start_with(&db, setup).await;
    let ada = srv.user("ada@example.com").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let resp = srv
            .post("/api/auth/delete-user")
            .bearer(&ada)
            .json(json!({ "password": "wrong password!" }))
            .send()
            .await;
        statuses.push(resp.status);
    }
    assert_eq!(statuses, [400, 400, 400, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s31_a_full_hashing_queue_answers_503_with_retry_after() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let mut setup = Setup::new();
    setup.config = setup.config.hashing_queue(1);
    let srv = TestServer::start_with(&db, setup).await;
    let url = format!("{}/api/auth/sign-in/email", srv.base);
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let request = srv.client.post(&url).json(
                &json!({ "email": format!("u{i}@example.com"), "password": "wrong password!" }),
            );
            tokio::spawn(async move {
                let resp = request.send().await.unwrap();
                let retry = resp.headers().get("retry-after").is_some();
                let status = resp.status().as_u16();
                let body: Value = resp.json().await.unwrap();
                (
                    status,
                    retry,
                    body["code"].as_str().unwrap_or("").to_owned(),
                )
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let busy: Vec<_> = results.iter().filter(|r| r.0 == 503).collect();
    assert!(!busy.is_empty(), "{results:?}");
    assert!(
        busy.iter().all(|r| r.1 && r.2 == "SERVICE_BUSY"),
        "{busy:?}"
    );
    assert!(
        results.iter().all(|r| r.0 == 503 || r.0 == 401),
        "{results:?}"
    );
    // Once the burst is over, sign-in works again.
    srv.user("ada@example.com").await;
    assert_eq!(srv.sign_in("ada@example.com", PASSWORD).await.status, 200);
}
