//! S49, S55 and S61: what a stolen session may change, a throttle strangers
//! cannot turn on the owner, and a sign-up that does not tell who is
//! registered. Through HTTP against a real server, on SQLite and PostgreSQL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use better_auth::email::EmailKind;
use better_auth::store::accounts::NewAccount;
use better_auth::{ManualClock, SessionConfig};
use better_auth_test_support::all_backends;
use serde_json::{Value, json};

use crate::common::*;

/// The path and query of an emailed link, to request on the test server.
fn local(url: &str) -> String {
    url.strip_prefix(ORIGIN)
        .expect("links use the configured base URL")
        .to_owned()
}

/// The stored digest of a session from its bearer value (`token.signature`).
fn digest(bearer: &str) -> String {
    let token = bearer.rsplit_once('.').unwrap().0;
    better_auth::store::token_digest(token)
}

/// A server whose clock moves only when the test says, with `config` applied.
async fn server(
    db: &TestDb,
    config: impl FnOnce(better_auth::AuthConfig) -> better_auth::AuthConfig,
) -> (TestServer, ManualClock) {
    let clock = ManualClock::new();
    let mut setup = Setup::new();
    setup.config = config(setup.config.clock(Arc::new(clock.clone())));
    (TestServer::start_with(db, setup).await, clock)
}

