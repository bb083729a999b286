//! Test server and client helpers.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use better_auth::email::MemoryEmailSender;
use better_auth::integrations::axum::{AxumIntegration, CurrentSession, OptionalSession};
use better_auth::plugins::{
    AccountManagementPlugin, EmailPasswordPlugin, PasswordManagementPlugin, SessionManagementPlugin,
};
use better_auth::prelude::AuthUser;
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth, run_migrations};
use better_auth_test_support::Scratch;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub(crate) const SECRET: &str = "test-secret-that-is-at-least-32-characters";
pub(crate) const ORIGIN: &str = "http://localhost:3000";
pub(crate) const PASSWORD: &str = "correct horse battery staple";

pub(crate) use better_auth_test_support::{Backend, PG_ENV};

/// How a test server is set up.
pub(crate) struct Setup {
    pub config: AuthConfig,
    pub email_password: EmailPasswordPlugin,
    pub outbox: MemoryEmailSender,
    /// Adds more plugins (or anything else) to the builder.
    pub extend: fn(better_auth::BetterAuthBuilder) -> better_auth::BetterAuthBuilder,
    /// Mount with `.merge(auth.axum_routes())` at the base path instead of
    /// `.nest("/api/auth", auth.axum_router())`.
    pub merge_routes: bool,
}

impl Setup {
    pub(crate) fn new() -> Self {
        let outbox = MemoryEmailSender::new();
        Setup {
            config: AuthConfig::new(SECRET)
                .base_url(ORIGIN)
                .base_path("/api/auth")
                // Rate limits have their own tests; here they would get in the way.
                .rate_limit(better_auth::rate_limit::RateLimitConfig::disabled())
                .email_sender(Arc::new(outbox.clone())),
            email_password: EmailPasswordPlugin::new(),
            outbox,
            extend: |builder| builder,
            merge_routes: false,
        }
    }
}

/// For [`all_backends!`](better_auth_test_support::all_backends): runs `body` on a
/// default server over a fresh database on `backend`.
pub(crate) async fn with_server<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    with_db(backend, |db: TestDb| async move {
        body(TestServer::start_on(db.database.clone(), Setup::new()).await).await;
    })
    .await;
}

/// For [`all_backends!`](better_auth_test_support::all_backends): runs `body` on a
/// fresh, migrated database on `backend`.
pub(crate) async fn with_db<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(db) = TestDb::open(backend).await else {
        return;
    };
    // Keeps the database (and its folder) until the body is done, whatever it keeps of `db`.
    let owner = db.clone_handle();
    body(db).await;
    owner.drop_schema().await;
}

/// A database for one test, migrated: a fresh SQLite file, or a fresh PostgreSQL schema
/// (dropped with the last handle, see [`Scratch`]).
pub(crate) struct TestDb {
    pub database: Database,
    pub url: String,
    scratch: Scratch,
}

