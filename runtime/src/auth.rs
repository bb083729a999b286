//! `BetterAuth`: the built instance (its [`AuthContext`] and the route table)
//! and the request pipeline every route shares. `builder.rs` builds it.

use std::fmt;
use std::ops::Deref;

use std::net::IpAddr;

use http::{HeaderMap, Method, header};

use crate::context::AuthContext;
use crate::error::{Error, Result};
use crate::request::{AuthRequest, AuthResponse};
use crate::route::Route;

/// Said once per process when requests arrive without the client's address.
const NO_CLIENT_ADDRESSES: &str = "better-auth cannot see client addresses, so rate limits are \
     off: serve the app with `axum::serve(listener, \
     app.into_make_service_with_connect_info::<SocketAddr>())` (behind a reverse proxy, also \
     list it in `RateLimitConfig::trusted_proxies` so `X-Forwarded-For` is read)";

/// A configured auth instance: its [`AuthContext`] (configuration, database,
/// password hasher, session cache) and the table of routes its plugins mount.
/// Share it as `Arc<BetterAuth>`; it derefs to its context.
pub struct BetterAuth {
    pub(crate) context: AuthContext,
    pub(crate) routes: Vec<Route>,
    /// Deletes expired tokens in the background (S50); stops with the instance.
    pub(crate) _purge: Option<crate::purge::PurgeTask>,
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
    /// read (S36): the origin check (S16, S35), then the client's rate limit
    /// (S09). `request.body` is not looked at.
    ///
    /// S54: a request the origin check refuses is refused before it is
    /// counted, so a foreign page cannot spend a visitor's rate limit.
    pub async fn admit(&self, route: &Route, request: &AuthRequest) -> Result<()> {
        self.check_origin(&request.method, &request.headers)?;
        self.check_rate_limit(route, request).await
    }

    /// Runs an admitted request (body read) through its handler: a route
    /// marked [`Route::authenticated`] answers 401 without a session before its
    /// handler runs (S58); a body that is not JSON gets 415 (S35); errors
    /// become JSON error responses.
    pub async fn respond(&self, route: &Route, mut request: AuthRequest) -> AuthResponse {
        let result = async {
            if route.authenticated {
                let session = self.context.session_from_headers(&request.headers).await?;
                request.session = Some(session.ok_or(Error::Unauthorized)?);
            }
            if !request.has_json_body_or_none() {
                return Err(Error::UnsupportedMediaType);
            }
            (route.handler)(&self.context, request).await
        }
        .await;
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

    /// [`BetterAuth::admit`] when it can decide without waiting: the rate
    /// limit is off or does not apply (no client address), or its store
    /// answers at once ([`RateLimitStore::hit_now`](crate::rate_limit::RateLimitStore::hit_now),
    /// the in-memory store). `None` when the store must be awaited; nothing
    /// was counted then.
    ///
    /// It takes the request's parts: the hot path calls it without building
    /// an [`AuthRequest`].
    #[cfg(feature = "axum")]
    pub(crate) fn admit_now(
        &self,
        route: &Route,
        method: &Method,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Option<Result<()>> {
        if let Err(refused) = self.check_origin(method, headers) {
            return Some(Err(refused));
        }
        match self.rate_limit_key(route, headers, peer) {
            None => Some(Ok(())),
            Some((key, window, max)) => {
                let store = &self.config.rate_limit.store;
                Some(allowed(store.hit_now(&key, window, max, self.now())?))
            }
        }
    }

    /// S09: counts the request against its client's limit for this route.
    async fn check_rate_limit(&self, route: &Route, request: &AuthRequest) -> Result<()> {
        let Some((key, window, max)) = self.rate_limit_key(route, &request.headers, request.peer)
        else {
            return Ok(());
        };
        let store = &self.config.rate_limit.store;
        allowed(store.hit(&key, window, max, self.now()).await)
    }

    /// The counter a request is counted under, with its window and maximum;
    /// `None` when nothing is counted: limits are off, or the client's address
    /// is unknown (the app is not served with connect info), which is said once
    /// per process, through `tracing` and on stderr.
    fn rate_limit_key(
        &self,
        route: &Route,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Option<(String, std::time::Duration, u32)> {
        let limits = &self.config.rate_limit;
        if !limits.enabled {
            return None;
        }
        let Some(peer) = peer else {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                tracing::warn!("{NO_CLIENT_ADDRESSES}");
                // Many apps install no `tracing` subscriber: say it where it is always seen.
                eprintln!("warning: {NO_CLIENT_ADDRESSES}");
            });
            return None;
        };
        let client = limits.client_ip(peer, headers);
        let key = format!("{}|{}", route.path, crate::rate_limit::bucket(client));
        let (window, max) = limits.limit_for(route.path);
        Some((key, window, max))
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
    ///
    /// Trusted means the base URL's origin, a trusted origin, or, with a base
    /// URL on a loopback host, any loopback origin when the `Host` header is
    /// loopback too (see [`AuthConfig::base_url`](crate::AuthConfig::base_url)).
    fn check_origin(&self, method: &Method, headers: &HeaderMap) -> Result<()> {
        let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Ok(());
        }
        if let Some(origin) = text(header::ORIGIN) {
            let origin = origin.trim();
            if origin.is_empty() || origin == "null" {
                return Err(Error::MissingOrNullOrigin);
            }
            return if self.is_trusted_request_origin(origin, headers) {
                Ok(())
            } else {
                Err(Error::InvalidOrigin)
            };
        }
        if headers.contains_key(header::ORIGIN) {
            // Present but not text: as untrusted as it gets.
            return Err(Error::InvalidOrigin);
        }
        if text(header::HeaderName::from_static("sec-fetch-site"))
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("cross-site"))
        {
            return Err(Error::InvalidOrigin);
        }
        if !headers.contains_key(header::COOKIE) {
            return Ok(());
        }
        let referer = text(header::REFERER)
            .filter(|r| !r.is_empty())
            .ok_or(Error::MissingOrNullOrigin)?;
        if self.is_trusted_request_origin(referer, headers) {
            Ok(())
        } else {
            Err(Error::InvalidOrigin)
        }
    }
}

/// A rate limit decision as the request's outcome (S09).
fn allowed(decision: Result<crate::rate_limit::RateDecision>) -> Result<()> {
    let decision = decision?;
    if decision.allowed {
        Ok(())
    } else {
        Err(Error::TooManyRequests {
            retry_after: decision.retry_after,
        })
    }
}
