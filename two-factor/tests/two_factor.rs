//! Two-factor authentication through HTTP, on SQLite, PostgreSQL and MySQL: the
//! sign-in challenge, the codes, the lockout, the trusted device, and the
//! security requirements S63–S68 by name.

mod common;

use std::time::Duration;

use better_auth::store::{PoolRef, Text, with_pool};
use better_auth_test_support::{Backend, all_backends};
use common::{App, Browser, PASSWORD, TestServer, server, sign_in, user_with_two_factor};
use serde_json::{Value, json};

async fn on_server<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(server) = server(backend).await {
        body(server).await;
    }
}

// S63: a password alone gives a user with two-factor on no session: sign-in
// answers the challenge (no token, no session cookie); the second factor makes
// the session, once.
all_backends!(
    s63_password_alone_gives_no_session,
    on_server,
    |server: TestServer| async move {
        let (mut browser, app, _) = user_with_two_factor(&server, "s63@example.com").await;
        let challenge = sign_in(&mut browser, "s63@example.com").await;
        assert_eq!(challenge.status, 200, "{challenge:?}");
        assert_eq!(
            challenge.body,
            json!({ "twoFactorRedirect": true, "twoFactorMethods": ["totp"] })
        );
        assert_eq!(challenge.auth_token, None);
        assert!(!challenge.cookies.contains_key("better-auth.session_token"));
        let challenge_cookie = browser.jar["better-auth.two_factor"].clone();
        assert_eq!(browser.get("/get-session").await.body, Value::Null);

        let done = browser
            .post(
                "/two-factor/verify-totp",
                json!({ "code": app.code(&server, 0) }),
            )
            .await;
        assert_eq!(done.status, 200, "{done:?}");
        assert_eq!(done.body["user"]["email"], "s63@example.com");
        assert!(done.auth_token.is_some());
        assert_eq!(done.cookies["better-auth.two_factor"], "");
        assert_eq!(
            browser.get("/get-session").await.body["user"]["email"],
            "s63@example.com"
        );

        // The same challenge again (replayed), with a valid new code: refused.
        let mut replay = Browser::new(&server.base);
        replay
            .jar
            .insert("better-auth.two_factor".into(), challenge_cookie);
        server.clock.advance(Duration::from_secs(30));
        let again = replay
            .post(
                "/two-factor/verify-totp",
                json!({ "code": app.code(&server, 0) }),
            )
            .await;
        assert_eq!(again.status, 401, "{again:?}");
        assert_eq!(again.body["code"], "INVALID_TWO_FACTOR_COOKIE");

        // A challenge expires after ten minutes.
        browser.sign_out().await;
        sign_in(&mut browser, "s63@example.com").await;
        server.clock.advance(Duration::from_secs(11 * 60));
        let late = browser
            .post(
                "/two-factor/verify-totp",
                json!({ "code": app.code(&server, 0) }),
            )
            .await;
        assert_eq!(late.status, 401, "{late:?}");
        assert_eq!(late.body["code"], "INVALID_TWO_FACTOR_COOKIE");

        // No challenge at all.
        let none = Browser::new(&server.base)
            .post("/two-factor/verify-totp", json!({ "code": "123456" }))
            .await;
        assert_eq!(none.status, 401);
    }
);

/// The stored `twoFactor` row's secret and backup codes, as text.
async fn stored(server: &TestServer) -> (String, String) {
    let sql = r#"SELECT "secret", "backupCodes" FROM "twoFactor""#;
    let db = &server.database;
    let row = async {
        let (secret, codes): (Text, Text) =
            with_pool!(db, |pool| sqlx::query_as(sql).fetch_one(pool).await?);
        Ok::<_, better_auth::Error>((secret.0, codes.0))
    };
    row.await.unwrap()
}

