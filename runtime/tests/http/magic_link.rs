//! The example plugin (`examples/magic_link/plugin.rs`), compiled here from
//! outside the crate: proof that a third-party plugin can issue and consume
//! tokens, send email in the background, find users and open sessions with
//! the public plugin API alone.

use std::time::Duration;

use serde_json::json;

use crate::common::*;

#[path = "../../examples/magic_link/plugin.rs"]
#[allow(unreachable_pub)]
mod plugin;

use plugin::MagicLinkPlugin;

fn with_magic_link() -> Setup {
    let mut setup = Setup::new();
    setup.extend =
        |builder| builder.plugin(MagicLinkPlugin::new().lifetime(Duration::from_secs(300)));
    setup
}

async fn server(db: &TestDb) -> TestServer {
    TestServer::start_with(db, with_magic_link()).await
}

/// Asks for a link and returns the emailed URL's path and query (the `nth` mail).
async fn link(srv: &TestServer, email: &str, nth: usize) -> String {
    let resp = srv
        .post("/api/auth/sign-in/magic-link")
        .json(json!({ "email": email, "callbackURL": "/dashboard" }))
        .send()
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body, json!({ "status": true }));
    let mail = srv
        .outbox
        .wait_for(email, nth)
        .await
        .expect("magic-link email");
    mail.url
        .strip_prefix(ORIGIN)
        .expect("link on the base URL")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_plugin_signs_in_once_per_link() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::open(backend).await else {
            continue;
        };
        let srv = server(&db).await;
        srv.sign_up("ada@example.com").await;
        let path = link(&srv, "ada@example.com", 1).await;
        assert!(
            path.starts_with("/api/auth/magic-link/verify?token="),
            "{path}"
        );

        let landing = srv.get(&path).send().await;
        assert_eq!(landing.status, 302);
        assert_eq!(landing.header("location"), Some("/dashboard"));
        let cookie = landing.session_cookie();
        let session = srv
            .get("/api/auth/get-session")
            .cookie(&cookie)
            .send()
            .await;
        assert_eq!(session.body["user"]["email"], "ada@example.com");

        // Single use: the same link again opens nothing.
        let again = srv.get(&path).send().await;
        assert_eq!(again.status, 302);
        assert_eq!(
            again.header("location"),
            Some("/dashboard?error=INVALID_TOKEN")
        );
        assert!(again.set_cookies().is_empty());
        db.drop_schema().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_plugin_answers_alike_for_unknown_addresses() {
    let Some(db) = TestDb::open(Backend::Sqlite).await else {
        return;
    };
    let srv = server(&db).await;
    srv.sign_up("ada@example.com").await;
    let resp = srv
        .post("/api/auth/sign-in/magic-link")
        .json(json!({ "email": "nobody@example.com" }))
        .send()
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, json!({ "status": true }));
    // A known address asked for after it is mailed; the unknown one never is.
    link(&srv, "ada@example.com", 1).await;
    assert!(
        srv.outbox
            .messages()
            .iter()
            .all(|m| m.to != "nobody@example.com"),
        "mail sent to an unknown address"
    );
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_plugin_links_expire_and_refuse_untrusted_redirects() {
    let Some(db) = TestDb::open(Backend::Sqlite).await else {
        return;
    };
    let clock = better_auth::ManualClock::new();
    let mut setup = with_magic_link();
    setup.config = setup.config.clock(std::sync::Arc::new(clock.clone()));
    let srv = TestServer::start_with(&db, setup).await;
    srv.sign_up("ada@example.com").await;
    let path = link(&srv, "ada@example.com", 1).await;
    clock.advance(Duration::from_secs(301));
    let late = srv.get(&path).send().await;
    assert_eq!(
        late.header("location"),
        Some("/dashboard?error=INVALID_TOKEN")
    );

    // S22 through the public `check_redirect`: no link to another site.
    let resp = srv
        .post("/api/auth/sign-in/magic-link")
        .json(json!({ "email": "ada@example.com", "callbackURL": "https://evil.example/" }))
        .send()
        .await;
    assert_eq!(resp.status, 403);
    db.drop_schema().await;
}
