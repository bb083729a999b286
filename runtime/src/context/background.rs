//! Background work (S34): jobs the response neither waits for nor reveals,
//! and the [`Detached`] handle they take along.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::AuthContext;
use super::tokens::issue_token;
use crate::config::AuthConfig;
use crate::error::{Error, Result};
use crate::store::Database;

impl AuthContext {
    /// Runs `job` (issuing a token, sending an email) in a background task
    /// (S34): the response neither waits for it nor reveals its outcome by
    /// timing or status; failures are logged with `what`. Move a
    /// [`Detached`] handle into the job for the database, tokens and email.
    ///
    /// ```no_run
    /// # fn f(ctx: &better_auth::AuthContext) {
    /// use better_auth::email::{Email, EmailKind};
    ///
    /// let detached = ctx.detached();
    /// ctx.spawn_background("welcome email", async move {
    ///     let url = detached.config().route_url("/ok");
    ///     detached
    ///         .send_email(Email {
    ///             kind: EmailKind::Other("welcome"),
    ///             to: "user@example.com".into(),
    ///             subject: "Welcome".into(),
    ///             text: format!("Hello! {url}"),
    ///             html: format!("<p>Hello! {url}</p>"),
    ///             url,
    ///         })
    ///         .await
    /// });
    /// # }
    /// ```
    pub fn spawn_background<F>(&self, what: &'static str, job: F)
    where
        F: std::future::Future<Output = Result<()>> + Send + 'static,
    {
        tokio::spawn(async move {
            if let Err(err) = job.await {
                tracing::error!(error = %err, "better-auth: {what} failed");
            }
        });
    }

    /// A handle that outlives the request, for [`AuthContext::spawn_background`]
    /// jobs: the database, the configuration, tokens and email.
    pub fn detached(&self) -> Detached {
        Detached {
            database: self.database.clone(),
            config: self.config.clone(),
            now: self.now(),
        }
    }
}

/// A handle for background jobs (S34), made by [`AuthContext::detached`]:
/// the database, the configuration, tokens and email, with the clock read
/// when it was made.
#[derive(Clone, Debug)]
pub struct Detached {
    database: Database,
    config: AuthConfig,
    now: DateTime<Utc>,
}

impl Detached {
    /// The database.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// As [`AuthContext::issue_token`].
    pub async fn issue_token(
        &self,
        purpose: &str,
        value: &str,
        lifetime: Duration,
    ) -> Result<String> {
        issue_token(&self.database, self.now, purpose, value, lifetime).await
    }

    /// Sends an email through the configured [`EmailSender`](crate::email::EmailSender).
    pub async fn send_email(&self, email: crate::email::Email) -> Result<()> {
        self.config
            .sender()
            .send(email)
            .await
            .map_err(|e| Error::Internal(format!("sending email failed: {e}")))
    }
}
