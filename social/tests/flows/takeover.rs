//! S48 (an account made from a provider's unverified email is not the
//! owner's until the address is proven) and S49 (linking a provider needs a
//! fresh session), against the tests' own OpenID provider (`fake_oidc.rs`),
//! on SQLite, PostgreSQL and MySQL.

use std::time::Duration;

use better_auth::email::{Email, EmailKind, MemoryEmailSender};
use better_auth::plugins::EmailPasswordPlugin;
use better_auth_test_support::all_backends;
use serde_json::{Value, json};

use crate::common::{Backend, Browser, FakeBench, PASSWORD, TestServer, user_count};
use crate::fake_oidc::FakeOidc;

const VICTIM: &str = "victim@example.com";
const NEW_PASSWORD: &str = "the owner's new passphrase";

/// The fake provider and an auth server with every plugin and mail kept in
/// memory.
async fn open(
    backend: Backend,
    require_verification: bool,
) -> Option<(FakeBench, MemoryEmailSender)> {
    let outbox = MemoryEmailSender::new();
    let bench = FakeBench::open_with(backend, |mut setup| {
        setup.email_password =
            EmailPasswordPlugin::new().require_email_verification(require_verification);
        setup.password_management = true;
        setup.outbox = Some(outbox.clone());
        setup
    })
    .await?;
    Some((bench, outbox))
}

/// Makes the provider vouch for nothing: it says the user is the victim,
/// with `email_verified: false`.
fn unverifying(fake: &FakeOidc) {
    fake.set_claim("sub", json!("attacker-sub"));
    fake.set_claim("email", json!(VICTIM));
    fake.set_claim("email_verified", json!(false));
}

fn sign_in_body() -> Value {
    json!({ "provider": "fake", "callbackURL": "/dashboard", "errorCallbackURL": "/login" })
}

