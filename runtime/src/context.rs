//! `AuthContext`: what every route handler gets. It is the plugin API: the
//! configuration, the database (through [`crate::store`]), the clock, sessions
//! and their cookies, single-use tokens, signed values, background work (email)
//! and the session cache. Our own plugins use nothing else, so a third-party
//! plugin can do anything they do.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{HeaderMap, header};

use crate::config::{AuthConfig, origin_of};
use crate::credentials::Credential;
use crate::crypto::{self, PasswordHasher};
use crate::error::{Error, Result};
use crate::models::{Session, User};
use crate::request::{AuthRequest, AuthResponse};
use crate::session_cache::SessionCache;
use crate::store::{self, Database};

/// Where a session cache entry keeps its rendered `/get-session` body.
pub(crate) type BodySlot = std::sync::Arc<std::sync::OnceLock<crate::request::Rendered>>;

/// A live session found by [`AuthContext::lookup_session_with_body`].
pub(crate) enum Lookup {
    /// Answered from the session cache, unchanged (never refreshed).
    Cached {
        /// The cached session and user.
        found: std::sync::Arc<(Session, User)>,
        /// The entry's rendered-body slot.
        body: Option<BodySlot>,
    },
    /// Read from the database (and stored in the cache, if any).
    Read {
        /// The session as resolved.
        resolved: Box<ResolvedSession>,
        /// The new cache entry's rendered-body slot.
        body: Option<BodySlot>,
    },
}

impl Lookup {
    /// The session found, as a [`ResolvedSession`] for `token`.
    pub(crate) fn into_resolved(self, token: &str) -> ResolvedSession {
        match self {
            Lookup::Cached { found, .. } => ResolvedSession {
                session: found.0.clone(),
                user: found.1.clone(),
                token: token.to_owned(),
                refreshed: false,
            },
            Lookup::Read { resolved, .. } => *resolved,
        }
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

/// Where a session stands at one instant (see [`AuthContext::timing`]).
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
#[non_exhaustive]
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

/// Values plugins provide while an instance is built, one per type
/// (see [`crate::plugins::PluginSetup::extension`]).
pub(crate) type Extensions = HashMap<TypeId, Box<dyn Any + Send + Sync>>;

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

    /// The value of type `T` a plugin gave with
    /// [`PluginSetup::extension`](crate::plugins::PluginSetup::extension), if any.
    ///
    /// ```
    /// # use better_auth::AuthContext;
    /// struct Greeting(&'static str);
    ///
    /// fn greeting(ctx: &AuthContext) -> &'static str {
    ///     ctx.extension::<Greeting>().map_or("hi", |g| g.0)
    /// }
    /// ```
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions
            .get(&TypeId::of::<T>())
            .and_then(|value| value.downcast_ref::<T>())
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

    /// The client a request comes from, as the rate limit counts it (S09):
    /// the socket peer address, or the address `X-Forwarded-For` gives when the
    /// peer is a trusted proxy; IPv6 clients share one key per /64. `None`
    /// when the server provides no peer address (served without connect
    /// info). Plugins use it to bound what one client may keep (S50).
    pub fn client_key(&self, request: &AuthRequest) -> Option<String> {
        let peer = request.peer?;
        let client = self.config.rate_limit.client_ip(peer, &request.headers);
        Some(crate::rate_limit::bucket(client))
    }

    /// Full name of the session cookie (with `__Secure-` on https).
    pub fn session_cookie_name(&self) -> String {
        self.session_cookie.clone()
    }

    /// True when the URL's origin is the base URL's or a configured trusted origin.
    pub fn is_trusted_origin(&self, url: &str) -> bool {
        origin_of(url).is_some_and(|o| self.trusted_origins.contains(&o))
    }

    /// Whether a state-changing request from `url` (its `Origin`, or its
    /// `Referer` when it sent none) is trusted: a trusted origin, or in
    /// development a loopback origin sent to a loopback `Host` (see
    /// [`AuthConfig::base_url`]).
    pub(crate) fn is_trusted_request_origin(&self, url: &str, headers: &HeaderMap) -> bool {
        self.is_trusted_origin(url)
            || (self.loopback_base_url
                && crate::config::is_loopback_origin(url)
                && headers
                    .get(header::HOST)
                    .and_then(|host| host.to_str().ok())
                    .is_some_and(|host| crate::config::is_loopback_authority(host.trim())))
    }

    /// S22: a redirect target must be a relative path (not `//` or `/\`) or on
    /// a trusted origin; S56: either way without control characters (a NUL
    /// would reach the database with the flow that stores it).
    pub fn check_redirect(&self, target: &str) -> Result<()> {
        if target.chars().any(char::is_control) {
            return Err(Error::InvalidCallbackUrl);
        }
        let relative =
            target.starts_with('/') && !target.starts_with("//") && !target.starts_with("/\\");
        if relative || self.is_trusted_origin(target) {
            Ok(())
        } else {
            Err(Error::InvalidCallbackUrl)
        }
    }

    /// The session token a request presents: `Authorization: Bearer` first
    /// (signed `<token>.<signature>` or the raw token), then the signed cookie.
    pub fn token_from_headers(&self, headers: &HeaderMap) -> Option<String> {
        self.credential_from_headers(headers)
            .map(|credential| credential.token.to_string())
    }

    /// [`AuthContext::token_from_headers`] with the token's digest; a signed
    /// value seen before is not checked again (see [`crate::credentials`]).
    pub(crate) fn credential_from_headers(&self, headers: &HeaderMap) -> Option<Arc<Credential>> {
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
            // A bearer value may also be the raw token itself.
            return Some(
                self.credentials
                    .check(&self.signer, &value)
                    .unwrap_or_else(|| Arc::new(Credential::new(&value))),
            );
        }
        with_cookie_value(headers, &self.session_cookie, |value| {
            self.credentials.check(&self.signer, value)
        })
    }

