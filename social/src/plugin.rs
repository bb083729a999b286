//! `SocialProvidersPlugin`: the providers, the options, and the routes.

use std::collections::BTreeMap;
use std::sync::Arc;

use better_auth::plugins::{Plugin, PluginSetup, Route};
use http::Method;

use crate::provider::Provider;
use crate::routes;
use crate::state::{Options, Social};

/// Social sign-in: Better Auth's `POST /sign-in/social`,
/// `GET /callback/{provider}`, `POST /link-social` and `GET /error`, for the
/// providers added with [`SocialProvidersPlugin::provider`]. Add
/// `AccountManagementPlugin` too, so users see (`/list-accounts`) and remove
/// (`/unlink-account`) linked accounts.
///
/// ```
/// use better_auth_social::{GitHub, Google, Oidc, SocialProvidersPlugin};
/// let social = SocialProvidersPlugin::new()
///     .provider(GitHub::new("github client id", "github client secret"))
///     .provider(Google::new("google client id", "google client secret"))
///     .provider(Oidc::new("acme", "https://login.acme.example", "client id", "secret"));
/// ```
///
/// What it does with accounts (as Better Auth does by default):
/// - a provider account already linked signs its user in;
/// - otherwise an existing user with the same email is linked only when the
///   provider says the address is verified *and* the user's own address is
///   verified (else `?error=account_not_linked`): an unverified address never
///   hands someone else's account over;
/// - otherwise a new user is created (unless [`SocialProvidersPlugin::disable_sign_up`]).
///
/// Provider tokens (access, refresh and ID tokens) are used once, to learn who
/// signed in, and never stored: a leaked database holds no key to anyone's
/// GitHub or Google account.
pub struct SocialProvidersPlugin {
    providers: BTreeMap<String, Arc<dyn Provider>>,
    options: Options,
}

impl std::fmt::Debug for SocialProvidersPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocialProvidersPlugin")
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .field("options", &self.options)
            .finish()
    }
}

impl SocialProvidersPlugin {
    /// The plugin with no providers.
    pub fn new() -> Self {
        SocialProvidersPlugin {
            providers: BTreeMap::new(),
            options: Options::default(),
        }
    }

    /// Adds a provider.
    ///
    /// # Panics
    /// When a provider with the same id was added already, or the id is not
    /// made of lower-case letters, digits, `-` and `_` (it is part of URLs).
    pub fn provider(mut self, provider: impl Provider) -> Self {
        let id = provider.id().to_owned();
        assert!(
            !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'),
            "social provider id `{id}`: use lower-case letters, digits, `-` and `_`"
        );
        assert!(
            !self.providers.contains_key(&id),
            "social provider `{id}` added twice"
        );
        self.providers.insert(id, Arc::new(provider));
        self
    }

    /// Only existing users sign in: a provider account matching no user is
    /// refused (`?error=signup_disabled`). Default: new users are created.
    pub fn disable_sign_up(mut self, disabled: bool) -> Self {
        self.options.disable_sign_up = disabled;
        self
    }

    /// Lets a signed-in user link a provider account whose (verified) email
    /// differs from theirs. Default: refused with `?error=email_does_not_match`.
    pub fn allow_different_emails(mut self, allowed: bool) -> Self {
        self.options.allow_different_emails = allowed;
        self
    }

    /// The most sign-in and link flows one client (an address, or an IPv6
    /// /64; behind trusted proxies, the address they name) may have started
    /// and not finished, each kept in the database for up to ten minutes
    /// (S50). Past it, `/sign-in/social` and `/link-social` answer 429 with
    /// `Retry-After` until one of them ends or expires. Default 50 per
    /// instance. Clients of a server started without connect info are not
    /// told apart and not counted (as for rate limits).
    pub fn max_pending_flows(mut self, flows: usize) -> Self {
        self.options.max_pending_flows = Some(flows.max(1));
        self
    }
}

impl Default for SocialProvidersPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl Plugin for SocialProvidersPlugin {
    fn id(&self) -> &'static str {
        "social-providers"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup.extension(Social {
            providers: self.providers.clone(),
            options: self.options.clone(),
            pending: crate::pending::PendingFlows::new(
                self.options
                    .max_pending_flows
                    .unwrap_or(crate::pending::DEFAULT_MAX_PENDING),
            ),
        });
        setup
            .route(
                Route::new(
                    Method::POST,
                    "/sign-in/social",
                    "Start signing in with a social provider: answers the provider's authorization URL",
                    |a, r| Box::pin(routes::sign_in_social(a, r)),
                )
                .body::<routes::SignInSocialBody>()
                .returns::<routes::AuthorizationUrl>()
                .errors(&[400, 403, 404, 429, 502]),
            )
            .route(
                Route::new(
                    Method::POST,
                    "/link-social",
                    "Link a social provider account to the signed-in user: answers the provider's authorization URL",
                    |a, r| Box::pin(routes::link_social(a, r)),
                )
                .body::<routes::LinkSocialBody>()
                .returns::<routes::AuthorizationUrl>()
                .errors(&[400, 403, 404, 429, 502])
                .authenticated(),
            )
            .route(
                Route::new(
                    Method::GET,
                    "/callback/{provider}",
                    "Where the provider sends the browser back: signs in (or links) and redirects to the callback URL, or to the error URL with `?error=`",
                    |a, r| Box::pin(routes::callback(a, r)),
                )
                .query(&[
                    ("code", false),
                    ("state", false),
                    ("error", false),
                    ("error_description", false),
                    ("iss", false),
                ])
                .redirects(),
            )
            .route(
                Route::new(
                    Method::GET,
                    "/error",
                    "A page naming a sign-in error (`?error=`), where failed social sign-ins land without an errorCallbackURL",
                    |a, r| Box::pin(routes::error_page(a, r)),
                )
                .query(&[("error", false), ("error_description", false)]),
            );
    }
}
