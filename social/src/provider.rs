//! What a provider is to the plugin: it builds the authorization URL and,
//! given the code the browser brought back, says who the user is.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};

/// The future a [`Provider`] method returns.
pub type ProviderFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'a>>;

/// A sign-in provider. [`GitHub`](crate::GitHub), [`Google`](crate::Google)
/// and [`Oidc`](crate::Oidc) implement it; implement it for another OAuth 2.0
/// provider. Every request it makes should have a timeout and never follow
/// redirects (see [`crate::http_client`]).
pub trait Provider: Send + Sync + 'static {
    /// The provider id in URLs and in `account.providerId` (`github`).
    fn id(&self) -> &str;

    /// The issuer whose `iss` authorization-response parameter (RFC 9207) the
    /// callback must carry when it carries one; `None` when the provider has none.
    fn issuer(&self) -> Option<&str> {
        None
    }

    /// The URL to send the browser to.
    fn authorization_url<'a>(
        &'a self,
        request: AuthorizationRequest<'a>,
    ) -> ProviderFuture<'a, String>;

    /// Redeems the code and finds out who signed in.
    fn identify<'a>(&'a self, callback: Callback<'a>) -> ProviderFuture<'a, Identity>;
}

/// What an authorization URL must carry.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest<'a> {
    /// The `state` parameter (single use, bound to the browser).
    pub state: &'a str,
    /// The PKCE S256 challenge of the verifier kept with the state.
    pub code_challenge: &'a str,
    /// The OpenID Connect `nonce` the ID token must carry.
    pub nonce: &'a str,
    /// This server's callback URL for the provider.
    pub redirect_uri: &'a str,
    /// Scopes requested beyond the provider's defaults.
    pub extra_scopes: &'a [String],
    /// A `login_hint` (the email the user means to sign in with).
    pub login_hint: Option<&'a str>,
}

/// What the callback brought back, with what the flow kept.
#[derive(Debug, Clone)]
pub struct Callback<'a> {
    /// The authorization code.
    pub code: &'a str,
    /// The PKCE verifier kept with the state.
    pub code_verifier: &'a str,
    /// The nonce sent in the authorization request.
    pub nonce: &'a str,
    /// The callback URL sent in the authorization request.
    pub redirect_uri: &'a str,
    /// The current time by the auth instance's clock (ID-token expiry).
    pub now: DateTime<Utc>,
}

/// Who signed in, as the provider says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user's stable id at the provider (`sub`, GitHub's numeric id).
    pub account_id: String,
    /// The email address, if the provider gave one.
    pub email: Option<String>,
    /// Whether the provider vouches that the address is the user's.
    pub email_verified: bool,
    /// Display name.
    pub name: Option<String>,
    /// Avatar URL.
    pub image: Option<String>,
    /// Scopes granted.
    pub scopes: Vec<String>,
}

/// Why a provider step failed: a Better Auth error code for the redirect
/// (`?error=invalid_code`) and a description for the log and `error_description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    code: &'static str,
    description: String,
}

impl ProviderError {
    /// Exchanging the code failed (refused, unreachable, or not a token response).
    pub fn invalid_code(description: impl Into<String>) -> Self {
        Self::new("invalid_code", description)
    }

    /// The tokens came back but the user could not be identified (an ID token
    /// that fails validation, a user API that is down or answers garbage).
    pub fn user_info(description: impl Into<String>) -> Self {
        Self::new("unable_to_get_user_info", description)
    }

    /// The provider's configuration (OpenID discovery) could not be read.
    pub fn unavailable(description: impl Into<String>) -> Self {
        Self::new("provider_unavailable", description)
    }

    /// Any other code.
    pub fn new(code: &'static str, description: impl Into<String>) -> Self {
        ProviderError {
            code,
            description: description.into(),
        }
    }

    /// The error code sent to the error callback URL.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// What went wrong, for people.
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl std::fmt::Display for ProviderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for ProviderError {}