    /// The `/get-session` answer for a request whose session the cache holds
    /// unchanged, with its body already rendered, decided without waiting for
    /// anything: the hot path of the most frequent request. `None` sends the
    /// request the general way (no credential, not cached, a refresh due, a
    /// body not rendered yet), which would answer exactly this otherwise: both
    /// read the cache through [`AuthContext::servable_cached`].
    #[cfg(feature = "axum")]
    pub(crate) fn cached_session_answer(
        &self,
        headers: &HeaderMap,
    ) -> Option<crate::request::AuthResponse> {
        // Without a cache, nothing to answer: the credential is not even read.
        self.session_cache.as_ref()?;
        let credential = self.credential_from_headers(headers)?;
        let version = self.validated_version();
        let (_, body) = self.servable_cached(&credential.digest, version, Refresh::WithCookie)?;
        body.get().map(crate::request::Rendered::response)
    }

    /// The change counter a validated cache is checked against: read before
    /// the cache and before any database lookup whose result is stored under
    /// it. `None` for a ttl cache, or without a cache.
    fn validated_version(&self) -> Option<i64> {
        match &self.session_cache {
            Some(cache) if cache.is_validated() => self.database.data_version(),
            _ => None,
        }
    }

    /// The cache's entry for `digest` when it can be served now: current
    /// under `version` (a validated cache, [`AuthContext::validated_version`])
    /// or renewed while the change counter has not moved (a ttl cache; a
    /// validated cache without a counter serves nothing), and neither expired
    /// nor due for `refresh` (those go to the database).
    fn servable_cached(
        &self,
        digest: &str,
        version: Option<i64>,
        refresh: Refresh,
    ) -> Option<crate::session_cache::Found> {
        let cache = self.session_cache.as_ref()?;
        let found = match version {
            Some(version) => cache.get_validated_with_body(digest, version)?,
            None => cache.get_renewing(digest, || self.database.data_version())?,
        };
        self.servable_from_cache(&found.0.0, refresh)
            .then_some(found)
    }

