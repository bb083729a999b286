//! Sign-in, email verification and password reset by a 6-digit code sent by
//! email, for [better-auth](better_auth), speaking Better Auth's `emailOTP`
//! plugin API so the official client's `emailOTPClient` works unchanged.
//!
//! - `POST /email-otp/send-verification-otp` `{email, type}` (`sign-in`,
//!   `email-verification` or `forget-password`) mails a code and answers
//!   `{"success": true}` for any address.
//! - `POST /sign-in/email-otp` `{email, otp, name?, image?}` signs in (a new
//!   address gets an account, its email verified, unless sign-up is off).
//! - `POST /email-otp/verify-email` `{email, otp}` verifies the address.
//! - `POST /email-otp/request-password-reset` `{email}` and
//!   `POST /email-otp/reset-password` `{email, otp, password}` reset the
//!   password (every session of the user ends).
//! - `POST /email-otp/check-verification-otp` `{email, type, otp}` checks a
//!   code without using it up.
//!
//! Codes are valid 5 minutes and 3 attempts, stored as a digest of their HMAC
//! under the app's secret, in the plugin's own `emailOtp` table (created when
//! the instance is built).
//!
//! ```no_run
//! use std::sync::Arc;
//! use better_auth::store::Database;
//! use better_auth::{AuthConfig, BetterAuth};
//! use better_auth_email_otp::EmailOtpPlugin;
//!
//! # async fn f(sender: Arc<dyn better_auth::email::EmailSender>) -> better_auth::Result<()> {
//! let database = Database::connect("sqlite://auth.db").await?;
//! better_auth::run_migrations(&database).await?;
//! let auth = BetterAuth::new(
//!     AuthConfig::new("a-secret-of-at-least-32-characters!!").email_sender(sender),
//! )
//! .database(database)
//! .plugin(EmailOtpPlugin::new())
//! .build()
//! .await?;
//! # Ok(()) }
//! ```

use std::time::Duration;

use better_auth::http::Method;
use better_auth::plugins::{Plugin, PluginSetup, Route};
use better_auth::store::Migration;

mod routes;
mod store;

const MIGRATIONS: &[Migration] = &[Migration::new(
    1,
    "email_otp",
    include_str!("../migrations/sqlite/0001_email_otp.sql"),
    include_str!("../migrations/postgres/0001_email_otp.sql"),
)
.with_mysql(include_str!("../migrations/mysql/0001_email_otp.sql"))];

/// Codes by email: sign-in (and sign-up), email verification, password reset.
#[derive(Clone, Debug)]
pub struct EmailOtpPlugin {
    lifetime: Duration,
    attempts: u8,
    sign_up: bool,
}

impl EmailOtpPlugin {
    /// Codes valid five minutes and three attempts; an unknown address that
    /// signs in with a code gets an account.
    pub fn new() -> Self {
        EmailOtpPlugin {
            lifetime: Duration::from_secs(5 * 60),
            attempts: 3,
            sign_up: true,
        }
    }

    /// How long a code stays valid.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// How many tries a code allows (at least one).
    pub fn attempts(mut self, attempts: u8) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// Whether signing in with a code creates an account for a new address
    /// (on by default). Off, no code is sent to such an address.
    pub fn sign_up(mut self, allowed: bool) -> Self {
        self.sign_up = allowed;
        self
    }
}

impl Default for EmailOtpPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl Plugin for EmailOtpPlugin {
    fn id(&self) -> &'static str {
        "email-otp"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup.extension(self.clone());
        setup.migrations(MIGRATIONS);
        // As Better Auth: three requests a minute per client on each route.
        for path in routes::PATHS {
            setup.rate_limit(path, Duration::from_secs(60), 3);
        }
        let post = |path, summary, handler| Route::new(Method::POST, path, summary, handler);
        setup
            .route(
                post(
                    "/email-otp/send-verification-otp",
                    "Email a one-time code (sign-in, email verification or password reset)",
                    |ctx, request| Box::pin(routes::send(ctx, request)),
                )
                .body::<routes::SendBody>()
                .returns::<routes::Success>()
                .errors(&[400]),
            )
            .route(
                post(
                    "/email-otp/check-verification-otp",
                    "Check a code without using it",
                    |ctx, request| Box::pin(routes::check(ctx, request)),
                )
                .body::<routes::CheckBody>()
                .returns::<routes::Success>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/email-otp/verify-email",
                    "Verify the email address with a code",
                    |ctx, request| Box::pin(routes::verify_email(ctx, request)),
                )
                .body::<routes::CodeBody>()
                .returns::<routes::EmailVerified>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/sign-in/email-otp",
                    "Sign in (or up) with a code",
                    |ctx, request| Box::pin(routes::sign_in(ctx, request)),
                )
                .body::<routes::SignInBody>()
                .returns::<routes::SignedIn>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/email-otp/request-password-reset",
                    "Email a password-reset code",
                    |ctx, request| Box::pin(routes::request_reset(ctx, request)),
                )
                .body::<routes::EmailBody>()
                .returns::<routes::Success>()
                .errors(&[400]),
            )
            .route(
                post(
                    "/forget-password/email-otp",
                    "Email a password-reset code (older name of request-password-reset)",
                    |ctx, request| Box::pin(routes::request_reset(ctx, request)),
                )
                .body::<routes::EmailBody>()
                .returns::<routes::Success>()
                .errors(&[400]),
            )
            .route(
                post(
                    "/email-otp/reset-password",
                    "Set a new password with a password-reset code",
                    |ctx, request| Box::pin(routes::reset_password(ctx, request)),
                )
                .body::<routes::ResetBody>()
                .returns::<routes::Success>()
                .errors(&[400, 403]),
            );
    }
}
