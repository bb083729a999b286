//! Axum integration: turns the route table into an `axum::Router`, converts
//! requests and responses, and provides the session extractors. No auth
//! logic lives here.
//!
//! Two ways to reach the instance from a handler:
//! - through the router's state: [`CurrentSession`] and [`OptionalSession`]
//!   (with `FromRef<S> for Arc<BetterAuth>`);
//! - through the request: [`attach`] puts the instance in every request, and
//!   [`Authenticated`] and [`MaybeAuthenticated`] read it there, with any
//!   router state.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use futures_util::future::Either;
use http::Method;

use crate::auth::BetterAuth;
use crate::error::Error;
use crate::models::{Session, User};
use crate::request::{AuthRequest, AuthResponse};

/// Largest request body read into memory by default (S24, S36); larger
/// bodies get 413. Set another limit with `AuthConfig::max_body_bytes`.
#[doc(hidden)]
pub const MAX_BODY_BYTES: usize = crate::config::DEFAULT_MAX_BODY_BYTES;

/// Mounts Better Auth's routes on an Axum router.
pub trait AxumIntegration {
    /// The auth routes as a `Router<Arc<BetterAuth>>`, for apps whose state is
    /// the `Arc<BetterAuth>` itself. Nest it: `.nest("/auth", auth.clone().axum_router())`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use axum::{Router, routing::get};
    /// use better_auth::BetterAuth;
    /// use better_auth::integrations::axum::{AxumIntegration, CurrentSession};
    /// use better_auth::prelude::AuthUser;
    ///
    /// async fn me(session: CurrentSession) -> String {
    ///     session.user.email().to_owned()
    /// }
    ///
    /// fn app(auth: Arc<BetterAuth>) -> Router {
    ///     Router::new()
    ///         .route("/me", get(me))
    ///         .nest("/auth", auth.axum_router())
    ///         .with_state(auth)
    /// }
    /// ```
    fn axum_router(&self) -> Router<Arc<BetterAuth>>;

    /// The auth routes as a `Router<S>` for an app state `S`; implement
    /// `FromRef<S> for Arc<BetterAuth>` so the extractors find the instance.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use axum::{Router, extract::FromRef, routing::get};
    /// use better_auth::BetterAuth;
    /// use better_auth::integrations::axum::{AxumIntegration, OptionalSession};
    ///
    /// #[derive(Clone)]
    /// struct AppState {
    ///     auth: Arc<BetterAuth>,
    ///     greeting: &'static str,
    /// }
    ///
    /// // How the extractors find the instance (or `#[derive(FromRef)]` with
    /// // axum's `macros` feature).
    /// impl FromRef<AppState> for Arc<BetterAuth> {
    ///     fn from_ref(state: &AppState) -> Self {
    ///         state.auth.clone()
    ///     }
    /// }
    ///
    /// async fn home(session: OptionalSession) -> &'static str {
    ///     if session.0.is_some() { "welcome back" } else { "hello" }
    /// }
    ///
    /// fn app(state: AppState) -> Router {
    ///     Router::new()
    ///         .route("/", get(home))
    ///         .nest("/api/auth", state.auth.axum_router_with_state::<AppState>())
    ///         .with_state(state)
    /// }
    /// ```
    fn axum_router_with_state<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static;

    /// The auth routes already at the configured
    /// [`base_path`](crate::AuthConfig::base_path) (`/auth` unless set), to
    /// `merge` into the app's router instead of nesting them:
    /// `.merge(auth.axum_routes::<AppState>())`. The same routes as
    /// [`AxumIntegration::axum_router_with_state`] nested at the base path,
    /// with two differences:
    /// - the path is written once, in the configuration, which also builds
    ///   the links in emails (a `nest` at another path breaks them);
    /// - requests skip the prefix stripping of `nest` (Axum rebuilds each
    ///   nested request's URI), which is about a tenth of the work of a
    ///   cached `/get-session`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use axum::{Router, extract::FromRef, routing::get};
    /// use better_auth::BetterAuth;
    /// use better_auth::integrations::axum::{AxumIntegration, CurrentSession};
    /// use better_auth::prelude::AuthUser;
    ///
    /// #[derive(Clone)]
    /// struct AppState {
    ///     auth: Arc<BetterAuth>,
    /// }
    ///
    /// impl FromRef<AppState> for Arc<BetterAuth> {
    ///     fn from_ref(state: &AppState) -> Self {
    ///         state.auth.clone()
    ///     }
    /// }
    ///
    /// async fn me(session: CurrentSession) -> String {
    ///     session.user.email().to_owned()
    /// }
    ///
    /// // With `AuthConfig::base_path("/api/auth")`: `/api/auth/sign-in/email`, ...
    /// fn app(state: AppState) -> Router {
    ///     Router::new()
    ///         .route("/me", get(me))
    ///         .merge(state.auth.axum_routes::<AppState>())
    ///         .with_state(state)
    /// }
    /// ```
    fn axum_routes<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static;
}