    /// The session of a request's credential, with that credential: the
    /// first step of `/get-session` and of the extractors.
    pub(crate) async fn lookup_from_headers(
        &self,
        headers: &HeaderMap,
        refresh: Refresh,
    ) -> Result<Option<(Lookup, Arc<Credential>)>> {
        let Some(credential) = self.credential_from_headers(headers) else {
            return Ok(None);
        };
        Ok(self
            .lookup_session_with_body(&credential.token, &credential.digest, refresh)
            .await?
            .map(|lookup| (lookup, credential)))
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

    /// The lookup behind [`AuthContext::session_for_token`] and `/get-session`.
    pub(crate) async fn lookup_session(
        &self,
        token: &str,
        refresh: Refresh,
    ) -> Result<Option<ResolvedSession>> {
        let digest = crypto::token_digest(token);
        Ok(self
            .lookup_session_with_body(token, &digest, refresh)
            .await?
            .map(|lookup| lookup.into_resolved(token)))
    }

    /// [`AuthContext::lookup_session`], with the cache entry's slot
    /// for the rendered `/get-session` body when the answer is that entry's
    /// session unchanged (read from it, or just stored without a refresh).
    pub(crate) async fn lookup_session_with_body(
        &self,
        token: &str,
        digest: &str,
        refresh: Refresh,
    ) -> Result<Option<Lookup>> {
        let version = self.validated_version();
        if let Some((found, body)) = self.servable_cached(digest, version, refresh) {
            return Ok(Some(Lookup::Cached {
                found,
                body: Some(body),
            }));
        }
        // A ttl cache stores the counter as it was before this lookup, to
        // renew the entry later while it has not moved.
        let ttl_version = match &self.session_cache {
            Some(cache) if !cache.is_validated() => self.database.data_version(),
            _ => None,
        };
        let Some((mut session, user)) =
            store::sessions::find_with_user(&self.database, digest).await?
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
                cache.insert_validated_with_body(digest, version, &session, &user)
            }
            (Some(cache), None) => cache.insert_with_body(digest, ttl_version, &session, &user),
            (None, _) => None,
        };
        let resolved = ResolvedSession {
            session,
            user,
            token: token.to_owned(),
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
    ///
    /// The decision of [`AuthContext::timing`], in whole milliseconds (the
    /// precision of every time the runtime stores): `chrono`'s date arithmetic
    /// was a third of the cost of a cache hit. Rounding a stored time down
    /// only ever sends a request to the database sooner.
    fn servable_from_cache(&self, session: &Session, refresh: Refresh) -> bool {
        let settings = &self.config.session;
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let now = self.config.clock.now_millis();
        let expires_at = session.expires_at.timestamp_millis();
        let absolute_end = session
            .created_at
            .timestamp_millis()
            .saturating_add(ms(settings.absolute_lifetime));
        if expires_at <= now || absolute_end <= now {
            return false;
        }
        let last_extended = expires_at.saturating_sub(ms(settings.expires_in));
        let due = last_extended.saturating_add(ms(settings.update_age)) <= now;
        match refresh {
            Refresh::No => true,
            Refresh::Silent => !due,
            Refresh::WithCookie => !due && session.updated_at.timestamp_millis() >= last_extended,
        }
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

    /// Drops sessions from the in-process session cache after a change that
    /// ends or alters them (one token digest, or all when `None`), so this
    /// instance sees the change at once rather than within the opt-in
    /// cache's ttl. Call it after writing sessions or users through
    /// [`crate::store`]; the default validated cache would notice anyway.
    pub fn forget_cached_sessions(&self, digest: Option<&str>) {
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
        Ok(self
            .lookup_from_headers(headers, Refresh::Silent)
            .await?
            .map(|(lookup, credential)| lookup.into_resolved(&credential.token)))
    }

    /// [`AuthContext::session_from_headers`] as the extractors want it: the
    /// session and user shared with the session cache when answered from it.
    #[cfg(feature = "axum")]
    pub(crate) async fn shared_session_from_headers(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<Arc<(Session, User)>>> {
        Ok(self
            .lookup_from_headers(headers, Refresh::Silent)
            .await?
            .map(|(lookup, _)| match lookup {
                Lookup::Cached { found, .. } => found,
                Lookup::Read { resolved, .. } => {
                    let ResolvedSession { session, user, .. } = *resolved;
                    Arc::new((session, user))
                }
            }))
    }

    /// The live session of a request or [`Error::Unauthorized`]. On a route
    /// marked [`Route::authenticated`](crate::plugins::Route::authenticated),
    /// the session found before the handler ran.
    pub async fn require_session(&self, request: &AuthRequest) -> Result<ResolvedSession> {
        if let Some(session) = &request.session {
            return Ok(session.clone());
        }
        self.session_from_headers(&request.headers)
            .await?
            .ok_or(Error::Unauthorized)
    }

    /// S49: recent proof of identity before a sensitive change (the email,
    /// deletion, linked accounts, other sessions). With `password`, the
    /// user's current password, checked under the sign-in throttle (S31):
    /// 400 `INVALID_PASSWORD` when wrong. Without it, the session must have
    /// been signed in within [`SessionConfig::fresh_age`](crate::SessionConfig::fresh_age)
    /// (default one day): else 403 `SESSION_NOT_FRESH`, as Better Auth answers,
    /// so a stolen session older than that cannot take the account over.
    pub async fn require_fresh_session(
        &self,
        current: &ResolvedSession,
        password: Option<&str>,
    ) -> Result<()> {
        if let Some(password) = password {
            if password.chars().count() > self.config.password_settings().max_length {
                return Err(Error::InvalidPassword);
            }
            let stored =
                store::accounts::credential_password(&self.database, &current.user.id).await?;
            // A user without a password costs a dummy verification like any other.
            let verified = self
                .check_password_attempt(&current.user.email, password, stored.as_deref())
                .await?;
            return if verified.ok {
                Ok(())
            } else {
                Err(Error::InvalidPassword)
            };
        }
        if self.is_fresh(&current.session) {
            Ok(())
        } else {
            Err(Error::Forbidden {
                message: "Session is not fresh".into(),
                code: "SESSION_NOT_FRESH",
            })
        }
    }

    /// Whether a session was signed in within `fresh_age` (S49).
    pub fn is_fresh(&self, session: &Session) -> bool {
        let fresh_age = chrono::Duration::from_std(self.config.session.fresh_age)
            .unwrap_or(chrono::Duration::MAX);
        session
            .created_at
            .checked_add_signed(fresh_age)
            .is_none_or(|until| until >= self.now())
    }

    /// S48: whether the email/password plugin requires a verified address
    /// before it gives a session (`EmailPasswordPlugin::require_email_verification`);
    /// social sign-in honours it too.
    pub fn requires_email_verification(&self) -> bool {
        self.extension::<crate::plugins::EmailPasswordPlugin>()
            .is_some_and(|plugin| plugin.requires_email_verification())
    }

    /// Mails a verification link for the user's current address, in the
    /// background (S34); following it marks the address verified. `callback`
    /// is where the link leads afterwards (check it with
    /// [`AuthContext::check_redirect`] first).
    pub fn send_verification_email(&self, user: &User, callback: Option<&str>) {
        crate::plugins::account_changes::send_verification(self, user, callback);
    }

    /// The key of the per-account throttle (S30) for a password check of
    /// `account` from a client: the account itself, shared by every client
    /// without a history with it, or (S55) the account and the client's
    /// device when the request carries this account's signed device cookie,
    /// so other clients' failures do not hold back a browser that signed in
    /// to the account before.
    pub fn password_attempt_key(&self, headers: &HeaderMap, account: &str) -> String {
        with_cookie_value(headers, &self.cookie_name(DEVICE_COOKIE), |value| {
            let (device, tag) = self.signer.verify(value)?.split_once(':')?;
            (tag == device_tag(account) && !device.is_empty())
                .then(|| format!("{account} device:{device}"))
        })
        .unwrap_or_else(|| account.to_owned())
    }

    /// S55: adds the device cookie that marks this browser as one that
    /// signed in to `account`: a random device id and a digest of the
    /// account, signed with the secret (HMAC-SHA256), HttpOnly, SameSite=Lax,
    /// Secure on https, kept for a year. Set it after a correct password.
    pub fn with_device_cookie(&self, response: AuthResponse, account: &str) -> AuthResponse {
        let value = self.signer.sign(&format!(
            "{}:{}",
            crypto::generate_id(),
            device_tag(account)
        ));
        let name = self.cookie_name(DEVICE_COOKIE);
        response.header(
            header::SET_COOKIE,
            &self.cookie_line(&name, &value, Some(DEVICE_COOKIE_MAX_AGE.as_secs())),
        )
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

    /// Stores a single-use token for `purpose` proving `value` (a user id, an
    /// email address, a JSON document), valid for `lifetime`, and returns the
    /// raw token to hand out (in a link, a cookie). Only its digest is stored
    /// (S21), in the `verification` table as `<purpose>:<digest>`.
    ///
    /// ```no_run
    /// # async fn f(ctx: &better_auth::AuthContext) -> better_auth::Result<()> {
    /// use std::time::Duration;
    ///
    /// let token = ctx.issue_token("magic-link", "user@example.com", Duration::from_secs(300)).await?;
    /// assert_eq!(
    ///     ctx.consume_token("magic-link", &token).await?.as_deref(),
    ///     Some("user@example.com")
    /// );
    /// // Single use: a second consume finds nothing.
    /// assert_eq!(ctx.consume_token("magic-link", &token).await?, None);
    /// # Ok(()) }
    /// ```
    pub async fn issue_token(
        &self,
        purpose: &str,
        value: &str,
        lifetime: Duration,
    ) -> Result<String> {
        issue_token(&self.database, self.now(), purpose, value, lifetime).await
    }

    /// Uses up a token issued with [`AuthContext::issue_token`]: its value when
    /// it existed for `purpose` and had not expired, `None` otherwise. Two
    /// concurrent consumers never both get the value.
    pub async fn consume_token(&self, purpose: &str, token: &str) -> Result<Option<String>> {
        let identifier = format!("{purpose}:{}", crypto::token_digest(token));
        store::verifications::consume(&self.database, &identifier, self.now()).await
    }

    /// A token's value without using it up (`None` when unknown or expired).
    pub async fn peek_token(&self, purpose: &str, token: &str) -> Result<Option<String>> {
        let identifier = format!("{purpose}:{}", crypto::token_digest(token));
        store::verifications::peek(&self.database, &identifier, self.now()).await
    }

    /// Signs a value with the instance's secret (HMAC-SHA256), as the session
    /// cookie is signed: `<value>.<signature>`. Read it back with
    /// [`AuthContext::verify_signed`].
    pub fn sign(&self, value: &str) -> String {
        self.signer.sign(value)
    }

    /// The value of a string made by [`AuthContext::sign`], or `None` when it
    /// was not signed with this instance's secret or was altered.
    pub fn verify_signed<'a>(&self, signed: &'a str) -> Option<&'a str> {
        self.signer.verify(signed)
    }

    /// Runs `job` (issuing a token, sending an email) in a background task
    /// (S34): the response neither waits for it nor reveals its outcome by
    /// timing or status; failures are logged with `what`. Move a
    /// [`Detached`] handle into the job for the database, tokens and email.
    ///
    /// ```no_run
    /// # fn f(ctx: &better_auth::AuthContext) {
    /// use better_auth::email::{Email, EmailKind};
    ///
    /// let detached = ctx.detached();
    /// ctx.spawn_background("welcome email", async move {
    ///     let url = detached.config().route_url("/ok");
    ///     detached
    ///         .send_email(Email {
    ///             kind: EmailKind::Other("welcome"),
    ///             to: "user@example.com".into(),
    ///             subject: "Welcome".into(),
    ///             text: format!("Hello! {url}"),
    ///             html: format!("<p>Hello! {url}</p>"),
    ///             url,
    ///         })
    ///         .await
    /// });
    /// # }
    /// ```
    pub fn spawn_background<F>(&self, what: &'static str, job: F)
    where
        F: std::future::Future<Output = Result<()>> + Send + 'static,
    {
        tokio::spawn(async move {
            if let Err(err) = job.await {
                tracing::error!(error = %err, "better-auth: {what} failed");
            }
        });
    }

    /// A handle that outlives the request, for [`AuthContext::spawn_background`]
    /// jobs: the database, the configuration, tokens and email.
    pub fn detached(&self) -> Detached {
        Detached {
            database: self.database.clone(),
            config: self.config.clone(),
            now: self.now(),
        }
    }

    /// S30, S31: the one way a password is checked. Reserves an attempt for
    /// the account first (refused with 429 while the account is delayed), then
    /// verifies against `stored`, or against a dummy hash when there is none
    /// (S07); a correct password clears the account's attempts.
    ///
    /// Any plugin that takes a password (a second factor, a re-authentication
    /// step) should check it here, so it shares the account's throttle.
    pub async fn check_password_attempt(
        &self,
        account: &str,
        password: &str,
        stored: Option<&str>,
    ) -> Result<crypto::Verified> {
        self.admit_password_attempt(account).await?;
        self.verify_password_attempt(account, password, stored)
            .await
    }

    /// [`AuthContext::check_password_attempt`] for a caller that still has to
    /// look the account up: `lookup` runs only once the attempt is admitted,
    /// and returns what the caller needs (the user, say) with the stored hash.
    /// A throttled account (S30) then costs no database read, so a flood of
    /// guesses at one account is refused without touching the database.
    pub async fn check_password_attempt_with<T, F, Fut>(
        &self,
        account: &str,
        password: &str,
        lookup: F,
    ) -> Result<(crypto::Verified, T)>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(T, Option<String>)>>,
    {
        self.admit_password_attempt(account).await?;
        let (found, stored) = lookup().await?;
        let verified = self
            .verify_password_attempt(account, password, stored.as_deref())
            .await?;
        Ok((verified, found))
    }

    /// S30: reserves one of the account's attempts, or refuses (429).
    async fn admit_password_attempt(&self, account: &str) -> Result<()> {
        let decision = self
            .config
            .rate_limit
            .store
            .reserve_attempt(account, self.now())
            .await?;
        if decision.allowed {
            Ok(())
        } else {
            Err(Error::TooManyRequests {
                retry_after: decision.retry_after,
            })
        }
    }

    /// Checks an admitted attempt against `stored`, or a dummy hash (S07); a
    /// correct password clears the account's attempts.
    async fn verify_password_attempt(
        &self,
        account: &str,
        password: &str,
        stored: Option<&str>,
    ) -> Result<crypto::Verified> {
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
            self.config.rate_limit.store.clear_attempts(account).await?;
        }
        Ok(verified)
    }

    /// Forgets an account's failed password attempts (after a reset, S10).
    pub async fn clear_password_attempts(&self, account: &str) -> Result<()> {
        self.config.rate_limit.store.clear_attempts(account).await
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
                &self.cookie_line(&self.cookie_name("dont_remember"), &marker, None),
            );
        }
        response
    }

