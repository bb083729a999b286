//! The harness: a server with password sign-in and the two-factor plugin on
//! a fresh database (SQLite or PostgreSQL), a manual clock, and a client that
//! keeps cookies as a browser does.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use better_auth::email::MemoryEmailSender;
use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
use better_auth::rate_limit::RateLimitConfig;
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth, Clock, ManualClock, run_migrations};
pub(crate) use better_auth_test_support::browser::{Answer, Browser};
use better_auth_test_support::{Backend, Scratch};
use better_auth_two_factor::TwoFactorPlugin;
use serde_json::json;
use totp_rs::{Algorithm, Secret, TOTP};

pub(crate) const PASSWORD: &str = "a long two-factor passphrase";

/// A running server and what the tests reach behind it.
pub(crate) struct TestServer {
    pub(crate) base: String,
    pub(crate) clock: ManualClock,
    pub(crate) database: Database,
    /// Every email the server sent.
    pub(crate) mail: MemoryEmailSender,
    pub(crate) _scratch: Scratch,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a server on `backend` with rate limits off (the lockout and the
/// codes are what is tested), or `None` when PostgreSQL is skipped.
pub(crate) async fn server(backend: Backend) -> Option<TestServer> {
    server_with(backend, RateLimitConfig::disabled(), plugin()).await
}

/// The plugin as the tests use it.
pub(crate) fn plugin() -> TwoFactorPlugin {
    TwoFactorPlugin::new().issuer("Test")
}

pub(crate) async fn server_with(
    backend: Backend,
    limits: RateLimitConfig,
    plugin: TwoFactorPlugin,
) -> Option<TestServer> {
    let scratch = Scratch::open(backend, "a two-factor test").await?;
    let database = Database::connect(&scratch.url).await.unwrap();
    run_migrations(&database).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let clock = ManualClock::new();
    let mail = MemoryEmailSender::new();
    let auth = Arc::new(
        BetterAuth::new(
            AuthConfig::new("two-factor-test-secret-two-factor-test-secret")
                .base_url(&base)
                .base_path("/api/auth")
                .clock(Arc::new(clock.clone()))
                .email_sender(Arc::new(mail.clone()))
                .rate_limit(limits),
        )
        .database(database.clone())
        .plugin(EmailPasswordPlugin::new())
        .plugin(SessionManagementPlugin::new())
        .plugin(plugin)
        .build()
        .await
        .unwrap(),
    );
    let app = Router::new()
        .nest("/api/auth", auth.axum_router())
        .with_state(auth);
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Some(TestServer {
        base,
        clock,
        database,
        mail,
        _scratch: scratch,
        task,
    })
}

/// The authenticator app: codes from the URI `enable` answered.
pub(crate) struct App {
    totp: TOTP,
}

impl App {
    pub(crate) fn from_uri(uri: &str) -> App {
        let url = url::Url::parse(uri).unwrap();
        let secret = url
            .query_pairs()
            .find(|(k, _)| k == "secret")
            .unwrap()
            .1
            .into_owned();
        let bytes = Secret::Encoded(secret).to_bytes().unwrap();
        App {
            totp: TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, bytes),
        }
    }

    /// The code shown at the server's time, `steps` periods later.
    pub(crate) fn code(&self, server: &TestServer, steps: i64) -> String {
        let now = server.clock.now().timestamp() + steps * 30;
        self.totp.generate(now as u64)
    }
}

/// A signed-up user with two-factor on, signed out; the browser that did it
/// (keeping no session) and the app holding the secret and backup codes.
pub(crate) async fn user_with_two_factor(
    server: &TestServer,
    email: &str,
) -> (Browser, App, Vec<String>) {
    let mut browser = Browser::new(&server.base);
    let answer = browser
        .post(
            "/sign-up/email",
            json!({ "name": "Grace", "email": email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let enabled = browser
        .post("/two-factor/enable", json!({ "password": PASSWORD }))
        .await;
    assert_eq!(enabled.status, 200, "{enabled:?}");
    let app = App::from_uri(enabled.body["totpURI"].as_str().unwrap());
    let backup: Vec<String> = serde_json::from_value(enabled.body["backupCodes"].clone()).unwrap();
    let verified = browser
        .post(
            "/two-factor/verify-totp",
            json!({ "code": app.code(server, 0) }),
        )
        .await;
    assert_eq!(verified.status, 200, "{verified:?}");
    // The next codes come from a later step: this one is used.
    server.clock.advance(std::time::Duration::from_secs(30));
    browser.sign_out().await;
    (browser, app, backup)
}

/// Signs in with the password: the answer (a challenge, for a user with two-factor on).
pub(crate) async fn sign_in(browser: &mut Browser, email: &str) -> Answer {
    browser
        .post(
            "/sign-in/email",
            json!({ "email": email, "password": PASSWORD }),
        )
        .await
}

impl TestServer {
    /// The code in the last email sent to `to`.
    pub(crate) async fn last_code(&self, to: &str) -> String {
        for _ in 0..100 {
            if let Some(email) = self.mail.messages().iter().rev().find(|m| m.to == to) {
                let code: String = email
                    .text
                    .split_whitespace()
                    .find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit()))
                    .expect("a 6-digit code")
                    .to_owned();
                return code;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("no email to {to}");
    }
}
