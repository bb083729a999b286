//! Usernames for [better-auth](better_auth), speaking Better Auth's
//! `username` plugin API so the official client's `usernameClient` works
//! unchanged.
//!
//! - The user gets `username` (normalised to lower case, unique) and
//!   `displayUsername` (as its owner typed it), returned with the user
//!   everywhere and accepted on `/sign-up/email` and `/update-user`. A
//!   sign-up with only `displayUsername` takes it as the username too when it
//!   is a valid one; a username without `displayUsername` is displayed as typed.
//! - `POST /sign-in/username` `{username, password, rememberMe?, callbackURL?}`
//!   signs in as `/sign-in/email` does: same answer, same cookies, and the
//!   same throttle, counted against the account (a username and its address
//!   share one budget). An unknown username and a wrong password get the
//!   same 401 (`INVALID_USERNAME_OR_PASSWORD`) after the same work.
//! - `POST /is-username-available` `{username}` answers `{available}`.
//!
//! Usernames are 3 to 30 characters of `a-z`, `A-Z`, `0-9`, `_` and `.`
//! (the bounds are settings); anything else is a 400 on sign-up and
//! update-user (`USERNAME_TOO_SHORT`, `USERNAME_TOO_LONG`, `INVALID_USERNAME`)
//! and a 422 on sign-in. A taken username is `USERNAME_IS_ALREADY_TAKEN`.
//!
//! ```no_run
//! use better_auth::plugins::EmailPasswordPlugin;
//! use better_auth::store::Database;
//! use better_auth::{AuthConfig, BetterAuth};
//! use better_auth_username::UsernamePlugin;
//!
//! # async fn f() -> better_auth::Result<()> {
//! let database = Database::connect("sqlite://auth.db").await?;
//! better_auth::run_migrations(&database).await?;
//! let auth = BetterAuth::new(AuthConfig::new("a-secret-of-at-least-32-characters!!"))
//!     .database(database)
//!     .plugin(EmailPasswordPlugin::new())
//!     .plugin(UsernamePlugin::new())
//!     .build()
//!     .await?;
//! # Ok(()) }
//! ```

use std::time::Duration;

use better_auth::http::Method;
use better_auth::plugins::{Column, Plugin, PluginSetup, Route};
use better_auth::store::Migration;

mod routes;

const MIGRATIONS: &[Migration] = &[Migration::new(
    1,
    "username",
    include_str!("../migrations/sqlite/0001_username.sql"),
    include_str!("../migrations/postgres/0001_username.sql"),
)
.with_mysql(include_str!("../migrations/mysql/0001_username.sql"))];

/// Usernames: sign-in by username, a username on sign-up and update-user.
/// Needs [`EmailPasswordPlugin`](better_auth::plugins::EmailPasswordPlugin)
/// (the password is the credential account's).
#[derive(Clone, Debug)]
pub struct UsernamePlugin {
    min_length: usize,
    max_length: usize,
}

impl UsernamePlugin {
    /// Usernames of 3 to 30 characters.
    pub fn new() -> Self {
        UsernamePlugin {
            min_length: 3,
            max_length: 30,
        }
    }

    /// The shortest username accepted (3 by default).
    pub fn min_length(mut self, chars: usize) -> Self {
        self.min_length = chars;
        self
    }

    /// The longest username accepted (30 by default).
    pub fn max_length(mut self, chars: usize) -> Self {
        self.max_length = chars;
        self
    }
}

impl Default for UsernamePlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl Plugin for UsernamePlugin {
    fn id(&self) -> &'static str {
        "username"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup.extension(self.clone());
        setup.migrations(MIGRATIONS);
        setup.user_field(Column::text(routes::USERNAME).input());
        setup.user_field(Column::text(routes::DISPLAY_USERNAME).input());
        setup.before_user_input(|ctx, input| Box::pin(routes::check_input(ctx, input)));
        let ten = Duration::from_secs(10);
        // A password sign-in, limited as `/sign-in/email` is; the availability
        // check answers whether a username exists, so it is limited too.
        setup.rate_limit("/sign-in/username", ten, 3);
        setup.rate_limit("/is-username-available", ten, 10);
        setup
            .route(
                Route::new(
                    Method::POST,
                    "/sign-in/username",
                    "Sign in with a username and password",
                    |ctx, request| Box::pin(routes::sign_in(ctx, request)),
                )
                .body::<routes::SignInBody>()
                .returns::<routes::SignedIn>()
                .errors(&[400, 401, 403, 422]),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/is-username-available",
                    "Whether a username is free",
                    |ctx, request| Box::pin(routes::is_available(ctx, request)),
                )
                .body::<routes::AvailableBody>()
                .returns::<routes::Available>()
                .errors(&[400, 422]),
            );
    }
}