impl AxumIntegration for Arc<BetterAuth> {
    fn axum_router(&self) -> Router<Arc<BetterAuth>> {
        self.axum_router_with_state::<Arc<BetterAuth>>()
    }

    fn axum_router_with_state<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        routes_at(self, "")
    }

    fn axum_routes<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        routes_at(self, &self.config.base_path)
    }
}

/// The auth routes, each at `prefix` + its path.
fn routes_at<S>(auth: &Arc<BetterAuth>, prefix: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut router = Router::new();
    for (index, route) in auth.routes().iter().enumerate() {
        let auth = auth.clone();
        let filter = method_filter(&route.method);
        let path = format!("{prefix}{}", route.path);
        // The most frequent request: a session the cache holds is answered
        // at once, without the general path's future (see `cached_get_session`).
        if route.method == Method::GET && route.path == "/get-session" {
            let handler = move |request: Request| match cached_get_session(&auth, index, &request) {
                Some(response) => Either::Left(std::future::ready(response)),
                None => {
                    let auth = auth.clone();
                    Either::Right(Box::pin(
                        async move { dispatch(&auth, index, request).await },
                    ))
                }
            };
            router = router.route(&path, on(filter, handler));
        } else {
            let handler = move |request: Request| {
                let auth = auth.clone();
                async move { dispatch(&auth, index, request).await }
            };
            router = router.route(&path, on(filter, handler));
        }
    }
    // S24, S36: bodies over the limit are refused in `dispatch`, no layer
    // here: a layer per route costs every request (get-session most).
    router
}

fn payload_too_large() -> Response {
    into_axum(AuthResponse::error(&Error::PayloadTooLarge))
}

/// The filter of a route's method. `BetterAuth::build` refuses routes with
/// other methods, so nothing is ever mounted under a method it does not have.
fn method_filter(method: &Method) -> MethodFilter {
    match *method {
        Method::GET => MethodFilter::GET,
        Method::PUT => MethodFilter::PUT,
        Method::PATCH => MethodFilter::PATCH,
        Method::DELETE => MethodFilter::DELETE,
        Method::POST => MethodFilter::POST,
        Method::HEAD => MethodFilter::HEAD,
        Method::OPTIONS => MethodFilter::OPTIONS,
        Method::TRACE => MethodFilter::TRACE,
        // Unreachable after `build`; a filter no request matches otherwise.
        _ => MethodFilter::CONNECT,
    }
}

async fn dispatch(auth: &BetterAuth, index: usize, request: Request) -> Response {
    let route = &auth.routes()[index];
    let (mut parts, body) = request.into_parts();
    // S24, S36: a body over the limit (64 KiB by default) is refused with 413
    // before anything else, at once when its Content-Length says so; a
    // streamed body is cut off as it passes the limit (below).
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > auth.config.max_body_bytes as u64) {
        return payload_too_large();
    }
    // Most routes have neither path parameters nor a query: skip the parsing.
    let params = if route.path.contains('{') {
        Path::<HashMap<String, String>>::from_request_parts(&mut parts, &())
            .await
            .map(|Path(p)| p)
            .unwrap_or_default()
    } else {
        HashMap::new()
    };
    let query = match parts.uri.query() {
        Some(_) => Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map(|Query(q)| q)
            .unwrap_or_default(),
        None => HashMap::new(),
    };
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let mut request = AuthRequest {
        method: parts.method,
        params,
        query,
        headers: parts.headers,
        body: bytes::Bytes::new(),
        peer,
        session: None,
    };
    // S36: the rate limit and the origin check come before the body is read,
    // so a refused client never gets a buffer.
    if let Err(err) = auth.admit(route, &request).await {
        return into_axum(auth.error_response(route, &err));
    }
    // S36: a small body, read within a time limit. A request that has no
    // body (most GETs) has nothing to wait for: no timer is set.
    if !axum::body::HttpBody::is_end_stream(&body) {
        let read = axum::body::to_bytes(body, auth.config.max_body_bytes);
        request.body = match tokio::time::timeout(auth.config.body_timeout, read).await {
            Ok(Ok(bytes)) => bytes,
            // `to_bytes` stops reading at the limit.
            Ok(Err(_)) => return payload_too_large(),
            Err(_) => return into_axum(auth.error_response(route, &Error::BodyTimeout)),
        };
    }
    into_axum(auth.respond(route, request).await)
}