// S64: the authenticator secret is stored encrypted and the backup codes as
// digests: a copy of the database gives neither.
all_backends!(
    s64_secrets_are_sealed_at_rest,
    on_server,
    |server: TestServer| async move {
        let mut browser = Browser::new(&server.base);
        browser
            .post(
                "/sign-up/email",
                json!({ "name": "Ada", "email": "s64@example.com", "password": PASSWORD }),
            )
            .await;
        let enabled = browser
            .post("/two-factor/enable", json!({ "password": PASSWORD }))
            .await;
        let uri = enabled.body["totpURI"].as_str().unwrap();
        let secret = url::Url::parse(uri)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "secret")
            .unwrap()
            .1
            .into_owned();
        let (sealed, codes) = stored(&server).await;
        assert!(
            !sealed.contains(&secret),
            "the secret is stored in the clear"
        );
        assert!(sealed.len() > 40, "{sealed}");
        for code in enabled.body["backupCodes"].as_array().unwrap() {
            let code = code.as_str().unwrap();
            assert!(
                !codes.contains(code),
                "backup code {code} stored in the clear"
            );
            assert!(!codes.contains(&code.replace('-', "")));
        }
        // And what is stored still works: the app's code turns two-factor on.
        let app = App::from_uri(uri);
        let verified = browser
            .post(
                "/two-factor/verify-totp",
                json!({ "code": app.code(&server, 0) }),
            )
            .await;
        assert_eq!(verified.status, 200, "{verified:?}");
    }
);

// S65: every code counts once: an authenticator code (within its 30 s step)
// and a backup code, even when two sign-ins present it.
all_backends!(
    s65_codes_are_single_use,
    on_server,
    |server: TestServer| async move {
        let (mut first, app, backup) = user_with_two_factor(&server, "s65@example.com").await;
        let mut second = Browser::new(&server.base);
        sign_in(&mut first, "s65@example.com").await;
        sign_in(&mut second, "s65@example.com").await;
        let code = app.code(&server, 0);
        let used = first
            .post("/two-factor/verify-totp", json!({ "code": code }))
            .await;
        assert_eq!(used.status, 200, "{used:?}");
        let replayed = second
            .post("/two-factor/verify-totp", json!({ "code": code }))
            .await;
        assert_eq!(replayed.status, 401, "{replayed:?}");
        assert_eq!(replayed.body["code"], "INVALID_CODE");
        // An older code (the step before the one used) is refused as well.
        let older = second
            .post(
                "/two-factor/verify-totp",
                json!({ "code": app.code(&server, -1) }),
            )
            .await;
        assert_eq!(older.status, 401, "{older:?}");

        let used = second
            .post(
                "/two-factor/verify-backup-code",
                json!({ "code": backup[0] }),
            )
            .await;
        assert_eq!(used.status, 200, "{used:?}");
        let mut third = Browser::new(&server.base);
        sign_in(&mut third, "s65@example.com").await;
        let replayed = third
            .post(
                "/two-factor/verify-backup-code",
                json!({ "code": backup[0] }),
            )
            .await;
        assert_eq!(replayed.status, 401, "{replayed:?}");
        assert_eq!(replayed.body["code"], "INVALID_BACKUP_CODE");
        let other = third
            .post(
                "/two-factor/verify-backup-code",
                json!({ "code": backup[1] }),
            )
            .await;
        assert_eq!(other.status, 200, "{other:?}");
    }
);

// S66: ten wrong codes lock the account's second factor for fifteen minutes
// (even the right code is refused meanwhile); a success resets the count.
all_backends!(
    s66_wrong_codes_lock_the_second_factor,
    on_server,
    |server: TestServer| async move {
        let (mut browser, app, _) = user_with_two_factor(&server, "s66@example.com").await;
        sign_in(&mut browser, "s66@example.com").await;
        let right = app.code(&server, 0);
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        for attempt in 1..=10 {
            let answer = browser
                .post("/two-factor/verify-totp", json!({ "code": wrong }))
                .await;
            assert_eq!(answer.status, 401, "attempt {attempt}: {answer:?}");
        }
        let locked = browser
            .post("/two-factor/verify-totp", json!({ "code": right }))
            .await;
        assert_eq!(locked.status, 429, "{locked:?}");
        assert_eq!(locked.body["code"], "ACCOUNT_TEMPORARILY_LOCKED");
        // Backup codes are the same second factor: locked too.
        server.clock.advance(Duration::from_secs(16 * 60));
        sign_in(&mut browser, "s66@example.com").await;
        let unlocked = browser
            .post(
                "/two-factor/verify-totp",
                json!({ "code": app.code(&server, 0) }),
            )
            .await;
        assert_eq!(unlocked.status, 200, "{unlocked:?}");
    }
);

