//! `AuthContext`: what every route handler gets. It is the plugin API: the
//! configuration, the database (through [`crate::store`]), the clock, sessions
//! and their cookies, single-use tokens, signed values, background work (email)
//! and the session cache. Our own plugins use nothing else, so a third-party
//! plugin can do anything they do.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::config::AuthConfig;
use crate::crypto::{self, PasswordHasher};
use crate::session_cache::SessionCache;
use crate::store::Database;

pub use background::Detached;
pub(crate) use extensions::Extensions;
pub(crate) use rendered::{BodySlot, Rendered};
pub(crate) use sessions::{Lookup, Refresh};
pub use sessions::{ResolvedSession, SessionOptions};

/// What a route handler works with: configuration, database, clock,
/// sessions, cookies, tokens, email and the session cache.
///
/// A [`crate::BetterAuth`] derefs to its context, so every method here is
/// also callable on the instance.
pub struct AuthContext {
    pub(crate) config: AuthConfig,
    pub(crate) database: Database,
    pub(crate) hasher: PasswordHasher,
    pub(crate) trusted_origins: Vec<String>,
    /// The base URL is on a loopback host: any loopback origin is trusted
    /// for requests to a loopback `Host` (see [`AuthConfig::base_url`]).
    pub(crate) loopback_base_url: bool,
    pub(crate) cookie_prefix: &'static str,
    pub(crate) session_cache: Option<SessionCache>,
    pub(crate) signer: crypto::TokenSigner,
    /// Signed session values already checked, with their token and digest.
    pub(crate) credentials: crate::credentials::CredentialMemo,
    /// The session cookie's full name (see [`AuthContext::session_cookie_name`]).
    pub(crate) session_cookie: String,
    pub(crate) extensions: Extensions,
    /// Plugins' hooks between a proved password and its session.
    pub(crate) sign_in_hooks: Vec<crate::route::SignInHook>,
    /// Plugins' checks of the user columns clients set.
    pub(crate) user_input_hooks: Vec<crate::route::UserInputHook>,
    /// Plugins' checks before any session is made.
    pub(crate) session_hooks: Vec<crate::route::SessionHook>,
    /// Plugins' rules for sessions `/list-sessions` leaves out.
    pub(crate) unlisted_sessions: Vec<fn(&crate::models::Session) -> bool>,
    pub(crate) openapi_json: String,
}

impl fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthContext")
            .field("config", &self.config)
            .field("database", &self.database)
            .field("extensions", &self.extensions.len())
            .finish_non_exhaustive()
    }
}

impl AuthContext {
    /// The OpenAPI document of this instance's routes, as JSON.
    pub fn openapi_json(&self) -> &str {
        &self.openapi_json
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The password hasher (Argon2id, off the async workers).
    pub fn password_hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The current time by the configured clock.
    pub fn now(&self) -> DateTime<Utc> {
        truncate_millis(self.config.clock.now())
    }
}

fn truncate_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    let millis = t.timestamp_millis();
    DateTime::from_timestamp_millis(millis).unwrap_or(t)
}

// The methods, one file per concern, each an `impl AuthContext` block. The
// documentation lists them in this order, then the accessors above.

// What plugins provide to each other.
mod extensions;
// The client a request counts as, trusted origins, redirect targets.
mod origins;
// Finding, creating and requiring sessions.
mod sessions;
// Expiry, sliding refresh and freshness.
mod timing;
// The session cache.
mod cache;
// The `/get-session` answer kept per cache entry.
mod rendered;
// Cookies and the credential a request presents.
mod cookies;
// The device cookie and the password attempt key it gives.
mod devices;
// Password attempts under the per-account throttle.
mod passwords;
// Single-use tokens.
mod tokens;
// Signed values.
mod signing;
// Background work and the `Detached` handle.
mod background;
