//! Admin tools for [better-auth](better_auth), speaking Better Auth's
//! `admin` plugin API so the official client's `adminClient` works
//! unchanged: roles on users, bans, and user and session management for
//! admins.
//!
//! - The user gets `role` (comma-separated roles; `user` until set),
//!   `banned`, `banReason` and `banExpires`, returned with the user.
//! - A banned user cannot sign in by any method (403 `BANNED_USER`) until the
//!   ban ends; banning ends every session of theirs at once.
//! - Routes under `/admin/` answer 401 without a session and 403 to a user
//!   none of whose roles is an admin role (`admin` by default).
//!
//! | route | body / query | answer |
//! |---|---|---|
//! | `POST /admin/set-role` | `userId`, `role` (string or list) | `{user}` |
//! | `POST /admin/ban-user` | `userId`, `banReason?`, `banExpiresIn?` (seconds) | `{user}` |
//! | `POST /admin/unban-user` | `userId` | `{user}` |
//! | `GET /admin/list-users` | `searchValue?`, `searchField?`, `searchOperator?`, `limit?`, `offset?`, `sortBy?`, `sortDirection?`, `filterField?`, `filterValue?`, `filterOperator?` | `{users, total, limit?, offset?}` |
//! | `GET /admin/get-user` | `id` | the user |
//! | `POST /admin/list-user-sessions` | `userId` | `{sessions}` |
//! | `POST /admin/revoke-user-sessions` | `userId` | `{success}` |
//! | `POST /admin/remove-user` | `userId` | `{success}` |
//! | `POST /admin/create-user` | `email`, `password?`, `name`, `role?` | `{user}` |
//! | `POST /admin/set-user-password` | `userId`, `newPassword` | `{status}`; the user's sessions end |
//! | `POST /admin/update-user` | `userId`, `data` (`name`, `image`, `email`, `emailVerified`, `role`, ban fields) | the user |
//! | `POST /admin/revoke-user-session` | `sessionToken` (as listed) | `{success}` |
//! | `POST /admin/impersonate-user` | `userId` | `{session, user}`; the session cookie is theirs for an hour |
//! | `POST /admin/stop-impersonating` | | `{session, user}`; the admin's session is back |
//! | `POST /admin/has-permission` | `permissions` (`{"user": ["ban"]}`) | `{success, error}` |
//!
//! What each role may do follows Better Auth's access control: `admin` may
//! do everything but impersonate other admins, other roles nothing, unless
//! given [`Permissions`] with [`AdminPlugin::role`].
//!
//! ```no_run
//! use better_auth::plugins::EmailPasswordPlugin;
//! use better_auth::store::Database;
//! use better_auth::{AuthConfig, BetterAuth};
//! use better_auth_admin::AdminPlugin;
//!
//! # async fn f() -> better_auth::Result<()> {
//! let database = Database::connect("sqlite://auth.db").await?;
//! better_auth::run_migrations(&database).await?;
//! let auth = BetterAuth::new(AuthConfig::new("a-secret-of-at-least-32-characters!!"))
//!     .database(database)
//!     .plugin(EmailPasswordPlugin::new())
//!     .plugin(AdminPlugin::new())
//!     .build()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! The first admin is made with the CLI: `better-auth user create --role admin`
//! or `better-auth user set-role --email ... --role admin` (and `user ban`,
//! `user unban`).
//!
//! With the `axum` feature (on by default), [`RequireRole`] guards an app's
//! own handlers: 401 without a session, 403 without the role.

use std::collections::BTreeMap;
use std::time::Duration;

use better_auth::http::Method;
use better_auth::plugins::{Column, HandlerFn, Plugin, PluginSetup, Route};
use better_auth::prelude::User;
use better_auth::store::Migration;

mod access;
#[cfg(feature = "axum")]
mod guard;
mod routes;

pub use access::{Permissions, STATEMENTS};
#[cfg(feature = "axum")]
pub use better_auth::integrations::axum::{Attached, FromState};
#[cfg(feature = "axum")]
pub use guard::{Admin, RequireRole, Role, RoleRejection};

const MIGRATIONS: &[Migration] = &[
    Migration::new(
        1,
        "admin",
        include_str!("../migrations/sqlite/0001_admin.sql"),
        include_str!("../migrations/postgres/0001_admin.sql"),
    )
    .with_mysql(include_str!("../migrations/mysql/0001_admin.sql")),
    Migration::new(
        2,
        "impersonation",
        include_str!("../migrations/sqlite/0002_impersonation.sql"),
        include_str!("../migrations/postgres/0002_impersonation.sql"),
    )
    .with_mysql(include_str!("../migrations/mysql/0002_impersonation.sql")),
];

/// The session column naming the admin who made an impersonation session.
pub const IMPERSONATED_BY: &str = "impersonatedBy";