// S66: the plugin's routes carry a rate limit of three requests per ten
// seconds per client, as Better Auth's do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s66_routes_are_rate_limited() {
    let server = common::server_with(
        Backend::Sqlite,
        better_auth::rate_limit::RateLimitConfig::default(),
        common::plugin(),
    )
    .await
    .unwrap();
    let mut browser = Browser::new(&server.base);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            browser
                .post("/two-factor/verify-totp", json!({ "code": "123456" }))
                .await
                .status,
        );
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
}

// S67: turning two-factor on or off, reading the URI again and replacing the
// backup codes each need the password.
all_backends!(
    s67_changes_need_the_password,
    on_server,
    |server: TestServer| async move {
        let mut browser = Browser::new(&server.base);
        browser
            .post(
                "/sign-up/email",
                json!({ "name": "Ada", "email": "s67@example.com", "password": PASSWORD }),
            )
            .await;
        for body in [json!({}), json!({ "password": "not the password at all" })] {
            let answer = browser.post("/two-factor/enable", body.clone()).await;
            assert_eq!(answer.status, 400, "{answer:?}");
            assert_eq!(answer.body["code"], "INVALID_PASSWORD");
        }
        let enabled = browser
            .post("/two-factor/enable", json!({ "password": PASSWORD }))
            .await;
        let app = App::from_uri(enabled.body["totpURI"].as_str().unwrap());
        browser
            .post(
                "/two-factor/verify-totp",
                json!({ "code": app.code(&server, 0) }),
            )
            .await;
        for path in [
            "/two-factor/disable",
            "/two-factor/get-totp-uri",
            "/two-factor/generate-backup-codes",
        ] {
            let answer = browser
                .post(path, json!({ "password": "not the password at all" }))
                .await;
            assert_eq!(answer.status, 400, "{path}: {answer:?}");
            assert_eq!(answer.body["code"], "INVALID_PASSWORD", "{path}");
        }
        // Without a session: 401 on every one.
        let mut stranger = Browser::new(&server.base);
        for path in ["/two-factor/enable", "/two-factor/disable"] {
            let answer = stranger.post(path, json!({ "password": PASSWORD })).await;
            assert_eq!(answer.status, 401, "{path}: {answer:?}");
        }
        // Still on: the failed attempts changed nothing.
        browser.sign_out().await;
        let challenge = sign_in(&mut browser, "s67@example.com").await;
        assert_eq!(challenge.body["twoFactorRedirect"], true);
    }
);

// S68: a trusted device skips the second factor for its own user only, for
// 30 days; a forged cookie, another user, or turning two-factor off ends it.
all_backends!(
    s68_trusted_devices_are_bound_and_expire,
    on_server,
    |server: TestServer| async move {
        let (mut browser, app, _) = user_with_two_factor(&server, "s68@example.com").await;
        user_with_two_factor(&server, "s68-other@example.com").await;
        sign_in(&mut browser, "s68@example.com").await;
        let trusted = browser
            .post(
                "/two-factor/verify-totp",
                json!({ "code": app.code(&server, 0), "trustDevice": true }),
            )
            .await;
        assert_eq!(trusted.status, 200, "{trusted:?}");
        let trust_cookie = browser.jar["better-auth.trust_device"].clone();
        browser.sign_out().await;
        let direct = sign_in(&mut browser, "s68@example.com").await;
        assert_eq!(
            direct.body["user"]["email"], "s68@example.com",
            "{direct:?}"
        );
        assert!(direct.auth_token.is_some());
        browser.sign_out().await;

        // The same device, another user: challenged.
        let other = sign_in(&mut browser, "s68-other@example.com").await;
        assert_eq!(other.body["twoFactorRedirect"], true, "{other:?}");

        // A forged cookie: challenged.
        let mut forger = Browser::new(&server.base);
        let (token, _) = trust_cookie.split_once('.').unwrap();
        forger.jar.insert(
            "better-auth.trust_device".into(),
            format!("{token}.forgedsignature"),
        );
        let forged = sign_in(&mut forger, "s68@example.com").await;
        assert_eq!(forged.body["twoFactorRedirect"], true, "{forged:?}");

        // After 30 days: challenged.
        server.clock.advance(Duration::from_secs(31 * 24 * 3600));
        let late = sign_in(&mut browser, "s68@example.com").await;
        assert_eq!(late.body["twoFactorRedirect"], true, "{late:?}");
    }
);

