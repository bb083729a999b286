//! Route and plugin types: what a plugin mounts and how. A leaf of the crate:
//! it knows the [`AuthContext`] handlers run with, and nothing above it.

use std::any::{Any, TypeId};
use std::future::Future;
use std::pin::Pin;

use http::Method;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};

use crate::context::{AuthContext, Extensions};
use crate::error::Result;
use crate::models::{Session, User};
use crate::rate_limit::RateLimitRule;
use crate::request::{AuthRequest, AuthResponse};
use crate::store::Migration;
pub use crate::store::columns::{Column, ColumnKind};

/// The future a handler returns.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<AuthResponse>> + Send + 'a>>;

/// A route handler: `|auth, request| Box::pin(my_handler(auth, request))`.
pub type HandlerFn = for<'a> fn(&'a AuthContext, AuthRequest) -> HandlerFuture<'a>;

/// The future a [`SignInHook`] returns.
pub type SignInFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<AuthResponse>>> + Send + 'a>>;

/// Runs after a password sign-in proved the password and before its session
/// is made, with the request, the user and whether they asked to be
/// remembered: `None` lets the sign-in finish; a response is answered
/// instead, and no session is made (a second factor, for one). See
/// [`PluginSetup::before_sign_in`].
pub type SignInHook =
    for<'a> fn(&'a AuthContext, &'a AuthRequest, &'a User, bool) -> SignInFuture<'a>;

/// The future a [`UserInputHook`] returns.
pub type UserInputFuture<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

/// Checks and normalises the plugin columns a client sets on sign-up
/// (`/sign-up/email`) or `/update-user` before they are written: change
/// [`UserInput::fields`] in place, or refuse the request with an error (a
/// username already taken, say). See [`PluginSetup::before_user_input`].
pub type UserInputHook = for<'a> fn(&'a AuthContext, &'a mut UserInput) -> UserInputFuture<'a>;

/// The future a [`SessionHook`] returns.
pub type SessionFuture<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

/// Runs before any session is made for a user, whatever the sign-in method
/// (password, social, a link, a code, a passkey, a second factor): an error
/// refuses the sign-in with that answer (a banned user, say). See
/// [`PluginSetup::before_session`].
pub type SessionHook = for<'a> fn(&'a AuthContext, &'a User) -> SessionFuture<'a>;

/// What a [`UserInputHook`] sees.
#[derive(Debug)]
#[non_exhaustive]
pub struct UserInput {
    /// The input fields the request sets (see
    /// [`Column::input`](crate::plugins::Column::input)), already
    /// checked by type; absent ones are not in the map. What is here after
    /// the hooks is written.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The signed-in user on `/update-user`; `None` on sign-up.
    pub user: Option<User>,
}

