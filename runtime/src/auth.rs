//! `BetterAuth`: the configured instance every request goes through.

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};
use http::{HeaderMap, Method, header};

use crate::config::{AuthConfig, MIN_SECRET_LEN, origin_of};
use crate::crypto::{self, PasswordHasher};
use crate::error::{Error, Result};
use crate::models::{Session, User};
use crate::plugins::{self, Plugin, PluginSetup, Route};
use crate::request::{AuthRequest, AuthResponse};
use crate::session_cache::SessionCache;

/// Where a validated cache entry keeps its rendered `/get-session` body.
pub(crate) type BodySlot = std::sync::Arc<std::sync::OnceLock<bytes::Bytes>>;

/// A live session found by [`BetterAuth::lookup_session_with_body`].
pub(crate) enum Lookup {
    /// Answered from the session cache, unchanged (never refreshed).
    Cached {
        /// The cached session and user.
        found: std::sync::Arc<(Session, User)>,
        /// The validated entry's rendered-body slot.
        body: Option<BodySlot>,
    },
    /// Read from the database (and stored in the cache, if any).
    Read {
        /// The session as resolved.
        resolved: Box<ResolvedSession>,
        /// The new validated entry's rendered-body slot.
        body: Option<BodySlot>,
    },
}
use crate::store::{self, Database};

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

impl BetterAuthBuilder {
    /// The database holding users and sessions (required).
    pub fn database(mut self, database: Database) -> Self {
        self.database = Some(database);
        self
    }

    /// Adds a plugin: its routes are mounted and its options applied.
    pub fn plugin(mut self, plugin: impl Plugin) -> Self {
        self.plugins.push(Box::new(plugin));
        self
    }

    /// Validates the configuration and builds the instance. Fails when the
    /// secret is shorter than 32 characters (S17), the base URL is not absolute,
    /// or no database was given.
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
        plugins::core::install(&mut setup);
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
        Ok(BetterAuth {
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
            routes: setup.routes,
            options: setup.options,
            openapi: std::sync::OnceLock::new(),
            signer,
        })
    }
}

/// Options that plugins set on the instance.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) signup_enabled: bool,
    pub(crate) require_email_verification: bool,
    pub(crate) send_verification_on_sign_up: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            signup_enabled: true,
            require_email_verification: false,
            send_verification_on_sign_up: false,
        }
    }
}

/// A configured auth instance: configuration, database, password hasher and
/// the table of routes its plugins mount. Share it as `Arc<BetterAuth>`.
pub struct BetterAuth {
    pub(crate) config: AuthConfig,
    pub(crate) database: Database,
    pub(crate) hasher: PasswordHasher,
    pub(crate) routes: Vec<Route>,
    pub(crate) options: Options,
    trusted_origins: Vec<String>,
    cookie_prefix: &'static str,
    pub(crate) session_cache: Option<SessionCache>,
    openapi: std::sync::OnceLock<String>,
    signer: crypto::TokenSigner,
}

impl fmt::Debug for BetterAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BetterAuth")
            .field("config", &self.config)
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

/// Whether a session lookup may slide the session's expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refresh {
    /// Never.
    No,
    /// When due, without a cookie to renew (extractors, handlers).
    Silent,
    /// When due or when the cookie is older than the session's last
    /// extension; the caller sends a renewed cookie (`/get-session`).
    WithCookie,
}

/// Where a session stands at one instant (see [`BetterAuth::timing`]).
struct SessionTiming {
    /// Idle- or absolutely expired.
    expired: bool,
    /// Old enough (`update_age`) for its expiry to slide.
    due: bool,
    /// When its expiry last slid (`expiresAt - expires_in`).
    last_extended: DateTime<Utc>,
    /// The expiry a refresh now would set (capped by the absolute lifetime).
    next_expiry: DateTime<Utc>,
}

impl SessionTiming {
    /// Whether a lookup of this kind must write the session (slide its expiry).
    /// `updatedAt` is when a cookie was last sent: a session extended since
    /// then (by an extractor) outlives its cookie, so `/get-session` renews it (S37).
    fn needs_write(&self, session: &Session, refresh: Refresh) -> bool {
        match refresh {
            Refresh::No => false,
            Refresh::Silent => self.due,
            Refresh::WithCookie => self.due || session.updated_at < self.last_extended,
        }
    }
}