// Turning two-factor off: password sign-in makes a session again, and the
// device the user turned it off from is no longer trusted when it comes back.
all_backends!(
    disable_turns_it_off,
    on_server,
    |server: TestServer| async move {
        let (mut browser, app, _) = user_with_two_factor(&server, "off@example.com").await;
        sign_in(&mut browser, "off@example.com").await;
        browser
            .post(
                "/two-factor/verify-totp",
                json!({ "code": app.code(&server, 0), "trustDevice": true }),
            )
            .await;
        let off = browser
            .post("/two-factor/disable", json!({ "password": PASSWORD }))
            .await;
        assert_eq!(off.status, 200, "{off:?}");
        assert_eq!(off.body, json!({ "status": true }));
        assert!(!browser.jar.contains_key("better-auth.trust_device"));
        browser.sign_out().await;
        let plain = sign_in(&mut browser, "off@example.com").await;
        assert_eq!(plain.body["user"]["email"], "off@example.com", "{plain:?}");
        // Setting it up again starts over: a new secret, verified by a new code.
        let again = browser
            .post("/two-factor/enable", json!({ "password": PASSWORD }))
            .await;
        assert_eq!(again.status, 200, "{again:?}");
        let new_app = App::from_uri(again.body["totpURI"].as_str().unwrap());
        // The old authenticator no longer counts; the new one turns it on.
        server.clock.advance(Duration::from_secs(30));
        let (old, new) = (app.code(&server, 0), new_app.code(&server, 0));
        if old != new {
            let stale = browser
                .post("/two-factor/verify-totp", json!({ "code": old }))
                .await;
            assert_eq!(stale.status, 401, "{stale:?}");
        }
        let fresh = browser
            .post("/two-factor/verify-totp", json!({ "code": new }))
            .await;
        assert_eq!(fresh.status, 200, "{fresh:?}");
    }
);

async fn on_otp_server<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let plugin = common::plugin().otp_by_email(true);
    let limits = better_auth::rate_limit::RateLimitConfig::disabled();
    if let Some(server) = common::server_with(backend, limits, plugin).await {
        body(server).await;
    }
}

/// The stored form of every emailed code, as text.
async fn stored_codes(server: &TestServer) -> Vec<String> {
    let sql = r#"SELECT "codeHash" FROM "twoFactorOtp""#;
    let db = &server.database;
    let codes = async {
        let codes: Vec<Text> =
            with_pool!(db, |pool| sqlx::query_scalar(sql).fetch_all(pool).await?);
        Ok::<_, better_auth::Error>(codes.into_iter().map(String::from).collect())
    };
    codes.await.unwrap()
}

