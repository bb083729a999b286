//! Password, account and email flows, followed through the emails
//! the server sends (captured in memory) and their links.

use std::time::Duration;

use better_auth::plugins::EmailPasswordPlugin;
use better_auth_test_support::all_backends;
use serde_json::{Value, json};

use crate::common::*;

/// The path and query of an emailed link, to request on the test server.
fn local(url: &str) -> String {
    let rest = url
        .strip_prefix(ORIGIN)
        .expect("links use the configured base URL");
    rest.to_owned()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8()
                .unwrap()
                .into_owned()
        })
    })
}

async fn request_reset(srv: &TestServer, email: &str) -> Resp {
    srv.post("/api/auth/request-password-reset")
        .json(json!({ "email": email, "redirectTo": "/reset" }))
        .send()
        .await
}

/// Requests a reset, follows the emailed link and returns the token the app page receives.
async fn reset_token(srv: &TestServer, email: &str, nth: usize) -> String {
    assert_eq!(request_reset(srv, email).await.status, 200);
    let mail = srv.outbox.wait_for(email, nth).await.expect("reset email");
    assert_eq!(mail.subject, "Reset your password");
    assert!(mail.text.contains(&mail.url) && mail.html.contains("reset-password"));
    let resp = srv.get(&local(&mail.url)).send().await;
    assert_eq!(resp.status, 302);
    let location = resp.header("location").unwrap().to_owned();
    assert!(location.starts_with("/reset?token="), "{location}");
    query_param(&location, "token").unwrap()
}

all_backends!(
    password_reset_end_to_end_through_the_emailed_link,
    with_server,
    |srv: TestServer| async move {
        let first = srv.user("ada@example.com").await;
        let second = srv.sign_in("ada@example.com", PASSWORD).await.auth_token();
        let token = reset_token(&srv, "ada@example.com", 1).await;
        let resp = srv
            .post("/api/auth/reset-password")
            .json(json!({ "newPassword": "a whole new password", "token": token }))
            .send()
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.body, json!({ "status": true }));
        assert!(
            resp.set_cookies().is_empty(),
            "reset does not sign in (S14)"
        );
        assert_eq!(srv.sign_in("ada@example.com", PASSWORD).await.status, 401);
        assert_eq!(
            srv.sign_in("ada@example.com", "a whole new password")
                .await
                .status,
            200
        );
        for old in [&first, &second] {
            assert_eq!(
                srv.get("/api/me").bearer(old).send().await.status,
                401,
                "S14: sessions end"
            );
        }
        // Single use.
        let again = srv
            .post("/api/auth/reset-password")
            .json(json!({ "newPassword": "yet another password", "token": token }))
            .send()
            .await;
        assert_eq!((again.status, again.code()), (400, "INVALID_TOKEN"));
    }
);

all_backends!(
    forget_password_is_the_older_name,
    with_server,
    |srv: TestServer| async move {
        srv.user("ada@example.com").await;
        let resp = srv
            .post("/api/auth/forget-password")
            .json(json!({ "email": "ada@example.com" }))
            .send()
            .await;
        assert_eq!(resp.status, 200);
        let mail = srv.outbox.wait_for("ada@example.com", 1).await.unwrap();
        assert!(mail.url.contains("/api/auth/reset-password/"));
    }
);

all_backends!(
    s08_reset_requests_answer_the_same_for_unknown_emails,
    with_server,
    |srv: TestServer| async move {
        srv.user("ada@example.com").await;
        let known = request_reset(&srv, "ada@example.com").await;
        let unknown = request_reset(&srv, "nobody@example.com").await;
        assert_eq!(known.status, unknown.status);
        assert_eq!(known.body, unknown.body);
        assert_eq!(known.body["status"], true);
        assert!(srv.outbox.wait_for("ada@example.com", 1).await.is_some());
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            srv.outbox
                .messages()
                .iter()
                .all(|m| m.to != "nobody@example.com")
        );
    }
);