/// Registers the component schemas a schema refers to and returns the schema.
pub type SchemaFn = fn(&mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema>;

fn inline_schema<T: ToSchema>(components: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
    T::schemas(components);
    T::schema()
}

fn list_schema<T: ToSchema>(components: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
    components.push((T::name().into_owned(), T::schema()));
    T::schemas(components);
    ArrayBuilder::new()
        .items(Ref::from_schema_name(T::name()))
        .build()
        .into()
}

/// What a route answers with on success, for the OpenAPI document.
#[derive(Clone, Copy, Debug)]
pub enum Success {
    /// 200 with a JSON body of this schema.
    Json(SchemaFn),
    /// 200 with a JSON body of this schema, or JSON `null`.
    NullableJson(SchemaFn),
    /// 302 to a redirect target.
    Redirect,
    /// 200 with JSON (this schema) or, when a callback URL is given, 302.
    JsonOrRedirect(SchemaFn),
}

/// One mounted endpoint and its documentation: built with [`Route::new`] and
/// the documenting methods, read with the accessors.
///
/// ```
/// use better_auth::plugins::{PluginSetup, Route};
/// use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
/// use http::Method;
///
/// async fn hello(_ctx: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
///     Ok(AuthResponse::json(&serde_json::json!({ "hello": "world" })))
/// }
///
/// let route = Route::new(Method::GET, "/hello", "Says hello", |ctx, request| {
///     Box::pin(hello(ctx, request))
/// });
/// assert_eq!(route.path(), "/hello");
/// let mut setup = PluginSetup::default();
/// setup.route(route);
/// ```
#[derive(Clone, Debug)]
pub struct Route {
    /// HTTP method.
    pub(crate) method: Method,
    /// Path relative to the mount point, with `{name}` parameters.
    pub(crate) path: &'static str,
    /// The handler.
    pub(crate) handler: HandlerFn,
    /// One-line description.
    pub(crate) summary: &'static str,
    /// JSON request body schema, if the route takes a body.
    pub(crate) body: Option<SchemaFn>,
    /// Whether the body must be present (an absent body reads as `{}` otherwise).
    pub(crate) body_required: bool,
    /// Query parameters: (name, required).
    pub(crate) query: &'static [(&'static str, bool)],
    /// The success response.
    pub(crate) success: Success,
    /// Error statuses the route can answer with (besides 429/500/503).
    pub(crate) errors: &'static [u16],
    /// Whether the route needs a session (bearer or cookie).
    pub(crate) authenticated: bool,
}