/// A session found for a request, with the token the client presented.
#[derive(Clone, Debug)]
pub struct ResolvedSession {
    /// The session row.
    pub session: Session,
    /// Its user.
    pub user: User,
    /// The raw token the client sent (not stored anywhere).
    pub token: String,
    /// True when this lookup extended the session's expiry.
    pub refreshed: bool,
}

impl BetterAuth {
    /// Starts building an instance from a configuration.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(config: AuthConfig) -> BetterAuthBuilder {
        BetterAuthBuilder {
            config,
            database: None,
            plugins: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The routes mounted by this instance (core routes and its plugins').
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The password hasher (Argon2id, off the async workers).
    pub fn password_hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The current time by the configured clock.
    pub fn now(&self) -> DateTime<Utc> {
        truncate_millis(self.config.clock.now())
    }

    /// Full name of the session cookie (with `__Secure-` on https).
    pub fn session_cookie_name(&self) -> String {
        format!("{}{}", self.cookie_prefix, self.config.session.cookie_name)
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
            (route.handler)(self, request).await
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

    /// True when the URL's origin is the base URL's or a configured trusted origin.
    pub fn is_trusted_origin(&self, url: &str) -> bool {
        origin_of(url).is_some_and(|o| self.trusted_origins.contains(&o))
    }

    /// S22: a redirect target must be a relative path (not `//` or `/\`) or on
    /// a trusted origin.
    pub fn check_redirect(&self, target: &str) -> Result<()> {
        let relative = target.starts_with('/')
            && !target.starts_with("//")
            && !target.starts_with("/\\")
            && !target.chars().any(char::is_control);
        if relative || self.is_trusted_origin(target) {
            Ok(())
        } else {
            Err(Error::InvalidCallbackUrl)
        }
    }

    /// The session token a request presents: `Authorization: Bearer` first
    /// (signed `<token>.<signature>` or the raw token), then the signed cookie.
    pub fn token_from_headers(&self, headers: &HeaderMap) -> Option<String> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|v| !v.is_empty());
        if let Some(value) = bearer {
            let value = percent_decode(value);
            return Some(match self.signer.verify(&value) {
                Some(token) => token.to_string(),
                None => value.into_owned(),
            });
        }
        let name = self.session_cookie_name();
        let value = cookie_value(headers, &name)?;
        self.signer.verify(&value).map(str::to_owned)
    }

    /// Finds the live session for a token: looks it up by digest, drops it when
    /// expired, and (with `allow_refresh`) slides its expiry when older than
    /// `update_age` (S13). This extension sends no cookie, so it leaves the
    /// session's `updatedAt` alone: the next `/get-session` sees that the
    /// session outlives the cookie it last sent and renews the cookie (S37).
    pub async fn session_for_token(
        &self,
        token: &str,
        allow_refresh: bool,
    ) -> Result<Option<ResolvedSession>> {
        let refresh = if allow_refresh {
            Refresh::Silent
        } else {
            Refresh::No
        };
        self.lookup_session(token, refresh).await
    }

    /// The lookup behind [`BetterAuth::session_for_token`] and `/get-session`.
    pub(crate) async fn lookup_session(
        &self,
        token: &str,
        refresh: Refresh,
    ) -> Result<Option<ResolvedSession>> {
        Ok(self
            .lookup_session_with_body(token, refresh)
            .await?
            .map(|lookup| match lookup {
                Lookup::Cached { found, .. } => ResolvedSession {
                    session: found.0.clone(),
                    user: found.1.clone(),
                    token: token.to_string(),
                    refreshed: false,
                },
                Lookup::Read { resolved, .. } => *resolved,
            }))
    }

    /// [`BetterAuth::lookup_session`], with the validated cache entry's slot
    /// for the rendered `/get-session` body when the answer is that entry's
    /// session unchanged (read from it, or just stored without a refresh).
    pub(crate) async fn lookup_session_with_body(
        &self,
        token: &str,
        refresh: Refresh,
    ) -> Result<Option<Lookup>> {
        let digest = crypto::token_digest(token);
        // Validated cache: the change counter is read before the cache and
        // before any database lookup whose result is stored under it.
        let version = match &self.session_cache {
            Some(cache) if cache.is_validated() => self.database.data_version(),
            _ => None,
        };
        let cached = match (&self.session_cache, version) {
            (Some(cache), Some(version)) => cache
                .get_validated_with_body(&digest, version)
                .map(|(found, body)| (found, Some(body))),
            (Some(cache), None) => cache.get(&digest).map(|found| (found, None)),
            (None, _) => None,
        };
        if let Some((found, body)) = cached {
            if self.servable_from_cache(&found.0, refresh) {
                return Ok(Some(Lookup::Cached { found, body }));
            }
        }
        let Some((mut session, user)) =
            store::sessions::find_with_user(&self.database, &digest).await?
        else {
            return Ok(None);
        };
        let now = self.now();
        let timing = self.timing(&session, now);
        if timing.expired {
            store::sessions::delete_by_id(&self.database, &session.id).await?;
            return Ok(None);
        }
        let refreshed = timing.needs_write(&session, refresh);
        if refreshed {
            session.expires_at = timing.next_expiry;
            if refresh == Refresh::WithCookie {
                session.updated_at = now;
                store::sessions::extend(&self.database, &session.id, session.expires_at, now)
                    .await?;
            } else {
                store::sessions::extend_expiry(&self.database, &session.id, session.expires_at)
                    .await?;
            }
        }
        let body = match (&self.session_cache, version) {
            (Some(cache), Some(version)) => {
                cache.insert_validated_with_body(&digest, version, &session, &user)
            }
            (Some(cache), None) => {
                cache.insert(&digest, &session, &user);
                None
            }
            (None, _) => None,
        };
        let resolved = ResolvedSession {
            session,
            user,
            token: token.to_string(),
            refreshed,
        };
        Ok(Some(Lookup::Read {
            resolved: Box::new(resolved),
            body,
        }))
    }

    /// The in-process session cache in use, if any: the default validated
    /// one (SQLite files), the opt-in ttl one, or none. Handlers that revoke
    /// sessions behind Better Auth's back may [`SessionCache::clear`] a ttl
    /// cache; a validated cache needs nothing (see [`crate::session_cache`]).
    pub fn session_cache(&self) -> Option<&SessionCache> {
        self.session_cache.as_ref()
    }

    /// True when a cached session would come out of the database path
    /// unchanged: neither idle- nor absolutely expired, and no sliding-expiry
    /// refresh due for this kind of request (those go to the database).
    fn servable_from_cache(&self, session: &Session, refresh: Refresh) -> bool {
        let timing = self.timing(session, self.now());
        !timing.expired && !timing.needs_write(session, refresh)
    }

    /// Where a session stands at `now` under the session settings (S13): one
    /// computation for the database path and the cache path.
    fn timing(&self, session: &Session, now: DateTime<Utc>) -> SessionTiming {
        let settings = &self.config.session;
        let absolute_end = chrono::Duration::from_std(settings.absolute_lifetime)
            .ok()
            .and_then(|d| session.created_at.checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let expires_in = chrono::Duration::from_std(settings.expires_in).unwrap_or_default();
        let update_age = chrono::Duration::from_std(settings.update_age).unwrap_or_default();
        let last_extended = session.expires_at - expires_in;
        SessionTiming {
            // Idle expiry (expiresAt) and absolute expiry, both by the server's clock.
            expired: session.expires_at <= now || absolute_end <= now,
            due: last_extended + update_age <= now,
            last_extended,
            next_expiry: (now + expires_in).min(absolute_end),
        }
    }

    /// Drops sessions from the opt-in in-process cache after a change that
    /// ends or alters them (one digest, or all when `None`), so this
    /// instance sees the change at once rather than within the cache's ttl.
    pub(crate) fn forget_cached_sessions(&self, digest: Option<&str>) {
        if let Some(cache) = &self.session_cache {
            match digest {
                Some(digest) => cache.remove(digest),
                None => cache.clear(),
            }
        }
    }

    /// The live session of a request, if any (bearer first, then cookie).
    pub async fn session_from_headers(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<ResolvedSession>> {
        match self.token_from_headers(headers) {
            Some(token) => self.session_for_token(&token, true).await,
            None => Ok(None),
        }
    }

    /// The live session of a request or [`Error::Unauthorized`].
    pub async fn require_session(&self, request: &AuthRequest) -> Result<ResolvedSession> {
        self.session_from_headers(&request.headers)
            .await?
            .ok_or(Error::Unauthorized)
    }

    /// Creates a session for a user and returns it with its raw token. The
    /// database keeps only the token's digest (S11).
    pub async fn create_session(
        &self,
        user: &User,
        request: &AuthRequest,
    ) -> Result<(Session, String)> {
        let token = crypto::generate_token();
        let now = self.now();
        let expires_in =
            chrono::Duration::from_std(self.config.session.expires_in).unwrap_or_default();
        let session = Session {
            id: crypto::generate_id(),
            token: crypto::token_digest(&token),
            user_id: user.id.clone(),
            expires_at: now + expires_in,
            created_at: now,
            updated_at: now,
            ip_address: Some(request.peer.map(|ip| ip.to_string()).unwrap_or_default()),
            user_agent: Some(
                request
                    .header(header::USER_AGENT)
                    .unwrap_or_default()
                    .chars()
                    .take(512)
                    .collect(),
            ),
        };
        store::sessions::create(&self.database, &session).await?;
        Ok((session, token))
    }

    /// Uses up a token: its value when it existed for `purpose` and had not expired.
    pub(crate) async fn consume_token(&self, purpose: &str, token: &str) -> Result<Option<String>> {
        let identifier = format!("{purpose}:{}", crypto::token_digest(token));
        store::verifications::consume(&self.database, &identifier, self.now()).await
    }

    /// A token's value without using it up.
    pub(crate) async fn peek_token(&self, purpose: &str, token: &str) -> Result<Option<String>> {
        let identifier = format!("{purpose}:{}", crypto::token_digest(token));
        store::verifications::peek(&self.database, &identifier, self.now()).await
    }

    /// Runs `job` (issuing a token, sending an email) in a background task
    /// (S34): the response neither waits for it nor reveals its outcome by
    /// timing or status; failures are logged.
    pub(crate) fn in_background<F>(&self, what: &'static str, job: F)
    where
        F: std::future::Future<Output = Result<()>> + Send + 'static,
    {
        tokio::spawn(async move {
            if let Err(err) = job.await {
                tracing::error!(error = %err, "better-auth: {what} failed");
            }
        });
    }

    /// What a background task needs to issue tokens and send mail.
    pub(crate) fn mailer(&self) -> Mailer {
        Mailer {
            db: self.database.clone(),
            config: self.config.clone(),
            now: self.now(),
        }
    }

    /// S30, S31: the one way a password is checked. Reserves an attempt for
    /// the account first (refused with 429 while the account is delayed), then
    /// verifies against `stored`, or against a dummy hash when there is none
    /// (S07); a correct password clears the account's attempts.
    pub(crate) async fn check_password_attempt(
        &self,
        account: &str,
        password: &str,
        stored: Option<&str>,
    ) -> Result<crypto::Verified> {
        let store = &self.config.rate_limit.store;
        let decision = store.reserve_attempt(account, self.now()).await?;
        if !decision.allowed {
            return Err(Error::TooManyRequests {
                retry_after: decision.retry_after,
            });
        }
        let verified = match stored {
            Some(stored) => self.hasher.verify(password, stored).await?,
            None => {
                self.hasher.verify_dummy(password).await?;
                crypto::Verified {
                    ok: false,
                    needs_rehash: false,
                }
            }
        };
        if verified.ok {
            store.clear_attempts(account).await?;
        }
        Ok(verified)
    }

    /// Forgets an account's failed password attempts (after a reset, S10).
    pub(crate) async fn clear_password_attempts(&self, account: &str) -> Result<()> {
        self.config.rate_limit.store.clear_attempts(account).await
    }

    /// The OpenAPI document of this instance's routes, as JSON.
    pub fn openapi_json(&self) -> &str {
        self.openapi.get_or_init(|| {
            crate::openapi::document(&self.config, &self.routes)
                .to_pretty_json()
                .unwrap_or_else(|_| "{}".to_string())
        })
    }

    /// Adds the session cookie, `set-auth-token` and the header exposing it.
    /// `remember = false` makes a browser-session cookie (no Max-Age) and sets
    /// the `dont_remember` marker cookie.
    pub fn with_session_cookie(
        &self,
        response: AuthResponse,
        token: &str,
        remember: bool,
    ) -> AuthResponse {
        let signed = self.signer.sign(token);
        let max_age = remember.then_some(self.config.session.expires_in.as_secs());
        let mut response = response
            .header(
                header::SET_COOKIE,
                &self.cookie_line(&self.session_cookie_name(), &signed, max_age),
            )
            .header(header::HeaderName::from_static("set-auth-token"), &signed)
            .header(header::ACCESS_CONTROL_EXPOSE_HEADERS, "set-auth-token");
        // S38: a response carrying a session token is never stored by a cache.
        response.headers.insert(
            header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        if !remember {
            let marker = self.signer.sign("true");
            response = response.header(
                header::SET_COOKIE,
                &self.cookie_line(&self.aux_cookie_name("dont_remember"), &marker, None),
            );
        }
        response
    }

    /// Clears the session, session-data and dont-remember cookies (sign-out).
    pub fn with_cleared_cookies(&self, mut response: AuthResponse) -> AuthResponse {
        for name in [
            self.session_cookie_name(),
            self.aux_cookie_name("session_data"),
            self.aux_cookie_name("dont_remember"),
        ] {
            response = response.header(header::SET_COOKIE, &self.cookie_line(&name, "", Some(0)));
        }
        response
    }

    /// True when the request carries the `dont_remember` marker cookie.
    pub fn dont_remember(&self, headers: &HeaderMap) -> bool {
        cookie_value(headers, &self.aux_cookie_name("dont_remember"))
            .is_some_and(|v| self.signer.verify(&v) == Some("true"))
    }

    fn aux_cookie_name(&self, suffix: &str) -> String {
        let base = self
            .config
            .session
            .cookie_name
            .rsplit_once('.')
            .map_or("better-auth", |(prefix, _)| prefix);
        format!("{}{base}.{suffix}", self.cookie_prefix)
    }

    /// One `Set-Cookie` line: HttpOnly, SameSite=Lax, Path=/, no Domain, and
    /// Secure on https (S15). The value is percent-encoded.
    fn cookie_line(&self, name: &str, value: &str, max_age: Option<u64>) -> String {
        let mut cookie = cookie::Cookie::build((name.to_string(), value.to_string()))
            .path("/")
            .http_only(true)
            .same_site(cookie::SameSite::Lax)
            .secure(self.config.is_secure())
            .build();
        if let Some(secs) = max_age {
            cookie.set_max_age(cookie::time::Duration::seconds(secs as i64));
        }
        cookie.encoded().to_string()
    }
}

/// A detached handle for background mail tasks (S34).
pub(crate) struct Mailer {
    pub(crate) db: Database,
    pub(crate) config: AuthConfig,
    pub(crate) now: DateTime<Utc>,
}

impl Mailer {
    /// Stores a single-use token for `purpose` proving `value`, valid for one
    /// hour, and returns the raw token. Only its digest is stored (S21).
    pub(crate) async fn issue_token(&self, purpose: &str, value: &str) -> Result<String> {
        issue_token(&self.db, self.now, purpose, value).await
    }

    /// Sends through the configured sender.
    pub(crate) async fn send(&self, email: crate::email::Email) -> Result<()> {
        self.config
            .sender()
            .send(email)
            .await
            .map_err(|e| Error::Internal(format!("sending email failed: {e}")))
    }
}

/// Lifetime of reset and verification tokens (S21).
pub(crate) const TOKEN_LIFETIME: chrono::Duration = chrono::Duration::hours(1);

/// See [`Mailer::issue_token`].
pub(crate) async fn issue_token(
    db: &Database,
    now: DateTime<Utc>,
    purpose: &str,
    value: &str,
) -> Result<String> {
    let token = crypto::generate_token();
    let identifier = format!("{purpose}:{}", crypto::token_digest(&token));
    store::verifications::create(db, &identifier, value, now + TOKEN_LIFETIME, now).await?;
    Ok(token)
}

fn truncate_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    let millis = t.timestamp_millis();
    DateTime::from_timestamp_millis(millis).unwrap_or(t)
}

/// The decoded value of a cookie in the request's `Cookie` headers.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse_encoded)
        .filter_map(|c| c.ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// Bearer values sometimes arrive URL-encoded (copied from a cookie).
fn percent_decode(value: &str) -> std::borrow::Cow<'_, str> {
    // Most bearer values carry no escape: skip the decoder (it would return
    // the same text).
    if !value.as_bytes().contains(&b'%') {
        return std::borrow::Cow::Borrowed(value);
    }
    percent_encoding::percent_decode_str(value).decode_utf8_lossy()
}
