//! Social sign-in for [`better_auth`]: GitHub, Google and any OpenID Connect
//! provider, over Better Auth's HTTP API, so the official JavaScript client's
//! `authClient.signIn.social({ provider })` and `authClient.linkSocial(..)`
//! work unchanged.
//!
//! It is a plugin built only on the runtime's public plugin API (routes,
//! plugin state, single-use tokens, signed cookies, sessions, the store).
//!
//! ```no_run
//! use better_auth::plugins::{AccountManagementPlugin, EmailPasswordPlugin};
//! use better_auth::store::Database;
//! use better_auth::{AuthConfig, BetterAuth, run_migrations};
//! use better_auth_social::{GitHub, SocialProvidersPlugin};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let database = Database::connect("sqlite://auth.db").await?;
//! run_migrations(&database).await?;
//! let auth = BetterAuth::new(
//!     AuthConfig::new(std::env::var("BETTER_AUTH_SECRET")?).base_url("http://localhost:3000"),
//! )
//! .database(database)
//! .plugin(EmailPasswordPlugin::new())
//! .plugin(AccountManagementPlugin::new())
//! .plugin(SocialProvidersPlugin::new().provider(GitHub::new(
//!     std::env::var("GITHUB_CLIENT_ID")?,
//!     std::env::var("GITHUB_CLIENT_SECRET")?,
//! )))
//! .build()
//! .await?;
//! // Nested at /auth, GitHub's callback URL is http://localhost:3000/auth/callback/github.
//! # Ok(()) }
//! ```
//!
//! The flow, and what guards each step:
//! 1. `POST /sign-in/social {provider, callbackURL?, errorCallbackURL?, newUserCallbackURL?}`
//!    checks every URL as redirects are checked (relative or a trusted
//!    origin), keeps a PKCE verifier and a nonce server-side under a
//!    single-use ten-minute `state`, sets the signed `better-auth.state`
//!    cookie, and answers `{url, redirect}`.
//! 2. The provider sends the browser to `GET /callback/{provider}?code&state`:
//!    the state must exist, be unused and unexpired, match the cookie, and
//!    belong to this provider; the code is redeemed with the verifier; an ID
//!    token must pass signature, `iss`, `aud`, `exp` and `nonce` checks.
//! 3. The user is signed in (a session cookie) and sent to `callbackURL`; any
//!    failure sends them to `errorCallbackURL?error=<code>` (default
//!    `<mount>/error`), never to a 500.
#![warn(missing_docs)]

mod fetch;
mod github;
mod oauth;
mod oidc;
mod pending;
mod plugin;
mod provider;
mod routes;
mod state;

pub use fetch::http_client;
pub use github::GitHub;
pub use oidc::{Google, Oidc};
pub use plugin::SocialProvidersPlugin;
pub use provider::{
    AuthorizationRequest, Callback, Identity, Provider, ProviderError, ProviderFuture,
};

/// What handlers are given: the auth instance's plugin context.
type Ctx = better_auth::AuthContext;
