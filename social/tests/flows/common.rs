//! The test bench: databases (SQLite always, PostgreSQL and MySQL when
//! `BETTER_AUTH_TEST_POSTGRES_URL` and `BETTER_AUTH_TEST_MYSQL_URL` are set), an auth server on loopback with the
//! social plugin, and a "browser" (a cookie-keeping HTTP client that follows
//! redirects by hand, so each hop can be looked at or tampered with).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use better_auth::email::MemoryEmailSender;
use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{
    AccountManagementPlugin, EmailPasswordPlugin, PasswordManagementPlugin, SessionManagementPlugin,
};
use better_auth::store::{Database, Text, with_pool};
use better_auth::{AuthConfig, BetterAuth, ManualClock, run_migrations};
use better_auth_social::SocialProvidersPlugin;
use better_auth_test_support::Scratch;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::fake_oidc::FakeOidc;

pub(crate) const SECRET: &str = "social-test-secret-at-least-32-characters";
pub(crate) const PASSWORD: &str = "correct horse battery staple";
pub(crate) use better_auth_test_support::Backend;

/// Prints a line the test harness does not capture.
pub(crate) fn notice(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A database for one test, migrated: a fresh SQLite file, PostgreSQL schema or MySQL database
/// (dropped with the last clone, also when the test panics).
#[derive(Clone)]
pub(crate) struct TestDb {
    pub(crate) database: Database,
    _scratch: Scratch,
}

impl TestDb {
    pub(crate) async fn open(backend: Backend) -> Option<TestDb> {
        let scratch = Scratch::open(backend, "a social sign-in test").await?;
        let database = Database::connect(&scratch.url)
            .await
            .expect("open the test database");
        run_migrations(&database)
            .await
            .expect("migrate the test database");
        Some(TestDb {
            database,
            _scratch: scratch,
        })
    }
}

/// A listener bound before the server is built: its address is the base URL
/// providers redirect back to.
pub(crate) struct Bound {
    listener: tokio::net::TcpListener,
    pub(crate) base: String,
}

impl Bound {
    pub(crate) async fn new() -> Bound {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        Bound { listener, base }
    }

    /// Serves `app` here in the background (handlers see the client's address);
    /// returns the base URL.
    pub(crate) fn serve(self, app: Router) -> String {
        let listener = self.listener;
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        self.base
    }

    /// The callback URL of a provider on this server.
    pub(crate) fn callback_url(&self, provider: &str) -> String {
        format!("{}/api/auth/callback/{provider}", self.base)
    }
}

/// An auth server: email/password, sessions, accounts and the social plugin,
/// nested at `/api/auth`, on a clock that moves when the test says.
pub(crate) struct TestServer {
    pub(crate) base: String,
    pub(crate) auth: Arc<BetterAuth>,
    pub(crate) clock: ManualClock,
    /// Its database, kept while the server is: a test may let go of its own handle.
    _db: TestDb,
}

/// How a test server is set up, beyond its social plugin: by default as
/// [`TestServer::start`] says.
pub(crate) struct Setup {
    pub(crate) social: SocialProvidersPlugin,
    /// The base URL the app is configured with (default: where it listens).
    pub(crate) base_url: Option<String>,
    pub(crate) email_password: EmailPasswordPlugin,
    /// Adds the password plugin (resets by email) after the session plugin.
    pub(crate) password_management: bool,
    /// Where mail goes (default: no sender configured).
    pub(crate) outbox: Option<MemoryEmailSender>,
}

impl Setup {
    pub(crate) fn new(social: SocialProvidersPlugin) -> Setup {
        Setup {
            social,
            base_url: None,
            email_password: EmailPasswordPlugin::new(),
            password_management: false,
            outbox: None,
        }
    }
}

impl TestServer {
    /// The default server with `social`, rate limits off, no mail sender.
    pub(crate) async fn start(
        bound: Bound,
        db: &TestDb,
        social: SocialProvidersPlugin,
    ) -> TestServer {
        Self::start_with(bound, db, Setup::new(social)).await
    }

    /// A server set up as `setup` says, listening on `bound`.
    pub(crate) async fn start_with(bound: Bound, db: &TestDb, setup: Setup) -> TestServer {
        let clock = ManualClock::new();
        let mut config = AuthConfig::new(SECRET)
            .base_url(setup.base_url.as_deref().unwrap_or(&bound.base))
            .base_path("/api/auth")
            .clock(Arc::new(clock.clone()))
            .rate_limit(better_auth::rate_limit::RateLimitConfig::disabled());
        if let Some(outbox) = setup.outbox {
            config = config.email_sender(Arc::new(outbox));
        }
        let mut builder = BetterAuth::new(config)
            .database(db.database.clone())
            .plugin(setup.email_password)
            .plugin(SessionManagementPlugin::new());
        if setup.password_management {
            builder = builder.plugin(PasswordManagementPlugin::new());
        }
        let auth = Arc::new(
            builder
                .plugin(AccountManagementPlugin::new())
                .plugin(setup.social)
                .build()
                .await
                .expect("build BetterAuth"),
        );
        let app = Router::new()
            .nest("/api/auth", auth.axum_router())
            .with_state(auth.clone());
        TestServer {
            base: bound.serve(app),
            auth,
            clock,
            _db: db.clone(),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/api/auth{path}", self.base)
    }
}

/// What most tests against the fake provider start with: a fresh database, a
/// [`FakeOidc`], and a server whose provider `fake` it is.
pub(crate) struct FakeBench {
    pub(crate) db: TestDb,
    pub(crate) fake: FakeOidc,
    pub(crate) server: TestServer,
}

impl FakeBench {
    /// With the default server.
    pub(crate) async fn open(backend: Backend) -> Option<FakeBench> {
        Self::open_with(backend, |setup| setup).await
    }

    /// With the server `adjust` makes of the default setup.
    pub(crate) async fn open_with(
        backend: Backend,
        adjust: impl FnOnce(Setup) -> Setup,
    ) -> Option<FakeBench> {
        let db = TestDb::open(backend).await?;
        let fake = FakeOidc::start().await;
        let setup = adjust(Setup::new(fake.plugin()));
        let server = TestServer::start_with(Bound::new().await, &db, setup).await;
        Some(FakeBench { db, fake, server })
    }
}

/// For [`all_backends!`](better_auth_test_support::all_backends): runs `body` on a
/// [`FakeBench`] on `backend`.
pub(crate) async fn with_fake<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(FakeBench) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(bench) = FakeBench::open(backend).await {
        body(bench).await;
    }
}

/// One browser: keeps cookies per host (as browsers do, whatever the port),
/// sends its Origin on POSTs, and follows redirects only when asked.
pub(crate) struct Browser {
    client: reqwest::Client,
    origin: String,
}

/// A response, read.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
    pub(crate) text: String,
}