all_backends!(
    reset_link_with_a_bad_token_redirects_with_an_error,
    with_server,
    |srv: TestServer| async move {
        let resp = srv
            .get("/api/auth/reset-password/not-a-token?callbackURL=%2Freset")
            .send()
            .await;
        assert_eq!(resp.status, 302);
        assert_eq!(resp.header("location"), Some("/reset?error=INVALID_TOKEN"));
        let resp = srv
            .post("/api/auth/reset-password")
            .json(json!({ "newPassword": "a whole new password", "token": "forged" }))
            .send()
            .await;
        assert_eq!((resp.status, resp.code()), (400, "INVALID_TOKEN"));
    }
);

/// S21: reset tokens are 256-bit, single use (above), stored only as digests,
/// expire after an hour, and links come from the configured base URL.
#[tokio::test]
async fn s21_reset_and_verification_tokens() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::open(backend).await else {
            continue;
        };
        let (srv, clock) = TestServer::start_with_clock(&db).await;
        srv.user("ada@example.com").await;
        // A forged Host header does not leak into the link.
        srv.post("/api/auth/request-password-reset")
            .header("host", "evil.example")
            .header("x-forwarded-host", "evil.example")
            .json(json!({ "email": "ada@example.com" }))
            .send()
            .await;
        let mail = srv.outbox.wait_for("ada@example.com", 1).await.unwrap();
        assert!(
            mail.url
                .starts_with("http://localhost:3000/api/auth/reset-password/"),
            "{}",
            mail.url
        );
        let token = mail
            .url
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&token)
            .unwrap();
        assert!(bytes.len() >= 32);
        // Stored hashed: the raw token appears nowhere in the verification table.
        let stored: Vec<(String, String)> = match backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
                sqlx::query_as(r#"SELECT "identifier", "value" FROM "verification""#)
                    .fetch_all(&pool)
                    .await
                    .unwrap()
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
                sqlx::query_as(r#"SELECT "identifier", "value" FROM "verification""#)
                    .fetch_all(&pool)
                    .await
                    .unwrap()
            }
            Backend::MySql => unreachable!("this test runs on SQLite and PostgreSQL"),
        };
        assert_eq!(stored.len(), 1);
        assert!(!stored[0].0.contains(&token) && !stored[0].1.contains(&token));
        assert!(
            stored[0]
                .0
                .contains(&better_auth::crypto::token_digest(&token))
        );
        // Expired after an hour.
        clock.advance(Duration::from_secs(3601));
        let resp = srv
            .post("/api/auth/reset-password")
            .json(json!({ "newPassword": "a whole new password", "token": token }))
            .send()
            .await;
        assert_eq!(resp.code(), "INVALID_TOKEN");
        db.drop_schema().await;
    }
}

all_backends!(
    s22_redirect_targets_must_be_relative_or_trusted,
    with_server,
    |srv: TestServer| async move {
        srv.user("ada@example.com").await;
        for bad in [
            "https://evil.example/x",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
        ] {
            let resp = srv
                .post("/api/auth/request-password-reset")
                .json(json!({ "email": "ada@example.com", "redirectTo": bad }))
                .send()
                .await;
            assert_eq!(
                (resp.status, resp.code()),
                (403, "INVALID_CALLBACKURL"),
                "{bad}"
            );
            let resp = srv
                .post("/api/auth/sign-in/email")
                .json(
                    json!({ "email": "ada@example.com", "password": PASSWORD, "callbackURL": bad }),
                )
                .send()
                .await;
            assert_eq!(resp.status, 403, "{bad}");
            let link = format!(
                "/api/auth/reset-password/x?callbackURL={}",
                percent_encoding::utf8_percent_encode(bad, percent_encoding::NON_ALPHANUMERIC)
            );
            assert_eq!(srv.get(&link).send().await.status, 403, "{bad}");
        }
        for good in ["/reset", "http://localhost:3000/reset"] {
            let resp = srv
                .post("/api/auth/request-password-reset")
                .json(json!({ "email": "ada@example.com", "redirectTo": good }))
                .send()
                .await;
            assert_eq!(resp.status, 200, "{good}");
        }
    }
);

