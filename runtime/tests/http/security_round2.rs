//! Security round 2 (issue 11): S30–S39 and the smaller findings, one test
//! (or pair) per item, named after it, through HTTP against a real server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use better_auth::AuthConfig;
use better_auth::email::{Email, EmailSender, SendFuture};
use better_auth::plugins::EmailPasswordPlugin;
use better_auth::rate_limit::{DatabaseRateLimitStore, RateLimitConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;
use crate::{both_backends, both_db};

const EVIL: &str = "http://evil.com";

/// Sends `count` concurrent requests built by `make` and returns their statuses.
async fn burst<F>(srv: &TestServer, count: usize, make: F) -> Vec<u16>
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

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

async fn wrong_sign_in(srv: &TestServer, email: &str) -> u16 {
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

both_db!(
    s30_database_store_shares_the_account_throttle_between_instances,
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

both_db!(
    s31_every_password_check_is_throttled,
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

// ---------------------------------------------------------------- S33

async fn reset_with(srv: &TestServer, token: &str, password: &str) -> Resp {
    srv.post("/api/auth/reset-password")
        .json(json!({ "token": token, "newPassword": password }))
        .send()
        .await
}

/// The path and query of an emailed link, to request on the test server.
fn local(url: &str) -> String {
    url.strip_prefix(ORIGIN)
        .expect("links use the configured base URL")
        .to_owned()
}

both_backends!(
    s33_password_changes_end_every_outstanding_reset_token,
    |srv: TestServer| async move {
        // (a) change-password ends a reset link asked for before it.
        let ada = srv.user("ada@example.com").await;
        let before = srv.reset_token("ada@example.com", 1).await;
        let resp = srv
            .post("/api/auth/change-password")
            .bearer(&ada)
            .json(json!({ "currentPassword": PASSWORD, "newPassword": "a brand new password" }))
            .send()
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        let resp = reset_with(&srv, &before, "the attacker's password").await;
        assert_eq!((resp.status, resp.code()), (400, "INVALID_TOKEN"));

        // (b) a reset with a newer link ends the older one.
        let older = srv.reset_token("ada@example.com", 2).await;
        let newer = srv.reset_token("ada@example.com", 3).await;
        assert_eq!(
            reset_with(&srv, &newer, "a third password here")
                .await
                .status,
            200
        );
        let resp = reset_with(&srv, &older, "the attacker's password").await;
        assert_eq!((resp.status, resp.code()), (400, "INVALID_TOKEN"));
        assert_eq!(
            srv.sign_in("ada@example.com", "a third password here")
                .await
                .status,
            200
        );

        // (c) a link in the old mailbox dies with a confirmed email change.
        let bob = srv.user("bob@example.com").await;
        let old_mailbox = srv.reset_token("bob@example.com", 1).await;
        let resp = srv
            .post("/api/auth/change-email")
            .bearer(&bob)
            .json(json!({ "newEmail": "bob.new@example.com" }))
            .send()
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        let mail = srv.outbox.wait_for("bob.new@example.com", 1).await.unwrap();
        assert_eq!(srv.get(&local(&mail.url)).send().await.status, 200);
        let resp = reset_with(&srv, &old_mailbox, "the attacker's password").await;
        assert_eq!((resp.status, resp.code()), (400, "INVALID_TOKEN"));
        assert_eq!(
            srv.sign_in("bob.new@example.com", PASSWORD).await.status,
            200
        );
    }
);

/// S33: the token is consumed in the transaction that writes the new hash,
/// so a reset that fails (here: the hashing queue is full, 503) burns nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s33_a_reset_token_is_not_burned_by_a_failed_reset() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::open(backend).await else {
            continue;
        };
        let mut setup = Setup::new();
        setup.config = setup.config.hashing_queue(1);
        let srv = TestServer::start_with(&db, setup).await;
        srv.user("ada@example.com").await;
        // Keep the hashing threads and their one-job queue full.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let floods: Vec<_> = (0..4)
            .map(|_| {
                let hasher = srv.auth.password_hasher().clone();
                let stop = stop.clone();
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        if hasher.hash("keeping the hasher busy").await.is_err() {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut failed = None;
        for round in 1..=20 {
            let token = srv.reset_token("ada@example.com", round).await;
            let resp = reset_with(&srv, &token, "a new password here").await;
            match resp.status {
                503 => {
                    assert_eq!(resp.code(), "SERVICE_BUSY");
                    failed = Some(token);
                    break;
                }
                // The hash slipped into a free slot: try again with a new link.
                200 => {}
                other => panic!("unexpected {other}: {}", resp.body),
            }
        }
        stop.store(true, Ordering::Relaxed);
        for flood in floods {
            flood.await.unwrap();
        }
        let token = failed.expect("never saw the hashing queue full");
        // The failed reset did not use the token up.
        let resp = reset_with(&srv, &token, "a new password here").await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(
            srv.sign_in("ada@example.com", "a new password here")
                .await
                .status,
            200
        );
        db.drop_schema().await;
    }
}

both_backends!(
    s33_two_resets_racing_for_one_token_change_the_password_once,
    |srv: TestServer| async move {
        srv.user("ada@example.com").await;
        let token = srv.reset_token("ada@example.com", 1).await;
        let url = format!("{}/api/auth/reset-password", srv.base);
        let statuses = burst(&srv, 4, |i| {
            srv.client
                .post(&url)
                .json(&json!({ "token": token, "newPassword": format!("racing password {i}") }))
        })
        .await;
        assert_eq!(count(&statuses, 200), 1, "{statuses:?}");
        assert_eq!(count(&statuses, 400), 3, "{statuses:?}");
    }
);

// ---------------------------------------------------------------- S34

/// A sender that never finishes (until the test ends) or always fails.
struct StuckSender {
    fail: bool,
    calls: Arc<AtomicUsize>,
}

impl EmailSender for StuckSender {
    fn send(&self, _email: Email) -> SendFuture<'_> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let fail = self.fail;
        Box::pin(async move {
            if fail {
                return Err("the mail server said no".into());
            }
            std::future::pending::<()>().await;
            Ok(())
        })
    }
}

async fn server_with_sender(
    db: &TestDb,
    fail: bool,
    on_sign_up: bool,
) -> (TestServer, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut setup = Setup::new();
    setup.config = setup.config.email_sender(Arc::new(StuckSender {
        fail,
        calls: calls.clone(),
    }));
    setup.email_password = EmailPasswordPlugin::new().send_verification_on_sign_up(on_sign_up);
    (TestServer::start_with(db, setup).await, calls)
}

async fn within_5s(req: Req) -> Resp {
    tokio::time::timeout(Duration::from_secs(5), req.send())
        .await
        .expect("answered without waiting for the mail sender")
}

both_db!(
    s34_send_verification_email_reveals_nothing,
    |db: TestDb| async move {
        // A sender that hangs: the answer does not wait for it.
        let (srv, calls) = server_with_sender(&db, false, false).await;
        srv.user("ada@example.com").await;
        let mut answers = Vec::new();
        for email in ["ada@example.com", "nobody@example.com"] {
            let resp = within_5s(
                srv.post("/api/auth/send-verification-email")
                    .json(json!({ "email": email })),
            )
            .await;
            answers.push((resp.status, resp.body));
        }
        assert_eq!(answers[0], answers[1]);
        assert_eq!(answers[0].0, 200);
        // The mail for the real, unverified account was still attempted.
        for _ in 0..200 {
            if calls.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // A failing sender: the same 200 for real and unknown accounts.
        let (srv, _) = server_with_sender(&db, true, false).await;
        srv.user("bob@example.com").await;
        for email in ["bob@example.com", "nobody@example.com"] {
            let resp = within_5s(
                srv.post("/api/auth/send-verification-email")
                    .json(json!({ "email": email })),
            )
            .await;
            assert_eq!(resp.status, 200, "{email}: {}", resp.body);
        }
    }
);

both_db!(
    s34_a_mail_failure_never_turns_a_committed_sign_up_into_500,
    |db: TestDb| async move {
        let (srv, calls) = server_with_sender(&db, true, true).await;
        let resp = within_5s(
            srv.post("/api/auth/sign-up/email")
                .json(json!({ "name": "Ada", "email": "ada@example.com", "password": PASSWORD })),
        )
        .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(srv.sign_in("ada@example.com", PASSWORD).await.status, 200);
        // A hanging sender does not hold the sign-up either.
        let (srv, _) = server_with_sender(&db, false, true).await;
        let resp = within_5s(
            srv.post("/api/auth/sign-up/email")
                .json(json!({ "name": "Bob", "email": "bob@example.com", "password": PASSWORD })),
        )
        .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        for _ in 0..200 {
            if calls.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "the failing send was tried"
        );
    }
);

// ---------------------------------------------------------------- S35

both_backends!(s35_login_csrf_is_refused, |srv: TestServer| async move {
    srv.user("attacker@example.com").await;
    let creds = json!({ "email": "attacker@example.com", "password": PASSWORD }).to_string();
    let signup =
        json!({ "name": "A", "email": "victim2@example.com", "password": PASSWORD }).to_string();
    // What a cross-site <form enctype="text/plain"> sends: refused, no cookie.
    for (path, body) in [
        ("/api/auth/sign-in/email", &creds),
        ("/api/auth/sign-up/email", &signup),
    ] {
        let resp = srv
            .post(path)
            .header("origin", EVIL)
            .raw_body("text/plain", body.clone())
            .send()
            .await;
        assert_eq!(
            (resp.status, resp.code()),
            (403, "INVALID_ORIGIN"),
            "{path}"
        );
        assert!(resp.set_cookies().is_empty());
        // Even as JSON, an untrusted origin is refused without any cookie.
        let resp = srv
            .post(path)
            .header("origin", EVIL)
            .raw_body("application/json", body.clone())
            .send()
            .await;
        assert_eq!(
            (resp.status, resp.code()),
            (403, "INVALID_ORIGIN"),
            "{path}"
        );
        assert!(resp.set_cookies().is_empty());
        // Without Origin, a non-JSON body is refused as such.
        for content_type in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            let resp = srv
                .post(path)
                .raw_body(content_type, body.clone())
                .send()
                .await;
            assert_eq!(
                (resp.status, resp.code()),
                (415, "UNSUPPORTED_MEDIA_TYPE"),
                "{path} {content_type}"
            );
        }
        // A browser that says the request is cross-site.
        let resp = srv
            .post(path)
            .header("sec-fetch-site", "cross-site")
            .raw_body("application/json", body.clone())
            .send()
            .await;
        assert_eq!(resp.status, 403, "{path}");
        // Origin: null (sandboxed frames, some redirects) is refused too.
        let resp = srv
            .post(path)
            .header("origin", "null")
            .raw_body("application/json", body.clone())
            .send()
            .await;
        assert_eq!((resp.status, resp.code()), (403, "MISSING_OR_NULL_ORIGIN"));
    }
    // Server-to-server and CLI clients send neither header: still allowed,
    // and so is a same-origin browser with a charset parameter.
    let resp = srv
        .post("/api/auth/sign-in/email")
        .raw_body("application/json", creds.clone())
        .send()
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let resp = srv
        .post("/api/auth/sign-in/email")
        .header("origin", ORIGIN)
        .header("sec-fetch-site", "same-origin")
        .raw_body("application/json; charset=utf-8", creds.clone())
        .send()
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
});

both_backends!(
    s35_origin_null_is_untrusted_even_with_a_same_origin_referer,
    |srv: TestServer| async move {
        let cookie = srv.sign_up("ada@example.com").await.session_cookie();
        let resp = srv
            .post("/api/auth/update-user")
            .header("cookie", &cookie)
            .header("origin", "null")
            .header("referer", "http://localhost:3000/settings")
            .json(json!({ "name": "Mallory" }))
            .send()
            .await;
        assert_eq!((resp.status, resp.code()), (403, "MISSING_OR_NULL_ORIGIN"));
        let me = srv
            .get("/api/auth/get-session")
            .header("cookie", &cookie)
            .send()
            .await;
        assert_eq!(me.body["user"]["name"], "Ada");
    }
);

// ---------------------------------------------------------------- S36

/// Writes `head` and `body` on a raw connection and returns the status of the
/// answer, waiting at most 5 s.
async fn raw_status(base: &str, head: &str, body: &[u8]) -> Option<u16> {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut response))
        .await
        .ok()?
        .ok()?;
    let line = String::from_utf8_lossy(&response[..n]).to_string();
    line.split_whitespace().nth(1)?.parse().ok()
}

fn post_head(base: &str, path: &str, length: usize) -> String {
    let addr = base.trim_start_matches("http://");
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}

both_backends!(
    s36_bodies_are_small_by_default,
    |srv: TestServer| async move {
        let mut body = br#"{"email":"a@example.com","password":"x","pad":""#.to_vec();
        body.resize(64 * 1024 + 10, b'a');
        body.extend_from_slice(br#""}"#);
        let resp = srv
            .post("/api/auth/sign-in/email")
            .raw_body("application/json", body)
            .send()
            .await;
        assert_eq!((resp.status, resp.code()), (413, "PAYLOAD_TOO_LARGE"));
    }
);

#[tokio::test]
async fn s36_body_limit_and_timeout_are_configurable() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let mut setup = Setup::new();
    setup.config = setup
        .config
        .max_body_bytes(1024)
        .body_timeout(Duration::from_millis(300));
    let srv = TestServer::start_with(&db, setup).await;
    // A body that trickles in is cut off with 408 once the timeout passes.
    let head = post_head(&srv.base, "/api/auth/sign-in/email", 100);
    let status = raw_status(&srv.base, &head, b"{\"email\":").await;
    assert_eq!(status, Some(408));
    let resp = srv
        .post("/api/auth/sign-in/email")
        .raw_body("application/json", vec![b' '; 1025])
        .send()
        .await;
    assert_eq!(resp.status, 413);
}

#[tokio::test]
async fn s36_rate_limit_is_applied_before_the_body_is_read() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let mut setup = Setup::new();
    setup.config = setup.config.rate_limit(RateLimitConfig::default());
    let srv = TestServer::start_with(&db, setup).await;
    for _ in 0..3 {
        assert_eq!(wrong_sign_in(&srv, "ada@example.com").await, 401);
    }
    // A fourth request announces a body and never sends it: answered 429 at
    // once, without waiting for (or buffering) the body.
    let head = post_head(&srv.base, "/api/auth/sign-in/email", 60_000);
    assert_eq!(raw_status(&srv.base, &head, b"").await, Some(429));
}