/// Waits for the `nth` message of `kind` to `to`.
async fn mail_of(
    srv: &TestServer,
    to: &str,
    kind: EmailKind,
    nth: usize,
) -> better_auth::email::Email {
    for _ in 0..500 {
        let found: Vec<_> = srv
            .outbox
            .messages()
            .into_iter()
            .filter(|m| m.to == to && m.kind == kind)
            .collect();
        if found.len() >= nth {
            return found[nth - 1].clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "no {kind:?} mail #{nth} to {to}: {:?}",
        srv.outbox.messages()
    );
}

/// Messages of `kind` to `to` so far.
fn count_mail(srv: &TestServer, to: &str, kind: EmailKind) -> usize {
    srv.outbox
        .messages()
        .iter()
        .filter(|m| m.to == to && m.kind == kind)
        .count()
}

/// Verifies `email`'s address through its emailed link.
async fn verify_address(srv: &TestServer, email: &str) {
    srv.post("/api/auth/send-verification-email")
        .json(json!({ "email": email }))
        .send()
        .await;
    let n = count_mail(srv, email, EmailKind::EmailVerification).max(1);
    let mail = mail_of(srv, email, EmailKind::EmailVerification, n).await;
    let resp = srv.get(&local(&mail.url)).send().await;
    assert_eq!(resp.body["user"]["emailVerified"], true, "{}", resp.body);
}

async fn post(srv: &TestServer, path: &str, bearer: &str, body: Value) -> Resp {
    srv.post(&format!("/api/auth{path}"))
        .bearer(bearer)
        .json(body)
        .send()
        .await
}

fn not_fresh(resp: &Resp, what: &str) {
    assert_eq!(
        (resp.status, resp.code()),
        (403, "SESSION_NOT_FRESH"),
        "{what}: {}",
        resp.body
    );
}

// ---------------------------------------------------------------- S49

all_backends!(
    s49_sensitive_changes_need_a_fresh_session_or_the_password,
    with_db,
    |db: TestDb| async move {
        let (srv, clock) = server(&db, |c| c).await;
        let stolen = srv.user("ada@example.com").await;
        let user_id = srv
            .get("/api/auth/get-session")
            .bearer(&stolen)
            .send()
            .await
            .body["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let laptop = srv.sign_in("ada@example.com", PASSWORD).await.auth_token();
        better_auth::store::accounts::create(
            srv.auth.database(),
            &user_id,
            &NewAccount::new("github", "gh-ada"),
            srv.auth.now(),
        )
        .await
        .unwrap();

        // A day and an hour later the stolen session is still live, not fresh.
        clock.advance(Duration::from_secs(25 * 3600));
        let phone = srv.sign_in("ada@example.com", PASSWORD).await.auth_token();
        let me = srv
            .get("/api/auth/get-session")
            .bearer(&stolen)
            .send()
            .await;
        assert_eq!(me.body["user"]["email"], "ada@example.com");

        let refused: [(&str, Value); 6] = [
            ("/change-email", json!({ "newEmail": "thief@example.com" })),
            ("/delete-user", json!({})),
            ("/unlink-account", json!({ "providerId": "github" })),
            ("/revoke-other-sessions", json!({})),
            ("/revoke-sessions", json!({})),
            ("/revoke-session", json!({ "token": digest(&phone) })),
        ];
        for (path, body) in &refused {
            not_fresh(&post(&srv, path, &stolen, body.clone()).await, path);
        }
        // Nothing changed: the address, the link and every session.
        let sessions = srv
            .get("/api/auth/list-sessions")
            .bearer(&phone)
            .send()
            .await;
        assert_eq!(
            sessions.body.as_array().unwrap().len(),
            3,
            "{}",
            sessions.body
        );
        let accounts = srv
            .get("/api/auth/list-accounts")
            .bearer(&phone)
            .send()
            .await;
        assert_eq!(
            accounts.body.as_array().unwrap().len(),
            2,
            "{}",
            accounts.body
        );
        assert!(
            srv.outbox
                .messages()
                .iter()
                .all(|m| m.to != "thief@example.com")
        );

        // A wrong password is no proof.
        for (path, body) in [
            (
                "/change-email",
                json!({ "newEmail": "thief@example.com", "password": "not the password" }),
            ),
            (
                "/unlink-account",
                json!({ "providerId": "github", "password": "not the password" }),
            ),
            (
                "/revoke-other-sessions",
                json!({ "password": "not the password" }),
            ),
        ] {
            let resp = post(&srv, path, &stolen, body).await;
            assert_eq!(
                (resp.status, resp.code()),
                (400, "INVALID_PASSWORD"),
                "{path}: {}",
                resp.body
            );
        }

        // A session signed in just now may.
        let resp = post(
            &srv,
            "/unlink-account",
            &phone,
            json!({ "providerId": "github" }),
        )
        .await;
        assert_eq!(resp.body, json!({ "status": true }));
        let resp = post(
            &srv,
            "/revoke-session",
            &phone,
            json!({ "token": digest(&laptop) }),
        )
        .await;
        assert_eq!(resp.body, json!({ "status": true }));
        // So may the old one, with the password.
        let resp = post(
            &srv,
            "/revoke-other-sessions",
            &stolen,
            json!({ "password": PASSWORD }),
        )
        .await;
        assert_eq!(resp.body, json!({ "status": true }), "{}", resp.body);
        let gone = srv.get("/api/auth/get-session").bearer(&phone).send().await;
        assert_eq!(gone.body, Value::Null);
        // Ending its own session needs no proof.
        let resp = post(
            &srv,
            "/revoke-session",
            &stolen,
            json!({ "token": digest(&stolen) }),
        )
        .await;
        assert_eq!(resp.body, json!({ "status": true }));
    }
);

all_backends!(
    s49_fresh_age_is_configurable,
    with_db,
    |db: TestDb| async move {
        let (srv, clock) = server(&db, |c| {
            c.session(SessionConfig::default().fresh_age(Duration::from_secs(10 * 60)))
        })
        .await;
        let token = srv.user("ada@example.com").await;
        let body = json!({ "newEmail": "ada.new@example.com" });
        clock.advance(Duration::from_secs(9 * 60));
        let resp = post(&srv, "/change-email", &token, body.clone()).await;
        assert_eq!(resp.body, json!({ "status": true }), "{}", resp.body);
        clock.advance(Duration::from_secs(2 * 60));
        not_fresh(
            &post(&srv, "/change-email", &token, body.clone()).await,
            "after 11 minutes",
        );
        let resp = post(&srv, "/revoke-other-sessions", &token, json!({})).await;
        not_fresh(&resp, "revoke-other-sessions");
    }
);

all_backends!(
    s49_a_verified_address_approves_its_change_first,
    with_db,
    |db: TestDb| async move {
        let (srv, _clock) = server(&db, |c| c).await;
        let token = srv.user("ada@example.com").await;
        verify_address(&srv, "ada@example.com").await;

        let resp = post(
            &srv,
            "/change-email",
            &token,
            json!({ "newEmail": "ada.new@example.com", "callbackURL": "/settings" }),
        )
        .await;
        assert_eq!(resp.body, json!({ "status": true }), "{}", resp.body);
        // The current address is asked first; nothing goes to the new one yet.
        let approval = mail_of(&srv, "ada@example.com", EmailKind::ChangeEmailApproval, 1).await;
        assert!(
            approval.text.contains("ada.new@example.com"),
            "{}",
            approval.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            srv.outbox
                .messages()
                .iter()
                .all(|m| m.to != "ada.new@example.com"),
            "{:?}",
            srv.outbox.messages()
        );
        assert_eq!(
            srv.get("/api/auth/get-session")
                .bearer(&token)
                .send()
                .await
                .body["user"]["email"],
            "ada@example.com"
        );

        // Approved from the current mailbox: the new address gets its link.
        let resp = srv.get(&local(&approval.url)).send().await;
        assert_eq!(
            (resp.status, resp.header("location")),
            (302, Some("/settings"))
        );
        // The approval link works once.
        let again = srv.get(&local(&approval.url)).send().await;
        assert_eq!(
            again.header("location"),
            Some("/settings?error=INVALID_TOKEN")
        );
        let confirm = mail_of(&srv, "ada.new@example.com", EmailKind::ChangeEmail, 1).await;
        let resp = srv.get(&local(&confirm.url)).send().await;
        assert_eq!(resp.status, 302);
        let me = srv.get("/api/auth/get-session").bearer(&token).send().await;
        assert_eq!(me.body["user"]["email"], "ada.new@example.com");

        // The old address is told.
        let notice = mail_of(&srv, "ada@example.com", EmailKind::EmailChanged, 1).await;
        assert!(
            notice.text.contains("ada.new@example.com"),
            "{}",
            notice.text
        );
        assert_eq!(
            srv.sign_in("ada.new@example.com", PASSWORD).await.status,
            200
        );
        assert_eq!(srv.sign_in("ada@example.com", PASSWORD).await.status, 401);
    }
);

all_backends!(
    s49_a_password_change_or_reset_ends_every_emailed_token,
    with_db,
    |db: TestDb| async move {
        let (srv, _clock) = server(&db, |c| c).await;
        // An unverified address: the change link goes straight to the new address.
        let stolen = srv.user("ada@example.com").await;
        srv.post("/api/auth/send-verification-email")
            .json(json!({ "email": "ada@example.com" }))
            .send()
            .await;
        let verification = mail_of(&srv, "ada@example.com", EmailKind::EmailVerification, 1).await;
        let resp = post(
            &srv,
            "/change-email",
            &stolen,
            json!({ "newEmail": "thief@example.com" }),
        )
        .await;
        assert_eq!(resp.body, json!({ "status": true }));
        let change = mail_of(&srv, "thief@example.com", EmailKind::ChangeEmail, 1).await;

        // The owner resets the password.
        let reset = srv.reset_token("ada@example.com", 2).await;
        let resp = srv
            .post("/api/auth/reset-password")
            .json(json!({ "token": reset, "newPassword": "a brand new passphrase" }))
            .send()
            .await;
        assert_eq!(resp.body, json!({ "status": true }), "{}", resp.body);

        // The thief's pending change is dead, and so is the old verification link.
        for link in [&change.url, &verification.url] {
            let resp = srv.get(&local(link)).send().await;
            assert_eq!(
                (resp.status, resp.code()),
                (400, "INVALID_TOKEN"),
                "{link}: {}",
                resp.body
            );
        }
        let owner = srv
            .sign_in("ada@example.com", "a brand new passphrase")
            .await;
        assert_eq!(owner.status, 200, "{}", owner.body);
        assert_eq!(owner.body["user"]["email"], "ada@example.com");

        // A verified address: an approval waiting in the mailbox ends with a
        // password change too.
        let token = owner.auth_token();
        let resp = post(
            &srv,
            "/change-email",
            &token,
            json!({ "newEmail": "ada.new@example.com" }),
        )
        .await;
        assert_eq!(resp.body, json!({ "status": true }));
        let approval = mail_of(&srv, "ada@example.com", EmailKind::ChangeEmailApproval, 1).await;
        let resp = post(
            &srv,
            "/change-password",
            &token,
            json!({ "currentPassword": "a brand new passphrase", "newPassword": "yet another passphrase" }),
        )
        .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        let resp = srv.get(&local(&approval.url)).send().await;
        assert_eq!(
            (resp.status, resp.code()),
            (400, "INVALID_TOKEN"),
            "{}",
            resp.body
        );
        assert_eq!(
            count_mail(&srv, "ada.new@example.com", EmailKind::ChangeEmail),
            0
        );
    }
);

// ---------------------------------------------------------------- S55

/// `name=value` of the device cookie a response sets.
fn device_cookie(resp: &Resp) -> String {
    resp.set_cookies()
        .into_iter()
        .find(|c| c.contains(".device="))
        .unwrap_or_else(|| panic!("a device cookie: {:?}", resp.set_cookies()))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn sign_in_with(srv: &TestServer, cookie: &str, password: &str) -> Resp {
    srv.post("/api/auth/sign-in/email")
        .cookie(cookie)
        .json(json!({ "email": "ada@example.com", "password": password }))
        .send()
        .await
}

all_backends!(
    s55_a_known_browser_is_not_held_back_by_strangers_failures,
    with_db,
    |db: TestDb| async move {
        let (srv, _clock) = server(&db, |c| c).await;
        srv.user("ada@example.com").await;
        srv.user("bob@example.com").await;
        let owner = srv.sign_in("ada@example.com", PASSWORD).await;
        assert_eq!(owner.status, 200);
        let line = owner
            .set_cookies()
            .into_iter()
            .find(|c| c.contains(".device="))
            .expect("a device cookie");
        assert!(line.starts_with("better-auth.device="), "{line}");
        assert!(line.contains("HttpOnly"), "{line}");
        assert!(line.contains("Path=/"), "{line}");
        assert!(!line.contains("ada"), "the cookie names no address: {line}");
        let device = device_cookie(&owner);
        let bob_device = device_cookie(&srv.sign_in("bob@example.com", PASSWORD).await);

        // Strangers guess (the clock stands still: the delay never runs out).
        for _ in 0..5 {
            assert_eq!(
                srv.sign_in("ada@example.com", "wrong password!")
                    .await
                    .status,
                401
            );
        }
        // S30 holds for every client without a history with the account...
        let resp = srv.sign_in("ada@example.com", PASSWORD).await;
        assert_eq!(resp.status, 429, "{}", resp.body);
        // ...and for cookies that are forged or belong to another account.
        let (name, value) = device.split_once('=').unwrap();
        let first = if value.starts_with('A') { "B" } else { "A" };
        let forged = format!("{name}={first}{}", &value[1..]);
        let other = format!("{name}={}", bob_device.split_once('=').unwrap().1);
        for cookie in [forged.as_str(), other.as_str()] {
            let resp = sign_in_with(&srv, cookie, PASSWORD).await;
            assert_eq!(resp.status, 429, "{cookie}: {}", resp.body);
        }
        // The owner's browser signs in.
        let resp = sign_in_with(&srv, &device, PASSWORD).await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        // Its own failures still count, for it alone.
        let device = device_cookie(&resp);
        for _ in 0..5 {
            assert_eq!(
                sign_in_with(&srv, &device, "wrong password!").await.status,
                401
            );
        }
        assert_eq!(sign_in_with(&srv, &device, PASSWORD).await.status, 429);
    }
);

all_backends!(
    s55_the_device_cookie_is_secure_on_https,
    with_db,
    |db: TestDb| async move {
        let (srv, _clock) = server(&db, |c| c.base_url("https://app.example.com")).await;
        srv.user("ada@example.com").await;
        let resp = srv.sign_in("ada@example.com", PASSWORD).await;
        let line = resp
            .set_cookies()
            .into_iter()
            .find(|c| c.contains(".device="))
            .expect("a device cookie");
        assert!(line.starts_with("__Secure-better-auth.device="), "{line}");
        assert!(line.contains("Secure"), "{line}");
        assert!(line.contains("HttpOnly"), "{line}");
    }
);

// ---------------------------------------------------------------- S61

async fn timed_sign_up(srv: &TestServer, email: &str, password: &str) -> (Resp, Duration) {
    let started = Instant::now();
    let resp = srv
        .post("/api/auth/sign-up/email")
        .json(json!({ "name": "Mallory", "email": email, "password": password }))
        .send()
        .await;
    (resp, started.elapsed())
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

all_backends!(
    s61_sign_up_does_not_tell_registered_emails_when_verification_is_required,
    with_db,
    |db: TestDb| async move {
        let mut setup = Setup::new();
        setup.email_password =
            better_auth::plugins::EmailPasswordPlugin::new().require_email_verification(true);
        let srv = TestServer::start_with(&db, setup).await;
        let owner = srv.sign_up("ada@example.com").await;
        assert_eq!(owner.status, 200);
        let owner_id = owner.body["user"]["id"].clone();

        let mut new_times = Vec::new();
        let mut taken_times = Vec::new();
        for i in 0..3 {
            let (new, new_time) =
                timed_sign_up(&srv, &format!("new{i}@example.com"), "another passphrase").await;
            let (taken, taken_time) =
                timed_sign_up(&srv, "ADA@example.com", "another passphrase").await;
            new_times.push(new_time);
            taken_times.push(taken_time);
            assert_eq!(new.status, 200, "{}", new.body);
            assert_eq!(taken.status, 200, "{}", taken.body);
            assert_eq!(keys(&taken.body), keys(&new.body));
            assert_eq!(keys(&taken.body["user"]), keys(&new.body["user"]));
            assert_eq!(taken.body["token"], Value::Null);
            assert_eq!(taken.body["user"]["email"], "ada@example.com");
            assert_eq!(taken.body["user"]["emailVerified"], false);
            assert_eq!(taken.body["user"]["name"], "Mallory");
            assert_ne!(taken.body["user"]["id"], owner_id);
            assert!(taken.set_cookies().is_empty(), "{:?}", taken.set_cookies());
        }
        // The password is hashed all the same: no quick answer for a taken address.
        new_times.sort();
        taken_times.sort();
        assert!(
            taken_times[1] * 3 >= new_times[1],
            "registered {taken_times:?}, new {new_times:?}"
        );
        // The owner hears of it; the account did not change.
        mail_of(&srv, "ada@example.com", EmailKind::SignUpAttempt, 3).await;
        assert_eq!(
            better_auth::store::users::list(srv.auth.database())
                .await
                .unwrap()
                .len(),
            4
        );
        let resp = srv.sign_in("ada@example.com", "another passphrase").await;
        assert_eq!(resp.status, 401, "{}", resp.body);

        // Without required verification, Better Auth's 422 stands (the
        // documented trade-off): sign-up signs in at once, so it cannot
        // pretend.
        let plain = TestServer::start_with(&db, Setup::new()).await;
        let resp = plain.sign_up("ada@example.com").await;
        assert_eq!(
            (resp.status, resp.code()),
            (422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL")
        );
    }
);
