//! The harness: the shared plugin test server with the two-factor plugin, a
//! browser, and an authenticator app.

use better_auth::Clock;
use better_auth::rate_limit::RateLimitConfig;
use better_auth_test_support::Backend;
pub(crate) use better_auth_test_support::browser::{Answer, Browser};
use better_auth_test_support::server::PluginServer;
use better_auth_two_factor::TwoFactorPlugin;
use serde_json::json;
use totp_rs::{Algorithm, Secret, TOTP};

pub(crate) const PASSWORD: &str = "a long two-factor passphrase";

/// A running server (see `PluginServer`).
pub(crate) type TestServer = PluginServer;

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
    PluginServer::start_with(backend, limits, |builder| builder.plugin(plugin)).await
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
