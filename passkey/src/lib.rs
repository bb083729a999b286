//! Passkeys (WebAuthn) for [better-auth](better_auth), speaking the HTTP API
//! of Better Auth's `@better-auth/passkey` plugin so the official
//! `passkeyClient` works unchanged: a signed-in user registers passkeys
//! (`passkey.addPasskey()`), anyone signs in with one
//! (`signIn.passkey()`), and the owner lists, renames and deletes them.
//!
//! | route | what |
//! |---|---|
//! | `GET /passkey/generate-register-options` | options for `navigator.credentials.create` (fresh session) |
//! | `POST /passkey/verify-registration` | `{response, name?}`: stores the new passkey |
//! | `GET /passkey/generate-authenticate-options` | options for `navigator.credentials.get` |
//! | `POST /passkey/verify-authentication` | `{response}`: signs in, `{session, user}` |
//! | `GET /passkey/list-user-passkeys` | the user's passkeys |
//! | `POST /passkey/update-passkey` | `{id, name}`: renames one |
//! | `POST /passkey/delete-passkey` | `{id}`: deletes one |
//!
//! The relying party id is the base URL's host and the origins allowed are
//! the app's trusted origins ([`AuthConfig::base_url`](better_auth::AuthConfig::base_url),
//! [`AuthConfig::trusted_origins`](better_auth::AuthConfig::trusted_origins)).
//! Each ceremony's challenge is single-use and lives 5 minutes, bound to
//! the browser by a signed cookie; signatures are checked with the stored
//! public key (ES256, EdDSA or RS256) and the signature counter must move.
//! Attestation is `none`, as Better Auth asks: a passkey is trusted as the
//! registering user's, and nothing is claimed about its maker.
//!
//! ```no_run
//! use better_auth::plugins::EmailPasswordPlugin;
//! use better_auth::store::Database;
//! use better_auth::{AuthConfig, BetterAuth};
//! use better_auth_passkey::PasskeyPlugin;
//!
//! # async fn f() -> better_auth::Result<()> {
//! let database = Database::connect("sqlite://auth.db").await?;
//! better_auth::run_migrations(&database).await?;
//! let auth = BetterAuth::new(
//!     AuthConfig::new("a-secret-of-at-least-32-characters!!").base_url("https://app.example.com"),
//! )
//! .database(database)
//! .plugin(EmailPasswordPlugin::new())
//! .plugin(PasskeyPlugin::new().rp_name("Example"))
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
mod webauthn;

const MIGRATIONS: &[Migration] = &[Migration::new(
    1,
    "passkey",
    include_str!("../migrations/sqlite/0001_passkey.sql"),
    include_str!("../migrations/postgres/0001_passkey.sql"),
)
.with_mysql(include_str!("../migrations/mysql/0001_passkey.sql"))];

/// Passkeys: WebAuthn registration and sign-in.
#[derive(Clone, Debug, Default)]
pub struct PasskeyPlugin {
    rp_id: Option<String>,
    rp_name: Option<String>,
}

impl PasskeyPlugin {
    /// The relying party is the base URL's host, and is named after it.
    pub fn new() -> Self {
        Self::default()
    }

    /// The name authenticators show for this site (the relying party id
    /// until set).
    pub fn rp_name(mut self, name: impl Into<String>) -> Self {
        self.rp_name = Some(name.into());
        self
    }

    /// The relying party id: a registrable domain the base URL's host is
    /// (or is under), so passkeys work on its subdomains too. Passkeys are
    /// bound to it: changing it later orphans every registered passkey.
    pub fn rp_id(mut self, id: impl Into<String>) -> Self {
        self.rp_id = Some(id.into());
        self
    }
}

impl Plugin for PasskeyPlugin {
    fn id(&self) -> &'static str {
        "passkey"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup.extension(self.clone());
        setup.migrations(MIGRATIONS);
        // Ceremonies cost a stored record each: limited per client.
        let minute = Duration::from_secs(60);
        for path in [
            "/passkey/generate-register-options",
            "/passkey/generate-authenticate-options",
            "/passkey/verify-registration",
            "/passkey/verify-authentication",
        ] {
            setup.rate_limit(path, minute, 20);
        }
        setup
            .route(
                Route::new(
                    Method::GET,
                    "/passkey/generate-register-options",
                    "Options to create a passkey (fresh session)",
                    |ctx, request| Box::pin(routes::register_options(ctx, request)),
                )
                .query(&[("authenticatorAttachment", false), ("name", false)])
                .returns::<serde_json::Value>()
                .authenticated()
                .errors(&[400, 403]),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/passkey/verify-registration",
                    "Store the passkey the browser created",
                    |ctx, request| Box::pin(routes::verify_registration(ctx, request)),
                )
                .body::<routes::RegisterBody>()
                .returns::<serde_json::Value>()
                .authenticated()
                .errors(&[400, 403]),
            )
            .route(
                Route::new(
                    Method::GET,
                    "/passkey/generate-authenticate-options",
                    "Options to sign in with a passkey",
                    |ctx, request| Box::pin(routes::authenticate_options(ctx, request)),
                )
                .returns::<serde_json::Value>(),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/passkey/verify-authentication",
                    "Sign in with the passkey's signature",
                    |ctx, request| Box::pin(routes::verify_authentication(ctx, request)),
                )
                .body::<routes::AuthenticateBody>()
                .returns::<routes::SignedIn>()
                .errors(&[400, 401]),
            )
            .route(
                Route::new(
                    Method::GET,
                    "/passkey/list-user-passkeys",
                    "The user's passkeys",
                    |ctx, request| Box::pin(routes::list(ctx, request)),
                )
                .returns::<serde_json::Value>()
                .authenticated(),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/passkey/update-passkey",
                    "Rename one of the user's passkeys",
                    |ctx, request| Box::pin(routes::update(ctx, request)),
                )
                .body::<routes::UpdateBody>()
                .returns::<routes::Updated>()
                .authenticated()
                .errors(&[400, 404]),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/passkey/delete-passkey",
                    "Delete one of the user's passkeys",
                    |ctx, request| Box::pin(routes::delete(ctx, request)),
                )
                .body::<routes::DeleteBody>()
                .returns::<routes::Status>()
                .authenticated()
                .errors(&[400, 404]),
            );
    }
}