    /// Clears the session, session-data and dont-remember cookies (sign-out).
    pub fn with_cleared_cookies(&self, mut response: AuthResponse) -> AuthResponse {
        for name in [
            self.session_cookie_name(),
            self.cookie_name("session_data"),
            self.cookie_name("dont_remember"),
        ] {
            response = response.header(header::SET_COOKIE, &self.cookie_line(&name, "", Some(0)));
        }
        response
    }

    /// True when the request carries the `dont_remember` marker cookie.
    pub fn dont_remember(&self, headers: &HeaderMap) -> bool {
        cookie_value(headers, &self.cookie_name("dont_remember"))
            .is_some_and(|v| self.signer.verify(&v) == Some("true"))
    }

    /// The full name of an auxiliary cookie: the session cookie's prefix
    /// (`better-auth`), a dot and `suffix`, with `__Secure-` on https.
    /// `cookie_name("state")` is `better-auth.state` on http.
    pub fn cookie_name(&self, suffix: &str) -> String {
        let base = self
            .config
            .session
            .cookie_name
            .rsplit_once('.')
            .map_or("better-auth", |(prefix, _)| prefix);
        format!("{}{base}.{suffix}", self.cookie_prefix)
    }

    /// Adds a `Set-Cookie` line to a response: HttpOnly, SameSite=Lax, Path=/,
    /// no Domain, Secure on https (S15); `max_age` `None` makes a
    /// browser-session cookie, zero deletes it. The value is percent-encoded;
    /// sign it with [`AuthContext::sign`] when the browser must not alter it.
    pub fn set_cookie(
        &self,
        response: AuthResponse,
        name: &str,
        value: &str,
        max_age: Option<Duration>,
    ) -> AuthResponse {
        response.header(
            header::SET_COOKIE,
            &self.cookie_line(name, value, max_age.map(|d| d.as_secs())),
        )
    }