impl Resp {
    pub(crate) fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// Every `Set-Cookie` line.
    pub(crate) fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// The `error` query parameter of the redirect target.
    pub(crate) fn error_code(&self) -> Option<String> {
        query_param(&self.location(), "error")
    }
}

pub(crate) fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or("");
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn read(response: reqwest::Response) -> Resp {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    Resp {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

impl Browser {
    pub(crate) fn new(server: &TestServer) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            origin: server.base.clone(),
        }
    }

    pub(crate) async fn get(&self, url: &str) -> Resp {
        read(self.client.get(url).send().await.expect("GET")).await
    }

    pub(crate) async fn post(&self, url: &str, body: Value) -> Resp {
        read(
            self.client
                .post(url)
                .header("origin", &self.origin)
                .json(&body)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    /// Follows redirects from `url` until the next hop is on `stop_prefix`;
    /// returns that URL without requesting it.
    pub(crate) async fn follow_until(&self, mut url: String, stop_prefix: &str) -> String {
        for _ in 0..10 {
            if url.starts_with(stop_prefix) {
                return url;
            }
            let resp = self.get(&url).await;
            assert!(
                (300..400).contains(&resp.status),
                "expected a redirect from {url}, got {}: {}",
                resp.status,
                resp.text
            );
            url = absolute(&url, &resp.location());
        }
        panic!("too many redirects, last {url}");
    }

    /// `POST /sign-in/social`, then through the provider back to our
    /// callback; returns the callback URL the provider sent the browser to.
    pub(crate) async fn start_social(&self, server: &TestServer, body: Value) -> String {
        let resp = self.post(&server.url("/sign-in/social"), body).await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        assert_eq!(resp.body["redirect"], true);
        let url = resp.body["url"].as_str().expect("url").to_owned();
        self.follow_until(url, &server.url("/callback/")).await
    }

    /// A whole social sign-in; returns our callback's response.
    pub(crate) async fn social_sign_in(&self, server: &TestServer, body: Value) -> Resp {
        let callback = self.start_social(server, body).await;
        self.get(&callback).await
    }

    /// The signed-in user, or `Value::Null`.
    pub(crate) async fn session(&self, server: &TestServer) -> Value {
        self.get(&server.url("/get-session")).await.body
    }

    pub(crate) async fn sign_up(&self, server: &TestServer, email: &str) -> Resp {
        self.post(
            &server.url("/sign-up/email"),
            json!({ "name": "Local User", "email": email, "password": PASSWORD }),
        )
        .await
    }
}

/// Resolves a Location against the URL it came from.
pub(crate) fn absolute(from: &str, location: &str) -> String {
    url::Url::parse(from)
        .and_then(|base| base.join(location))
        .map(String::from)
        .unwrap_or_else(|_| location.to_owned())
}

/// How many users the database holds.
pub(crate) async fn user_count(db: &Database) -> usize {
    better_auth::store::users::list(db).await.unwrap().len()
}

/// The token columns of an account row, read with SQL of its own.
pub(crate) async fn account_tokens(
    db: &TestDb,
    id: &str,
) -> (Option<String>, Option<String>, Option<String>) {
    const SQL: &str =
        r#"SELECT "accessToken", "refreshToken", "idToken" FROM "account" WHERE "id" = $1"#;
    let db = &db.database;
    let row = async {
        let (access, refresh, id_token): (Option<Text>, Option<Text>, Option<Text>) =
            with_pool!(db, |pool| sqlx::query_as(SQL)
                .bind(id)
                .fetch_one(pool)
                .await?);
        Ok::<_, better_auth::Error>((
            access.map(String::from),
            refresh.map(String::from),
            id_token.map(String::from),
        ))
    };
    row.await.unwrap()
}
