//! `BetterAuth`: the built instance (its [`AuthContext`] and the route table)
//! and the request pipeline every route shares; `BetterAuthBuilder` builds it.

use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;

use http::{Method, header};

use crate::config::{AuthConfig, MIN_SECRET_LEN, origin_of};
use crate::context::AuthContext;
use crate::crypto::{self, PasswordHasher};
use crate::error::{Error, Result};
use crate::plugins::{Plugin, PluginSetup, Route};
use crate::request::{AuthRequest, AuthResponse};
use crate::session_cache::SessionCache;
use crate::store::Database;

/// Said once per process when requests arrive without the client's address.
const NO_CLIENT_ADDRESSES: &str = "better-auth cannot see client addresses, so rate limits are \
     off: serve the app with `axum::serve(listener, \
     app.into_make_service_with_connect_info::<SocketAddr>())` (behind a reverse proxy, also \
     list it in `RateLimitConfig::trusted_proxies` so `X-Forwarded-For` is read)";

/// Starts building a [`BetterAuth`]: `BetterAuth::new(config).database(db).plugin(..).build().await?`.
pub struct BetterAuthBuilder {
    config: AuthConfig,
    database: Option<Database>,
    plugins: Vec<Box<dyn Plugin>>,
}

impl fmt::Debug for BetterAuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plugins: Vec<&str> = self.plugins.iter().map(|p| p.id()).collect();
        f.debug_struct("BetterAuthBuilder")
            .field("config", &self.config)
            .field("database", &self.database)
            .field("plugins", &plugins)
            .finish()
    }
}

impl BetterAuthBuilder {
    /// The database holding users and sessions (required).
    ///
    /// ``` no_run
    /// use better_auth::{AuthConfig, BetterAuth};
    /// use better_auth::store::Database;
    ///
    /// # async fn f() -> better_auth::Result<()> {
    /// let database = Database::connect("sqlite://auth.db?mode=rwc").await?;
    /// better_auth::run_migrations(&database).await?;
    /// let auth = BetterAuth::new(AuthConfig::new("a-secret-of-at-least-32-characters!!")).database(database).build().await?;
    /// # Ok(()) }
    /// ```
    pub fn database(mut self, database: Database) -> Self {
        self.database = Some(database);
        self
    }

