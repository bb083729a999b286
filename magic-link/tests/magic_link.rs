//! Magic-link sign-in through HTTP, on SQLite, PostgreSQL and MySQL, and the
//! security requirement S70 by name.

use std::time::Duration;

use better_auth_magic_link::MagicLinkPlugin;
use better_auth_test_support::browser::Browser;
use better_auth_test_support::server::PluginServer;
use better_auth_test_support::{Backend, all_backends};
use serde_json::{Value, json};

const PASSWORD: &str = "a long magic-link passphrase";

type TestServer = PluginServer;

async fn start(backend: Backend, plugin: MagicLinkPlugin) -> Option<TestServer> {
    PluginServer::start(backend, |builder| builder.plugin(plugin)).await
}

/// Asks for a link to `email` from `browser` and returns it, as mailed.
async fn ask_link(server: &TestServer, browser: &mut Browser, email: &str, body: Value) -> String {
    let before = server.sent();
    let mut body = body;
    body["email"] = email.into();
    let answer = browser.post("/sign-in/magic-link", body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body, json!({ "status": true }));
    let url = server.mailed_after(email, before).await.url;
    assert!(url.starts_with(&server.base), "{url}");
    url
}

async fn on_server<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(server) = start(backend, MagicLinkPlugin::new()).await {
        body(server).await;
    }
}

// S70: a link signs in once, the address it was mailed to, within five
// minutes; a new address gets an account with its email verified.
all_backends!(
    s70_links_are_single_use_and_short_lived,
    on_server,
    |server: TestServer| async move {
        let mut browser = Browser::new(&server.base);
        let link = ask_link(
            &server,
            &mut browser,
            "new@example.com",
            json!({ "name": "Nia", "callbackURL": "/dashboard", "newUserCallbackURL": "/welcome" }),
        )
        .await;
        let landing = browser.open(&link).await;
        assert_eq!(landing.status, 302, "{landing:?}");
        assert_eq!(
            landing.location.as_deref(),
            Some(format!("{}/welcome", server.base).as_str())
        );
        let session = browser.get("/get-session").await;
        assert_eq!(session.body["user"]["email"], "new@example.com");
        assert_eq!(session.body["user"]["name"], "Nia");
        assert_eq!(session.body["user"]["emailVerified"], true);

        // Used: the same link again opens nothing.
        let mut other = Browser::new(&server.base);
        let again = other.open(&link).await;
        assert_eq!(
            again.location.as_deref(),
            Some(format!("{}/dashboard?error=INVALID_TOKEN", server.base).as_str())
        );
        assert!(!other.jar.contains_key("better-auth.session_token"));

        // A returning user lands on the callback; a late link on the error.
        let link = ask_link(
            &server,
            &mut other,
            "new@example.com",
            json!({ "callbackURL": "/dashboard" }),
        )
        .await;
        assert_eq!(
            other.open(&link).await.location.as_deref(),
            Some(format!("{}/dashboard", server.base).as_str())
        );
        let mut late = Browser::new(&server.base);
        let link = ask_link(&server, &mut late, "new@example.com", json!({})).await;
        server.clock.advance(Duration::from_secs(5 * 60 + 1));
        let expired = late.open(&link).await;
        assert_eq!(
            expired.location.as_deref(),
            Some(format!("{}/?error=INVALID_TOKEN", server.base).as_str())
        );
        assert_eq!(late.get("/get-session").await.body, Value::Null);
    }
);

// S70: an account whose address nobody proved (signed up with a password by
// someone who does not own the mailbox) keeps none of its ways in once the
// owner follows a link: the password and every session are gone.
all_backends!(
    s70_a_link_claims_an_unproven_account,
    on_server,
    |server: TestServer| async move {
        let mut squatter = Browser::new(&server.base);
        let signed_up = squatter
            .post(
                "/sign-up/email",
                json!({ "name": "Squatter", "email": "victim@example.com", "password": PASSWORD }),
            )
            .await;
        assert_eq!(signed_up.status, 200, "{signed_up:?}");
        assert_eq!(signed_up.body["user"]["emailVerified"], false);

        let mut owner = Browser::new(&server.base);
        let link = ask_link(&server, &mut owner, "victim@example.com", json!({})).await;
        let signed_in = owner.open(&link).await;
        assert_eq!(signed_in.status, 302, "{signed_in:?}");
        let session = owner.get("/get-session").await;
        assert_eq!(session.body["user"]["emailVerified"], true);

        assert_eq!(squatter.get("/get-session").await.body, Value::Null);
        let password = squatter
            .post(
                "/sign-in/email",
                json!({ "email": "victim@example.com", "password": PASSWORD }),
            )
            .await;
        assert_eq!(password.status, 401, "{password:?}");
    }
);

// S70 with S08 and S22: the answer is the same for any address; a link to
// another site is refused before anything is sent.
all_backends!(
    s70_requests_reveal_nothing_and_stay_on_site,
    on_server,
    |server: TestServer| async move {
        let mut browser = Browser::new(&server.base);
        browser
            .post(
                "/sign-up/email",
                json!({ "name": "Ada", "email": "ada@example.com", "password": PASSWORD }),
            )
            .await;
        let known = browser
            .post("/sign-in/magic-link", json!({ "email": "ada@example.com" }))
            .await;
        let unknown = browser
            .post(
                "/sign-in/magic-link",
                json!({ "email": "nobody@example.com" }),
            )
            .await;
        assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
        for field in ["callbackURL", "newUserCallbackURL", "errorCallbackURL"] {
            let answer = browser
                .post(
                    "/sign-in/magic-link",
                    json!({ "email": "ada@example.com", field: "https://evil.example/" }),
                )
                .await;
            assert_eq!(answer.status, 403, "{field}: {answer:?}");
        }
        // Following a link without a callback answers the session as JSON.
        let link = ask_link(&server, &mut browser, "ada@example.com", json!({})).await;
        let bare = link.replace("&callbackURL=%2F", "");
        let answer = browser.open(&bare).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.body["user"]["email"], "ada@example.com");
        assert!(answer.body["token"].is_string());
    }
);

// With sign-up off, a link for an unknown address creates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_can_be_turned_off() {
    let plugin = MagicLinkPlugin::new().sign_up(false);
    let server = start(Backend::Sqlite, plugin).await.unwrap();
    let mut browser = Browser::new(&server.base);
    let link = ask_link(&server, &mut browser, "stranger@example.com", json!({})).await;
    let answer = browser.open(&link).await;
    assert_eq!(
        answer.location.as_deref(),
        Some(format!("{}/?error=new_user_signup_disabled", server.base).as_str())
    );
    assert_eq!(browser.get("/get-session").await.body, Value::Null);
}

// A link without its token is a bad request (400), as the query's schema says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_without_a_token_is_a_bad_request() {
    let server = start(Backend::Sqlite, MagicLinkPlugin::new())
        .await
        .unwrap();
    let mut browser = Browser::new(&server.base);
    let answer = browser.get("/magic-link/verify?callbackURL=%2F").await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(answer.location, None);
}
