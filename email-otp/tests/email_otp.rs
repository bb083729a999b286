//! Codes by email through HTTP, on SQLite, PostgreSQL and MySQL, and the security
//! requirement S71 by name.

use std::time::Duration;

use better_auth::store::{Text, with_pool};
use better_auth_email_otp::EmailOtpPlugin;
use better_auth_test_support::browser::Browser;
use better_auth_test_support::server::PluginServer;
use better_auth_test_support::{Backend, all_backends};
use serde_json::{Value, json};

const PASSWORD: &str = "a long email-otp passphrase";

type TestServer = PluginServer;

async fn start(backend: Backend, plugin: EmailOtpPlugin) -> Option<TestServer> {
    PluginServer::start(backend, |builder| builder.plugin(plugin)).await
}

/// Asks for a code of `kind` for `email` and returns it, as mailed.
async fn ask_code(server: &TestServer, browser: &mut Browser, email: &str, kind: &str) -> String {
    let before = server.sent();
    let answer = browser
        .post(
            "/email-otp/send-verification-otp",
            json!({ "email": email, "type": kind }),
        )
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body, json!({ "success": true }));
    server.code_after(email, before).await
}

async fn stored_codes(server: &TestServer) -> Vec<String> {
    let sql = r#"SELECT "codeHash" FROM "emailOtp""#;
    let db = &server.database;
    let codes = async {
        let codes: Vec<Text> =
            with_pool!(db, |pool| sqlx::query_scalar(sql).fetch_all(pool).await?);
        Ok::<_, better_auth::Error>(codes.into_iter().map(String::from).collect())
    };
    codes.await.unwrap()
}

async fn on_server<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(server) = start(backend, EmailOtpPlugin::new()).await {
        body(server).await;
    }
}

// S71: a code signs in once, within five minutes and three attempts; it is
// stored as a digest, never as the code; a new address gets an account.
all_backends!(
    s71_codes_are_single_use_short_lived_and_sealed,
    on_server,
    |server: TestServer| async move {
        let email = "otp@example.com";
        let mut browser = Browser::new(&server.base);
        let code = ask_code(&server, &mut browser, email, "sign-in").await;
        assert!(
            stored_codes(&server)
                .await
                .iter()
                .all(|c| !c.contains(&code)),
            "the code is stored as is"
        );
        let signed_in = browser
            .post(
                "/sign-in/email-otp",
                json!({ "email": email, "otp": code, "name": "Otto" }),
            )
            .await;
        assert_eq!(signed_in.status, 200, "{signed_in:?}");
        assert_eq!(signed_in.body["user"]["emailVerified"], true);
        assert_eq!(signed_in.body["user"]["name"], "Otto");
        assert!(signed_in.auth_token.is_some());
        assert_eq!(
            browser.get("/get-session").await.body["user"]["email"],
            email
        );

        // Used up.
        let mut other = Browser::new(&server.base);
        let again = other
            .post("/sign-in/email-otp", json!({ "email": email, "otp": code }))
            .await;
        assert_eq!(again.status, 400, "{again:?}");
        assert_eq!(again.body["code"], "INVALID_OTP");

        // Three wrong tries spend a code.
        let code = ask_code(&server, &mut other, email, "sign-in").await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..3 {
            let answer = other
                .post(
                    "/sign-in/email-otp",
                    json!({ "email": email, "otp": wrong }),
                )
                .await;
            assert_eq!(answer.body["code"], "INVALID_OTP", "{answer:?}");
        }
        let spent = other
            .post("/sign-in/email-otp", json!({ "email": email, "otp": code }))
            .await;
        assert_eq!(spent.status, 403, "{spent:?}");
        assert_eq!(spent.body["code"], "TOO_MANY_ATTEMPTS");

        // Late.
        let code = ask_code(&server, &mut other, email, "sign-in").await;
        server.clock.advance(Duration::from_secs(5 * 60 + 1));
        let late = other
            .post("/sign-in/email-otp", json!({ "email": email, "otp": code }))
            .await;
        assert_eq!(late.status, 400, "{late:?}");
        assert_eq!(late.body["code"], "OTP_EXPIRED");

        // A code is for its purpose only.
        let code = ask_code(&server, &mut other, email, "email-verification").await;
        let elsewhere = other
            .post("/sign-in/email-otp", json!({ "email": email, "otp": code }))
            .await;
        assert_eq!(elsewhere.body["code"], "INVALID_OTP", "{elsewhere:?}");
    }
);