    /// Adds a plugin: its routes are mounted and its options applied.
    ///
    /// ``` no_run
    /// use better_auth::{AuthConfig, BetterAuth};
    /// use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
    /// use better_auth::store::Database;
    ///
    /// # async fn f() -> better_auth::Result<()> {
    /// let auth = BetterAuth::new(AuthConfig::new("a-secret-of-at-least-32-characters!!"))
    ///     .database(Database::connect("sqlite::memory:").await?)
    ///     .plugin(EmailPasswordPlugin::new())
    ///     .plugin(SessionManagementPlugin::new())
    ///     .build()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn plugin(mut self, plugin: impl Plugin) -> Self {
        self.plugins.push(Box::new(plugin));
        self
    }

    /// Validates the configuration and builds the instance. Fails when the
    /// secret is shorter than 32 characters (S17), the base URL is not absolute,
    /// or no database was given.
    ///
    /// ``` no_run
    /// use better_auth::{AuthConfig, BetterAuth, Error};
    /// use better_auth::store::Database;
    ///
    /// # async fn f() -> better_auth::Result<()> {
    /// let database = Database::connect("sqlite::memory:").await?;
    /// // A short secret is refused when the instance is built (S17).
    /// let refused = BetterAuth::new(AuthConfig::new("too-short")).database(database).build().await;
    /// assert!(matches!(refused, Err(Error::Config(_))));
    /// # Ok(()) }
    /// ```
    pub async fn build(self) -> Result<BetterAuth> {
        let mut config = self.config;
        // Resolved once: the configured sender, or the default for the base URL (S38).
        config.email_sender = Some(config.sender());
        if config.secret.chars().count() < MIN_SECRET_LEN {
            return Err(Error::Config(format!(
                "the secret must be at least {MIN_SECRET_LEN} characters long \
                 (generate one with `better-auth secret` or `openssl rand -base64 32`)"
            )));
        }
        if origin_of(&config.base_url).is_none() {
            return Err(Error::Config(format!(
                "base_url `{}` is not an absolute URL like http://localhost:3000",
                config.base_url
            )));
        }
        let database = self.database.ok_or_else(|| {
            Error::Config("no database: call .database(Database::connect(url).await?)".into())
        })?;

        let mut setup = PluginSetup::default();
        crate::core_routes::install(&mut setup);
        let mut ids = HashSet::new();
        for plugin in &self.plugins {
            if !ids.insert(plugin.id()) {
                return Err(Error::Config(format!(
                    "plugin `{}` added twice",
                    plugin.id()
                )));
            }
            plugin.install(&mut setup);
        }
        let mut seen = HashSet::new();
        for route in &setup.routes {
            if !seen.insert((route.method.clone(), route.path)) {
                return Err(Error::Config(format!(
                    "two plugins mount {} {}",
                    route.method, route.path
                )));
            }
        }
        for route in &setup.routes {
            // S-r2: a method the router cannot mount exactly is refused, never
            // served as another one.
            if !matches!(
                route.method,
                Method::GET | Method::POST | Method::PUT | Method::PATCH | Method::DELETE
            ) {
                return Err(Error::Config(format!(
                    "route {} {}: only GET, POST, PUT, PATCH and DELETE routes can be mounted",
                    route.method, route.path
                )));
            }
        }
        let queue = config.hashing_queue;
        let hasher = tokio::task::spawn_blocking(move || PasswordHasher::with_queue(queue))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
        let mut trusted = vec![config.base_origin()];
        trusted.extend(config.trusted_origins.iter().filter_map(|o| origin_of(o)));
        let signer = crypto::TokenSigner::new(&config.secret);
        let mut context = AuthContext {
            cookie_prefix: if config.is_secure() { "__Secure-" } else { "" },
            session_cache: match config.session_cache_ttl {
                Some(ttl) => Some(SessionCache::new(ttl)),
                None if config.validated_session_cache && database.data_version().is_some() => {
                    Some(SessionCache::validated(
                        crate::session_cache::DEFAULT_CAPACITY,
                    ))
                }
                None => None,
            },
            trusted_origins: trusted,
            config,
            database,
            hasher,
            signer,
            extensions: setup.extensions,
            openapi_json: String::new(),
        };
        // Rendered once, from the route table: the context serves it at `/openapi.json`.
        context.openapi_json = crate::openapi::document(&context.config, &setup.routes)
            .to_pretty_json()
            .map_err(|e| Error::Internal(format!("rendering the OpenAPI document: {e}")))?;
        Ok(BetterAuth {
            context,
            routes: setup.routes,
        })
    }
}

/// A configured auth instance: its [`AuthContext`] (configuration, database,
/// password hasher, session cache) and the table of routes its plugins mount.
/// Share it as `Arc<BetterAuth>`; it derefs to its context.
pub struct BetterAuth {
    context: AuthContext,
    routes: Vec<Route>,
}

impl Deref for BetterAuth {
    type Target = AuthContext;

    fn deref(&self) -> &AuthContext {
        &self.context
    }
}

impl fmt::Debug for BetterAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BetterAuth")
            .field("config", &self.context.config)
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

impl BetterAuth {
    /// Starts building an instance from a configuration.
    ///
    /// ``` no_run
    /// use std::sync::Arc;
    /// use better_auth::{AuthConfig, BetterAuth};
    /// use better_auth::plugins::EmailPasswordPlugin;
    /// use better_auth::store::Database;
    ///
    /// # async fn f() -> better_auth::Result<()> {
    /// let auth = Arc::new(
    ///     BetterAuth::new(AuthConfig::new("a-secret-of-at-least-32-characters!!"))
    ///         .database(Database::connect("sqlite::memory:").await?)
    ///         .plugin(EmailPasswordPlugin::new())
    ///         .build()
    ///         .await?,
    /// );
    /// # Ok(()) }
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new(config: AuthConfig) -> BetterAuthBuilder {
        BetterAuthBuilder {
            config,
            database: None,
            plugins: Vec::new(),
        }
    }