all_backends!(
    s05_change_password_requires_the_current_password,
    with_server,
    |srv: TestServer| async move {
        let token = srv.user("ada@example.com").await;
        let missing = srv
            .post("/api/auth/change-password")
            .bearer(&token)
            .json(json!({ "newPassword": "a whole new password" }))
            .send()
            .await;
        assert_eq!((missing.status, missing.code()), (400, "VALIDATION_ERROR"));
        let wrong = srv
        .post("/api/auth/change-password")
        .bearer(&token)
        .json(json!({ "newPassword": "a whole new password", "currentPassword": "not my password" }))
        .send()
        .await;
        assert_eq!((wrong.status, wrong.code()), (400, "INVALID_PASSWORD"));
        assert_eq!(
            srv.sign_in("ada@example.com", PASSWORD).await.status,
            200,
            "unchanged"
        );
    }
);

all_backends!(
    s14_change_password_with_revoke_other_sessions,
    with_server,
    |srv: TestServer| async move {
        let first = srv.user("ada@example.com").await;
        let second = srv.sign_in("ada@example.com", PASSWORD).await.auth_token();
        let resp = srv
        .post("/api/auth/change-password")
        .bearer(&first)
        .json(json!({ "newPassword": "a whole new password", "currentPassword": PASSWORD, "revokeOtherSessions": true }))
        .send()
        .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        let fresh = resp.auth_token();
        assert!(resp.body["token"].is_string());
        assert_eq!(srv.get("/api/me").bearer(&second).send().await.status, 401);
        assert_eq!(srv.get("/api/me").bearer(&first).send().await.status, 401);
        assert_eq!(srv.get("/api/me").bearer(&fresh).send().await.status, 200);
        // Without the flag, other sessions live on and no new token is issued.
        let other = srv
            .sign_in("ada@example.com", "a whole new password")
            .await
            .auth_token();
        let resp = srv
        .post("/api/auth/change-password")
        .bearer(&fresh)
        .json(json!({ "newPassword": "third password here", "currentPassword": "a whole new password" }))
        .send()
        .await;
        assert_eq!(resp.body["token"], Value::Null);
        assert_eq!(srv.get("/api/me").bearer(&other).send().await.status, 200);
    }
);

all_backends!(
    s18_update_user_accepts_only_name_and_image,
    with_server,
    |srv: TestServer| async move {
        let token = srv.user("ada@example.com").await;
        for body in [
            json!({ "email": "mallory@example.com" }),
            json!({ "password": "new password 123" }),
            json!({ "role": "admin" }),
            json!({ "emailVerified": true }),
            json!({ "id": "other" }),
            json!({ "name": "Ada", "surprise": 1 }),
        ] {
            let resp = srv
                .post("/api/auth/update-user")
                .bearer(&token)
                .json(body.clone())
                .send()
                .await;
            assert_eq!(resp.status, 400, "{body}");
        }
        let me = srv.get("/api/auth/get-session").bearer(&token).send().await;
        assert_eq!(me.body["user"]["email"], "ada@example.com");
        assert_eq!(me.body["user"]["emailVerified"], false);
        let resp = srv
            .post("/api/auth/update-user")
            .bearer(&token)
            .json(json!({ "image": null }))
            .send()
            .await;
        assert_eq!(resp.status, 200);
    }
);

all_backends!(
    s19_change_email_keeps_the_old_address_until_confirmed,
    with_server,
    |srv: TestServer| async move {
        let token = srv.user("ada@example.com").await;
        srv.user("taken@example.com").await;
        let taken = srv
            .post("/api/auth/change-email")
            .bearer(&token)
            .json(json!({ "newEmail": "taken@example.com" }))
            .send()
            .await;
        assert_eq!(taken.status, 422);
        let resp = srv
            .post("/api/auth/change-email")
            .bearer(&token)
            .json(json!({ "newEmail": "Ada.New@Example.com" }))
            .send()
            .await;
        assert_eq!(resp.body, json!({ "status": true }));
        let me = srv.get("/api/auth/get-session").bearer(&token).send().await;
        assert_eq!(
            me.body["user"]["email"], "ada@example.com",
            "old address until confirmed"
        );
        assert_eq!(srv.sign_in("ada@example.com", PASSWORD).await.status, 200);
        let mail = srv
            .outbox
            .wait_for("ada.new@example.com", 1)
            .await
            .expect("sent to the new address");
        assert!(
            srv.outbox
                .messages()
                .iter()
                .all(|m| m.to != "ada@example.com")
        );
        let resp = srv.get(&local(&mail.url)).send().await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.body["user"]["email"], "ada.new@example.com");
        assert_eq!(resp.body["user"]["emailVerified"], true);
        assert_eq!(
            srv.sign_in("ada.new@example.com", PASSWORD).await.status,
            200
        );
        assert_eq!(srv.sign_in("ada@example.com", PASSWORD).await.status, 401);
        // The link works once.
        let again = srv.get(&local(&mail.url)).send().await;
        assert_eq!((again.status, again.code()), (400, "INVALID_TOKEN"));
    }
);