// S69: a code sent by email finishes only the sign-in it was sent for, once,
// within three minutes and five attempts; it is stored as an HMAC, never as
// the code. Turning two-factor on by email needs no authenticator.
all_backends!(
    s69_emailed_codes_are_bound_single_use_and_short_lived,
    on_otp_server,
    |server: TestServer| async move {
        let email = "s69@example.com";
        let mut browser = Browser::new(&server.base);
        browser
            .post(
                "/sign-up/email",
                json!({ "name": "Ada", "email": email, "password": PASSWORD }),
            )
            .await;
        let on = browser
            .post(
                "/two-factor/enable",
                json!({ "password": PASSWORD, "method": "otp" }),
            )
            .await;
        assert_eq!(on.status, 200, "{on:?}");
        assert_eq!(on.body, json!({ "method": "otp" }));
        browser.sign_out().await;

        let challenge = sign_in(&mut browser, email).await;
        assert_eq!(challenge.body["twoFactorMethods"], json!(["otp"]));
        let before = server.sent();
        let sent = browser.post("/two-factor/send-otp", json!({})).await;
        assert_eq!(sent.status, 200, "{sent:?}");
        let code = server.code_after(email, before).await;
        assert!(
            stored_codes(&server)
                .await
                .iter()
                .all(|c| !c.contains(&code)),
            "the code is stored as is"
        );
        // Another pending sign-in of the same user cannot use it.
        let mut other = Browser::new(&server.base);
        sign_in(&mut other, email).await;
        let elsewhere = other
            .post("/two-factor/verify-otp", json!({ "code": code }))
            .await;
        assert_eq!(elsewhere.status, 400, "{elsewhere:?}");
        assert_eq!(elsewhere.body["code"], "OTP_HAS_EXPIRED");
        // Its own: once.
        let done = browser
            .post("/two-factor/verify-otp", json!({ "code": code }))
            .await;
        assert_eq!(done.status, 200, "{done:?}");
        assert_eq!(done.body["user"]["email"], email);
        assert_eq!(
            browser.get("/get-session").await.body["user"]["email"],
            email
        );

        // Five wrong attempts spend a code: the right one is refused after.
        let before = server.sent();
        other.post("/two-factor/send-otp", json!({})).await;
        let code = server.code_after(email, before).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for attempt in 1..=5 {
            let answer = other
                .post("/two-factor/verify-otp", json!({ "code": wrong }))
                .await;
            assert_eq!(answer.status, 401, "attempt {attempt}: {answer:?}");
        }
        let spent = other
            .post("/two-factor/verify-otp", json!({ "code": code }))
            .await;
        assert_eq!(spent.status, 400, "{spent:?}");
        assert_eq!(spent.body["code"], "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE");

        // A new code, three minutes late: expired.
        let before = server.sent();
        other.post("/two-factor/send-otp", json!({})).await;
        let code = server.code_after(email, before).await;
        server.clock.advance(Duration::from_secs(181));
        let late = other
            .post("/two-factor/verify-otp", json!({ "code": code }))
            .await;
        assert_eq!(late.status, 400, "{late:?}");
        assert_eq!(late.body["code"], "OTP_HAS_EXPIRED");
    }
);

// Without `otp_by_email`, the email routes answer as Better Auth does
// without a sender: 400 OTP_NOT_CONFIGURED.
all_backends!(
    otp_is_off_by_default,
    on_server,
    |server: TestServer| async move {
        let (mut browser, _, _) = user_with_two_factor(&server, "nootp@example.com").await;
        sign_in(&mut browser, "nootp@example.com").await;
        for path in ["/two-factor/send-otp", "/two-factor/verify-otp"] {
            let answer = browser.post(path, json!({ "code": "123456" })).await;
            assert_eq!(answer.status, 400, "{path}: {answer:?}");
            assert_eq!(answer.body["code"], "OTP_NOT_CONFIGURED");
        }
        assert!(server.mail.messages().is_empty());
    }
);

