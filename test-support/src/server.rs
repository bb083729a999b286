//! A server for a plugin crate's HTTP tests (feature `server`): password sign-in
//! and session management plus the plugins a test adds, under `/api/auth`, on a
//! fresh database, with a manual clock and an in-memory mailbox.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use better_auth::email::{Email, MemoryEmailSender};
use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
use better_auth::rate_limit::RateLimitConfig;
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth, BetterAuthBuilder, ManualClock, run_migrations};

use crate::{Backend, Scratch};

/// A running server and what tests reach behind it. Stops when dropped.
#[derive(Debug)]
pub struct PluginServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The clock every expiry reads.
    pub clock: ManualClock,
    /// Every email the server sent.
    pub mail: MemoryEmailSender,
    /// The database, for looking at what is stored.
    pub database: Database,
    _scratch: Scratch,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PluginServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PluginServer {
    /// Starts a server with rate limits off, `plugins` adding the plugins under test;
    /// `None` when the PostgreSQL variant is skipped.
    pub async fn start(
        backend: Backend,
        plugins: impl FnOnce(BetterAuthBuilder) -> BetterAuthBuilder,
    ) -> Option<PluginServer> {
        Self::start_with(backend, RateLimitConfig::disabled(), plugins).await
    }

    /// [`PluginServer::start`] with these rate limits.
    pub async fn start_with(
        backend: Backend,
        limits: RateLimitConfig,
        plugins: impl FnOnce(BetterAuthBuilder) -> BetterAuthBuilder,
    ) -> Option<PluginServer> {
        let scratch = Scratch::open(backend, "a plugin test").await?;
        let database = Database::connect(&scratch.url)
            .await
            .expect("the test database");
        run_migrations(&database).await.expect("migrations");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let (clock, mail) = (ManualClock::new(), MemoryEmailSender::new());
        let builder = BetterAuth::new(
            AuthConfig::new("plugin-test-secret-plugin-test-secret-plugin")
                .base_url(&base)
                .base_path("/api/auth")
                .clock(Arc::new(clock.clone()))
                .email_sender(Arc::new(mail.clone()))
                .rate_limit(limits),
        )
        .database(database.clone())
        .plugin(EmailPasswordPlugin::new())
        .plugin(SessionManagementPlugin::new());
        let auth = Arc::new(plugins(builder).build().await.expect("the instance"));
        let app = Router::new()
            .nest("/api/auth", auth.axum_router())
            .with_state(auth);
        let task = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app).await.expect("serving");
        });
        Some(PluginServer {
            base,
            clock,
            mail,
            database,
            _scratch: scratch,
            task,
        })
    }

    /// How many emails were sent so far (for [`PluginServer::mailed_after`]).
    pub fn sent(&self) -> usize {
        self.mail.messages().len()
    }

    /// The first email to `to` after the first `before`, waiting for it (mail goes out
    /// in the background). Panics when none comes.
    pub async fn mailed_after(&self, to: &str, before: usize) -> Email {
        for _ in 0..100 {
            let messages = self.mail.messages();
            if let Some(mail) = messages[before.min(messages.len())..]
                .iter()
                .find(|m| m.to == to)
            {
                return mail.clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no email to {to}");
    }

    /// The 6-digit code in the first email to `to` after the first `before`.
    pub async fn code_after(&self, to: &str, before: usize) -> String {
        let mail = self.mailed_after(to, before).await;
        mail.text
            .split_whitespace()
            .find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit()))
            .unwrap_or_else(|| panic!("no code in {:?}", mail.text))
            .to_owned()
    }
}