/// `/get-session` for a request whose session the cache holds unchanged,
/// answered without a future: the steps of [`dispatch`], in its order, where
/// each can be decided at once. `None` leaves the request, untouched and
/// uncounted, to `dispatch`: a query (`disableRefresh`) or a body (the size
/// and JSON checks), a session not cached or due for a refresh, a rate limit
/// store that must be awaited.
fn cached_get_session(auth: &BetterAuth, index: usize, request: &Request) -> Option<Response> {
    if request.uri().query().is_some() || !axum::body::HttpBody::is_end_stream(request.body()) {
        return None;
    }
    // Read before the request is counted, so a miss is counted once, by `dispatch`.
    let answer = auth.cached_session_answer(request.headers())?;
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let route = &auth.routes()[index];
    Some(
        match auth.admit_now(route, request.method(), request.headers(), peer)? {
            Ok(()) => into_axum(answer),
            Err(err) => into_axum(auth.error_response(route, &err)),
        },
    )
}

fn into_axum(response: AuthResponse) -> Response {
    let mut out = Response::new(Body::from(response.body));
    *out.status_mut() = response.status;
    *out.headers_mut() = response.headers;
    out
}

/// The signed-in user and session of a request. Handlers taking it answer 401
/// (JSON `{"message","code":"UNAUTHORIZED"}`) when there is no valid session.
/// The session is looked up once per request, however many extractors ask.
///
/// ```
/// use std::sync::Arc;
/// use axum::{Json, Router, routing::get};
/// use better_auth::BetterAuth;
/// use better_auth::integrations::axum::CurrentSession;
/// use better_auth::prelude::{AuthSession, AuthUser};
/// use serde_json::{Value, json};
///
/// async fn profile(session: CurrentSession) -> Json<Value> {
///     Json(json!({
///         "id": session.user.id(),
///         "email": session.user.email(),
///         "expires": session.session.expires_at(),
///     }))
/// }
///
/// let routes: Router<Arc<BetterAuth>> = Router::new().route("/profile", get(profile));
/// ```
#[derive(Clone, Debug)]
pub struct CurrentSession {
    /// The authenticated user.
    pub user: User,
    /// The current session.
    pub session: Session,
}

/// The signed-in user and session, if any. Never rejects.
///
/// ```
/// use std::sync::Arc;
/// use axum::{Router, routing::get};
/// use better_auth::BetterAuth;
/// use better_auth::integrations::axum::OptionalSession;
/// use better_auth::prelude::AuthUser;
///
/// async fn home(OptionalSession(session): OptionalSession) -> String {
///     match session {
///         Some(session) => format!("Hello, {}", session.user.name()),
///         None => "Hello, stranger".to_owned(),
///     }
/// }
///
/// let routes: Router<Arc<BetterAuth>> = Router::new().route("/", get(home));
/// ```
#[derive(Clone, Debug)]
pub struct OptionalSession(pub Option<CurrentSession>);

/// Why `CurrentSession` or [`Authenticated`] rejected a request.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionRejection {
    /// No token, or a token with no live session: 401.
    Unauthorized,
    /// The lookup failed (database down: 503).
    Failed(Error),
    /// [`Authenticated`] found no `Arc<BetterAuth>` in the request's
    /// extensions: the router is served without [`attach`] (a wiring
    /// mistake, answered 500 with [`NOT_ATTACHED_MESSAGE`]).
    NotAttached,
}