/// The user column of a user's roles (comma-separated).
pub const ROLE: &str = "role";

/// Roles on users, bans, and user and session management for admins.
#[derive(Clone, Debug)]
pub struct AdminPlugin {
    default_role: &'static str,
    admin_roles: Vec<String>,
    roles: BTreeMap<String, Permissions>,
    admin_permissions: Permissions,
    impersonation: Duration,
}

impl AdminPlugin {
    /// Users are `user` until given a role; `admin` is the admin role.
    pub fn new() -> Self {
        AdminPlugin {
            default_role: "user",
            admin_roles: vec!["admin".to_owned()],
            roles: BTreeMap::new(),
            admin_permissions: Permissions::admin(),
            impersonation: Duration::from_secs(3600),
        }
    }

    /// What users with `role` may do, instead of the default (everything
    /// but impersonating admins for the admin roles, nothing for others).
    ///
    /// ```
    /// use better_auth_admin::{AdminPlugin, Permissions};
    ///
    /// let plugin = AdminPlugin::new()
    ///     .role("support", Permissions::new().allow("user", ["list", "get"]))
    ///     .role("owner", Permissions::admin().allow("user", ["impersonate-admins"]));
    /// ```
    pub fn role(mut self, role: &str, permissions: Permissions) -> Self {
        self.roles.insert(role.to_owned(), permissions);
        self
    }

    /// How long an impersonation session lasts (an hour by default).
    pub fn impersonation_duration(mut self, duration: Duration) -> Self {
        self.impersonation = duration;
        self
    }

    /// The roles whose users are admins (`admin` by default): they have
    /// [`Permissions::admin`] unless given others with [`AdminPlugin::role`],
    /// and other admins may not impersonate them.
    pub fn admin_roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.admin_roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// The role of users that were given none (`user` by default).
    pub fn default_role(mut self, role: &'static str) -> Self {
        self.default_role = role;
        self
    }

    /// Whether `user` has one of the admin roles.
    pub fn is_admin(&self, user: &User) -> bool {
        roles_of(user).any(|role| self.admin_roles.iter().any(|a| a == role))
    }

    /// What `role` may do.
    fn permissions(&self, role: &str) -> Option<&Permissions> {
        self.roles.get(role).or_else(|| {
            self.admin_roles
                .iter()
                .any(|a| a == role)
                .then_some(&self.admin_permissions)
        })
    }

    /// Whether one of `user`'s roles allows every action asked for.
    ///
    /// ```
    /// # fn f(plugin: &better_auth_admin::AdminPlugin, user: &better_auth::prelude::User) {
    /// if plugin.has_permission(user, &[("user", &["ban"])]) {
    ///     // ...
    /// }
    /// # }
    /// ```
    pub fn has_permission(&self, user: &User, request: &[(&str, &[&str])]) -> bool {
        roles_of(user).any(|role| {
            self.permissions(role)
                .is_some_and(|permissions| permissions.allows_all(request))
        })
    }

    /// [`AdminPlugin::has_permission`] on a JSON request, as `/has-permission`
    /// takes it; `None` when the request is not of its shape.
    pub(crate) fn has_permission_json(
        &self,
        user: &User,
        request: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<bool> {
        let mut granted = false;
        for role in roles_of(user) {
            let permissions = self.permissions(role);
            let empty = Permissions::new();
            granted |= permissions.unwrap_or(&empty).authorize_json(request)?;
        }
        Some(granted)
    }
}

/// A user's roles (the `role` column, comma-separated; the plugin's default
/// role when it was never set).
fn roles_of(user: &User) -> impl Iterator<Item = &str> + '_ {
    user.field(ROLE)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
}

/// Whether the user has `role` among their roles (the `role` column,
/// comma-separated; a user without one has the plugin's default role).
pub fn has_role(user: &User, role: &str) -> bool {
    roles_of(user).any(|r| r == role)
}

/// An admin route: POST, for signed-in users.
fn post(path: &'static str, summary: &'static str, handler: HandlerFn) -> Route {
    Route::new(Method::POST, path, summary, handler).authenticated()
}