impl Route {
    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path relative to the mount point, with `{name}` parameters.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The one-line description.
    pub fn summary(&self) -> &'static str {
        self.summary
    }

    /// Whether the route needs a session.
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// A route answering 200 with `{}`-shaped JSON; refine it with the builder methods.
    pub fn new(
        method: Method,
        path: &'static str,
        summary: &'static str,
        handler: HandlerFn,
    ) -> Self {
        Route {
            method,
            path,
            handler,
            summary,
            body: None,
            body_required: false,
            query: &[],
            success: Success::Json(inline_schema::<serde_json::Value>),
            errors: &[],
            authenticated: false,
        }
    }

    /// Documents the JSON request body as `T`.
    ///
    /// ```
    /// use better_auth::plugins::Route;
    /// use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
    /// use better_auth::http::Method;
    ///
    /// #[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
    /// struct Note { text: String }
    ///
    /// async fn handler(_ctx: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
    ///     Ok(AuthResponse::json(&Note { text: "hi".into() }))
    /// }
    ///
    /// let route = Route::new(Method::POST, "/notes", "Adds a note", |ctx, req| Box::pin(handler(ctx, req)))
    /// .body::<Note>();
    /// ```
    pub fn body<T: ToSchema>(mut self) -> Self {
        self.body = Some(inline_schema::<T>);
        self.body_required = true;
        self
    }

    /// Documents an optional JSON request body as `T` (absent reads as `{}`).
    ///
    /// ```
    /// use better_auth::plugins::Route;
    /// use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
    /// use better_auth::http::Method;
    ///
    /// #[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
    /// struct Note { text: String }
    ///
    /// async fn handler(_ctx: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
    ///     Ok(AuthResponse::json(&Note { text: "hi".into() }))
    /// }
    ///
    /// let route = Route::new(Method::POST, "/notes", "Adds a note", |ctx, req| Box::pin(handler(ctx, req)))
    /// .optional_body::<Note>();
    /// ```
    pub fn optional_body<T: ToSchema>(mut self) -> Self {
        self.body = Some(inline_schema::<T>);
        self.body_required = false;
        self
    }

    /// Documents the 200 JSON body as `T`.
    ///
    /// ```
    /// use better_auth::plugins::Route;
    /// use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
    /// use better_auth::http::Method;
    ///
    /// #[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
    /// struct Note { text: String }
    ///
    /// async fn handler(_ctx: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
    ///     Ok(AuthResponse::json(&Note { text: "hi".into() }))
    /// }
    ///
    /// let route = Route::new(Method::POST, "/notes", "Adds a note", |ctx, req| Box::pin(handler(ctx, req)))
    /// .returns::<Note>();
    /// ```
    pub fn returns<T: ToSchema>(mut self) -> Self {
        self.success = Success::Json(inline_schema::<T>);
        self
    }

    /// Documents the 200 JSON body as a list of `T`.
    ///
    /// ```
    /// use better_auth::plugins::Route;
    /// use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
    /// use better_auth::http::Method;
    ///
    /// #[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
    /// struct Note { text: String }
    ///
    /// async fn handler(_ctx: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
    ///     Ok(AuthResponse::json(&Note { text: "hi".into() }))
    /// }
    ///
    /// let route = Route::new(Method::POST, "/notes", "Adds a note", |ctx, req| Box::pin(handler(ctx, req)))
    /// .returns_list::<Note>();
    /// ```
    pub fn returns_list<T: ToSchema>(mut self) -> Self {
        self.success = Success::Json(list_schema::<T>);
        self
    }

    /// Documents the 200 JSON body as `T` or `null`.
    ///
    /// ```
    /// use better_auth::plugins::Route;
    /// use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
    /// use better_auth::http::Method;
    ///
    /// #[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
    /// struct Note { text: String }
    ///
    /// async fn handler(_ctx: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
    ///     Ok(AuthResponse::json(&Note { text: "hi".into() }))
    /// }
    ///
    /// let route = Route::new(Method::POST, "/notes", "Adds a note", |ctx, req| Box::pin(handler(ctx, req)))
    /// .returns_nullable::<Note>();
    /// ```
    pub fn returns_nullable<T: ToSchema>(mut self) -> Self {
        self.success = Success::NullableJson(inline_schema::<T>);
        self
    }

    /// Documents a 302 redirect as the success response.
    ///
    /// ```
    /// use better_auth::plugins::Route;
    /// use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
    /// use better_auth::http::Method;
    ///
    /// #[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
    /// struct Note { text: String }
    ///
    /// async fn handler(_ctx: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
    ///     Ok(AuthResponse::json(&Note { text: "hi".into() }))
    /// }
    ///
    /// let route = Route::new(Method::POST, "/notes", "Adds a note", |ctx, req| Box::pin(handler(ctx, req)))
    /// .redirects();
    /// ```
    pub fn redirects(mut self) -> Self {
        self.success = Success::Redirect;
        self
    }

    /// Documents a JSON body `T`, or a 302 when a callback URL is given.
    ///
    /// ```
    /// use better_auth::plugins::Route;
    /// use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
    /// use better_auth::http::Method;
    ///
    /// #[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
    /// struct Note { text: String }
    ///
    /// async fn handler(_ctx: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
    ///     Ok(AuthResponse::json(&Note { text: "hi".into() }))
    /// }
    ///
    /// let route = Route::new(Method::POST, "/notes", "Adds a note", |ctx, req| Box::pin(handler(ctx, req)))
    /// .returns_or_redirects::<Note>();
    /// ```
    pub fn returns_or_redirects<T: ToSchema>(mut self) -> Self {
        self.success = Success::JsonOrRedirect(inline_schema::<T>);
        self
    }

    /// Documents query parameters (name, required).
    ///
    /// ```
    /// use better_auth::plugins::Route;
    /// use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
    /// use better_auth::http::Method;
    ///
    /// #[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
    /// struct Note { text: String }
    ///
    /// async fn handler(_ctx: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
    ///     Ok(AuthResponse::json(&Note { text: "hi".into() }))
    /// }
    ///
    /// let route = Route::new(Method::POST, "/notes", "Adds a note", |ctx, req| Box::pin(handler(ctx, req)))
    /// .query(&[("callbackURL", false)]);
    /// ```
    pub fn query(mut self, params: &'static [(&'static str, bool)]) -> Self {
        self.query = params;
        self
    }

    /// Documents error statuses.
    ///
    /// ```
    /// use better_auth::plugins::Route;
    /// use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
    /// use better_auth::http::Method;
    ///
    /// #[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
    /// struct Note { text: String }
    ///
    /// async fn handler(_ctx: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
    ///     Ok(AuthResponse::json(&Note { text: "hi".into() }))
    /// }
    ///
    /// let route = Route::new(Method::POST, "/notes", "Adds a note", |ctx, req| Box::pin(handler(ctx, req)))
    /// .errors(&[400, 403]);
    /// ```
    pub fn errors(mut self, statuses: &'static [u16]) -> Self {
        self.errors = statuses;
        self
    }

    /// Marks the route as needing a session: a request without a live session
    /// (bearer or cookie) is answered 401 `UNAUTHORIZED` before the handler
    /// runs, and the OpenAPI document says so. The handler reads the session
    /// with [`AuthContext::require_session`], which does not look it up again.
    ///
    /// ```
    /// use better_auth::plugins::Route;
    /// use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
    /// use better_auth::http::Method;
    ///
    /// #[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
    /// struct Note { text: String }
    ///
    /// async fn handler(_ctx: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
    ///     Ok(AuthResponse::json(&Note { text: "hi".into() }))
    /// }
    ///
    /// let route = Route::new(Method::POST, "/notes", "Adds a note", |ctx, req| Box::pin(handler(ctx, req)))
    /// .authenticated();
    /// ```
    pub fn authenticated(mut self) -> Self {
        self.authenticated = true;
        self
    }
}