    /// The routes mounted by this instance (core routes and its plugins').
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }
    /// The context handlers run with.
    pub fn context(&self) -> &AuthContext {
        &self.context
    }

    /// Runs a routed request through the checks every route shares and its
    /// handler, turning errors into JSON error responses: the checks on the
    /// request's head ([`BetterAuth::admit`]), then [`BetterAuth::respond`].
    pub async fn handle(&self, route: &Route, request: AuthRequest) -> AuthResponse {
        match self.admit(route, &request).await {
            Ok(()) => self.respond(route, request).await,
            Err(err) => self.error_response(route, &err),
        }
    }

    /// The checks that need only the request's head, run before its body is
    /// read (S36): the client's rate limit (S09) and the origin check (S16, S35).
    /// `request.body` is not looked at.
    pub async fn admit(&self, route: &Route, request: &AuthRequest) -> Result<()> {
        self.check_rate_limit(route, request).await?;
        self.check_origin(request)
    }

    /// Runs an admitted request (body read) through its handler: a body that
    /// is not JSON gets 415 (S35); errors become JSON error responses.
    pub async fn respond(&self, route: &Route, request: AuthRequest) -> AuthResponse {
        let result = if request.has_json_body_or_none() {
            (route.handler)(&self.context, request).await
        } else {
            Err(Error::UnsupportedMediaType)
        };
        match result {
            Ok(response) => response,
            Err(err) => self.error_response(route, &err),
        }
    }

    /// The JSON error response for a route's error; server errors are logged.
    pub fn error_response(&self, route: &Route, err: &Error) -> AuthResponse {
        if err.status().is_server_error() {
            tracing::error!(error = %err, path = route.path, "better-auth request failed");
        }
        AuthResponse::error(err)
    }

    /// S09: counts the request against its client's limit for this route.
    ///
    /// Without the client's address (the app is not served with connect info) nothing is
    /// counted; that is said once per process, through `tracing` and on stderr.
    async fn check_rate_limit(&self, route: &Route, request: &AuthRequest) -> Result<()> {
        let limits = &self.config.rate_limit;
        if !limits.enabled {
            return Ok(());
        }
        let Some(peer) = request.peer else {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                tracing::warn!("{NO_CLIENT_ADDRESSES}");
                // Many apps install no `tracing` subscriber: say it where it is always seen.
                eprintln!("warning: {NO_CLIENT_ADDRESSES}");
            });
            return Ok(());
        };
        let client = limits.client_ip(peer, &request.headers);
        let key = format!("{}|{}", route.path, crate::rate_limit::bucket(client));
        let (window, max) = limits.limit_for(route.path);
        let decision = limits.store.hit(&key, window, max, self.now()).await?;
        if decision.allowed {
            Ok(())
        } else {
            Err(Error::TooManyRequests {
                retry_after: decision.retry_after,
            })
        }
    }

    /// S16 and S35: every state-changing request (any method but GET, HEAD,
    /// OPTIONS) is refused when it comes from an untrusted origin, with or
    /// without a cookie:
    /// - an `Origin` header decides alone: `null` is refused (even with a
    ///   same-origin `Referer`), another origin must be trusted;
    /// - `Sec-Fetch-Site: cross-site` is refused unless `Origin` is trusted;
    /// - without `Origin`, a request carrying cookies needs a trusted `Referer`;
    /// - requests with neither header nor cookie (server-to-server, CLI, bearer
    ///   clients) pass: no browser sent them on a user's behalf.
    fn check_origin(&self, request: &AuthRequest) -> Result<()> {
        if matches!(request.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Ok(());
        }
        if let Some(origin) = request.header(header::ORIGIN) {
            let origin = origin.trim();
            if origin.is_empty() || origin == "null" {
                return Err(Error::MissingOrNullOrigin);
            }
            return if self.is_trusted_origin(origin) {
                Ok(())
            } else {
                Err(Error::InvalidOrigin)
            };
        }
        if request.headers.contains_key(header::ORIGIN) {
            // Present but not text: as untrusted as it gets.
            return Err(Error::InvalidOrigin);
        }
        if request
            .header("sec-fetch-site")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("cross-site"))
        {
            return Err(Error::InvalidOrigin);
        }
        if !request.headers.contains_key(header::COOKIE) {
            return Ok(());
        }
        let referer = request
            .header(header::REFERER)
            .filter(|r| !r.is_empty())
            .ok_or(Error::MissingOrNullOrigin)?;
        if self.is_trusted_origin(referer) {
            Ok(())
        } else {
            Err(Error::InvalidOrigin)
        }
    }
}
