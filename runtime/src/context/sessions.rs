//! Sessions of requests: finding the live session a request presents (from
//! the session cache or the database, sliding its expiry when due), creating
//! one, and requiring one.

use std::sync::Arc;

use http::{HeaderMap, header};

use super::{AuthContext, BodySlot};
use crate::credentials::Credential;
use crate::crypto;
use crate::error::{Error, Result};
use crate::models::{Session, User};
use crate::request::{AuthRequest, AuthResponse};
use crate::store;

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

/// What Redis secondary storage answered a session lookup.
#[cfg(feature = "redis")]
enum RedisLookup {
    /// A live session, served as it is.
    Found(Lookup),
    /// Nothing to serve; when Redis answered, its clock at the lookup's
    /// start (to store the session the database has).
    Missed(Option<i64>),
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

impl AuthContext {
    /// Runs the plugins' [`SignInHook`](crate::plugins::SignInHook)s for a
    /// sign-in whose credential was just proved, before its session is made:
    /// `Some` is what to answer instead (no session is made then). Password
    /// sign-in calls it; a plugin's own sign-in method calls it too.
    pub async fn check_sign_in(
        &self,
        request: &AuthRequest,
        user: &User,
        remember: bool,
    ) -> Result<Option<AuthResponse>> {
        for hook in &self.sign_in_hooks {
            if let Some(answer) = hook(self, request, user, remember).await? {
                return Ok(Some(answer));
            }
        }
        Ok(None)
    }

    /// The plugin columns a sign-up (`user` is `None`) or update-user body
    /// sets: taken out of `body`, checked by type, then by the plugins'
    /// [`UserInputHook`](crate::plugins::UserInputHook)s. What the hooks
    /// leave that is not a declared input field of its type is dropped.
    pub(crate) async fn user_input(
        &self,
        body: &mut serde_json::Map<String, serde_json::Value>,
        user: Option<&User>,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let schema = &self.database.user_schema;
        let fields = schema.take_input(body)?;
        if self.user_input_hooks.is_empty() {
            return Ok(fields);
        }
        let mut input = crate::route::UserInput {
            fields,
            user: user.cloned(),
        };
        for hook in &self.user_input_hooks {
            hook(self, &mut input).await?;
        }
        input.fields.retain(|name, value| {
            schema
                .fields
                .iter()
                .any(|f| f.name() == name && f.is_input() && f.accepts(value))
        });
        Ok(input.fields)
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
        // Redis secondary storage: its entry, if served as it is; else when
        // this lookup started by Redis's clock, to store what the database has.
        #[cfg(feature = "redis")]
        let redis_started = match self.redis_session(token, digest, refresh).await {
            RedisLookup::Found(lookup) => return Ok(Some(lookup)),
            RedisLookup::Missed(started) => started,
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
        #[cfg(feature = "redis")]
        if let (Some(redis), Some(started)) = (self.database.redis(), redis_started) {
            redis
                .store_session(digest, started, &session, &user, now)
                .await;
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

    /// The session entry in Redis secondary storage for `digest`, when one
    /// is stored, unmarked, live and not due for a refresh.
    #[cfg(feature = "redis")]
    async fn redis_session(&self, token: &str, digest: &str, refresh: Refresh) -> RedisLookup {
        let Some(redis) = self.database.redis() else {
            return RedisLookup::Missed(None);
        };
        let Some((started, found)) = redis.session(digest).await else {
            return RedisLookup::Missed(None);
        };
        if let Some((session, user)) = found {
            // Expired or due for a write: the database decides.
            if session.token == digest && self.servable_from_cache(&session, refresh) {
                let resolved = ResolvedSession {
                    session,
                    user,
                    token: token.to_owned(),
                    refreshed: false,
                };
                return RedisLookup::Found(Lookup::Read {
                    resolved: Box::new(resolved),
                    body: None,
                });
            }
        }
        RedisLookup::Missed(Some(started))
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

    /// Creates a session for a user and returns it with its raw token. The
    /// database keeps only the token's digest (S11). Every sign-in method
    /// comes here, so the plugins' [`SessionHook`](crate::plugins::SessionHook)s
    /// run first: one that refuses (a banned user) refuses the sign-in.
    pub async fn create_session(
        &self,
        user: &User,
        request: &AuthRequest,
    ) -> Result<(Session, String)> {
        self.create_session_with(user, request, SessionOptions::default())
            .await
    }

    /// [`create_session`](AuthContext::create_session) with plugin columns
    /// set on the new session and, optionally, a shorter life than the
    /// configured one (an admin's impersonation session, say).
    pub async fn create_session_with(
        &self,
        user: &User,
        request: &AuthRequest,
        options: SessionOptions,
    ) -> Result<(Session, String)> {
        for hook in &self.session_hooks {
            hook(self, user).await?;
        }
        let token = crypto::generate_token();
        let now = self.now();
        let expires_in = chrono::Duration::from_std(
            options.expires_in.unwrap_or(self.config.session.expires_in),
        )
        .unwrap_or_default();
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
            fields: options.fields,
        };
        store::sessions::create(&self.database, &session).await?;
        Ok((session, token))
    }
}

/// What a plugin sets on a session it makes with
/// [`AuthContext::create_session_with`].
///
/// ```
/// use better_auth::SessionOptions;
/// use std::time::Duration;
///
/// let options = SessionOptions::default()
///     .field("impersonatedBy", "admin-id")
///     .expires_in(Duration::from_secs(3600));
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct SessionOptions {
    /// Plugin session columns (see [`PluginSetup::session_field`](crate::plugins::PluginSetup::session_field)).
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The session's life, instead of the configured `session.expires_in`.
    pub expires_in: Option<std::time::Duration>,
}

impl SessionOptions {
    /// Sets a plugin session column.
    pub fn field(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.fields.insert(name.to_owned(), value.into());
        self
    }

    /// Sets the session's life.
    pub fn expires_in(mut self, expires_in: std::time::Duration) -> Self {
        self.expires_in = Some(expires_in);
        self
    }
}
