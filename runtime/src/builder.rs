//! `BetterAuthBuilder`: validates the configuration, installs the plugins and
//! builds the instance. It sits above everything it assembles.

use std::collections::HashSet;
use std::fmt;

use http::Method;

use crate::auth::BetterAuth;
use crate::config::{AuthConfig, MIN_SECRET_LEN, origin_of};
use crate::context::AuthContext;
use crate::crypto::{self, PasswordHasher};
use crate::error::{Error, Result};
use crate::route::{Plugin, PluginSetup};
use crate::session_cache::SessionCache;
use crate::store::Database;

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
        let mut database = self.database.ok_or_else(|| {
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
            setup.installing = plugin.id();
            plugin.install(&mut setup);
        }
        #[allow(unused_mut)]
        let mut schema = crate::store::columns::UserSchema::new(
            std::mem::take(&mut setup.user_fields),
            std::mem::take(&mut setup.session_fields),
        )
        .map_err(Error::Config)?;
        // This crate's writes through the instance's database mark Redis.
        #[cfg(feature = "redis")]
        {
            schema.redis = config.secondary_storage.clone();
        }
        database.user_schema = std::sync::Arc::new(schema);
        for (plugin, migrations) in &setup.migrations {
            crate::store::apply_migrations(
                &database,
                crate::store::History::Plugin(plugin),
                migrations,
            )
            .await?;
        }
        for rule in std::mem::take(&mut setup.rate_limits) {
            if !config.rate_limit.rules.iter().any(|r| r.path == rule.path) {
                config.rate_limit.rules.push(rule);
            }
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
        let cookie_prefix = if config.is_secure() { "__Secure-" } else { "" };
        let loopback_base_url = crate::config::is_loopback_origin(&config.base_url);
        let mut context = AuthContext {
            loopback_base_url,
            cookie_prefix,
            session_cookie: format!("{cookie_prefix}{}", config.session.cookie_name),
            credentials: crate::credentials::CredentialMemo::new(
                crate::credentials::DEFAULT_CAPACITY,
            ),
            session_cache: match config.session_cache_ttl {
                Some(ttl) => Some(SessionCache::new(ttl)),
                None if config.validated_session_cache && database.has_change_counter() => {
                    database.watch_changes();
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
            sign_in_hooks: setup.sign_in_hooks,
            user_input_hooks: setup.user_input_hooks,
            session_hooks: setup.session_hooks,
            unlisted_sessions: setup.unlisted,
            openapi_json: String::new(),
        };
        // Rendered once, from the route table: the context serves it at `/openapi.json`.
        context.openapi_json = crate::openapi::document(&context.config, &setup.routes)
            .to_pretty_json()
            .map_err(|e| Error::Internal(format!("rendering the OpenAPI document: {e}")))?;
        // S50: expired tokens are deleted in the background while the instance lives.
        let purge = crate::purge::start(
            context.database.clone(),
            context.config.clock.clone(),
            context.config.verification_purge_interval,
        );
        Ok(BetterAuth {
            context,
            routes: setup.routes,
            _purge: purge,
        })
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
}