impl Default for AdminPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl Plugin for AdminPlugin {
    fn id(&self) -> &'static str {
        "admin"
    }

    fn install(&self, setup: &mut PluginSetup) {
        setup.extension(self.clone());
        setup.migrations(MIGRATIONS);
        setup.user_field(Column::text_or(ROLE, self.default_role));
        setup.user_field(Column::boolean(routes::BANNED, false));
        setup.user_field(Column::text(routes::BAN_REASON));
        setup.user_field(Column::timestamp(routes::BAN_EXPIRES));
        setup.session_field(Column::text(IMPERSONATED_BY));
        // As in Better Auth: the user is not shown an admin's impersonation of them.
        setup.unlisted_sessions(|session| {
            session
                .field(IMPERSONATED_BY)
                .is_some_and(|by| !by.is_null())
        });
        setup.before_session(|ctx, user| Box::pin(routes::refuse_banned(ctx, user)));
        setup
            .route(
                post("/admin/set-role", "Set a user's roles", |c, r| {
                    Box::pin(routes::set_role(c, r))
                })
                .body::<routes::SetRoleBody>()
                .returns::<routes::UserAnswer>()
                .errors(&[400, 403, 404]),
            )
            .route(
                post(
                    "/admin/ban-user",
                    "Ban a user and end their sessions",
                    |c, r| Box::pin(routes::ban(c, r)),
                )
                .body::<routes::BanBody>()
                .returns::<routes::UserAnswer>()
                .errors(&[400, 403, 404]),
            )
            .route(
                post("/admin/unban-user", "Lift a user's ban", |c, r| {
                    Box::pin(routes::unban(c, r))
                })
                .body::<routes::UserIdBody>()
                .returns::<routes::UserAnswer>()
                .errors(&[400, 403, 404]),
            )
            .route(
                Route::new(
                    Method::GET,
                    "/admin/list-users",
                    "Search and page users",
                    |c, r| Box::pin(routes::list_users(c, r)),
                )
                .query(&[
                    ("searchValue", false),
                    ("searchField", false),
                    ("searchOperator", false),
                    ("limit", false),
                    ("offset", false),
                    ("sortBy", false),
                    ("sortDirection", false),
                    ("filterField", false),
                    ("filterValue", false),
                    ("filterOperator", false),
                ])
                .returns::<serde_json::Value>()
                .authenticated()
                .errors(&[400, 403]),
            )
            .route(
                Route::new(Method::GET, "/admin/get-user", "One user", |c, r| {
                    Box::pin(routes::get_user(c, r))
                })
                .query(&[("id", true)])
                .returns::<User>()
                .authenticated()
                .errors(&[400, 403, 404]),
            )
            .route(
                post("/admin/list-user-sessions", "A user's sessions", |c, r| {
                    Box::pin(routes::list_user_sessions(c, r))
                })
                .body::<routes::UserIdBody>()
                .returns::<serde_json::Value>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/admin/revoke-user-sessions",
                    "End a user's sessions",
                    |c, r| Box::pin(routes::revoke_user_sessions(c, r)),
                )
                .body::<routes::UserIdBody>()
                .returns::<routes::Success>()
                .errors(&[400, 403]),
            )
            .route(
                post("/admin/create-user", "Create a user, with roles", |c, r| {
                    Box::pin(routes::create_user(c, r))
                })
                .body::<routes::CreateUserBody>()
                .returns::<routes::UserAnswer>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/admin/set-user-password",
                    "Set a user's password (their sessions end)",
                    |c, r| Box::pin(routes::set_user_password(c, r)),
                )
                .body::<routes::SetPasswordBody>()
                .returns::<routes::Status>()
                .errors(&[400, 403, 404]),
            )
            .route(
                post("/admin/remove-user", "Delete a user", |c, r| {
                    Box::pin(routes::remove_user(c, r))
                })
                .body::<routes::UserIdBody>()
                .returns::<routes::Success>()
                .errors(&[400, 403, 404]),
            )
            .route(
                post("/admin/update-user", "Change a user's details", |c, r| {
                    Box::pin(routes::update_user(c, r))
                })
                .body::<routes::UpdateUserBody>()
                .returns::<User>()
                .errors(&[400, 403, 404]),
            )
            .route(
                post("/admin/revoke-user-session", "End one session", |c, r| {
                    Box::pin(routes::revoke_user_session(c, r))
                })
                .body::<routes::SessionTokenBody>()
                .returns::<routes::Success>()
                .errors(&[400, 403]),
            )
            .route(
                post(
                    "/admin/impersonate-user",
                    "Sign in as a user (an hour, until stopped)",
                    |c, r| Box::pin(routes::impersonate(c, r)),
                )
                .body::<routes::UserIdBody>()
                .returns::<serde_json::Value>()
                .errors(&[400, 403, 404]),
            )
            .route(
                post(
                    "/admin/stop-impersonating",
                    "End an impersonation, back to the admin's session",
                    |c, r| Box::pin(routes::stop_impersonating(c, r)),
                )
                .returns::<serde_json::Value>()
                .errors(&[400]),
            )
            .route(
                post(
                    "/admin/has-permission",
                    "Whether the signed-in user's roles allow actions",
                    |c, r| Box::pin(routes::has_permission(c, r)),
                )
                .body::<routes::PermissionBody>()
                .returns::<serde_json::Value>()
                .errors(&[400]),
            );
    }
}