/// What plugins contribute while an instance is built.
#[derive(Default)]
pub struct PluginSetup {
    pub(crate) routes: Vec<Route>,
    pub(crate) extensions: Extensions,
    /// The id of the plugin being installed (set by the builder).
    pub(crate) installing: &'static str,
    pub(crate) migrations: Vec<(&'static str, &'static [Migration])>,
    pub(crate) sign_in_hooks: Vec<SignInHook>,
    pub(crate) rate_limits: Vec<RateLimitRule>,
    pub(crate) user_fields: Vec<Column>,
    pub(crate) session_fields: Vec<Column>,
    pub(crate) user_input_hooks: Vec<UserInputHook>,
    pub(crate) session_hooks: Vec<SessionHook>,
    pub(crate) unlisted: Vec<fn(&Session) -> bool>,
}

impl std::fmt::Debug for PluginSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginSetup")
            .field("routes", &self.routes)
            .field("extensions", &self.extensions.len())
            .field("migrations", &self.migrations)
            .field("sign_in_hooks", &self.sign_in_hooks.len())
            .field("rate_limits", &self.rate_limits)
            .field("user_fields", &self.user_fields)
            .field("session_fields", &self.session_fields)
            .field("user_input_hooks", &self.user_input_hooks.len())
            .field("session_hooks", &self.session_hooks.len())
            .field("unlisted", &self.unlisted.len())
            .finish()
    }
}

impl PluginSetup {
    /// Mounts a route.
    ///
    /// ```
    /// use better_auth::plugins::{Plugin, PluginSetup, Route};
    /// use better_auth::http::Method;
    /// use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
    ///
    /// async fn ping(_ctx: &AuthContext, _request: AuthRequest) -> Result<AuthResponse> {
    ///     Ok(AuthResponse::json(&"pong"))
    /// }
    ///
    /// struct PingPlugin;
    ///
    /// impl Plugin for PingPlugin {
    ///     fn id(&self) -> &'static str {
    ///         "ping"
    ///     }
    ///
    ///     fn install(&self, setup: &mut PluginSetup) {
    ///         setup.route(Route::new(Method::GET, "/ping", "Answers pong", |ctx, request| {
    ///             Box::pin(ping(ctx, request))
    ///         }));
    ///     }
    /// }
    /// ```
    pub fn route(&mut self, route: Route) -> &mut Self {
        self.routes.push(route);
        self
    }