// ---------------------------------------------------------------- S37

/// A browser's cookie jar for the session cookie: the value and when the
/// browser drops it (Max-Age from when it was set, by the server's clock).
struct Jar {
    cookie: String,
    expires: chrono::DateTime<chrono::Utc>,
}

impl Jar {
    fn take(&mut self, resp: &Resp, now: chrono::DateTime<chrono::Utc>) {
        for line in resp.set_cookies() {
            if !line.contains("session_token=") {
                continue;
            }
            self.cookie = line.split(';').next().unwrap().to_owned();
            let max_age: i64 = line
                .split("; ")
                .find_map(|a| a.strip_prefix("Max-Age="))
                .unwrap()
                .parse()
                .unwrap();
            self.expires = now + chrono::Duration::seconds(max_age);
        }
    }
}

#[tokio::test]
async fn s37_activity_on_app_routes_keeps_the_browser_signed_in() {
    use better_auth::Clock;
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::open(backend).await else {
            continue;
        };
        let (srv, clock) = TestServer::start_with_clock(&db).await;
        let resp = srv.sign_up("ada@example.com").await;
        let mut jar = Jar {
            cookie: String::new(),
            expires: clock.now(),
        };
        jar.take(&resp, clock.now());
        // Twenty days of daily use: the page's server route (CurrentSession)
        // first, then the client's /get-session, as a browser app does.
        for day in 1..=20 {
            clock.advance(Duration::from_secs(24 * 3600 + 60));
            let now = clock.now();
            assert!(
                jar.expires > now,
                "day {day}: the browser dropped the cookie"
            );
            let me = srv
                .get("/api/me")
                .header("cookie", &jar.cookie)
                .send()
                .await;
            assert_eq!(me.status, 200, "day {day}");
            let session = srv
                .get("/api/auth/get-session")
                .header("cookie", &jar.cookie)
                .send()
                .await;
            assert_eq!(
                session.body["user"]["email"], "ada@example.com",
                "day {day}"
            );
            jar.take(&session, now);
        }
        db.drop_schema().await;
    }
}