/// Waits for the first message of `kind` to `to`.
async fn mail_of(outbox: &MemoryEmailSender, to: &str, kind: EmailKind) -> Email {
    for _ in 0..500 {
        if let Some(mail) = outbox
            .messages()
            .into_iter()
            .find(|m| m.to == to && m.kind == kind)
        {
            return mail;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no {kind:?} mail to {to}: {:?}", outbox.messages());
}

/// The attacker signs in through the provider that does not vouch for the
/// victim's address: a user is created for it and linked to the attacker.
async fn attacker_signs_in(server: &TestServer) -> Browser {
    let attacker = Browser::new(server);
    let resp = attacker.social_sign_in(server, sign_in_body()).await;
    assert_eq!(
        (resp.status, resp.location()),
        (302, "/dashboard".to_owned()),
        "{:?}",
        resp.error_code()
    );
    let session = attacker.session(server).await;
    assert_eq!(session["user"]["email"], VICTIM);
    assert_eq!(session["user"]["emailVerified"], false);
    attacker
}

/// What is left to the attacker afterwards: no session, and signing in
/// through the provider again opens nothing.
async fn attacker_is_out(server: &TestServer, attacker: &Browser) {
    assert_eq!(attacker.session(server).await, Value::Null);
    let again = Browser::new(server);
    let resp = again.social_sign_in(server, sign_in_body()).await;
    assert_eq!(resp.status, 302);
    assert_eq!(
        resp.error_code().as_deref(),
        Some("account_not_linked"),
        "{}",
        resp.location()
    );
    assert_eq!(again.session(server).await, Value::Null);
}

// ---------------------------------------------------------------- S48

all_backends!(
    s48_a_password_reset_unlinks_accounts_linked_before_the_address_was_proven,
    |backend| async move {
        let Some((FakeBench { db, fake, server }, outbox)) = open(backend, false).await else {
            return;
        };
        unverifying(&fake);
        let attacker = attacker_signs_in(&server).await;

        // The owner of the address resets the password through its mailbox.
        let owner = Browser::new(&server);
        owner
            .post(
                &server.url("/request-password-reset"),
                json!({ "email": VICTIM }),
            )
            .await;
        let reset = mail_of(&outbox, VICTIM, EmailKind::PasswordReset).await;
        let token = reset
            .url
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let resp = owner
            .post(
                &server.url("/reset-password"),
                json!({ "token": token, "newPassword": NEW_PASSWORD }),
            )
            .await;
        assert_eq!(resp.body, json!({ "status": true }), "{}", resp.text);

        attacker_is_out(&server, &attacker).await;
        let notice = mail_of(&outbox, VICTIM, EmailKind::AccountsUnlinked).await;
        assert!(notice.text.contains("fake"), "{}", notice.text);

        // The account is the owner's: their password, their address, no provider.
        let resp = owner
            .post(
                &server.url("/sign-in/email"),
                json!({ "email": VICTIM, "password": NEW_PASSWORD }),
            )
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        assert_eq!(resp.body["user"]["emailVerified"], true);
        let accounts = owner.get(&server.url("/list-accounts")).await.body;
        let providers: Vec<&str> = accounts
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["providerId"].as_str().unwrap())
            .collect();
        assert_eq!(providers, ["credential"]);
        assert_eq!(user_count(&db.database).await, 1);
    }
);

all_backends!(
    s48_verifying_the_address_unlinks_accounts_linked_before,
    |backend| async move {
        let Some((FakeBench { fake, server, .. }, outbox)) = open(backend, false).await else {
            return;
        };
        unverifying(&fake);
        let attacker = attacker_signs_in(&server).await;

        // The owner asks for a verification link (anyone may) and follows it.
        let owner = Browser::new(&server);
        owner
            .post(
                &server.url("/send-verification-email"),
                json!({ "email": VICTIM }),
            )
            .await;
        let link = mail_of(&outbox, VICTIM, EmailKind::EmailVerification).await;
        // Links use the configured base URL, which is this server's.
        let resp = owner.get(&link.url).await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        assert_eq!(resp.body["user"]["emailVerified"], true);

        attacker_is_out(&server, &attacker).await;
        mail_of(&outbox, VICTIM, EmailKind::AccountsUnlinked).await;
    }
);

all_backends!(
    s48_social_sign_in_honours_required_email_verification,
    |backend| async move {
        let Some((FakeBench { fake, server, .. }, outbox)) = open(backend, true).await else {
            return;
        };
        unverifying(&fake);
        for _ in 0..2 {
            let browser = Browser::new(&server);
            let resp = browser.social_sign_in(&server, sign_in_body()).await;
            assert_eq!(resp.status, 302);
            assert!(
                resp.location().starts_with("/login?"),
                "{}",
                resp.location()
            );
            assert_eq!(resp.error_code().as_deref(), Some("email_not_verified"));
            assert!(
                resp.set_cookies()
                    .iter()
                    .all(|c| !c.contains("session_token=") || c.contains("Max-Age=0")),
                "{:?}",
                resp.set_cookies()
            );
            assert_eq!(browser.session(&server).await, Value::Null);
        }
        // The address's owner got the link that would prove it, once.
        mail_of(&outbox, VICTIM, EmailKind::EmailVerification).await;
        let links = outbox
            .messages()
            .iter()
            .filter(|m| m.to == VICTIM && m.kind == EmailKind::EmailVerification)
            .count();
        assert_eq!(links, 1);

        // An address the provider vouches for signs in as before.
        let Some((FakeBench { server, .. }, _outbox)) = open(backend, true).await else {
            return;
        };
        let browser = Browser::new(&server);
        let resp = browser.social_sign_in(&server, sign_in_body()).await;
        assert_eq!(
            (resp.status, resp.location()),
            (302, "/dashboard".to_owned()),
            "{:?}",
            resp.error_code()
        );
        assert_eq!(
            browser.session(&server).await["user"]["email"],
            "ada@example.com"
        );
    }
);

// ---------------------------------------------------------------- S49

all_backends!(
    s49_linking_a_provider_needs_a_fresh_session,
    |backend| async move {
        // The provider vouches for ada@example.com, the local user's address.
        let Some((FakeBench { fake, server, .. }, _outbox)) = open(backend, false).await else {
            return;
        };
        let browser = Browser::new(&server);
        let resp = browser.sign_up(&server, "ada@example.com").await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        let body =
            json!({ "provider": "fake", "callbackURL": "/settings", "disableRedirect": true });

        server.clock.advance(Duration::from_secs(25 * 3600));
        let resp = browser
            .post(&server.url("/link-social"), body.clone())
            .await;
        assert_eq!(
            (resp.status, resp.body["code"].as_str()),
            (403, Some("SESSION_NOT_FRESH")),
            "{}",
            resp.text
        );
        let mut wrong = body.clone();
        wrong["password"] = json!("not the password");
        let resp = browser.post(&server.url("/link-social"), wrong).await;
        assert_eq!(
            (resp.status, resp.body["code"].as_str()),
            (400, Some("INVALID_PASSWORD")),
            "{}",
            resp.text
        );

        // With the password the link starts, and completes (the provider's
        // token is dated by the server's clock, a day ahead of the real one).
        let now = server.auth.now().timestamp();
        fake.set_claim("iat", json!(now));
        fake.set_claim("exp", json!(now + 600));
        let mut proven = body.clone();
        proven["password"] = json!(PASSWORD);
        let resp = browser.post(&server.url("/link-social"), proven).await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        let callback = browser
            .follow_until(
                resp.body["url"].as_str().unwrap().to_owned(),
                &server.url("/callback/"),
            )
            .await;
        let done = browser.get(&callback).await;
        assert_eq!(done.location(), "/settings");
        let accounts = browser.get(&server.url("/list-accounts")).await.body;
        assert_eq!(accounts.as_array().unwrap().len(), 2, "{accounts}");
    }
);