// A PostgreSQL database where Better Auth (TypeScript) ran its two-factor plugin
// is adopted: its twoFactor table (no lastUsedStep, a plain index on userId)
// and user column stay, and the plugin's migration completes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_better_auth_postgres_database_is_adopted() {
    use better_auth_test_support::Scratch;
    let Some(scratch) = Scratch::open(Backend::Postgres, "adopting a two-factor table").await
    else {
        return;
    };
    let database = better_auth::store::Database::connect(&scratch.url)
        .await
        .unwrap();
    better_auth::run_migrations(&database).await.unwrap();
    let PoolRef::Postgres(pool) = database.pool() else {
        unreachable!()
    };
    for sql in [
        r#"ALTER TABLE "user" ADD COLUMN "twoFactorEnabled" boolean DEFAULT false"#,
        r#"CREATE TABLE "twoFactor" ("id" text PRIMARY KEY, "secret" text NOT NULL,
           "backupCodes" text NOT NULL, "userId" text NOT NULL REFERENCES "user" ("id"),
           "verified" boolean DEFAULT true, "failedVerificationCount" integer DEFAULT 0,
           "lockedUntil" timestamptz)"#,
        r#"CREATE INDEX "twoFactor_userId_idx" ON "twoFactor" ("userId")"#,
    ] {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
    better_auth::BetterAuth::new(better_auth::AuthConfig::new(
        "two-factor-test-secret-two-factor-test-secret",
    ))
    .database(database.clone())
    .plugin(common::plugin())
    .build()
    .await
    .expect("the plugin's migration completes the adopted table");
    let columns: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() \
         AND table_name = 'twoFactor' AND column_name = 'lastUsedStep'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(columns, 1);
    database.close().await;
}

// The plugin's migrations run once: a second instance on the same database
// (a restart, a second server) finds them applied and builds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_migrations_apply_once() {
    use better_auth_test_support::Scratch;
    let scratch = Scratch::open(Backend::Sqlite, "plugin migrations twice")
        .await
        .unwrap();
    let database = better_auth::store::Database::connect(&scratch.url)
        .await
        .unwrap();
    better_auth::run_migrations(&database).await.unwrap();
    for _ in 0..2 {
        better_auth::BetterAuth::new(better_auth::AuthConfig::new(
            "two-factor-test-secret-two-factor-test-secret",
        ))
        .database(database.clone())
        .plugin(common::plugin())
        .build()
        .await
        .expect("the instance builds");
    }
    let PoolRef::Sqlite(pool) = database.pool() else {
        unreachable!()
    };
    let recorded: i64 = sqlx::query_scalar(
        r#"SELECT count(*) FROM "_better_auth_plugin_migrations" WHERE "plugin" = 'two-factor'"#,
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(recorded, 2, "each of the two migrations recorded once");
    database.close().await;
}

// The user object carries `twoFactorEnabled`, as Better Auth's does: false
// from sign-up, true once a code confirmed the authenticator, false again
// after disable; clients cannot set it through sign-up or update-user.
all_backends!(
    the_user_carries_two_factor_enabled,
    on_server,
    |server: TestServer| async move {
        let mut refused = Browser::new(&server.base);
        let forged = refused
            .post(
                "/sign-up/email",
                json!({ "name": "M", "email": "forged@example.com", "password": PASSWORD,
                        "twoFactorEnabled": true }),
            )
            .await;
        assert_eq!(forged.status, 400, "{forged:?}");

        let mut browser = Browser::new(&server.base);
        let up = browser
            .post(
                "/sign-up/email",
                json!({ "name": "M", "email": "flag@example.com", "password": PASSWORD }),
            )
            .await;
        assert_eq!(up.body["user"]["twoFactorEnabled"], false, "{up:?}");
        let set = browser
            .post("/update-user", json!({ "twoFactorEnabled": true }))
            .await;
        assert_eq!(set.status, 400, "{set:?}");
        assert_eq!(
            browser.get("/get-session").await.body["user"]["twoFactorEnabled"],
            false
        );
        browser.sign_out().await;

        let (mut browser, app, _) = user_with_two_factor(&server, "flag2@example.com").await;
        sign_in(&mut browser, "flag2@example.com").await;
        let done = browser
            .post(
                "/two-factor/verify-totp",
                json!({ "code": app.code(&server, 0) }),
            )
            .await;
        assert_eq!(done.body["user"]["twoFactorEnabled"], true, "{done:?}");
        assert_eq!(
            browser.get("/get-session").await.body["user"]["twoFactorEnabled"],
            true
        );
        let off = browser
            .post("/two-factor/disable", json!({ "password": PASSWORD }))
            .await;
        assert_eq!(off.status, 200, "{off:?}");
        assert_eq!(
            browser.get("/get-session").await.body["user"]["twoFactorEnabled"],
            false
        );
    }
);