// ---------------------------------------------------------------- S38

/// A `tracing` subscriber keeping every event's fields as text.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl tracing::Subscriber for Captured {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = String::new();
        event.record(&mut Fields(&mut line));
        let mut all = self.0.lock().unwrap();
        all.push_str(&line);
        all.push('\n');
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Asks for a reset on a server with no email sender and returns the logs.
fn logs_of_a_reset_request(base_url: &'static str) -> String {
    let captured = Captured::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(captured.clone(), || {
        runtime.block_on(async {
            let db = TestDb::open(Backend::Sqlite).await.unwrap();
            let mut setup = Setup::new();
            setup.config = AuthConfig::new(SECRET)
                .base_url(base_url)
                .base_path("/api/auth")
                .rate_limit(RateLimitConfig::disabled());
            let srv = TestServer::start_with(&db, setup).await;
            srv.user("ada@example.com").await;
            let resp = srv
                .post("/api/auth/request-password-reset")
                .json(json!({ "email": "ada@example.com" }))
                .send()
                .await;
            assert_eq!(resp.status, 200);
            // The email goes out in the background.
            tokio::time::sleep(Duration::from_millis(300)).await;
        })
    });
    captured.0.lock().unwrap().clone()
}

#[test]
fn s38_reset_links_stay_out_of_production_logs() {
    let production = logs_of_a_reset_request("https://app.example.com");
    assert!(
        production.contains("an email was due"),
        "says a mail was due: {production}"
    );
    assert!(
        !production.contains("reset-password/"),
        "no link in the logs: {production}"
    );
    // The development default stays: on http://localhost the link is logged.
    let development = logs_of_a_reset_request("http://localhost:3000");
    assert!(
        development.contains("http://localhost:3000/api/auth/reset-password/"),
        "{development}"
    );
}