/// S20: delete-user needs the password or a session younger than a day.
#[tokio::test]
async fn s20_delete_user_requires_password_or_fresh_session() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::open(backend).await else {
            continue;
        };
        let (srv, clock) = TestServer::start_with_clock(&db).await;
        let token = srv.user("ada@example.com").await;
        let other = srv.sign_in("ada@example.com", PASSWORD).await.auth_token();
        clock.advance(Duration::from_secs(2 * 24 * 3600));
        let stale = srv
            .post("/api/auth/delete-user")
            .bearer(&token)
            .json(json!({}))
            .send()
            .await;
        assert_eq!((stale.status, stale.code()), (403, "SESSION_NOT_FRESH"));
        let wrong = srv
            .post("/api/auth/delete-user")
            .bearer(&token)
            .json(json!({ "password": "not my password" }))
            .send()
            .await;
        assert_eq!((wrong.status, wrong.code()), (400, "INVALID_PASSWORD"));
        assert_eq!(
            srv.get("/api/me").bearer(&token).send().await.status,
            200,
            "still there"
        );
        let resp = srv
            .post("/api/auth/delete-user")
            .bearer(&token)
            .json(json!({ "password": PASSWORD }))
            .send()
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.body["success"], true);
        for t in [&token, &other] {
            assert_eq!(
                srv.get("/api/me").bearer(t).send().await.status,
                401,
                "S14: sessions end"
            );
        }
        assert_eq!(srv.sign_in("ada@example.com", PASSWORD).await.status, 401);
        // A fresh session alone is enough.
        let fresh = srv.user("bob@example.com").await;
        let resp = srv
            .post("/api/auth/delete-user")
            .bearer(&fresh)
            .json(json!({}))
            .send()
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        db.drop_schema().await;
    }
}

all_backends!(
    send_verification_email_and_verify,
    with_server,
    |srv: TestServer| async move {
        let token = srv.user("ada@example.com").await;
        let resp = srv
            .post("/api/auth/send-verification-email")
            .json(json!({ "email": "ada@example.com", "callbackURL": "/welcome" }))
            .send()
            .await;
        assert_eq!(resp.body, json!({ "status": true }));
        let unknown = srv
            .post("/api/auth/send-verification-email")
            .json(json!({ "email": "nobody@example.com" }))
            .send()
            .await;
        assert_eq!(unknown.body, resp.body, "same answer for unknown addresses");
        let mail = srv.outbox.wait_for("ada@example.com", 1).await.unwrap();
        assert_eq!(mail.subject, "Verify your email address");
        let resp = srv.get(&local(&mail.url)).send().await;
        assert_eq!(resp.status, 302);
        assert_eq!(resp.header("location"), Some("/welcome"));
        let me = srv.get("/api/auth/get-session").bearer(&token).send().await;
        assert_eq!(me.body["user"]["emailVerified"], true);
        let again = srv.get(&local(&mail.url)).send().await;
        assert_eq!(
            again.header("location"),
            Some("/welcome?error=INVALID_TOKEN")
        );
    }
);

#[tokio::test]
async fn require_email_verification_blocks_sign_in_until_verified() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::open(backend).await else {
            continue;
        };
        let mut setup = Setup::new();
        setup.email_password = EmailPasswordPlugin::new().require_email_verification(true);
        let srv = TestServer::start_with(&db, setup).await;
        let resp = srv.sign_up("ada@example.com").await;
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.body["token"],
            Value::Null,
            "no session before verification"
        );
        assert!(resp.set_cookies().is_empty());
        let mail = srv
            .outbox
            .wait_for("ada@example.com", 1)
            .await
            .expect("sent on sign-up");
        let blocked = srv.sign_in("ada@example.com", PASSWORD).await;
        assert_eq!(
            (blocked.status, blocked.code()),
            (403, "EMAIL_NOT_VERIFIED")
        );
        assert!(
            srv.outbox.wait_for("ada@example.com", 2).await.is_some(),
            "resent on sign-in"
        );
        assert_eq!(srv.get(&local(&mail.url)).send().await.status, 200);
        assert_eq!(srv.sign_in("ada@example.com", PASSWORD).await.status, 200);
        db.drop_schema().await;
    }
}