// S71: the answer is the same for any address, and an unknown one is sent no
// verification or reset code; a sign-in code reaches a new address only
// while sign-up is on.
all_backends!(
    s71_requests_reveal_nothing,
    on_server,
    |server: TestServer| async move {
        let mut browser = Browser::new(&server.base);
        browser
            .post(
                "/sign-up/email",
                json!({ "name": "Ada", "email": "ada@example.com", "password": PASSWORD }),
            )
            .await;
        for (path, body) in [
            (
                "/email-otp/send-verification-otp",
                json!({ "email": "nobody@example.com", "type": "email-verification" }),
            ),
            (
                "/email-otp/send-verification-otp",
                json!({ "email": "nobody@example.com", "type": "forget-password" }),
            ),
            (
                "/email-otp/request-password-reset",
                json!({ "email": "nobody@example.com" }),
            ),
        ] {
            let answer = browser.post(path, body).await;
            assert_eq!(answer.status, 200, "{path}: {answer:?}");
            assert_eq!(answer.body, json!({ "success": true }));
        }
        ask_code(
            &server,
            &mut browser,
            "ada@example.com",
            "email-verification",
        )
        .await;
        assert!(
            server
                .mail
                .messages()
                .iter()
                .all(|m| m.to != "nobody@example.com"),
            "a code went to an unknown address"
        );
        let refused = browser
            .post(
                "/email-otp/send-verification-otp",
                json!({ "email": "ada@example.com", "type": "change-email" }),
            )
            .await;
        assert_eq!(refused.status, 400, "{refused:?}");
    }
);

// S71: verifying the address with a code, and checking a code without using
// it up.
all_backends!(
    verify_email_and_check,
    on_server,
    |server: TestServer| async move {
        let mut browser = Browser::new(&server.base);
        let signed_up = browser
            .post(
                "/sign-up/email",
                json!({ "name": "Ada", "email": "ada@example.com", "password": PASSWORD }),
            )
            .await;
        assert_eq!(signed_up.body["user"]["emailVerified"], false);
        let code = ask_code(
            &server,
            &mut browser,
            "ada@example.com",
            "email-verification",
        )
        .await;
        let checked = browser
            .post(
                "/email-otp/check-verification-otp",
                json!({ "email": "ada@example.com", "type": "email-verification", "otp": code }),
            )
            .await;
        assert_eq!(checked.body, json!({ "success": true }), "{checked:?}");
        let verified = browser
            .post(
                "/email-otp/verify-email",
                json!({ "email": "ada@example.com", "otp": code }),
            )
            .await;
        assert_eq!(verified.status, 200, "{verified:?}");
        assert_eq!(verified.body["status"], true);
        assert_eq!(verified.body["token"], Value::Null);
        assert_eq!(verified.body["user"]["emailVerified"], true);
        assert_eq!(
            browser.get("/get-session").await.body["user"]["emailVerified"],
            true
        );
    }
);

// S71: a password reset by code sets the password and ends every session;
// a sign-in code claims an account whose address nobody had proven.
all_backends!(
    s71_reset_ends_sessions_and_codes_claim_unproven_accounts,
    on_server,
    |server: TestServer| async move {
        let mut squatter = Browser::new(&server.base);
        squatter
            .post(
                "/sign-up/email",
                json!({ "name": "Squatter", "email": "victim@example.com", "password": PASSWORD }),
            )
            .await;
        let mut owner = Browser::new(&server.base);
        let code = ask_code(&server, &mut owner, "victim@example.com", "sign-in").await;
        let claimed = owner
            .post(
                "/sign-in/email-otp",
                json!({ "email": "victim@example.com", "otp": code }),
            )
            .await;
        assert_eq!(claimed.status, 200, "{claimed:?}");
        assert_eq!(claimed.body["user"]["emailVerified"], true);
        assert_eq!(squatter.get("/get-session").await.body, Value::Null);
        let old = squatter
            .post(
                "/sign-in/email",
                json!({ "email": "victim@example.com", "password": PASSWORD }),
            )
            .await;
        assert_eq!(old.status, 401, "{old:?}");

        // The owner sets a password with a reset code; their sessions end.
        let before = server.sent();
        owner
            .post(
                "/email-otp/request-password-reset",
                json!({ "email": "victim@example.com" }),
            )
            .await;
        let code = server.code_after("victim@example.com", before).await;
        let too_short = owner
            .post(
                "/email-otp/reset-password",
                json!({ "email": "victim@example.com", "otp": code, "password": "short" }),
            )
            .await;
        assert_eq!(too_short.status, 400, "{too_short:?}");
        let reset = owner
            .post(
                "/email-otp/reset-password",
                json!({ "email": "victim@example.com", "otp": code, "password": "the owner's new passphrase" }),
            )
            .await;
        assert_eq!(reset.body, json!({ "success": true }), "{reset:?}");
        assert_eq!(owner.get("/get-session").await.body, Value::Null);
        let signed_in = owner
            .post(
                "/sign-in/email",
                json!({ "email": "victim@example.com", "password": "the owner's new passphrase" }),
            )
            .await;
        assert_eq!(signed_in.status, 200, "{signed_in:?}");
    }
);

// With sign-up off, a sign-in code for an unknown address is never sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_can_be_turned_off() {
    let plugin = EmailOtpPlugin::new().sign_up(false);
    let server = start(Backend::Sqlite, plugin).await.unwrap();
    let mut browser = Browser::new(&server.base);
    let answer = browser
        .post(
            "/email-otp/send-verification-otp",
            json!({ "email": "stranger@example.com", "type": "sign-in" }),
        )
        .await;
    assert_eq!(answer.body, json!({ "success": true }));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(server.mail.messages().is_empty());
    let refused = browser
        .post(
            "/sign-in/email-otp",
            json!({ "email": "stranger@example.com", "otp": "123456" }),
        )
        .await;
    assert_eq!(refused.body["code"], "INVALID_OTP", "{refused:?}");
}
