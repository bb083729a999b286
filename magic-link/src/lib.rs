//! Magic-link sign-in for [better-auth](better_auth), speaking Better Auth's
//! `magicLink` plugin API so the official client's `magicLinkClient` works
//! unchanged.
//!
//! - `POST /sign-in/magic-link` `{email, name?, callbackURL?,
//!   newUserCallbackURL?, errorCallbackURL?}` emails a single-use link (valid
//!   5 minutes) and answers `{"status": true}`, whoever the address belongs to.
//! - `GET /magic-link/verify?token=..&callbackURL=..` uses the link up and
//!   signs in: the user with that address, or a new user (email verified)
//!   when sign-up is allowed. It redirects to `callbackURL` (a new user to
//!   `newUserCallbackURL`), or answers `{token, user, session}` without one; a
//!   bad, used or expired link redirects with `?error=INVALID_TOKEN`.
//!
//! An account whose address was never proven is handed to whoever follows
//! the link: its password, provider links and sessions are removed first, so
//! nothing an earlier claimant set up survives the proof.
//!
//! ```no_run
//! use std::sync::Arc;
//! use better_auth::store::Database;
//! use better_auth::{AuthConfig, BetterAuth};
//! use better_auth_magic_link::MagicLinkPlugin;
//!
//! # async fn f(sender: Arc<dyn better_auth::email::EmailSender>) -> better_auth::Result<()> {
//! let database = Database::connect("sqlite://auth.db").await?;
//! better_auth::run_migrations(&database).await?;
//! let auth = BetterAuth::new(
//!     AuthConfig::new("a-secret-of-at-least-32-characters!!").email_sender(sender),
//! )
//! .database(database)
//! .plugin(MagicLinkPlugin::new())
//! .build()
//! .await?;
//! # Ok(()) }
//! ```

use std::time::Duration;

use better_auth::http::Method;
use better_auth::plugins::{Plugin, PluginSetup, Route};

mod routes;

/// Sign-in (and sign-up) by a link sent by email.
#[derive(Clone, Debug)]
pub struct MagicLinkPlugin {
    lifetime: Duration,
    sign_up: bool,
}

impl MagicLinkPlugin {
    /// Links valid for five minutes; an unknown address gets an account.
    pub fn new() -> Self {
        MagicLinkPlugin {
            lifetime: Duration::from_secs(5 * 60),
            sign_up: true,
        }
    }

    /// How long a link stays valid.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Whether a link for an address with no account creates one (on by
    /// default). Off, such a link redirects with
    /// `?error=new_user_signup_disabled`.
    pub fn sign_up(mut self, allowed: bool) -> Self {
        self.sign_up = allowed;
        self
    }
}

impl Default for MagicLinkPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl Plugin for MagicLinkPlugin {
    fn id(&self) -> &'static str {
        "magic-link"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup.extension(self.clone());
        // As Better Auth: five requests a minute per client on each route.
        for path in ["/sign-in/magic-link", "/magic-link/verify"] {
            setup.rate_limit(path, Duration::from_secs(60), 5);
        }
        setup
            .route(
                Route::new(
                    Method::POST,
                    "/sign-in/magic-link",
                    "Email a single-use sign-in link",
                    |ctx, request| Box::pin(routes::send_link(ctx, request)),
                )
                .body::<routes::SendLinkBody>()
                .returns::<routes::Status>()
                .errors(&[400, 403]),
            )
            .route(
                Route::new(
                    Method::GET,
                    "/magic-link/verify",
                    "Sign in with an emailed link",
                    |ctx, request| Box::pin(routes::verify(ctx, request)),
                )
                .query(&[
                    ("token", true),
                    ("callbackURL", false),
                    ("newUserCallbackURL", false),
                    ("errorCallbackURL", false),
                ])
                .returns_or_redirects::<routes::SignedIn>()
                .errors(&[400, 403]),
            );
    }
}