all_backends!(
    unlink_account_never_removes_the_last_way_in,
    with_server,
    |srv: TestServer| async move {
        let token = srv.user("ada@example.com").await;
        let resp = srv
            .post("/api/auth/unlink-account")
            .bearer(&token)
            .json(json!({ "providerId": "credential" }))
            .send()
            .await;
        assert_eq!(
            (resp.status, resp.code()),
            (403, "FAILED_TO_UNLINK_LAST_ACCOUNT")
        );
        let resp = srv
            .post("/api/auth/unlink-account")
            .bearer(&token)
            .json(json!({ "providerId": "github" }))
            .send()
            .await;
        assert_eq!(resp.status, 400);
        assert_eq!(srv.sign_in("ada@example.com", PASSWORD).await.status, 200);
        let accounts = srv
            .get("/api/auth/list-accounts")
            .bearer(&token)
            .send()
            .await;
        assert_eq!(accounts.body.as_array().unwrap().len(), 1);
    }
);

all_backends!(
    revoked_sessions_really_stop_working,
    with_server,
    |srv: TestServer| async move {
        let first = srv.user("ada@example.com").await;
        let second = srv.sign_in("ada@example.com", PASSWORD).await.auth_token();
        srv.post("/api/auth/revoke-sessions")
            .bearer(&first)
            .json(json!({}))
            .send()
            .await;
        for token in [&first, &second] {
            for path in [
                "/api/me",
                "/api/auth/list-sessions",
                "/api/auth/list-accounts",
            ] {
                assert_eq!(
                    srv.get(path).bearer(token).send().await.status,
                    401,
                    "{path}"
                );
            }
            let resp = srv
                .post("/api/auth/change-password")
                .bearer(token)
                .json(json!({ "newPassword": "a whole new password", "currentPassword": PASSWORD }))
                .send()
                .await;
            assert_eq!(resp.status, 401);
        }
    }
);

/// `axum_routes()` merged into the app's router serves the same API at the
/// configured base path as `nest`: sign-up, sessions (bearer and cookie, on
/// auth and app routes), sign-out, and an emailed link with a path parameter.
#[tokio::test]
async fn routes_merged_at_the_base_path_work_like_nested_ones() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let mut setup = Setup::new();
    setup.merge_routes = true;
    let srv = TestServer::start_with(&db, setup).await;
    let signup = srv.sign_up("ada@example.com").await;
    assert_eq!(signup.status, 200, "{}", signup.body);
    let token = signup.auth_token();
    let cookie = signup.session_cookie();
    for resp in [
        srv.get("/api/auth/get-session").bearer(&token).send().await,
        srv.get("/api/auth/get-session")
            .header("cookie", &cookie)
            .send()
            .await,
    ] {
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body["user"]["email"], "ada@example.com");
    }
    assert_eq!(srv.get("/api/me").bearer(&token).send().await.status, 200);
    // The emailed link (built from the base path) reaches the merged route.
    let reset = reset_token(&srv, "ada@example.com", 1).await;
    assert!(!reset.is_empty());
    // Nothing is mounted anywhere else.
    assert_eq!(
        srv.get("/get-session").bearer(&token).send().await.status,
        404
    );
    assert_eq!(
        srv.get("/auth/get-session")
            .bearer(&token)
            .send()
            .await
            .status,
        404
    );
    let out = srv
        .post("/api/auth/sign-out")
        .bearer(&token)
        .json(json!({}))
        .send()
        .await;
    assert_eq!(out.status, 200);
    let resp = srv.get("/api/auth/get-session").bearer(&token).send().await;
    assert_eq!(resp.body, Value::Null);
}
