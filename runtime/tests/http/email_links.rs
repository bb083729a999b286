//! Emailed links and the mail sender (S33, S34, S38): a reset link ends with
//! any newer password or address and survives a failed reset, the mail sender
//! neither reveals accounts nor holds answers, links stay out of production
//! logs and referrers, and a verification link verifies only the address it
//! was mailed to. Through HTTP against a real server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use better_auth::AuthConfig;
use better_auth::email::{Email, EmailSender, SendFuture};
use better_auth::plugins::EmailPasswordPlugin;
use better_auth::rate_limit::RateLimitConfig;
use better_auth_test_support::all_backends;
use serde_json::json;

use crate::common::*;
use crate::password_guessing::{burst, count};

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

all_backends!(
    s33_password_changes_end_every_outstanding_reset_token,
    with_server,
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

all_backends!(
    s33_two_resets_racing_for_one_token_change_the_password_once,
    with_server,
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

all_backends!(
    s34_send_verification_email_reveals_nothing,
    with_db,
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

all_backends!(
    s34_a_mail_failure_never_turns_a_committed_sign_up_into_500,
    with_db,
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

all_backends!(
    s38_token_responses_are_not_cached_and_reset_links_not_referred,
    with_server,
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

// ---------------------------------------------------------------- verification links

// `/verify-email` verifies the address that was mailed, never whatever
// address the account has when the link is followed.
all_backends!(
    verify_email_marks_the_mailed_address_only,
    with_server,
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