both_backends!(
    s38_token_responses_are_not_cached_and_reset_links_not_referred,
    |srv: TestServer| async move {
        let signup = srv.sign_up("ada@example.com").await;
        let signin = srv.sign_in("ada@example.com", PASSWORD).await;
        for resp in [&signup, &signin] {
            assert_eq!(resp.header("cache-control"), Some("no-store"));
        }
        let resp = srv
            .post("/api/auth/change-password")
            .bearer(&signin.auth_token())
            .json(json!({ "currentPassword": PASSWORD, "newPassword": "a brand new password", "revokeOtherSessions": true }))
            .send()
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        srv.post("/api/auth/request-password-reset")
            .json(json!({ "email": "ada@example.com" }))
            .send()
            .await;
        let mail = srv.outbox.wait_for("ada@example.com", 1).await.unwrap();
        let redirect = srv.get(&local(&mail.url)).send().await;
        assert_eq!(redirect.status, 302);
        assert_eq!(redirect.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(redirect.header("cache-control"), Some("no-store"));
    }
);

// ---------------------------------------------------------------- S39

both_db!(
    s39_stored_timestamps_compare_correctly_in_every_form,
    |db: TestDb| async move {
        let srv = TestServer::start_with(&db, Setup::new()).await;
        let ada = srv.user("ada@example.com").await;
        let me = srv.get("/api/auth/get-session").bearer(&ada).send().await;
        let user_id = me.body["user"]["id"].as_str().unwrap().to_owned();
        let now = chrono::Utc::now();
        let future = now + chrono::Duration::minutes(2);
        let past = now - chrono::Duration::minutes(2);
        let created = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        // (id, expiresAt as stored, still live)
        let mut rows: Vec<(String, StoredTime, bool)> = Vec::new();
        if db.database.backend() == better_auth::store::Backend::Sqlite {
            for (when, live) in [(future, true), (past, false)] {
                rows.push((
                    format!("iso-{live}"),
                    StoredTime::Text(when.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
                    live,
                ));
                rows.push((
                    format!("space-{live}"),
                    StoredTime::Text(when.format("%Y-%m-%d %H:%M:%S").to_string()),
                    live,
                ));
                rows.push((
                    format!("secs-{live}"),
                    StoredTime::Int(when.timestamp()),
                    live,
                ));
                rows.push((
                    format!("millis-{live}"),
                    StoredTime::Int(when.timestamp_millis()),
                    live,
                ));
            }
        } else {
            rows.push(("tz-true".into(), StoredTime::Typed(future), true));
            rows.push(("tz-false".into(), StoredTime::Typed(past), false));
        }
        for (id, expires, _) in &rows {
            insert_session(&db, id, expires, &created, &user_id).await;
        }
        // list-sessions shows exactly the live ones (and the real session).
        let listed = srv.get("/api/auth/list-sessions").bearer(&ada).send().await;
        let mut ids: Vec<String> = listed
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .filter(|id| rows.iter().any(|r| &r.0 == id))
            .collect();
        ids.sort();
        let mut live: Vec<String> = rows.iter().filter(|r| r.2).map(|r| r.0.clone()).collect();
        live.sort();
        assert_eq!(ids, live, "{}", listed.body);
        // `session revoke --all-expired` deletes exactly the expired ones.
        let deleted = better_auth::store::sessions::delete_expired(&db.database, now)
            .await
            .unwrap();
        assert_eq!(deleted as usize, rows.iter().filter(|r| !r.2).count());
        let left = better_auth::store::sessions::list_for_user(&db.database, &user_id)
            .await
            .unwrap();
        assert_eq!(left.len(), live.len() + 1, "{left:?}");
        assert_eq!(srv.get("/api/me").bearer(&ada).send().await.status, 200);
    }
);

enum StoredTime {
    Text(String),
    Int(i64),
    Typed(chrono::DateTime<chrono::Utc>),
}

async fn insert_session(db: &TestDb, id: &str, expires: &StoredTime, created: &str, user_id: &str) {
    const SQL: &str = r#"INSERT INTO "session" ("id", "expiresAt", "token", "createdAt", "updatedAt", "userId")
        VALUES ($1, $2, $3, $4, $4, $5)"#;
    let token = better_auth::crypto::token_digest(id);
    let raw = match expires {
        StoredTime::Typed(t) => {
            let session =
                better_auth::prelude::Session::new(id, token, user_id, *t, chrono::Utc::now());
            better_auth::store::sessions::create(&db.database, &session)
                .await
                .unwrap();
            return;
        }
        StoredTime::Text(text) => sqlx::query(SQL).bind(id).bind(text.clone()),
        StoredTime::Int(n) => sqlx::query(SQL).bind(id).bind(*n),
    };
    // A pool of its own on the same SQLite file, as another program writing it.
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    raw.bind(token)
        .bind(created)
        .bind(user_id)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

// ---------------------------------------------------------------- smaller findings

/// Two processes migrating one fresh SQLite file at once both succeed: each
/// migration takes the write lock before it reads the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r2_sqlite_migrations_from_two_processes_at_once() {
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("auth.db").display());
        // Separate pools: separate connections, as two processes would have.
        let mut handles = Vec::new();
        for _ in 0..4 {
            handles.push(better_auth::store::Database::connect(&url).await.unwrap());
        }
        let (a, b, c, d) = tokio::join!(
            better_auth::run_migrations(&handles[0]),
            better_auth::run_migrations(&handles[1]),
            better_auth::run_migrations(&handles[2]),
            better_auth::run_migrations(&handles[3]),
        );
        for run in [a, b, c, d] {
            run.unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
        let status = better_auth::store::migration_status(&handles[0])
            .await
            .unwrap();
        assert!(status.iter().all(|m| m.is_applied()));
        for db in handles {
            db.close().await;
        }
    }
}

// `/verify-email` verifies the address that was mailed, never whatever
// address the account has when the link is followed.
both_backends!(
    r2_verify_email_marks_the_mailed_address_only,
    |srv: TestServer| async move {
        let ada = srv.user("ada@example.com").await;
        srv.post("/api/auth/send-verification-email")
            .json(json!({ "email": "ada@example.com" }))
            .send()
            .await;
        let link = srv.outbox.wait_for("ada@example.com", 1).await.unwrap();
        // The address changes (confirmed) before the old link is followed.
        srv.post("/api/auth/change-email")
            .bearer(&ada)
            .json(json!({ "newEmail": "ada.new@example.com" }))
            .send()
            .await;
        let change = srv.outbox.wait_for("ada.new@example.com", 1).await.unwrap();
        assert_eq!(srv.get(&local(&change.url)).send().await.status, 200);
        // Unverify the new address, as if it had never been confirmed.
        let me = srv.get("/api/auth/get-session").bearer(&ada).send().await;
        let id = me.body["user"]["id"].as_str().unwrap().to_owned();
        better_auth::store::users::set_email(
            srv.auth.database(),
            &id,
            "ada.new@example.com",
            false,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let resp = srv.get(&local(&link.url)).send().await;
        assert_eq!((resp.status, resp.code()), (400, "INVALID_TOKEN"));
        let me = srv.get("/api/auth/get-session").bearer(&ada).send().await;
        assert_eq!(me.body["user"]["emailVerified"], false);
    }
);

both_db!(
    r2_concurrent_password_sets_leave_one_credential_account,
    |db: TestDb| async move {
        use better_auth::store::{accounts, users};
        let now = chrono::Utc::now();
        let new = users::NewUser::new("Ada", "ada@example.com").email_verified(true);
        let user = users::create_with_password(&db.database, new, "old-hash", now)
            .await
            .unwrap();
        // A user with no credential account (say, one who signed up with a provider).
        assert!(
            accounts::delete_for_user(&db.database, &user.id, "credential", None)
                .await
                .unwrap()
        );
        let sets: Vec<_> = (0..16)
            .map(|i| {
                let database = db.database.clone();
                let id = user.id.clone();
                tokio::spawn(async move {
                    accounts::set_credential_password(&database, &id, &format!("hash-{i}"), now)
                        .await
                })
            })
            .collect();
        for set in sets {
            set.await.unwrap().unwrap();
        }
        let credentials = accounts::list_for_user(&db.database, &user.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.provider_id == "credential")
            .count();
        assert_eq!(
            credentials, 1,
            "one credential account, whatever the interleaving"
        );
        let hash = accounts::credential_password(&db.database, &user.id)
            .await
            .unwrap()
            .unwrap();
        assert!(hash.starts_with("hash-"), "{hash}");
    }
);

/// A plugin route with a method the router cannot mount exactly is refused
/// at build time, never served (and documented) as POST.
#[tokio::test]
async fn r2_unknown_methods_are_refused_not_mapped_to_post() {
    use better_auth::plugins::{Plugin, PluginSetup, Route};
    struct Purge;
    impl Plugin for Purge {
        fn id(&self) -> &'static str {
            "purge"
        }
        fn install(&self, setup: &mut PluginSetup) {
            setup.route(Route::new(
                http::Method::from_bytes(b"PURGE").unwrap(),
                "/purge-everything",
                "Dangerous",
                |_, _| Box::pin(async { Ok(better_auth::AuthResponse::json(&json!({}))) }),
            ));
        }
    }
    let db = better_auth::store::Database::connect("sqlite::memory:")
        .await
        .unwrap();
    better_auth::run_migrations(&db).await.unwrap();
    let err = better_auth::BetterAuth::new(AuthConfig::new(SECRET))
        .database(db)
        .plugin(Purge)
        .build()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("PURGE /purge-everything"), "{err}");
}

/// The database URL the CLI shows hides the whole password, `@` and all.
#[test]
fn r2_redacted_database_urls_hide_passwords_containing_at() {
    use better_auth::store::redact_url;
    assert_eq!(
        redact_url("postgres://app:p@ss@word@db.example.com:5432/auth"),
        "postgres://app:***@db.example.com:5432/auth"
    );
    assert_eq!(
        redact_url("postgres://app:secret@db.example.com/auth?sslmode=require"),
        "postgres://app:***@db.example.com/auth?sslmode=require"
    );
    assert_eq!(
        redact_url("postgres://db.example.com/a@b"),
        "postgres://db.example.com/a@b"
    );
    assert_eq!(redact_url("sqlite://auth.db"), "sqlite://auth.db");
}