/// The message of [`SessionRejection::NotAttached`]'s 500 response, wire
/// code `BETTER_AUTH_NOT_ATTACHED`.
pub const NOT_ATTACHED_MESSAGE: &str = "Better Auth is not attached to this router: serve it \
    through `better_auth::integrations::axum::attach(app, &auth)`, or add \
    `.layer(axum::Extension(auth.clone()))` to it";

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        let err = match self {
            SessionRejection::Unauthorized => Error::Unauthorized,
            SessionRejection::Failed(err) => err,
            SessionRejection::NotAttached => {
                return into_axum(AuthResponse::json_status(
                    http::StatusCode::INTERNAL_SERVER_ERROR,
                    &serde_json::json!({
                        "message": NOT_ATTACHED_MESSAGE,
                        "code": "BETTER_AUTH_NOT_ATTACHED",
                    }),
                ));
            }
        };
        into_axum(AuthResponse::error(&err))
    }
}

/// What the first session extractor of a request found, kept in the
/// request's extensions for the others (shared, not copied).
#[derive(Clone)]
struct Resolved(Option<Arc<(Session, User)>>);

impl Resolved {
    fn current(&self) -> Option<CurrentSession> {
        self.0.as_deref().map(|(session, user)| CurrentSession {
            user: user.clone(),
            session: session.clone(),
        })
    }
}

/// Looks the session up once per request; later extractors reuse the result.
async fn resolve<S>(parts: &mut Parts, state: &S) -> Result<Option<CurrentSession>, Error>
where
    Arc<BetterAuth>: FromRef<S>,
{
    if let Some(resolved) = parts.extensions.get::<Resolved>() {
        return Ok(resolved.current());
    }
    resolve_with(&Arc::<BetterAuth>::from_ref(state), parts).await
}

async fn resolve_with(
    auth: &BetterAuth,
    parts: &mut Parts,
) -> Result<Option<CurrentSession>, Error> {
    if let Some(resolved) = parts.extensions.get::<Resolved>() {
        return Ok(resolved.current());
    }
    let resolved = Resolved(auth.shared_session_from_headers(&parts.headers).await?);
    let current = resolved.current();
    parts.extensions.insert(resolved);
    Ok(current)
}

impl CurrentSession {
    /// Resolves the session with an explicit instance, for app states that
    /// cannot implement `FromRef` (Rust's orphan rule forbids
    /// `impl FromRef<Arc<AppState>> for Arc<BetterAuth>`). Wrap it in an
    /// extractor of your own:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use axum::extract::FromRequestParts;
    /// use better_auth::BetterAuth;
    /// use better_auth::http::request::Parts;
    /// use better_auth::integrations::axum::{CurrentSession, SessionRejection};
    ///
    /// struct AppState {
    ///     auth: Arc<BetterAuth>,
    /// }
    ///
    /// /// `CurrentSession` for handlers of a `Router<Arc<AppState>>`.
    /// pub struct Authenticated(pub CurrentSession);
    ///
    /// impl FromRequestParts<Arc<AppState>> for Authenticated {
    ///     type Rejection = SessionRejection;
    ///
    ///     async fn from_request_parts(
    ///         parts: &mut Parts,
    ///         state: &Arc<AppState>,
    ///     ) -> Result<Self, Self::Rejection> {
    ///         CurrentSession::from_parts(&state.auth, parts).await.map(Authenticated)
    ///     }
    /// }
    /// ```
    pub async fn from_parts(
        auth: &BetterAuth,
        parts: &mut Parts,
    ) -> Result<Self, SessionRejection> {
        match resolve_with(auth, parts).await {
            Ok(Some(session)) => Ok(session),
            Ok(None) => Err(SessionRejection::Unauthorized),
            Err(err) => Err(SessionRejection::Failed(err)),
        }
    }
}

impl OptionalSession {
    /// Like [`CurrentSession::from_parts`], for optional authentication.
    pub async fn from_parts(auth: &BetterAuth, parts: &mut Parts) -> Self {
        match resolve_with(auth, parts).await {
            Ok(found) => OptionalSession(found),
            Err(err) => {
                tracing::warn!(error = %err, "session lookup failed; treating request as anonymous");
                OptionalSession(None)
            }
        }
    }
}