    /// The decoded value of a cookie the request carries.
    pub fn request_cookie(&self, headers: &HeaderMap, name: &str) -> Option<String> {
        cookie_value(headers, name)
    }

    /// One `Set-Cookie` line: HttpOnly, SameSite=Lax, Path=/, no Domain, and
    /// Secure on https (S15). The value is percent-encoded.
    fn cookie_line(&self, name: &str, value: &str, max_age: Option<u64>) -> String {
        let mut cookie = cookie::Cookie::build((name.to_owned(), value.to_owned()))
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

/// A handle for background jobs (S34), made by [`AuthContext::detached`]:
/// the database, the configuration, tokens and email, with the clock read
/// when it was made.
#[derive(Clone, Debug)]
pub struct Detached {
    database: Database,
    config: AuthConfig,
    now: DateTime<Utc>,
}

impl Detached {
    /// The database.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// As [`AuthContext::issue_token`].
    pub async fn issue_token(
        &self,
        purpose: &str,
        value: &str,
        lifetime: Duration,
    ) -> Result<String> {
        issue_token(&self.database, self.now, purpose, value, lifetime).await
    }

    /// Sends an email through the configured [`EmailSender`](crate::email::EmailSender).
    pub async fn send_email(&self, email: crate::email::Email) -> Result<()> {
        self.config
            .sender()
            .send(email)
            .await
            .map_err(|e| Error::Internal(format!("sending email failed: {e}")))
    }
}

/// See [`AuthContext::issue_token`].
async fn issue_token(
    db: &Database,
    now: DateTime<Utc>,
    purpose: &str,
    value: &str,
    lifetime: Duration,
) -> Result<String> {
    let token = crypto::generate_token();
    let identifier = format!("{purpose}:{}", crypto::token_digest(&token));
    let lifetime = chrono::Duration::from_std(lifetime)
        .map_err(|_| Error::Internal("token lifetime out of range".into()))?;
    store::verifications::create(db, &identifier, value, now + lifetime, now).await?;
    Ok(token)
}

/// The suffix of the device cookie (`better-auth.device`, S55).
const DEVICE_COOKIE: &str = "device";
/// How long a browser stays known to an account (S55).
const DEVICE_COOKIE_MAX_AGE: Duration = Duration::from_secs(365 * 24 * 3600);

/// What a device cookie says about the account it signed in to: a digest of
/// the account, so the cookie names no address.
fn device_tag(account: &str) -> String {
    crypto::token_digest(&format!("device-cookie:{account}"))[..32].to_owned()
}

fn truncate_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    let millis = t.timestamp_millis();
    DateTime::from_timestamp_millis(millis).unwrap_or(t)
}

/// The decoded value of a cookie in the request's `Cookie` headers.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    with_cookie_value(headers, name, |value| Some(value.to_owned()))
}

/// `read` applied to the decoded value of a cookie in the request's `Cookie`
/// headers, without copying it.
fn with_cookie_value<T>(
    headers: &HeaderMap,
    name: &str,
    read: impl FnOnce(&str) -> Option<T>,
) -> Option<T> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse_encoded)
        .filter_map(|c| c.ok())
        .find(|c| c.name() == name)
        .and_then(|c| read(c.value()))
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