    /// Gives the plugin's handlers a value (its settings, a client, a
    /// channel), one per type: handlers are plain functions, and read it back
    /// with [`AuthContext::extension`]. A second value of the same type
    /// replaces the first.
    ///
    /// ```
    /// use better_auth::plugins::PluginSetup;
    ///
    /// struct Greeting(&'static str);
    ///
    /// let mut setup = PluginSetup::default();
    /// setup.extension(Greeting("hello"));
    /// ```
    pub fn extension<T: Send + Sync + 'static>(&mut self, value: T) -> &mut Self {
        self.extensions.insert(
            TypeId::of::<T>(),
            Box::new(value) as Box<dyn Any + Send + Sync>,
        );
        self
    }

    /// The plugin's own schema: migrations applied, in order, when an
    /// instance with the plugin is built (each once, recorded under the
    /// plugin's id in `_better_auth_plugin_migrations`, and checked by
    /// checksum as the runtime's own are). Run [`run_migrations`](crate::run_migrations)
    /// first: a plugin's migration may alter the runtime's tables.
    ///
    /// ```
    /// use better_auth::plugins::PluginSetup;
    /// use better_auth::store::Migration;
    ///
    /// const NOTES: &[Migration] = &[Migration::new(
    ///     1,
    ///     "notes",
    ///     r#"CREATE TABLE IF NOT EXISTS "note" ("id" text PRIMARY KEY)"#,
    ///     r#"CREATE TABLE IF NOT EXISTS "note" ("id" text PRIMARY KEY)"#,
    /// )];
    ///
    /// let mut setup = PluginSetup::default();
    /// setup.migrations(NOTES);
    /// ```
    pub fn migrations(&mut self, migrations: &'static [Migration]) -> &mut Self {
        self.migrations.push((self.installing, migrations));
        self
    }

    /// Runs `hook` on every password sign-in, after the password is proved
    /// and before the session is made; a hook that answers takes the
    /// session's place (see [`SignInHook`]). Hooks run in the order plugins
    /// were added; the first answer wins.
    ///
    /// ```
    /// use better_auth::plugins::PluginSetup;
    /// use better_auth::prelude::User;
    /// use better_auth::{AuthContext, AuthRequest, AuthResponse, Result};
    ///
    /// async fn only_verified(_ctx: &AuthContext, _req: &AuthRequest, user: &User, _remember: bool)
    ///     -> Result<Option<AuthResponse>> {
    ///     Ok((!user.email_verified).then(|| AuthResponse::json(&serde_json::json!({ "verify": true }))))
    /// }
    ///
    /// let mut setup = PluginSetup::default();
    /// setup.before_sign_in(|ctx, req, user, remember| Box::pin(only_verified(ctx, req, user, remember)));
    /// ```
    pub fn before_sign_in(&mut self, hook: SignInHook) -> &mut Self {
        self.sign_in_hooks.push(hook);
        self
    }

    /// A rate limit for one of the plugin's routes (requests per window per
    /// client), unless the app's [`RateLimitConfig`](crate::rate_limit::RateLimitConfig)
    /// has a rule for that path: the app's word wins.
    ///
    /// ```
    /// use std::time::Duration;
    /// use better_auth::plugins::PluginSetup;
    ///
    /// let mut setup = PluginSetup::default();
    /// setup.rate_limit("/two-factor/verify-totp", Duration::from_secs(10), 3);
    /// ```
    pub fn rate_limit(&mut self, path: &str, window: std::time::Duration, max: u32) -> &mut Self {
        self.rate_limits.push(RateLimitRule::new(path, window, max));
        self
    }

    /// A column the plugin adds to the `user` table (in its own
    /// [migration](PluginSetup::migrations)): read with every user, the
    /// session lookup included, and returned in the user's JSON. Building
    /// the instance fails on a name that is not a plain identifier, or that
    /// the runtime or another plugin already uses.
    ///
    /// ```
    /// use better_auth::plugins::{PluginSetup, Column};
    ///
    /// let mut setup = PluginSetup::default();
    /// setup.user_field(Column::text("nickname").input());
    /// ```
    pub fn user_field(&mut self, field: Column) -> &mut Self {
        self.user_fields.push(field);
        self
    }

    /// A column the plugin adds to the `session` table (in its own
    /// [migration](PluginSetup::migrations)): read with every session, the
    /// lookup of each request included, returned in the session's JSON, set
    /// when a session is made ([`Session::fields`](crate::models::Session::fields)
    /// given to [`AuthContext::create_session_with`](crate::AuthContext::create_session_with))
    /// and changed with [`store::sessions::set_fields`](crate::store::sessions::set_fields).
    /// Clients never set it. Building the instance fails on a name that is not
    /// a plain identifier, or that the runtime or another plugin already uses.
    ///
    /// ```
    /// use better_auth::plugins::{Column, PluginSetup};
    ///
    /// let mut setup = PluginSetup::default();
    /// setup.session_field(Column::text("activeOrganizationId"));
    /// ```
    pub fn session_field(&mut self, field: Column) -> &mut Self {
        self.session_fields.push(field);
        self
    }

    /// Runs `hook` on the input fields of every sign-up and update-user
    /// (see [`UserInputHook`]), in the order plugins were added.
    ///
    /// ```
    /// use better_auth::plugins::{PluginSetup, UserInput};
    /// use better_auth::{AuthContext, Result};
    ///
    /// async fn trim_nickname(_ctx: &AuthContext, input: &mut UserInput) -> Result<()> {
    ///     if let Some(serde_json::Value::String(nick)) = input.fields.get_mut("nickname") {
    ///         *nick = nick.trim().to_owned();
    ///     }
    ///     Ok(())
    /// }
    ///
    /// let mut setup = PluginSetup::default();
    /// setup.before_user_input(|ctx, input| Box::pin(trim_nickname(ctx, input)));
    /// ```
    pub fn before_user_input(&mut self, hook: UserInputHook) -> &mut Self {
        self.user_input_hooks.push(hook);
        self
    }

    /// Runs `hook` before every session is made (see [`SessionHook`]), in
    /// the order plugins were added.
    ///
    /// ```
    /// use better_auth::plugins::PluginSetup;
    /// use better_auth::prelude::User;
    /// use better_auth::{AuthContext, Error, Result};
    /// use better_auth::http::StatusCode;
    ///
    /// async fn verified_only(_ctx: &AuthContext, user: &User) -> Result<()> {
    ///     if user.email_verified {
    ///         return Ok(());
    ///     }
    ///     Err(Error::plugin(StatusCode::FORBIDDEN, "EMAIL_NOT_VERIFIED", "Email not verified"))
    /// }
    ///
    /// let mut setup = PluginSetup::default();
    /// setup.before_session(|ctx, user| Box::pin(verified_only(ctx, user)));
    /// ```
    pub fn before_session(&mut self, hook: SessionHook) -> &mut Self {
        self.session_hooks.push(hook);
        self
    }

    /// Leaves the sessions `unlisted` says yes to out of `GET /list-sessions`
    /// (they still work, and end with the user's other sessions): sessions a
    /// plugin makes for its own ends, such as an admin's impersonation of the
    /// user, which the user is not shown.
    ///
    /// ```
    /// use better_auth::plugins::PluginSetup;
    /// use better_auth::prelude::Session;
    ///
    /// let mut setup = PluginSetup::default();
    /// setup.unlisted_sessions(|session: &Session| {
    ///     session.field("impersonatedBy").is_some_and(|by| !by.is_null())
    /// });
    /// ```
    pub fn unlisted_sessions(&mut self, unlisted: fn(&Session) -> bool) -> &mut Self {
        self.unlisted.push(unlisted);
        self
    }
}

/// A set of routes and options added with `BetterAuth::new(..).plugin(..)`.
pub trait Plugin: Send + Sync + 'static {
    /// A unique name (`email-password`, ...).
    fn id(&self) -> &'static str;
    /// Mounts the plugin's routes and applies its options.
    fn install(&self, setup: &mut PluginSetup);
}