impl<S> FromRequestParts<S> for CurrentSession
where
    Arc<BetterAuth>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match resolve(parts, state).await {
            Ok(Some(session)) => Ok(session),
            Ok(None) => Err(SessionRejection::Unauthorized),
            Err(err) => Err(SessionRejection::Failed(err)),
        }
    }
}

impl<S> FromRequestParts<S> for OptionalSession
where
    Arc<BetterAuth>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match resolve(parts, state).await {
            Ok(found) => Ok(OptionalSession(found)),
            Err(err) => {
                tracing::warn!(error = %err, "session lookup failed; treating request as anonymous");
                Ok(OptionalSession(None))
            }
        }
    }
}

/// Serves Better Auth with `app`: merges its routes at the configured
/// [`base_path`](crate::AuthConfig::base_path) (see
/// [`AxumIntegration::axum_routes`]) and adds a layer that puts the instance
/// into every request, the app's own routes and fallback included, where
/// [`Authenticated`] and [`MaybeAuthenticated`] find it. `app` is the
/// finished router (its state already given with `with_state`), so this
/// works whatever the app's state is and whichever crate built the router.
///
/// The app's own layers applied before `attach` do not cover Better Auth's
/// routes (Axum's `layer` wraps only the routes present when it is called);
/// apply those that should (a trace or CORS layer, say) to the router
/// `attach` returns. Like any `merge`, it panics when the app already has a
/// route at one of Better Auth's paths.
///
/// Serve it with the client address, which the rate limits need:
///
/// ```no_run
/// use std::net::SocketAddr;
/// use std::sync::Arc;
/// use axum::{Router, extract::State, routing::get};
/// use better_auth::integrations::axum::{Authenticated, attach};
/// use better_auth::plugins::EmailPasswordPlugin;
/// use better_auth::prelude::AuthUser;
/// use better_auth::store::Database;
/// use better_auth::{AuthConfig, BetterAuth, run_migrations};
///
/// #[derive(Clone)]
/// struct AppState {
///     greeting: &'static str,
/// }
///
/// async fn hello(State(state): State<AppState>, Authenticated(session): Authenticated) -> String {
///     format!("{}, {}", state.greeting, session.user.name())
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let db = Database::connect("sqlite:auth.db").await?;
/// run_migrations(&db).await?;
/// let auth = Arc::new(
///     BetterAuth::new(AuthConfig::new(std::env::var("BETTER_AUTH_SECRET")?))
///         .database(db)
///         .plugin(EmailPasswordPlugin::new())
///         .build()
///         .await?,
/// );
///
/// // The app's router, with its own state; it knows nothing of Better Auth.
/// let app = Router::new()
///     .route("/hello", get(hello))
///     .with_state(AppState { greeting: "Hello" });
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// axum::serve(
///     listener,
///     attach(app, &auth).into_make_service_with_connect_info::<SocketAddr>(),
/// )
/// .await?;
/// # Ok(()) }
/// ```
pub fn attach(app: Router, auth: &Arc<BetterAuth>) -> Router {
    app.merge(auth.axum_routes::<()>())
        .layer(axum::Extension(auth.clone()))
}

/// The signed-in user and session of a request, read through the instance
/// [`attach`] puts in the request (or `.layer(axum::Extension(auth))`), so it
/// works with any router state. Handlers taking it answer 401 (JSON
/// `{"message","code":"UNAUTHORIZED"}`) when there is no valid session, and
/// 500 with [`NOT_ATTACHED_MESSAGE`] when the router is served without the
/// instance. The session is looked up once per request, however many
/// extractors ask.
///
/// ```
/// use axum::{Json, Router, routing::get};
/// use better_auth::integrations::axum::Authenticated;
/// use better_auth::prelude::AuthUser;
/// use serde_json::{Value, json};
///
/// async fn profile(Authenticated(session): Authenticated) -> Json<Value> {
///     Json(json!({ "id": session.user.id(), "email": session.user.email() }))
/// }
///
/// // Any state: the instance comes from the request, not from the state.
/// #[derive(Clone)]
/// struct AppState;
///
/// let routes: Router<AppState> = Router::new().route("/profile", get(profile));
/// ```
#[derive(Clone, Debug)]
pub struct Authenticated(pub CurrentSession);