/// A MySQL connection of its own to `url`, as an operator's client: double quotes
/// quote identifiers (`ANSI_QUOTES`, as the runtime's connections) and nothing is
/// strict, so any value a column can hold (a zero date, say) can be written.
pub(crate) async fn mysql_connection(url: &str) -> sqlx::MySqlConnection {
    use sqlx::Connection as _;
    let mut conn = sqlx::MySqlConnection::connect(url).await.unwrap();
    sqlx::query("SET SESSION sql_mode = 'ANSI_QUOTES'")
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

/// Prints a line that is not swallowed by the test harness' output capture.
pub(crate) fn notice(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

impl TestDb {
    pub(crate) async fn open(backend: Backend) -> Option<TestDb> {
        let scratch = Scratch::open(backend, "a test").await?;
        let database = Database::connect(&scratch.url)
            .await
            .expect("open the test database");
        run_migrations(&database)
            .await
            .expect("migrate the test database");
        Some(TestDb {
            database,
            url: scratch.url.clone(),
            scratch,
        })
    }

    /// A second handle on the same database (for cleanup after a test consumed the first).
    pub(crate) fn clone_handle(&self) -> TestDb {
        TestDb {
            database: self.database.clone(),
            url: self.url.clone(),
            scratch: self.scratch.clone(),
        }
    }

    /// Closes this handle's pool; the schema goes with the last handle.
    pub(crate) async fn drop_schema(self) {
        self.database.close().await;
    }
}

/// A running server: the auth routes under `/api/auth`, plus `/api/me`
/// (CurrentSession) and `/api/public` (OptionalSession).
pub(crate) struct TestServer {
    pub base: String,
    pub auth: Arc<BetterAuth>,
    pub client: reqwest::Client,
    pub outbox: MemoryEmailSender,
}

async fn me(session: CurrentSession) -> Json<Value> {
    Json(json!({ "id": session.user.id(), "email": session.user.email() }))
}

async fn public(session: OptionalSession) -> Json<Value> {
    Json(json!({ "user": session.0.map(|s| s.user.email().to_owned()) }))
}

impl TestServer {
    pub(crate) async fn start_on(database: Database, setup: Setup) -> TestServer {
        let builder = BetterAuth::new(setup.config)
            .database(database)
            .plugin(setup.email_password)
            .plugin(SessionManagementPlugin::new())
            .plugin(PasswordManagementPlugin::new())
            .plugin(AccountManagementPlugin::new());
        let auth = Arc::new(
            (setup.extend)(builder)
                .build()
                .await
                .expect("build BetterAuth"),
        );
        let app = Router::new()
            .route("/api/me", get(me))
            .route("/api/public", get(public));
        let app = if setup.merge_routes {
            app.merge(auth.axum_routes())
        } else {
            app.nest("/api/auth", auth.axum_router())
        };
        let app = app.with_state(auth.clone());
        TestServer::serve(app, auth, setup.outbox).await
    }

    /// Serves `app` (which holds `auth`'s routes) on a free port as an app's `main`
    /// does, with the client address.
    pub(crate) async fn serve(
        app: Router,
        auth: Arc<BetterAuth>,
        outbox: MemoryEmailSender,
    ) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        TestServer {
            base: format!("http://{addr}"),
            auth,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            outbox,
        }
    }

    /// A default server whose clock only moves when the test says so.
    pub(crate) async fn start_with_clock(db: &TestDb) -> (TestServer, better_auth::ManualClock) {
        let clock = better_auth::ManualClock::new();
        let mut setup = Setup::new();
        setup.config = setup.config.clock(Arc::new(clock.clone()));
        (Self::start_with(db, setup).await, clock)
    }

    /// Asks for a password reset and returns the token from the emailed link
    /// (the `nth` message to `email`).
    pub(crate) async fn reset_token(&self, email: &str, nth: usize) -> String {
        self.post("/api/auth/request-password-reset")
            .json(json!({ "email": email }))
            .send()
            .await;
        let mail = self.outbox.wait_for(email, nth).await.expect("reset email");
        let tail = mail.url.rsplit('/').next().unwrap();
        tail.split('?').next().unwrap().to_owned()
    }

    /// A server with a custom setup on a database of the given backend.
    pub(crate) async fn start_with(db: &TestDb, setup: Setup) -> TestServer {
        Self::start_on(db.database.clone(), setup).await
    }

    pub(crate) fn get(&self, path: &str) -> Req {
        Req::new(self, reqwest::Method::GET, path)
    }

    pub(crate) fn post(&self, path: &str) -> Req {
        Req::new(self, reqwest::Method::POST, path)
    }

    /// Signs up a user and returns the response.
    pub(crate) async fn sign_up(&self, email: &str) -> Resp {
        self.post("/api/auth/sign-up/email")
            .json(json!({ "name": "Ada", "email": email, "password": PASSWORD }))
            .send()
            .await
    }

    /// Signs up and returns the bearer value (`token.signature`).
    pub(crate) async fn user(&self, email: &str) -> String {
        let resp = self.sign_up(email).await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        resp.auth_token()
    }

    /// Signs in and returns the response.
    pub(crate) async fn sign_in(&self, email: &str, password: &str) -> Resp {
        self.post("/api/auth/sign-in/email")
            .json(json!({ "email": email, "password": password }))
            .send()
            .await
    }
}

/// A request under construction.
pub(crate) struct Req {
    builder: reqwest::RequestBuilder,
}

impl Req {
    fn new(server: &TestServer, method: reqwest::Method, path: &str) -> Self {
        Req {
            builder: server
                .client
                .request(method, format!("{}{}", server.base, path)),
        }
    }

    pub(crate) fn json(mut self, body: Value) -> Self {
        self.builder = self.builder.json(&body);
        self
    }

    pub(crate) fn raw_body(mut self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        self.builder = self.builder.header("content-type", content_type).body(body);
        self
    }

    pub(crate) fn bearer(mut self, token: &str) -> Self {
        self.builder = self
            .builder
            .header("authorization", format!("Bearer {token}"));
        self
    }

    /// Sends the session cookie (as a browser would) with a trusted Origin.
    pub(crate) fn cookie(mut self, cookie: &str) -> Self {
        self.builder = self
            .builder
            .header("cookie", cookie)
            .header("origin", ORIGIN);
        self
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    pub(crate) async fn send(self) -> Resp {
        let response = self.builder.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            status,
            headers,
            body,
        }
    }
}

/// A received response.
#[derive(Debug)]
pub(crate) struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The `set-auth-token` value (signed token) to use as a bearer.
    pub(crate) fn auth_token(&self) -> String {
        self.header("set-auth-token")
            .expect("set-auth-token")
            .to_owned()
    }

    /// `name=value` of the session cookie, ready for a Cookie header.
    pub(crate) fn session_cookie(&self) -> String {
        self.set_cookies()
            .into_iter()
            .find(|c| c.contains("session_token="))
            .expect("session cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    }

    pub(crate) fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}