/// The signed-in user and session, if any, read through the instance
/// [`attach`] puts in the request; works with any router state. Never
/// rejects: a failed lookup, or a router served without the instance (logged
/// as a warning), gives `None`.
///
/// ```
/// use axum::{Router, routing::get};
/// use better_auth::integrations::axum::MaybeAuthenticated;
/// use better_auth::prelude::AuthUser;
///
/// async fn home(MaybeAuthenticated(session): MaybeAuthenticated) -> String {
///     match session {
///         Some(session) => format!("Hello, {}", session.user.name()),
///         None => "Hello, stranger".to_owned(),
///     }
/// }
///
/// let routes: Router = Router::new().route("/", get(home));
/// ```
#[derive(Clone, Debug)]
pub struct MaybeAuthenticated(pub Option<CurrentSession>);

/// The instance [`attach`] put in the request's extensions.
fn attached(parts: &Parts) -> Option<Arc<BetterAuth>> {
    parts.extensions.get::<Arc<BetterAuth>>().cloned()
}

/// Where an extractor finds the instance, for extractors that work in both
/// kinds of app: [`FromState`] (the router's state gives an
/// `Arc<BetterAuth>` through `FromRef`, as for [`CurrentSession`]) or
/// [`Attached`] (the request carries it, as for [`Authenticated`]). Plugin
/// crates' guards take one as a type parameter (`RequireRole<Admin, Attached>`).
///
/// ```
/// use std::sync::Arc;
/// use axum::extract::FromRequestParts;
/// use axum::http::request::Parts;
/// use better_auth::integrations::axum::{CurrentSession, InstanceSource, SessionRejection};
///
/// /// The signed-in session, wherever the app keeps the instance.
/// struct Signed<Via>(CurrentSession, std::marker::PhantomData<Via>);
///
/// impl<S: Send + Sync, Via: InstanceSource<S>> FromRequestParts<S> for Signed<Via> {
///     type Rejection = SessionRejection;
///
///     async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
///         let auth = Via::instance(parts, state).ok_or(SessionRejection::NotAttached)?;
///         let session = CurrentSession::from_parts(&auth, parts).await?;
///         Ok(Signed(session, std::marker::PhantomData))
///     }
/// }
/// ```
pub trait InstanceSource<S>: Send + Sync + 'static {
    /// The instance, or `None` when the request does not carry it.
    fn instance(parts: &Parts, state: &S) -> Option<Arc<BetterAuth>>;
}

/// The instance is in the router's state (see [`InstanceSource`]).
#[derive(Clone, Copy, Debug)]
pub struct FromState;

/// The instance is in the request, where [`attach`] put it (see
/// [`InstanceSource`]); works with any router state.
#[derive(Clone, Copy, Debug)]
pub struct Attached;

impl<S> InstanceSource<S> for FromState
where
    Arc<BetterAuth>: FromRef<S>,
{
    fn instance(_parts: &Parts, state: &S) -> Option<Arc<BetterAuth>> {
        Some(Arc::<BetterAuth>::from_ref(state))
    }
}

impl<S> InstanceSource<S> for Attached {
    fn instance(parts: &Parts, _state: &S) -> Option<Arc<BetterAuth>> {
        let found = attached(parts);
        if found.is_none() {
            tracing::error!(path = %parts.uri.path(), "{NOT_ATTACHED_MESSAGE}; answering 500");
        }
        found
    }
}

impl<S> FromRequestParts<S> for Authenticated
where
    S: Send + Sync,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(auth) = attached(parts) else {
            tracing::error!(
                path = %parts.uri.path(),
                "{NOT_ATTACHED_MESSAGE}; answering 500"
            );
            return Err(SessionRejection::NotAttached);
        };
        CurrentSession::from_parts(&auth, parts)
            .await
            .map(Authenticated)
    }
}

impl<S> FromRequestParts<S> for MaybeAuthenticated
where
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(auth) = attached(parts) else {
            tracing::warn!(
                path = %parts.uri.path(),
                "{NOT_ATTACHED_MESSAGE}; treating request as anonymous"
            );
            return Ok(MaybeAuthenticated(None));
        };
        let OptionalSession(session) = OptionalSession::from_parts(&auth, parts).await;
        Ok(MaybeAuthenticated(session))
    }
}
